import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import type { JsonObject } from '../../src/core/json.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import {
  applyAppend,
  applyDeleteAttr,
  applyDeleteScope,
  applyMerge,
  applyPartialAttr,
  applyReplace,
  applyReplaceAttr,
  applyUpdate,
  newEntity,
  parseEntity,
  parseFragment,
  parsePartialAttr,
  parseReplaceAttr,
  SCOPE_IRI,
} from '../../src/core/model/write-ops.ts';
import type { FragmentKind, MergeOptions } from '../../src/core/model/write-ops.ts';

const NGSI = 'https://uri.etsi.org/ngsi-ld/';
const DEF = `${NGSI}default-context/`;
const CORE: Record<string, string> = { location: `${NGSI}location`, scope: `${NGSI}scope` };
const terms: TermMap = {
  expandTerm: (n) => CORE[n] ?? (n.includes(':') ? n : DEF + n),
  compactIri: (iri) => (iri.startsWith(DEF) ? iri.slice(DEF.length) : iri),
};
const limits = { maxGeometryVertices: 100 };
const ID = 'urn:ngsi-ld:Room:R1';
const N = 'urn:ngsi-ld:null';
const T0 = '2024-01-01T00:00:00.000Z';
const T1 = '2024-01-02T00:00:00.000Z';
const a = (name: string): string => DEF + name;

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    Object.values(v).forEach(deepFreeze);
    Object.freeze(v);
  }
  return v;
}

/** A stored entity created at T0, frozen so any mutation by an apply function throws. */
function entity(attrs: JsonObject, extra: JsonObject = {}): Entity {
  return deepFreeze(newEntity(parseEntity({ id: ID, type: 'Room', ...extra, ...attrs }, terms, limits, 'create'), T0));
}
const frag = (body: JsonObject, kind: FragmentKind) => deepFreeze(parseFragment(body, terms, limits, kind));
const merge = (e: Entity, body: JsonObject, opts: MergeOptions = {}, simplified = false): Entity =>
  applyMerge(e, frag(body, simplified ? 'merge-simplified' : 'merge'), T1, opts);
const partial = (e: Entity, name: string, body: JsonObject): Entity => applyPartialAttr(e, a(name), parsePartialAttr(body, a(name), terms, limits), T1);

function throwsKind(fn: () => unknown, kind: 'BadRequestData' | 'ResourceNotFound', detail?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NgsiError, String(e));
    assert.equal(e.kind, kind);
    if (detail) assert.match(e.detail, detail);
    return true;
  });
}

describe('Create Entity', () => {
  test('sets createdAt and modifiedAt to now on the entity, every instance and every sub-attribute', () => {
    const e = entity({ temp: { value: 20, unitCode: 'CEL', accuracy: { value: 0.5 } }, rel: [{ object: 'urn:a' }, { object: 'urn:b', datasetId: 'urn:ds:1' }] }, { scope: '/A' });
    assert.equal(e.createdAt, T0);
    assert.equal(e.modifiedAt, T0);
    assert.deepEqual(e.scope, ['/A']);
    assert.deepEqual(e.attrs[a('temp')], [
      { type: 'Property', value: 20, unitCode: 'CEL', createdAt: T0, modifiedAt: T0, attrs: { [a('accuracy')]: [{ type: 'Property', value: 0.5, createdAt: T0, modifiedAt: T0 }] } },
    ]);
    assert.deepEqual(e.attrs[a('rel')].map((i) => [i.object, i.datasetId, i.createdAt]), [['urn:a', undefined, T0], ['urn:b', 'urn:ds:1', T0]]);
  });

  test('stores a ListRelationship as URIs and concise kinds with their value member', () => {
    const e = entity({ lr: { objectList: [{ object: 'urn:a' }, 'urn:b'] }, lp: { valueList: [1] }, j: { json: { k: null } } });
    assert.deepEqual(e.attrs[a('lr')][0].objectList, ['urn:a', 'urn:b']);
    assert.deepEqual(e.attrs[a('lp')][0].valueList, [1]);
    assert.deepEqual(e.attrs[a('j')][0].json, { k: null });
  });
});

