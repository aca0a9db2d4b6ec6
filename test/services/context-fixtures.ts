// Shared fixtures for the @context resolver tests: in-memory context store, settable clock, and a local
// HTTP server publishing remote contexts (good, nested, slow, oversize, non-JSON, missing, looping).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonValue } from '../../src/core/json.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { DocumentFetcher } from '../../src/ports/context-loader.ts';
import type { StoredContext } from '../../src/ports/store.ts';
import type { ContextResolverDeps } from '../../src/services/context-resolver.ts';

export const CORE_19 = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld';
export const NGSI = 'https://uri.etsi.org/ngsi-ld/';
export const DEFAULT = 'https://uri.etsi.org/ngsi-ld/default-context/';
export const PUBLIC_URL = 'http://kend.test:1026';

export interface MemoryContextStore {
  entries: Map<string, StoredContext>;
  putContext(entry: StoredContext): Promise<void>;
  getContext(localId: string): Promise<StoredContext | null>;
  listContexts(): Promise<StoredContext[]>;
  deleteContext(localId: string): Promise<boolean>;
}

export function memoryContextStore(): MemoryContextStore {
  const entries = new Map<string, StoredContext>();
  return {
    entries,
    putContext: async (e) => {
      entries.set(e.localId, structuredClone(e));
    },
    getContext: async (id) => structuredClone(entries.get(id) ?? null),
    listContexts: async () => [...entries.values()].map((e) => structuredClone(e)),
    deleteContext: async (id) => entries.delete(id),
  };
}

export interface FakeClock extends Clock {
  advance(ms: number): void;
}

export function fakeClock(startMs = Date.parse('2025-01-01T00:00:00.000Z')): FakeClock {
  let now = startMs;
  return {
    nowMs: () => now,
    nowIso: () => new Date(now).toISOString(),
    advance: (ms) => {
      now += ms;
    },
  };
}

/** A fetcher that must never be called: the test fails if it is. */
export function forbiddenFetcher(calls: string[]): DocumentFetcher {
  return {
    fetchJson: async (url) => {
      calls.push(url);
      throw new Error(`network fetch of ${url} must not happen`);
    },
  };
}

export function testDeps(
  fetcher: DocumentFetcher,
  overrides: Partial<ContextResolverDeps['config']> = {},
): ContextResolverDeps & { store: MemoryContextStore; clock: FakeClock } {
  return {
    store: memoryContextStore(),
    fetcher,
    clock: fakeClock(),
    config: {
      contextFetchTimeoutMs: 1500,
      contextMaxBytes: 1024,
      contextCacheTtlSeconds: 60,
      contextMaxDepth: 3,
      coreContextUrl: CORE_19,
      publicUrl: PUBLIC_URL,
      ...overrides,
    },
  };
}

export interface ContextServer {
  base: string;
  /** Requests received, by path. */
  hits: Map<string, number>;
  /** Replaces (or adds) the JSON document served at `path`. */
  publish(path: string, doc: JsonValue): void;
  /** Makes `path` answer 503 until published again. */
  fail(path: string): void;
  close(): Promise<void>;
}

export async function startContextServer(): Promise<ContextServer> {
  const docs = new Map<string, JsonValue>();
  const failing = new Set<string>();
  const hits = new Map<string, number>();
  let base = '';
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/slow.jsonld') return; // never answers
    if (path === '/big.jsonld') {
      res.writeHead(200, { 'content-type': 'application/ld+json' });
      res.end(JSON.stringify({ '@context': { filler: 'x'.repeat(4096) } }));
      return;
    }
    if (path === '/big-chunked.jsonld') {
      res.writeHead(200, { 'content-type': 'application/ld+json' });
      res.write('{"@context": {"a": "');
      for (let i = 0; i < 8; i++) res.write('y'.repeat(512));
      res.end('"}}');
      return;
    }
    if (path === '/notjson.jsonld') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('this is not JSON');
      return;
    }
    const doc = docs.get(path);
    if (doc === undefined || failing.has(path)) {
      res.writeHead(failing.has(path) ? 503 : 404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/ld+json' });
    res.end(JSON.stringify(doc).replaceAll('$BASE', base));
  };
  const server: Server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  docs.set('/user.jsonld', {
    '@context': { ex: 'http://example.org/', temperature: 'ex:temperature', Vehicle: 'ex:Vehicle' },
  });
  docs.set('/nested.jsonld', { '@context': ['$BASE/user.jsonld', { speed: 'ex:speed' }] });
  docs.set('/relative.jsonld', { '@context': ['user.jsonld', { rel: 'ex:rel' }] });
  docs.set('/nocontext.jsonld', { ex: 'http://example.org/' });
  docs.set('/array.jsonld', [{ '@context': {} }]);
  docs.set('/scoped.jsonld', { '@context': { ex: 'http://example.org/', a: { '@id': 'ex:a', '@context': { b: 'ex:b' } } } });
  docs.set('/loop-a.jsonld', { '@context': ['$BASE/loop-b.jsonld', { a: 'http://example.org/a' }] });
  docs.set('/loop-b.jsonld', { '@context': ['$BASE/loop-a.jsonld'] });
  docs.set('/deep-1.jsonld', { '@context': ['$BASE/deep-2.jsonld'] });
  docs.set('/deep-2.jsonld', { '@context': ['$BASE/deep-3.jsonld'] });
  docs.set('/deep-3.jsonld', { '@context': ['$BASE/deep-4.jsonld'] });
  docs.set('/deep-4.jsonld', { '@context': { deep: 'http://example.org/deep' } });
  docs.set('/with-core.jsonld', {
    '@context': ['https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld', { mine: 'ngsi-ld:mine', location: 'http://example.org/loc' }],
  });

  return {
    base,
    hits,
    publish: (path, doc) => {
      failing.delete(path);
      docs.set(path, doc);
    },
    fail: (path) => {
      failing.add(path);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** Runs `fn` and returns the NGSI-LD problem kind it threw (fails when it does not throw one). */
export async function problemOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    const kind = (e as { kind?: unknown }).kind;
    if (typeof kind === 'string') return kind;
    throw e;
  }
  throw new Error('expected an NgsiError');
}
