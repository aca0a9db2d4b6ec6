// Versioned PostgreSQL schema migrations, applied at start under an advisory lock (schema_migrations table).
import type { Pool, PoolClient } from 'pg';
import { backfillV2, V2_FINAL_SQL, V2_SQL } from './migration-v2.ts';
import { POSTGRES_CSOURCE_SUBSCRIPTION_DDL } from './csource-subscription-store.ts';
import { POSTGRES_ENTITY_MAP_DDL } from './entity-map-store.ts';
import { POSTGRES_REGISTRATION_DDL } from './registration-store.ts';
import { POSTGRES_SUBSCRIPTION_DDL } from './subscription-store.ts';
import { TEMPORAL_DDL, TEMPORAL_MODIFIED_INDEX_DDL } from './migration-v4.ts';
import { TEMPORAL_ROLLUP_DDL } from './temporal-rollup.ts';

export interface Migration {
  /** 1, 2, 3… without gaps; recorded in schema_migrations once applied. */
  version: number;
  description: string;
  /** SQL script (several statements, no parameters); never edited once released (add a migration instead). */
  sql: string;
  /** Data migration run after `sql` in the same transaction (rows derived in JavaScript). */
  backfill?: (client: PoolClient) => Promise<void>;
  /** SQL run after the backfill (e.g. constraints the backfill makes true). */
  finalSql?: string;
}

/**
 * The advisory lock every Kend node takes (transaction-scoped) before migrating: 'kend' in ASCII. Advisory
 * locks are per database, so nodes sharing one database serialise here and other databases are unaffected.
 */
export const MIGRATION_LOCK_KEY = 0x6b656e64;