describe('Replace Entity', () => {
  test('keeps the entity createdAt and replaces types, scope, expiresAt and attributes', () => {
    const e = entity({ temp: 1, hum: 2 }, { scope: '/A', expiresAt: '2030-01-01T00:00:00Z' });
    const r = applyReplace(e, parseEntity({ type: 'Hall', temp: 5 }, terms, limits, 'replace', ID), T1);
    assert.equal(r.createdAt, T0);
    assert.equal(r.modifiedAt, T1);
    assert.deepEqual(r.types, [a('Hall')]);
    assert.equal(r.scope, undefined);
    assert.equal(r.expiresAt, undefined);
    assert.deepEqual(Object.keys(r.attrs), [a('temp')]);
  });

  test('keeps the createdAt of instances that exist before and after', () => {
    const e = entity({ temp: 1 });
    const r = applyReplace(e, parseEntity({ type: 'Room', temp: 5, other: 1 }, terms, limits, 'replace', ID), T1);
    assert.deepEqual([r.attrs[a('temp')][0].createdAt, r.attrs[a('temp')][0].modifiedAt], [T0, T1]);
    assert.equal(r.attrs[a('other')][0].createdAt, T1);
  });
});

describe('Append Attributes', () => {
  test('adds new attributes and overwrites existing instances whole, keeping their createdAt', () => {
    const e = entity({ temp: { value: 1, unitCode: 'CEL' } });
    const { entity: r, result } = applyAppend(e, frag({ temp: 2, hum: 3 }, 'append'), T1, { noOverwrite: false });
    assert.deepEqual(r.attrs[a('temp')], [{ type: 'Property', value: 2, createdAt: T0, modifiedAt: T1 }]);
    assert.equal(r.attrs[a('hum')][0].createdAt, T1);
    assert.deepEqual(result, { updated: [a('temp'), a('hum')], notUpdated: [] });
    assert.equal(r.modifiedAt, T1);
  });

  test('adds an instance with a new datasetId next to the existing ones', () => {
    const e = entity({ temp: 1 });
    const { entity: r } = applyAppend(e, frag({ temp: { value: 2, datasetId: 'urn:ds:x' } }, 'append'), T1, { noOverwrite: false });
    assert.deepEqual(r.attrs[a('temp')].map((i) => [i.value, i.datasetId]), [[1, undefined], [2, 'urn:ds:x']]);
  });

  test('with noOverwrite leaves existing instances alone and reports them as FQNs', () => {
    const e = entity({ temp: 1 });
    const { entity: r, result } = applyAppend(e, frag({ temp: 2, hum: 3 }, 'append'), T1, { noOverwrite: true });
    assert.equal(r.attrs[a('temp')][0].value, 1);
    assert.deepEqual(result.updated, [a('hum')]);
    assert.equal(result.notUpdated.length, 1);
    assert.equal(result.notUpdated[0].attributeName, a('temp'));
  });

  test('with noOverwrite and nothing new leaves modifiedAt unchanged', () => {
    const e = entity({ temp: 1 });
    const { entity: r } = applyAppend(e, frag({ temp: 2 }, 'append'), T1, { noOverwrite: true });
    assert.equal(r.modifiedAt, T0);
  });

  test('adds types without duplicates; replaces scope, or adds missing scopes with noOverwrite', () => {
    const e = entity({}, { scope: ['/A', '/B'] });
    const over = applyAppend(e, frag({ type: ['Room', 'Hall'], scope: '/C' }, 'append'), T1, { noOverwrite: false });
    assert.deepEqual(over.entity.types, [a('Room'), a('Hall')]);
    assert.deepEqual(over.entity.scope, ['/C']);
    assert.deepEqual(over.result.updated, [SCOPE_IRI]);
    const keep = applyAppend(e, frag({ scope: ['/B', '/C'] }, 'append'), T1, { noOverwrite: true });
    assert.deepEqual(keep.entity.scope, ['/A', '/B', '/C']);
  });
});

