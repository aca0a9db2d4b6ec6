// Resolving request @contexts (§4.4, §5.5.7, §6.3.5): core only, user terms, remote documents, caching,
// limits and errors; core URLs are never downloaded.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpDocumentFetcher } from '../../src/adapters/context-fetch-http.ts';
import { createContextResolver } from '../../src/services/context-resolver.ts';
import {
  CORE_19,
  DEFAULT,
  NGSI,
  PUBLIC_URL,
  forbiddenFetcher,
  problemOf,
  startContextServer,
  testDeps,
  type ContextServer,
} from './context-fixtures.ts';

let srv: ContextServer;
before(async () => {
  srv = await startContextServer();
});
after(async () => {
  await srv.close();
});

const httpResolver = (overrides = {}) => {
  const deps = testDeps(createHttpDocumentFetcher(), overrides);
  return { deps, resolver: createContextResolver(deps) };
};

describe('core context', () => {
  test('without a user context types and attributes expand with the core context alone', async () => {
    const rc = await createContextResolver(testDeps(forbiddenFetcher([]))).resolve(undefined);
    assert.equal(rc.isCoreOnly, true);
    assert.equal(rc.url, CORE_19);
    assert.equal(rc.value, CORE_19);
    assert.equal(rc.terms.expandTerm('Sensor'), `${DEFAULT}Sensor`);
    assert.equal(rc.terms.expandTerm('location'), `${NGSI}location`);
    assert.equal(rc.terms.compactIri(`${DEFAULT}Sensor`), 'Sensor');
  });

  test('the core-only context is computed once and shared by every request', async () => {
    const resolver = createContextResolver(testDeps(forbiddenFetcher([])));
    assert.equal(await resolver.resolve(undefined), await resolver.resolve(undefined));
  });

  test('no core context URL variant is ever downloaded, alone, in arrays or inside remote contexts', async () => {
    const calls: string[] = [];
    const resolver = createContextResolver(testDeps(forbiddenFetcher(calls)));
    const variants = ['', '-v1.3', '-v1.4', '-v1.5', '-v1.6', '-v1.7', '-v1.8', '-v1.9'].map(
      (v) => `https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context${v}.jsonld`,
    );
    variants.push('http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld');
    for (const url of variants) {
      const rc = await resolver.resolve(url);
      assert.equal(rc.terms.expandTerm('location'), `${NGSI}location`, url);
      assert.equal(rc.url, url);
      assert.equal(rc.isCoreOnly, false);
      const mixed = await resolver.resolve([url, { ex: 'http://example.org/' }]);
      assert.equal(mixed.terms.expandTerm('ex:a'), 'http://example.org/a');
    }
    const { localId } = await resolver.addHosted({ '@context': [variants[0], { hosted: 'http://example.org/h' }] });
    const hosted = await resolver.resolve(resolver.servedUrl(localId));
    assert.equal(hosted.terms.expandTerm('hosted'), 'http://example.org/h');
    assert.deepEqual(calls, []);
  });
});

