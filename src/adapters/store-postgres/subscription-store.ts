// PostgreSQL SubscriptionStore (GS CIM 009 §5.8; issue 5 items 4–6): subscriptions, the durable notification outbox
// shared by several nodes (SKIP LOCKED claims, leases, per-endpoint caps, coalescing) and the periodic-due claim.
import { DatabaseError, type Pool, type PoolClient, type QueryConfig } from 'pg';
import { alreadyExists } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import type { TenantId } from '../../core/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DeliveryStatus, OutboxEntry, OutboxRow, StoredSubscription, SubscriptionStore } from '../../ports/subscription-store.ts';
import { textFromKey, textKey } from './text-key.ts';
import { inPipelinedTransaction, inTransaction } from './transaction.ts';

/**
 * Schema of the subscription store (migration v3). Notes:
 * - Keys are COLLATE "C" text holding textKey(...) of ids, endpoints and coalesce keys; documents are json.
 * - Tenant-scoped lookups lead with `tenant`. The claim indexes lead with `endpoint` (one delivery queue per
 *   endpoint, across tenants) and the periodic index with the due time: a tenant prefix would defeat them.
 *   `outbox.id` (the Notification id, a UUID URN) is unique on its own: complete/retryLater carry no tenant.
 * - `outbox_pending_key`: at most one pending (unleased) entry per coalesce key — the ON CONFLICT arbiter
 *   that makes coalescing atomic against concurrent writers.
 * - No foreign key from outbox to subscriptions: an entity write racing a subscription delete must not fail.
 * - `kend_meta.subscriptions_version` is bumped in the transaction of each definition change, so a reader
 *   never sees the new version without the change (a sequence would be visible before the commit).
 */
export const POSTGRES_SUBSCRIPTION_DDL = `
  CREATE TABLE subscriptions (
    tenant text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id text COLLATE "C" NOT NULL,
    payload json NOT NULL,
    context json NOT NULL,
    created_at timestamptz NOT NULL,
    modified_at timestamptz NOT NULL,
    delivery json NOT NULL,
    next_periodic_at timestamptz,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT subscriptions_pkey PRIMARY KEY (tenant, id)
  );

  CREATE UNIQUE INDEX subscriptions_tenant_seq ON subscriptions (tenant, seq);
  CREATE INDEX subscriptions_periodic ON subscriptions (next_periodic_at) WHERE next_periodic_at IS NOT NULL;

  CREATE TABLE outbox (
    tenant text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    subscription_id text COLLATE "C" NOT NULL,
    endpoint text COLLATE "C" NOT NULL,
    message json NOT NULL,
    coalesce_key text COLLATE "C",
    not_before timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    lease_owner text,
    lease_until timestamptz,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT outbox_pkey PRIMARY KEY (id)
  );

  CREATE INDEX outbox_endpoint_due ON outbox (endpoint, not_before, seq);
  CREATE INDEX outbox_leases ON outbox (lease_until, endpoint) WHERE lease_owner IS NOT NULL;
  CREATE UNIQUE INDEX outbox_pending_key ON outbox (tenant, coalesce_key)
    WHERE lease_owner IS NULL AND coalesce_key IS NOT NULL;
  CREATE INDEX outbox_subscription ON outbox (tenant, subscription_id);

  CREATE TABLE kend_meta (
    key text COLLATE "C" NOT NULL PRIMARY KEY,
    value bigint NOT NULL
  );

  INSERT INTO kend_meta (key, value) VALUES ('subscriptions_version', 0);
`;

/** Transaction-scoped advisory lock serialising outbox claims, so per-endpoint caps hold across nodes ('kout'). */
export const OUTBOX_CLAIM_LOCK_KEY = 0x6b6f7574;

const PENDING_KEY_INDEX = 'outbox_pending_key';
const BUMP = `UPDATE kend_meta SET value = value + 1 WHERE key = 'subscriptions_version'`;

type Param = string | number | boolean | null | readonly (string | null)[];

/** A named statement: prepared once per pooled connection; values always bound. */
function statement(name: string, text: string): (values: Param[]) => QueryConfig<Param[]> {
  return (values) => ({ name: `kend_sub_${name}`, text, values });
}

