// The /jsonldContexts operations (§5.13, §6.29, §6.30): add Hosted, list, serve, delete and reload, with
// the errors the spec assigns to each.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpDocumentFetcher } from '../../src/adapters/context-fetch-http.ts';
import { createContextResolver } from '../../src/services/context-resolver.ts';
import type { JsonObject, JsonValue } from '../../src/core/json.ts';
import { CORE_19, PUBLIC_URL, forbiddenFetcher, problemOf, startContextServer, testDeps, type ContextServer } from './context-fixtures.ts';

let srv: ContextServer;
before(async () => {
  srv = await startContextServer();
});
after(async () => {
  await srv.close();
});

const setup = () => {
  const deps = testDeps(createHttpDocumentFetcher());
  return { deps, resolver: createContextResolver(deps) };
};

describe('adding Hosted contexts', () => {
  test('a hosted context is stored under a new local id and served exactly as posted', async () => {
    const { resolver, deps } = setup();
    const ctx = { ex: 'http://example.org/', speed: 'ex:speed' };
    const { localId } = await resolver.addHosted({ '@context': ctx, ignored: 1 });
    assert.match(localId, /^[A-Za-z0-9-]+$/);
    assert.deepEqual(await resolver.serve(localId), { '@context': ctx });
    assert.equal(deps.store.entries.get(localId)?.kind, 'Hosted');
    assert.deepEqual(await resolver.list({ kind: 'Hosted' }), [`${PUBLIC_URL}/ngsi-ld/v1/jsonldContexts/${localId}`]);
    const rc = await resolver.resolve(resolver.servedUrl(localId));
    assert.equal(rc.terms.expandTerm('speed'), 'http://example.org/speed');
  });

  test('bodies that are not an object, lack @context or carry an @context of the wrong kind are 400 BadRequestData', async () => {
    const { resolver, deps } = setup();
    const bodies: JsonValue[] = [[], 'x', {}, { '@context': 5 }, { '@context': true }, { '@context': null }, { '@context': ['http://example.org/a', 7] }];
    for (const body of bodies) {
      assert.equal(await problemOf(() => resolver.addHosted(body)), 'BadRequestData', JSON.stringify(body));
    }
    assert.equal(deps.store.entries.size, 0);
  });

  test('a hosted array of URLs makes the broker download them as Cached entries', async () => {
    const { resolver } = setup();
    const urls = [`${srv.base}/user.jsonld`, `${srv.base}/nested.jsonld`];
    await resolver.addHosted({ '@context': urls });
    const cached = (await resolver.list({ kind: 'Cached' })) as string[];
    for (const url of urls) assert.ok(cached.includes(url), url);
  });

  test('a hosted context whose URLs cannot be downloaded or are invalid creates nothing', async () => {
    const { resolver, deps } = setup();
    assert.equal(await problemOf(() => resolver.addHosted({ '@context': [`${srv.base}/missing.jsonld`] })), 'LdContextNotAvailable');
    assert.equal(await problemOf(() => resolver.addHosted({ '@context': `${srv.base}/nocontext.jsonld` })), 'BadRequestData');
    assert.equal(deps.store.entries.size, 0);
  });
});

