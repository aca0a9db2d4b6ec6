// PostgreSQL for tests: a reachability probe (so suites skip with a reason) and throw-away databases.
import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';

/** The maintenance database tests connect to when KEND_TEST_POSTGRES_URL is not set. */
export const DEFAULT_TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** How long the probe waits for a connection before declaring PostgreSQL unreachable. */
export const PROBE_TIMEOUT_MS = 3000;

export type PostgresAvailability = { ok: true; baseUrl: string } | { ok: false; reason: string };

export interface TestDatabase {
  /** URL of the new, empty database. */
  url: string;
  /** Drops the database, ending its remaining connections; safe to call twice. */
  drop(): Promise<void>;
}

/** The URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable URL>';
  }
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  // A connection that breaks outside a query reports here; queries report through their promises.
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Probes the server named by KEND_TEST_POSTGRES_URL (default DEFAULT_TEST_POSTGRES_URL): reachable, and
 * PostGIS installable. The reason names the URL and the error, for node:test's `{ skip: reason }`.
 */
export async function postgresAvailable(): Promise<PostgresAvailability> {
  const baseUrl = process.env.KEND_TEST_POSTGRES_URL ?? DEFAULT_TEST_POSTGRES_URL;
  const where = redactUrl(baseUrl);
  try {
    const postgis = await withClient(baseUrl, async (client) => {
      const { rowCount } = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'");
      return rowCount !== 0;
    });
    if (!postgis) {
      return { ok: false, reason: `PostGIS is not installed on PostgreSQL at ${where} (apt-get install -y postgresql-15-postgis-3)` };
    }
    return { ok: true, baseUrl };
  } catch (err) {
    const message = err instanceof Error ? err.message || err.name : String(err);
    return { ok: false, reason: `PostgreSQL not reachable at ${where}: ${message}` };
  }
}

/**
 * Creates an empty database `kend_test_<random>` on the server of `baseUrl` (whose database must exist,
 * e.g. the `postgres` maintenance database) and returns its URL. DDL takes no bound parameters: the name
 * is generated here from [a-z0-9_] and quoted with escapeIdentifier all the same.
 */
export async function createTestDatabase(baseUrl: string): Promise<TestDatabase> {
  const name = `kend_test_${randomBytes(6).toString('hex')}`;
  await withClient(baseUrl, (client) => client.query(`CREATE DATABASE ${escapeIdentifier(name)}`));
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await withClient(baseUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}
