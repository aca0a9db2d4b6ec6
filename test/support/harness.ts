// In-process Kend for API tests: a fresh in-memory (or given) store per instance, requests by inject().
import { after } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { buildKend, type Kend, type KendOverrides } from '../../src/main.ts';
import { createTestDatabase, postgresAvailable } from './postgres.ts';

/** Which store the API suites run on in this process: the runner sets KEND_TEST_STORE for its second pass. */
export const TEST_STORE = process.env.KEND_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** A database URL for one Kend under test, and how to drop it afterwards. */
export async function testDatabaseUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (TEST_STORE === 'sqlite') return { url: 'sqlite::memory:', drop: async () => {} };
  const pg = await postgresAvailable();
  if (!pg.ok) throw new Error(`KEND_TEST_STORE=postgres but ${pg.reason}`);
  return createTestDatabase(pg.baseUrl);
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = unknown>(): T;
}

export interface Client {
  /** The running Kend (its store is opened asynchronously). */
  instance(): Promise<Kend>;
  request(method: string, url: string, options?: { body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<TestResponse>;
  get(url: string, headers?: Record<string, string>): Promise<TestResponse>;
  post(url: string, body: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  patch(url: string, body: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  put(url: string, body: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  del(url: string, headers?: Record<string, string>): Promise<TestResponse>;
}

export const API = '/ngsi-ld/v1';

/**
 * Starts an in-process Kend, closed after the test file. The store is an in-memory SQLite database, or —
 * when KEND_TEST_STORE=postgres (the test runner's second pass) — a fresh PostgreSQL database.
 */
export function startKend(env: Record<string, string> = {}, overrides: KendOverrides = {}): Client {
  const ready = (async () => {
    const db = await testDatabaseUrl();
    const config = loadConfig({ KEND_DATABASE_URL: db.url, KEND_LOG_LEVEL: 'silent', ...env });
    const kend = await buildKend(config, { logger: pino({ level: 'silent' }), ...overrides });
    return { kend, drop: db.drop };
  })();
  after(async () => {
    const { kend, drop } = await ready;
    await kend.close();
    await drop();
  });
  const request: Client['request'] = async (method, url, options = {}) => {
    const { kend } = await ready;
    const headers: Record<string, string> = { ...options.headers };
    let payload: string | undefined;
    if (options.rawBody !== undefined) payload = options.rawBody;
    else if (options.body !== undefined) payload = JSON.stringify(options.body);
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    const res = await kend.app.inject({ method: method as 'GET', url: url.startsWith('/') ? url : `${API}/${url}`, headers, payload });
    return {
      status: res.statusCode,
      headers: res.headers as Record<string, string | string[] | undefined>,
      body: res.body,
      json<T>() {
        return JSON.parse(res.body) as T;
      },
    };
  };
  return {
    instance: async () => (await ready).kend,
    request,
    get: (url, headers) => request('GET', url, { headers }),
    post: (url, body, headers) => request('POST', url, { body, headers }),
    patch: (url, body, headers) => request('PATCH', url, { body, headers }),
    put: (url, body, headers) => request('PUT', url, { body, headers }),
    del: (url, headers) => request('DELETE', url, { headers }),
  };
}

export const ERR = 'https://uri.etsi.org/ngsi-ld/errors/';

/** Asserts a ProblemDetails response of the given status and NGSI-LD type; returns the body. */
export function problem(res: TestResponse): { type: string; title: string; detail: string; status: number } {
  return res.json();
}

/** Polls `probe` until it returns a value other than undefined, or fails after `deadlineMs` (no fixed sleeps). */
export async function eventually<T>(probe: () => Promise<T | undefined>, deadlineMs = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what} did not hold within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
