// Tests for rendering entities as normalized, concise and keyValues output (GS CIM 009 §4.5, §6.3.7, §4.15, §4.21).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../../src/core/json.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import type { AttrInstance, Entity } from '../../src/core/model/entity.ts';
import { parseLang } from '../../src/core/model/lang.ts';
import { parseProjection } from '../../src/core/model/projection.ts';
import type { RenderOptions } from '../../src/core/model/render-entity.ts';
import { renderEntity } from '../../src/core/model/render-entity.ts';

const DC = 'https://uri.etsi.org/ngsi-ld/default-context/';
const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const terms: TermMap = {
  expandTerm: (n) => (n === 'location' ? LOCATION : n.includes(':') ? n : DC + n),
  compactIri: (iri) => (iri === LOCATION ? 'location' : iri.startsWith(DC) ? iri.slice(DC.length) : iri),
};

const C = '2024-01-01T00:00:00Z';
const M = '2024-02-01T00:00:00Z';
const POINT = { type: 'Point', coordinates: [2.35, 48.85] };
const inst = (i: Omit<AttrInstance, 'createdAt' | 'modifiedAt'>): AttrInstance => ({ ...i, createdAt: C, modifiedAt: M });

function fixture(): Entity {
  return {
    id: 'urn:ngsi-ld:Room:1',
    types: [DC + 'Room'],
    scope: ['/Madrid/Centro'],
    createdAt: C,
    modifiedAt: M,
    attrs: {
      [DC + 'temperature']: [
        inst({
          type: 'Property',
          value: 21.5,
          unitCode: 'CEL',
          observedAt: '2024-01-05T10:00:00Z',
          attrs: { [DC + 'accuracy']: [inst({ type: 'Property', value: 0.5 })] },
        }),
      ],
      [DC + 'count']: [inst({ type: 'Property', value: 3 })],
      [DC + 'address']: [inst({ type: 'Property', value: { city: 'Paris', type: 'x' } })],
      [DC + 'tags']: [inst({ type: 'Property', value: ['a', 'b'] })],
      [LOCATION]: [inst({ type: 'GeoProperty', value: POINT })],
      [DC + 'inBuilding']: [
        inst({ type: 'Relationship', object: 'urn:ngsi-ld:Building:B', objectType: DC + 'Building' }),
      ],
      [DC + 'name']: [inst({ type: 'LanguageProperty', languageMap: { en: 'Hall', fr: 'Salle' } })],
      [DC + 'category']: [inst({ type: 'VocabProperty', vocab: [DC + 'Indoor', 'https://example.org/Big'] })],
      [DC + 'config']: [inst({ type: 'JsonProperty', json: { id: 'x', v: null } })],
      [DC + 'readings']: [inst({ type: 'ListProperty', valueList: [3, 1, 2], unitCode: 'CEL' })],
      [DC + 'doors']: [inst({ type: 'ListRelationship', objectList: ['urn:a', 'urn:b'] })],
      [DC + 'humidity']: [
        inst({ type: 'Property', value: 40 }),
        inst({ type: 'Property', value: 42, datasetId: 'urn:ngsi-ld:Dataset:s2' }),
      ],
    },
  };
}

const opts = (o: Partial<RenderOptions> = {}): RenderOptions => ({ format: 'normalized', sysAttrs: false, ...o });
const render = (o: Partial<RenderOptions> = {}, e: Entity = fixture()): JsonObject => {
  const out = renderEntity(e, terms, opts(o));
  assert.ok(out);
  return out;
};

