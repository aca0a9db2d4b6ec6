// The PostgreSQL + PostGIS EntityStore (pg Pool): the production store, one database shared by many nodes.
import { Pool, type PoolClient } from 'pg';
import type { Entity } from '../../core/model/entity.ts';
import { referenceQuery, type EntityQuery, type PageRequest, type QueryPage } from '../../core/query/entity-query.ts';
import { summarizeEntities, type DiscoveryRow } from '../../core/query/discovery.ts';
import type { JsonValue } from '../../core/json.ts';
import { DEFAULT_TENANT, type TenantId } from '../../core/tenant.ts';
import { NgsiError } from '../../core/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type {
  BatchItem,
  BatchOutcome,
  ContextKind,
  EntityStore,
  StoredContext,
  WriteDecision,
  WriteOptions,
} from '../../ports/store.ts';
import { applyMigrations } from './migrations.ts';
import { sql } from './statements.ts';
import { inTransaction } from './transaction.ts';

export interface PostgresStoreOptions {
  /** A libpq-style URL: postgres://user:password@host:port/database?options. */
  url: string;
  /** Connections in the pool; defaults to DEFAULT_POOL_SIZE. */
  poolSize?: number;
  /** Time source for bookkeeping columns (tenants.created_at); defaults to the system clock. */
  clock?: Clock;
}

export const DEFAULT_POOL_SIZE = 10;

/** How long a request waits for a free pooled connection (or a new one) before failing. */
export const CONNECT_TIMEOUT_MS = 10_000;

interface DocRow {
  doc: string;
}

interface LockRow {
  doc: string | null;
  tenant_known: boolean;
}

interface ContextRow {
  local_id: string;
  kind: ContextKind;
  url: string | null;
  document: string;
  created_at: string;
}

