// API tests: every attribute kind, multi-attributes, sub-attributes, concise/keyValues input, scope and
// multi-typing round-trip through the HTTP API (§4.5, §4.6, §4.7, §4.18, §5.2).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKend } from '../support/harness.ts';

const kend = startKend();

const full = {
  id: 'urn:ngsi-ld:School:aghali-1',
  type: ['School', 'PublicBuilding'],
  scope: ['/Zangilan/Aghali', '/Education'],
  name: { type: 'LanguageProperty', languageMap: { az: 'Ağalı məktəbi', en: 'Aghali school' } },
  category: { type: 'VocabProperty', vocab: 'primary' },
  config: { type: 'JsonProperty', json: { shifts: [1, 2], heating: null } },
  pupils: { type: 'ListProperty', valueList: [120, 131, 140] },
  teachers: { type: 'ListRelationship', objectList: [{ object: 'urn:ngsi-ld:Person:t1' }, { object: 'urn:ngsi-ld:Person:t2' }] },
  ownedBy: { type: 'Relationship', object: 'urn:ngsi-ld:Municipality:zangilan', objectType: 'Municipality' },
  serves: { type: 'Relationship', object: ['urn:ngsi-ld:Village:aghali', 'urn:ngsi-ld:Village:other'] },
  location: { type: 'GeoProperty', value: { type: 'Polygon', coordinates: [[[46.6, 39.1], [46.7, 39.1], [46.7, 39.2], [46.6, 39.1]]] } },
  temperature: [
    { type: 'Property', value: 21, unitCode: 'CEL', observedAt: '2026-11-29T08:00:00Z' },
    {
      type: 'Property',
      value: 19.5,
      unitCode: 'CEL',
      datasetId: 'urn:ngsi-ld:Dataset:gym',
      sensor: { type: 'Relationship', object: 'urn:ngsi-ld:Device:th2', battery: { type: 'Property', value: 0.8 } },
    },
  ],
};

