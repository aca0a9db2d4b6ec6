// API tests: create, retrieve, replace, delete of entities through the public HTTP API (§5.6.1, §5.6.6, §5.6.18, §5.7.1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { API, ERR, startKend } from '../support/harness.ts';

const kend = startKend();

const sensor = (id: string) => ({
  id,
  type: 'WeatherObserved',
  temperature: { type: 'Property', value: 21.5, unitCode: 'CEL', observedAt: '2026-11-01T10:00:00Z' },
  refDevice: { type: 'Relationship', object: 'urn:ngsi-ld:Device:d1' },
  location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [46.8, 39.1] } },
});

describe('Create Entity (POST /entities)', () => {
  test('answers 201 with a Location naming the entity and no body', async () => {
    const res = await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:c1'));
    assert.equal(res.status, 201);
    assert.equal(res.headers.location, `${API}/entities/urn:ngsi-ld:WeatherObserved:c1`);
    assert.equal(res.body, '');
  });

  test('a retrieve returns exactly what was created', async () => {
    const e = sensor('urn:ngsi-ld:WeatherObserved:c2');
    await kend.post('entities', e);
    const res = await kend.get(`entities/${e.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(res.json(), e);
  });

  test('the same id twice answers 409 AlreadyExists and keeps the first entity', async () => {
    const e = sensor('urn:ngsi-ld:WeatherObserved:c3');
    await kend.post('entities', e);
    const res = await kend.post('entities', { ...e, temperature: 1 });
    assert.equal(res.status, 409);
    assert.equal(res.json<{ type: string }>().type, `${ERR}AlreadyExists`);
    assert.equal((await kend.get(`entities/${e.id}`)).json<{ temperature: { value: number } }>().temperature.value, 21.5);
  });

  for (const [name, body] of [
    ['a missing id', { type: 'T' }],
    ['a missing type', { id: 'urn:ngsi-ld:T:1' }],
    ['an id that is not a URI', { id: 'not a uri', type: 'T' }],
    ['an attribute named with a space', { id: 'urn:ngsi-ld:T:2', type: 'T', 'my attr': 1 }],
    ['a type that is not a valid name', { id: 'urn:ngsi-ld:T:3', type: '9Vehicle' }],
    ['a JSON null value', { id: 'urn:ngsi-ld:T:4', type: 'T', a: { type: 'Property', value: null } }],
    ['a Relationship without object', { id: 'urn:ngsi-ld:T:5', type: 'T', r: { type: 'Relationship' } }],
    ['an unclosed polygon', { id: 'urn:ngsi-ld:T:6', type: 'T', location: { type: 'GeoProperty', value: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] } } }],
    ['a latitude out of range', { id: 'urn:ngsi-ld:T:7', type: 'T', location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [10, 95] } } }],
    ['the NGSI-LD Null as a value', { id: 'urn:ngsi-ld:T:8', type: 'T', a: { type: 'Property', value: 'urn:ngsi-ld:null' } }],
    ['an @context inside an attribute', { id: 'urn:ngsi-ld:T:9', type: 'T', a: { type: 'Property', value: 1, '@context': {} } }],
    ['an @context member in an application/json body', { id: 'urn:ngsi-ld:T:10', type: 'T', '@context': 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld' }],
    ['an observedAt with a time zone offset', { id: 'urn:ngsi-ld:T:11', type: 'T', a: { type: 'Property', value: 1, observedAt: '2026-01-01T10:00:00+02:00' } }],
  ] as const) {
    test(`${name} answers 400 BadRequestData and stores nothing`, async () => {
      const res = await kend.post('entities', body);
      assert.equal(res.status, 400, res.body);
      const p = res.json<{ type: string; title: string; detail: string }>();
      assert.equal(p.type, `${ERR}BadRequestData`);
      assert.ok(p.title.length > 0 && p.detail.length > 0 && p.title !== p.detail);
      const id = (body as { id?: string }).id;
      if (id !== undefined && id.startsWith('urn:')) assert.equal((await kend.get(`entities/${encodeURIComponent(id)}`)).status, 404);
    });
  }

  test('malformed JSON answers 400 InvalidRequest', async () => {
    const res = await kend.request('POST', 'entities', { rawBody: '{"id": "urn:a", ' });
    assert.equal(res.status, 400);
    assert.equal(res.json<{ type: string }>().type, `${ERR}InvalidRequest`);
  });

  test('an empty body answers 400 InvalidRequest', async () => {
    const res = await kend.request('POST', 'entities', { rawBody: '' });
    assert.equal(res.status, 400);
    assert.equal(res.json<{ type: string }>().type, `${ERR}InvalidRequest`);
  });

  test('a JSON array where an entity is expected answers 400 InvalidRequest', async () => {
    const res = await kend.post('entities', []);
    assert.equal(res.status, 400);
    assert.equal(res.json<{ type: string }>().type, `${ERR}InvalidRequest`);
  });

  test('an empty object answers 400 BadRequestData', async () => {
    const res = await kend.post('entities', {});
    assert.equal(res.status, 400);
    assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
  });

  test('values with <>"\'=;() and unicode round-trip unchanged', async () => {
    const e = { id: 'urn:ngsi-ld:Ciudad:París', type: 'Kənd', name: { type: 'Property', value: `<b>"Ağalı"</b> 'x'=;() 🌾` } };
    assert.equal((await kend.post('entities', e)).status, 201);
    const res = await kend.get(`entities/${encodeURIComponent(e.id)}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.includes('<b>\\"Ağalı\\"</b>'), res.body);
    assert.deepEqual(res.json(), e);
  });
});

