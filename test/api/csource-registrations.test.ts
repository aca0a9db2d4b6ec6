// API tests: the /csourceRegistrations API (GS CIM 009 §5.9, §5.10, §5.2.9; guide §16.1; issue 7 items 1 and 5):
// create, retrieve, query, update, delete, validation of every member, mode conflicts, tenancy, expiry.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { API, ERR, startKend, type TestResponse } from '../support/harness.ts';
import type { Clock } from '../../src/ports/clock.ts';

const kend = startKend({ KEND_NOTIFY_DENY: 'forbidden.example' });
const REG = 'urn:ngsi-ld:ContextSourceRegistration:';
const link = (url: string) => ({ link: `<${url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"` });
const typeOf = (res: TestResponse): string => res.json<{ type: string }>().type;

let n = 0;
type Body = Record<string, unknown>;
const reg = (extra: Body = {}): Body => ({
  id: `${REG}r${++n}`,
  type: 'ContextSourceRegistration',
  information: [{ entities: [{ type: 'WeatherObserved' }], propertyNames: ['temperature'], relationshipNames: ['refStation'] }],
  endpoint: 'http://village1.example:1026',
  ...extra,
});

/** Every member of a CSourceRegistration (§5.2.9), all valid. */
const full = (id: string): Body => ({
  id,
  type: 'ContextSourceRegistration',
  registrationName: 'Village one',
  description: 'Weather and soil stations of village one',
  information: [
    { entities: [{ type: 'WeatherObserved', idPattern: '^urn:ngsi-ld:WeatherObserved:v1' }, { type: ['SoilSensor', 'Device'], id: 'urn:ngsi-ld:SoilSensor:7' }] },
    { propertyNames: ['moisture'] },
  ],
  datasetId: ['@none', 'urn:ngsi-ld:Dataset:raw'],
  tenant: 'village1',
  location: { type: 'Polygon', coordinates: [[[49.0, 40.0], [49.2, 40.0], [49.2, 40.2], [49.0, 40.2], [49.0, 40.0]]] },
  observationSpace: { type: 'Point', coordinates: [49.1, 40.1] },
  operationSpace: { type: 'Point', coordinates: [49.1, 40.1] },
  expiresAt: '2099-01-01T00:00:00Z',
  endpoint: 'https://village1.example/broker',
  contextSourceInfo: [
    { key: 'Authorization', value: 'urn:ngsi-ld:request' },
    { key: 'X-Village', value: 'one' },
    { key: 'jsonldContext', value: 'https://village1.example/context.jsonld' },
    { key: 'contentType', value: 'application/ld+json' },
  ],
  scope: ['/Azerbaijan/Sheki', '/Azerbaijan/Sheki/Village1'],
  mode: 'inclusive',
  operations: ['federationOps', 'updateOps', 'createEntity'],
  refreshRate: 'PT10M',
  management: { localOnly: true, cacheDuration: 'PT1M', timeout: 2000, cooldown: 10000 },
  contextSourceAlias: 'urn:ngsi-ld:Broker:village1',
  village: 'one',
});

