import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import type { JsonObject } from '../../src/core/json.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import { parseEntity, parseFragment, parsePartialAttr, parseReplaceAttr } from '../../src/core/model/write-ops.ts';
import type { AttrDraft, ParsedEntity } from '../../src/core/model/write-ops.ts';

const NGSI = 'https://uri.etsi.org/ngsi-ld/';
const DEF = `${NGSI}default-context/`;
const CORE: Record<string, string> = {
  id: '@id',
  type: '@type',
  location: `${NGSI}location`,
  observationSpace: `${NGSI}observationSpace`,
  operationSpace: `${NGSI}operationSpace`,
  scope: `${NGSI}scope`,
  ngsildproof: `${NGSI}ngsildproof`,
};
const terms: TermMap = {
  expandTerm: (n) => CORE[n] ?? (n.startsWith('ngsi-ld:') ? NGSI + n.slice(8) : n.includes(':') ? n : DEF + n),
  compactIri: (iri) => (iri.startsWith(DEF) ? iri.slice(DEF.length) : iri),
};
const limits = { maxGeometryVertices: 100 };
const ID = 'urn:ngsi-ld:Room:R1';

const create = (attrs: JsonObject): ParsedEntity => parseEntity({ id: ID, type: 'Room', ...attrs }, terms, limits, 'create');
const one = (attrs: JsonObject, name: string): AttrDraft => {
  const list = create(attrs).attrs[DEF + name];
  assert.equal(list.length, 1);
  return list[0];
};

function bad(fn: () => unknown, detail: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NgsiError, String(e));
    assert.equal(e.kind, 'BadRequestData');
    assert.match(e.detail, detail);
    return true;
  });
}

describe('entity members', () => {
  test('id must be present and an absolute URI', () => {
    bad(() => parseEntity({ type: 'Room' }, terms, limits, 'create'), /id is missing/);
    bad(() => parseEntity({ id: 'not a uri', type: 'Room' }, terms, limits, 'create'), /not a URI/);
    bad(() => parseEntity({ id: 'urn:ngsi-ld:null', type: 'Room' }, terms, limits, 'create'), /not a URI/);
  });

  test('type must be present; names are validated, expanded and deduplicated', () => {
    bad(() => parseEntity({ id: ID }, terms, limits, 'create'), /type is missing/);
    bad(() => parseEntity({ id: ID, type: '9Vehicle' }, terms, limits, 'create'), /not a valid type name/);
    bad(() => parseEntity({ id: ID, type: [] }, terms, limits, 'create'), /empty array/);
    const p = parseEntity({ id: ID, type: ['Room', 'ex:Space', 'Room'] }, terms, limits, 'create');
    assert.deepEqual(p.types, [`${DEF}Room`, 'ex:Space']);
  });

  test('@id and @type are accepted as aliases, but not together with id and type', () => {
    const p = parseEntity({ '@id': ID, '@type': 'Room' }, terms, limits, 'create');
    assert.equal(p.id, ID);
    assert.deepEqual(p.types, [`${DEF}Room`]);
    bad(() => parseEntity({ id: ID, '@id': ID, type: 'Room' }, terms, limits, 'create'), /both id and @id/);
  });

  test('scope follows the scope grammar and may be a string or an array', () => {
    assert.deepEqual(create({ scope: '/Madrid/Gardens' }).scope, ['/Madrid/Gardens']);
    assert.deepEqual(create({ scope: ['/A', '/B_1/c2', '/A'] }).scope, ['/A', '/B_1/c2']);
    for (const s of ['Madrid', '/Madrid/', '/Ma-drid', '//A', '/1A', '']) bad(() => create({ scope: s }), /not a valid scope/);
    bad(() => create({ scope: ['/A', 'bad'] }), /not a valid scope/);
  });

  test('expiresAt must be a UTC DateTime', () => {
    assert.equal(create({ expiresAt: '2030-01-01T00:00:00Z' }).expiresAt, '2030-01-01T00:00:00Z');
    bad(() => create({ expiresAt: '2026-13-45T00:00:00Z' }), /expiresAt/);
  });

  test('client-sent createdAt, modifiedAt and the top-level @context are ignored', () => {
    const p = create({ createdAt: 'whatever', modifiedAt: '2020-01-01T00:00:00Z', '@context': 'https://x/ctx.jsonld', temp: 1 });
    assert.deepEqual(Object.keys(p.attrs), [`${DEF}temp`]);
  });

  test('replace takes the id from the path and refuses a different body id', () => {
    const p = parseEntity({ type: 'Room' }, terms, limits, 'replace', ID);
    assert.equal(p.id, ID);
    bad(() => parseEntity({ id: 'urn:other', type: 'Room' }, terms, limits, 'replace', ID), /differs/);
  });
});

