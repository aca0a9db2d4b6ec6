// API tests: distributed Retrieve Entity and Query Entities (GS CIM 009 §4.3.6, §5.12, §6.3.17, §6.3.18;
// guide §16.3; issue 7 item 3) against in-process test-double context sources on 127.0.0.1: merging with
// local data per mode, local=true, Via loop prevention, forwarded headers, and sources that fail, stall or
// answer garbage — which make the answer partial with NGSILD-Warning, never a 500.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startKend } from '../support/harness.ts';
import { startFakeSource, type FakeSource, type SourceAnswer, type SourceRequest } from '../support/fake-source.ts';

const BROKER = 'kend-regional-test';
const kend = startKend({ KEND_FORWARD_TIMEOUT_MS: '400', KEND_BROKER_ID: BROKER });
const NS = 'https://uri.etsi.org/ngsi-ld/default-context/';

let n = 0;
const sources: FakeSource[] = [];
async function source(handler: (req: SourceRequest) => SourceAnswer): Promise<FakeSource> {
  const s = await startFakeSource(handler);
  sources.push(s);
  return s;
}
after(async () => {
  for (const s of sources) await s.close();
});

/**
 * Registers `url` for entities of `type` whose ids start with `urn:ngsi-ld:<type>:` (so a retrieve by id alone
 * matches only its own sources), optionally only for some attributes; returns the registration id.
 */
async function register(url: string, type: string, extra: Record<string, unknown> = {}, propertyNames?: string[]): Promise<string> {
  const id = `urn:ngsi-ld:ContextSourceRegistration:fed${++n}`;
  const info: Record<string, unknown> = { entities: [{ type, idPattern: `^urn:ngsi-ld:${type}:` }] };
  if (propertyNames !== undefined) info.propertyNames = propertyNames;
  const res = await kend.post('csourceRegistrations', { id, type: 'ContextSourceRegistration', information: [info], endpoint: url, ...extra });
  assert.equal(res.status, 201, res.body);
  return id;
}

const prop = (value: unknown, extra: Record<string, unknown> = {}) => ({ type: 'Property', value, ...extra });

describe('Retrieve Entity with registered sources', () => {
  test('with no matching registration nothing is forwarded and a missing entity is a plain 404', async () => {
    const s = await source(() => ({ status: 500 }));
    await register(s.url, 'Unrelated');
    const res = await kend.get('entities/urn:ngsi-ld:Room:none');
    assert.equal(res.status, 404);
    assert.equal(res.headers['ngsild-warning'], undefined);
    assert.equal(s.requests.length, 0);
  });

  test('an inclusive source adds its attributes to the local entity; the request is narrowed and carries Via', async () => {
    const id = 'urn:ngsi-ld:RoomA:1';
    const s = await source(() => ({ json: { id, type: 'RoomA', temperature: prop(21.5) } }));
    const reg = await register(s.url, 'RoomA', {}, ['temperature']);
    assert.equal((await kend.post('entities', { id, type: 'RoomA', name: prop('kitchen') })).status, 201);
    const res = await kend.get(`entities/${id}`);
    assert.equal(res.status, 200, res.body);
    const body = res.json<Record<string, { value: unknown }>>();
    assert.equal(body.name?.value, 'kitchen');
    assert.equal(body.temperature?.value, 21.5);
    assert.equal(res.headers['ngsild-warning'], undefined);
    assert.equal(s.requests.length, 1);
    const sent = s.requests[0]!;
    assert.equal(sent.method, 'GET');
    assert.equal(sent.path, `/ngsi-ld/v1/entities/${id}`);
    assert.equal(sent.query.get('attrs'), 'temperature');
    assert.equal(sent.headers.via, `1.1 ${BROKER}`);
    assert.equal(sent.headers['ngsild-tenant'], undefined, 'no tenant header when the registration names none');
    const status = await eventually(async () => {
      const r = (await kend.get(`csourceRegistrations/${reg}`)).json<{ timesSent?: number; status?: string }>();
      return r.timesSent === 1 ? r : undefined;
    });
    assert.equal(status.status, 'ok');
  });

  test('an entity held only by a source is returned; local=true suppresses forwarding (then 404)', async () => {
    const id = 'urn:ngsi-ld:RoomB:1';
    const s = await source(() => ({ json: { id, type: 'RoomB', temperature: prop(3) } }));
    await register(s.url, 'RoomB');
    const res = await kend.get(`entities/${id}`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json<{ temperature: { value: number } }>().temperature.value, 3);
    assert.equal((await kend.get(`entities/${id}?local=true`)).status, 404);
    assert.equal(s.requests.length, 1);
  });

  test('a request that already passed through this broker (Via) is not forwarded again', async () => {
    const id = 'urn:ngsi-ld:RoomC:1';
    const s = await source(() => ({ json: { id, type: 'RoomC' } }));
    await register(s.url, 'RoomC');
    const res = await kend.get(`entities/${id}`, { via: `1.1 other-broker, 1.1 ${BROKER}` });
    assert.equal(res.status, 404);
    assert.equal(s.requests.length, 0);
  });

  test('the registration tenant, contextSourceInfo headers (urn:ngsi-ld:request copies) and localOnly travel with the request', async () => {
    const id = 'urn:ngsi-ld:RoomD:1';
    const s = await source(() => ({ json: { id, type: 'RoomD' } }));
    await register(s.url, 'RoomD', {
      tenant: 'village9',
      contextSourceInfo: [{ key: 'X-Village', value: 'nine' }, { key: 'Authorization', value: 'urn:ngsi-ld:request' }],
      management: { localOnly: true },
    });
    assert.equal((await kend.get(`entities/${id}`, { authorization: 'Bearer abc', via: '1.1 city-broker' })).status, 200);
    const sent = s.requests[0]!;
    assert.equal(sent.headers['ngsild-tenant'], 'village9');
    assert.equal(sent.headers['x-village'], 'nine');
    assert.equal(sent.headers.authorization, 'Bearer abc');
    assert.equal(sent.headers.via, `1.1 city-broker, 1.1 ${BROKER}`);
    assert.equal(sent.query.get('local'), 'true');
  });

  test('the most recent observedAt wins when local data and a source hold the same attribute', async () => {
    const id = 'urn:ngsi-ld:RoomE:1';
    const s = await source(() => ({
      json: { id, type: 'RoomE', temperature: prop(30, { observedAt: '2026-01-01T12:00:00Z' }), humidity: prop(40, { observedAt: '2026-01-01T08:00:00Z' }) },
    }));
    await register(s.url, 'RoomE');
    await kend.post('entities', { id, type: 'RoomE', temperature: prop(10, { observedAt: '2026-01-01T10:00:00Z' }), humidity: prop(50, { observedAt: '2026-01-01T10:00:00Z' }) });
    const body = (await kend.get(`entities/${id}`)).json<Record<string, { value: number }>>();
    assert.equal(body.temperature?.value, 30);
    assert.equal(body.humidity?.value, 50);
  });

  test('an auxiliary source only fills attributes missing elsewhere', async () => {
    const id = 'urn:ngsi-ld:RoomF:1';
    const s = await source(() => ({ json: { id, type: 'RoomF', temperature: prop(99, { observedAt: '2030-01-01T00:00:00Z' }), colour: prop('blue') } }));
    await register(s.url, 'RoomF', { mode: 'auxiliary', operations: ['retrieveOps'] });
    await kend.post('entities', { id, type: 'RoomF', temperature: prop(1) });
    const body = (await kend.get(`entities/${id}`)).json<Record<string, { value: unknown }>>();
    assert.equal(body.temperature?.value, 1);
    assert.equal(body.colour?.value, 'blue');
  });

  test('a registration that does not offer retrieveEntity is not used', async () => {
    const id = 'urn:ngsi-ld:RoomG:1';
    const s = await source(() => ({ json: { id, type: 'RoomG' } }));
    await register(s.url, 'RoomG', { operations: ['updateOps'] });
    assert.equal((await kend.get(`entities/${id}`)).status, 404);
    assert.equal(s.requests.length, 0);
  });
});

