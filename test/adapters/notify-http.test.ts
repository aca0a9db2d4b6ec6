// HTTP notification transport (guide §14.4): 2xx success, redirects and errors are failures, timeouts, headers
// and body as given, keep-alive reuse, and destination refusals before and after DNS resolution.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHttpTransport } from '../../src/adapters/notify-http.ts';
import { parseDestinationPolicy } from '../../src/core/destination-policy.ts';
import type { DeliveryMessage } from '../../src/ports/notifier.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface TestServer {
  base: string;
  port: number;
  received: Received[];
  connections: number;
  close(): Promise<void>;
}

async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      handler(req, res);
    });
  });
  server.on('connection', (s: Socket) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    received,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const message = (extra: Partial<DeliveryMessage> = {}): DeliveryMessage => ({
  body: { id: 'urn:ngsi-ld:Notification:1', type: 'Notification', subscriptionId: 'urn:ngsi-ld:Subscription:1', notifiedAt: '2024-05-01T10:00:00.000Z', data: [] },
  headers: { Link: '<https://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"', 'X-Auth': 'secret' },
  contentType: 'application/json',
  ...extra,
});

let srv: TestServer;
const transport = createHttpTransport({ connectTimeoutMs: 500 });
before(async () => {
  srv = await startServer((req, res) => {
    const url = req.url ?? '';
    if (url.startsWith('/status/')) {
      const code = Number(url.slice('/status/'.length));
      if (code >= 300 && code < 400) res.setHeader('Location', `/status/200`);
      res.writeHead(code).end(code === 204 ? undefined : 'answer');
    } else if (url === '/hang') {
      // Never answers: the transport's timeout must end the attempt.
    } else res.writeHead(200).end();
  });
});
after(async () => {
  await transport.close();
  await srv.close();
});

describe('outcomes', () => {
  test('200 and 204 are successes', async () => {
    assert.deepEqual(await transport.deliver(`${srv.base}/status/200`, message(), { timeoutMs: 2000 }), { ok: true });
    assert.deepEqual(await transport.deliver(`${srv.base}/status/204`, message(), { timeoutMs: 2000 }), { ok: true });
  });

  test('a 301 is a failure and the redirect is not followed', async () => {
    const before = srv.received.length;
    const out = await transport.deliver(`${srv.base}/status/301`, message(), { timeoutMs: 2000 });
    assert.equal(out.ok, false);
    assert.match(!out.ok ? out.reason : '', /301/);
    assert.equal(srv.received.length, before + 1, 'exactly one request, no follow-up to the Location');
  });

  test('500 is a retryable failure, 400 a final one', async () => {
    const r500 = await transport.deliver(`${srv.base}/status/500`, message(), { timeoutMs: 2000 });
    assert.deepEqual(r500, { ok: false, reason: 'HTTP 500', retryable: true });
    const r400 = await transport.deliver(`${srv.base}/status/400`, message(), { timeoutMs: 2000 });
    assert.deepEqual(r400, { ok: false, reason: 'HTTP 400', retryable: false });
  });

  test('an endpoint that never answers fails after the timeout', async () => {
    const started = Date.now();
    const out = await transport.deliver(`${srv.base}/hang`, message(), { timeoutMs: 300 });
    const took = Date.now() - started;
    assert.equal(out.ok, false);
    assert.equal(!out.ok && out.retryable, true);
    assert.ok(took >= 290 && took < 1500, `took ${took} ms`);
  });

  test('a refused connection is a retryable failure', async () => {
    const dead = await startServer(() => undefined);
    const url = `${dead.base}/x`;
    await dead.close();
    const out = await transport.deliver(url, message(), { timeoutMs: 1000 });
    assert.equal(out.ok, false);
    assert.match(!out.ok ? out.reason : '', /ECONNREFUSED/);
  });
});

test('the request is a POST with the given headers, Content-Type and JSON body', async () => {
  const m = message({ contentType: 'application/ld+json', headers: { 'NGSILD-Tenant': 'village', 'X-Auth': 'secret', 'Content-Length': '1' } });
  assert.deepEqual(await transport.deliver(`${srv.base}/notify?x=1`, m, { timeoutMs: 2000 }), { ok: true });
  const r = srv.received[srv.received.length - 1]!;
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/notify?x=1');
  assert.equal(r.headers['content-type'], 'application/ld+json');
  assert.equal(r.headers['ngsild-tenant'], 'village');
  assert.equal(r.headers['x-auth'], 'secret');
  assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)), 'Content-Length is the transport’s, not the message’s');
  assert.deepEqual(JSON.parse(r.body), m.body);
});

test('a header value that cannot be sent is a final failure, not an exception', async () => {
  const out = await transport.deliver(`${srv.base}/x`, message({ headers: { 'X-Bad': 'line\nbreak' } }), { timeoutMs: 1000 });
  assert.equal(out.ok, false);
  assert.equal(!out.ok && out.retryable, false);
});

test('consecutive deliveries to one origin reuse one kept-alive connection', async () => {
  const own = await startServer((_req, res) => res.writeHead(204).end());
  const t = createHttpTransport();
  try {
    for (let i = 0; i < 10; i++) assert.deepEqual(await t.deliver(`${own.base}/n/${i}`, message(), { timeoutMs: 2000 }), { ok: true });
    assert.equal(own.received.length, 10);
    assert.equal(own.connections, 1);
  } finally {
    await t.close();
    await own.close();
  }
});

describe('destination policy', () => {
  test('a denied destination is refused before any connection', async () => {
    const t = createHttpTransport({ policy: parseDestinationPolicy('', '127.0.0.0/8') });
    const before = srv.received.length;
    const out = await t.deliver(`${srv.base}/x`, message(), { timeoutMs: 1000 });
    await t.close();
    assert.equal(out.ok, false);
    assert.equal(!out.ok && out.retryable, false);
    assert.match(!out.ok ? out.reason : '', /refused/);
    assert.equal(srv.received.length, before);
  });

  test('a host name resolving into a denied range is refused at delivery time', async () => {
    const t = createHttpTransport({ policy: parseDestinationPolicy('', '127.0.0.0/8, ::1/128') });
    const before = srv.received.length;
    const out = await t.deliver(`http://localhost:${srv.port}/x`, message(), { timeoutMs: 1000 });
    await t.close();
    assert.equal(out.ok, false);
    assert.equal(!out.ok && out.retryable, false);
    assert.match(!out.ok ? out.reason : '', /localhost.*refused/);
    assert.equal(srv.received.length, before);
  });

  test('the default policy lets loopback names through', async () => {
    const t = createHttpTransport({ policy: parseDestinationPolicy('', '') });
    const out = await t.deliver(`http://localhost:${srv.port}/x`, message(), { timeoutMs: 1000 });
    await t.close();
    assert.deepEqual(out, { ok: true });
  });
});
