// The SQLite EntityStore (better-sqlite3): the embedded default store, one file per deployment.
import type { AttrKind, Entity } from '../../core/model/entity.ts';
import type { EntityQuery, PageRequest, QueryPage } from '../../core/query/entity-query.ts';
import { sortDiscoveryRows, type DiscoveryRow } from '../../core/query/discovery.ts';
import type { JsonValue } from '../../core/json.ts';
import { DEFAULT_TENANT, type TenantId } from '../../core/tenant.ts';
import { NgsiError } from '../../core/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type { BatchItem, BatchOutcome, ContextKind, EntityStore, StoredContext, WriteDecision, WriteOptions } from '../../ports/store.ts';
import type BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from './database.ts';
import { createOutboxInserter, createSqliteSubscriptionStore } from './subscription-store.ts';
import type { CsourceSubscriptionStore } from '../../ports/csource-subscription-store.ts';
import type { RegistrationStore } from '../../ports/registration-store.ts';
import type { SubscriptionStore } from '../../ports/subscription-store.ts';
import type { TemporalStore } from '../../ports/temporal-store.ts';
import { createGroupCommitter } from './group-commit.ts';
import { createWalSyncer } from './wal-sync.ts';
import { createEntityIndex } from './entity-index.ts';
import { compileDiscovery, compileQuery, type CompileOptions } from './query-compile.ts';
import { driverCandidates, probeDriver } from './query-drivers.ts';
import type { Sql } from './sql-fragment.ts';
import { registerSqlFunctions } from './sql-functions.ts';
import { createHistoryWriter } from './temporal-write.ts';
import { createSqliteTemporalStore } from './temporal-store.ts';
import { createSqliteEntityMapStore } from './entity-map-store.ts';
import type { EntityMapStore } from '../../ports/entity-map-store.ts';
import { createSqliteRegistrationStore } from './registration-store.ts';
import { createSqliteCsourceSubscriptionStore } from './csource-subscription-store.ts';

export interface SqliteStoreOptions {
  /** A file path (created with its parent directory when missing) or ':memory:'. */
  path: string;
  /** Time source for bookkeeping columns (tenants.created_at); defaults to the system clock. */
  clock?: Clock;
  /** Query compilation options (tests: force the JSON1 strategy for every q path). */
  compile?: Pick<CompileOptions, 'forceJson'>;
  /**
   * How a query picks its driving rows (query-drivers.ts): `auto` (default) by capped counts; tests
   * force `scan` (never an index driver) or `drive` (always one, each candidate in turn).
   */
  plan?: 'auto' | 'scan' | 'drive';
}

interface DiscoveryQueryRow {
  type: string;
  attr: string | null;
  kind: AttrKind | null;
  entities: number;
  instances: number;
}

/** How many distinct compiled statements stay prepared (a query's SQL depends on its shape, not values). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * A driver yielding fewer rows than this is used: the rows it yields bound the work. Otherwise scanning in
 * insertion order finds a page's matches within about page-end × tenant size / PROBE_CAP rows.
 */
const PROBE_CAP = 500;

interface EntityRow {
  doc: string;
}

interface ContextRow {
  local_id: string;
  kind: ContextKind;
  url: string | null;
  document: string;
  created_at: string;
}

function parseEntity(row: EntityRow): Entity {
  return JSON.parse(row.doc) as Entity;
}

function toStoredContext(row: ContextRow): StoredContext {
  const entry: StoredContext = {
    localId: row.local_id,
    kind: row.kind,
    document: JSON.parse(row.document) as JsonValue,
    createdAt: row.created_at,
  };
  if (row.url !== null) entry.url = row.url;
  return entry;
}

/**
 * Opens the store. Every write runs in one BEGIN IMMEDIATE transaction, so writers of the same file,
 * in this process or another, are serialised by SQLite's write lock (waiting up to the busy timeout).
 * better-sqlite3 is synchronous: a call blocks the event loop for its (short) duration, which is also
 * why `decide` must be synchronous.
 */