describe('Sources that fail or answer badly make the answer partial, never a 500', () => {
  const id = 'urn:ngsi-ld:Shed:1';
  before(async () => {
    assert.equal((await kend.post('entities', { id, type: 'Shed', name: prop('north shed') })).status, 201);
  });

  const cases: { name: string; answer: SourceAnswer; code: string }[] = [
    { name: 'a slow source (beyond the timeout)', answer: { delayMs: 5000, json: { id, type: 'Shed' } }, code: '299' },
    { name: 'a source answering 500', answer: { status: 500, json: { type: 'x' } }, code: '299' },
    { name: 'malformed JSON', answer: { raw: '{"id": "urn:ngsi-ld:Shed:1", "type": ' }, code: '111' },
    { name: 'a JSON array instead of an entity', answer: { json: [1, 2, 3] }, code: '111' },
    { name: 'an attribute of the wrong shape', answer: { json: { id, type: 'Shed', colour: { type: 'Property' } } }, code: '111' },
    { name: 'an entity with a number as its id', answer: { json: { id: 7, type: 'Shed' } }, code: '111' },
    { name: 'another entity than the one asked for', answer: { json: { id: 'urn:ngsi-ld:Shed:2', type: 'Shed', colour: prop('red') } }, code: '111' },
  ];
  for (const c of cases) {
    test(`${c.name}: local data with NGSILD-Warning ${c.code}`, async () => {
      const s = await source(() => c.answer);
      const reg = await register(s.url, 'Shed');
      const started = Date.now();
      const res = await kend.get(`entities/${id}`);
      assert.ok(Date.now() - started < 3000, 'answered within the source timeout, not after the source');
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json<{ name: { value: string } }>().name.value, 'north shed');
      assert.equal(res.json<{ colour?: unknown }>().colour, undefined, 'nothing of an unusable payload is merged');
      const warning = String(res.headers['ngsild-warning']);
      assert.match(warning, new RegExp(`^${c.code} - "Context source ${reg} `));
      await kend.del(`csourceRegistrations/${reg}`);
    });
  }

  test('a source that is down: local data with warning 299, and the registration shows status failed', async () => {
    const s = await source(() => ({ json: {} }));
    const url = s.url;
    await s.close();
    sources.splice(sources.indexOf(s), 1);
    const reg = await register(url, 'Shed');
    const res = await kend.get(`entities/${id}`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['ngsild-warning']), /^299 - /);
    const r = await eventually(async () => {
      const got = (await kend.get(`csourceRegistrations/${reg}`)).json<{ status?: string; timesFailed?: number }>();
      return got.status === 'failed' ? got : undefined;
    });
    assert.equal(r.timesFailed, 1);
    await kend.del(`csourceRegistrations/${reg}`);
  });

  test('an entity only a failing source could hold: 404 with the warning', async () => {
    const s = await source(() => ({ status: 503 }));
    const reg = await register(s.url, 'Barn');
    const res = await kend.get('entities/urn:ngsi-ld:Barn:1');
    assert.equal(res.status, 404);
    assert.match(String(res.headers['ngsild-warning']), /^299 - /);
    await kend.del(`csourceRegistrations/${reg}`);
  });
});

describe('Query Entities with registered sources', () => {
  test('GET /entities merges local and remote entities by id; the source gets the query without paging or shaping parameters', async () => {
    const s = await source((req) =>
      req.path === '/ngsi-ld/v1/entities'
        ? { json: [{ id: 'urn:ngsi-ld:Hive:1', type: 'Hive', weight: prop(40) }, { id: 'urn:ngsi-ld:Hive:9', type: 'Hive', weight: prop(12) }], headers: { 'ngsild-results-count': '2' } }
        : { status: 404 },
    );
    await register(s.url, 'Hive');
    await kend.post('entities', { id: 'urn:ngsi-ld:Hive:1', type: 'Hive', owner: prop('ali') });
    await kend.post('entities', { id: 'urn:ngsi-ld:Hive:2', type: 'Hive', owner: prop('leyla') });
    const res = await kend.get('entities?type=Hive&q=weight>1|owner!="x"&count=true&options=keyValues');
    assert.equal(res.status, 200, res.body);
    const list = res.json<{ id: string; owner?: string; weight?: number }[]>();
    assert.deepEqual(list.map((e) => e.id).sort(), ['urn:ngsi-ld:Hive:1', 'urn:ngsi-ld:Hive:2', 'urn:ngsi-ld:Hive:9']);
    const one = list.find((e) => e.id === 'urn:ngsi-ld:Hive:1')!;
    assert.equal(one.owner, 'ali');
    assert.equal(one.weight, 40);
    assert.equal(res.headers['ngsild-results-count'], '3');
    const sent = s.requests[0]!;
    assert.equal(sent.query.get('type'), 'Hive');
    assert.equal(sent.query.get('q'), 'weight>1|owner!="x"');
    assert.equal(sent.query.get('options'), null);
    assert.equal(sent.query.get('count'), 'true');
    assert.ok(Number(sent.query.get('limit')) >= 20);
    // Paging over the merged list.
    const p1 = (await kend.get('entities?type=Hive&limit=2')).json<{ id: string }[]>();
    const p2 = (await kend.get('entities?type=Hive&limit=2&offset=2')).json<{ id: string }[]>();
    assert.equal(p1.length, 2);
    assert.deepEqual([...p1, ...p2].map((e) => e.id).sort(), ['urn:ngsi-ld:Hive:1', 'urn:ngsi-ld:Hive:2', 'urn:ngsi-ld:Hive:9']);
  });

  test('POST /entityOperations/query is forwarded as a query body; local=true keeps it local', async () => {
    const s = await source(() => ({ json: [{ id: 'urn:ngsi-ld:Pond:7', type: 'Pond', depth: prop(2) }] }));
    await register(s.url, 'Pond');
    const res = await kend.post('entityOperations/query', { type: 'Query', entities: [{ type: 'Pond' }] });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json<{ id: string }[]>().map((e) => e.id), ['urn:ngsi-ld:Pond:7']);
    assert.equal(s.requests[0]!.method, 'POST');
    assert.equal(s.requests[0]!.path, '/ngsi-ld/v1/entityOperations/query');
    assert.deepEqual(JSON.parse(s.requests[0]!.body), { type: 'Query', entities: [{ type: 'Pond' }] });
    const local = await kend.post('entityOperations/query?local=true', { type: 'Query', entities: [{ type: 'Pond' }] });
    assert.deepEqual(local.json(), []);
    assert.equal(s.requests.length, 1);
  });

  test('orderBy with a distributed query answers 400; with local=true it sorts local data', async () => {
    const s = await source(() => ({ json: [] }));
    await register(s.url, 'Tree');
    const res = await kend.get('entities?type=Tree&orderBy=id');
    assert.equal(res.status, 400, res.body);
    assert.equal(s.requests.length, 0);
    assert.equal((await kend.get('entities?type=Tree&orderBy=id&local=true')).status, 200);
  });

  test('a source answering garbage to a query: local results with warning 111', async () => {
    const s = await source(() => ({ json: { not: 'an array' } }));
    await register(s.url, 'Well');
    await kend.post('entities', { id: 'urn:ngsi-ld:Well:1', type: 'Well' });
    const res = await kend.get('entities?type=Well');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json<{ id: string }[]>().map((e) => e.id), ['urn:ngsi-ld:Well:1']);
    assert.match(String(res.headers['ngsild-warning']), /^111 - /);
  });

  test('registered attributes narrow the forwarded attrs; expanded names are compacted with the request context', async () => {
    const s = await source(() => ({ json: [] }));
    await register(s.url, 'Field', {}, ['moisture']);
    await kend.get('entities?type=Field&attrs=moisture,owner');
    assert.equal(s.requests[0]!.query.get('attrs'), 'moisture');
    assert.equal((await kend.get('entities?type=Field&attrs=owner')).status, 200);
    assert.equal(s.requests.length, 1, 'a source that covers none of the requested attributes is not asked');
    void NS;
  });
});