describe('normalized representation', () => {
  test('every kind of attribute is an object with its type and value member, names compacted', () => {
    const out = render();
    assert.deepEqual(out, {
      id: 'urn:ngsi-ld:Room:1',
      type: 'Room',
      scope: '/Madrid/Centro',
      temperature: {
        type: 'Property',
        value: 21.5,
        observedAt: '2024-01-05T10:00:00Z',
        unitCode: 'CEL',
        accuracy: { type: 'Property', value: 0.5 },
      },
      count: { type: 'Property', value: 3 },
      address: { type: 'Property', value: { city: 'Paris', type: 'x' } },
      tags: { type: 'Property', value: ['a', 'b'] },
      location: { type: 'GeoProperty', value: POINT },
      inBuilding: { type: 'Relationship', object: 'urn:ngsi-ld:Building:B', objectType: 'Building' },
      name: { type: 'LanguageProperty', languageMap: { en: 'Hall', fr: 'Salle' } },
      category: { type: 'VocabProperty', vocab: ['Indoor', 'https://example.org/Big'] },
      config: { type: 'JsonProperty', json: { id: 'x', v: null } },
      readings: { type: 'ListProperty', valueList: [3, 1, 2], unitCode: 'CEL' },
      doors: { type: 'ListRelationship', objectList: [{ object: 'urn:a' }, { object: 'urn:b' }] },
      humidity: [
        { type: 'Property', value: 40 },
        { type: 'Property', value: 42, datasetId: 'urn:ngsi-ld:Dataset:s2' },
      ],
    });
  });

  test('members come in the order id, type, scope, attributes in stored order', () => {
    assert.deepEqual(Object.keys(render()).slice(0, 5), ['id', 'type', 'scope', 'temperature', 'count']);
  });

  test('inside an instance the order is type, value, metadata, sub-attributes, then system timestamps', () => {
    const t = render({ sysAttrs: true }).temperature as JsonObject;
    assert.deepEqual(Object.keys(t), ['type', 'value', 'observedAt', 'unitCode', 'accuracy', 'createdAt', 'modifiedAt']);
  });

  test('several entity types render as an array, one type as a string', () => {
    const e = fixture();
    e.types = [DC + 'Room', 'https://example.org/Space'];
    assert.deepEqual(render({}, e).type, ['Room', 'https://example.org/Space']);
  });

  test('several scopes render as an array', () => {
    const e = fixture();
    e.scope = ['/a', '/b'];
    assert.deepEqual(render({}, e).scope, ['/a', '/b']);
  });

  test('the default instance never shows a datasetId, not even @none', () => {
    const e = fixture();
    e.attrs[DC + 'count'] = [inst({ type: 'Property', value: 3, datasetId: '@none' })];
    assert.deepEqual(render({}, e).count, { type: 'Property', value: 3 });
  });

  test('a single non-default instance is an object that shows its datasetId', () => {
    const e = fixture();
    e.attrs[DC + 'count'] = [inst({ type: 'Property', value: 3, datasetId: 'urn:ds:1' })];
    assert.deepEqual(render({}, e).count, { type: 'Property', value: 3, datasetId: 'urn:ds:1' });
  });

  test('a single objectType and a valueType are rendered', () => {
    const e = fixture();
    e.attrs[DC + 'owner'] = [inst({ type: 'Relationship', object: ['urn:p:1', 'urn:p:2'], objectType: [DC + 'Person'] })];
    e.attrs[DC + 'n'] = [inst({ type: 'Property', value: 1, valueType: 'xsd:integer' })];
    const out = render({}, e);
    assert.deepEqual(out.owner, { type: 'Relationship', object: ['urn:p:1', 'urn:p:2'], objectType: 'Person' });
    assert.deepEqual(out.n, { type: 'Property', value: 1, valueType: 'xsd:integer' });
  });
});

describe('system attributes', () => {
  test('without sysAttrs no createdAt, modifiedAt or expiresAt appears anywhere', () => {
    const e = fixture();
    e.expiresAt = '2030-01-01T00:00:00Z';
    e.attrs[DC + 'count'][0].expiresAt = '2030-01-01T00:00:00Z';
    const text = JSON.stringify(render({}, e));
    assert.doesNotMatch(text, /createdAt|modifiedAt|expiresAt/);
  });

  test('sysAttrs shows timestamps at entity, attribute and sub-attribute level, expiresAt where set', () => {
    const e = fixture();
    e.expiresAt = '2030-01-01T00:00:00Z';
    e.attrs[DC + 'count'][0].expiresAt = '2031-01-01T00:00:00Z';
    const out = render({ sysAttrs: true }, e);
    assert.equal(out.createdAt, C);
    assert.equal(out.modifiedAt, M);
    assert.equal(out.expiresAt, '2030-01-01T00:00:00Z');
    assert.deepEqual(out.count, { type: 'Property', value: 3, createdAt: C, modifiedAt: M, expiresAt: '2031-01-01T00:00:00Z' });
    const accuracy = (out.temperature as JsonObject).accuracy as JsonObject;
    assert.equal(accuracy.createdAt, C);
    assert.equal(accuracy.modifiedAt, M);
    assert.equal((out.humidity as JsonObject[])[1].createdAt, C);
  });

  test('keyValues with sysAttrs shows only entity-level timestamps', () => {
    const out = render({ format: 'keyValues', sysAttrs: true });
    assert.equal(out.createdAt, C);
    assert.equal(out.modifiedAt, M);
    assert.equal(out.count, 3);
  });
});