describe('Update Attributes', () => {
  test('replaces the matching instance whole: unitCode and sub-attributes not re-sent are lost, createdAt kept', () => {
    const e = entity({ temp: { value: 1, unitCode: 'CEL', observedAt: '2020-01-01T00:00:00Z', acc: 0.5 } });
    const { entity: r, result } = applyUpdate(e, frag({ temp: { value: 2 } }, 'update'), T1);
    assert.deepEqual(r.attrs[a('temp')], [{ type: 'Property', value: 2, createdAt: T0, modifiedAt: T1 }]);
    assert.deepEqual(result, { updated: [a('temp')], notUpdated: [] });
  });

  test('may change the kind of an attribute', () => {
    const e = entity({ owner: 'Bob' });
    const { entity: r } = applyUpdate(e, frag({ owner: { type: 'Relationship', object: 'urn:p:1' } }, 'update'), T1);
    assert.deepEqual(r.attrs[a('owner')][0], { type: 'Relationship', object: 'urn:p:1', createdAt: T0, modifiedAt: T1 });
  });

  test('appends attributes and datasetIds that do not exist yet (1.9.1)', () => {
    const e = entity({ temp: 1 });
    const { entity: r, result } = applyUpdate(e, frag({ hum: 3, temp: { value: 4, datasetId: 'urn:ds:1' } }, 'update'), T1);
    assert.equal(r.attrs[a('hum')][0].value, 3);
    assert.equal(r.attrs[a('temp')].length, 2);
    assert.deepEqual(result.notUpdated, []);
  });

  test('NGSI-LD Null deletes only the addressed instance; a missing one is reported', () => {
    const e = entity({ temp: [{ value: 1 }, { value: 2, datasetId: 'urn:ds:1' }], hum: 1 });
    const { entity: r, result } = applyUpdate(e, frag({ temp: N, hum: { value: N, datasetId: 'urn:ds:9' } }, 'update'), T1);
    assert.deepEqual(r.attrs[a('temp')].map((i) => i.datasetId), ['urn:ds:1']);
    assert.equal(r.attrs[a('hum')].length, 1);
    assert.deepEqual(result.updated, [a('temp')]);
    assert.equal(result.notUpdated[0].attributeName, a('hum'));
    const { entity: r2 } = applyUpdate(r, frag({ temp: { object: N, datasetId: 'urn:ds:1' } }, 'update'), T1);
    assert.equal(r2.attrs[a('temp')], undefined);
  });

  test('replaces scope only when the entity has one, otherwise reports it', () => {
    const scoped = applyUpdate(entity({}, { scope: '/A' }), frag({ scope: '/B' }, 'update'), T1);
    assert.deepEqual(scoped.entity.scope, ['/B']);
    const unscoped = applyUpdate(entity({}), frag({ scope: '/B' }, 'update'), T1);
    assert.equal(unscoped.entity.scope, undefined);
    assert.deepEqual(unscoped.result.notUpdated.map((n) => n.attributeName), [SCOPE_IRI]);
  });

  test('adds types from the fragment', () => {
    const { entity: r } = applyUpdate(entity({}), frag({ type: 'Hall' }, 'update'), T1);
    assert.deepEqual(r.types, [a('Room'), a('Hall')]);
  });
});