/** An instant back as the port's ISO 8601 UTC millisecond string, whatever the session time zone. */
const ts = (col: string): string => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const subColumns = (a: string): string =>
  `${a}.tenant, ${a}.id, ${a}.payload::text AS payload, ${a}.context::text AS context, ${ts(`${a}.created_at`)} AS created_at,
   ${ts(`${a}.modified_at`)} AS modified_at, ${a}.delivery::text AS delivery, ${ts(`${a}.next_periodic_at`)} AS next_periodic_at`;

const outboxColumns = (a: string): string =>
  `${a}.seq::text AS seq, ${a}.id, ${a}.tenant, ${a}.subscription_id, ${a}.endpoint, ${a}.message::text AS message,
   ${a}.coalesce_key, ${ts(`${a}.not_before`)} AS not_before, ${ts(`${a}.created_at`)} AS created_at, ${a}.attempts`;

/**
 * Hands leased rows of CTE `target` back with `set`. A row whose coalesce key already has a pending entry (a
 * newer change written while it was leased), or a newer row of the same key among the targets, is superseded
 * and removed instead — which also keeps outbox_pending_key unique.
 */
const unleaseOrDrop = (targetWhere: string, set: string): string => `
  WITH target AS (
    SELECT id, tenant, coalesce_key, seq FROM outbox WHERE ${targetWhere} FOR UPDATE
  ), superseded AS (
    DELETE FROM outbox o USING target t
    WHERE o.id = t.id AND t.coalesce_key IS NOT NULL AND (
      EXISTS (SELECT 1 FROM outbox p WHERE p.tenant = t.tenant AND p.coalesce_key = t.coalesce_key
                AND p.lease_owner IS NULL AND p.id <> t.id)
      OR EXISTS (SELECT 1 FROM target n WHERE n.tenant = t.tenant AND n.coalesce_key = t.coalesce_key AND n.seq > t.seq))
    RETURNING o.id
  )
  UPDATE outbox o SET ${set}, lease_owner = NULL, lease_until = NULL
  FROM target t WHERE o.id = t.id AND NOT EXISTS (SELECT 1 FROM superseded s WHERE s.id = t.id)`;