export function createSqliteStore(
  options: SqliteStoreOptions,
): EntityStore & { subscriptions: SubscriptionStore; temporal: TemporalStore; registrations: RegistrationStore; csourceSubscriptions: CsourceSubscriptionStore; entityMaps: EntityMapStore } {
  const clock = options.clock ?? systemClock;
  const db = openDatabase(options.path);
  const writeOutbox = createOutboxInserter(db);
  const subscriptions = createSqliteSubscriptionStore(db, clock, (work) => group.run(work));
  registerSqlFunctions(db);
  const index = createEntityIndex(db);
  const history = createHistoryWriter(db);
  const temporal = createSqliteTemporalStore(db);
  const registrations = createSqliteRegistrationStore(db, clock);
  const csourceSubscriptions = createSqliteCsourceSubscriptionStore(db, clock);
  const entityMaps = createSqliteEntityMapStore(db);

  const prepared = new Map<string, BetterSqlite3.Statement<unknown[]>>();
  /** Prepares (or reuses) a compiled statement; least recently used ones are dropped first. */
  function statement(text: string): BetterSqlite3.Statement<unknown[]> {
    let s = prepared.get(text);
    if (s !== undefined) prepared.delete(text);
    else s = db.prepare<unknown[]>(text);
    prepared.set(text, s);
    if (prepared.size > STATEMENT_CACHE_SIZE) prepared.delete(prepared.keys().next().value!);
    return s;
  }
  const all = <T>(q: Sql): T[] => statement(q.text).all(...q.values) as T[];

  const stmt = {
    tenantExists: db.prepare<[string], number>('SELECT 1 FROM tenants WHERE name = ?').pluck(),
    insertTenant: db.prepare<[string, string]>('INSERT OR IGNORE INTO tenants (name, created_at) VALUES (?, ?)'),
    getEntity: db.prepare<[string, string], EntityRow>('SELECT doc FROM entities WHERE tenant = ? AND id = ?'),
    listEntities: db.prepare<[string], EntityRow>(
      'SELECT doc FROM entities WHERE tenant = ? ORDER BY seq, id',
    ),
    insertEntity: db.prepare<[string, string, string, string, string, string]>(
      `INSERT INTO entities (tenant, id, types, created_at, modified_at, doc, seq)
       VALUES (?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM entities))`,
    ),
    updateEntity: db.prepare<[string, string, string, string, string, string]>(
      `UPDATE entities SET types = ?, created_at = ?, modified_at = ?, doc = ?
       WHERE tenant = ? AND id = ?`,
    ),
    deleteEntity: db.prepare<[string, string]>('DELETE FROM entities WHERE tenant = ? AND id = ?'),
    deleteTypes: db.prepare<[string, string]>('DELETE FROM entity_types WHERE tenant = ? AND id = ?'),
    insertType: db.prepare<[string, string, string]>(
      'INSERT OR IGNORE INTO entity_types (tenant, id, type) VALUES (?, ?, ?)',
    ),
    putContext: db.prepare<[string, string, string | null, string, string]>(
      `INSERT INTO contexts (local_id, kind, url, document, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (local_id) DO UPDATE SET
         kind = excluded.kind, url = excluded.url, document = excluded.document, created_at = excluded.created_at`,
    ),
    getContext: db.prepare<[string], ContextRow>(
      'SELECT local_id, kind, url, document, created_at FROM contexts WHERE local_id = ?',
    ),
    listContexts: db.prepare<[], ContextRow>(
      'SELECT local_id, kind, url, document, created_at FROM contexts ORDER BY created_at, local_id',
    ),
    deleteContext: db.prepare<[string]>('DELETE FROM contexts WHERE local_id = ?'),
  };

  function tenantExistsSync(tenant: TenantId): boolean {
    return tenant === DEFAULT_TENANT || stmt.tenantExists.get(tenant) !== undefined;
  }

  function putEntity(tenant: TenantId, entity: Entity, previous: Entity | null): void {
    const types = JSON.stringify(entity.types);
    const doc = JSON.stringify(entity);
    let typesChanged = true;
    if (previous !== null) {
      stmt.updateEntity.run(types, entity.createdAt, entity.modifiedAt, doc, tenant, entity.id);
      typesChanged = types !== JSON.stringify(previous.types);
      if (typesChanged) stmt.deleteTypes.run(tenant, entity.id);
    } else {
      stmt.insertEntity.run(tenant, entity.id, types, entity.createdAt, entity.modifiedAt, doc);
    }
    if (typesChanged) for (const type of entity.types) stmt.insertType.run(tenant, entity.id, type);
    index.put(tenant, entity, previous);
  }

  function assertTenant(tenant: TenantId, writeOptions: WriteOptions): boolean {
    const tenantKnown = tenantExistsSync(tenant);
    if (!tenantKnown && !writeOptions.createTenant) {
      throw new NgsiError('NonexistentTenant', `Tenant '${tenant}' does not exist`);
    }
    return tenantKnown;
  }

  function writeSync<R>(
    tenant: TenantId,
    id: string,
    decide: (current: Entity | null) => WriteDecision<R>,
    writeOptions: WriteOptions,
  ): R {
    return applyOne(tenant, id, decide, assertTenant(tenant, writeOptions));
  }

  function batchSync<R>(tenant: TenantId, items: readonly BatchItem<R>[], writeOptions: WriteOptions): BatchOutcome<R>[] {
    let tenantKnown = assertTenant(tenant, writeOptions);
    return items.map((item): BatchOutcome<R> => {
      try {
        const result = applyOne(tenant, item.id, item.decide, tenantKnown);
        tenantKnown = tenantExistsSync(tenant);
        return { ok: true, result };
      } catch (error) {
        // decide() is pure and runs before any write of its item, so a refused item left nothing behind.
        if (error instanceof NgsiError) return { ok: false, error };
        throw error;
      }
    });
  }

  function applyOne<R>(tenant: TenantId, id: string, decide: (current: Entity | null) => WriteDecision<R>, tenantKnown: boolean): R {
    const row = stmt.getEntity.get(tenant, id);
    const current = row === undefined ? null : parseEntity(row);
    const decision = decide(current);
    if (decision.put !== undefined && decision.remove === true) {
      throw new Error('writeEntity: a decision cannot both put and remove');
    }
    if (decision.put !== undefined) {
      if (decision.put.id !== id) {
        throw new Error(`writeEntity: decided entity id '${decision.put.id}' differs from '${id}'`);
      }
      if (!tenantKnown) stmt.insertTenant.run(tenant, clock.nowIso());
      putEntity(tenant, decision.put, current);
    } else if (decision.remove === true && current !== null) {
      // entity_types rows go with it (ON DELETE CASCADE).
      stmt.deleteEntity.run(tenant, id);
    }
    // Notifications owed by this change commit with it (durable outbox, issue 5).
    if (decision.outbox !== undefined && decision.outbox.length > 0) writeOutbox(decision.outbox);
    // So does its history (issue 6). A record of an entity makes its tenant exist, as a put does.
    if (decision.history !== undefined) {
      if (decision.history.entity !== undefined && decision.put === undefined && !tenantKnown) {
        stmt.insertTenant.run(tenant, clock.nowIso());
      }
      history.write(tenant, id, decision.history);
    }
    return decision.result;
  }

  // Writes share group transactions (group-commit.ts): BEGIN IMMEDIATE takes the write lock before the
  // current state is read, so read and write are one atomic step even against another process on the
  // file; each write has its own savepoint; every write is acknowledged only after its group's COMMIT.
  const walSync = createWalSyncer(db);
  const group = createGroupCommitter(db, {
    settle: (committed) => {
      index.settle(committed);
      history.settle(committed);
    },
    walSync,
  });

  let driveTurn = 0;
  /**
   * Chooses the driving rows: the first driver (usually smallest first) with fewer than PROBE_CAP rows.
   * Without one: a geo-query's box; else a page in insertion order scans the tenant's entities in seq
   * order and stops at the page's end, while a count or an ordered page (which need every match) start
   * from a type, as types partition the entities.
   */
  function plan(tenant: TenantId, query: EntityQuery): Pick<CompileOptions, 'selectDriver' | 'countDriver'> {
    const mode = options.plan ?? 'auto';
    const candidates = driverCandidates(tenant, query);
    if (mode === 'scan' || candidates.length === 0) return {};
    if (mode === 'drive') {
      // Tests: every candidate in turn, so each kind of driver meets every kind of query.
      const d = candidates[driveTurn++ % candidates.length];
      return { selectDriver: d, countDriver: d };
    }
    for (const d of candidates) {
      if (all<{ n: number }>(probeDriver(d, PROBE_CAP))[0].n < PROBE_CAP) return { selectDriver: d, countDriver: d };
    }
    // The geo condition tests every geometry in its box in any plan: starting from them costs no more.
    const geo = candidates.find((d) => d.kind === 'geo');
    if (geo !== undefined) return { selectDriver: geo, countDriver: geo };
    const type = candidates.find((d) => d.kind === 'type');
    return { selectDriver: query.order !== undefined && query.order.length > 0 ? type : undefined, countDriver: type };
  }

  // One read transaction: the page, its documents and the count come from one snapshot.
  const queryTx = db.transaction((tenant: TenantId, query: EntityQuery, page: PageRequest): QueryPage => {
    const compiled = compileQuery(tenant, query, page, { ...options.compile, ...plan(tenant, query) });
    const entities: Entity[] = [];
    for (const { id } of all<{ id: string }>(compiled.select)) {
      const row = stmt.getEntity.get(tenant, id);
      if (row !== undefined) entities.push(parseEntity(row));
    }
    const out: QueryPage = { entities };
    if (compiled.count !== null) out.total = all<{ n: number }>(compiled.count)[0].n;
    return out;
  });

  return {
    subscriptions,
    temporal,
    registrations,
    csourceSubscriptions,
    entityMaps,
    async tenantExists(tenant) {
      return tenantExistsSync(tenant);
    },

    async getEntity(tenant, id) {
      const row = stmt.getEntity.get(tenant, id);
      return row === undefined ? null : parseEntity(row);
    },

    async writeEntity<R>(
      tenant: TenantId,
      id: string,
      decide: (current: Entity | null) => WriteDecision<R>,
      writeOptions: WriteOptions,
    ): Promise<R> {
      return group.run(() => writeSync(tenant, id, decide, writeOptions));
    },

    async writeEntities<R>(tenant: TenantId, items: readonly BatchItem<R>[], writeOptions: WriteOptions): Promise<BatchOutcome<R>[]> {
      return group.run(() => batchSync(tenant, items, writeOptions));
    },

    async queryEntities(tenant: TenantId, query: EntityQuery, page: PageRequest): Promise<QueryPage> {
      return queryTx.deferred(tenant, query, page);
    },

    async discover(tenant: TenantId): Promise<DiscoveryRow[]> {
      return sortDiscoveryRows(all<DiscoveryQueryRow>(compileDiscovery(tenant)));
    },

    async listEntities(tenant) {
      return stmt.listEntities.all(tenant).map(parseEntity);
    },

    async putContext(entry) {
      stmt.putContext.run(
        entry.localId,
        entry.kind,
        entry.url ?? null,
        JSON.stringify(entry.document),
        entry.createdAt,
      );
    },

    async getContext(localId) {
      const row = stmt.getContext.get(localId);
      return row === undefined ? null : toStoredContext(row);
    },

    async listContexts() {
      return stmt.listContexts.all().map(toStoredContext);
    },

    async deleteContext(localId) {
      return stmt.deleteContext.run(localId).changes > 0;
    },

    async close() {
      await walSync?.close();
      if (db.open) db.close();
    },
  };
}