describe('concise representation', () => {
  test('each kind takes its concise shape', () => {
    const out = render({ format: 'concise' });
    assert.deepEqual(out, {
      id: 'urn:ngsi-ld:Room:1',
      type: 'Room',
      scope: '/Madrid/Centro',
      temperature: { value: 21.5, observedAt: '2024-01-05T10:00:00Z', unitCode: 'CEL', accuracy: 0.5 },
      count: 3,
      address: { value: { city: 'Paris', type: 'x' } },
      tags: { value: ['a', 'b'] },
      location: POINT,
      inBuilding: { object: 'urn:ngsi-ld:Building:B', objectType: 'Building' },
      name: { languageMap: { en: 'Hall', fr: 'Salle' } },
      category: { vocab: ['Indoor', 'https://example.org/Big'] },
      config: { json: { id: 'x', v: null } },
      readings: { valueList: [3, 1, 2], unitCode: 'CEL' },
      doors: { objectList: ['urn:a', 'urn:b'] },
      humidity: [{ value: 40 }, { value: 42, datasetId: 'urn:ngsi-ld:Dataset:s2' }],
    });
  });

  test('a JSON-object value keeps the value wrapper so it cannot be read as a normalized attribute', () => {
    assert.deepEqual(render({ format: 'concise' }).address, { value: { city: 'Paris', type: 'x' } });
  });

  test('a GeoProperty with metadata keeps the value member and drops the type', () => {
    const e = fixture();
    e.attrs[LOCATION][0].observedAt = '2024-01-05T10:00:00Z';
    assert.deepEqual(render({ format: 'concise' }, e).location, { value: POINT, observedAt: '2024-01-05T10:00:00Z' });
  });

  test('a Property holding a geometry keeps its type so it is not read back as a GeoProperty', () => {
    const e = fixture();
    e.attrs[DC + 'shape'] = [inst({ type: 'Property', value: POINT })];
    assert.deepEqual(render({ format: 'concise' }, e).shape, { type: 'Property', value: POINT });
  });

  test('with sysAttrs a scalar Property no longer collapses', () => {
    assert.deepEqual(render({ format: 'concise', sysAttrs: true }).count, { value: 3, createdAt: C, modifiedAt: M });
  });

  test('instances of a multi-attribute never collapse to bare values', () => {
    const e = fixture();
    e.attrs[LOCATION].push(inst({ type: 'GeoProperty', value: POINT, datasetId: 'urn:ds:gps' }));
    assert.deepEqual(render({ format: 'concise' }, e).location, [{ value: POINT }, { value: POINT, datasetId: 'urn:ds:gps' }]);
  });
});

describe('keyValues representation', () => {
  test('each kind takes its simplified shape and sub-attributes vanish', () => {
    const out = render({ format: 'keyValues' });
    assert.deepEqual(out, {
      id: 'urn:ngsi-ld:Room:1',
      type: 'Room',
      scope: '/Madrid/Centro',
      temperature: 21.5,
      count: 3,
      address: { city: 'Paris', type: 'x' },
      tags: ['a', 'b'],
      location: POINT,
      inBuilding: 'urn:ngsi-ld:Building:B',
      name: { languageMap: { en: 'Hall', fr: 'Salle' } },
      category: { vocab: ['Indoor', 'https://example.org/Big'] },
      config: { json: { id: 'x', v: null } },
      readings: [3, 1, 2],
      doors: ['urn:a', 'urn:b'],
      humidity: { dataset: { '@none': 40, 'urn:ngsi-ld:Dataset:s2': 42 } },
    });
  });
});