const sql = {
  createSub: statement(
    'create',
    `WITH new_tenant AS (
       INSERT INTO tenants (name, created_at) VALUES ($1, $9::timestamptz) ON CONFLICT (name) DO NOTHING
     ), created AS (
       INSERT INTO subscriptions (tenant, id, payload, context, created_at, modified_at, delivery, next_periodic_at)
       VALUES ($1, $2, $3::json, $4::json, $5::timestamptz, $6::timestamptz, $7::json, $8::timestamptz)
       ON CONFLICT (tenant, id) DO NOTHING RETURNING 1
     ), bump AS (${BUMP} AND EXISTS (SELECT 1 FROM created))
     SELECT count(*)::int AS n FROM created`,
  ),
  getSub: statement('get', `SELECT ${subColumns('s')} FROM subscriptions s WHERE s.tenant = $1 AND s.id = $2`),
  lockSub: statement('lock', `SELECT ${subColumns('s')} FROM subscriptions s WHERE s.tenant = $1 AND s.id = $2 FOR UPDATE`),
  // One snapshot for the page and the total; one row even when the page is empty.
  listSubs: statement(
    'list',
    `SELECT c.total, p.* FROM (SELECT CASE WHEN $4::boolean THEN (SELECT count(*)::int FROM subscriptions WHERE tenant = $1) END AS total) c
     LEFT JOIN LATERAL (SELECT ${subColumns('s')} FROM subscriptions s WHERE s.tenant = $1 ORDER BY s.seq LIMIT $2 OFFSET $3) p ON true`,
  ),
  allSubs: statement('all', `SELECT ${subColumns('s')} FROM subscriptions s ORDER BY s.tenant, s.seq`),
  updateSub: statement(
    'update',
    `WITH changed AS (
       UPDATE subscriptions s SET payload = $3::json, context = $4::json, created_at = $5::timestamptz,
         modified_at = $6::timestamptz, delivery = $7::json, next_periodic_at = $8::timestamptz
       WHERE s.tenant = $1 AND s.id = $2 RETURNING ${subColumns('s')}
     ), bump AS (${BUMP})
     SELECT * FROM changed`,
  ),
  deleteSub: statement(
    'delete',
    `WITH gone AS (DELETE FROM subscriptions WHERE tenant = $1 AND id = $2 RETURNING 1),
     dropped AS (DELETE FROM outbox WHERE tenant = $1 AND subscription_id = $2),
     bump AS (${BUMP} AND EXISTS (SELECT 1 FROM gone))
     SELECT count(*)::int AS n FROM gone`,
  ),
  version: statement('version', `SELECT value::text AS value FROM kend_meta WHERE key = 'subscriptions_version'`),
  // Rows in order (identity order = entry order); a pending row of the same coalesce key keeps its not_before.
  insertOutbox: statement(
    'outbox_insert',
    `INSERT INTO outbox (tenant, id, subscription_id, endpoint, message, coalesce_key, not_before, created_at)
     SELECT u.tenant, u.id, u.sub, u.endpoint, u.message::json, u.ckey, u.nb, u.ca
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
       WITH ORDINALITY AS u(tenant, id, sub, endpoint, message, ckey, nb, ca, ord)
     ORDER BY u.ord
     ON CONFLICT (tenant, coalesce_key) WHERE lease_owner IS NULL AND coalesce_key IS NOT NULL
     DO UPDATE SET id = EXCLUDED.id, message = EXCLUDED.message`,
  ),
  claimLock: statement('claim_lock', 'SELECT pg_advisory_xact_lock($1::bigint)'),
  // $1 owner, $2 now, $3 limit, $4 lease ms, $5 per-endpoint cap. Each endpoint once by a loose index scan,
  // then at most its remaining room of due rows (SKIP LOCKED: rows another transaction holds are not waited
  // for), oldest first overall.
  claimDue: statement(
    'claim',
    `WITH RECURSIVE eps AS (
       (SELECT endpoint FROM outbox ORDER BY endpoint LIMIT 1)
       UNION ALL
       SELECT (SELECT o.endpoint FROM outbox o WHERE o.endpoint > eps.endpoint ORDER BY o.endpoint LIMIT 1)
       FROM eps WHERE eps.endpoint IS NOT NULL
     ), live AS (
       SELECT endpoint, count(*) AS n FROM outbox
       WHERE lease_owner IS NOT NULL AND lease_until >= $2::timestamptz GROUP BY endpoint
     ), candidates AS (
       SELECT c.id, c.not_before, c.seq FROM eps
       LEFT JOIN live ON live.endpoint = eps.endpoint
       CROSS JOIN LATERAL (
         SELECT o.id, o.not_before, o.seq FROM outbox o
         WHERE o.endpoint = eps.endpoint AND o.not_before <= $2::timestamptz
           AND (o.lease_until IS NULL OR o.lease_until < $2::timestamptz)
         ORDER BY o.not_before, o.seq
         LIMIT greatest(0, least($3::int, $5::int - coalesce(live.n, 0)))
         FOR UPDATE OF o SKIP LOCKED
       ) c
       WHERE eps.endpoint IS NOT NULL
       ORDER BY c.not_before, c.seq
       LIMIT $3::int
     )
     UPDATE outbox o SET lease_owner = $1, lease_until = $2::timestamptz + $4::float8 * interval '1 millisecond'
     FROM candidates c WHERE o.id = c.id
     RETURNING ${outboxColumns('o')}`,
  ),
  release: statement('release', unleaseOrDrop('id = ANY ($2::text[]) AND lease_owner = $1', 'attempts = o.attempts')),
  retryLater: statement('retry', unleaseOrDrop('id = $1', 'attempts = o.attempts + 1, not_before = $2::timestamptz')),
  complete: statement('complete', 'DELETE FROM outbox WHERE id = ANY ($1::text[])'),
  // Several delivery outcomes at once, already folded per subscription (foldOutcomes): one statement and one
  // commit for all the notifications delivered during a turn instead of one each.
  recordMany: statement(
    'record_many',
    `UPDATE subscriptions s SET delivery = (s.delivery::jsonb || jsonb_build_object(
       'timesSent', coalesce((s.delivery ->> 'timesSent')::bigint, 0) + u.sent,
       'lastNotification', u.last_at, 'status', u.status,
       'consecutiveFailures', CASE WHEN u.last_ok_at IS NOT NULL THEN u.fails_after_ok
                                   ELSE coalesce((s.delivery ->> 'consecutiveFailures')::bigint, 0) + u.failed END)
       || CASE WHEN u.failed > 0 THEN jsonb_build_object('timesFailed', coalesce((s.delivery ->> 'timesFailed')::bigint, 0) + u.failed,
                                                         'lastFailure', u.last_fail_at) ELSE '{}'::jsonb END
       || CASE WHEN u.last_ok_at IS NOT NULL THEN jsonb_build_object('lastSuccess', u.last_ok_at) ELSE '{}'::jsonb END)::json
     FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[])
       AS u(tenant, id, sent, failed, last_at, status, last_ok_at, last_fail_at, fails_after_ok)
     WHERE s.tenant = u.tenant AND s.id = u.id`,
  ),
  // Row locks + the recheck of next_periodic_at make each period go to exactly one claimer; the due time
  // moves by whole periods past now (missed periods are skipped, not burst). No usable timeInterval: NULL.
  claimPeriodic: statement(
    'claim_periodic',
    `WITH due AS (
       SELECT tenant, id, CASE WHEN json_typeof(payload -> 'timeInterval') = 'number'
                                AND (payload ->> 'timeInterval')::float8 > 0
                               THEN greatest(1, round((payload ->> 'timeInterval')::float8 * 1000))::bigint END AS period_ms
       FROM subscriptions WHERE next_periodic_at <= $1::timestamptz
       ORDER BY next_periodic_at LIMIT $2
       FOR UPDATE SKIP LOCKED
     )
     UPDATE subscriptions s SET next_periodic_at = s.next_periodic_at
       + ((floor(extract(epoch FROM ($1::timestamptz - s.next_periodic_at)) * 1000 / d.period_ms)::bigint + 1) * d.period_ms)
         * interval '1 millisecond'
     FROM due d WHERE s.tenant = d.tenant AND s.id = d.id
     RETURNING ${subColumns('s')}`,
  ),
};

