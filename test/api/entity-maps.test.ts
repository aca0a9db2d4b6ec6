// API tests: EntityMaps (GS CIM 009 §5.14, §5.5.9.3, §6.34; guide §19) — GET /entityMaps?<query> and
// /temporal/entityMaps?<query>, entityMap=true on queries and retrieves, paging over a map with the
// NGSILD-EntityMap header while entities change, GET / PATCH / DELETE /entityMaps/{id}, tenants and expiry.
// Time is an injected clock (offset from real time), so expiry needs no waiting.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../src/ports/clock.ts';
import { ERR, startKend, type TestResponse } from '../support/harness.ts';
import { startFakeSource, type FakeSource } from '../support/fake-source.ts';

let offsetMs = 0;
const clock: Clock = { nowMs: () => Date.now() + offsetMs, nowIso: () => new Date(Date.now() + offsetMs).toISOString() };
const kend = startKend({ KEND_ENTITY_MAP_MAX_LIFETIME: 'PT2H', KEND_ENTITY_MAP_LIFETIME: 'PT10M', KEND_ENTITY_MAP_MAX_ENTRIES: '50' }, { clock });

const HEADER = 'ngsild-entitymap';
const MAPS = '/ngsi-ld/v1/entityMaps/';
type EntityMap = { id: string; type: string; expiresAt: string; entityMap: Record<string, string[]>; linkedMaps: Record<string, string> };
const ids = (res: TestResponse): string[] => res.json<{ id: string }[]>().map((e) => e.id);
const mapUrlOf = (res: TestResponse): string => {
  const v = res.headers[HEADER];
  assert.equal(typeof v, 'string', `no ${HEADER} header (status ${res.status}): ${res.body}`);
  return v as string;
};
const problemType = (res: TestResponse): string => res.json<{ type: string }>().type;
const getMap = async (url: string, headers?: Record<string, string>): Promise<EntityMap> => {
  const res = await kend.get(url, headers);
  assert.equal(res.status, 200, res.body);
  return res.json<EntityMap>();
};
const P = (n: number): string => `urn:ngsi-ld:Plot:${n}`;

before(async () => {
  const plots = [1, 2, 3, 4, 5, 6, 7].map((n) => ({ id: P(n), type: 'Plot', n }));
  assert.equal((await kend.post('entityOperations/create', plots)).status, 201);
  assert.equal((await kend.post('entityOperations/create', [{ id: 'urn:ngsi-ld:Well:1', type: 'Well', depth: 40 }])).status, 201);
});

