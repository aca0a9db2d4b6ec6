// Versioned SQLite schema migrations, applied in order at open inside one transaction (PRAGMA user_version).
import type BetterSqlite3 from 'better-sqlite3';
import { SQLITE_CSOURCE_SUBSCRIPTION_DDL } from './csource-subscription-store.ts';
import { SQLITE_ENTITY_MAP_DDL } from './entity-map-store.ts';
import { SQLITE_REGISTRATION_DDL } from './registration-store.ts';
import { SQLITE_SUBSCRIPTION_DDL } from './subscription-store.ts';
import { backfillEntityIndex } from './entity-index.ts';

export interface Migration {
  /** The user_version the database has once this migration is applied; 1, 2, 3… without gaps. */
  version: number;
  description: string;
  /** SQL statements run as one script; never edited once released (add a new migration instead). */
  sql: string;
  /** Runs before `sql`: refuses a SQLite build lacking what the migration needs, with a clear message. */
  check?: (db: BetterSqlite3.Database) => void;
  /** Runs after `sql`, in the same transaction: fills new tables from existing rows. */
  backfill?: (db: BetterSqlite3.Database) => void;
}

function requireRtree(db: BetterSqlite3.Database): void {
  const found = db.prepare("SELECT 1 FROM pragma_compile_options WHERE compile_options = 'ENABLE_RTREE'").get();
  if (found === undefined) throw new Error('This SQLite build lacks the R*Tree module (SQLITE_ENABLE_RTREE), needed by the geo-query index');
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
  {
    version: 2,
    description: 'entities keyed by seq; query indexes: attribute values, geometry R*Tree',
    check: requireRtree,
    // entities becomes a rowid table keyed by seq (v1: WITHOUT ROWID on (tenant, id)): documents of a few
    //   KB then live in the table's leaves instead of mostly-empty overflow pages (the file shrank to a
    //   third and a read by id took 2.4 times less time), a scan in insertion order follows the rowid, and
    //   the (tenant, id) index yields seq without reading the row.
    // attr_values: one row per comparison candidate of each instance of each top-level attribute
    //   (attr-index.ts); `cix <= 0` marks the instance's representative row; typed columns hold sort keys
    //   (value-keys.ts). Partial indexes serve range scans of one attribute's numbers or strings.
    // value_paths: attribute names interned once (rows are never deleted).
    // geo_rtree: one box per valid GeoProperty instance, the entity, attribute and geometry as auxiliary
    //   columns (read only for candidates the boxes select); geo_items finds an entity's boxes.
    // No foreign keys on the index tables (checking one per inserted row doubled the write cost): the
    //   trigger removes an entity's index rows however the entity row goes, and writers replace them.
    sql: `
      CREATE TABLE entities_v2 (
        seq INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
        id TEXT NOT NULL,
        types TEXT NOT NULL,
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL,
        doc TEXT NOT NULL,
        UNIQUE (tenant, id)
      );
      INSERT INTO entities_v2 (seq, tenant, id, types, created_at, modified_at, doc)
        SELECT seq, tenant, id, types, created_at, modified_at, doc FROM entities;

      CREATE TABLE entity_types_v2 (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        PRIMARY KEY (tenant, id, type),
        FOREIGN KEY (tenant, id) REFERENCES entities_v2 (tenant, id) ON DELETE CASCADE
      ) WITHOUT ROWID;
      INSERT INTO entity_types_v2 (tenant, id, type) SELECT tenant, id, type FROM entity_types;

      -- Children first, so that dropping the old entities cascades to nothing; renaming the new parent
      -- rewrites the child's foreign key to the final name.
      DROP TABLE entity_types;
      DROP TABLE entities;
      ALTER TABLE entities_v2 RENAME TO entities;
      ALTER TABLE entity_types_v2 RENAME TO entity_types;
      CREATE INDEX entities_tenant_seq ON entities (tenant, seq, id);
      CREATE INDEX entity_types_tenant_type ON entity_types (tenant, type);

      CREATE TABLE value_paths (
        pid INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE
      );

      CREATE TABLE attr_values (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        pid INTEGER NOT NULL,
        tix INTEGER NOT NULL,
        cix INTEGER NOT NULL,
        kind TEXT NOT NULL,
        tgt INTEGER NOT NULL,
        ord INTEGER NOT NULL,
        srt INTEGER NOT NULL,
        num REAL,
        str TEXT,
        bool INTEGER,
        dt TEXT,
        date TEXT,
        tm TEXT,
        PRIMARY KEY (tenant, id, pid, tix, cix)
      ) WITHOUT ROWID;

      CREATE INDEX attr_values_num ON attr_values (tenant, pid, num) WHERE num IS NOT NULL;
      CREATE INDEX attr_values_str ON attr_values (tenant, pid, str) WHERE str IS NOT NULL;

      CREATE VIRTUAL TABLE geo_rtree USING rtree (rid, minx, maxx, miny, maxy, +tenant TEXT, +id TEXT, +pid INTEGER, +geom TEXT);

      CREATE TABLE geo_items (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        rid INTEGER NOT NULL,
        PRIMARY KEY (tenant, id, rid)
      ) WITHOUT ROWID;

      CREATE TRIGGER entities_delete_index AFTER DELETE ON entities BEGIN
        DELETE FROM attr_values WHERE tenant = old.tenant AND id = old.id;
        DELETE FROM geo_rtree WHERE rid IN (SELECT rid FROM geo_items WHERE tenant = old.tenant AND id = old.id);
        DELETE FROM geo_items WHERE tenant = old.tenant AND id = old.id;
      END;
    `,
    backfill: (db) => void backfillEntityIndex(db),
  },
  {
    version: 3,
    description: 'subscriptions, notification outbox, subscriptions version',
    // Released schema: SQLITE_SUBSCRIPTION_DDL must never change; later changes go in a new migration.
    sql: SQLITE_SUBSCRIPTION_DDL,
  },
  {
    version: 4,
    description: 'temporal history: entity records, attribute series, attribute instances',
    // temporal_entities: the entity-level record of the history (§5.6.11–5.6.16), one per (tenant, id); it
    //   outlives the entity (no foreign key to entities: deleting an entity keeps its history). `seq` (the
    //   rowid) is the stable listing order of temporal queries; types and scope are JSON arrays.
    // temporal_attrs: one series per (tenant, entity, attribute), numbered by `sid`. Instances carry the sid
    //   instead of the three texts: every index entry holds a small integer instead of ~100 bytes of
    //   tenant, id and attribute IRI, which halved the cost of appending instances and shrank the file by
    //   40 % in a 100,000-write trial. An index on (sid, time) is the index on (tenant, entity, attribute,
    //   time). Series rows go only with a drop of the whole entity.
    // temporal_instances: the append-only instance log. Times are epoch-ms integers (compared as instants
    //   whatever the fraction digits of the text); num/text/key are core instanceValues(), what the
    //   aggregations read; doc is the instance as recorded. `seq` (the rowid) orders ties. instance_id is
    //   unique (urn:ngsi-ld:<uuid>); lookups by it also name the series, so tenants stay apart.
    // Indexes, one per way a query reaches instances — the series then the time property of the window, so a
    //   window is one index range and its rows come in time order (lastN, the cap, buckets):
    //   - observed_at: the default time property, the hot path (partial: instances without it never match);
    //     it carries num and deleted_at, so numeric aggregations (sum, avg, min, max, stddev, sumsq) over the
    //     counted (non-deletion) instances read the index alone — avg/min/max per hour over 100,000 instances
    //     took 39 ms reading rows, 21 ms from the index;
    //   - modified_at: every instance has it; its sid prefix also serves createdAt windows (filtered per
    //     row: rarely asked, not worth a fourth index entry per appended instance) and drops;
    //   - deleted_at: partial, so it holds only the few deletion instances and costs other writes nothing;
    //   - created_at alone: the retention job (pruneHistory) deletes across tenants by it; queries never use
    //     it (they write +created_at).
    // No foreign keys (a check per appended instance would slow every write); the adapter keeps them.
    sql: `
      CREATE TABLE temporal_entities (
        seq INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        types TEXT NOT NULL,
        scope TEXT,
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL,
        deleted_at TEXT,
        UNIQUE (tenant, id)
      );
      -- A page of records streams in seq order and stops at its end (no sort of the tenant's records).
      CREATE INDEX temporal_entities_tenant_seq ON temporal_entities (tenant, seq);

      CREATE TABLE temporal_attrs (
        sid INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        attr TEXT NOT NULL,
        UNIQUE (tenant, entity_id, attr)
      );

      CREATE TABLE temporal_instances (
        seq INTEGER PRIMARY KEY,
        sid INTEGER NOT NULL,
        dataset_id TEXT,
        instance_id TEXT NOT NULL UNIQUE,
        observed_at INTEGER,
        created_at INTEGER,
        modified_at INTEGER,
        deleted_at INTEGER,
        num REAL,
        text TEXT,
        key TEXT,
        doc TEXT NOT NULL
      );

      CREATE INDEX temporal_instances_observed ON temporal_instances (sid, observed_at, num, deleted_at)
        WHERE observed_at IS NOT NULL;
      CREATE INDEX temporal_instances_modified ON temporal_instances (sid, modified_at);
      CREATE INDEX temporal_instances_deleted ON temporal_instances (sid, deleted_at) WHERE deleted_at IS NOT NULL;
      CREATE INDEX temporal_instances_created ON temporal_instances (created_at);
    `,
  },
  {
    version: 5,
    description: 'context source registrations and context source registration subscriptions',
    // Released schema: both DDL texts must never change; later changes go in a new migration.
    sql: SQLITE_REGISTRATION_DDL + SQLITE_CSOURCE_SUBSCRIPTION_DDL,
  },
  {
    version: 6,
    description: 'attr_values_multi: entities with several index rows for one attribute (range drivers)',
    // A q range such as `temperature>=10;temperature<11` is driven by one index range over both bounds; an
    // entity with several values of the attribute (instances, array elements) could satisfy each bound with
    // a different value, so the driver adds those entities, found through this small partial index.
    sql: `
      CREATE INDEX attr_values_multi ON attr_values (tenant, pid, id) WHERE tix > 0 OR cix > 0;
    `,
  },
  {
    version: 7,
    description: 'history: no created_at index (retention walks the log in recording order)',
    // Instances are appended in recording order, so the log's seq order is (nearly) created_at order: the
    // retention job walks it from the oldest end and stops at the first young instance. The index cost
    // one B-tree insert per recorded instance (issue 6 item 5: history may cost writes at most 20 %).
    sql: `
      DROP INDEX temporal_instances_created;
    `,
  },
  {
    version: 8,
    description: 'EntityMaps and their entries (entity-map-store.ts)',
    // Released schema: the DDL text must never change; later changes go in a new migration.
    sql: SQLITE_ENTITY_MAP_DDL,
  },
  {
    version: 9,
    description: 'history: hourly rollups per series (temporal_rollups) for aggregations over whole hours',
    // temporal_rollups: per series (sid) and UTC hour (floor(observed_at / 1 h)), over the counted observedAt
    //   instances (not deletions) of all datasetIds: n, nnum (with a number) and sum, sumsq, min, max of the
    //   numbers (temporal-rollup.ts keeps them exact). An aggregation whose buckets are whole hours reads one
    //   row per hour: avg/min/max per hour over 100,000 instances went from ≈ 25 ms (a grouped scan of the
    //   observed_at index plus a sort) to ≈ 1 ms. WITHOUT ROWID: the key is the row, one B-tree per cell.
    // From this version on, series rows (temporal_attrs) are never deleted — a drop removes their instances
    //   and cells only — so a sid is never reused and the writer may cache sids (temporal-write.ts).
    sql: `
      CREATE TABLE temporal_rollups (
        sid INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        n INTEGER NOT NULL,
        nnum INTEGER NOT NULL,
        sum REAL,
        sumsq REAL,
        min REAL,
        max REAL,
        PRIMARY KEY (sid, hour)
      ) WITHOUT ROWID;
      INSERT INTO temporal_rollups (sid, hour, n, nnum, sum, sumsq, min, max)
        SELECT sid, (observed_at - ((observed_at % 3600000) + 3600000) % 3600000) / 3600000,
          count(*), count(num), sum(num), sum(num * num), min(num), max(num)
        FROM temporal_instances WHERE observed_at IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2;
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
      m.check?.(db);
      db.exec(m.sql);
      m.backfill?.(db);
      // user_version lives in the database header and is covered by the transaction.
      db.pragma(`user_version = ${m.version}`);
    }
    return readUserVersion(db);
  });
  // Skip the write lock when nothing is pending (the common case: reopening an up-to-date file).
  if (readUserVersion(db) === latest) return latest;
  return migrate.immediate();
}