/** Rows as selected: documents as json text, instants as ISO strings, seq as text (bigint). */
interface SubRow {
  tenant: string; id: string; payload: string; context: string; created_at: string; modified_at: string;
  delivery: string; next_periodic_at: string | null;
}

interface OutboxDbRow {
  seq: string; id: string; tenant: string; subscription_id: string; endpoint: string; message: string;
  coalesce_key: string | null; not_before: string; created_at: string; attempts: number;
}

function toSub(row: SubRow): StoredSubscription {
  const sub: StoredSubscription = {
    id: textFromKey(row.id),
    payload: JSON.parse(row.payload) as JsonObject,
    context: JSON.parse(row.context) as JsonValue,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
    delivery: JSON.parse(row.delivery) as DeliveryStatus,
  };
  if (row.next_periodic_at !== null) sub.nextPeriodicAt = row.next_periodic_at;
  return sub;
}

function toOutboxRow(row: OutboxDbRow): OutboxRow {
  const out: OutboxRow = {
    id: textFromKey(row.id),
    tenant: row.tenant as TenantId,
    subscriptionId: textFromKey(row.subscription_id),
    endpoint: textFromKey(row.endpoint),
    message: JSON.parse(row.message) as JsonObject,
    notBefore: row.not_before,
    createdAt: row.created_at,
    attempts: row.attempts,
  };
  if (row.coalesce_key !== null) out.coalesceKey = textFromKey(row.coalesce_key);
  return out;
}

function subParams(tenant: TenantId, sub: StoredSubscription): Param[] {
  return [
    tenant, textKey(sub.id), JSON.stringify(sub.payload), JSON.stringify(sub.context), sub.createdAt, sub.modifiedAt,
    JSON.stringify(sub.delivery), sub.nextPeriodicAt ?? null,
  ];
}

/**
 * Writes outbox entries on `client` — the entity write's transaction, so they commit or vanish with the
 * change. Coalescing (port rule): an entry whose coalesceKey matches a pending, unleased entry of its tenant
 * replaces that entry's id and message and keeps its not_before. Entries of one call apply in order: later
 * ones of a key are folded into the first here, since one statement may not update a row twice.
 */