describe('attribute names', () => {
  test('reserved core terms cannot be attribute names', () => {
    for (const n of ['value', 'object', 'datasetId', 'observedAt', 'unitCode', 'instanceId', 'languageMap', 'vocab', 'json', 'valueList', 'objectList', 'objectType', 'valueType', 'previousValue', 'entity']) {
      bad(() => create({ [n]: 1 }), /reserved/);
    }
  });

  test('names that expand to reserved core IRIs are refused too', () => {
    bad(() => create({ 'ngsi-ld:hasValue': 1 }), /reserved core IRI/);
    bad(() => create({ [`${NGSI}observedAt`]: 1 }), /reserved core IRI/);
  });

  test('invalid names are refused at entity level and as sub-attributes', () => {
    bad(() => create({ 'my attr': 1 }), /not a valid attribute name/);
    bad(() => create({ '@foo': 1 }), /not a valid attribute name/);
    bad(() => create({ temp: { value: 1, 'bad name': 2 } }), /temp\.bad name/);
    bad(() => create({ temp: { value: 1, scope: 2 } }), /reserved/);
  });

  test('attribute names are expanded with the terms; a term and its IRI are one attribute', () => {
    const p = create({ 'ex:temp': 1, temp: { value: 1, datasetId: 'urn:a' }, [`${DEF}temp`]: 2 });
    assert.deepEqual(Object.keys(p.attrs).sort(), ['ex:temp', `${DEF}temp`]);
    assert.equal(p.attrs[`${DEF}temp`].length, 2);
  });
});