function parseEntity(doc: string): Entity {
  return JSON.parse(doc) as Entity;
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

function nonexistentTenant(tenant: TenantId): NgsiError {
  return new NgsiError('NonexistentTenant', `Tenant '${tenant}' does not exist`);
}

/**
 * Connects a pool and migrates the database (see migrations.ts), then returns the store. Writes run in
 * one transaction each with the entity rows locked, so writers of one entity are serialised across
 * connections, processes and nodes; a store that cannot migrate closes its pool and rejects.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<EntityStore> {
  const clock = options.clock ?? systemClock;
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'kend',
  });
  // An idle pooled connection that breaks (server restart, network) is dropped by the pool; the next
  // checkout opens a new one. Without a listener the 'error' event would crash the process.
  pool.on('error', () => {});
  try {
    await applyMigrations(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  let closed = false;

  /**
   * Validates one decision and writes it on a row this transaction has locked (or found absent).
   * Returns the entity's document text afterwards: null when it is (still or now) absent.
   */
  async function apply<R>(
    client: PoolClient,
    tenant: TenantId,
    id: string,
    currentDoc: string | null,
    decision: WriteDecision<R>,
    tenantKnown: boolean,
  ): Promise<string | null> {
    if (decision.put !== undefined && decision.remove === true) {
      throw new Error('writeEntity: a decision cannot both put and remove');
    }
    const entity = decision.put;
    if (entity !== undefined) {
      if (entity.id !== id) throw new Error(`writeEntity: decided entity id '${entity.id}' differs from '${id}'`);
      const doc = JSON.stringify(entity);
      const params = [tenant, id, entity.types, entity.createdAt, entity.modifiedAt, doc];
      if (currentDoc === null) await client.query(sql.insertEntity([...params, !tenantKnown, clock.nowIso()]));
      else await client.query(sql.updateEntity(params));
      return doc;
    }
    if (decision.remove === true && currentDoc !== null) {
      await client.query(sql.deleteEntity([tenant, id]));
      return null;
    }
    return currentDoc;
  }

  async function writeOne<R>(
    client: PoolClient,
    tenant: TenantId,
    id: string,
    decide: (current: Entity | null) => WriteDecision<R>,
    writeOptions: WriteOptions,
  ): Promise<R> {
    const { rows } = await client.query<LockRow>(sql.lockEntity([tenant, id]));
    const { doc, tenant_known } = rows[0];
    const tenantKnown = tenant === DEFAULT_TENANT || tenant_known;
    if (!tenantKnown && !writeOptions.createTenant) throw nonexistentTenant(tenant);
    const decision = decide(doc === null ? null : parseEntity(doc));
    await apply(client, tenant, id, doc, decision, tenantKnown);
    return decision.result;
  }

  async function writeBatch<R>(
    client: PoolClient,
    tenant: TenantId,
    items: readonly BatchItem<R>[],
    writeOptions: WriteOptions,
  ): Promise<BatchOutcome<R>[]> {
    let tenantKnown =
      tenant === DEFAULT_TENANT || ((await client.query(sql.tenantExists([tenant]))).rowCount ?? 0) > 0;
    if (!tenantKnown && !writeOptions.createTenant) throw nonexistentTenant(tenant);
    // The document text of every id of the batch as this transaction sees it (null: absent).
    const docs = new Map<string, string | null>(items.map((item) => [item.id, null]));
    const ids = [...docs.keys()];
    const locked = await client.query<DocRow & { id: string }>(sql.lockEntities([tenant, ids]));
    for (const row of locked.rows) docs.set(row.id, row.doc);

    const outcomes: BatchOutcome<R>[] = [];
    for (const item of items) {
      const currentDoc = docs.get(item.id) ?? null;
      let decision: WriteDecision<R>;
      try {
        // A fresh parse per item, as a re-read would give: one item's decide cannot alias another's state.
        decision = item.decide(currentDoc === null ? null : parseEntity(currentDoc));
      } catch (error) {
        // decide() is pure and runs before any write of its item, so a refused item left nothing behind.
        if (error instanceof NgsiError) {
          outcomes.push({ ok: false, error });
          continue;
        }
        throw error;
      }
      const after = await apply(client, tenant, item.id, currentDoc, decision, tenantKnown);
      if (decision.put !== undefined) tenantKnown = true;
      docs.set(item.id, after);
      outcomes.push({ ok: true, result: decision.result });
    }
    return outcomes;
  }

  async function listAll(tenant: TenantId): Promise<Entity[]> {
    return (await pool.query<DocRow>(sql.listEntities([tenant]))).rows.map((row) => parseEntity(row.doc));
  }

  return {
    async tenantExists(tenant) {
      if (tenant === DEFAULT_TENANT) return true;
      return ((await pool.query(sql.tenantExists([tenant]))).rowCount ?? 0) > 0;
    },

    async getEntity(tenant, id) {
      const { rows } = await pool.query<DocRow>(sql.getEntity([tenant, id]));
      return rows.length === 0 ? null : parseEntity(rows[0].doc);
    },

    writeEntity(tenant, id, decide, writeOptions) {
      return inTransaction(pool, (client) => writeOne(client, tenant, id, decide, writeOptions));
    },

    writeEntities(tenant, items, writeOptions) {
      return inTransaction(pool, (client) => writeBatch(client, tenant, items, writeOptions));
    },

    // Interim: reference evaluation over all entities, replaced by compiled SQL (issue 4).
    async queryEntities(tenant: TenantId, query: EntityQuery, page: PageRequest): Promise<QueryPage> {
      return referenceQuery(query, await listAll(tenant), page);
    },

    async discover(tenant: TenantId): Promise<DiscoveryRow[]> {
      return summarizeEntities(await listAll(tenant));
    },

    listEntities: listAll,

    async putContext(entry) {
      const document = JSON.stringify(entry.document);
      await pool.query(sql.putContext([entry.localId, entry.kind, entry.url ?? null, document, entry.createdAt]));
    },

    async getContext(localId) {
      const { rows } = await pool.query<ContextRow>(sql.getContext([localId]));
      return rows.length === 0 ? null : toStoredContext(rows[0]);
    },

    async listContexts() {
      return (await pool.query<ContextRow>(sql.listContexts([]))).rows.map(toStoredContext);
    },

    async deleteContext(localId) {
      return ((await pool.query(sql.deleteContext([localId]))).rowCount ?? 0) > 0;
    },

    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
