// The SQLite EntityStore (better-sqlite3): the embedded default store, one file per deployment.
import type { Entity } from '../../core/model/entity.ts';
import { referenceQuery, type EntityQuery, type PageRequest, type QueryPage } from '../../core/query/entity-query.ts';
import { summarizeEntities, type DiscoveryRow } from '../../core/query/discovery.ts';
import type { JsonValue } from '../../core/json.ts';
import { DEFAULT_TENANT, type TenantId } from '../../core/tenant.ts';
import { NgsiError } from '../../core/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type { BatchItem, BatchOutcome, ContextKind, EntityStore, StoredContext, WriteDecision, WriteOptions } from '../../ports/store.ts';
import { openDatabase } from './database.ts';

export interface SqliteStoreOptions {
  /** A file path (created with its parent directory when missing) or ':memory:'. */
  path: string;
  /** Time source for bookkeeping columns (tenants.created_at); defaults to the system clock. */
  clock?: Clock;
}

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
export function createSqliteStore(options: SqliteStoreOptions): EntityStore {
  const clock = options.clock ?? systemClock;
  const db = openDatabase(options.path);

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

  function putEntity(tenant: TenantId, entity: Entity, exists: boolean): void {
    const types = JSON.stringify(entity.types);
    const doc = JSON.stringify(entity);
    if (exists) {
      stmt.updateEntity.run(types, entity.createdAt, entity.modifiedAt, doc, tenant, entity.id);
      stmt.deleteTypes.run(tenant, entity.id);
    } else {
      stmt.insertEntity.run(tenant, entity.id, types, entity.createdAt, entity.modifiedAt, doc);
    }
    for (const type of entity.types) stmt.insertType.run(tenant, entity.id, type);
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
      putEntity(tenant, decision.put, current !== null);
    } else if (decision.remove === true && current !== null) {
      // entity_types rows go with it (ON DELETE CASCADE).
      stmt.deleteEntity.run(tenant, id);
    }
    return decision.result;
  }

  // One transaction wrapper, reused: `.immediate()` takes the write lock at BEGIN, so the read of the
  // current state and the write are one atomic step even against another process on the same file.
  const writeTx = db.transaction(writeSync);
  const batchTx = db.transaction(batchSync);

  return {
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
      return writeTx.immediate(tenant, id, decide, writeOptions) as R;
    },

    async writeEntities<R>(tenant: TenantId, items: readonly BatchItem<R>[], writeOptions: WriteOptions): Promise<BatchOutcome<R>[]> {
      return batchTx.immediate(tenant, items, writeOptions) as BatchOutcome<R>[];
    },

    // Interim: reference evaluation over all entities, replaced by compiled SQL (issue 4).
    async queryEntities(tenant: TenantId, query: EntityQuery, page: PageRequest): Promise<QueryPage> {
      return referenceQuery(query, await this.listEntities(tenant), page);
    },

    async discover(tenant: TenantId): Promise<DiscoveryRow[]> {
      return summarizeEntities(await this.listEntities(tenant));
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
      if (db.open) db.close();
    },
  };
}