describe('Merge Entity', () => {
  test('untouched members survive: unitCode stays when only value and observedAt are sent', () => {
    const e = entity({ temp: { value: 1, unitCode: 'CEL', observedAt: '2020-01-01T00:00:00Z', acc: 0.5 } });
    const r = merge(e, { temp: { value: 2, observedAt: '2021-01-01T00:00:00Z' } });
    const t = r.attrs[a('temp')][0];
    assert.deepEqual([t.value, t.unitCode, t.observedAt, t.createdAt, t.modifiedAt], [2, 'CEL', '2021-01-01T00:00:00Z', T0, T1]);
    assert.equal(t.attrs?.[a('acc')][0].value, 0.5);
    assert.equal(r.modifiedAt, T1);
  });

  test('merges into JSON-object values at any depth; NGSI-LD Null removes keys, JSON null is data', () => {
    const e = entity({ addr: { value: { city: 'Bonn', zip: '1', geo: { lat: 1, lon: 2 }, tags: [1, 2] } } });
    const r = merge(e, { addr: { value: { zip: N, geo: { lat: 5, alt: null }, tags: [3], street: 'X' } } });
    assert.deepEqual(r.attrs[a('addr')][0].value, { city: 'Bonn', geo: { lat: 5, lon: 2, alt: null }, tags: [3], street: 'X' });
  });

  test('an untyped object without value member patches an existing attribute (keys are sub-attributes)', () => {
    const e = entity({ addr: { city: 'Bonn', zip: '1' } });
    const i = merge(e, { addr: { verified: true } }).attrs[a('addr')][0];
    assert.deepEqual([i.value, i.attrs?.[a('verified')][0].value], [{ city: 'Bonn', zip: '1' }, true]);
    assert.equal(merge(e, { addr: 'gone' }).attrs[a('addr')][0].value, 'gone');
  });

  test('the same object is a concise Property value for a new attribute', () => {
    assert.deepEqual(merge(entity({}), { addr: { city: 'Bonn', 'zip code': '1' } }).attrs[a('addr')][0].value, { city: 'Bonn', 'zip code': '1' });
  });

  test('an object whose keys cannot be sub-attribute names is merged into an existing object value', () => {
    const e = entity({ addr: { city: 'Bonn' } });
    assert.deepEqual(merge(e, { addr: { 'zip code': '2' } }).attrs[a('addr')][0].value, { city: 'Bonn', 'zip code': '2' });
  });

  test('NGSI-LD Null removes an attribute: the default instance, or only the given datasetId', () => {
    const e = entity({ temp: [{ value: 1 }, { value: 2, datasetId: 'urn:ds:1' }], rel: { object: 'urn:x' } });
    const r = merge(e, { temp: N, rel: { object: N } });
    assert.deepEqual(r.attrs[a('temp')].map((i) => i.datasetId), ['urn:ds:1']);
    assert.equal(r.attrs[a('rel')], undefined);
    const r2 = merge(e, { temp: { value: N, datasetId: 'urn:ds:1' } });
    assert.deepEqual(r2.attrs[a('temp')].map((i) => i.datasetId), [undefined]);
  });

  test('NGSI-LD Null removes a sub-attribute while the others survive', () => {
    const e = entity({ temp: { value: 1, acc: 0.5, src: 'x' } });
    const t = merge(e, { temp: { acc: N } }).attrs[a('temp')][0];
    assert.deepEqual(Object.keys(t.attrs ?? {}), [a('src')]);
    assert.equal(t.value, 1);
  });

  test('sub-attributes are merged recursively', () => {
    const e = entity({ temp: { value: 1, acc: { value: 0.5, unitCode: 'P1' } } });
    const acc = merge(e, { temp: { acc: { value: 0.7 } } }).attrs[a('temp')][0].attrs?.[a('acc')][0];
    assert.deepEqual([acc?.value, acc?.unitCode, acc?.createdAt, acc?.modifiedAt], [0.7, 'P1', T0, T1]);
  });

  test('valueless patches set or remove metadata', () => {
    const e = entity({ temp: { value: 1, unitCode: 'CEL', expiresAt: '2030-01-01T00:00:00Z' } });
    const t = merge(e, { temp: { unitCode: 'FAH', expiresAt: N, observedAt: '2020-01-01T00:00:00Z' } }).attrs[a('temp')][0];
    assert.deepEqual([t.value, t.unitCode, t.expiresAt, t.observedAt], [1, 'FAH', undefined, '2020-01-01T00:00:00Z']);
  });

  test('adds new attributes, stripping NGSI-LD Null keys from their values', () => {
    const r = merge(entity({}), { addr: { value: { a: 1, b: N } } });
    assert.deepEqual(r.attrs[a('addr')][0], { type: 'Property', value: { a: 1 }, createdAt: T1, modifiedAt: T1 });
  });

  test('a valueless patch cannot create an attribute', () => {
    throwsKind(() => merge(entity({}), { temp: { unitCode: 'CEL' } }), 'BadRequestData', /without a value/);
  });

  test('metadata forbidden for the existing kind is refused', () => {
    throwsKind(() => merge(entity({ rel: { object: 'urn:x' } }), { rel: { unitCode: 'CEL' } }), 'BadRequestData', /Relationship cannot have 'unitCode'/);
  });

  test('a typed value of another kind changes the kind and drops members that kind cannot have', () => {
    const e = entity({ owner: { value: 'Bob', unitCode: 'X', observedAt: '2020-01-01T00:00:00Z' } });
    const o = merge(e, { owner: { type: 'Relationship', object: 'urn:p:1' } }).attrs[a('owner')][0];
    assert.deepEqual(o, { type: 'Relationship', object: 'urn:p:1', observedAt: '2020-01-01T00:00:00Z', createdAt: T0, modifiedAt: T1 });
  });

  test('adds types, replaces scope, sets or removes expiresAt', () => {
    const e = entity({}, { scope: '/A', expiresAt: '2030-01-01T00:00:00Z' });
    const r = merge(e, { type: 'Hall', scope: ['/B'], expiresAt: N });
    assert.deepEqual([r.types, r.scope, r.expiresAt], [[a('Room'), a('Hall')], ['/B'], undefined]);
    const r2 = merge(e, { scope: N, expiresAt: '2031-01-01T00:00:00Z' });
    assert.deepEqual([r2.scope, r2.expiresAt], [undefined, '2031-01-01T00:00:00Z']);
  });

  test('language maps merge by language; {"@none": NGSI-LD Null} deletes the attribute', () => {
    const e = entity({ name: { languageMap: { en: 'Hall', fr: 'Salle' } } });
    assert.deepEqual(merge(e, { name: { languageMap: { de: 'Halle', fr: N } } }).attrs[a('name')][0].languageMap, { en: 'Hall', de: 'Halle' });
    assert.equal(merge(e, { name: { languageMap: { '@none': N } } }).attrs[a('name')], undefined);
  });

  test('with lang, a plain string for a LanguageProperty replaces only that language', () => {
    const e = entity({ name: { languageMap: { en: 'Hall', fr: 'Salle' } } });
    const i = merge(e, { name: 'Grande salle' }, { lang: 'fr' }).attrs[a('name')][0];
    assert.deepEqual([i.type, i.languageMap], ['LanguageProperty', { en: 'Hall', fr: 'Grande salle' }]);
  });

  test('the observedAt option updates merged instances that had observedAt, unless the fragment sends one', () => {
    const e = entity({ temp: { value: 1, observedAt: '2020-01-01T00:00:00Z' }, hum: 1, co2: { value: 1, observedAt: '2020-01-01T00:00:00Z' } });
    const r = merge(e, { temp: 2, hum: 2, co2: { value: 2, observedAt: '2022-02-02T00:00:00Z' } }, { observedAt: '2021-01-01T00:00:00Z' });
    assert.equal(r.attrs[a('temp')][0].observedAt, '2021-01-01T00:00:00Z');
    assert.equal(r.attrs[a('hum')][0].observedAt, undefined);
    assert.equal(r.attrs[a('co2')][0].observedAt, '2022-02-02T00:00:00Z');
  });

  test('JsonProperty json objects are merged like values', () => {
    const e = entity({ j: { json: { a: 1, b: { c: 2 } } } });
    assert.deepEqual(merge(e, { j: { json: { a: N, b: { d: 3 } } } }).attrs[a('j')][0].json, { b: { c: 2, d: 3 } });
  });

  test('GeoProperty values are replaced, not merged, and revalidated', () => {
    const e = entity({ location: { type: 'Point', coordinates: [1, 2] } });
    const r = merge(e, { location: { value: { type: 'LineString', coordinates: [[1, 2], [3, 4]] } } });
    assert.deepEqual(r.attrs[`${NGSI}location`][0].value, { type: 'LineString', coordinates: [[1, 2], [3, 4]] });
  });
});