describe('Data model round trip', () => {
  test('every attribute kind, multi-typing, scope, datasets and nested sub-attributes come back as written', async () => {
    const res = await kend.post('entities', full);
    assert.equal(res.status, 201, res.body);
    const got = (await kend.get(`entities/${full.id}`)).json<Record<string, unknown>>();
    const { temperature, ...rest } = got;
    const { temperature: sentTemperature, ...sentRest } = full;
    assert.deepEqual(rest, sentRest);
    assert.ok(Array.isArray(temperature));
    const byDataset = (arr: { datasetId?: string }[]) => [...arr].sort((a, b) => (a.datasetId ?? '').localeCompare(b.datasetId ?? ''));
    assert.deepEqual(byDataset(temperature as { datasetId?: string }[]), byDataset(sentTemperature));
  });

  test('keyValues renders each kind per the spec and multi-instances as a dataset map', async () => {
    const kv = (await kend.get(`entities/${full.id}?options=keyValues`)).json<Record<string, unknown>>();
    assert.deepEqual(kv.name, { languageMap: { az: 'Ağalı məktəbi', en: 'Aghali school' } });
    assert.deepEqual(kv.category, { vocab: 'primary' });
    assert.deepEqual(kv.config, { json: { shifts: [1, 2], heating: null } });
    assert.deepEqual(kv.pupils, [120, 131, 140]);
    assert.deepEqual(kv.teachers, ['urn:ngsi-ld:Person:t1', 'urn:ngsi-ld:Person:t2']);
    assert.equal(kv.ownedBy, 'urn:ngsi-ld:Municipality:zangilan');
    assert.deepEqual(kv.temperature, { dataset: { '@none': 21, 'urn:ngsi-ld:Dataset:gym': 19.5 } });
  });

  test('lang turns a LanguageProperty into a Property with the chosen language', async () => {
    const e = (await kend.get(`entities/${full.id}?lang=en&pick=name`)).json<Record<string, unknown>>();
    assert.deepEqual(e.name, { type: 'Property', value: 'Aghali school', lang: 'en' });
    const az = (await kend.get(`entities/${full.id}?lang=fr,az;q=0.5&pick=name&options=keyValues`)).json<Record<string, unknown>>();
    assert.equal(az.name, 'Ağalı məktəbi');
    assert.equal((await kend.get(`entities/${full.id}?lang=;;`)).status, 400);
  });

  test('datasetId filter keeps only the named instances', async () => {
    const e = (await kend.get(`entities/${full.id}?datasetId=urn:ngsi-ld:Dataset:gym&pick=temperature`)).json<Record<string, { value: number }>>();
    assert.equal(e.temperature!.value, 19.5);
  });

  test('concise input of each kind is understood', async () => {
    const concise = {
      id: 'urn:ngsi-ld:Lamp:c1',
      type: 'StreetLight',
      power: 60,
      status: { value: 'on', observedAt: '2026-11-29T07:00:00Z' },
      pole: { object: 'urn:ngsi-ld:Pole:1' },
      label: { languageMap: { en: 'Lamp 1' } },
      location: { type: 'Point', coordinates: [46.65, 39.12] },
      modes: { valueList: ['auto', 'manual'] },
      circuit: { objectList: ['urn:ngsi-ld:Circuit:a'] },
      kind: { vocab: 'LED' },
      raw: { json: { a: 1 } },
    };
    assert.equal((await kend.post('entities', concise)).status, 201);
    const e = (await kend.get(`entities/${concise.id}`)).json<Record<string, { type: string }>>();
    const kinds = Object.fromEntries(Object.entries(e).filter(([k]) => !['id', 'type'].includes(k)).map(([k, v]) => [k, v.type]));
    assert.deepEqual(kinds, {
      power: 'Property',
      status: 'Property',
      pole: 'Relationship',
      label: 'LanguageProperty',
      location: 'GeoProperty',
      modes: 'ListProperty',
      circuit: 'ListRelationship',
      kind: 'VocabProperty',
      raw: 'JsonProperty',
    });
    assert.deepEqual((await kend.get(`entities/${concise.id}?format=concise`)).json<Record<string, unknown>>().power, 60);
  });

  test('GeoJSON given as a string is stored and served as an object', async () => {
    const e = { id: 'urn:ngsi-ld:Lamp:g1', type: 'StreetLight', location: { type: 'GeoProperty', value: '{"type":"Point","coordinates":[46.6,39.1]}' } };
    assert.equal((await kend.post('entities', e)).status, 201);
    assert.deepEqual((await kend.get(`entities/${e.id}`)).json<{ location: unknown }>().location, { type: 'GeoProperty', value: { type: 'Point', coordinates: [46.6, 39.1] } });
  });

  test('invalid shapes answer 400: duplicate datasetIds, bad scope, bad languageMap, scalar json, location not geo', async () => {
    const bad = [
      { a: [{ type: 'Property', value: 1 }, { type: 'Property', value: 2 }] },
      { a: [{ type: 'Property', value: 1, datasetId: 'urn:d:1' }, { type: 'Property', value: 2, datasetId: 'urn:d:1' }] },
      { scope: 'NoSlash' },
      { scope: ['/ok', '/bad-level'] },
      { n: { type: 'LanguageProperty', languageMap: { en: 5 } } },
      { j: { type: 'JsonProperty', json: 5 } },
      { location: { type: 'Property', value: 'here' } },
      { r: { type: 'Relationship', object: 'not a uri' } },
      { p: { type: 'Property', value: 1, object: 'urn:x:y' } },
      { p: { type: 'Property', value: 1, previousValue: 0 } },
      { l: { type: 'GeoProperty', value: { type: 'GeometryCollection', geometries: [] } } },
    ];
    for (const [i, attrs] of bad.entries()) {
      const res = await kend.post('entities', { id: `urn:ngsi-ld:Bad:${i}`, type: 'Bad', ...attrs });
      assert.equal(res.status, 400, JSON.stringify(attrs));
      assert.equal((await kend.get(`entities/urn:ngsi-ld:Bad:${i}`)).status, 404);
    }
  });

  test('sub-attributes at depth three survive a partial update of the parent', async () => {
    const e = {
      id: 'urn:ngsi-ld:Pump:deep',
      type: 'Pump',
      rate: { type: 'Property', value: 1, meta: { type: 'Property', value: 'a', deeper: { type: 'Property', value: 'b', deepest: { type: 'Property', value: 'c' } } } },
    };
    assert.equal((await kend.post('entities', e)).status, 201);
    assert.equal((await kend.patch(`entities/${e.id}/attrs/rate`, { value: 2 })).status, 204);
    const got = (await kend.get(`entities/${e.id}`)).json<{ rate: { value: number; meta: { deeper: { deepest: { value: string } } } } }>();
    assert.equal(got.rate.value, 2);
    assert.equal(got.rate.meta.deeper.deepest.value, 'c');
  });
});
