// A regional Kend federating two village Kends (issue 7 item 4; GS CIM 009 §4.3.6, §5.12, §6.3.17): three
// real processes on loopback, each with its own store. Queries, geo-queries and retrievals through the
// regional broker reach the right village; a village that is down, or a source that stalls or answers
// garbage, makes the answer partial with NGSILD-Warning — never a 500, never a timeout of the whole request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKendProcess, type KendProcess } from '../support/process.ts';
import { eventually, testDatabaseUrl } from '../support/harness.ts';
import { startFakeSource, type FakeSource } from '../support/fake-source.ts';

const FORWARD_TIMEOUT_MS = 1000;
const T = 'WeatherObserved';
const square = (lon: number, lat: number) => ({
  type: 'Polygon',
  coordinates: [[[lon - 0.1, lat - 0.1], [lon + 0.1, lat - 0.1], [lon + 0.1, lat + 0.1], [lon - 0.1, lat + 0.1], [lon - 0.1, lat - 0.1]]],
});
const VILLAGE1 = { lon: 49.1, lat: 40.1 };
const VILLAGE2 = { lon: 47.0, lat: 41.0 };

async function call(node: KendProcess | string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const base = typeof node === 'string' ? node : node.baseUrl;
  const res = await fetch(`${base}/ngsi-ld/v1/${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <J>() => JSON.parse(text) as J };
}

const station = (id: string, at: { lon: number; lat: number }, temperature: number) => ({
  id,
  type: T,
  temperature: { type: 'Property', value: temperature },
  location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [at.lon, at.lat] } },
});

describe('A regional Kend over two village Kends', () => {
  let regional: KendProcess;
  let village1: KendProcess;
  let village2: KendProcess;
  const drops: (() => Promise<void>)[] = [];
  const fakes: FakeSource[] = [];

  async function node(env: Record<string, string> = {}): Promise<KendProcess> {
    const db = await testDatabaseUrl();
    drops.push(db.drop);
    return startKendProcess({ KEND_DATABASE_URL: db.url, KEND_FORWARD_TIMEOUT_MS: String(FORWARD_TIMEOUT_MS), ...env });
  }

  const register = async (id: string, endpoint: string, where: { lon: number; lat: number }, extra: Record<string, unknown> = {}) => {
    const res = await call(regional, 'POST', 'csourceRegistrations', {
      id,
      type: 'ContextSourceRegistration',
      information: [{ entities: [{ type: T }] }],
      location: square(where.lon, where.lat),
      endpoint,
      operations: ['federationOps', 'updateOps', 'appendAttrs', 'mergeEntity', 'deleteAttrs'],
      ...extra,
    });
    assert.equal(res.status, 201, res.text);
  };
  const timesSent = async (id: string): Promise<number> =>
    (await call(regional, 'GET', `csourceRegistrations/${id}`)).json<{ timesSent?: number }>().timesSent ?? 0;

  before(async () => {
    [regional, village1, village2] = await Promise.all([node({ KEND_BROKER_ID: 'regional' }), node({ KEND_BROKER_ID: 'village1' }), node({ KEND_BROKER_ID: 'village2' })]);
    for (const [v, at, prefix] of [[village1, VILLAGE1, 'v1'], [village2, VILLAGE2, 'v2']] as const) {
      for (let i = 1; i <= 2; i++) {
        const res = await call(v, 'POST', 'entities', station(`urn:ngsi-ld:${T}:${prefix}-${i}`, { lon: at.lon + i * 0.001, lat: at.lat }, 10 * i));
        assert.equal(res.status, 201, res.text);
      }
    }
    await register('urn:ngsi-ld:ContextSourceRegistration:village1', village1.baseUrl, VILLAGE1);
    await register('urn:ngsi-ld:ContextSourceRegistration:village2', village2.baseUrl, VILLAGE2);
  });
  after(async () => {
    for (const f of fakes) await f.close();
    for (const n of [regional, village1, village2]) await n?.stop();
    for (const d of drops) await d();
  });

  test('a query through the regional broker returns the entities of both villages', async () => {
    const res = await call(regional, 'GET', `entities?type=${T}&limit=100`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('ngsild-warning'), null);
    const ids = res.json<{ id: string }[]>().map((e) => e.id).sort();
    assert.deepEqual(ids, ['v1-1', 'v1-2', 'v2-1', 'v2-2'].map((s) => `urn:ngsi-ld:${T}:${s}`));
    // Nothing was copied: the regional broker holds none of them.
    assert.deepEqual((await call(regional, 'GET', `entities?type=${T}&local=true`)).json(), []);
  });

  test('a q query through the regional broker is evaluated by the villages', async () => {
    const res = await call(regional, 'GET', `entities?type=${T}&q=temperature>15&options=keyValues`);
    assert.equal(res.status, 200, res.text);
    const ids = res.json<{ id: string }[]>().map((e) => e.id).sort();
    assert.deepEqual(ids, [`urn:ngsi-ld:${T}:v1-2`, `urn:ngsi-ld:${T}:v2-2`]);
  });

  test('a geo-query reaches only the village whose registered area can hold matches', async () => {
    const res = await call(regional, 'GET', `entities?type=${T}&georel=near;maxDistance==2000&geometry=Point&coordinates=[${VILLAGE1.lon},${VILLAGE1.lat}]`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json<{ id: string }[]>().map((e) => e.id).sort(), [`urn:ngsi-ld:${T}:v1-1`, `urn:ngsi-ld:${T}:v1-2`]);
    // Outcomes are booked in order: once village1's third use is recorded, every earlier one is too.
    await eventually(async () => ((await timesSent('urn:ngsi-ld:ContextSourceRegistration:village1')) === 3 ? true : undefined), 5000, 'village1 booked 3 uses');
    assert.equal(await timesSent('urn:ngsi-ld:ContextSourceRegistration:village2'), 2, 'village2 was asked by the two earlier queries only');
  });

  test('a POST /entityOperations/query with a geoQ through the regional broker reaches the right village', async () => {
    const res = await call(regional, 'POST', 'entityOperations/query', {
      type: 'Query',
      entities: [{ type: T }],
      geoQ: { georel: 'within', geometry: 'Polygon', coordinates: square(VILLAGE2.lon, VILLAGE2.lat).coordinates },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json<{ id: string }[]>().map((e) => e.id).sort(), [`urn:ngsi-ld:${T}:v2-1`, `urn:ngsi-ld:${T}:v2-2`]);
  });

  test('retrieving an entity by id through the regional broker gets it from its village', async () => {
    const res = await call(regional, 'GET', `entities/urn:ngsi-ld:${T}:v2-1`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json<{ temperature: { value: number } }>().temperature.value, 10);
  });

  test('updates through the regional broker reach the village that holds the entity', async () => {
    const id = `urn:ngsi-ld:${T}:v2-1`;
    const res = await call(regional, 'PATCH', `entities/${id}/attrs`, { temperature: { type: 'Property', value: 99 } });
    assert.equal(res.status, 204, res.text);
    const atVillage = await call(village2, 'GET', `entities/${id}?options=keyValues`);
    assert.equal(atVillage.json<{ temperature: number }>().temperature, 99);
    assert.equal((await call(village1, 'GET', `entities/${id}`)).status, 404, 'nothing was created in the other village');
    assert.equal((await call(regional, 'GET', `entities/${id}?local=true`)).status, 404, 'nor in the regional store');
    const merged = await call(regional, 'PATCH', `entities/urn:ngsi-ld:${T}:v1-2`, { humidity: { type: 'Property', value: 55 } });
    assert.equal(merged.status, 204, merged.text);
    const through = await call(regional, 'GET', `entities?type=${T}&q=humidity==55&options=keyValues`);
    assert.deepEqual(through.json<{ id: string; humidity: number }[]>().map((e) => [e.id, e.humidity]), [[`urn:ngsi-ld:${T}:v1-2`, 55]]);
    assert.equal((await call(regional, 'PATCH', `entities/urn:ngsi-ld:${T}:nowhere/attrs`, { temperature: { type: 'Property', value: 1 } })).status, 404);
  });

  test('a loop (the regional broker registered as its own source) ends at the second hop thanks to Via', async () => {
    await register('urn:ngsi-ld:ContextSourceRegistration:self', regional.baseUrl, VILLAGE1);
    try {
      const res = await call(regional, 'GET', `entities?type=${T}&limit=100`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json<unknown[]>().length, 4);
    } finally {
      assert.equal((await call(regional, 'DELETE', 'csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:self')).status, 204);
    }
  });

  test('sources that stall, answer malformed JSON or wrong types: the answer is partial with warnings, within the timeout', async () => {
    const slow = await startFakeSource(() => ({ delayMs: 30_000, json: [] }));
    const garbage = await startFakeSource(() => ({ raw: '[{"id": "urn:ngsi-ld:x", ' }));
    const wrong = await startFakeSource(() => ({ json: [{ id: 'urn:ngsi-ld:WeatherObserved:w', type: 42 }] }));
    fakes.push(slow, garbage, wrong);
    const ids = ['slow', 'garbage', 'wrong'].map((s) => `urn:ngsi-ld:ContextSourceRegistration:${s}`);
    await register(ids[0]!, slow.url, VILLAGE1);
    await register(ids[1]!, garbage.url, VILLAGE1);
    await register(ids[2]!, wrong.url, VILLAGE1);
    try {
      const started = Date.now();
      const res = await call(regional, 'GET', `entities?type=${T}&limit=100`);
      const took = Date.now() - started;
      assert.equal(res.status, 200, res.text);
      assert.ok(took < FORWARD_TIMEOUT_MS + 2000, `answered in ${took} ms`);
      assert.equal(res.json<unknown[]>().length, 4);
      const warning = String(res.headers.get('ngsild-warning'));
      assert.match(warning, /299 - "Context source urn:ngsi-ld:ContextSourceRegistration:slow /);
      assert.match(warning, /111 - "Context source urn:ngsi-ld:ContextSourceRegistration:garbage /);
      assert.match(warning, /111 - "Context source urn:ngsi-ld:ContextSourceRegistration:wrong /);
    } finally {
      for (const id of ids) await call(regional, 'DELETE', `csourceRegistrations/${id}`);
    }
  });

  // The stations carry no observedAt: their history is read on the modifiedAt axis (kept from the villages).
  const SINCE = 'timerel=after&timeAt=2000-01-01T00:00:00Z&timeproperty=modifiedAt';

  test('a temporal query through the regional broker reaches the villages and merges their history', async () => {
    const res = await call(regional, 'GET', `temporal/entities?type=${T}&${SINCE}&attrs=temperature&format=temporalValues&limit=100`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('ngsild-warning'), null);
    const list = res.json<{ id: string; temperature: { values: [number, string][] } }[]>();
    assert.deepEqual(list.map((e) => e.id).sort(), ['v1-1', 'v1-2', 'v2-1', 'v2-2'].map((s) => `urn:ngsi-ld:${T}:${s}`));
    // v2-1 was created with 10 and updated to 99 through the regional broker: its village recorded both.
    assert.deepEqual(list.find((e) => e.id === `urn:ngsi-ld:${T}:v2-1`)!.temperature.values.map((v) => v[0]), [10, 99]);
    const one = await call(regional, 'GET', `temporal/entities/urn:ngsi-ld:${T}:v2-1?${SINCE}&attrs=temperature&lastN=1&format=temporalValues`);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.json<{ temperature: { values: [number, string][] } }>().temperature.values.map((v) => v[0]), [99]);
    assert.deepEqual((await call(regional, 'GET', `temporal/entities?type=${T}&${SINCE}&local=true`)).json(), [], 'the regional store holds no history');
  });

  test('an aggregated temporal query through the regional broker aggregates at the villages and merges per entity', async () => {
    const res = await call(regional, 'GET', `temporal/entities?type=${T}&${SINCE}&attrs=temperature&format=aggregatedValues&aggrMethods=totalCount,max&limit=100`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('ngsild-warning'), null);
    const list = res.json<{ id: string; temperature: { totalCount: [number, string, string][]; max: [number, string, string][] } }[]>();
    assert.deepEqual(list.map((e) => e.id).sort(), ['v1-1', 'v1-2', 'v2-1', 'v2-2'].map((s) => `urn:ngsi-ld:${T}:${s}`));
    const v21 = list.find((e) => e.id === `urn:ngsi-ld:${T}:v2-1`)!;
    assert.deepEqual([v21.temperature.totalCount[0]![0], v21.temperature.max[0]![0]], [2, 99]);
    const one = await call(regional, 'GET', `temporal/entities/urn:ngsi-ld:${T}:v2-1?${SINCE}&attrs=temperature&format=aggregatedValues&aggrMethods=avg`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json<{ temperature: { avg: [number, string, string][] } }>().temperature.avg[0]![0], (10 + 99) / 2);
  });

  test('two brokers redirecting the same entities to each other: the request that comes back is answered 508 Loop Detected', async () => {
    const back = await call(village1, 'POST', 'csourceRegistrations', {
      id: 'urn:ngsi-ld:ContextSourceRegistration:back-to-regional',
      type: 'ContextSourceRegistration',
      information: [{ entities: [{ type: 'Ghost' }] }],
      endpoint: regional.baseUrl,
      mode: 'redirect',
      operations: ['redirectionOps'],
    });
    assert.equal(back.status, 201, back.text);
    await register('urn:ngsi-ld:ContextSourceRegistration:ghosts', village1.baseUrl, VILLAGE1, { information: [{ entities: [{ type: 'Ghost' }] }], mode: 'redirect', operations: ['redirectionOps'] });
    try {
      // regional → village1 (Via regional) → regional (Via regional, village1): 508 there, so village1 finds nothing.
      const res = await call(regional, 'GET', 'entities/urn:ngsi-ld:Ghost:1');
      assert.equal(res.status, 404, res.text);
      // Without 508 the looping request would be a plain local 404 at the regional broker: no failure booked.
      const failed = await eventually(async () => {
        const r = (await call(village1, 'GET', 'csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:back-to-regional')).json<{ status?: string }>();
        return r.status === 'failed' ? r : undefined;
      }, 5000, 'village1 booked the 508 of the regional broker');
      assert.equal(failed.status, 'failed');
      const looped = await call(regional, 'GET', 'entities/urn:ngsi-ld:Ghost:1', undefined, { via: '1.1 village1, 1.1 regional' });
      assert.equal(looped.status, 508, looped.text);
      assert.equal(looped.json<{ type: string }>().type, 'https://uri.etsi.org/ngsi-ld/errors/LoopDetected');
    } finally {
      await call(regional, 'DELETE', 'csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:ghosts');
      await call(village1, 'DELETE', 'csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:back-to-regional');
    }
  });

  test('a batch upsert through the regional broker reaches the village each entity belongs to', async () => {
    for (const [v, prefix] of [[village1, 'v1'], [village2, 'v2']] as const) {
      const res = await call(regional, 'POST', 'csourceRegistrations', {
        id: `urn:ngsi-ld:ContextSourceRegistration:${prefix}-writes`,
        type: 'ContextSourceRegistration',
        information: [{ entities: [{ type: T, idPattern: `^urn:ngsi-ld:${T}:${prefix}-` }] }],
        endpoint: v.baseUrl,
        mode: 'redirect',
        operations: ['upsertBatch'],
      });
      assert.equal(res.status, 201, res.text);
    }
    const res = await call(regional, 'POST', 'entityOperations/upsert?options=update', [
      station(`urn:ngsi-ld:${T}:v1-3`, VILLAGE1, 30),
      { id: `urn:ngsi-ld:${T}:v2-2`, type: T, temperature: { type: 'Property', value: 21 } },
    ]);
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.json(), [`urn:ngsi-ld:${T}:v1-3`]);
    assert.equal((await call(village1, 'GET', `entities/urn:ngsi-ld:${T}:v1-3`)).status, 200);
    assert.equal((await call(village2, 'GET', `entities/urn:ngsi-ld:${T}:v1-3`)).status, 404, 'not sent to the other village');
    assert.equal((await call(village2, 'GET', `entities/urn:ngsi-ld:${T}:v2-2?options=keyValues`)).json<{ temperature: number }>().temperature, 21);
    assert.equal((await call(regional, 'GET', `entities/urn:ngsi-ld:${T}:v1-3?local=true`)).status, 404, 'redirected: nothing stored regionally');
  });

  test('a village that is down makes the answer partial with NGSILD-Warning 299, not a timeout of the whole request', async () => {
    await village2.stop();
    const started = Date.now();
    const res = await call(regional, 'GET', `entities?type=${T}&limit=100`);
    assert.ok(Date.now() - started < FORWARD_TIMEOUT_MS + 2000);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json<{ id: string }[]>().map((e) => e.id).sort(), ['v1-1', 'v1-2', 'v1-3'].map((s) => `urn:ngsi-ld:${T}:${s}`));
    assert.match(String(res.headers.get('ngsild-warning')), /^299 - "Context source urn:ngsi-ld:ContextSourceRegistration:village2 /);
    const gone = await call(regional, 'GET', `entities/urn:ngsi-ld:${T}:v2-1`);
    assert.equal(gone.status, 404);
    assert.match(String(gone.headers.get('ngsild-warning')), /^299 - /);
  });

  test('with a village down, temporal queries are partial (NGSILD-Warning 299) and batches report its entities in the 207', async () => {
    const temporal = await call(regional, 'GET', `temporal/entities?type=${T}&${SINCE}&limit=100`);
    assert.equal(temporal.status, 200, temporal.text);
    assert.deepEqual(temporal.json<{ id: string }[]>().map((e) => e.id).sort(), ['v1-1', 'v1-2', 'v1-3'].map((s) => `urn:ngsi-ld:${T}:${s}`));
    assert.match(String(temporal.headers.get('ngsild-warning')), /^299 - "Context source urn:ngsi-ld:ContextSourceRegistration:village2 /);
    const batch = await call(regional, 'POST', 'entityOperations/upsert?options=update', [
      { id: `urn:ngsi-ld:${T}:v1-1`, type: T, temperature: { type: 'Property', value: 5 } },
      { id: `urn:ngsi-ld:${T}:v2-1`, type: T, temperature: { type: 'Property', value: 6 } },
    ]);
    assert.equal(batch.status, 207, batch.text);
    const body = batch.json<{ success: string[]; errors: { entityId: string; registrationId: string; error: { type: string; status: number; detail: string } }[] }>();
    assert.deepEqual(body.success, [`urn:ngsi-ld:${T}:v1-1`]);
    assert.equal(body.errors.length, 1);
    assert.equal(body.errors[0]!.entityId, `urn:ngsi-ld:${T}:v2-1`);
    assert.equal(body.errors[0]!.registrationId, 'urn:ngsi-ld:ContextSourceRegistration:v2-writes');
    assert.equal(body.errors[0]!.error.type, 'https://uri.etsi.org/ngsi-ld/errors/InternalError');
    assert.match(body.errors[0]!.error.detail, /context source http:\/\/127\.0\.0\.1:\d+/);
    assert.equal((await call(village1, 'GET', `entities/urn:ngsi-ld:${T}:v1-1?options=keyValues`)).json<{ temperature: number }>().temperature, 5);
  });

  test('a purge through the regional broker purges the matching entities at the village that holds them', async () => {
    for (const [i, honey] of [[1, 3], [2, 8]] as const) {
      assert.equal((await call(village1, 'POST', 'entities', { id: `urn:ngsi-ld:Beehive:${i}`, type: 'Beehive', honey: { type: 'Property', value: honey } })).status, 201);
    }
    await register('urn:ngsi-ld:ContextSourceRegistration:hives', village1.baseUrl, VILLAGE1, { information: [{ entities: [{ type: 'Beehive' }] }], mode: 'redirect', operations: ['redirectionOps'] });
    const res = await call(regional, 'DELETE', 'entities?type=Beehive&q=honey>5');
    assert.equal(res.status, 204, res.text);
    assert.equal((await call(village1, 'GET', 'entities/urn:ngsi-ld:Beehive:2')).status, 404);
    assert.equal((await call(village1, 'GET', 'entities/urn:ngsi-ld:Beehive:1')).status, 200);
    assert.deepEqual((await call(regional, 'GET', 'entities?type=Beehive')).json<{ id: string }[]>().map((e) => e.id), ['urn:ngsi-ld:Beehive:1']);
  });
});