describe('Merge Entity with keyValues', () => {
  const kv = (e: Entity, body: JsonObject, opts: MergeOptions = {}): Entity => merge(e, body, opts, true);

  test('an existing Relationship keeps its kind and gets the new object', () => {
    const r = kv(entity({ room: { object: 'urn:Room:R1' } }), { room: 'urn:Room:R2' });
    assert.deepEqual([r.attrs[a('room')][0].type, r.attrs[a('room')][0].object], ['Relationship', 'urn:Room:R2']);
    throwsKind(() => kv(entity({ room: { object: 'urn:Room:R1' } }), { room: 'not a uri' }), 'BadRequestData', /URI/);
  });

  test('each existing kind takes the bare value in its own member', () => {
    const e = entity({
      cat: { vocab: 'Indoor' },
      list: { valueList: [1] },
      lr: { objectList: ['urn:a'] },
      j: { json: { a: 1 } },
      name: { languageMap: { en: 'Hall' } },
      location: { type: 'Point', coordinates: [1, 2] },
      temp: { value: 1, unitCode: 'CEL' },
    });
    const r = kv(e, { cat: 'Outdoor', list: [2, 3], lr: ['urn:b'], j: { b: 2 }, name: 'Salle', location: '{"type":"Point","coordinates":[3,4]}', temp: 5 }, { lang: 'fr' });
    assert.equal(r.attrs[a('cat')][0].vocab, a('Outdoor'));
    assert.deepEqual(r.attrs[a('list')][0].valueList, [2, 3]);
    assert.deepEqual(r.attrs[a('lr')][0].objectList, ['urn:b']);
    assert.deepEqual(r.attrs[a('j')][0].json, { a: 1, b: 2 });
    assert.deepEqual(r.attrs[a('name')][0].languageMap, { en: 'Hall', fr: 'Salle' });
    assert.deepEqual(r.attrs[`${NGSI}location`][0].value, { type: 'Point', coordinates: [3, 4] });
    assert.deepEqual([r.attrs[a('temp')][0].value, r.attrs[a('temp')][0].unitCode], [5, 'CEL']);
  });

  test('values that do not fit the existing kind are refused', () => {
    throwsKind(() => kv(entity({ list: { valueList: [1] } }), { list: 5 }), 'BadRequestData', /ListProperty takes an array/);
    throwsKind(() => kv(entity({ cat: { vocab: 'X' } }), { cat: 5 }), 'BadRequestData', /VocabProperty/);
  });

  test('new attributes become Properties (GeoProperties for geometries); NGSI-LD Null deletes', () => {
    const r = kv(entity({ gone: 1 }), { n: { a: 1 }, area: { type: 'Point', coordinates: [1, 2] }, gone: N });
    assert.equal(r.attrs[a('n')][0].type, 'Property');
    assert.equal(r.attrs[a('area')][0].type, 'GeoProperty');
    assert.equal(r.attrs[a('gone')], undefined);
  });
});