describe('Writes with registered sources', () => {
  test('a source registered with the default federationOps (reads only) receives no writes', async () => {
    const id = 'urn:ngsi-ld:Lamp:1';
    const s = await source(() => ({ status: 204 }));
    await register(s.url, 'Lamp');
    await kend.post('entities', { id, type: 'Lamp', on: prop(false) });
    assert.equal((await kend.patch(`entities/${id}/attrs`, { on: prop(true) })).status, 204);
    assert.equal(s.requests.filter((r) => r.method !== 'GET').length, 0);
  });

  test('update attributes: an inclusive source receives what it covers, local data is updated too', async () => {
    const id = 'urn:ngsi-ld:Pump:1';
    const s = await source(() => ({ status: 204 }));
    await register(s.url, 'Pump', { operations: ['retrieveOps', 'updateOps'] }, ['speed']);
    await kend.post('entities', { id, type: 'Pump', speed: prop(1), colour: prop('red') });
    const res = await kend.patch(`entities/${id}/attrs`, { speed: prop(5), colour: prop('blue') });
    assert.equal(res.status, 204, res.body);
    assert.equal(s.requests.length, 1);
    assert.equal(s.requests[0]!.method, 'PATCH');
    assert.equal(s.requests[0]!.path, `/ngsi-ld/v1/entities/${id}/attrs`);
    assert.deepEqual(JSON.parse(s.requests[0]!.body), { speed: prop(5) });
    assert.equal(s.requests[0]!.headers.via, `1.1 ${BROKER}`);
    const local = (await kend.get(`entities/${id}?local=true`)).json<Record<string, { value: unknown }>>();
    assert.equal(local.speed?.value, 5);
    assert.equal(local.colour?.value, 'blue');
  });

  test('an entity held only by a source: the write goes there (204); local=true keeps it local (404)', async () => {
    const id = 'urn:ngsi-ld:Gate:1';
    const s = await source(() => ({ status: 204 }));
    await register(s.url, 'Gate', { operations: ['retrieveOps', 'updateOps', 'appendAttrs', 'mergeEntity', 'deleteEntity', 'deleteAttrs'] });
    assert.equal((await kend.post(`entities/${id}/attrs`, { open: prop(true) })).status, 204);
    assert.equal((await kend.patch(`entities/${id}`, { open: prop(false) })).status, 204);
    assert.equal((await kend.request('DELETE', `entities/${id}/attrs/open`)).status, 204);
    assert.equal((await kend.del(`entities/${id}`)).status, 204);
    assert.deepEqual(
      s.requests.map((r) => `${r.method} ${r.path}`),
      ['POST', 'PATCH', 'DELETE', 'DELETE'].map((m, i) => `${m} /ngsi-ld/v1/entities/${id}${['/attrs', '', '/attrs/open', ''][i]}`),
    );
    assert.equal((await kend.patch(`entities/${id}/attrs?local=true`, { open: prop(true) })).status, 404);
    assert.equal(s.requests.length, 4);
  });

  test('a source answering 404 to a write: nothing there, the write is a 404 when nobody had the entity', async () => {
    const s = await source(() => ({ status: 404, json: { type: 'https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound', title: 'x', detail: 'y' } }));
    await register(s.url, 'Tap', { operations: ['updateOps'] });
    assert.equal((await kend.patch('entities/urn:ngsi-ld:Tap:1/attrs', { flow: prop(1) })).status, 404);
    assert.equal(s.requests.length, 1);
  });

  test('a failing source makes the write partial: 207 with the failure carrying registrationId; a validation error forwards nothing', async () => {
    const id = 'urn:ngsi-ld:Fan:1';
    const s = await source(() => ({ status: 500, json: { type: 'x', title: 'Boom', detail: 'disk full' } }));
    const reg = await register(s.url, 'Fan', { operations: ['updateOps'] }, ['rpm']);
    await kend.post('entities', { id, type: 'Fan', rpm: prop(1), label: prop('a') });
    const res = await kend.patch(`entities/${id}/attrs`, { rpm: prop(2), label: prop('b') });
    assert.equal(res.status, 207, res.body);
    const body = res.json<{ updated: string[]; notUpdated: { attributeName: string; reason: string; registrationId: string }[] }>();
    assert.ok(body.updated.includes(`${NS}label`));
    assert.equal(body.notUpdated.length, 1);
    assert.equal(body.notUpdated[0]!.attributeName, `${NS}rpm`);
    assert.equal(body.notUpdated[0]!.registrationId, reg);
    assert.match(body.notUpdated[0]!.reason, /HTTP 500: disk full/);
    const before = s.requests.length;
    assert.equal((await kend.patch(`entities/${id}/attrs`, { rpm: { type: 'Property' } })).status, 400);
    assert.equal(s.requests.length, before);
  });

  test('an exclusive registration: its attributes go only to the source; one without the operation → 409 Conflict, source not contacted', async () => {
    const id = 'urn:ngsi-ld:Meter:x1';
    const s = await source(() => ({ status: 204 }));
    const res0 = await kend.post('csourceRegistrations', {
      type: 'ContextSourceRegistration',
      information: [{ entities: [{ type: 'Meter', id }], propertyNames: ['reading'] }],
      endpoint: s.url,
      mode: 'exclusive',
      operations: ['retrieveOps', 'updateAttrs'],
    });
    assert.equal(res0.status, 201, res0.body);
    await kend.post('entities', { id, type: 'Meter', serial: prop('s1') });
    assert.equal((await kend.patch(`entities/${id}/attrs`, { reading: prop(7), serial: prop('s2') })).status, 204);
    assert.deepEqual(JSON.parse(s.requests[0]!.body), { reading: prop(7) });
    const local = (await kend.get(`entities/${id}?local=true`)).json<Record<string, { value: unknown }>>();
    assert.equal(local.serial?.value, 's2');
    assert.equal(local.reading, undefined, 'the exclusive attribute was not written locally');
    const conflict = await kend.post(`entities/${id}/attrs`, { reading: prop(8) });
    assert.equal(conflict.status, 409, conflict.body);
    assert.equal(conflict.json<{ type: string }>().type, 'https://uri.etsi.org/ngsi-ld/errors/Conflict');
    assert.equal(s.requests.length, 1);
  });

  test('replace entity: forwarded to a source offering replaceEntity, local entity replaced too', async () => {
    const id = 'urn:ngsi-ld:Boat:1';
    const s = await source(() => ({ status: 204 }));
    await register(s.url, 'Boat', { operations: ['retrieveOps', 'replaceEntity'] });
    await kend.post('entities', { id, type: 'Boat', sail: prop('white'), oars: prop(2) });
    const res = await kend.put(`entities/${id}`, { type: 'Boat', sail: prop('red') });
    assert.equal(res.status, 204, res.body);
    assert.equal(s.requests[0]!.method, 'PUT');
    assert.deepEqual(JSON.parse(s.requests[0]!.body), { type: 'Boat', sail: prop('red') });
    const local = (await kend.get(`entities/${id}?local=true`)).json<Record<string, { value: unknown } | undefined>>();
    assert.equal(local.sail?.value, 'red');
    assert.equal(local.oars, undefined);
  });

  test('create: an inclusive source offering createEntity receives the entity; it is created locally too (201)', async () => {
    const id = 'urn:ngsi-ld:Silo:1';
    const s = await source(() => ({ status: 201 }));
    await register(s.url, 'Silo', { operations: ['createEntity', 'retrieveOps'] });
    const res = await kend.post('entities', { id, type: 'Silo', level: prop(3) });
    assert.equal(res.status, 201, res.body);
    assert.equal(res.headers.location, `/ngsi-ld/v1/entities/${id}`);
    assert.equal(s.requests[0]!.method, 'POST');
    assert.deepEqual(JSON.parse(s.requests[0]!.body), { id, type: 'Silo', level: prop(3) });
    assert.equal((await kend.get(`entities/${id}?local=true`)).status, 200);
  });
});

describe('Type and attribute discovery with registered sources', () => {
  test('/types and /attributes add what the sources report; garbage gives warning 111; local=true stays local', async () => {
    const tenant = { 'NGSILD-Tenant': 'discovery' };
    const good = await source((req) =>
      req.path === '/ngsi-ld/v1/types' && req.query.get('details') === 'true'
        ? { json: [{ id: `${NS}Orchard`, type: 'EntityType', typeName: 'Orchard', attributeNames: ['yield'] }] }
        : { status: 400 },
    );
    const bad = await source(() => ({ json: { typeList: 'nope' } }));
    const reg = (url: string) => ({ type: 'ContextSourceRegistration', information: [{ entities: [{ type: 'Orchard' }] }], endpoint: url });
    assert.equal((await kend.post('csourceRegistrations', reg(good.url), tenant)).status, 201);
    const created = await kend.post('csourceRegistrations', reg(bad.url), tenant);
    assert.equal(created.status, 201);
    const badId = String(created.headers.location).split('/').pop()!;
    await kend.post('entities', { id: 'urn:ngsi-ld:Vineyard:1', type: 'Vineyard', grapes: prop('red') }, tenant);
    const types = await kend.get('types', tenant);
    assert.equal(types.status, 200, types.body);
    const list = types.json<{ typeList: string[] }>().typeList;
    assert.ok(list.includes('Orchard') && list.includes('Vineyard'), list.join());
    assert.match(String(types.headers['ngsild-warning']), new RegExp(`^111 - "Context source ${badId} `));
    const details = (await kend.get('types?details=true', tenant)).json<{ typeName: string; attributeNames: string[] }[]>();
    assert.deepEqual(details.find((t) => t.typeName === 'Orchard')?.attributeNames, ['yield']);
    const attrs = (await kend.get('attributes', tenant)).json<{ attributeList: string[] }>().attributeList;
    assert.ok(attrs.includes('yield') && attrs.includes('grapes'), attrs.join());
    assert.ok(!(await kend.get('types?local=true', tenant)).json<{ typeList: string[] }>().typeList.includes('Orchard'));
  });
});