describe('normalized attributes of each kind', () => {
  test('Property keeps any JSON value verbatim with unitCode and observedAt', () => {
    const d = one({ temp: { type: 'Property', value: { a: [1, null] }, unitCode: 'CEL', observedAt: '2020-01-01T00:00:00,5Z' } }, 'temp');
    assert.deepEqual(d, { typed: true, type: 'Property', value: { a: [1, null] }, unitCode: 'CEL', observedAt: '2020-01-01T00:00:00.5Z' });
  });

  test('Relationship needs a URI object (or a non-empty array of URIs); objectType is expanded', () => {
    const d = one({ rel: { type: 'Relationship', object: ['urn:a', 'urn:b'], objectType: 'Room' } }, 'rel');
    assert.deepEqual(d.object, ['urn:a', 'urn:b']);
    assert.equal(d.objectType, `${DEF}Room`);
    bad(() => create({ rel: { type: 'Relationship' } }), /must have 'object'/);
    bad(() => create({ rel: { type: 'Relationship', object: 'not a uri' } }), /URI/);
    bad(() => create({ rel: { type: 'Relationship', object: [] } }), /URI/);
  });

  test('GeoProperty value must be a valid geometry; a GeoJSON string is parsed', () => {
    const d = one({ area: { type: 'GeoProperty', value: '{"type":"Point","coordinates":[1,2]}' } }, 'area');
    assert.deepEqual(d.value, { type: 'Point', coordinates: [1, 2] });
    bad(() => create({ area: { type: 'GeoProperty', value: { type: 'Point', coordinates: [200, 2] } } }), /longitude/);
    bad(() => create({ area: { type: 'GeoProperty', value: { type: 'GeometryCollection', geometries: [] } } }), /GeometryCollection/);
    bad(() => create({ area: { type: 'GeoProperty', value: { type: 'MultiPoint', coordinates: Array.from({ length: 101 }, () => [1, 2]) } } }), /vertices/);
  });

  test('LanguageProperty needs a map of language tags to strings or string arrays', () => {
    const d = one({ name: { type: 'LanguageProperty', languageMap: { en: 'Hall', 'fr-CA': ['Salle', 'Hall'], '@none': 'H' } } }, 'name');
    assert.deepEqual(d.languageMap, { en: 'Hall', 'fr-CA': ['Salle', 'Hall'], '@none': 'H' });
    bad(() => create({ name: { type: 'LanguageProperty' } }), /must have 'languageMap'/);
    bad(() => create({ name: { type: 'LanguageProperty', languageMap: { 'not a tag': 'x' } } }), /language tag/);
    bad(() => create({ name: { type: 'LanguageProperty', languageMap: { en: 5 } } }), /string/);
    bad(() => create({ name: { type: 'LanguageProperty', languageMap: { en: 'x' }, valueType: 'Text' } }), /langString/);
    assert.equal(one({ name: { type: 'LanguageProperty', languageMap: { en: 'x' }, valueType: 'langString' } }, 'name').valueType, 'langString');
  });

  test('VocabProperty values are expanded as IRIs', () => {
    assert.equal(one({ cat: { type: 'VocabProperty', vocab: 'Indoor' } }, 'cat').vocab, `${DEF}Indoor`);
    assert.deepEqual(one({ cat: { type: 'VocabProperty', vocab: ['Indoor', 'ex:Out'] } }, 'cat').vocab, [`${DEF}Indoor`, 'ex:Out']);
    bad(() => create({ cat: { type: 'VocabProperty', vocab: 5 } }), /vocab/);
  });

  test('JsonProperty json must be an object or array and is kept verbatim (JSON null inside included)', () => {
    assert.deepEqual(one({ j: { type: 'JsonProperty', json: { id: 'x', v: null, '@context': 'kept' } } }, 'j').json, { id: 'x', v: null, '@context': 'kept' });
    bad(() => create({ j: { type: 'JsonProperty', json: 5 } }), /object or array/);
    bad(() => create({ j: { type: 'JsonProperty', json: null } }), /JSON null/);
  });

  test('ListProperty needs an array; ListRelationship takes bare URIs or {object} entries stored as URIs', () => {
    assert.deepEqual(one({ l: { type: 'ListProperty', valueList: [3, 1, 2] } }, 'l').valueList, [3, 1, 2]);
    bad(() => create({ l: { type: 'ListProperty', valueList: 3 } }), /array/);
    assert.deepEqual(one({ lr: { type: 'ListRelationship', objectList: ['urn:a', { object: 'urn:b' }] } }, 'lr').objectList, ['urn:a', 'urn:b']);
    bad(() => create({ lr: { type: 'ListRelationship', objectList: ['nope'] } }), /entry 0/);
  });

  test('members of another kind are forbidden', () => {
    bad(() => create({ a: { type: 'Property', value: 1, object: 'urn:a' } }), /cannot have 'object'/);
    bad(() => create({ a: { type: 'Relationship', object: 'urn:a', unitCode: 'CEL' } }), /cannot have 'unitCode'/);
    bad(() => create({ a: { type: 'Relationship', object: 'urn:a', value: 1 } }), /cannot have 'value'/);
    bad(() => create({ a: { type: 'JsonProperty', json: {}, value: 1 } }), /cannot have 'value'/);
    bad(() => create({ a: { type: 'LanguageProperty', languageMap: { en: 'x' }, unitCode: 'C' } }), /unitCode/);
    bad(() => create({ a: { type: 'ListProperty', valueList: [], value: 1 } }), /cannot have 'value'/);
    bad(() => create({ a: { type: 'Property', value: 1, objectType: 'Room' } }), /objectType/);
  });

  test('output-only members are refused', () => {
    for (const m of ['previousValue', 'entity', 'entityList', 'instanceId', 'deletedAt', 'previousObject']) {
      bad(() => create({ a: { type: 'Property', value: 1, [m]: 2 } }), new RegExp(`'${m}' is an output-only`));
    }
  });

  test('Property without value, JSON null values and unknown types are refused', () => {
    bad(() => create({ a: { type: 'Property' } }), /must have 'value'/);
    bad(() => create({ a: { type: 'Property', value: null } }), /JSON null/);
    bad(() => create({ a: null }), /JSON null/);
    bad(() => create({ a: { type: 'PostalAddress', street: 'x' } }), /not an attribute type/);
    bad(() => create({ a: { type: 5, value: 1 } }), /'type' must be a string/);
  });

  test('observedAt, expiresAt and datasetId are validated', () => {
    bad(() => create({ a: { value: 1, observedAt: '2020-01-01T00:00:00+02:00' } }), /observedAt/);
    bad(() => create({ a: { value: 1, observedAt: { '@value': '2020-01-01T00:00:00Z' } } }), /observedAt/);
    bad(() => create({ a: { value: 1, expiresAt: '2026-02-30T00:00:00Z' } }), /expiresAt/);
    bad(() => create({ a: { value: 1, datasetId: 'not a uri' } }), /datasetId/);
    bad(() => create({ a: { value: 1, unitCode: '' } }), /unitCode/);
  });

  test('ngsildproof must hold an object value and alone may carry entityIdSealed', () => {
    const p = create({ ngsildproof: { type: 'Property', value: { proofValue: 'z' }, entityIdSealed: ID } });
    assert.ok(p.attrs[`${NGSI}ngsildproof`][0].attrs);
    bad(() => create({ ngsildproof: { type: 'Property', value: 'z' } }), /must be an object/);
    bad(() => create({ a: { value: 1, entityIdSealed: ID } }), /only inside ngsildproof/);
  });
});