describe('Partial Attribute Update', () => {
  test('changes only the members present; unitCode, expiresAt and other sub-attributes survive', () => {
    const e = entity({ temp: { value: 1, unitCode: 'CEL', expiresAt: '2030-01-01T00:00:00Z', acc: 0.5, src: 'x' } });
    const t = partial(e, 'temp', { value: 2, observedAt: '2020-01-01T00:00:00Z', acc: 0.7 }).attrs[a('temp')][0];
    assert.deepEqual([t.value, t.unitCode, t.expiresAt, t.observedAt, t.createdAt, t.modifiedAt], [2, 'CEL', '2030-01-01T00:00:00Z', '2020-01-01T00:00:00Z', T0, T1]);
    assert.deepEqual([t.attrs?.[a('acc')][0].value, t.attrs?.[a('acc')][0].createdAt, t.attrs?.[a('src')][0].value], [0.7, T0, 'x']);
  });

  test('replaces compound values wholesale', () => {
    const e = entity({ addr: { value: { a: 1, b: 2 } }, name: { languageMap: { en: 'x', fr: 'y' } } });
    assert.deepEqual(partial(e, 'addr', { value: { a: 5 } }).attrs[a('addr')][0].value, { a: 5 });
    assert.deepEqual(partial(e, 'name', { languageMap: { de: 'z' } }).attrs[a('name')][0].languageMap, { de: 'z' });
  });

  test('NGSI-LD Null removes a sub-attribute or an optional member', () => {
    const e = entity({ temp: { value: 1, unitCode: 'CEL', acc: 0.5 } });
    const t = partial(e, 'temp', { acc: N, unitCode: N }).attrs[a('temp')][0];
    assert.deepEqual([t.attrs, t.unitCode, t.value], [undefined, undefined, 1]);
  });

  test('addresses an instance by datasetId', () => {
    const e = entity({ temp: [{ value: 1 }, { value: 2, datasetId: 'urn:ds:1' }] });
    const r = partial(e, 'temp', { value: 9, datasetId: 'urn:ds:1' });
    assert.deepEqual(r.attrs[a('temp')].map((i) => i.value), [1, 9]);
  });

  test('cannot change the kind', () => {
    const e = entity({ temp: 1, rel: { object: 'urn:x' } });
    throwsKind(() => partial(e, 'temp', { type: 'Relationship', object: 'urn:x' }), 'BadRequestData', /cannot change/);
    throwsKind(() => partial(e, 'temp', { object: 'urn:x' }), 'BadRequestData', /cannot change/);
    throwsKind(() => partial(e, 'rel', { unitCode: 'CEL' }), 'BadRequestData', /unitCode/);
  });

  test('validates a value sent to an existing GeoProperty', () => {
    const e = entity({ location: { type: 'Point', coordinates: [1, 2] } });
    const loc = `${NGSI}location`;
    const r = applyPartialAttr(e, loc, parsePartialAttr({ value: { type: 'Point', coordinates: [5, 6] } }, loc, terms, limits), T1);
    assert.deepEqual(r.attrs[loc][0].value, { type: 'Point', coordinates: [5, 6] });
    const area = entity({ area: { type: 'GeoProperty', value: { type: 'Point', coordinates: [1, 2] } } });
    throwsKind(() => partial(area, 'area', { value: 'Paris' }), 'BadRequestData', /GeoJSON/);
  });

  test('answers 404 for an unknown attribute, an unknown datasetId, or a missing default instance', () => {
    const e = entity({ temp: { value: 1, datasetId: 'urn:ds:1' } });
    throwsKind(() => partial(e, 'hum', { value: 1 }), 'ResourceNotFound');
    throwsKind(() => partial(e, 'temp', { value: 1, datasetId: 'urn:ds:2' }), 'ResourceNotFound', /datasetId urn:ds:2/);
    throwsKind(() => partial(e, 'temp', { value: 1 }), 'ResourceNotFound', /no default instance/);
  });
});

