// The PostgreSQL + PostGIS EntityStore (pg Pool): the production store, one database shared by many nodes.
import { Pool, type PoolClient, type QueryResult } from 'pg';
import type { Entity } from '../../core/model/entity.ts';
import type { EntityQuery, PageRequest, QueryPage } from '../../core/query/entity-query.ts';
import type { DiscoveryRow } from '../../core/query/discovery.ts';
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
import { createAutoAnalyze, entitiesEstimate } from './auto-analyze.ts';
import { createHistoryVacuum } from './history-vacuum.ts';
import { recordPut, recordRemove, writeBatchStates, type BatchEntityState } from './batch-write.ts';
import { changedAttrs, deriveEntity } from './derive.ts';
import { discoverRows, queryPage } from './query-run.ts';
import { sideRowParams, sql } from './statements.ts';
import { textFromKey, textKey } from './text-key.ts';
import { inPipelinedTransaction, inTransaction, type PipelinedTransaction, type TransactionOptions } from './transaction.ts';
import type { Step } from './pipeline.ts';
import { createWriteGroups, DEFAULT_WRITE_GROUP_LIMIT, DEFAULT_WRITE_GROUP_SLOTS, type MemberWrite } from './write-groups.ts';
import { createPostgresSubscriptionStore, insertOutbox, outboxStatement } from './subscription-store.ts';
import type { OutboxEntry, SubscriptionStore } from '../../ports/subscription-store.ts';
import type { TemporalStore } from '../../ports/temporal-store.ts';
import type { CsourceSubscriptionStore } from '../../ports/csource-subscription-store.ts';
import type { RegistrationStore } from '../../ports/registration-store.ts';
import { createPostgresCsourceSubscriptionStore } from './csource-subscription-store.ts';
import { createPostgresRegistrationStore } from './registration-store.ts';
import { createPostgresTemporalStore } from './temporal-store.ts';
import { createPostgresEntityMapStore } from './entity-map-store.ts';
import type { EntityMapStore } from '../../ports/entity-map-store.ts';
import { checkAppended, planHistories, writeHistories, type PendingHistory } from './temporal-write.ts';

export interface PostgresStoreOptions {
  /** A libpq-style URL: postgres://user:password@host:port/database?options. */
  url: string;
  /** Connections in the pool; defaults to DEFAULT_POOL_SIZE. */
  poolSize?: number;
  /** Time source for bookkeeping columns (tenants.created_at); defaults to the system clock. */
  clock?: Clock;
}

export const DEFAULT_POOL_SIZE = 10;

/** Entity writes run only fixed statements keyed by id or seq (see TransactionOptions.genericPlans). */
const WRITE_TRANSACTION: TransactionOptions = { genericPlans: true };

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

/** A decision that cannot be written is a programming error: it aborts the transaction. */
function checkDecision<R>(id: string, decision: WriteDecision<R>): void {
  if (decision.put !== undefined && decision.remove === true) {
    throw new Error('writeEntity: a decision cannot both put and remove');
  }
  if (decision.put !== undefined && decision.put.id !== id) {
    throw new Error(`writeEntity: decided entity id '${decision.put.id}' differs from '${id}'`);
  }
}

function nonexistentTenant(tenant: TenantId): NgsiError {
  return new NgsiError('NonexistentTenant', `Tenant '${tenant}' does not exist`);
}

/**
 * Connects a pool and migrates the database (see migrations.ts), then returns the store. Writes run in
 * one transaction each with the entity rows locked, so writers of one entity are serialised across
 * connections, processes and nodes; a store that cannot migrate closes its pool and rejects.
 */