/** The statement inserting outbox entries (rows of one coalescing key folded to the last), or null for none. */
export function outboxStatement(entries: readonly OutboxEntry[]): QueryConfig<Param[]> | null {
  if (entries.length === 0) return null;
  const rows: OutboxEntry[] = [];
  const byKey = new Map<string, number>();
  for (const e of entries) {
    const k = e.coalesceKey === undefined ? undefined : JSON.stringify([e.tenant, e.coalesceKey]);
    const at = k === undefined ? undefined : byKey.get(k);
    if (at !== undefined) rows[at] = { ...rows[at], id: e.id, message: e.message };
    else {
      if (k !== undefined) byKey.set(k, rows.length);
      rows.push(e);
    }
  }
  const column = (f: (e: OutboxEntry) => string | null): (string | null)[] => rows.map(f);
  return sql.insertOutbox([
    column((e) => e.tenant), column((e) => textKey(e.id)), column((e) => textKey(e.subscriptionId)),
    column((e) => textKey(e.endpoint)), column((e) => JSON.stringify(e.message)),
    column((e) => (e.coalesceKey === undefined ? null : textKey(e.coalesceKey))),
    column((e) => e.notBefore), column((e) => e.createdAt),
  ]);
}

export async function insertOutbox(client: PoolClient | Pool, entries: readonly OutboxEntry[]): Promise<void> {
  const statement = outboxStatement(entries);
  if (statement !== null) await client.query(statement);
}

/** Runs an unlease statement again when a concurrent writer created a pending row of the same key meanwhile. */
async function withPendingKeyRetry(run: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run();
      return;
    } catch (err) {
      const race = err instanceof DatabaseError && err.code === '23505' && err.constraint === PENDING_KEY_INDEX;
      if (!race || attempt >= 5) throw err;
    }
  }
}

/** The store over a migrated database; several nodes may share it. The pool stays the caller's to end. */
/** The outcomes of one subscription's deliveries, in order, as one change of its status. */
interface FoldedOutcomes {
  tenant: string;
  id: string;
  sent: number;
  failed: number;
  lastAt: string;
  status: 'ok' | 'failed';
  lastOkAt: string | null;
  lastFailAt: string | null;
  failsAfterOk: number;
}

/** Folds outcomes per subscription exactly as applying them one by one (record_ok / record_failure) would. */
export function foldOutcomes(records: readonly { tenant: string; id: string; ok: boolean; at: string }[]): FoldedOutcomes[] {
  const byKey = new Map<string, FoldedOutcomes>();
  for (const r of records) {
    const key = `${r.tenant}\u0000${r.id}`;
    let f = byKey.get(key);
    if (f === undefined) {
      f = { tenant: r.tenant, id: r.id, sent: 0, failed: 0, lastAt: r.at, status: 'ok', lastOkAt: null, lastFailAt: null, failsAfterOk: 0 };
      byKey.set(key, f);
    }
    f.sent++;
    f.lastAt = r.at;
    if (r.ok) {
      f.status = 'ok';
      f.lastOkAt = r.at;
      f.failsAfterOk = 0;
    } else {
      f.status = 'failed';
      f.failed++;
      f.lastFailAt = r.at;
      f.failsAfterOk++;
    }
  }
  return [...byKey.values()];
}