describe('Replace Attribute', () => {
  test('replaces the instance whole, may change its kind, and keeps its createdAt', () => {
    const e = entity({ temp: { value: 1, unitCode: 'CEL' } });
    const r = applyReplaceAttr(e, a('temp'), parseReplaceAttr({ object: 'urn:x' }, a('temp'), terms, limits), T1);
    assert.deepEqual(r.attrs[a('temp')], [{ type: 'Relationship', object: 'urn:x', createdAt: T0, modifiedAt: T1 }]);
    assert.equal(r.modifiedAt, T1);
  });

  test('addresses the datasetId of the body and answers 404 for unknown attributes or instances', () => {
    const e = entity({ temp: [{ value: 1 }, { value: 2, datasetId: 'urn:ds:1' }] });
    const r = applyReplaceAttr(e, a('temp'), parseReplaceAttr({ value: 9, datasetId: 'urn:ds:1' }, a('temp'), terms, limits), T1);
    assert.deepEqual(r.attrs[a('temp')].map((i) => i.value), [1, 9]);
    throwsKind(() => applyReplaceAttr(e, a('hum'), parseReplaceAttr({ value: 1 }, a('hum'), terms, limits), T1), 'ResourceNotFound');
    throwsKind(() => applyReplaceAttr(e, a('temp'), parseReplaceAttr({ value: 1, datasetId: 'urn:ds:9' }, a('temp'), terms, limits), T1), 'ResourceNotFound');
  });
});