describe('listing', () => {
  test('the core context is listed as a Cached entry under its URL', async () => {
    const resolver = createContextResolver(testDeps(forbiddenFetcher([])));
    assert.deepEqual(await resolver.list({}), [CORE_19]);
    assert.deepEqual(await resolver.list({ kind: 'Cached' }), [CORE_19]);
    assert.deepEqual(await resolver.list({ kind: 'ImplicitlyCreated' }), []);
  });

  test('details list exactly the metadata members, with usage counted per request', async () => {
    const { resolver, deps } = setup();
    const url = `${srv.base}/user.jsonld`;
    await resolver.resolve(url);
    deps.clock.advance(1000);
    await resolver.resolve(url);
    const { localId } = await resolver.addHosted({ '@context': { a: 'http://example.org/a' } });
    const details = (await resolver.list({ details: 'true' })) as JsonObject[];
    const allowed = new Set(['URL', 'localId', 'kind', 'createdAt', 'expiresAt', 'lastUsage', 'numberOfHits', 'extraInfo']);
    for (const d of details) for (const key of Object.keys(d)) assert.ok(allowed.has(key), key);
    const cached = details.find((d) => d.URL === url);
    assert.equal(cached?.kind, 'Cached');
    assert.equal(cached?.numberOfHits, 2);
    assert.equal(cached?.createdAt, '2025-01-01T00:00:00.000Z');
    assert.equal(cached?.lastUsage, '2025-01-01T00:00:01.000Z');
    assert.equal(cached?.expiresAt, '2025-01-01T00:01:00.000Z');
    const hosted = details.find((d) => d.localId === localId);
    assert.deepEqual(hosted, {
      URL: resolver.servedUrl(localId),
      localId,
      kind: 'Hosted',
      createdAt: '2025-01-01T00:00:01.000Z',
      numberOfHits: 0,
    });
    assert.equal(details.find((d) => d.URL === CORE_19)?.kind, 'Cached');
    assert.deepEqual(await resolver.list({ details: 'false', kind: 'Hosted' }), [resolver.servedUrl(localId)]);
  });

  test('an unknown kind or a details value other than true/false is 400 BadRequestData', async () => {
    const { resolver } = setup();
    assert.equal(await problemOf(() => resolver.list({ kind: 'Remote' })), 'BadRequestData');
    assert.equal(await problemOf(() => resolver.list({ details: 'yes' })), 'BadRequestData');
  });
});

describe('serving', () => {
  test('a Cached context is not served (422) but its metadata is, by local id or by original URL', async () => {
    const { resolver } = setup();
    const url = `${srv.base}/user.jsonld`;
    await resolver.resolve(url);
    assert.equal(await problemOf(() => resolver.serve(url)), 'OperationNotSupported');
    const meta = (await resolver.serve(url, 'true')) as JsonObject;
    assert.equal(meta.URL, url);
    assert.deepEqual(await resolver.serve(String(meta.localId), 'true'), meta);
    assert.equal(await problemOf(() => resolver.serve(String(meta.localId))), 'OperationNotSupported');
  });

  test('the core context metadata is servable but its document is not', async () => {
    const { resolver } = setup();
    const meta = (await resolver.serve(CORE_19, 'true')) as JsonObject;
    assert.equal(meta.kind, 'Cached');
    assert.equal(meta.URL, CORE_19);
    assert.deepEqual(await resolver.serve(String(meta.localId), 'true'), meta);
    assert.equal(await problemOf(() => resolver.serve(CORE_19)), 'OperationNotSupported');
  });

  test('an ImplicitlyCreated context is served as its stored document', async () => {
    const { resolver } = setup();
    const value = { a: 'http://example.org/a' };
    const url = await resolver.ensureUrl(await resolver.resolve(value));
    const localId = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1));
    assert.deepEqual(await resolver.serve(localId), { '@context': value });
    assert.deepEqual(await resolver.list({ kind: 'ImplicitlyCreated' }), [url]);
  });

  test('an unknown context is 404 and a bad details value is 400', async () => {
    const { resolver } = setup();
    assert.equal(await problemOf(() => resolver.serve('nope')), 'ResourceNotFound');
    assert.equal(await problemOf(() => resolver.serve('nope', 'maybe')), 'BadRequestData');
  });
});