describe('user contexts', () => {
  test('terms and prefixes of an inline context expand, and undefined names still use the core @vocab', async () => {
    const resolver = createContextResolver(testDeps(forbiddenFetcher([])));
    const value = { ex: 'http://example.org/', temperature: 'ex:temperature' };
    const rc = await resolver.resolve(value);
    assert.equal(rc.terms.expandTerm('temperature'), 'http://example.org/temperature');
    assert.equal(rc.terms.expandTerm('ex:temp'), 'http://example.org/temp');
    assert.equal(rc.terms.expandTerm('Sensor'), `${DEFAULT}Sensor`);
    assert.equal(rc.value, value);
    assert.equal(rc.url, undefined);
    assert.equal(rc.isCoreOnly, false);
  });

  test('the core context wins over a user redefinition of a core term, wherever the core sits', async () => {
    const resolver = createContextResolver(testDeps(forbiddenFetcher([])));
    const redefine = { location: 'http://example.org/loc', type: 'http://example.org/type', Vehicle: 'http://example.org/Vehicle' };
    for (const ctx of [redefine, [CORE_19, redefine], [redefine, CORE_19]]) {
      const rc = await resolver.resolve(ctx);
      assert.equal(rc.terms.expandTerm('location'), `${NGSI}location`);
      assert.equal(rc.terms.expandTerm('type'), '@type');
      assert.equal(rc.terms.expandTerm('Vehicle'), 'http://example.org/Vehicle');
    }
  });

  test('user contexts may use the core prefixes', async () => {
    const rc = await createContextResolver(testDeps(forbiddenFetcher([]))).resolve({ mine: 'ngsi-ld:mine' });
    assert.equal(rc.terms.expandTerm('mine'), `${NGSI}mine`);
  });

  test('a remote context given as one URL, or a one-element array, is that URL for Link headers', async () => {
    const { resolver } = httpResolver();
    const url = `${srv.base}/user.jsonld`;
    const one = await resolver.resolve(url);
    assert.equal(one.url, url);
    assert.equal(one.terms.expandTerm('temperature'), 'http://example.org/temperature');
    assert.equal(one.terms.compactIri('http://example.org/Vehicle'), 'Vehicle');
    assert.equal((await resolver.resolve([url])).url, url);
    assert.equal((await resolver.resolve([url, { x: 'ex:x' }])).url, undefined);
  });

  test('arrays mix URLs and inline objects, and later entries use earlier prefixes', async () => {
    const { resolver } = httpResolver();
    const rc = await resolver.resolve([`${srv.base}/user.jsonld`, { speed: 'ex:speed' }]);
    assert.equal(rc.terms.expandTerm('speed'), 'http://example.org/speed');
    assert.equal(rc.terms.expandTerm('temperature'), 'http://example.org/temperature');
  });

  test('a remote context importing another URL, absolute or relative, is resolved recursively', async () => {
    const { resolver } = httpResolver();
    const nested = await resolver.resolve(`${srv.base}/nested.jsonld`);
    assert.equal(nested.terms.expandTerm('speed'), 'http://example.org/speed');
    assert.equal(nested.terms.expandTerm('temperature'), 'http://example.org/temperature');
    const relative = await resolver.resolve(`${srv.base}/relative.jsonld`);
    assert.equal(relative.terms.expandTerm('rel'), 'http://example.org/rel');
  });

  test('a remote context that imports the core context and redefines a core term keeps the core meaning', async () => {
    const calls: string[] = [];
    const http = createHttpDocumentFetcher();
    const deps = testDeps({
      fetchJson: (url, opts) => {
        calls.push(url);
        return http.fetchJson(url, opts);
      },
    });
    const rc = await createContextResolver(deps).resolve(`${srv.base}/with-core.jsonld`);
    assert.equal(rc.terms.expandTerm('mine'), `${NGSI}mine`);
    assert.equal(rc.terms.expandTerm('location'), `${NGSI}location`);
    assert.deepEqual(calls, [`${srv.base}/with-core.jsonld`]);
  });
});

describe('caching', () => {
  test('two resolves of the same remote context download it once and return the same RequestContext', async () => {
    const { resolver } = httpResolver();
    srv.publish('/once.jsonld', { '@context': { once: 'http://example.org/once' } });
    const url = `${srv.base}/once.jsonld`;
    const first = await resolver.resolve(url);
    const second = await resolver.resolve(url);
    assert.equal(first, second);
    assert.equal(srv.hits.get('/once.jsonld'), 1);
  });

  test('concurrent resolves of a new context share one download', async () => {
    const { resolver } = httpResolver();
    srv.publish('/together.jsonld', { '@context': { t: 'http://example.org/t' } });
    const url = `${srv.base}/together.jsonld`;
    await Promise.all([resolver.resolve(url), resolver.resolve([url, { a: 'ex:a' }]), resolver.resolve(url)]);
    assert.equal(srv.hits.get('/together.jsonld'), 1);
  });

  test('a cached context is downloaded again once its time to live has passed', async () => {
    const { resolver, deps } = httpResolver({ contextCacheTtlSeconds: 10 });
    srv.publish('/ttl.jsonld', { '@context': { v: 'http://example.org/v1' } });
    const url = `${srv.base}/ttl.jsonld`;
    assert.equal((await resolver.resolve(url)).terms.expandTerm('v'), 'http://example.org/v1');
    srv.publish('/ttl.jsonld', { '@context': { v: 'http://example.org/v2' } });
    deps.clock.advance(5_000);
    assert.equal((await resolver.resolve(url)).terms.expandTerm('v'), 'http://example.org/v1');
    deps.clock.advance(6_000);
    assert.equal((await resolver.resolve(url)).terms.expandTerm('v'), 'http://example.org/v2');
    assert.equal(srv.hits.get('/ttl.jsonld'), 2);
  });

  test('an expired copy keeps serving while its server is down', async () => {
    const { resolver, deps } = httpResolver({ contextCacheTtlSeconds: 10 });
    srv.publish('/flaky.jsonld', { '@context': { f: 'http://example.org/f' } });
    const url = `${srv.base}/flaky.jsonld`;
    await resolver.resolve(url);
    srv.fail('/flaky.jsonld');
    deps.clock.advance(11_000);
    assert.equal((await resolver.resolve(url)).terms.expandTerm('f'), 'http://example.org/f');
  });
});