describe('Temporal queries with registered sources', () => {
  const at = (h: number) => `2026-03-01T${String(h).padStart(2, '0')}:00:00Z`;
  const inst = (value: number, h: number, id?: string) => ({ type: 'Property', value, observedAt: at(h), ...(id !== undefined ? { instanceId: id } : {}) });
  const window = 'timerel=after&timeAt=2026-03-01T00:00:00Z';

  test('retrieve: local history and a source offering retrieveTemporal merge per attribute, ordered; the source is asked for normalized instances with sysAttrs', async () => {
    const id = 'urn:ngsi-ld:Tank:1';
    const s = await source(() => ({ json: { id, type: 'Tank', level: [inst(5, 3, 'urn:ngsi-ld:i:r3'), inst(6, 1, 'urn:ngsi-ld:i:r1')], pressure: [inst(2, 2, 'urn:ngsi-ld:i:p2')] } }));
    await register(s.url, 'Tank', { operations: ['retrieveTemporal', 'queryTemporal'] });
    assert.equal((await kend.post('temporal/entities', { id, type: 'Tank', level: [inst(1, 2), inst(2, 4)] })).status, 201);
    const res = await kend.get(`temporal/entities/${id}?${window}&format=temporalValues`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['ngsild-warning'], undefined);
    const body = res.json<{ level: { values: [number, string][] }; pressure: { values: [number, string][] } }>();
    assert.deepEqual(body.level.values, [[6, at(1)], [1, at(2)], [5, at(3)], [2, at(4)]]);
    assert.deepEqual(body.pressure.values, [[2, at(2)]]);
    const sent = s.requests[0]!;
    assert.equal(sent.path, `/ngsi-ld/v1/temporal/entities/${id}`);
    assert.equal(sent.query.get('timerel'), 'after');
    assert.equal(sent.query.get('options'), 'sysAttrs');
    assert.equal(sent.query.get('format'), null);
    assert.equal(sent.headers.via, `1.1 ${BROKER}`);
    // lastN applies to the combined instances: the newest two of all parties.
    const last = (await kend.get(`temporal/entities/${id}?${window}&lastN=2&attrs=level&format=temporalValues`)).json<{ level: { values: [number, string][] } }>();
    assert.deepEqual(last.level.values, [[5, at(3)], [2, at(4)]]);
    // local=true: local history only.
    const local = (await kend.get(`temporal/entities/${id}?${window}&local=true&format=temporalValues`)).json<{ level: { values: unknown[] }; pressure?: unknown }>();
    assert.equal(local.level.values.length, 2);
    assert.equal(local.pressure, undefined);
  });

  test('retrieve: an entity only a source holds is returned; nobody holds it → 404; a source without retrieveTemporal is not asked', async () => {
    const id = 'urn:ngsi-ld:Cistern:1';
    const s = await source((req) => (req.path.endsWith(id) ? { json: { id, type: 'Cistern', level: [inst(7, 5)] } } : { status: 404 }));
    await register(s.url, 'Cistern', { operations: ['retrieveTemporal'] });
    const res = await kend.get(`temporal/entities/${id}`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json<{ level: { value: number }[] }>().level[0]!.value, 7);
    assert.equal((await kend.get('temporal/entities/urn:ngsi-ld:Cistern:2')).status, 404);
    const other = await source(() => ({ json: { id: 'urn:ngsi-ld:Trough:1', type: 'Trough' } }));
    await register(other.url, 'Trough', { operations: ['retrieveOps'] });
    assert.equal((await kend.get('temporal/entities/urn:ngsi-ld:Trough:1')).status, 404);
    assert.equal(other.requests.length, 0);
  });

  test('query: GET /temporal/entities merges entities of local history and sources, paging and count over the merged list', async () => {
    const s = await source((req) =>
      req.path === '/ngsi-ld/v1/temporal/entities'
        ? { json: [{ id: 'urn:ngsi-ld:Well2:9', type: 'Well2', depth: [inst(9, 1)] }, { id: 'urn:ngsi-ld:Well2:1', type: 'Well2', depth: [inst(3, 6)] }], headers: { 'ngsild-results-count': '2' } }
        : { status: 404 },
    );
    await register(s.url, 'Well2', { operations: ['queryTemporal'] });
    await kend.post('temporal/entities', { id: 'urn:ngsi-ld:Well2:1', type: 'Well2', depth: [inst(1, 2)] });
    const res = await kend.get(`temporal/entities?type=Well2&${window}&count=true&format=temporalValues`);
    assert.equal(res.status, 200, res.body);
    const list = res.json<{ id: string; depth: { values: [number, string][] } }[]>();
    assert.deepEqual(list.map((e) => e.id), ['urn:ngsi-ld:Well2:1', 'urn:ngsi-ld:Well2:9']);
    assert.deepEqual(list[0]!.depth.values, [[1, at(2)], [3, at(6)]]);
    assert.equal(res.headers['ngsild-results-count'], '2');
    const sent = s.requests[0]!;
    assert.equal(sent.query.get('type'), 'Well2');
    assert.equal(sent.query.get('timeAt'), '2026-03-01T00:00:00Z');
    assert.equal(sent.query.get('count'), 'true');
    assert.equal(sent.query.get('format'), null);
    const p2 = await kend.get(`temporal/entities?type=Well2&${window}&limit=1&offset=1`);
    assert.deepEqual(p2.json<{ id: string }[]>().map((e) => e.id), ['urn:ngsi-ld:Well2:9']);
  });

  test('query: POST /temporal/entityOperations/query is forwarded as a body', async () => {
    const s = await source(() => ({ json: [{ id: 'urn:ngsi-ld:Dam:1', type: 'Dam', flow: [inst(4, 4)] }] }));
    await register(s.url, 'Dam', { operations: ['queryTemporal'] });
    const query = { type: 'Query', entities: [{ type: 'Dam' }], temporalQ: { timerel: 'after', timeAt: '2026-03-01T00:00:00Z' } };
    const res = await kend.post('temporal/entityOperations/query', query);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json<{ id: string }[]>().map((e) => e.id), ['urn:ngsi-ld:Dam:1']);
    assert.equal(s.requests[0]!.method, 'POST');
    assert.equal(s.requests[0]!.path, '/ngsi-ld/v1/temporal/entityOperations/query');
    assert.deepEqual(JSON.parse(s.requests[0]!.body), query);
  });

  test('a source that cut its instances (206 + Content-Range) makes the merged answer end where it stopped', async () => {
    const id = 'urn:ngsi-ld:Gauge:1';
    const s = await source(() => ({
      status: 206,
      headers: { 'content-range': `date-time 2026-03-01T00:00:00Z-${at(3)}/*` },
      json: { id, type: 'Gauge', rain: [inst(1, 1), inst(3, 3)] },
    }));
    await register(s.url, 'Gauge', { operations: ['retrieveTemporal'] });
    await kend.post('temporal/entities', { id, type: 'Gauge', rain: [inst(2, 2), inst(5, 5)] });
    const res = await kend.get(`temporal/entities/${id}?${window}&format=temporalValues`);
    assert.equal(res.status, 206, res.body);
    assert.equal(res.headers['content-range'], `date-time 2026-03-01T00:00:00Z-${at(3)}/*`);
    assert.deepEqual(res.json<{ rain: { values: [number, string][] } }>().rain.values.map((v) => v[0]), [1, 2, 3]);
  });

  const bad: { name: string; answer: SourceAnswer; code: string }[] = [
    { name: 'a slow source', answer: { delayMs: 5000, json: [] }, code: '299' },
    { name: 'a source answering 500', answer: { status: 500, json: { type: 'x' } }, code: '299' },
    { name: 'malformed JSON', answer: { raw: '[{"id": ' }, code: '111' },
    { name: 'an object instead of an array', answer: { json: { id: 'urn:ngsi-ld:Still:1' } }, code: '111' },
    { name: 'an instance of the wrong shape', answer: { json: [{ id: 'urn:ngsi-ld:Still:1', type: 'Still', level: [{ type: 'Property', observedAt: 'yesterday', value: 1 }] }] }, code: '111' },
    { name: 'a number as the type', answer: { json: [{ id: 'urn:ngsi-ld:Still:1', type: 42 }] }, code: '111' },
  ];
  const tenant = { 'NGSILD-Tenant': 'stills' };
  before(async () => {
    assert.equal((await kend.post('temporal/entities', { id: 'urn:ngsi-ld:Still:1', type: 'Still', level: [inst(1, 1)] }, tenant)).status, 201);
  });
  for (const c of bad) {
    test(`${c.name} during a temporal query: local history with NGSILD-Warning ${c.code}, never a 500`, async () => {
      const s = await source(() => c.answer);
      const created = await kend.post('csourceRegistrations', { type: 'ContextSourceRegistration', information: [{ entities: [{ type: 'Still' }] }], endpoint: s.url, operations: ['queryTemporal', 'retrieveTemporal'] }, tenant);
      assert.equal(created.status, 201, created.body);
      const reg = String(created.headers.location).split('/').pop()!;
      try {
        const res = await kend.get(`temporal/entities?type=Still&${window}`, tenant);
        assert.equal(res.status, 200, res.body);
        assert.deepEqual(res.json<{ id: string; level: unknown[] }[]>().map((e) => [e.id, e.level.length]), [['urn:ngsi-ld:Still:1', 1]]);
        assert.match(String(res.headers['ngsild-warning']), new RegExp(`^${c.code} - "Context source ${reg} `));
        const one = await kend.get(`temporal/entities/urn:ngsi-ld:Still:1?${window}`, tenant);
        assert.equal(one.status, 200, one.body);
        assert.match(String(one.headers['ngsild-warning']), /^(111|299) - /);
      } finally {
        await kend.del(`csourceRegistrations/${reg}`, tenant);
      }
    });
  }
});