describe('concise attributes (guide §5.3 classifier)', () => {
  test('a scalar or a plain array is a Property', () => {
    assert.deepEqual(one({ a: 21.5 }, 'a'), { typed: false, type: 'Property', value: 21.5, bare: 21.5 });
    assert.deepEqual(one({ a: [1, 2] }, 'a').value, [1, 2]);
    assert.deepEqual(one({ a: [] }, 'a').value, []);
  });

  test('an object without type or value member is a Property whose value is the object', () => {
    assert.deepEqual(one({ addr: { city: 'Bonn', zip: null } }, 'addr').value, { city: 'Bonn', zip: null });
  });

  test('the value member decides the kind', () => {
    assert.equal(one({ a: { value: 1, unitCode: 'CEL' } }, 'a').type, 'Property');
    assert.equal(one({ a: { object: 'urn:x' } }, 'a').type, 'Relationship');
    assert.equal(one({ a: { languageMap: { en: 'x' } } }, 'a').type, 'LanguageProperty');
    assert.equal(one({ a: { vocab: 'X' } }, 'a').type, 'VocabProperty');
    assert.equal(one({ a: { json: [1] } }, 'a').type, 'JsonProperty');
    assert.equal(one({ a: { valueList: [1] } }, 'a').type, 'ListProperty');
    assert.deepEqual(one({ a: { objectList: ['urn:x'] } }, 'a'), { typed: false, type: 'ListRelationship', objectList: ['urn:x'] });
    assert.equal(one({ a: { value: { type: 'Point', coordinates: [1, 2] } } }, 'a').type, 'GeoProperty');
  });

  test('a bare geometry object is a GeoProperty', () => {
    assert.deepEqual(one({ a: { type: 'Point', coordinates: [1, 2] } }, 'a'), { typed: false, type: 'GeoProperty', value: { type: 'Point', coordinates: [1, 2] } });
    bad(() => create({ a: { type: 'GeometryCollection', geometries: [] } }), /GeometryCollection/);
  });

  test('two value members in one object are ambiguous', () => {
    bad(() => create({ a: { value: 1, object: 'urn:x' } }), /conflicting value members/);
  });

  test('an object with instance metadata but no value member is refused outside merge', () => {
    bad(() => create({ a: { observedAt: '2020-01-01T00:00:00Z' } }), /no value member/);
  });

  test('location, observationSpace and operationSpace must be GeoProperties in every form', () => {
    const p = create({ location: '{"type":"Point","coordinates":[1,2]}', observationSpace: { type: 'Point', coordinates: [1, 2] }, operationSpace: { value: { type: 'Point', coordinates: [1, 2] } } });
    for (const n of ['location', 'observationSpace', 'operationSpace']) assert.equal(p.attrs[`${NGSI}${n}`][0].type, 'GeoProperty');
    bad(() => create({ location: { type: 'Property', value: 1 } }), /must be a GeoProperty/);
    bad(() => create({ location: 'Paris' }), /GeoProperty/);
    bad(() => create({ location: { object: 'urn:x' } }), /must be a GeoProperty/);
    bad(() => create({ location: 5 }), /must be a GeoProperty/);
  });
});