/**
 * Schema notes (mirrors the SQLite store; see docs/adr/0002-postgres-tenancy.md):
 * - Every table carries `tenant`; tenant names are data (bound parameters), never identifiers.
 * - Keys use COLLATE "C": byte-wise equality and code-point order, the same as SQLite's BINARY, and cheaper
 *   index comparisons than a linguistic collation.
 * - `doc` is `json`, not `jsonb`: json keeps the document text exactly as written (member order, number
 *   spelling, duplicate keys) and accepts the escape `\u0000`, which jsonb rejects. Reads parse that text,
 *   so an entity round-trips exactly as with SQLite. Queries use the derived columns and tables of v2 (migration-v2.ts).
 * - `seq` is an identity kept when an entity is replaced: the stable listing order and a pagination cursor.
 * - Timestamps are timestamptz (queryable); the exact strings live in the documents.
 * - `CREATE EXTENSION IF NOT EXISTS postgis` needs a superuser only the first time; an operator may create
 *   the extension beforehand and run Kend as an unprivileged owner of the database.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'PostGIS, tenants, entities, entity types, @context store',
    sql: `
      CREATE EXTENSION IF NOT EXISTS postgis;

      CREATE TABLE tenants (
        name text COLLATE "C" NOT NULL PRIMARY KEY,
        created_at timestamptz NOT NULL
      );

      -- The default tenant always exists.
      INSERT INTO tenants (name, created_at) VALUES ('', '1970-01-01T00:00:00Z');

      CREATE TABLE entities (
        tenant text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
        id text COLLATE "C" NOT NULL,
        types jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        modified_at timestamptz NOT NULL,
        doc json NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        CONSTRAINT entities_pkey PRIMARY KEY (tenant, id)
      );

      CREATE UNIQUE INDEX entities_tenant_seq ON entities (tenant, seq);

      CREATE TABLE entity_types (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        type text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, id, type),
        FOREIGN KEY (tenant, id) REFERENCES entities (tenant, id) ON DELETE CASCADE
      );

      CREATE INDEX entity_types_tenant_type ON entity_types (tenant, type);

      CREATE TABLE contexts (
        local_id text COLLATE "C" NOT NULL PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('Hosted', 'Cached', 'ImplicitlyCreated')),
        url text,
        document json NOT NULL,
        created_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'query: search documents, attribute-value index, geometries (PostGIS), q helper functions',
    sql: V2_SQL,
    backfill: backfillV2,
    finalSql: V2_FINAL_SQL,
  },
  {
    version: 3,
    description: 'subscriptions, the notification outbox, kend_meta (subscription-store.ts)',
    sql: POSTGRES_SUBSCRIPTION_DDL,
  },
  {
    version: 4,
    description: 'temporal history: entity records and attribute instances (migration-v4.ts)',
    // Released schema: TEMPORAL_DDL must never change; later changes go in a new migration.
    sql: TEMPORAL_DDL,
  },
  {
    version: 5,
    description: 'context source registrations and their subscriptions (registration-store.ts, csource-subscription-store.ts)',
    // Released schema: both DDL texts must never change; later changes go in a new migration.
    sql: POSTGRES_REGISTRATION_DDL + POSTGRES_CSOURCE_SUBSCRIPTION_DDL,
  },
  {
    version: 6,
    description: 'EntityMaps and their entries (entity-map-store.ts)',
    // Released schema: the DDL text must never change; later changes go in a new migration.
    sql: POSTGRES_ENTITY_MAP_DDL,
  },
  {
    version: 7,
    description: 'entity_attrs.multi (two-sided range driver); entities: types in the (tenant, seq) index, fillfactor 80',
    // A q range such as `temperature>=10;temperature<11` is driven by one index range over both bounds
    // (query-compile.ts rangeDrivers); an entity with several ordered values of the attribute (instances,
    // language strings) could satisfy each bound with a different value, so the driver adds those entities,
    // found through this small partial index. A constant default makes ADD COLUMN a catalogue change; the
    // UPDATE marks the rows written so far as derive.ts markMulti does.
    sql: `
      ALTER TABLE entity_attrs ADD COLUMN multi boolean NOT NULL DEFAULT false;
      UPDATE entity_attrs a SET multi = true
      FROM (SELECT seq, attr FROM entity_attrs WHERE src IN ('v', 'l') GROUP BY seq, attr HAVING count(*) > 1) m
      WHERE a.seq = m.seq AND a.attr = m.attr AND a.src IN ('v', 'l');
      CREATE INDEX entity_attrs_multi ON entity_attrs (tenant, attr, seq) WHERE multi;

      -- A page of a type in insertion order (GET /entities?type=T&offset=k) skips k entities: with the types
      -- in the (tenant, seq) index the skipped ones are read from the index alone (query-compile.ts
      -- pageStatement), not from the heap with their documents (20 times the bytes). Same name, same key.
      DROP INDEX entities_tenant_seq;
      CREATE UNIQUE INDEX entities_tenant_seq ON entities (tenant, seq) INCLUDE (types);
      -- Index-only scans need the visibility map, which VACUUM sets: autovacuum comes after 10,000 + 1 %
      -- inserted rows instead of 1,000 + 20 %, so a bulk load is covered soon (see also auto-analyze.ts).
      -- Pages filled to 80 % (from now on): an update's new row version then fits on its page, so it is a
      -- HOT update — no new entry in the three entities indexes, far fewer pages in the WAL (a partial
      -- update measured 99 % HOT instead of a third).
      ALTER TABLE entities SET (autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0.01,
        fillfactor = 80);
      -- The planner needs the new column's statistics at once: without them it guesses half the rows are
      -- multi and drives the query from the type instead (autovacuum comes only after enough writes).
      ANALYZE entity_attrs;
    `,
  },
  {
    version: 8,
    description: 'temporal history: hourly rollups per series (temporal_rollups, temporal-rollup.ts); modifiedAt index (migration-v4.ts)',
    // Released schema: both DDL texts must never change; later changes go in a new migration.
    sql: TEMPORAL_ROLLUP_DDL + TEMPORAL_MODIFIED_INDEX_DDL,
  },
];

/** The schema version this build writes and expects. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer NOT NULL PRIMARY KEY,
    description text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/**
 * Brings the database to the latest version in one transaction holding pg_advisory_xact_lock: a second
 * node starting at the same time waits, then finds the work done. DDL is transactional in PostgreSQL, so
 * a failing migration leaves the database as it was. Refuses a database written by a newer build.
 * Returns the schema version.
 */
export async function applyMigrations(pool: Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migration versions must be 1..n in order; found ${m.version} at ${i}`);
  });
  const latest = migrations.length;
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const current = rows[0]?.version ?? 0;
    if (current > latest) {
      throw new Error(
        `Database schema version ${current} is newer than this build supports (${latest}); refusing to open`,
      );
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      if (m.backfill !== undefined) await m.backfill(client);
      if (m.finalSql !== undefined) await client.query(m.finalSql);
      await client.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [m.version, m.description]);
    }
    await client.query('COMMIT');
    return latest;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    }
    throw err;
  } finally {
    client.release(broken);
  }
}