describe('Batch operations with registered sources', () => {
  type BatchBody = { success: string[]; errors: { entityId: string; registrationId?: string; error: { type: string; status: number; detail: string } }[] };

  test('upsert: an inclusive source offering upsertBatch receives the elements and attributes it covers in one batch; local data is written too', async () => {
    const s = await source(() => ({ status: 201, json: ['urn:ngsi-ld:Crate:2'] }));
    await register(s.url, 'Crate', { operations: ['upsertBatch', 'retrieveOps'] }, ['weight']);
    const res = await kend.post('entityOperations/upsert?options=update', [
      { id: 'urn:ngsi-ld:Crate:1', type: 'Crate', weight: prop(3), label: prop('a') },
      { id: 'urn:ngsi-ld:Crate:2', type: 'Crate', weight: prop(4) },
      { id: 'urn:ngsi-ld:Box:1', type: 'Box', weight: prop(5) },
    ]);
    assert.equal(res.status, 201, res.body);
    assert.deepEqual(res.json<string[]>().sort(), ['urn:ngsi-ld:Box:1', 'urn:ngsi-ld:Crate:1', 'urn:ngsi-ld:Crate:2']);
    assert.equal(s.requests.length, 1);
    const sent = s.requests[0]!;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.path, '/ngsi-ld/v1/entityOperations/upsert');
    assert.equal(sent.query.get('options'), 'update');
    assert.equal(sent.headers.via, `1.1 ${BROKER}`);
    assert.deepEqual(JSON.parse(sent.body), [
      { id: 'urn:ngsi-ld:Crate:1', type: 'Crate', weight: prop(3) },
      { id: 'urn:ngsi-ld:Crate:2', type: 'Crate', weight: prop(4) },
    ]);
    const local = (await kend.get('entities/urn:ngsi-ld:Crate:1?local=true&options=keyValues')).json<Record<string, unknown>>();
    assert.deepEqual([local.weight, local.label], [3, 'a']);
  });

  test('create: entities a redirect registration covers go only to its source; local=true keeps the batch local', async () => {
    const s = await source(() => ({ status: 201, json: ['urn:ngsi-ld:Parcel:1'] }));
    await register(s.url, 'Parcel', { mode: 'redirect', operations: ['redirectionOps', 'createBatch'] });
    const res = await kend.post('entityOperations/create', [{ id: 'urn:ngsi-ld:Parcel:1', type: 'Parcel', size: prop(1) }, { id: 'urn:ngsi-ld:Letter:1', type: 'Letter' }]);
    assert.equal(res.status, 201, res.body);
    assert.deepEqual(res.json<string[]>().sort(), ['urn:ngsi-ld:Letter:1', 'urn:ngsi-ld:Parcel:1']);
    assert.deepEqual(JSON.parse(s.requests[0]!.body), [{ id: 'urn:ngsi-ld:Parcel:1', type: 'Parcel', size: prop(1) }]);
    assert.equal((await kend.get('entities/urn:ngsi-ld:Parcel:1?local=true')).status, 404, 'not created locally');
    const local = await kend.post('entityOperations/create?local=true', [{ id: 'urn:ngsi-ld:Parcel:2', type: 'Parcel' }]);
    assert.equal(local.status, 201, local.body);
    assert.equal(s.requests.length, 1);
    assert.equal((await kend.get('entities/urn:ngsi-ld:Parcel:2?local=true')).status, 200);
  });

  test('a failing source: 207 whose error entries carry registrationId; the other elements succeed; invalid elements are never forwarded', async () => {
    const s = await source(() => ({ status: 500, json: { type: 'https://uri.etsi.org/ngsi-ld/errors/InternalError', title: 'Boom', detail: 'disk full' } }));
    const reg = await register(s.url, 'Sack', { mode: 'redirect', operations: ['redirectionOps', 'upsertBatch'] });
    const res = await kend.post('entityOperations/upsert', [
      { id: 'urn:ngsi-ld:Sack:1', type: 'Sack', grain: prop('rice') },
      { id: 'urn:ngsi-ld:Sack:2', type: 'Sack', grain: { type: 'Property' } },
      { id: 'urn:ngsi-ld:Bag:1', type: 'Bag' },
    ]);
    assert.equal(res.status, 207, res.body);
    const body = res.json<BatchBody>();
    assert.deepEqual(body.success, ['urn:ngsi-ld:Bag:1']);
    const remote = body.errors.find((e) => e.entityId === 'urn:ngsi-ld:Sack:1')!;
    assert.equal(remote.registrationId, reg);
    assert.equal(remote.error.status, 500);
    assert.match(remote.error.detail, /disk full/);
    const invalid = body.errors.find((e) => e.entityId === 'urn:ngsi-ld:Sack:2')!;
    assert.equal(invalid.error.type, 'https://uri.etsi.org/ngsi-ld/errors/BadRequestData');
    assert.equal(invalid.registrationId, undefined);
    assert.deepEqual(JSON.parse(s.requests[0]!.body).map((e: { id: string }) => e.id), ['urn:ngsi-ld:Sack:1']);
  });

  test("a source's 207 is merged per entity; its ResourceNotFound means nothing there; an element it does not report on is an error", async () => {
    const s = await source(() => ({
      status: 207,
      json: {
        success: ['urn:ngsi-ld:Jar:1'],
        errors: [
          { entityId: 'urn:ngsi-ld:Jar:2', error: { type: 'https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound', title: 'Not found', status: 404, detail: 'x' } },
          { entityId: 'urn:ngsi-ld:Jar:3', error: { type: 'https://uri.etsi.org/ngsi-ld/errors/BadRequestData', title: 'Bad', status: 400, detail: 'no' } },
        ],
      },
    }));
    const reg = await register(s.url, 'Jar', { operations: ['updateBatch'] });
    await kend.post('entities', { id: 'urn:ngsi-ld:Jar:2', type: 'Jar' });
    const res = await kend.post('entityOperations/update', ['1', '2', '3', '4'].map((n) => ({ id: `urn:ngsi-ld:Jar:${n}`, type: 'Jar', lid: prop(true) })));
    assert.equal(res.status, 207, res.body);
    const body = res.json<BatchBody>();
    assert.deepEqual(body.success.sort(), ['urn:ngsi-ld:Jar:1', 'urn:ngsi-ld:Jar:2']);
    const errors = body.errors.map((e) => [e.entityId, e.error.status, e.registrationId ?? null]).sort();
    assert.deepEqual(errors, [
      ['urn:ngsi-ld:Jar:3', 400, reg],
      ['urn:ngsi-ld:Jar:3', 404, null],
      ['urn:ngsi-ld:Jar:4', 404, null],
      ['urn:ngsi-ld:Jar:4', 500, reg], // sent to the source, which did not report on it
    ]);
  });

  test('an exclusive registration without the batch operation makes that element a 409 Conflict; the source is not contacted', async () => {
    const s = await source(() => ({ status: 204 }));
    const id = 'urn:ngsi-ld:Valve:x1';
    const created = await kend.post('csourceRegistrations', {
      type: 'ContextSourceRegistration',
      information: [{ entities: [{ type: 'Valve', id }], propertyNames: ['open'] }],
      endpoint: s.url,
      mode: 'exclusive',
      operations: ['retrieveOps', 'updateAttrs'],
    });
    assert.equal(created.status, 201, created.body);
    const res = await kend.post('entityOperations/upsert', [{ id, type: 'Valve', open: prop(true) }, { id: 'urn:ngsi-ld:Valve:x2', type: 'Valve', open: prop(false) }]);
    assert.equal(res.status, 207, res.body);
    const body = res.json<BatchBody>();
    assert.deepEqual(body.success, ['urn:ngsi-ld:Valve:x2']);
    assert.equal(body.errors[0]!.entityId, id);
    assert.equal(body.errors[0]!.error.type, 'https://uri.etsi.org/ngsi-ld/errors/Conflict');
    assert.equal(s.requests.length, 0);
  });

  test('delete: ids a source holds are deleted there (204); an id nobody holds → 207 ResourceNotFound', async () => {
    const s = await source((req) => ({ status: JSON.parse(req.body).includes('urn:ngsi-ld:Kite:1') ? 204 : 404 }));
    await register(s.url, 'Kite', { operations: ['deleteBatch'] });
    assert.equal((await kend.post('entityOperations/delete', ['urn:ngsi-ld:Kite:1'])).status, 204);
    const res = await kend.post('entityOperations/delete', ['urn:ngsi-ld:Kite:2']);
    assert.equal(res.status, 207, res.body);
    assert.equal(res.json<BatchBody>().errors[0]!.error.status, 404);
  });

  const bad: { name: string; answer: SourceAnswer }[] = [
    { name: 'a slow source', answer: { delayMs: 5000, status: 204 } },
    { name: 'malformed JSON', answer: { status: 207, raw: '{"success": [' } },
    { name: 'a 207 that is not a BatchOperationResult', answer: { status: 207, json: { success: 'all', errors: 7 } } },
    { name: 'errors without ProblemDetails', answer: { status: 207, json: { success: [], errors: [{ entityId: 'urn:ngsi-ld:Raft:1', error: 'nope' }] } } },
    { name: 'a 400 without a body', answer: { status: 400 } },
  ];
  for (const c of bad) {
    test(`${c.name} during a batch: 207 with an error entry for its elements, never a 500`, async () => {
      const tenant = { 'NGSILD-Tenant': 'rafts' };
      const s = await source(() => c.answer);
      const created = await kend.post('csourceRegistrations', { type: 'ContextSourceRegistration', information: [{ entities: [{ type: 'Raft' }] }], endpoint: s.url, mode: 'redirect', operations: ['redirectionOps', 'upsertBatch'] }, tenant);
      assert.equal(created.status, 201, created.body);
      const reg = String(created.headers.location).split('/').pop()!;
      try {
        const res = await kend.post('entityOperations/upsert', [{ id: 'urn:ngsi-ld:Raft:1', type: 'Raft', logs: prop(4) }, { id: 'urn:ngsi-ld:Canoe:1', type: 'Canoe' }], tenant);
        assert.equal(res.status, 207, res.body);
        const body = res.json<BatchBody>();
        assert.deepEqual(body.success, ['urn:ngsi-ld:Canoe:1']);
        assert.equal(body.errors.length, 1);
        assert.equal(body.errors[0]!.entityId, 'urn:ngsi-ld:Raft:1');
        assert.equal(body.errors[0]!.registrationId, reg);
        assert.ok(body.errors[0]!.error.status >= 400, JSON.stringify(body.errors[0]));
      } finally {
        await kend.del(`csourceRegistrations/${reg}`, tenant);
      }
    });
  }
});