describe('Creating EntityMaps', () => {
  test('GET /entityMaps?<query> answers 201 with the map as body, announced in NGSILD-EntityMap and Location', async () => {
    const res = await kend.get('entityMaps?type=Plot&q=n<4');
    assert.equal(res.status, 201, res.body);
    const url = mapUrlOf(res);
    assert.equal(res.headers.location, url);
    assert.ok(url.startsWith(MAPS), url);
    const body = res.json<EntityMap>();
    assert.deepEqual(Object.keys(body), ['id', 'type', 'expiresAt', 'entityMap', 'linkedMaps']);
    assert.equal(body.type, 'EntityMap');
    assert.ok(body.id.startsWith('urn:ngsi-ld:EntityMap:'));
    assert.equal(url, `${MAPS}${body.id}`);
    assert.deepEqual(body.entityMap, { [P(1)]: ['@none'], [P(2)]: ['@none'], [P(3)]: ['@none'] });
    assert.deepEqual(Object.keys(body.entityMap), [P(1), P(2), P(3)]);
    assert.deepEqual(body.linkedMaps, {});
    // Default lifetime (KEND_ENTITY_MAP_LIFETIME=PT10M).
    const lifetime = Date.parse(body.expiresAt) - clock.nowMs();
    assert.ok(lifetime > 9 * 60_000 && lifetime <= 10 * 60_000, body.expiresAt);
    assert.deepEqual(await getMap(url), body);
  });

  test('GET /entityMaps follows the breadth rule and validates the query and entityMapLifetime (400)', async () => {
    for (const q of ['', '?id=urn:ngsi-ld:Plot:1', '?type=Plot&q=(n<4', '?type=Plot&entityMapLifetime=soon', '?type=Plot&entityMapLifetime=PT0S', '?type=Plot&entityMap=true']) {
      const res = await kend.get(`entityMaps${q}`);
      assert.equal(res.status, 400, `${q}: ${res.body}`);
      assert.match(problemType(res), /^https:\/\/uri\.etsi\.org\/ngsi-ld\/errors\/(BadRequestData|InvalidRequest)$/);
    }
    assert.equal(problemType(await kend.get('entityMaps')), `${ERR}BadRequestData`);
  });

  test('entityMapLifetime sets the lifetime; one beyond KEND_ENTITY_MAP_MAX_LIFETIME is cut to it', async () => {
    const short = (await kend.get('entityMaps?type=Plot&entityMapLifetime=PT90S')).json<EntityMap>();
    const s = Date.parse(short.expiresAt) - clock.nowMs();
    assert.ok(s > 80_000 && s <= 90_000, short.expiresAt);
    const long = (await kend.get('entityMaps?type=Plot&entityMapLifetime=P10Y')).json<EntityMap>();
    const l = Date.parse(long.expiresAt) - clock.nowMs();
    assert.ok(l > 2 * 3_600_000 - 10_000 && l <= 2 * 3_600_000, long.expiresAt);
  });

  test('entityMap=true on GET /entities answers 201 with the normal page; the map holds every match, not just the page', async () => {
    const res = await kend.get('entities?type=Plot&limit=2&entityMap=true');
    assert.equal(res.status, 201, res.body);
    assert.deepEqual(ids(res), [P(1), P(2)]);
    assert.ok(String(res.headers.link ?? '').includes('rel="next"'));
    const map = await getMap(mapUrlOf(res));
    assert.deepEqual(Object.keys(map.entityMap), [1, 2, 3, 4, 5, 6, 7].map(P));
    assert.equal((await kend.get('entities?type=Plot&entityMap=false')).status, 200);
    assert.equal((await kend.get('entities?type=Plot&entityMap=maybe')).status, 400);
    assert.equal((await kend.get('entities?type=Plot&entityMap=true&entityMapLifetime=forever')).status, 400);
    const posted = await kend.post('entityOperations/query?entityMap=true&limit=1', { type: 'Query', entities: [{ type: 'Well' }] });
    assert.equal(posted.status, 201, posted.body);
    assert.deepEqual(Object.keys((await getMap(mapUrlOf(posted))).entityMap), ['urn:ngsi-ld:Well:1']);
  });

  test('entityMap=true on GET /entities/{id} answers 200 with the entity and a new map holding it; 404 makes no map', async () => {
    const res = await kend.get(`entities/${P(3)}?entityMap=true&entityMapLifetime=PT5M`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json<{ id: string }>().id, P(3));
    const map = await getMap(mapUrlOf(res));
    assert.deepEqual(map.entityMap, { [P(3)]: ['@none'] });
    const missing = await kend.get('entities/urn:ngsi-ld:Plot:404?entityMap=true');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers[HEADER], undefined);
  });

  test('a query matching more than KEND_ENTITY_MAP_MAX_ENTRIES entities cannot get a map (403 TooManyResults)', async () => {
    const many = Array.from({ length: 51 }, (_, i) => ({ id: `urn:ngsi-ld:Crowd:${i}`, type: 'Crowd' }));
    assert.equal((await kend.post('entityOperations/create', many)).status, 201);
    const res = await kend.get('entityMaps?type=Crowd');
    assert.equal(res.status, 403, res.body);
    assert.equal(problemType(res), `${ERR}TooManyResults`);
    assert.equal((await kend.get('entityMaps?type=Crowd&q=id!="x"&idPattern=Crowd:[0-9]$')).status, 201);
  });
});