describe('Retrieve Entity (GET /entities/{id})', () => {
  test('an unknown id answers 404 ResourceNotFound', async () => {
    const res = await kend.get('entities/urn:ngsi-ld:T:unknown');
    assert.equal(res.status, 404);
    assert.equal(res.json<{ type: string }>().type, `${ERR}ResourceNotFound`);
  });

  test('an id that is not a URI answers 400 before any lookup', async () => {
    const res = await kend.get('entities/notauri');
    assert.equal(res.status, 400);
    assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
  });

  test('a type selector that does not match answers 404', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:r1'));
    assert.equal((await kend.get('entities/urn:ngsi-ld:WeatherObserved:r1?type=Other')).status, 404);
    assert.equal((await kend.get('entities/urn:ngsi-ld:WeatherObserved:r1?type=Other,WeatherObserved')).status, 200);
  });

  test('options=sysAttrs adds createdAt and modifiedAt at entity and attribute level', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:r2'));
    const e = (await kend.get('entities/urn:ngsi-ld:WeatherObserved:r2?options=sysAttrs')).json<Record<string, Record<string, string>>>();
    assert.match(String(e.createdAt), /^\d{4}-\d\d-\d\dT/);
    assert.match(String(e.modifiedAt), /^\d{4}-\d\d-\d\dT/);
    assert.match(e.temperature!.createdAt!, /^\d{4}-\d\d-\d\dT/);
    const plain = (await kend.get('entities/urn:ngsi-ld:WeatherObserved:r2')).json<Record<string, unknown>>();
    assert.equal(plain.createdAt, undefined);
  });

  test('keyValues, simplified and concise representations', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:r3'));
    const kv = (await kend.get('entities/urn:ngsi-ld:WeatherObserved:r3?options=keyValues')).json();
    assert.deepEqual(kv, {
      id: 'urn:ngsi-ld:WeatherObserved:r3',
      type: 'WeatherObserved',
      temperature: 21.5,
      refDevice: 'urn:ngsi-ld:Device:d1',
      location: { type: 'Point', coordinates: [46.8, 39.1] },
    });
    assert.deepEqual((await kend.get('entities/urn:ngsi-ld:WeatherObserved:r3?format=simplified')).json(), kv);
    const concise = (await kend.get('entities/urn:ngsi-ld:WeatherObserved:r3?format=concise')).json<Record<string, unknown>>();
    assert.deepEqual(concise.refDevice, { object: 'urn:ngsi-ld:Device:d1' });
    assert.deepEqual(concise.temperature, { value: 21.5, unitCode: 'CEL', observedAt: '2026-11-01T10:00:00Z' });
  });

  test('format wins over options', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:r4'));
    const e = (await kend.get('entities/urn:ngsi-ld:WeatherObserved:r4?format=normalized&options=keyValues')).json<Record<string, { type: string }>>();
    assert.equal(e.temperature!.type, 'Property');
  });

  test('an unknown format or options token answers 400 InvalidRequest even for an unknown entity', async () => {
    for (const q of ['format=foo', 'options=keyValues,foo']) {
      const res = await kend.get(`entities/urn:ngsi-ld:T:nope?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.json<{ type: string }>().type, `${ERR}InvalidRequest`);
    }
  });

  test('an unknown URL parameter answers 400 InvalidRequest', async () => {
    const res = await kend.get('entities/urn:ngsi-ld:T:nope?invalidParam=1');
    assert.equal(res.status, 400);
    assert.equal(res.json<{ type: string }>().type, `${ERR}InvalidRequest`);
  });

  test('pick keeps only the named members, omit removes them, attrs keeps id and type', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:r5'));
    const base = 'entities/urn:ngsi-ld:WeatherObserved:r5';
    assert.deepEqual(Object.keys((await kend.get(`${base}?pick=temperature`)).json<object>()), ['temperature']);
    assert.deepEqual(Object.keys((await kend.get(`${base}?pick=id,temperature`)).json<object>()), ['id', 'temperature']);
    assert.deepEqual(Object.keys((await kend.get(`${base}?omit=id,temperature,location`)).json<object>()).sort(), ['refDevice', 'type']);
    assert.deepEqual(Object.keys((await kend.get(`${base}?attrs=temperature`)).json<object>()), ['id', 'type', 'temperature']);
    assert.equal((await kend.get(`${base}?attrs=humidity`)).status, 404);
    assert.equal((await kend.get(`${base}?pick=humidity`)).status, 404);
    assert.equal((await kend.get(`${base}?pick=temperature&omit=temperature`)).status, 400);
    assert.equal((await kend.get(`${base}?pick=temperature&attrs=temperature`)).status, 400);
    assert.equal((await kend.get(`${base}?pick=id,,temperature`)).status, 400);
  });

  test('Accept application/ld+json puts the @context in the body and sends no Link header', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:r6'));
    const res = await kend.get('entities/urn:ngsi-ld:WeatherObserved:r6', { accept: 'application/ld+json' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/ld+json');
    assert.equal(res.headers.link, undefined);
    assert.equal(res.json<Record<string, unknown>>()['@context'], 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld');
  });

  test('Accept application/json answers with the core context in a Link header', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:r7'));
    const res = await kend.get('entities/urn:ngsi-ld:WeatherObserved:r7');
    assert.equal(
      res.headers.link,
      '<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"',
    );
    assert.equal(res.json<Record<string, unknown>>()['@context'], undefined);
  });

  test('Accept application/geo+json answers a Feature with the location as geometry', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:r8'));
    const res = await kend.get('entities/urn:ngsi-ld:WeatherObserved:r8', { accept: 'application/geo+json' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/geo+json');
    const f = res.json<{ type: string; id: string; geometry: unknown; properties: Record<string, unknown> }>();
    assert.equal(f.type, 'Feature');
    assert.equal(f.id, 'urn:ngsi-ld:WeatherObserved:r8');
    assert.deepEqual(f.geometry, { type: 'Point', coordinates: [46.8, 39.1] });
    assert.equal(f.properties.type, 'WeatherObserved');
    assert.equal(f.properties.id, undefined);
    assert.ok('@context' in (f as object));
  });

  test('geometryProperty names another GeoProperty; without geo+json it answers 400', async () => {
    const e = { ...sensor('urn:ngsi-ld:WeatherObserved:r9'), area: { type: 'GeoProperty', value: { type: 'Point', coordinates: [1, 2] } } };
    await kend.post('entities', e);
    const res = await kend.get(`entities/${e.id}?geometryProperty=area`, { accept: 'application/geo+json' });
    assert.deepEqual(res.json<{ geometry: unknown }>().geometry, { type: 'Point', coordinates: [1, 2] });
    assert.equal((await kend.get(`entities/${e.id}?geometryProperty=area`)).status, 400);
  });
});

describe('Delete Entity (DELETE /entities/{id})', () => {
  test('answers 204 and the entity is gone', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:d1'));
    const res = await kend.del('entities/urn:ngsi-ld:WeatherObserved:d1');
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    assert.equal((await kend.get('entities/urn:ngsi-ld:WeatherObserved:d1')).status, 404);
  });

  test('an unknown entity answers 404; a non-matching type keeps the entity', async () => {
    assert.equal((await kend.del('entities/urn:ngsi-ld:WeatherObserved:none')).status, 404);
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:d2'));
    assert.equal((await kend.del('entities/urn:ngsi-ld:WeatherObserved:d2?type=Other')).status, 404);
    assert.equal((await kend.get('entities/urn:ngsi-ld:WeatherObserved:d2')).status, 200);
  });

  test('a deleted id can be created again', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:d3'));
    await kend.del('entities/urn:ngsi-ld:WeatherObserved:d3');
    assert.equal((await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:d3'))).status, 201);
  });
});

describe('Replace Entity (PUT /entities/{id})', () => {
  test('replaces types and attributes, keeps createdAt', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:p1'));
    const before = (await kend.get('entities/urn:ngsi-ld:WeatherObserved:p1?options=sysAttrs')).json<{ createdAt: string }>();
    const res = await kend.put('entities/urn:ngsi-ld:WeatherObserved:p1', { type: 'Station', name: 'Aghali' });
    assert.equal(res.status, 204);
    const after = (await kend.get('entities/urn:ngsi-ld:WeatherObserved:p1?options=sysAttrs')).json<Record<string, unknown>>();
    assert.equal(after.type, 'Station');
    assert.equal(after.temperature, undefined);
    assert.equal((after.name as { value: string }).value, 'Aghali');
    assert.equal(after.createdAt, before.createdAt);
  });

  test('an id in the body that differs from the path answers 400', async () => {
    await kend.post('entities', sensor('urn:ngsi-ld:WeatherObserved:p2'));
    const res = await kend.put('entities/urn:ngsi-ld:WeatherObserved:p2', { id: 'urn:ngsi-ld:WeatherObserved:other', type: 'T' });
    assert.equal(res.status, 400);
  });

  test('an unknown entity answers 404', async () => {
    assert.equal((await kend.put('entities/urn:ngsi-ld:WeatherObserved:none', { type: 'T' })).status, 404);
  });
});