describe('Type and attribute details with registered sources', () => {
  const tenant = { 'NGSILD-Tenant': 'details' };
  test('/types/{type} and /attributes/{attr} add the counts and kinds of sources offering retrieveEntityTypeInfo / retrieveAttrTypeInfo; garbage → 111; nobody → 404', async () => {
    const s = await source((req) => {
      if (req.path === '/ngsi-ld/v1/types/Barrel') {
        return { json: { id: `${NS}Barrel`, type: 'EntityTypeInfo', typeName: 'Barrel', entityCount: 4, attributeDetails: [{ id: `${NS}volume`, type: 'Attribute', attributeName: 'volume', attributeTypes: ['Property'] }, { id: `${NS}refCellar`, type: 'Attribute', attributeName: 'refCellar', attributeTypes: ['Relationship'] }] } };
      }
      if (req.path === '/ngsi-ld/v1/attributes/volume') return { json: { id: `${NS}volume`, type: 'Attribute', attributeName: 'volume', attributeCount: 4, attributeTypes: ['Property'], typeNames: ['Barrel', 'Vat'] } };
      return { status: 404 };
    });
    const bad = await source(() => ({ json: { entityCount: 'many', attributeCount: -1 } }));
    const reg = (url: string, ops: string[]) => ({ type: 'ContextSourceRegistration', information: [{ entities: [{ type: 'Barrel' }, { type: 'Vat' }], propertyNames: ['volume'], relationshipNames: ['refCellar'] }], endpoint: url, operations: ops });
    assert.equal((await kend.post('csourceRegistrations', reg(s.url, ['retrieveEntityTypeInfo', 'retrieveAttrTypeInfo']), tenant)).status, 201);
    await kend.post('entities', { id: 'urn:ngsi-ld:Barrel:1', type: 'Barrel', volume: prop(10), colour: prop('oak') }, tenant);
    const type = await kend.get('types/Barrel', tenant);
    assert.equal(type.status, 200, type.body);
    const info = type.json<{ entityCount: number; attributeDetails: { attributeName: string; attributeTypes: string[] }[] }>();
    assert.equal(info.entityCount, 5);
    assert.deepEqual(info.attributeDetails.map((d) => [d.attributeName, d.attributeTypes]).sort(), [['colour', ['Property']], ['refCellar', ['Relationship']], ['volume', ['Property']]]);
    assert.equal(s.requests.at(-1)!.path, '/ngsi-ld/v1/types/Barrel');
    const attr = await kend.get('attributes/volume', tenant);
    assert.equal(attr.status, 200, attr.body);
    assert.deepEqual(attr.json<{ attributeCount: number; typeNames: string[] }>().attributeCount, 5);
    assert.deepEqual(attr.json<{ typeNames: string[] }>().typeNames.sort(), ['Barrel', 'Vat']);
    assert.equal((await kend.get('attributes/volume?local=true', tenant)).json<{ attributeCount: number }>().attributeCount, 1);
    // An entity type only a source holds; nobody → 404.
    assert.equal((await kend.get('types/Vat', tenant)).status, 404);
    const badReg = await kend.post('csourceRegistrations', reg(bad.url, ['retrieveEntityTypeInfo']), tenant);
    const warned = await kend.get('types/Barrel', tenant);
    assert.equal(warned.status, 200, warned.body);
    assert.equal(warned.json<{ entityCount: number }>().entityCount, 5);
    assert.match(String(warned.headers['ngsild-warning']), new RegExp(`^111 - "Context source ${String(badReg.headers.location).split('/').pop()} `));
  });
});

describe('Loop detection (Via) with registered sources', () => {
  const looped = { via: `1.1 village-broker, 1.1 ${BROKER}` };
  const LOOP = 'https://uri.etsi.org/ngsi-ld/errors/LoopDetected';

  test('a looping request that only an exclusive or redirect source could serve → 508 LoopDetected, nothing forwarded', async () => {
    const s = await source((r) => (r.method === 'GET' ? { json: { id: 'urn:ngsi-ld:Loop:1', type: 'Loop' } } : { status: 204 }));
    const reg = await register(s.url, 'Loop', { mode: 'redirect', operations: ['redirectionOps', 'upsertBatch'] });
    const read = await kend.get('entities/urn:ngsi-ld:Loop:1', looped);
    assert.equal(read.status, 508, read.body);
    const problem = read.json<{ type: string; title: string; status: number; detail: string }>();
    assert.equal(problem.type, LOOP);
    assert.equal(problem.status, 508);
    assert.match(problem.detail, new RegExp(reg));
    assert.equal((await kend.get('entities?type=Loop', looped)).status, 508);
    assert.equal((await kend.patch('entities/urn:ngsi-ld:Loop:1/attrs', { a: prop(1) }, looped)).status, 508);
    const batch = await kend.post('entityOperations/upsert', [{ id: 'urn:ngsi-ld:Loop:2', type: 'Loop' }, { id: 'urn:ngsi-ld:NoLoop:1', type: 'NoLoop' }], looped);
    assert.equal(batch.status, 207, batch.body);
    const entries = batch.json<{ success: string[]; errors: { entityId: string; error: { type: string; status: number } }[] }>();
    assert.deepEqual(entries.success, ['urn:ngsi-ld:NoLoop:1']);
    assert.deepEqual(entries.errors.map((e) => [e.entityId, e.error.type, e.error.status]), [['urn:ngsi-ld:Loop:2', LOOP, 508]]);
    assert.equal(s.requests.length, 0);
    // Without the loop the same request is forwarded; local=true is never a loop.
    assert.equal((await kend.get('entities/urn:ngsi-ld:Loop:1', { via: '1.1 village-broker' })).status, 200);
    assert.equal((await kend.get('entities/urn:ngsi-ld:Loop:1?local=true', looped)).status, 404);
    assert.equal(s.requests.length, 1);
  });

  test('a looping request whose matching registration is inclusive completes locally: the registration drops out', async () => {
    const id = 'urn:ngsi-ld:LoopInc:1';
    const s = await source(() => ({ status: 204, json: { id, type: 'LoopInc', remote: prop(1) } }));
    await register(s.url, 'LoopInc', { operations: ['retrieveOps', 'updateOps', 'queryTemporal'] });
    assert.equal((await kend.post('entities', { id, type: 'LoopInc', here: prop(1) }, { via: `1.1 ${BROKER}` })).status, 201);
    const read = await kend.get(`entities/${id}`, looped);
    assert.equal(read.status, 200, read.body);
    assert.deepEqual(Object.keys(read.json<Record<string, unknown>>()).sort(), ['here', 'id', 'type']);
    assert.equal((await kend.patch(`entities/${id}/attrs`, { here: prop(2) }, looped)).status, 204);
    assert.equal((await kend.get(`temporal/entities?type=LoopInc&timerel=after&timeAt=2000-01-01T00:00:00Z&timeproperty=modifiedAt`, looped)).status, 200);
    assert.equal(s.requests.length, 0);
  });
});