describe('errors', () => {
  test('a context that does not answer within the timeout is 504 LdContextNotAvailable', async () => {
    const { resolver } = httpResolver();
    const started = Date.now();
    assert.equal(await problemOf(() => resolver.resolve(`${srv.base}/slow.jsonld`)), 'LdContextNotAvailable');
    assert.ok(Date.now() - started < 10_000);
  });

  test('an unreachable host, a 404 and an oversize document are 504 LdContextNotAvailable', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const { resolver } = httpResolver();
    for (const url of [`http://127.0.0.1:${port}/ctx.jsonld`, `${srv.base}/missing.jsonld`, `${srv.base}/big.jsonld`, `${srv.base}/big-chunked.jsonld`]) {
      assert.equal(await problemOf(() => resolver.resolve(url)), 'LdContextNotAvailable', url);
    }
  });

  test('a non-http URL is 504 LdContextNotAvailable and a relative one is 400 BadRequestData', async () => {
    const { resolver } = httpResolver();
    assert.equal(await problemOf(() => resolver.resolve('ftp://example.org/ctx.jsonld')), 'LdContextNotAvailable');
    assert.equal(await problemOf(() => resolver.resolve('ctx.jsonld')), 'BadRequestData');
  });

  test('a downloaded document that is not JSON, not an object or has no @context is 400 BadRequestData', async () => {
    const { resolver } = httpResolver();
    for (const path of ['/notjson.jsonld', '/nocontext.jsonld', '/array.jsonld']) {
      assert.equal(await problemOf(() => resolver.resolve(`${srv.base}${path}`)), 'BadRequestData', path);
    }
    assert.equal((await resolver.list({ kind: 'Cached' }) as string[]).some((u) => u.includes('json.jsonld')), false);
  });

  test('scoped contexts are refused inline and in downloaded documents', async () => {
    const { resolver } = httpResolver();
    const scoped = { a: { '@id': 'http://example.org/a', '@context': { b: 'http://example.org/b' } } };
    assert.equal(await problemOf(() => resolver.resolve(scoped)), 'BadRequestData');
    assert.equal(await problemOf(() => resolver.resolve([CORE_19, scoped])), 'BadRequestData');
    assert.equal(await problemOf(() => resolver.resolve(`${srv.base}/scoped.jsonld`)), 'BadRequestData');
  });

  test('values that are not URLs, objects or arrays of those are 400 BadRequestData', async () => {
    const resolver = createContextResolver(testDeps(forbiddenFetcher([])));
    for (const bad of [42, true, null, [CORE_19, 3], { '@context': {} }]) {
      assert.equal(await problemOf(() => resolver.resolve(bad)), 'BadRequestData', JSON.stringify(bad));
    }
  });

  test('invalid JSON-LD in a context is 400 BadRequestData', async () => {
    const resolver = createContextResolver(testDeps(forbiddenFetcher([])));
    assert.equal(await problemOf(() => resolver.resolve({ a: { '@id': 42 } })), 'BadRequestData');
  });

  test('contexts that import each other in a loop are 400 BadRequestData', async () => {
    const { resolver } = httpResolver();
    assert.equal(await problemOf(() => resolver.resolve(`${srv.base}/loop-a.jsonld`)), 'BadRequestData');
  });

  test('a chain of remote contexts deeper than the limit is refused and one within it resolves', async () => {
    assert.equal(await problemOf(() => httpResolver().resolver.resolve(`${srv.base}/deep-1.jsonld`)), 'BadRequestData');
    const deep = await httpResolver({ contextMaxDepth: 4 }).resolver.resolve(`${srv.base}/deep-1.jsonld`);
    assert.equal(deep.terms.expandTerm('deep'), 'http://example.org/deep');
  });
});

describe('URLs for Link headers', () => {
  test('a context that is a single URL, or core only, needs no new entry', async () => {
    const { resolver, deps } = httpResolver();
    assert.equal(await resolver.ensureUrl(await resolver.resolve(undefined)), CORE_19);
    assert.equal(await resolver.ensureUrl(await resolver.resolve(`${srv.base}/user.jsonld`)), `${srv.base}/user.jsonld`);
    assert.equal(deps.store.entries.size, 0);
  });

  test('an inline context is stored once as ImplicitlyCreated and its served URL resolves back without HTTP', async () => {
    const deps = testDeps(forbiddenFetcher([]));
    const resolver = createContextResolver(deps);
    const value = [CORE_19, { ex: 'http://example.org/', speed: 'ex:speed' }];
    const url = await resolver.ensureUrl(await resolver.resolve(value));
    assert.ok(url.startsWith(`${PUBLIC_URL}/ngsi-ld/v1/jsonldContexts/`));
    assert.equal(await resolver.ensureUrl(await resolver.resolve(structuredClone(value))), url);
    assert.equal(deps.store.entries.size, 1);
    const [entry] = deps.store.entries.values();
    assert.equal(entry.kind, 'ImplicitlyCreated');
    assert.deepEqual(entry.document, { '@context': value });
    assert.equal(resolver.servedUrl(entry.localId), url);
    const back = await resolver.resolve(url);
    assert.equal(back.url, url);
    assert.equal(back.terms.expandTerm('speed'), 'http://example.org/speed');
  });

  test('a served URL naming no stored context is 504 LdContextNotAvailable', async () => {
    const resolver = createContextResolver(testDeps(forbiddenFetcher([])));
    assert.equal(await problemOf(() => resolver.resolve(resolver.servedUrl('nope'))), 'LdContextNotAvailable');
  });
});