describe('language filter', () => {
  test('a LanguageProperty becomes a Property with the chosen value and a lang member', () => {
    const out = render({ lang: parseLang('fr') });
    assert.deepEqual(out.name, { type: 'Property', value: 'Salle', lang: 'fr' });
  });

  test('in concise output the chosen value keeps its lang member', () => {
    assert.deepEqual(render({ format: 'concise', lang: parseLang('fr') }).name, { value: 'Salle', lang: 'fr' });
  });

  test('in keyValues output the attribute is just the chosen string', () => {
    assert.equal(render({ format: 'keyValues', lang: parseLang('nl-BE,fr;q=0.5') }).name, 'Salle');
  });

  test('no matching language selects the first entry, reported with its tag', () => {
    assert.deepEqual(render({ lang: parseLang('ja') }).name, { type: 'Property', value: 'Hall', lang: 'en' });
  });

  test('LanguageProperty sub-attributes are filtered too', () => {
    const e = fixture();
    e.attrs[DC + 'count'][0].attrs = { [DC + 'label']: [inst({ type: 'LanguageProperty', languageMap: { de: 'drei' } })] };
    const count = render({ lang: parseLang('de') }, e).count as JsonObject;
    assert.deepEqual(count.label, { type: 'Property', value: 'drei', lang: 'de' });
  });
});

describe('projection and datasetId filter', () => {
  const projected = (p: { pick?: string; omit?: string; attrs?: string }, o: Partial<RenderOptions> = {}): JsonObject | null =>
    renderEntity(fixture(), terms, opts({ ...o, projection: parseProjection(p, terms) }));

  test('pick keeps only the named attributes, without id and type', () => {
    assert.deepEqual(projected({ pick: 'count' }), { count: { type: 'Property', value: 3 } });
  });

  test('pick=id yields only the id', () => {
    assert.deepEqual(projected({ pick: 'id' }), { id: 'urn:ngsi-ld:Room:1' });
  });

  test('pick of entity members and an attribute keeps exactly those', () => {
    assert.deepEqual(projected({ pick: 'id,type,scope,count' }, { format: 'keyValues' }), {
      id: 'urn:ngsi-ld:Room:1',
      type: 'Room',
      scope: '/Madrid/Centro',
      count: 3,
    });
  });

  test('omit removes the named members, including id', () => {
    const out = projected({ omit: 'id,scope,temperature' });
    assert.ok(out);
    assert.equal(out.id, undefined);
    assert.equal(out.scope, undefined);
    assert.equal(out.temperature, undefined);
    assert.equal(out.type, 'Room');
    assert.ok(out.count);
  });

  test('a projection that leaves no member yields null (pick of absent members, omit of everything)', () => {
    assert.equal(projected({ pick: 'nothingHere' }), null);
    assert.equal(projected({ omit: 'id,type,scope,temperature,count,address,tags,location,inBuilding,name,category,config,readings,doors,humidity' }), null);
    const e = fixture();
    delete e.scope;
    assert.equal(renderEntity(e, terms, opts({ projection: parseProjection({ pick: 'scope' }, terms) })), null);
  });

  test('attrs keeps id and type and only the listed attributes', () => {
    assert.deepEqual(projected({ attrs: 'count,absent' }, { format: 'keyValues' }), {
      id: 'urn:ngsi-ld:Room:1',
      type: 'Room',
      count: 3,
    });
  });

  test('the datasetId filter keeps only the listed instances', () => {
    const out = render({ datasetIds: ['urn:ngsi-ld:Dataset:s2'] });
    assert.deepEqual(Object.keys(out), ['id', 'type', 'scope', 'humidity']);
    assert.deepEqual(out.humidity, { type: 'Property', value: 42, datasetId: 'urn:ngsi-ld:Dataset:s2' });
  });

  test('@none in the datasetId filter denotes the default instance', () => {
    const out = render({ format: 'keyValues', datasetIds: ['@none'] });
    assert.equal(out.humidity, 40);
    assert.equal(out.count, 3);
  });

  test('a datasetId filter that matches nothing still returns the entity', () => {
    assert.deepEqual(render({ datasetIds: ['urn:none'] }), { id: 'urn:ngsi-ld:Room:1', type: 'Room', scope: '/Madrid/Centro' });
  });
});