describe('Purge Entities with registered sources', () => {
  type BatchBody = { success: string[]; errors: { entityId: string; registrationId?: string; error: { type: string; status: number; detail: string } }[] };

  test('an inclusive source offering purgeEntity receives the purge with the selection; local entities are purged too; local=true keeps it local', async () => {
    const s = await source(() => ({ status: 204 }));
    await register(s.url, 'Crop', { operations: ['retrieveOps', 'purgeEntity'] });
    await kend.post('entities', { id: 'urn:ngsi-ld:Crop:1', type: 'Crop', kind: prop('wheat') });
    const res = await kend.request('DELETE', 'entities?type=Crop&q=kind==%22wheat%22');
    assert.equal(res.status, 204, res.body);
    assert.equal(s.requests.length, 1);
    const sent = s.requests[0]!;
    assert.equal(sent.method, 'DELETE');
    assert.equal(sent.path, '/ngsi-ld/v1/entities');
    assert.equal(sent.query.get('type'), 'Crop');
    assert.equal(sent.query.get('q'), 'kind=="wheat"');
    assert.equal(sent.query.get('local'), null);
    assert.equal(sent.headers.via, `1.1 ${BROKER}`);
    assert.equal((await kend.get('entities/urn:ngsi-ld:Crop:1?local=true')).status, 404);
    await kend.post('entities', { id: 'urn:ngsi-ld:Crop:2', type: 'Crop', kind: prop('rye') });
    assert.equal((await kend.request('DELETE', 'entities?type=Crop&local=true')).status, 204);
    assert.equal(s.requests.length, 1);
    assert.equal((await kend.get('entities/urn:ngsi-ld:Crop:2?local=true')).status, 404);
  });

  test('drop: a source registered for some attributes gets only those it covers; a redirectionOps source counts; default federationOps does not', async () => {
    const s = await source(() => ({ status: 204 }));
    const reads = await source(() => ({ status: 204 }));
    await register(s.url, 'Hive', { mode: 'redirect', operations: ['redirectionOps'] }, ['honey']);
    await register(reads.url, 'Hive');
    const res = await kend.request('DELETE', 'entities?type=Hive&drop=honey,wax');
    assert.equal(res.status, 204, res.body);
    assert.equal(s.requests.length, 1);
    assert.equal(s.requests[0]!.query.get('drop'), 'honey');
    assert.equal(reads.requests.length, 0);
  });

  test('an exclusive/redirect registration without purgeEntity → 409 Conflict, nothing purged or contacted', async () => {
    const s = await source(() => ({ status: 204 }));
    await register(s.url, 'Byre', { mode: 'redirect', operations: ['retrieveOps'] });
    await kend.post('entities', { id: 'urn:ngsi-ld:Barn:1', type: 'Barn' });
    const res = await kend.request('DELETE', 'entities?type=Byre,Barn');
    assert.equal(res.status, 409, res.body);
    assert.equal(res.json<{ type: string }>().type, 'https://uri.etsi.org/ngsi-ld/errors/Conflict');
    assert.equal(s.requests.length, 0);
    assert.equal((await kend.get('entities/urn:ngsi-ld:Barn:1?local=true')).status, 200);
  });

  test('failing, slow or garbage-answering sources → 207 BatchOperationResult with registrationId; the local purge and the other sources still happen', async () => {
    const down = await source(() => ({ status: 500, json: { type: 'https://uri.etsi.org/ngsi-ld/errors/InternalError', title: 'Boom', detail: 'disk full' } }));
    const slow = await source(() => ({ status: 204, delayMs: 5000 }));
    const garbage = await source(() => ({ status: 200, raw: '{not json' }));
    const notFound = await source(() => ({ status: 404 }));
    const downReg = await register(down.url, 'Well', { operations: ['purgeEntity'] });
    const slowReg = await register(slow.url, 'Well', { operations: ['purgeEntity'] });
    await register(garbage.url, 'Well', { operations: ['purgeEntity'] });
    await register(notFound.url, 'Well', { operations: ['purgeEntity'] });
    await kend.post('entities', { id: 'urn:ngsi-ld:Well:1', type: 'Well' });
    const res = await kend.request('DELETE', 'entities?type=Well');
    assert.equal(res.status, 207, res.body);
    const body = res.json<BatchBody>();
    assert.deepEqual(body.success, []);
    assert.deepEqual(body.errors.map((e) => e.registrationId).sort(), [downReg, slowReg].sort());
    const fromDown = body.errors.find((e) => e.registrationId === downReg)!;
    assert.equal(fromDown.entityId, 'urn:ngsi-ld:null');
    assert.equal(fromDown.error.status, 500);
    assert.match(fromDown.error.detail, /disk full/);
    assert.equal((await kend.get('entities/urn:ngsi-ld:Well:1?local=true')).status, 404);
    assert.equal(garbage.requests.length, 1);
    assert.equal(notFound.requests.length, 1);
    // Selected by id: the error entries name the ids.
    const byId = await kend.request('DELETE', 'entities?id=urn:ngsi-ld:Well:7,urn:ngsi-ld:Well:8&type=Well');
    assert.equal(byId.status, 207, byId.body);
    assert.deepEqual([...new Set(byId.json<BatchBody>().errors.map((e) => e.entityId))].sort(), ['urn:ngsi-ld:Well:7', 'urn:ngsi-ld:Well:8']);
  });

  test('an invalid purge is 400 and forwards nothing', async () => {
    const s = await source(() => ({ status: 204 }));
    await register(s.url, 'Pond', { operations: ['purgeEntity'] });
    assert.equal((await kend.request('DELETE', 'entities?type=Pond&drop=a&keep=b')).status, 400);
    assert.equal((await kend.request('DELETE', 'entities?type=Pond&drop=in(valid')).status, 400);
    assert.equal(s.requests.length, 0);
  });
});