describe('multi-attributes and sub-attributes', () => {
  test('an array of instances is a multi-attribute keyed by datasetId; @none is the default', () => {
    const p = create({ temp: [{ value: 1 }, { value: 2, datasetId: 'urn:ds:a' }, { type: 'Property', value: 3, datasetId: 'urn:ds:b' }] });
    assert.deepEqual(p.attrs[`${DEF}temp`].map((d) => d.datasetId), [undefined, 'urn:ds:a', 'urn:ds:b']);
    assert.equal(one({ t: { value: 1, datasetId: '@none' } }, 't').datasetId, undefined);
  });

  test('duplicate datasetIds and two default instances are refused', () => {
    bad(() => create({ t: [{ value: 1, datasetId: 'urn:a' }, { value: 2, datasetId: 'urn:a' }] }), /two instances with datasetId urn:a/);
    bad(() => create({ t: [{ value: 1 }, { value: 2, datasetId: '@none' }] }), /more than one default instance/);
  });

  test('a datasetId cannot be NGSI-LD Null', () => {
    bad(() => parseFragment({ t: { value: 1, datasetId: 'urn:ngsi-ld:null' } }, terms, limits, 'update'), /datasetId cannot be removed/);
  });

  test('sub-attributes at any depth use the same forms and are expanded', () => {
    const d = one({ temp: { value: 20, accuracy: { value: 0.5, source: { object: 'urn:s' } }, calibrated: true } }, 'temp');
    const acc = d.attrs?.[`${DEF}accuracy`][0];
    assert.equal(acc?.value, 0.5);
    assert.equal(acc?.attrs?.[`${DEF}source`][0].type, 'Relationship');
    assert.equal(d.attrs?.[`${DEF}calibrated`][0].value, true);
  });

  test('sub-attribute errors name the path', () => {
    bad(() => create({ temp: { value: 20, accuracy: { type: 'Property', value: null } } }), /'temp\.accuracy'/);
  });

  test('an embedded @context anywhere below the top level is refused', () => {
    bad(() => create({ a: { value: 1, '@context': {} } }), /@context/);
    bad(() => create({ a: { value: 1, sub: { value: 2, '@context': 'x' } } }), /@context/);
    bad(() => create({ a: { value: { deep: { '@context': 'x' } } } }), /@context/);
    bad(() => create({ a: [{ '@context': 'x', value: 1 }] }), /@context/);
  });
});

describe('NGSI-LD Null', () => {
  const N = 'urn:ngsi-ld:null';

  test('is refused anywhere in create and replace payloads', () => {
    bad(() => create({ a: N }), /NGSI-LD Null/);
    bad(() => create({ a: { value: N } }), /NGSI-LD Null/);
    bad(() => create({ a: { object: N } }), /NGSI-LD Null/);
    bad(() => create({ a: { value: { k: N } } }), /NGSI-LD Null/);
    bad(() => create({ a: { value: [1, N] } }), /NGSI-LD Null/);
    bad(() => create({ a: { json: { deep: { k: N } } } }), /NGSI-LD Null/);
    bad(() => create({ a: { value: 1, sub: N } }), /NGSI-LD Null/);
    bad(() => create({ a: { languageMap: { en: N } } }), /NGSI-LD Null/);
    bad(() => create({ scope: N }), /NGSI-LD Null/);
    bad(() => parseEntity({ type: 'Room', a: { value: { k: N } } }, terms, limits, 'replace', ID), /NGSI-LD Null/);
  });

  test('is refused in append fragments', () => {
    bad(() => parseFragment({ a: N }, terms, limits, 'append'), /only allowed in update and merge/);
  });

  test('marks a deletion in update fragments, in each value member and in concise form', () => {
    const f = parseFragment({ a: N, b: { value: N }, c: { object: N }, d: { languageMap: { '@none': N } }, e: { vocab: N }, g: { json: N }, h: { valueList: [N] }, i: { objectList: N, datasetId: 'urn:x' } }, terms, limits, 'update');
    for (const n of ['a', 'b', 'c', 'd', 'e', 'g', 'h', 'i']) assert.equal(f.attrs[DEF + n][0].remove, true, n);
    assert.equal(f.attrs[`${DEF}i`][0].datasetId, 'urn:x');
  });

  test('is refused inside JSON values of update fragments but allowed there in merge fragments', () => {
    bad(() => parseFragment({ a: { value: { k: N } } }, terms, limits, 'update'), /inside 'value'/);
    const f = parseFragment({ a: { value: { k: N } } }, terms, limits, 'merge');
    assert.deepEqual(f.attrs[`${DEF}a`][0].value, { k: N });
  });

  test('is refused inside arrays even in merge', () => {
    bad(() => parseFragment({ a: [1, N] }, terms, limits, 'merge'), /inside an array/);
  });

  test('removes the entity expiresAt and scope in merge fragments', () => {
    const f = parseFragment({ expiresAt: N, scope: N }, terms, limits, 'merge');
    assert.equal(f.expiresAt, null);
    assert.equal(f.scope, null);
  });

  test('removes optional instance members in merge fragments but not in update fragments', () => {
    const f = parseFragment({ a: { unitCode: N, observedAt: N } }, terms, limits, 'merge');
    assert.deepEqual(f.attrs[`${DEF}a`][0].unset, ['unitCode', 'observedAt']);
    bad(() => parseFragment({ a: { value: 1, unitCode: N } }, terms, limits, 'update'), /not allowed for 'unitCode'/);
  });

  test('JSON null is never a deletion marker', () => {
    bad(() => parseFragment({ a: null }, terms, limits, 'merge'), /JSON null/);
    bad(() => parseFragment({ a: { value: null } }, terms, limits, 'update'), /JSON null/);
    bad(() => parseFragment({ a: null }, terms, limits, 'merge-simplified'), /JSON null/);
  });
});