describe('Paging over an EntityMap (NGSILD-EntityMap request header)', () => {
  test('pages come from the frozen candidates: new entities stay out, deleted or no longer matching ones are skipped and removed, pages are full, the count counts the remaining matches', async () => {
    const seed = [10, 11, 12, 13, 14, 15, 16].map((n) => ({ id: P(n), type: 'Plot', n, zone: 'east' }));
    assert.equal((await kend.post('entityOperations/create', seed)).status, 201);
    const first = await kend.get('entities?type=Plot&q=zone=="east"&limit=3&entityMap=true');
    assert.equal(first.status, 201);
    assert.deepEqual(ids(first), [P(10), P(11), P(12)]);
    const url = mapUrlOf(first);

    // Between the pages: one created that matches, one deleted, one changed so that it no longer matches.
    assert.equal((await kend.post('entities', { id: P(17), type: 'Plot', n: 17, zone: 'east' })).status, 201);
    assert.equal((await kend.del(`entities/${P(13)}`)).status, 204);
    assert.equal((await kend.patch(`entities/${P(15)}/attrs`, { zone: 'west' })).status, 204);

    const second = await kend.get('entities?type=Plot&q=zone=="east"&limit=3&offset=3&count=true', { 'NGSILD-EntityMap': url });
    assert.equal(second.status, 200, second.body);
    assert.equal(second.headers[HEADER], url);
    assert.deepEqual(ids(second), [P(14), P(16)]);
    assert.equal(second.headers['ngsild-results-count'], '5');
    assert.ok(!String(second.headers.link ?? '').includes('rel="next"'));
    assert.ok(String(second.headers.link ?? '').includes('rel="prev"'));

    // The map lost the skipped candidates; the newcomer never joined.
    assert.deepEqual(Object.keys((await getMap(url)).entityMap), [P(10), P(11), P(12), P(14), P(16)]);
    // The first page again: full, from the remaining candidates.
    const again = await kend.get('entities?type=Plot&q=zone=="east"&limit=3', { 'NGSILD-EntityMap': url });
    assert.deepEqual(ids(again), [P(10), P(11), P(12)]);
    assert.ok(String(again.headers.link ?? '').includes('rel="next"'));
    // Filters of the request are applied over the candidates.
    const narrowed = await kend.get('entities?type=Plot&q=n>11&limit=10&count=true', { 'NGSILD-EntityMap': url });
    assert.deepEqual(ids(narrowed), [P(12), P(14), P(16)]);
    assert.equal(narrowed.headers['ngsild-results-count'], '3');
  });

  test('a page is filled up to limit past skipped candidates, and the header may be the bare map id or a full URL', async () => {
    const seed = [20, 21, 22, 23, 24, 25].map((n) => ({ id: P(n), type: 'Plot', n, zone: 'north' }));
    assert.equal((await kend.post('entityOperations/create', seed)).status, 201);
    const created = await kend.get('entityMaps?type=Plot&q=zone=="north"');
    const map = created.json<EntityMap>();
    for (const n of [20, 21, 23]) assert.equal((await kend.del(`entities/${P(n)}`)).status, 204);
    const page = await kend.get('entities?type=Plot&q=zone=="north"&limit=2', { 'NGSILD-EntityMap': map.id });
    assert.equal(page.status, 200);
    assert.deepEqual(ids(page), [P(22), P(24)]);
    assert.equal(page.headers[HEADER], mapUrlOf(created));
    const full = await kend.get('entities?type=Plot&q=zone=="north"&limit=2&offset=2', { 'NGSILD-EntityMap': `http://kend.example${MAPS}${encodeURIComponent(map.id)}` });
    assert.deepEqual(ids(full), [P(25)]);
  });

  test('an unknown, malformed or deleted map reference makes a new map, announced with 201', async () => {
    for (const ref of [`${MAPS}urn:ngsi-ld:EntityMap:unknown`, 'not a map', `${MAPS}%E0%A4%A`]) {
      const res = await kend.get('entities?type=Well', { 'NGSILD-EntityMap': ref });
      assert.equal(res.status, 201, `${ref}: ${res.body}`);
      assert.deepEqual(ids(res), ['urn:ngsi-ld:Well:1']);
      assert.notEqual(mapUrlOf(res), ref);
      assert.deepEqual(Object.keys((await getMap(mapUrlOf(res))).entityMap), ['urn:ngsi-ld:Well:1']);
    }
  });
});