describe('deleting and reloading', () => {
  test('a hosted context can be deleted once; afterwards it is unknown', async () => {
    const { resolver } = setup();
    const { localId } = await resolver.addHosted({ '@context': { a: 'http://example.org/a' } });
    await resolver.remove(localId);
    assert.equal(await problemOf(() => resolver.serve(localId)), 'ResourceNotFound');
    assert.equal(await problemOf(() => resolver.remove(localId)), 'ResourceNotFound');
    assert.equal(await problemOf(() => resolver.resolve(resolver.servedUrl(localId))), 'LdContextNotAvailable');
  });

  test('reload must be true or false, and an unknown context with reload=true is 400 not 404', async () => {
    const { resolver } = setup();
    assert.equal(await problemOf(() => resolver.remove('nope', 'yes')), 'BadRequestData');
    assert.equal(await problemOf(() => resolver.remove('nope', 'true')), 'BadRequestData');
    assert.equal(await problemOf(() => resolver.remove('nope', 'false')), 'ResourceNotFound');
  });

  test('Hosted and ImplicitlyCreated contexts cannot be reloaded', async () => {
    const { resolver } = setup();
    const { localId } = await resolver.addHosted({ '@context': { a: 'http://example.org/a' } });
    assert.equal(await problemOf(() => resolver.remove(localId, 'true')), 'BadRequestData');
    const url = await resolver.ensureUrl(await resolver.resolve({ b: 'http://example.org/b' }));
    assert.equal(await problemOf(() => resolver.remove(url.slice(url.lastIndexOf('/') + 1), 'true')), 'BadRequestData');
  });

  test('the core context cannot be deleted but can be reloaded from the bundled copy', async () => {
    const { resolver } = setup();
    assert.equal(await problemOf(() => resolver.remove(CORE_19)), 'BadRequestData');
    await resolver.remove(CORE_19, 'true');
    assert.deepEqual(await resolver.list({ kind: 'Cached' }), [CORE_19]);
    assert.equal((await resolver.resolve(undefined)).terms.expandTerm('location'), 'https://uri.etsi.org/ngsi-ld/location');
  });

  test('a Cached context is replaced by a fresh download on reload', async () => {
    const { resolver } = setup();
    srv.publish('/reload.jsonld', { '@context': { r: 'http://example.org/r1' } });
    const url = `${srv.base}/reload.jsonld`;
    await resolver.resolve(url);
    srv.publish('/reload.jsonld', { '@context': { r: 'http://example.org/r2' } });
    await resolver.remove(url, 'true');
    assert.equal((await resolver.resolve(url)).terms.expandTerm('r'), 'http://example.org/r2');
  });

  test('a failed reload is 504 and keeps the old copy', async () => {
    const { resolver } = setup();
    srv.publish('/keep.jsonld', { '@context': { k: 'http://example.org/k' } });
    const url = `${srv.base}/keep.jsonld`;
    await resolver.resolve(url);
    srv.fail('/keep.jsonld');
    assert.equal(await problemOf(() => resolver.remove(url, 'true')), 'LdContextNotAvailable');
    assert.ok(((await resolver.list({ kind: 'Cached' })) as string[]).includes(url));
    assert.equal((await resolver.resolve(url)).terms.expandTerm('k'), 'http://example.org/k');
  });

  test('deleting a Cached context drops it, and the next use downloads it again', async () => {
    const { resolver } = setup();
    srv.publish('/drop.jsonld', { '@context': { d: 'http://example.org/d' } });
    const url = `${srv.base}/drop.jsonld`;
    await resolver.resolve(url);
    await resolver.remove(url);
    assert.ok(!((await resolver.list({ kind: 'Cached' })) as string[]).includes(url));
    await resolver.resolve(url);
    assert.equal(srv.hits.get('/drop.jsonld'), 2);
  });

  test('deleting a hosted array of URLs leaves the Cached children in place', async () => {
    const { resolver } = setup();
    const url = `${srv.base}/user.jsonld`;
    const { localId } = await resolver.addHosted({ '@context': [url] });
    await resolver.remove(localId);
    assert.ok(((await resolver.list({ kind: 'Cached' })) as string[]).includes(url));
  });
});