describe('Register, retrieve, delete', () => {
  test('create answers 201 with Location; retrieve returns what was sent plus the defaults mode and operations', async () => {
    const r = reg({ description: 'weather' });
    const res = await kend.post('csourceRegistrations', r);
    assert.equal(res.status, 201, res.body);
    assert.equal(res.headers.location, `${API}/csourceRegistrations/${String(r.id)}`);
    const got = await kend.get(`csourceRegistrations/${String(r.id)}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.json(), { ...r, mode: 'inclusive', operations: ['federationOps'] });
    const withSys = (await kend.get(`csourceRegistrations/${String(r.id)}?options=sysAttrs`)).json<Body>();
    assert.match(String(withSys.createdAt), /^\d{4}-\d\d-\d\dT/);
    assert.equal(withSys.createdAt, withSys.modifiedAt);
    assert.equal(withSys.timesSent, undefined, 'status members appear only once the registration was used');
  });

  test('every member of a registration is accepted and returned as sent', async () => {
    const r = full(`${REG}full`);
    assert.equal((await kend.post('csourceRegistrations', r)).status, 201);
    assert.deepEqual((await kend.get(`csourceRegistrations/${String(r.id)}`)).json(), r);
  });

  test('an id is generated when absent; a duplicate id answers 409 AlreadyExists; read-only members are ignored', async () => {
    const { id: _omit, ...noId } = reg();
    const res = await kend.post('csourceRegistrations', noId);
    assert.equal(res.status, 201);
    assert.match(String(res.headers.location), /\/csourceRegistrations\/urn:ngsi-ld:ContextSourceRegistration:[0-9a-f-]{36}$/);
    const r = reg({ status: 'failed', timesSent: 9, createdAt: '2000-01-01T00:00:00Z' });
    assert.equal((await kend.post('csourceRegistrations', r)).status, 201);
    const got = (await kend.get(`csourceRegistrations/${String(r.id)}?options=sysAttrs`)).json<Body>();
    assert.equal(got.status, undefined);
    assert.equal(got.timesSent, undefined);
    assert.notEqual(got.createdAt, '2000-01-01T00:00:00Z');
    const dup = await kend.post('csourceRegistrations', r);
    assert.equal(dup.status, 409);
    assert.equal(typeOf(dup), `${ERR}AlreadyExists`);
  });

  test('delete answers 204 then 404; unknown and non-URI ids; an empty id segment is 405', async () => {
    const r = reg();
    await kend.post('csourceRegistrations', r);
    assert.equal((await kend.del(`csourceRegistrations/${String(r.id)}`)).status, 204);
    assert.equal((await kend.get(`csourceRegistrations/${String(r.id)}`)).status, 404);
    const again = await kend.del(`csourceRegistrations/${String(r.id)}`);
    assert.equal(again.status, 404);
    assert.equal(typeOf(again), `${ERR}ResourceNotFound`);
    for (const res of [await kend.get('csourceRegistrations/notauri'), await kend.del('csourceRegistrations/notauri'), await kend.patch('csourceRegistrations/notauri', { description: 'x' })]) {
      assert.equal(res.status, 400);
      assert.equal(typeOf(res), `${ERR}BadRequestData`);
    }
    assert.equal((await kend.del('csourceRegistrations/')).status, 405);
    assert.equal((await kend.patch('csourceRegistrations/', { description: 'x' })).status, 405);
  });
});

describe('Validation (400)', () => {
  const info = (i: Body) => ({ information: [i] });
  const bad: [string, Body][] = [
    ['wrong type', { type: 'Registration' }],
    ['missing type', { type: undefined }],
    ['missing information', { information: undefined }],
    ['null information', { information: null }],
    ['empty information', { information: [] }],
    ['information not an array', { information: { entities: [{ type: 'A' }] } }],
    ['empty RegistrationInfo', info({})],
    ['unknown RegistrationInfo member', info({ entities: [{ type: 'A' }], attributes: ['x'] })],
    ['EntityInfo without type', info({ entities: [{ id: 'urn:x:1' }] })],
    ['empty entities', info({ entities: [] })],
    ['EntityInfo with a non-URI id', info({ entities: [{ type: 'A', id: 'not a uri' }] })],
    ['EntityInfo with an invalid idPattern', info({ entities: [{ type: 'A', idPattern: '(' }] })],
    ['EntityInfo with an invalid type name', info({ entities: [{ type: 'A B' }] })],
    ['empty propertyNames', info({ propertyNames: [] })],
    ['invalid attribute name', info({ propertyNames: ['bad name'] })],
    ['relationshipNames not strings', info({ relationshipNames: [1] })],
    ['missing endpoint', { endpoint: undefined }],
    ['endpoint not a URI', { endpoint: 'village one' }],
    ['endpoint with another scheme', { endpoint: 'ftp://village.example/' }],
    ['endpoint with credentials', { endpoint: 'http://user:secret@village.example/' }],
    ['link-local endpoint', { endpoint: 'http://169.254.10.1:1026' }],
    ['cloud metadata endpoint', { endpoint: 'http://169.254.169.254/latest/meta-data' }],
    ['metadata host name', { endpoint: 'http://metadata.google.internal/computeMetadata' }],
    ['IPv6 link-local endpoint', { endpoint: 'http://[fe80::1]:1026' }],
    ['configured denied host', { endpoint: 'http://forbidden.example/' }],
    ['unknown mode', { mode: 'shared' }],
    ['unknown operation', { operations: ['teleportEntity'] }],
    ['empty operations', { operations: [] }],
    ['auxiliary with writes', { mode: 'auxiliary', operations: ['retrieveOps', 'updateOps'] }],
    ['auxiliary with redirectionOps', { mode: 'auxiliary', operations: ['redirectionOps'] }],
    ['exclusive with a type-only EntityInfo', { mode: 'exclusive' }],
    ['exclusive with an idPattern', { mode: 'exclusive', ...info({ entities: [{ type: 'A', id: 'urn:x:1', idPattern: '.*' }], propertyNames: ['p'] }) }],
    ['exclusive without attribute names', { mode: 'exclusive', ...info({ entities: [{ type: 'A', id: 'urn:x:1' }] }) }],
    ['exclusive without entities', { mode: 'exclusive', ...info({ propertyNames: ['p'] }) }],
    ['contextSourceInfo not an array', { contextSourceInfo: { key: 'a', value: 'b' } }],
    ['contextSourceInfo value not a string', { contextSourceInfo: [{ key: 'X-A', value: 1 }] }],
    ['contextSourceInfo without value', { contextSourceInfo: [{ key: 'X-A' }] }],
    ['contextSourceInfo key not a header name', { contextSourceInfo: [{ key: 'X A', value: 'b' }] }],
    ['contextSourceInfo overriding the tenant', { contextSourceInfo: [{ key: 'NGSILD-Tenant', value: 'other' }] }],
    ['contextSourceInfo overriding Via', { contextSourceInfo: [{ key: 'Via', value: 'x' }] }],
    ['contextSourceInfo header injection', { contextSourceInfo: [{ key: 'X-A', value: 'a\r\nHost: evil' }] }],
    ['contextSourceInfo jsonldContext not a URI', { contextSourceInfo: [{ key: 'jsonldContext', value: 'ctx' }] }],
    ['contextSourceInfo contentType not JSON', { contextSourceInfo: [{ key: 'contentType', value: 'text/plain' }] }],
    ['management not an object', { management: 'fast' }],
    ['management.timeout zero', { management: { timeout: 0 } }],
    ['management.cooldown negative', { management: { cooldown: -5 } }],
    ['management.timeout a string', { management: { timeout: '2000' } }],
    ['management.cacheDuration not a duration', { management: { cacheDuration: '10 minutes' } }],
    ['management.localOnly not a boolean', { management: { localOnly: 'yes' } }],
    ['management unknown member', { management: { retries: 3 } }],
    ['observationInterval without startAt', { observationInterval: { endAt: '2030-01-01T00:00:00Z' } }],
    ['managementInterval endAt before startAt', { managementInterval: { startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' } }],
    ['observationInterval with a Date', { observationInterval: { startAt: '2030-01-01' } }],
    ['location not GeoJSON', { location: { type: 'Point', coordinates: [200, 0] } }],
    ['location as a GeoProperty', { location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [1, 2] } } }],
    ['observationSpace not an object', { observationSpace: '[1,2]' }],
    ['operationSpace GeometryCollection', { operationSpace: { type: 'GeometryCollection', geometries: [] } }],
    ['invalid scope', { scope: 'Sheki' }],
    ['empty scope list', { scope: [] }],
    ['expiresAt in the past', { expiresAt: '2000-01-01T00:00:00Z' }],
    ['expiresAt malformed', { expiresAt: 'tomorrow' }],
    ['expiresAt null', { expiresAt: null }],
    ['refreshRate not a duration', { refreshRate: 'hourly' }],
    ['tenant empty', { tenant: '' }],
    ['tenant not a string', { tenant: 7 }],
    ['datasetId not a URI', { datasetId: ['raw data'] }],
    ['registrationName empty', { registrationName: '' }],
    ['description not a string', { description: 42 }],
    ['contextSourceAlias empty', { contextSourceAlias: '' }],
    ['extra property null', { village: null }],
    ['extra property with an invalid name', { 'my prop': 1 }],
    ['id not a URI', { id: 'registration 1' }],
  ];
  for (const [what, change] of bad) {
    test(`${what} → 400 BadRequestData, nothing created`, async () => {
      const body = { ...reg(), ...change };
      for (const [k, v] of Object.entries(change)) if (v === undefined) delete body[k];
      const res = await kend.post('csourceRegistrations', body);
      assert.equal(res.status, 400, `${what}: ${res.body}`);
      assert.equal(typeOf(res), `${ERR}BadRequestData`);
      if (typeof body.id === 'string' && body.id.startsWith(REG)) assert.equal((await kend.get(`csourceRegistrations/${body.id}`)).status, 404);
    });
  }

  test('invalid JSON and a non-object body are InvalidRequest', async () => {
    const res = await kend.request('POST', 'csourceRegistrations', { rawBody: '{"type": ' });
    assert.equal(res.status, 400);
    assert.equal(typeOf(res), `${ERR}InvalidRequest`);
    assert.equal(typeOf(await kend.post('csourceRegistrations', [reg()])), `${ERR}InvalidRequest`);
  });

  test('an @context in an application/json body is refused; application/ld+json needs one', async () => {
    assert.equal((await kend.post('csourceRegistrations', { ...reg(), '@context': 'https://example.org/ctx.jsonld' })).status, 400);
    const res = await kend.request('POST', 'csourceRegistrations', { body: reg(), headers: { 'content-type': 'application/ld+json' } });
    assert.equal(res.status, 400);
  });
});

describe('Query Context Source Registrations', () => {
  const T = { 'ngsild-tenant': 'csr-query' };
  const ids = async (query: string, headers: Record<string, string> = T): Promise<string[]> => {
    const res = await kend.get(`csourceRegistrations${query}`, headers);
    assert.equal(res.status, 200, res.body);
    return res.json<{ id: string }[]>().map((r) => r.id);
  };
  const weather = { id: `${REG}q-weather`, information: [{ entities: [{ type: 'WeatherObserved' }], propertyNames: ['temperature', 'humidity'] }], village: 'one', scope: '/Sheki/Village1', location: { type: 'Point', coordinates: [47.17, 41.19] } };
  const soil = { id: `${REG}q-soil`, information: [{ entities: [{ type: 'SoilSensor', idPattern: '^urn:ngsi-ld:SoilSensor:v2-' }], propertyNames: ['moisture'] }], village: 'two', scope: '/Sheki/Village2', location: { type: 'Point', coordinates: [47.5, 41.5] } };
  const valve = { id: `${REG}q-valve`, information: [{ entities: [{ type: 'Valve', id: 'urn:ngsi-ld:Valve:v1-1' }] }, { entities: [{ type: 'Valve' }], relationshipNames: ['controlledBy'] }] };
  const history = { id: `${REG}q-history`, information: [{ entities: [{ type: 'WeatherObserved' }] }], observationInterval: { startAt: '2020-01-01T00:00:00Z', endAt: '2021-01-01T00:00:00Z' } };
  const mgmt = { id: `${REG}q-mgmt`, information: [{ entities: [{ type: 'WeatherObserved' }] }], managementInterval: { startAt: '2022-01-01T00:00:00Z' } };

  test('setup: five registrations in one tenant', async () => {
    for (const r of [weather, soil, valve, history, mgmt]) {
      const res = await kend.post('csourceRegistrations', reg(r), T);
      assert.equal(res.status, 201, res.body);
    }
  });

  test('without filters every registration is listed, with paging, count and page links', async () => {
    assert.deepEqual(await ids(''), [weather.id, soil.id, valve.id, history.id, mgmt.id]);
    const page = await kend.get('csourceRegistrations?limit=2&offset=1&count=true', T);
    assert.equal(page.headers['ngsild-results-count'], '5');
    assert.deepEqual(page.json<{ id: string }[]>().map((r) => r.id), [soil.id, valve.id]);
    assert.match(String(page.headers.link), /rel="prev"/);
    assert.match(String(page.headers.link), /<\/ngsi-ld\/v1\/csourceRegistrations\?limit=2&offset=3&count=true>; rel="next"/);
    const counted = await kend.get('csourceRegistrations?limit=0&count=true', T);
    assert.deepEqual(counted.json(), []);
    assert.equal(counted.headers['ngsild-results-count'], '5');
    assert.equal((await kend.get('csourceRegistrations?limit=100000', T)).status, 403);
  });

  test('type (with type expressions), id and idPattern match the information elements', async () => {
    assert.deepEqual(await ids('?type=WeatherObserved'), [weather.id]);
    assert.deepEqual(await ids('?type=SoilSensor,Valve'), [soil.id, valve.id]);
    assert.deepEqual(await ids('?type=Lamp'), []);
    assert.deepEqual(await ids('?id=urn:ngsi-ld:Valve:v1-1&type=Valve'), [valve.id]);
    assert.deepEqual(await ids('?id=urn:ngsi-ld:SoilSensor:v2-9&type=SoilSensor'), [soil.id]);
    assert.deepEqual(await ids('?id=urn:ngsi-ld:SoilSensor:v3-9&type=SoilSensor'), []);
    assert.deepEqual(await ids('?idPattern=^urn:ngsi-ld:Valve:v1&type=Valve'), [valve.id]);
    // The valve registration's second element covers every Valve, whatever its id.
    assert.deepEqual(await ids('?idPattern=^urn:ngsi-ld:Valve:v9&type=Valve'), [valve.id]);
  });

  test('attrs needs an element that lists one of them, or lists no attributes', async () => {
    assert.deepEqual(await ids('?attrs=humidity'), [weather.id, valve.id]);
    assert.deepEqual(await ids('?attrs=moisture,controlledBy'), [soil.id, valve.id]);
    assert.deepEqual(await ids('?type=WeatherObserved&attrs=moisture'), []);
  });

  test('an information element without entities covers every entity type and id', async () => {
    const O = { 'ngsild-tenant': 'csr-query-any' };
    const any = reg({ information: [{ propertyNames: ['noise'] }] });
    assert.equal((await kend.post('csourceRegistrations', any, O)).status, 201);
    assert.deepEqual(await ids('?type=Lamp&attrs=noise', O), [any.id]);
    assert.deepEqual(await ids('?id=urn:ngsi-ld:Lamp:1', O), [any.id]);
    assert.deepEqual(await ids('?type=Lamp&attrs=light', O), []);
    const pinned = reg({ information: [{ entities: [{ type: 'Lamp', id: 'urn:ngsi-ld:Lamp:7' }] }] });
    assert.equal((await kend.post('csourceRegistrations', pinned, O)).status, 201);
    assert.deepEqual(await ids('?type=Lamp&idPattern=Lamp:[0-9]$', O), [any.id, pinned.id]);
    assert.deepEqual(await ids('?type=Lamp&idPattern=Lamp:[a-z]$&attrs=light', O), []);
  });

  test('q tests registration properties, and otherwise needs the attribute listed; csf tests properties only', async () => {
    assert.deepEqual(await ids('?q=village=="one"'), [weather.id]);
    assert.deepEqual(await ids('?q=village=="two";moisture>10'), [soil.id]);
    assert.deepEqual(await ids('?q=temperature>30'), [weather.id]);
    assert.deepEqual(await ids('?csf=village=="two"'), [soil.id]);
    assert.deepEqual(await ids('?csf=village'), [weather.id, soil.id]);
    assert.deepEqual(await ids('?csf=endpoint=="http://village1.example:1026"&type=Valve'), [valve.id]);
    assert.deepEqual(await ids('?csf=mode=="inclusive"&type=SoilSensor'), [soil.id]);
  });

  test('scopeQ tests the registration scope (registrations without scope do not restrict)', async () => {
    assert.deepEqual(await ids('?scopeQ=/Sheki/Village2&type=SoilSensor,WeatherObserved'), [soil.id]);
    assert.deepEqual(await ids('?scopeQ=/Sheki/%23&type=SoilSensor,WeatherObserved'), [weather.id, soil.id]);
    assert.deepEqual(await ids('?scopeQ=/Ganja&type=Valve'), [valve.id]);
  });

  test('geo-queries test the registration location', async () => {
    assert.deepEqual(await ids('?georel=near;maxDistance==2000&geometry=Point&coordinates=[47.17,41.18]&type=WeatherObserved,SoilSensor'), [weather.id]);
    const box = encodeURIComponent('[[[47,41],[48,41],[48,42],[47,42],[47,41]]]');
    assert.deepEqual(await ids(`?georel=within&geometry=Polygon&coordinates=${box}&type=WeatherObserved,SoilSensor`), [weather.id, soil.id]);
    const small = encodeURIComponent('[[[47.4,41.4],[47.6,41.4],[47.6,41.6],[47.4,41.6],[47.4,41.4]]]');
    assert.deepEqual(await ids(`?georel=intersects&geometry=Polygon&coordinates=${small}&type=WeatherObserved,SoilSensor`), [soil.id]);
    assert.deepEqual(await ids(`?georel=disjoint&geometry=Polygon&coordinates=${small}&type=WeatherObserved,SoilSensor`), [weather.id]);
  });

  test('without a temporal query only latest-information registrations match; timerel tests the intervals', async () => {
    assert.deepEqual(await ids('?type=WeatherObserved'), [weather.id]);
    assert.deepEqual(await ids('?type=WeatherObserved&timerel=before&timeAt=2020-06-01T00:00:00Z'), [history.id]);
    assert.deepEqual(await ids('?type=WeatherObserved&timerel=after&timeAt=2021-06-01T00:00:00Z'), []);
    assert.deepEqual(await ids('?type=WeatherObserved&timerel=between&timeAt=2019-01-01T00:00:00Z&endTimeAt=2020-01-02T00:00:00Z'), [history.id]);
    assert.deepEqual(await ids('?type=WeatherObserved&timerel=after&timeAt=2023-01-01T00:00:00Z&timeproperty=modifiedAt'), [mgmt.id]);
    assert.deepEqual(await ids('?type=WeatherObserved&timerel=before&timeAt=2021-06-01T00:00:00Z&timeproperty=createdAt'), []);
  });

  test('syntax errors answer 400; unknown parameters 400 InvalidRequest', async () => {
    for (const q of ['?id=notauri', '?q=(a==1', '?csf=(a==1', '?georel=near;maxDistance==10', '?timerel=after', '?timerel=later&timeAt=2020-01-01T00:00:00Z', '?type=(A', '?attrs=bad%20name', '?scopeQ=Sheki', '?idPattern=(', '?options=keyValues']) {
      const res = await kend.get(`csourceRegistrations${q}`, T);
      assert.equal(res.status, 400, `${q}: ${res.body}`);
    }
    const unknown = await kend.get('csourceRegistrations?local=true', T);
    assert.equal(unknown.status, 400);
    assert.equal(typeOf(unknown), `${ERR}InvalidRequest`);
  });

  test('ld+json answers carry the @context in every registration', async () => {
    const res = await kend.get('csourceRegistrations?type=Valve', { ...T, accept: 'application/ld+json' });
    assert.equal(res.headers['content-type'], 'application/ld+json');
    assert.ok(res.json<Body[]>().every((r) => r['@context'] !== undefined));
  });
});

describe('Update Context Source Registration (PATCH)', () => {
  test('top-level members are replaced, null removes optional ones; 204', async () => {
    const r = reg({ expiresAt: '2099-01-01T00:00:00Z', village: 'one', management: { timeout: 1000, localOnly: true } });
    await kend.post('csourceRegistrations', r);
    const res = await kend.patch(`csourceRegistrations/${String(r.id)}`, {
      expiresAt: null,
      village: 'uno',
      management: { cooldown: 5000 },
      information: [{ entities: [{ type: 'SoilSensor' }] }],
      description: 'patched',
    });
    assert.equal(res.status, 204, res.body);
    const got = (await kend.get(`csourceRegistrations/${String(r.id)}?options=sysAttrs`)).json<Body>();
    assert.equal(got.expiresAt, undefined);
    assert.equal(got.village, 'uno');
    assert.deepEqual(got.management, { cooldown: 5000 });
    assert.deepEqual(got.information, [{ entities: [{ type: 'SoilSensor' }] }]);
    assert.equal(got.description, 'patched');
    assert.equal(got.endpoint, r.endpoint);
    assert.notEqual(got.modifiedAt, undefined);
  });

  test('invalid fragments answer 400 and change nothing', async () => {
    const r = reg({ description: 'original' });
    await kend.post('csourceRegistrations', r);
    const url = `csourceRegistrations/${String(r.id)}`;
    const fragments: Body[] = [
      { information: null },
      { endpoint: null },
      { information: [] },
      { endpoint: 'http://169.254.169.254/', description: 'changed' },
      { id: `${REG}other` },
      { type: 'Subscription' },
      { expiresAt: '2000-01-01T00:00:00Z' },
      { mode: 'exclusive', description: 'changed' },
      { management: { timeout: -1 } },
      {},
    ];
    for (const f of fragments) {
      const res = await kend.patch(url, f);
      assert.equal(res.status, 400, `${JSON.stringify(f)}: ${res.body}`);
      assert.equal(typeOf(res), `${ERR}BadRequestData`);
    }
    assert.deepEqual((await kend.get(url)).json(), { ...r, mode: 'inclusive', operations: ['federationOps'] });
  });

  test('an unknown registration answers 404', async () => {
    const res = await kend.patch(`csourceRegistrations/${REG}missing`, { description: 'x' });
    assert.equal(res.status, 404);
    assert.equal(typeOf(res), `${ERR}ResourceNotFound`);
  });
});

describe('@context: names expand on write and compact on read', () => {
  test('a registration written with a user context shows full names without it and short names with it', async () => {
    const add = await kend.post('jsonldContexts', {
      '@context': { Station: 'https://weather.example/ns#Station', temp: 'https://weather.example/ns#temperature', region: 'https://weather.example/ns#region' },
    });
    assert.equal(add.status, 201, add.body);
    const url = (await kend.get('jsonldContexts?kind=Hosted')).json<string[]>().find((u) => u.endsWith(String(add.headers.location).split('/').pop()!))!;
    const r = reg({ information: [{ entities: [{ type: 'Station' }], propertyNames: ['temp'] }], region: 'north' });
    assert.equal((await kend.post('csourceRegistrations', r, link(url))).status, 201);
    const plain = (await kend.get(`csourceRegistrations/${String(r.id)}`)).json<Body>();
    assert.deepEqual(plain.information, [{ entities: [{ type: 'https://weather.example/ns#Station' }], propertyNames: ['https://weather.example/ns#temperature'] }]);
    assert.equal(plain['https://weather.example/ns#region'], 'north');
    const short = (await kend.get(`csourceRegistrations/${String(r.id)}`, link(url))).json<Body>();
    assert.deepEqual(short.information, r.information);
    assert.equal(short.region, 'north');
    // Queries expand with the request's context too; a PATCH written with full names replaces the short-named property.
    assert.ok((await kend.get('csourceRegistrations?type=Station&attrs=temp', link(url))).json<Body[]>().some((x) => x.id === r.id));
    assert.ok((await kend.get('csourceRegistrations?type=https://weather.example/ns%23Station')).json<Body[]>().some((x) => x.id === r.id));
    assert.equal((await kend.patch(`csourceRegistrations/${String(r.id)}`, { 'https://weather.example/ns#region': 'south' })).status, 204);
    const after = (await kend.get(`csourceRegistrations/${String(r.id)}`, link(url))).json<Body>();
    assert.equal(after.region, 'south');
    assert.equal(after['https://weather.example/ns#region'], undefined);
  });

  test('an application/ld+json registration takes its @context from the body', async () => {
    const r: Body = { ...reg({ information: [{ entities: [{ type: 'Lamp' }] }] }), '@context': [{ Lamp: 'https://light.example/Lamp' }] };
    const res = await kend.request('POST', 'csourceRegistrations', { body: r, headers: { 'content-type': 'application/ld+json' } });
    assert.equal(res.status, 201, res.body);
    const got = (await kend.get(`csourceRegistrations/${String(r.id)}`)).json<Body>();
    assert.deepEqual(got.information, [{ entities: [{ type: 'https://light.example/Lamp' }] }]);
  });
});

describe('Mode conflicts (409 Conflict)', () => {
  const T = { 'ngsild-tenant': 'csr-modes' };
  const exclusive = (id: string, entity: string, attrs: string[]) =>
    reg({ id, mode: 'exclusive', information: [{ entities: [{ type: 'Valve', id: entity }], propertyNames: attrs }] });

  test('an exclusive registration conflicts with an overlapping exclusive or redirect one, not with a disjoint one', async () => {
    assert.equal((await kend.post('csourceRegistrations', exclusive(`${REG}x1`, 'urn:ngsi-ld:Valve:1', ['flow', 'open']), T)).status, 201);
    const clash = await kend.post('csourceRegistrations', exclusive(`${REG}x2`, 'urn:ngsi-ld:Valve:1', ['open']), T);
    assert.equal(clash.status, 409);
    assert.equal(typeOf(clash), `${ERR}Conflict`);
    assert.equal((await kend.post('csourceRegistrations', exclusive(`${REG}x3`, 'urn:ngsi-ld:Valve:1', ['pressure']), T)).status, 201);
    assert.equal((await kend.post('csourceRegistrations', exclusive(`${REG}x4`, 'urn:ngsi-ld:Valve:2', ['open']), T)).status, 201);
    const redirect = reg({ id: `${REG}x5`, mode: 'redirect', information: [{ entities: [{ type: 'Valve', idPattern: 'Valve:1$' }] }] });
    assert.equal((await kend.post('csourceRegistrations', redirect, T)).status, 409);
    const inclusive = reg({ id: `${REG}x6`, information: [{ entities: [{ type: 'Valve' }] }] });
    assert.equal((await kend.post('csourceRegistrations', inclusive, T)).status, 201);
    // A PATCH that would create the overlap is refused too, and changes nothing.
    assert.equal((await kend.patch(`csourceRegistrations/${REG}x4`, { information: exclusive('', 'urn:ngsi-ld:Valve:1', ['flow']).information }, T)).status, 409);
    assert.equal((await kend.get(`csourceRegistrations/${REG}x4`, T)).json<{ information: [{ entities: [{ id: string }] }] }>().information[0].entities[0].id, 'urn:ngsi-ld:Valve:2');
  });

  test('overlapping redirect registrations are allowed', async () => {
    const r = (id: string) => reg({ id, mode: 'redirect', information: [{ entities: [{ type: 'Lamp' }] }], operations: ['redirectionOps'] });
    assert.equal((await kend.post('csourceRegistrations', r(`${REG}d1`), T)).status, 201);
    assert.equal((await kend.post('csourceRegistrations', r(`${REG}d2`), T)).status, 201);
  });

  test('exclusive and redirect registrations conflict with matching locally stored data', async () => {
    const L = { 'ngsild-tenant': 'csr-local' };
    const entity = { id: 'urn:ngsi-ld:Pump:1', type: 'Pump', flow: { type: 'Property', value: 3 } };
    assert.equal((await kend.post('entities', entity, L)).status, 201);
    const mine = (attrs: string[]) => reg({ mode: 'exclusive', information: [{ entities: [{ type: 'Pump', id: entity.id }], propertyNames: attrs }] });
    const local = await kend.post('csourceRegistrations', mine(['flow']), L);
    assert.equal(local.status, 409);
    assert.equal(typeOf(local), `${ERR}Conflict`);
    assert.equal((await kend.post('csourceRegistrations', mine(['speed']), L)).status, 201);
    assert.equal((await kend.post('csourceRegistrations', reg({ mode: 'redirect', information: [{ entities: [{ type: 'Pump' }] }] }), L)).status, 409);
    assert.equal((await kend.post('csourceRegistrations', reg({ mode: 'redirect', information: [{ entities: [{ type: 'Pump' }], propertyNames: ['level'] }] }), L)).status, 201);
  });
});

describe('Tenancy', () => {
  test('registrations are per tenant; creating one creates the tenant; other operations answer NonexistentTenant', async () => {
    const r = reg();
    const none = { 'ngsild-tenant': 'csr-nobody' };
    for (const res of [await kend.get('csourceRegistrations', none), await kend.get(`csourceRegistrations/${String(r.id)}`, none), await kend.patch(`csourceRegistrations/${String(r.id)}`, { description: 'x' }, none), await kend.del(`csourceRegistrations/${String(r.id)}`, none)]) {
      assert.equal(res.status, 404);
      assert.equal(typeOf(res), `${ERR}NonexistentTenant`);
    }
    const A = { 'ngsild-tenant': 'csr-a' };
    const created = await kend.post('csourceRegistrations', r, A);
    assert.equal(created.status, 201);
    assert.equal(created.headers['ngsild-tenant'], 'csr-a');
    assert.equal((await kend.get(`csourceRegistrations/${String(r.id)}`, A)).status, 200);
    assert.equal((await kend.get(`csourceRegistrations/${String(r.id)}`)).status, 404);
    assert.ok(!(await kend.get('csourceRegistrations')).json<Body[]>().some((x) => x.id === r.id));
    // The same id may exist in another tenant.
    assert.equal((await kend.post('csourceRegistrations', r, { 'ngsild-tenant': 'csr-b' })).status, 201);
    assert.equal((await kend.del(`csourceRegistrations/${String(r.id)}`, A)).status, 204);
    assert.equal((await kend.get(`csourceRegistrations/${String(r.id)}`, { 'ngsild-tenant': 'csr-b' })).status, 200);
  });
});

describe('Expiry', () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const clock: Clock = { nowIso: () => new Date(now).toISOString(), nowMs: () => now };
  const timed = startKend({}, { clock });

  test('a registration whose expiresAt has passed answers 404, is no longer listed, and its id can be registered again', async () => {
    const r = reg({ expiresAt: '2030-01-01T00:01:00Z' });
    assert.equal((await timed.post('csourceRegistrations', r)).status, 201);
    assert.equal((await timed.get(`csourceRegistrations/${String(r.id)}`)).status, 200);
    now += 61_000;
    assert.deepEqual((await timed.get('csourceRegistrations')).json(), []);
    assert.equal((await timed.get(`csourceRegistrations/${String(r.id)}`)).status, 404);
    assert.equal((await timed.patch(`csourceRegistrations/${String(r.id)}`, { expiresAt: null })).status, 404);
    assert.equal((await timed.post('csourceRegistrations', { ...r, expiresAt: '2030-01-02T00:00:00Z' })).status, 201);
    assert.equal((await timed.get(`csourceRegistrations/${String(r.id)}`)).json<Body>().expiresAt, '2030-01-02T00:00:00Z');
  });

  test('PATCH expiresAt: null makes a registration never expire', async () => {
    const r = reg({ expiresAt: new Date(now + 60_000).toISOString() });
    await timed.post('csourceRegistrations', r);
    assert.equal((await timed.patch(`csourceRegistrations/${String(r.id)}`, { expiresAt: null })).status, 204);
    now += 120_000;
    assert.equal((await timed.get(`csourceRegistrations/${String(r.id)}`)).status, 200);
  });
});