export async function createPostgresStore(
  options: PostgresStoreOptions,
): Promise<EntityStore & { subscriptions: SubscriptionStore; temporal: TemporalStore; registrations: RegistrationStore; csourceSubscriptions: CsourceSubscriptionStore; entityMaps: EntityMapStore }> {
  const clock = options.clock ?? systemClock;
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'kend',
    // Queries are short and many run at once: a parallel worker's start-up costs more than it saves, and
    // takes a core from a concurrent request.
    options: '-c max_parallel_workers_per_gather=0',
  });
  // An idle pooled connection that breaks (server restart, network) is dropped by the pool; the next
  // checkout opens a new one. Without a listener the 'error' event would crash the process.
  pool.on('error', () => {});
  let entitiesAtStart: number;
  try {
    await applyMigrations(pool);
    entitiesAtStart = await entitiesEstimate(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  let closed = false;
  const statistics = createAutoAnalyze(pool, entitiesAtStart);
  const writeGroups = createWriteGroups(pool, {
    slots: DEFAULT_WRITE_GROUP_SLOTS,
    limit: DEFAULT_WRITE_GROUP_LIMIT,
    transaction: WRITE_TRANSACTION,
  });
  const historyVacuum = createHistoryVacuum(pool);

  /**
   * Validates one decision and returns the statements that write it on a row this transaction has locked
   * (or found absent).
   */
  function applySteps<R>(
    tenant: TenantId,
    id: string,
    currentDoc: string | null,
    decision: WriteDecision<R>,
    tenantKnown: boolean,
  ): Step[] {
    checkDecision(id, decision);
    const entity = decision.put;
    if (entity !== undefined) {
      const doc = JSON.stringify(entity);
      const params = [tenant, textKey(id), entity.types, entity.createdAt, entity.modifiedAt, doc];
      // The query side (search document, attribute index, geometries) is written in the same statement.
      if (currentDoc === null) {
        const derived = deriveEntity(entity);
        return [sql.insertEntity([...params, !tenantKnown, clock.nowIso(), derived.qdoc, ...sideRowParams(derived)])];
      }
      // Side rows of the changed attributes only. The stored version is parsed afresh: decide() may have
      // changed the object it was given.
      const changed = changedAttrs(parseEntity(currentDoc), entity);
      const derived = deriveEntity(entity, new Set(changed));
      return [sql.updateEntity([...params, derived.qdoc, changed.map(textKey), ...sideRowParams(derived)])];
    }
    if (decision.remove === true && currentDoc !== null) return [sql.deleteEntity([tenant, textKey(id)])];
    return [];
  }

  interface DecidedOne<R> extends MemberWrite {
    result: R;
    appended: number;
  }

  /**
   * Decides one write from its locked row (lockEntity's result) and returns its statements: the entity
   * statement, its outbox rows and its history.
   */
  function decideOne<R>(
    locked: QueryResult,
    tenant: TenantId,
    id: string,
    decide: (current: Entity | null) => WriteDecision<R>,
    writeOptions: WriteOptions,
  ): DecidedOne<R> {
    const { doc, tenant_known } = locked.rows[0] as LockRow;
    const tenantKnown = tenant === DEFAULT_TENANT || tenant_known;
    if (!tenantKnown && !writeOptions.createTenant) throw nonexistentTenant(tenant);
    const decision = decide(doc === null ? null : parseEntity(doc));
    const steps = applySteps(tenant, id, doc, decision, tenantKnown);
    // Notifications owed by this change commit with it (durable outbox, issue 5).
    const outbox = decision.outbox === undefined ? null : outboxStatement(decision.outbox);
    if (outbox !== null) steps.push(outbox);
    // So does its history (issue 6): drop, record, instances. A record makes its tenant exist, as a put does.
    if (decision.history === undefined) return { steps, result: decision.result, appended: 0 };
    const createTenant = !tenantKnown && decision.put === undefined;
    const plan = planHistories(tenant, [{ id, history: decision.history }], createTenant, clock.nowIso());
    const first = steps.length;
    steps.push(...plan.steps);
    const out: DecidedOne<R> = { steps, result: decision.result, appended: plan.appended };
    // Its count decides whether the transaction may commit: checked before the COMMIT is sent.
    if (plan.expected !== undefined) out.check = (results) => checkAppended(plan, results.slice(first).at(-1));
    return out;
  }

  /** One write alone, in two round trips (pipeline.ts): BEGIN with the row lock, then its statements and COMMIT. */
  async function writeOne<R>(
    tx: PipelinedTransaction,
    tenant: TenantId,
    id: string,
    decide: (current: Entity | null) => WriteDecision<R>,
    writeOptions: WriteOptions,
  ): Promise<{ result: R; appended: number }> {
    const [locked] = await tx.open([sql.lockEntity([tenant, textKey(id)])]);
    const decided = decideOne(locked, tenant, id, decide, writeOptions);
    if (decided.check !== undefined) {
      decided.check(await tx.run(decided.steps));
      await tx.commit([]);
    } else await tx.commit(decided.steps);
    return decided;
  }

  /** A write done: statistics and history vacuum may run (and are waited for), then the caller is answered. */
  async function afterWrite(entities: number, appended: number): Promise<void> {
    await statistics.written(entities);
    await historyVacuum.appended(appended);
  }

  /**
   * Decides every item in order against the batch's own view of each id (so an item sees the writes of
   * the items before it), then writes the final states set-based (batch-write.ts): a few statements per
   * batch, not one per item.
   */
  async function writeBatch<R>(
    client: PoolClient,
    tenant: TenantId,
    items: readonly BatchItem<R>[],
    writeOptions: WriteOptions,
  ): Promise<{ outcomes: BatchOutcome<R>[]; appended: number }> {
    const tenantKnown =
      tenant === DEFAULT_TENANT || ((await client.query(sql.tenantExists([tenant]))).rowCount ?? 0) > 0;
    if (!tenantKnown && !writeOptions.createTenant) throw nonexistentTenant(tenant);
    const states = new Map<string, BatchEntityState>(items.map((item) => [item.id, { start: null, doc: null }]));
    const keys = [...states.keys()].map(textKey);
    const locked = await client.query<DocRow & { id: string }>(sql.lockEntities([tenant, keys]));
    for (const row of locked.rows) {
      const state = states.get(textFromKey(row.id))!;
      state.start = row.doc;
      state.doc = row.doc;
    }

    const outcomes: BatchOutcome<R>[] = [];
    const outbox: OutboxEntry[] = [];
    const histories: PendingHistory[] = [];
    let anyPut = false;
    items.forEach((item, index) => {
      const state = states.get(item.id)!;
      let decision: WriteDecision<R>;
      try {
        // A fresh parse per item, as a re-read would give: one item's decide cannot alias another's state.
        decision = item.decide(state.doc === null ? null : parseEntity(state.doc));
      } catch (error) {
        // decide() is pure and runs before any write of its item, so a refused item left nothing behind.
        if (error instanceof NgsiError) {
          outcomes.push({ ok: false, error });
          return;
        }
        throw error;
      }
      checkDecision(item.id, decision);
      if (decision.put !== undefined) {
        recordPut(state, decision.put, index);
        anyPut = true;
      }
      else if (decision.remove === true) recordRemove(state);
      if (decision.outbox !== undefined) outbox.push(...decision.outbox);
      if (decision.history !== undefined) histories.push({ id: item.id, history: decision.history });
      outcomes.push({ ok: true, result: decision.result });
    });
    // As item by item: a put creates a missing tenant even if a later item removes that entity again.
    await writeBatchStates(client, tenant, states, anyPut && !tenantKnown, clock.nowIso());
    await insertOutbox(client, outbox);
    // The histories of the items, folded per id and written set-based after the entity rows (temporal-write.ts).
    const appended = await writeHistories(client, tenant, histories, !tenantKnown && !anyPut, clock.nowIso());
    return { outcomes, appended };
  }

  async function listAll(tenant: TenantId): Promise<Entity[]> {
    return (await pool.query<DocRow>(sql.listEntities([tenant]))).rows.map((row) => parseEntity(row.doc));
  }

  const subscriptions = createPostgresSubscriptionStore(pool, clock);
  const temporal = createPostgresTemporalStore(pool);
  const registrations = createPostgresRegistrationStore(pool, clock);
  const csourceSubscriptions = createPostgresCsourceSubscriptionStore(pool, clock);
  const entityMaps = createPostgresEntityMapStore(pool);

  return {
    subscriptions,
    temporal,
    registrations,
    csourceSubscriptions,
    entityMaps,

    async tenantExists(tenant) {
      if (tenant === DEFAULT_TENANT) return true;
      return ((await pool.query(sql.tenantExists([tenant]))).rowCount ?? 0) > 0;
    },

    async getEntity(tenant, id) {
      const { rows } = await pool.query<DocRow>(sql.getEntity([tenant, textKey(id)]));
      return rows.length === 0 ? null : parseEntity(rows[0].doc);
    },

    writeEntity<R>(tenant: TenantId, id: string, decide: (current: Entity | null) => WriteDecision<R>, writeOptions: WriteOptions): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        const settle = (appended: number, result: R): void => {
          afterWrite(1, appended).then(() => resolve(result), reject);
        };
        // The group's last decision is the one committed (a retried group decides again).
        let last: DecidedOne<R> | undefined;
        writeGroups.submit({
          key: [tenant, textKey(id)],
          lock: sql.lockEntity([tenant, textKey(id)]),
          decide: (locked) => (last = decideOne(locked, tenant, id, decide, writeOptions)),
          committed: () => settle(last!.appended, last!.result),
          fail: reject,
          alone: () => {
            inPipelinedTransaction(pool, (tx) => writeOne(tx, tenant, id, decide, writeOptions), WRITE_TRANSACTION).then(
              (done) => settle(done.appended, done.result),
              reject,
            );
          },
        });
      });
    },

    async writeEntities(tenant, items, writeOptions) {
      const { outcomes, appended } = await inTransaction(pool, (client) => writeBatch(client, tenant, items, writeOptions), WRITE_TRANSACTION);
      await statistics.written(items.length);
      await historyVacuum.appended(appended);
      return outcomes;
    },

    // Compiled SQL (query-compile.ts), agreeing with referenceQuery (test/property/postgres-query.test.ts).
    queryEntities(tenant: TenantId, query: EntityQuery, page: PageRequest): Promise<QueryPage> {
      return queryPage(pool, tenant, query, page);
    },

    discover(tenant: TenantId): Promise<DiscoveryRow[]> {
      return discoverRows(pool, tenant);
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
