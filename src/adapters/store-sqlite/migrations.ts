// Versioned SQLite schema migrations, applied in order at open inside one transaction (PRAGMA user_version).
import type BetterSqlite3 from 'better-sqlite3';

export interface Migration {
  /** The user_version the database has once this migration is applied; 1, 2, 3… without gaps. */
  version: number;
  description: string;
  /** SQL statements run as one script; never edited once released (add a new migration instead). */
  sql: string;
}

/**
 * Schema notes for the migrations that come next:
 * - `entities` is keyed by (tenant, id); child tables (entity_types now, the attribute index and the
 *   temporal history later) reference that key with ON DELETE CASCADE, so removing an entity row removes
 *   its index rows in the same statement.
 * - `seq` is a table-wide insertion sequence, kept when an entity is replaced: the stable listing order
 *   and a cheap pagination cursor for query plans.
 * - Timestamps are ISO 8601 UTC strings (they sort lexicographically); documents are JSON text.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'tenants, entities, entity types, @context store',
    sql: `
      CREATE TABLE tenants (
        name TEXT NOT NULL PRIMARY KEY,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;

      -- The default tenant always exists.
      INSERT INTO tenants (name, created_at) VALUES ('', '1970-01-01T00:00:00.000Z');

      CREATE TABLE entities (
        tenant TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
        id TEXT NOT NULL,
        types TEXT NOT NULL,
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL,
        doc TEXT NOT NULL,
        seq INTEGER NOT NULL UNIQUE,
        PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;

      CREATE INDEX entities_tenant_seq ON entities (tenant, seq);

      CREATE TABLE entity_types (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        PRIMARY KEY (tenant, id, type),
        FOREIGN KEY (tenant, id) REFERENCES entities (tenant, id) ON DELETE CASCADE
      ) WITHOUT ROWID;

      CREATE INDEX entity_types_tenant_type ON entity_types (tenant, type);

      CREATE TABLE contexts (
        local_id TEXT NOT NULL PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('Hosted', 'Cached', 'ImplicitlyCreated')),
        url TEXT,
        document TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
];

/** The schema version this build writes and expects. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

function readUserVersion(db: BetterSqlite3.Database): number {
  const value = db.pragma('user_version', { simple: true });
  if (typeof value !== 'number') throw new Error(`Unexpected PRAGMA user_version result: ${String(value)}`);
  return value;
}

/**
 * Brings the database to LATEST_SCHEMA_VERSION. Runs in one BEGIN IMMEDIATE transaction that re-reads
 * user_version, so two processes opening the same new file at once migrate it exactly once; a failing
 * migration leaves the file untouched. Refuses a database written by a newer build. Returns the version.
 */
export function applyMigrations(
  db: BetterSqlite3.Database,
  migrations: readonly Migration[] = MIGRATIONS,
): number {
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migration versions must be 1..n in order; found ${m.version} at ${i}`);
  });
  const migrate = db.transaction((): number => {
    const current = readUserVersion(db);
    if (current > latest) {
      throw new Error(
        `Database schema version ${current} is newer than this build supports (${latest}); refusing to open`,
      );
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      // user_version lives in the database header and is covered by the transaction.
      db.pragma(`user_version = ${m.version}`);
    }
    return readUserVersion(db);
  });
  // Skip the write lock when nothing is pending (the common case: reopening an up-to-date file).
  if (readUserVersion(db) === latest) return latest;
  return migrate.immediate();
}