describe('GET / PATCH / DELETE /entityMaps/{id}', () => {
  test('retrieve: a non-URI id is 400, an unknown one 404; the 1.8.1 singular path is an alias', async () => {
    const bad = await kend.get('entityMaps/not-a-uri');
    assert.equal(bad.status, 400);
    assert.equal(problemType(bad), `${ERR}BadRequestData`);
    const unknown = await kend.get('entityMaps/urn:ngsi-ld:EntityMap:nope');
    assert.equal(unknown.status, 404);
    assert.equal(problemType(unknown), `${ERR}ResourceNotFound`);
    const map = (await kend.get('entityMaps?type=Well')).json<EntityMap>();
    assert.deepEqual(await getMap(`entityMap/${map.id}`), map);
    assert.equal((await kend.get(`entityMap/${map.id}?x=1`)).status, 400);
    const ld = await kend.get(`entityMaps/${map.id}`, { accept: 'application/ld+json' });
    assert.ok('@context' in ld.json<Record<string, unknown>>());
  });

  test('PATCH changes only expiresAt (capped at the maximum lifetime) and ignores output members; bad expiresAt is 400', async () => {
    const map = (await kend.get('entityMaps?type=Plot&q=n<3')).json<EntityMap>();
    const later = new Date(clock.nowMs() + 3_600_000).toISOString();
    const res = await kend.patch(`entityMaps/${map.id}`, { expiresAt: later, entityMap: { 'urn:x:intruder': ['@none'] }, linkedMaps: { a: 'b' }, id: 'urn:x:other', type: 'EntityMap' });
    assert.equal(res.status, 204, res.body);
    const after = await getMap(`entityMaps/${map.id}`);
    assert.equal(after.expiresAt, later);
    assert.deepEqual(after.entityMap, map.entityMap);
    assert.deepEqual(after.linkedMaps, {});
    assert.equal((await kend.patch(`entityMaps/${map.id}`, { expiresAt: '2999-01-01T00:00:00Z' })).status, 204);
    const capped = Date.parse((await getMap(`entityMaps/${map.id}`)).expiresAt) - clock.nowMs();
    assert.ok(capped <= 2 * 3_600_000 && capped > 2 * 3_600_000 - 10_000, String(capped));
    for (const body of [{ expiresAt: 'tomorrow' }, { expiresAt: 5 }, { expiresAt: '2030-01-01T00:00:00+02:00' }, { colour: 'red' }]) {
      const r = await kend.patch(`entityMaps/${map.id}`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(problemType(r), `${ERR}BadRequestData`);
    }
    assert.equal((await kend.request('PATCH', `entityMaps/${map.id}`, { rawBody: '[1]' })).status, 400);
    assert.equal((await kend.patch('entityMaps/urn:ngsi-ld:EntityMap:nope', { expiresAt: later })).status, 404);
    assert.equal((await kend.patch('entityMaps/nope', { expiresAt: later })).status, 400);
    assert.equal((await kend.patch(`entityMap/${map.id}`, { expiresAt: later })).status, 204);
  });

  test('DELETE answers 204, then the map is gone (404 on GET, PATCH and DELETE); a query naming it gets a new map', async () => {
    const created = await kend.get('entityMaps?type=Well');
    const map = created.json<EntityMap>();
    assert.equal((await kend.del(`entityMaps/${map.id}`)).status, 204);
    assert.equal((await kend.get(`entityMaps/${map.id}`)).status, 404);
    assert.equal((await kend.patch(`entityMaps/${map.id}`, { expiresAt: new Date(clock.nowMs() + 60_000).toISOString() })).status, 404);
    assert.equal((await kend.del(`entityMaps/${map.id}`)).status, 404);
    assert.equal((await kend.del('entityMaps/bad')).status, 400);
    const res = await kend.get('entities?type=Well', { 'NGSILD-EntityMap': mapUrlOf(created) });
    assert.equal(res.status, 201);
    assert.notEqual(mapUrlOf(res), mapUrlOf(created));
  });

  test('other methods on the collection and the items are 405', async () => {
    assert.equal((await kend.post('entityMaps', {})).status, 405);
    assert.equal((await kend.del('entityMaps')).status, 405);
    assert.equal((await kend.put('entityMaps/urn:ngsi-ld:EntityMap:x', {})).status, 405);
  });
});

describe('EntityMaps are per tenant', () => {
  test('another tenant’s map is unknown (404) and naming it in a query makes a new map of this tenant', async () => {
    const tenant = { 'NGSILD-Tenant': 'emap_tenant' };
    assert.equal((await kend.post('entities', { id: 'urn:ngsi-ld:Plot:t1', type: 'Plot', n: 1 }, tenant)).status, 201);
    const created = await kend.get('entityMaps?type=Plot', tenant);
    assert.equal(created.status, 201);
    assert.equal(created.headers['ngsild-tenant'], 'emap_tenant');
    const map = created.json<EntityMap>();
    assert.deepEqual(Object.keys(map.entityMap), ['urn:ngsi-ld:Plot:t1']);
    assert.deepEqual(await getMap(`entityMaps/${map.id}`, tenant), map);
    assert.equal((await kend.get(`entityMaps/${map.id}`)).status, 404);
    assert.equal((await kend.patch(`entityMaps/${map.id}`, { expiresAt: new Date(clock.nowMs() + 60_000).toISOString() })).status, 404);
    assert.equal((await kend.del(`entityMaps/${map.id}`)).status, 404);
    const elsewhere = await kend.get('entities?type=Plot&q=n==1', { 'NGSILD-EntityMap': mapUrlOf(created) });
    assert.equal(elsewhere.status, 201);
    assert.deepEqual(ids(elsewhere), [P(1)]);
    assert.notEqual(mapUrlOf(elsewhere), mapUrlOf(created));
    assert.equal((await kend.get(`entityMaps/${map.id}`, { 'NGSILD-Tenant': 'no_such_tenant' })).status, 404);
  });
});

describe('EntityMaps of the temporal API', () => {
  const window = 'timerel=after&timeAt=2000-01-01T00:00:00Z&timeproperty=modifiedAt';

  test('GET /temporal/entityMaps needs a temporal query (400) and answers 201 with the matching entities', async () => {
    assert.equal((await kend.get('temporal/entityMaps?type=Plot')).status, 400);
    assert.equal((await kend.get(`temporal/entityMaps?${window}`)).status, 400);
    const res = await kend.get(`temporal/entityMaps?type=Plot&q=n<4&${window}`);
    assert.equal(res.status, 201, res.body);
    assert.deepEqual(Object.keys(res.json<EntityMap>().entityMap), [P(1), P(2), P(3)]);
    assert.equal(res.headers.location, mapUrlOf(res));
  });

  test('entityMap=true on GET /temporal/entities (201) and on GET /temporal/entities/{id} (200); paging over the map skips removed candidates', async () => {
    const seed = [30, 31, 32, 33].map((n) => ({ id: P(n), type: 'Plot', n, zone: 'south' }));
    assert.equal((await kend.post('entityOperations/create', seed)).status, 201);
    const first = await kend.get(`temporal/entities?type=Plot&q=zone=="south"&${window}&limit=2&entityMap=true`);
    assert.equal(first.status, 201, first.body);
    assert.deepEqual(ids(first), [P(30), P(31)]);
    const url = mapUrlOf(first);
    assert.equal((await kend.post('entities', { id: P(34), type: 'Plot', n: 34, zone: 'south' })).status, 201);
    // The newcomer P(34) stays out of the map's pages.
    const second = await kend.get(`temporal/entities?type=Plot&q=zone=="south"&${window}&limit=2&offset=2&count=true`, { 'NGSILD-EntityMap': url });
    assert.equal(second.status, 200, second.body);
    assert.deepEqual(ids(second), [P(32), P(33)]);
    assert.equal(second.headers['ngsild-results-count'], '4');
    assert.equal(second.headers[HEADER], url);
    const narrowed = await kend.get(`temporal/entities?type=Plot&q=n>31&${window}&limit=5&count=true`, { 'NGSILD-EntityMap': url });
    assert.deepEqual(ids(narrowed), [P(32), P(33)]);
    assert.equal(narrowed.headers['ngsild-results-count'], '2');
    assert.deepEqual(Object.keys((await getMap(url)).entityMap), [P(32), P(33)]);

    const one = await kend.get(`temporal/entities/${P(30)}?entityMap=true`);
    assert.equal(one.status, 200, one.body);
    assert.deepEqual((await getMap(mapUrlOf(one))).entityMap, { [P(30)]: ['@none'] });
    assert.equal((await kend.get(`temporal/entities/${P(30)}?entityMapLifetime=x&entityMap=true`)).status, 400);
  });
});

describe('EntityMap expiry', () => {
  test('an expired map is 404 everywhere, and a query naming it gets a new map', async () => {
    const created = await kend.get('entityMaps?type=Well&entityMapLifetime=PT30S');
    const map = created.json<EntityMap>();
    const patched = await kend.patch(`entityMaps/${map.id}`, { expiresAt: new Date(clock.nowMs() + 60_000).toISOString() });
    assert.equal(patched.status, 204);
    offsetMs += 61_000;
    try {
      assert.equal((await kend.get(`entityMaps/${map.id}`)).status, 404);
      assert.equal((await kend.patch(`entityMaps/${map.id}`, { expiresAt: new Date(clock.nowMs() + 60_000).toISOString() })).status, 404);
      assert.equal((await kend.del(`entityMaps/${map.id}`)).status, 404);
      const res = await kend.get('entities?type=Well', { 'NGSILD-EntityMap': mapUrlOf(created) });
      assert.equal(res.status, 201);
      assert.notEqual(mapUrlOf(res), mapUrlOf(created));
    } finally {
      offsetMs -= 61_000;
    }
  });
});

describe('EntityMaps with registered context sources', () => {
  const FARM = (n: number): string => `urn:ngsi-ld:Farm:${n}`;
  let remote = [2, 3];
  let source: FakeSource;
  let reg: string;

  before(async () => {
    source = await startFakeSource((req) => {
      if (req.path === '/ngsi-ld/v1/entities') return { json: remote.map((n) => ({ id: FARM(n), type: 'Farm', n: { type: 'Property', value: n } })) };
      const n = Number(/Farm:(\d+)$/.exec(req.path)?.[1]);
      return remote.includes(n) ? { json: { id: FARM(n), type: 'Farm', n: { type: 'Property', value: n } } } : { status: 404, json: {} };
    });
    reg = 'urn:ngsi-ld:ContextSourceRegistration:emap-farms';
    const res = await kend.post('csourceRegistrations', { id: reg, type: 'ContextSourceRegistration', information: [{ entities: [{ type: 'Farm' }] }], endpoint: source.url });
    assert.equal(res.status, 201, res.body);
    assert.equal((await kend.post('entities', { id: FARM(1), type: 'Farm', n: 1 })).status, 201);
  });
  after(async () => {
    await source.close();
  });

  test('the map records which registration holds each entity ("@none" for local ones), and paging over it re-asks the sources', async () => {
    const created = await kend.get('entityMaps?type=Farm');
    assert.equal(created.status, 201, created.body);
    assert.deepEqual(created.json<EntityMap>().entityMap, { [FARM(1)]: ['@none'], [FARM(2)]: [reg], [FARM(3)]: [reg] });
    const url = mapUrlOf(created);
    remote = [3, 4];
    const page = await kend.get('entities?type=Farm&count=true', { 'NGSILD-EntityMap': url });
    assert.equal(page.status, 200, page.body);
    assert.deepEqual(ids(page), [FARM(1), FARM(3)]);
    assert.equal(page.headers['ngsild-results-count'], '2');
    assert.deepEqual((await getMap(url)).entityMap, { [FARM(1)]: ['@none'], [FARM(3)]: [reg] });
    assert.ok(source.requests.length >= 2);
  });

  test('entityMap=true on a retrieve names the source that held the entity', async () => {
    remote = [2];
    const res = await kend.get(`entities/${FARM(2)}?entityMap=true`);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual((await getMap(mapUrlOf(res))).entityMap, { [FARM(2)]: [reg] });
  });
});
