// API tests: @context handling through HTTP (§6.3.5, §5.5.7) and the /jsonldContexts API (§5.13).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERR, startKend } from '../support/harness.ts';

// A local "remote" context server on 127.0.0.1: a user context, a nested one, a slow one, an oversize one.
let server: Server;
let base = '';
const hits = new Map<string, number>();
const hanging: import('node:http').ServerResponse[] = [];
before(async () => {
  server = createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/ld+json' });
      res.end(JSON.stringify(body));
    };
    switch (req.url) {
      case '/village.jsonld':
        return send({ '@context': { agri: 'https://agri.example/ns#', moisture: 'agri:soilMoisture', Parcel: 'agri:Parcel' } });
      case '/nested.jsonld':
        return send({ '@context': [`${base}/village.jsonld`, { depth: 'agri:depth' }] });
      case '/slow.jsonld':
        hanging.push(res);
        return;
      case '/big.jsonld':
        return send({ '@context': { big: 'x'.repeat(20_000) } });
      case '/notjson.jsonld':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('this is not JSON');
      default:
        res.writeHead(404);
        return res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const kend = startKend({ KEND_CONTEXT_FETCH_TIMEOUT_MS: '1500', KEND_CONTEXT_MAX_BYTES: '4096' });
const link = (url: string) => ({ link: `<${url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"` });

describe('@context from the Link header (application/json)', () => {
  test('terms of a remote user context expand on write and compact on read with the same context', async () => {
    const res = await kend.post('entities', { id: 'urn:ngsi-ld:Parcel:p1', type: 'Parcel', moisture: 30 }, link(`${base}/village.jsonld`));
    assert.equal(res.status, 201, res.body);
    const withCtx = await kend.get('entities/urn:ngsi-ld:Parcel:p1', link(`${base}/village.jsonld`));
    assert.deepEqual(withCtx.json(), { id: 'urn:ngsi-ld:Parcel:p1', type: 'Parcel', moisture: { type: 'Property', value: 30 } });
    assert.equal(withCtx.headers.link, link(`${base}/village.jsonld`).link);
    const without = await kend.get('entities/urn:ngsi-ld:Parcel:p1');
    assert.deepEqual(without.json(), {
      id: 'urn:ngsi-ld:Parcel:p1',
      type: 'https://agri.example/ns#Parcel',
      'https://agri.example/ns#soilMoisture': { type: 'Property', value: 30 },
    });
  });

  test('a remote context is downloaded once and then served from the cache', async () => {
    const before = hits.get('/village.jsonld') ?? 0;
    for (let i = 0; i < 3; i++) await kend.get('entities/urn:ngsi-ld:Parcel:p1', link(`${base}/village.jsonld`));
    assert.equal(hits.get('/village.jsonld') ?? 0, Math.max(before, 1));
  });

  test('nested remote contexts are followed', async () => {
    const res = await kend.post('entities', { id: 'urn:ngsi-ld:Parcel:p2', type: 'Parcel', depth: 3 }, link(`${base}/nested.jsonld`));
    assert.equal(res.status, 201, res.body);
    const e = (await kend.get('entities/urn:ngsi-ld:Parcel:p2')).json<Record<string, unknown>>();
    assert.ok('https://agri.example/ns#depth' in e);
  });

  test('an unreachable, slow or oversize context answers 504 LdContextNotAvailable and stores nothing', async () => {
    for (const path of ['/missing.jsonld', '/slow.jsonld', '/big.jsonld']) {
      const id = `urn:ngsi-ld:Parcel:x${path.length}`;
      const res = await kend.post('entities', { id, type: 'Parcel' }, link(`${base}${path}`));
      assert.equal(res.status, 504, `${path}: ${res.body}`);
      assert.equal(res.json<{ type: string }>().type, `${ERR}LdContextNotAvailable`);
      assert.equal((await kend.get(`entities/${id}`)).status, 404);
    }
  });

  test('a context that is not JSON answers 400 BadRequestData', async () => {
    const res = await kend.post('entities', { id: 'urn:ngsi-ld:Parcel:nj', type: 'Parcel' }, link(`${base}/notjson.jsonld`));
    assert.equal(res.status, 400);
    assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
  });

  test('core context URLs of every version are never fetched', async () => {
    for (const v of ['', '-v1.3', '-v1.6', '-v1.8', '-v1.9']) {
      const res = await kend.get('entities/urn:ngsi-ld:Parcel:p1', link(`https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context${v}.jsonld`));
      assert.equal(res.status, 200, v);
    }
  });
});

describe('@context in the body (application/ld+json)', () => {
  const ld = { 'content-type': 'application/ld+json' };

  test('an inline @context array is applied and the response names a served context', async () => {
    const body = {
      id: 'urn:ngsi-ld:Parcel:ld1',
      type: 'Parcel',
      moisture: 12,
      '@context': [{ agri: 'https://agri.example/ns#', moisture: 'agri:soilMoisture', Parcel: 'agri:Parcel' }, 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld'],
    };
    assert.equal((await kend.post('entities', body, ld)).status, 201);
    const read = await kend.get('entities/urn:ngsi-ld:Parcel:ld1', link(`${base}/village.jsonld`));
    assert.deepEqual(read.json<Record<string, unknown>>().moisture, { type: 'Property', value: 12 });
  });

  test('an ld+json body without @context answers 400', async () => {
    const res = await kend.post('entities', { id: 'urn:ngsi-ld:Parcel:ld2', type: 'Parcel' }, ld);
    assert.equal(res.status, 400);
    assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
  });

  test('a Link header together with an ld+json body answers 400', async () => {
    const res = await kend.post(
      'entities',
      { id: 'urn:ngsi-ld:Parcel:ld3', type: 'Parcel', '@context': `${base}/village.jsonld` },
      { ...ld, ...link(`${base}/village.jsonld`) },
    );
    assert.equal(res.status, 400);
  });

  test('a scoped context (a term with its own @context) answers 400', async () => {
    const res = await kend.post('entities', { id: 'urn:ngsi-ld:Parcel:ld4', type: 'Parcel', '@context': { x: { '@id': 'ex:x', '@context': {} } } }, ld);
    assert.equal(res.status, 400);
  });
});

describe('/jsonldContexts', () => {
  test('add, list, serve and delete a Hosted context', async () => {
    const add = await kend.post('jsonldContexts', { '@context': { lamp: 'https://light.example/lamp' } });
    assert.equal(add.status, 201, add.body);
    const location = String(add.headers.location);
    assert.match(location, /^\/ngsi-ld\/v1\/jsonldContexts\/.+/);
    const localId = location.split('/').pop()!;

    const served = await kend.get(location);
    assert.equal(served.status, 200);
    assert.deepEqual(served.json(), { '@context': { lamp: 'https://light.example/lamp' } });

    const list = (await kend.get('jsonldContexts?kind=Hosted')).json<string[]>();
    assert.ok(list.some((u) => u.endsWith(`/jsonldContexts/${localId}`)));
    const details = (await kend.get('jsonldContexts?details=true')).json<{ localId: string; kind: string; URL: string; createdAt: string }[]>();
    const mine = details.find((d) => d.localId === localId)!;
    assert.equal(mine.kind, 'Hosted');
    assert.ok(mine.createdAt);

    // The served URL works as a Link context.
    const url = list.find((u) => u.endsWith(localId))!;
    assert.equal((await kend.post('entities', { id: 'urn:ngsi-ld:Lamp:1', type: 'Lamp', lamp: 1 }, link(url))).status, 201);
    assert.ok('https://light.example/lamp' in (await kend.get('entities/urn:ngsi-ld:Lamp:1')).json<object>());

    assert.equal((await kend.del(location)).status, 204);
    assert.equal((await kend.get(location)).status, 404);
    assert.equal((await kend.del(location)).status, 404);
  });

  test('remote contexts used by requests are listed as Cached and cannot be served', async () => {
    await kend.get('entities/urn:ngsi-ld:Parcel:p1', link(`${base}/village.jsonld`));
    const cached = (await kend.get('jsonldContexts?kind=Cached')).json<string[]>();
    assert.ok(cached.includes(`${base}/village.jsonld`));
    const res = await kend.get(`jsonldContexts/${encodeURIComponent(`${base}/village.jsonld`)}`);
    assert.equal(res.status, 422);
    assert.equal(res.json<{ type: string }>().type, `${ERR}OperationNotSupported`);
    const meta = await kend.get(`jsonldContexts/${encodeURIComponent(`${base}/village.jsonld`)}?details=true`);
    assert.equal(meta.status, 200);
    assert.equal(meta.json<{ kind: string }>().kind, 'Cached');
  });

  test('the core context is listed and reload of it succeeds; plain delete of it answers 400', async () => {
    const details = (await kend.get('jsonldContexts?details=true')).json<{ URL: string; localId: string }[]>();
    const core = details.find((d) => d.URL === 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld');
    assert.ok(core);
    assert.equal((await kend.del(`jsonldContexts/${core.localId}?reload=true`)).status, 204);
    assert.equal((await kend.del(`jsonldContexts/${core.localId}`)).status, 400);
  });

  test('invalid requests answer the spec errors', async () => {
    assert.equal((await kend.post('jsonldContexts', { nothing: 1 })).status, 400);
    assert.equal((await kend.post('jsonldContexts', { '@context': 5 })).status, 400);
    assert.equal((await kend.request('POST', 'jsonldContexts', { rawBody: '{' })).json<{ type: string }>().type, `${ERR}InvalidRequest`);
    assert.equal((await kend.get('jsonldContexts?kind=Other')).status, 400);
    assert.equal((await kend.get('jsonldContexts?details=maybe')).status, 400);
    assert.equal((await kend.get('jsonldContexts/unknown-id')).status, 404);
    assert.equal((await kend.del('jsonldContexts/unknown-id?reload=true')).status, 400);
    assert.equal((await kend.del('jsonldContexts/unknown-id?reload=maybe')).status, 400);
  });
});
