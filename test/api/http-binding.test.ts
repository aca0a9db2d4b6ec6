// API tests: the HTTP binding rules every operation shares (§6.3): 411, 415, 406, 405, 413, routing, headers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { ERR, startKend } from '../support/harness.ts';

const kend = startKend({ KEND_MAX_BODY_BYTES: '2048' });

describe('HTTP binding', () => {
  test('a POST without Content-Length (chunked upload) answers a bare 411', async () => {
    const address = await (await kend.instance()).app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = new URL(address);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
            'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n1f\r\n{"id":"urn:a:chunk","type":"T"}\r\n0\r\n\r\n',
        );
      });
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 411 /);
    assert.equal((await kend.get('entities/urn:a:chunk')).status, 404);
  });

  test('a Content-Type other than JSON or JSON-LD answers 415 before any lookup', async () => {
    const res = await kend.request('POST', 'entities/urn:ngsi-ld:T:none/attrs', { rawBody: '{}', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 415);
  });

  test('a PATCH with a wrong Content-Type answers 415 with Accept-Patch', async () => {
    const res = await kend.request('PATCH', 'entities/urn:ngsi-ld:T:none', { rawBody: '{}', headers: { 'content-type': 'application/xml' } });
    assert.equal(res.status, 415);
    assert.match(String(res.headers['accept-patch']), /application\/merge-patch\+json/);
  });

  test('media-type parameters such as charset are tolerated', async () => {
    const res = await kend.request('POST', 'entities', {
      body: { id: 'urn:ngsi-ld:T:cs', type: 'T' },
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    assert.equal(res.status, 201);
  });

  test('a body without Content-Type is read as JSON', async () => {
    const res = await (await kend.instance()).app.inject({ method: 'POST', url: '/ngsi-ld/v1/entities', payload: '{"id":"urn:ngsi-ld:T:noct","type":"T"}' });
    assert.equal(res.statusCode, 201, res.body);
  });

  test('an Accept that allows none of the offered types answers 406 before any lookup', async () => {
    const res = await kend.get('entities/urn:ngsi-ld:T:none', { accept: 'text/html' });
    assert.equal(res.status, 406);
  });

  test('Accept weights decide, ties go to application/json, */* means JSON', async () => {
    await kend.post('entities', { id: 'urn:ngsi-ld:T:acc', type: 'T' });
    const cases: [string, string][] = [
      ['*/*', 'application/json'],
      ['application/ld+json, application/json', 'application/json'],
      ['application/json;q=0, */*', 'application/ld+json'],
      ['*/*;q=0.9, application/ld+json;q=0.8', 'application/json'],
      ['application/ld+json;q=0.9, application/json;q=0.1', 'application/ld+json'],
    ];
    for (const [accept, expected] of cases) {
      const res = await kend.get('entities/urn:ngsi-ld:T:acc', { accept });
      assert.equal(res.headers['content-type'], expected, accept);
    }
  });

  test('a wrong method on a known path answers 405 with Allow', async () => {
    const res = await kend.request('POST', 'entities/urn:ngsi-ld:T:x');
    assert.equal(res.status, 405);
    assert.match(String(res.headers.allow), /GET/);
  });

  test('a body over the configured limit answers 413 with a ProblemDetails body', async () => {
    const res = await kend.post('entities', { id: 'urn:ngsi-ld:T:big', type: 'T', blob: 'x'.repeat(4096) });
    assert.equal(res.status, 413);
    assert.equal(res.json<{ type: string }>().type, `${ERR}InvalidRequest`);
    assert.equal((await kend.get('entities/urn:ngsi-ld:T:big')).status, 404);
  });

  test('a trailing slash is insignificant', async () => {
    await kend.post('entities/', { id: 'urn:ngsi-ld:T:slash', type: 'T' });
    assert.equal((await kend.get('entities/urn:ngsi-ld:T:slash/')).status, 200);
  });

  test('an empty entity id in the path answers 400', async () => {
    assert.equal((await kend.post('entities//attrs', { a: 1 })).status, 400);
    assert.equal((await kend.patch('entities/', { a: 1 })).status, 400);
    assert.equal((await kend.put('entities/', { type: 'T' })).status, 400);
  });

  test('errors are application/json ProblemDetails without a Link header', async () => {
    const res = await kend.get('entities/urn:ngsi-ld:T:none', { accept: 'application/ld+json' });
    assert.equal(res.status, 404);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers.link, undefined);
    const p = res.json<{ type: string; title: string; detail: string; status: number }>();
    assert.equal(p.status, 404);
    assert.ok(p.title && p.detail);
  });

  test('204 responses carry no body and no Content-Length', async () => {
    await kend.post('entities', { id: 'urn:ngsi-ld:T:nocl', type: 'T' });
    const res = await kend.del('entities/urn:ngsi-ld:T:nocl');
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    assert.equal(res.headers['content-length'], undefined);
  });

  test('a duplicated URL parameter answers 400', async () => {
    const res = await kend.get('entities/urn:ngsi-ld:T:x?type=A&type=B');
    assert.equal(res.status, 400);
  });

  test('an unknown path answers 404 ResourceNotFound', async () => {
    const res = await kend.get('nothing-here');
    assert.equal(res.status, 404);
    assert.equal(res.json<{ type: string }>().type, `${ERR}ResourceNotFound`);
  });
});