describe('Aggregated temporal queries with registered sources', () => {
  const day = (d: number, h = 0) => `2026-04-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:00Z`;
  const inst = (value: unknown, d: number, h: number) => ({ type: 'Property', value, observedAt: day(d, h) });
  const window = `timerel=after&timeAt=${day(1)}&aggrPeriodDuration=P1D`;
  const ALL = 'totalCount,distinctCount,sum,avg,min,max,stddev,sumsq';
  type Triple = [number | string | null, string, string];
  type Aggregated = Record<string, Record<string, Triple[]> | undefined>;
  /** What a source holding temperature 30 on day 1 and 40 on day 2, and humidity 70 on day 1, answers. */
  const remoteEntity = (id: string, type: string) => ({
    id,
    type,
    temperature: {
      type: 'Property',
      totalCount: [[1, day(1), day(2)], [1, day(2), day(3)]],
      distinctCount: [[1, day(1), day(2)], [1, day(2), day(3)]],
      sum: [[30, day(1), day(2)], [40, day(2), day(3)]],
      avg: [[30, day(1), day(2)], [40, day(2), day(3)]],
      min: [[30, day(1), day(2)], [40, day(2), day(3)]],
      max: [[30, day(1), day(2)], [40, day(2), day(3)]],
      stddev: [[0, day(1), day(2)], [0, day(2), day(3)]],
      sumsq: [[900, day(1), day(2)], [1600, day(2), day(3)]],
    },
    humidity: { type: 'Property', totalCount: [[1, day(1), day(2)]], avg: [[70, day(1), day(2)]], sum: [[70, day(1), day(2)]] },
  });

  test('retrieve: a bucket held by several parties combines exactly (counts, sum, sumsq, min, max, avg and stddev from sum/count); distinctCount keeps the local value with warning 299', async () => {
    const id = 'urn:ngsi-ld:Greenhouse:1';
    const s = await source(() => ({ json: remoteEntity(id, 'Greenhouse') }));
    const reg = await register(s.url, 'Greenhouse', { operations: ['retrieveTemporal', 'queryTemporal'] });
    assert.equal((await kend.post('temporal/entities', { id, type: 'Greenhouse', temperature: [inst(10, 1, 1), inst(20, 1, 2)] })).status, 201);
    const res = await kend.get(`temporal/entities/${id}?${window}&format=aggregatedValues&aggrMethods=${ALL}`);
    assert.equal(res.status, 200, res.body);
    const t = res.json<Aggregated>().temperature!;
    assert.deepEqual(t.totalCount, [[3, day(1), day(2)], [1, day(2), day(3)]]);
    assert.deepEqual(t.sum, [[60, day(1), day(2)], [40, day(2), day(3)]]);
    assert.deepEqual(t.sumsq, [[1400, day(1), day(2)], [1600, day(2), day(3)]]);
    assert.deepEqual(t.min, [[10, day(1), day(2)], [40, day(2), day(3)]]);
    assert.deepEqual(t.max, [[30, day(1), day(2)], [40, day(2), day(3)]]);
    assert.deepEqual(t.avg, [[20, day(1), day(2)], [40, day(2), day(3)]]);
    assert.ok(Math.abs((t.stddev![0]![0] as number) - Math.sqrt(200 / 3)) < 1e-9);
    assert.deepEqual(t.distinctCount, [[2, day(1), day(2)], [1, day(2), day(3)]], 'the local distinctCount is kept; the source-only bucket passes through');
    assert.match(String(res.headers['ngsild-warning']), new RegExp(`^299 - "Context source ${reg} .*distinctCount of .*temperature of ${id}`));
    assert.deepEqual(res.json<Aggregated>().humidity?.avg, [[70, day(1), day(2)]], 'an attribute only a source holds passes through');
    const sent = s.requests[0]!;
    assert.equal(sent.path, `/ngsi-ld/v1/temporal/entities/${id}`);
    assert.equal(sent.query.get('format'), 'aggregatedValues');
    assert.equal(sent.query.get('aggrMethods'), ALL);
    assert.equal(sent.query.get('aggrPeriodDuration'), 'P1D');
    assert.equal(sent.query.get('timerel'), 'after');
    // Only the requested methods are rendered, though sum/avg/sumsq were asked of every party to combine stddev.
    const onlyStddev = await kend.get(`temporal/entities/${id}?${window}&format=aggregatedValues&aggrMethods=stddev&attrs=temperature`);
    assert.deepEqual(Object.keys(onlyStddev.json<Aggregated>().temperature!).sort(), ['stddev', 'type']);
    assert.equal(s.requests.at(-1)!.query.get('aggrMethods'), 'sum,avg,stddev,sumsq');
    assert.equal(onlyStddev.headers['ngsild-warning'], undefined);
    // local=true: local aggregates only.
    const local = (await kend.get(`temporal/entities/${id}?${window}&format=aggregatedValues&aggrMethods=sum&local=true`)).json<Aggregated>();
    assert.deepEqual(local.temperature!.sum, [[30, day(1), day(2)]]);
  });

  test('retrieve: an entity only a source holds passes through exactly; nobody holds it → 404', async () => {
    const id = 'urn:ngsi-ld:Orangery:1';
    const s = await source((req) => (req.path.endsWith(id) ? { json: remoteEntity(id, 'Orangery') } : { status: 404 }));
    await register(s.url, 'Orangery', { operations: ['retrieveTemporal'] });
    const res = await kend.get(`temporal/entities/${id}?${window}&format=aggregatedValues&aggrMethods=avg,distinctCount`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['ngsild-warning'], undefined);
    const body = res.json<Aggregated>();
    assert.deepEqual(body.temperature?.avg, [[30, day(1), day(2)], [40, day(2), day(3)]]);
    assert.deepEqual(body.temperature?.distinctCount, [[1, day(1), day(2)], [1, day(2), day(3)]]);
    assert.equal((await kend.get(`temporal/entities/urn:ngsi-ld:Orangery:2?${window}&format=aggregatedValues&aggrMethods=avg`)).status, 404);
  });

  test('query: GET and POST merge entities of local history and sources; a single bucket (no period) spans all parties', async () => {
    const s = await source(() => ({ json: [remoteEntity('urn:ngsi-ld:Polytunnel:1', 'Polytunnel'), remoteEntity('urn:ngsi-ld:Polytunnel:2', 'Polytunnel')] }));
    await register(s.url, 'Polytunnel', { operations: ['queryTemporal'] });
    await kend.post('temporal/entities', { id: 'urn:ngsi-ld:Polytunnel:1', type: 'Polytunnel', temperature: [inst(10, 3, 5)] });
    const res = await kend.get(`temporal/entities?type=Polytunnel&timerel=after&timeAt=${day(1)}&format=aggregatedValues&aggrMethods=max,totalCount&count=true`);
    assert.equal(res.status, 200, res.body);
    const body = res.json<(Aggregated & { id: string })[]>();
    assert.deepEqual(body.map((e) => e.id), ['urn:ngsi-ld:Polytunnel:1', 'urn:ngsi-ld:Polytunnel:2']);
    assert.equal(res.headers['ngsild-results-count'], '2');
    // Without a period the local bucket is [day 1, newest + 1 ms); this source answers day buckets anyway, which cannot be
    // placed in one bucket: the local value is kept and the conflict reported, not guessed. Its other entity passes through.
    assert.deepEqual(body[0]!.temperature?.max, [[10, day(1), '2026-04-03T05:00:00.001Z']]);
    assert.match(String(res.headers['ngsild-warning']), /^299 - ".*buckets with other boundaries of .*temperature of urn:ngsi-ld:Polytunnel:1/);
    assert.deepEqual(body[1]!.temperature?.max, [[30, day(1), day(2)], [40, day(2), day(3)]]);
    const sent = s.requests[0]!;
    assert.equal(sent.query.get('format'), 'aggregatedValues');
    assert.equal(sent.query.get('aggrMethods'), 'totalCount,max');
    const post = await kend.post('temporal/entityOperations/query?format=aggregatedValues', {
      type: 'Query',
      entities: [{ type: 'Polytunnel' }],
      temporalQ: { timerel: 'after', timeAt: day(1) },
      aggrMethods: ['totalCount'],
      aggrPeriodDuration: 'P1D',
    });
    assert.equal(post.status, 200, post.body);
    const postSent = s.requests.at(-1)!;
    assert.equal(postSent.method, 'POST');
    assert.equal(postSent.path, '/ngsi-ld/v1/temporal/entityOperations/query');
    assert.equal(postSent.query.get('format'), 'aggregatedValues');
    assert.deepEqual(JSON.parse(postSent.body).aggrMethods, ['totalCount']);
    assert.equal(JSON.parse(postSent.body).aggrPeriodDuration, 'P1D');
    const first = post.json<(Aggregated & { id: string })[]>().find((e) => e.id === 'urn:ngsi-ld:Polytunnel:1')!;
    assert.deepEqual(first.temperature?.totalCount, [[1, day(1), day(2)], [1, day(2), day(3)], [1, day(3), day(4)]]);
  });

  test('single-bucket answers of several parties combine over the union span', async () => {
    const id = 'urn:ngsi-ld:Cloche:1';
    const s = await source(() => ({ json: [{ id, type: 'Cloche', temperature: { type: 'Property', totalCount: [[2, day(1), day(6)]], max: [[50, day(1), day(6)]] } }] }));
    await register(s.url, 'Cloche', { operations: ['queryTemporal'] });
    await kend.post('temporal/entities', { id, type: 'Cloche', temperature: [inst(10, 2, 0), inst(60, 2, 1)] });
    const res = await kend.get(`temporal/entities?type=Cloche&timerel=after&timeAt=${day(1)}&format=aggregatedValues&aggrMethods=max,totalCount`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['ngsild-warning'], undefined);
    const t = res.json<Aggregated[]>()[0]!.temperature!;
    assert.deepEqual(t.totalCount, [[4, day(1), day(6)]]);
    assert.deepEqual(t.max, [[60, day(1), day(6)]]);
  });

  test('sources that fail, stall, answer garbage or wrong types: local aggregates with warnings, never a 500', async () => {
    const id = 'urn:ngsi-ld:Coldframe:1';
    const answers: SourceAnswer[] = [
      { raw: '{not json' },
      { json: { id, type: 'Coldframe', temperature: { type: 'Property', avg: 'high' } } },
      { json: { id, type: 'Coldframe', temperature: { type: 'Property', avg: [[1, 'yesterday', day(2)]] } } },
      { json: [1, 2] },
      { status: 500 },
      { delayMs: 5000, json: remoteEntity(id, 'Coldframe') },
    ];
    for (const a of answers) await register((await source(() => a)).url, 'Coldframe', { operations: ['retrieveTemporal'] });
    await kend.post('temporal/entities', { id, type: 'Coldframe', temperature: [inst(10, 1, 1)] });
    const res = await kend.get(`temporal/entities/${id}?${window}&format=aggregatedValues&aggrMethods=avg`);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json<Aggregated>().temperature?.avg, [[10, day(1), day(2)]]);
    const codes = String(res.headers['ngsild-warning']).match(/(^|, )(111|299) - /g)!.map((m) => m.replace(/^, /, '').slice(0, 3));
    assert.deepEqual(codes.sort(), ['111', '111', '111', '111', '299', '299']);
  });
});