describe('Delete Attribute', () => {
  const e = entity({ temp: [{ value: 1 }, { value: 2, datasetId: 'urn:ds:1' }], hum: { value: 1, datasetId: 'urn:ds:1' } }, { scope: '/A' });

  test('deletes the default instance only unless a datasetId or deleteAll is given', () => {
    assert.deepEqual(applyDeleteAttr(e, a('temp'), { deleteAll: false }, T1).attrs[a('temp')].map((i) => i.datasetId), ['urn:ds:1']);
    assert.deepEqual(applyDeleteAttr(e, a('temp'), { datasetId: 'urn:ds:1', deleteAll: false }, T1).attrs[a('temp')].map((i) => i.datasetId), [undefined]);
    assert.deepEqual(applyDeleteAttr(e, a('temp'), { datasetId: '@none', deleteAll: false }, T1).attrs[a('temp')].map((i) => i.datasetId), ['urn:ds:1']);
    assert.equal(applyDeleteAttr(e, a('temp'), { deleteAll: true }, T1).attrs[a('temp')], undefined);
  });

  test('removes the attribute when its last instance goes and bumps modifiedAt', () => {
    const r = applyDeleteAttr(e, a('hum'), { datasetId: 'urn:ds:1', deleteAll: false }, T1);
    assert.equal(r.attrs[a('hum')], undefined);
    assert.equal(r.modifiedAt, T1);
  });

  test('answers 404 when there is nothing to delete', () => {
    throwsKind(() => applyDeleteAttr(e, a('nope'), { deleteAll: false }, T1), 'ResourceNotFound');
    throwsKind(() => applyDeleteAttr(e, a('nope'), { deleteAll: true }, T1), 'ResourceNotFound');
    throwsKind(() => applyDeleteAttr(e, a('hum'), { deleteAll: false }, T1), 'ResourceNotFound', /no default instance/);
    throwsKind(() => applyDeleteAttr(e, a('temp'), { datasetId: 'urn:ds:9', deleteAll: false }, T1), 'ResourceNotFound');
  });

  test('scope is deleted separately, 404 when the entity has none', () => {
    assert.equal(applyDeleteScope(e, T1).scope, undefined);
    throwsKind(() => applyDeleteScope(entity({}), T1), 'ResourceNotFound');
  });
});

describe('inputs are never mutated', () => {
  test('every apply function works on frozen inputs and returns new objects', () => {
    const e = entity({ temp: { value: { a: 1 }, acc: 1 }, rel: { object: 'urn:x' } }, { scope: '/A' });
    const snapshot = structuredClone(e);
    applyAppend(e, frag({ temp: 2 }, 'append'), T1, { noOverwrite: false });
    applyUpdate(e, frag({ temp: N, rel: { object: 'urn:y' } }, 'update'), T1);
    merge(e, { temp: { value: { b: 2 }, acc: N } });
    merge(e, { rel: 'urn:z' }, {}, true);
    partial(e, 'temp', { value: 3 });
    applyReplaceAttr(e, a('temp'), deepFreeze(parseReplaceAttr({ value: 1 }, a('temp'), terms, limits)), T1);
    applyDeleteAttr(e, a('temp'), { deleteAll: true }, T1);
    applyDeleteScope(e, T1);
    applyReplace(e, deepFreeze(parseEntity({ type: 'Room' }, terms, limits, 'replace', ID)), T1);
    assert.deepEqual(e, snapshot);
  });
});