describe('fragments', () => {
  test('id and type are optional; a body id must match the path id', () => {
    const f = parseFragment({ type: ['Room', 'Hall'], a: 1 }, terms, limits, 'append');
    assert.deepEqual(f.types, [`${DEF}Room`, `${DEF}Hall`]);
    bad(() => parseFragment({ id: 'urn:other', a: 1 }, terms, limits, 'append', ID), /differs/);
  });

  test('merge fragments accept valueless instance patches', () => {
    const f = parseFragment({ a: { observedAt: '2020-01-01T00:00:00Z' }, b: { type: 'Property', unitCode: 'CEL' } }, terms, limits, 'merge');
    assert.deepEqual(f.attrs[`${DEF}a`][0], { typed: false, observedAt: '2020-01-01T00:00:00Z' });
    assert.equal(f.attrs[`${DEF}b`][0].value, undefined);
  });

  test('keyValues merge keeps each value bare and pre-expands vocab candidates', () => {
    const f = parseFragment({ a: 'Indoor', loc: { type: 'Point', coordinates: [1, 2] }, n: 5 }, terms, limits, 'merge-simplified');
    assert.deepEqual(f.attrs[`${DEF}a`][0], { typed: false, simplified: true, bare: 'Indoor', type: 'Property', value: 'Indoor', bareVocab: `${DEF}Indoor` });
    assert.equal(f.attrs[`${DEF}loc`][0].type, 'GeoProperty');
    assert.equal(f.attrs[`${DEF}n`][0].bareVocab, undefined);
    bad(() => parseFragment({ location: 'Paris' }, terms, limits, 'merge-simplified'), /GeoProperty/);
  });
});

describe('attribute-path bodies', () => {
  const TEMP = `${DEF}temp`;

  test('partial update refuses an empty fragment, scope, deletion of the attribute and unknown types', () => {
    bad(() => parsePartialAttr({}, TEMP, terms, limits), /empty fragment/);
    bad(() => parsePartialAttr({ '@context': 'x' }, TEMP, terms, limits), /empty fragment/);
    bad(() => parsePartialAttr({ datasetId: 'urn:a' }, TEMP, terms, limits), /no member to update/);
    bad(() => parsePartialAttr({ value: 1 }, `${NGSI}scope`, terms, limits), /scope/);
    bad(() => parsePartialAttr({ value: 'urn:ngsi-ld:null' }, TEMP, terms, limits), /cannot be deleted/);
    bad(() => parsePartialAttr({ type: 'Foo', value: 1 }, TEMP, terms, limits), /not an attribute type/);
    bad(() => parsePartialAttr({ value: { k: 'urn:ngsi-ld:null' } }, TEMP, terms, limits), /NGSI-LD Null/);
    bad(() => parsePartialAttr({ datasetId: 'urn:ngsi-ld:null', value: 1 }, TEMP, terms, limits), /datasetId/);
  });

  test('partial update accepts sub-attribute deletions and metadata-only fragments', () => {
    const p = parsePartialAttr({ observedAt: '2020-01-01T00:00:00Z', accuracy: 'urn:ngsi-ld:null' }, TEMP, terms, limits);
    assert.equal(p.draft.attrs?.[`${DEF}accuracy`][0].remove, true);
    assert.equal(p.draft.type, undefined);
  });

  test('replace attribute takes one complete instance in either form', () => {
    assert.equal(parseReplaceAttr({ object: 'urn:x' }, TEMP, terms, limits).type, 'Relationship');
    assert.equal(parseReplaceAttr({ '@context': 'x', type: 'Property', value: 1 }, TEMP, terms, limits).value, 1);
    bad(() => parseReplaceAttr({}, TEMP, terms, limits), /empty body/);
    bad(() => parseReplaceAttr({ value: 'urn:ngsi-ld:null' }, TEMP, terms, limits), /NGSI-LD Null/);
    bad(() => parseReplaceAttr({ value: 1 }, '@id', terms, limits), /not a valid attribute name/);
  });
});