export function createPostgresSubscriptionStore(pool: Pool, clock: Clock): SubscriptionStore {
  // Delivery outcomes of one event-loop turn are written together (issue 5 item 8: one autocommit
  // transaction, so one WAL flush, per delivered notification capped notifications on PostgreSQL).
  let pendingRecords: { tenant: string; id: string; ok: boolean; at: string }[] = [];
  let recordFlush: Promise<void> | null = null;
  async function flushRecords(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const batch = pendingRecords;
    pendingRecords = [];
    recordFlush = null;
    const folded = foldOutcomes(batch);
    await pool.query(
      sql.recordMany([
        folded.map((f) => f.tenant),
        folded.map((f) => f.id),
        folded.map((f) => String(f.sent)),
        folded.map((f) => String(f.failed)),
        folded.map((f) => f.lastAt),
        folded.map((f) => f.status),
        folded.map((f) => f.lastOkAt),
        folded.map((f) => f.lastFailAt),
        folded.map((f) => String(f.failsAfterOk)),
      ]),
    );
  }
  return {
    async createSubscription(tenant, sub) {
      const { rows } = await pool.query<{ n: number }>(sql.createSub([...subParams(tenant, sub), clock.nowIso()]));
      if (rows[0].n === 0) throw alreadyExists(`Subscription ${sub.id} already exists`, 'Subscription already exists');
    },

    async getSubscription(tenant, id) {
      const { rows } = await pool.query<SubRow>(sql.getSub([tenant, textKey(id)]));
      return rows.length === 0 ? null : toSub(rows[0]);
    },

    async listSubscriptions(tenant, page) {
      const { rows } = await pool.query<SubRow & { total: number | null }>(
        sql.listSubs([tenant, page.limit, page.offset, page.count]),
      );
      const items = rows.filter((r) => r.id !== null).map(toSub);
      return page.count ? { items, total: rows[0].total ?? 0 } : { items };
    },

    updateSubscription(tenant, id, change) {
      return inTransaction(pool, async (client) => {
        const locked = await client.query<SubRow>(sql.lockSub([tenant, textKey(id)]));
        if (locked.rows.length === 0) return null;
        const current = toSub(locked.rows[0]);
        const next = change(current);
        if (next === null) return current;
        if (next.id !== id) throw new Error(`updateSubscription: changed subscription id '${next.id}' differs from '${id}'`);
        const { rows } = await client.query<SubRow>(sql.updateSub(subParams(tenant, next)));
        return toSub(rows[0]);
      });
    },

    async deleteSubscription(tenant, id) {
      const { rows } = await pool.query<{ n: number }>(sql.deleteSub([tenant, textKey(id)]));
      return rows[0].n > 0;
    },

    async allSubscriptions() {
      const { rows } = await pool.query<SubRow>(sql.allSubs([]));
      return rows.map((row) => ({ tenant: row.tenant as TenantId, sub: toSub(row) }));
    },

    async subscriptionsVersion() {
      const { rows } = await pool.query<{ value: string }>(sql.version([]));
      return rows.length === 0 ? 0 : Number(rows[0].value);
    },

    enqueue(entries) {
      return insertOutbox(pool, entries);
    },

    async claimDue(owner, now, limit, leaseMs, perEndpoint) {
      if (limit <= 0 || perEndpoint <= 0) return [];
      // One round trip: BEGIN, the claimers' lock, the claim, COMMIT (pipeline.ts).
      const rows = await inPipelinedTransaction(pool, async (tx) => {
        const [, claimed] = await tx.all([sql.claimLock([OUTBOX_CLAIM_LOCK_KEY]), sql.claimDue([owner, now, limit, leaseMs, perEndpoint])]);
        return claimed.rows as OutboxDbRow[];
      });
      // RETURNING has no order: oldest first is not_before (canonical text), then queue order.
      rows.sort((a, b) => (a.not_before < b.not_before ? -1 : a.not_before > b.not_before ? 1 : Number(a.seq) - Number(b.seq)));
      return rows.map(toOutboxRow);
    },

    async release(owner, ids) {
      if (ids.length === 0) return;
      await withPendingKeyRetry(() => pool.query(sql.release([owner, ids.map(textKey)])));
    },

    async complete(ids) {
      if (ids.length > 0) await pool.query(sql.complete([ids.map(textKey)]));
    },

    async retryLater(id, notBefore) {
      await withPendingKeyRetry(() => pool.query(sql.retryLater([textKey(id), notBefore])));
    },

    async recordDelivery(tenant, subscriptionId, outcome) {
      // Delivery status is not a definition change: the subscriptions version stays.
      pendingRecords.push({ tenant, id: textKey(subscriptionId), ok: outcome.ok, at: outcome.at });
      recordFlush ??= flushRecords();
      await recordFlush;
    },

    async claimPeriodic(now, limit) {
      if (limit <= 0) return [];
      const { rows } = await pool.query<SubRow>(sql.claimPeriodic([now, limit]));
      return rows.map((row) => ({ tenant: row.tenant as TenantId, sub: toSub(row) }));
    },
  };
}
