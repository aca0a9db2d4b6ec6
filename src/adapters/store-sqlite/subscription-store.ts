// SQLite SubscriptionStore (GS CIM 009 §5.8; issue 5 items 4–6): subscriptions, the durable notification outbox
// (leases, per-endpoint caps, coalescing) and the periodic-due claim, on the store's better-sqlite3 file.
import type BetterSqlite3 from 'better-sqlite3';
import { alreadyExists } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import type { TenantId } from '../../core/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DeliveryStatus, OutboxEntry, OutboxRow, StoredSubscription, SubscriptionStore } from '../../ports/subscription-store.ts';

/**
 * Schema of the subscription store (migration v3). Notes:
 * - Timestamps are canonical ISO 8601 UTC millisecond strings (normalised on write), so text order is time order.
 * - `outbox.seq` (AUTOINCREMENT, never reused) is the queue order after not_before; `id` is the Notification id.
 * - The claim indexes lead with `endpoint`, not `tenant`: one delivery queue per endpoint, across tenants.
 * - `outbox_pending_key`: at most one pending (unleased) entry per coalesce key, the one later entries replace.
 * - No foreign key from outbox to subscriptions: an entity write racing a subscription delete must not fail.
 * - `kend_meta.subscriptions_version` is bumped in the transaction of every definition change.
 */
export const SQLITE_SUBSCRIPTION_DDL = `
  CREATE TABLE subscriptions (
    tenant TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id TEXT NOT NULL,
    payload TEXT NOT NULL,
    context TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    delivery TEXT NOT NULL,
    next_periodic_at TEXT,
    seq INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (tenant, id)
  ) WITHOUT ROWID;

  CREATE INDEX subscriptions_tenant_seq ON subscriptions (tenant, seq);
  CREATE INDEX subscriptions_periodic ON subscriptions (next_periodic_at) WHERE next_periodic_at IS NOT NULL;

  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    message TEXT NOT NULL,
    coalesce_key TEXT,
    not_before TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT
  );

  CREATE INDEX outbox_endpoint_due ON outbox (endpoint, not_before, seq);
  CREATE INDEX outbox_leases ON outbox (lease_until, endpoint) WHERE lease_owner IS NOT NULL;
  CREATE UNIQUE INDEX outbox_pending_key ON outbox (tenant, coalesce_key)
    WHERE lease_owner IS NULL AND coalesce_key IS NOT NULL;
  CREATE INDEX outbox_subscription ON outbox (tenant, subscription_id);

  CREATE TABLE kend_meta (
    key TEXT NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;

  INSERT INTO kend_meta (key, value) VALUES ('subscriptions_version', 0);
`;

const VERSION_KEY = 'subscriptions_version';

/** Canonical form of an instant: comparable as text. Throws on an unparsable one. */
const iso = (instant: string): string => new Date(instant).toISOString();

interface SubRow {
  tenant: string;
  id: string;
  payload: string;
  context: string;
  created_at: string;
  modified_at: string;
  delivery: string;
  next_periodic_at: string | null;
}

interface OutboxDbRow {
  seq: number;
  id: string;
  tenant: string;
  subscription_id: string;
  endpoint: string;
  message: string;
  coalesce_key: string | null;
  not_before: string;
  created_at: string;
  attempts: number;
}

const SUB_COLUMNS = 'tenant, id, payload, context, created_at, modified_at, delivery, next_periodic_at';
const OUTBOX_COLUMNS = 'seq, id, tenant, subscription_id, endpoint, message, coalesce_key, not_before, created_at, attempts';

function toSub(row: SubRow): StoredSubscription {
  const sub: StoredSubscription = {
    id: row.id,
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
    id: row.id,
    tenant: row.tenant as TenantId,
    subscriptionId: row.subscription_id,
    endpoint: row.endpoint,
    message: JSON.parse(row.message) as JsonObject,
    notBefore: row.not_before,
    createdAt: row.created_at,
    attempts: row.attempts,
  };
  if (row.coalesce_key !== null) out.coalesceKey = row.coalesce_key;
  return out;
}

/**
 * The next due time of a periodic subscription claimed at `now`: whole periods past `now`, so missed periods
 * are skipped rather than sent in a burst. Null when the payload has no usable timeInterval (seconds).
 */
export function nextPeriodicInstant(due: string, now: string, payload: JsonObject): string | null {
  const interval = payload.timeInterval;
  if (typeof interval !== 'number' || !(interval > 0)) return null;
  const period = Math.max(1, Math.round(interval * 1000));
  const dueMs = Date.parse(due);
  const periods = Math.floor((Date.parse(now) - dueMs) / period) + 1;
  return new Date(dueMs + Math.max(1, periods) * period).toISOString();
}

/**
 * Prepares the outbox writer for `db`: a synchronous function to call inside a write transaction (the
 * entity write's, so the entries commit or vanish with the change). Coalescing: an entry whose coalesceKey
 * matches a pending, unleased entry of its tenant replaces that entry's id and message, keeping its
 * not_before, queue position and attempts. Entries of one call apply in order.
 */
export function createOutboxInserter(db: BetterSqlite3.Database): (entries: readonly OutboxEntry[]) => void {
  const coalesce = db.prepare<[string, string, string, string]>(
    'UPDATE outbox SET id = ?, message = ? WHERE tenant = ? AND coalesce_key = ? AND lease_owner IS NULL',
  );
  const insert = db.prepare<[string, string, string, string, string, string | null, string, string]>(
    `INSERT INTO outbox (id, tenant, subscription_id, endpoint, message, coalesce_key, not_before, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return (entries) => {
    for (const e of entries) {
      const message = JSON.stringify(e.message);
      if (e.coalesceKey !== undefined && coalesce.run(e.id, message, e.tenant, e.coalesceKey).changes > 0) continue;
      insert.run(e.id, e.tenant, e.subscriptionId, e.endpoint, message, e.coalesceKey ?? null, iso(e.notBefore), iso(e.createdAt));
    }
  };
}

/** One-off form of createOutboxInserter (prepares its statements per call); must run inside a transaction. */
export function insertOutboxSync(db: BetterSqlite3.Database, entries: readonly OutboxEntry[]): void {
  if (entries.length > 0) createOutboxInserter(db)(entries);
}

/**
 * Runs a synchronous write in a transaction and resolves once it committed. The store passes its group
 * committer (group-commit.ts), so delivery bookkeeping — claims, completions, delivery status, retries —
 * shares one transaction and one fsync with the entity writes of the same event-loop turn instead of
 * paying a commit each (issue 5 item 8: at 2,000 notifications/s these were half of Kend's time).
 */
export type WriteRunner = <R>(work: () => R) => Promise<R>;

/**
 * The store over an open, migrated database. Every write is one BEGIN IMMEDIATE transaction (or a
 * savepoint in the store's group transaction), so claims, coalescing writes and definition changes of
 * several connections or processes on one file serialise.
 */
export function createSqliteSubscriptionStore(db: BetterSqlite3.Database, clock: Clock, runWrite?: WriteRunner): SubscriptionStore {
  const write: WriteRunner = runWrite ?? (async (work) => db.transaction(work).immediate());
  const insertOutbox = createOutboxInserter(db);
  const stmt = {
    insertTenant: db.prepare<[string, string]>('INSERT OR IGNORE INTO tenants (name, created_at) VALUES (?, ?)'),
    getSub: db.prepare<[string, string], SubRow>(`SELECT ${SUB_COLUMNS} FROM subscriptions WHERE tenant = ? AND id = ?`),
    listSubs: db.prepare<[string, number, number], SubRow>(
      `SELECT ${SUB_COLUMNS} FROM subscriptions WHERE tenant = ? ORDER BY seq LIMIT ? OFFSET ?`,
    ),
    countSubs: db.prepare<[string], number>('SELECT count(*) FROM subscriptions WHERE tenant = ?').pluck(),
    allSubs: db.prepare<[], SubRow>(`SELECT ${SUB_COLUMNS} FROM subscriptions ORDER BY tenant, seq`),
    insertSub: db.prepare<[string, string, string, string, string, string, string, string | null]>(
      `INSERT INTO subscriptions (${SUB_COLUMNS}, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM subscriptions))`,
    ),
    updateSub: db.prepare<[string, string, string, string, string, string | null, string, string]>(
      `UPDATE subscriptions SET payload = ?, context = ?, created_at = ?, modified_at = ?, delivery = ?, next_periodic_at = ?
       WHERE tenant = ? AND id = ?`,
    ),
    deleteSub: db.prepare<[string, string]>('DELETE FROM subscriptions WHERE tenant = ? AND id = ?'),
    deleteSubOutbox: db.prepare<[string, string]>('DELETE FROM outbox WHERE tenant = ? AND subscription_id = ?'),
    bumpVersion: db.prepare<[string]>('UPDATE kend_meta SET value = value + 1 WHERE key = ?'),
    version: db.prepare<[string], number>('SELECT value FROM kend_meta WHERE key = ?').pluck(),
    recordOk: db.prepare<[string, string, string, string]>(
      `UPDATE subscriptions SET delivery = json_set(delivery,
         '$.timesSent', coalesce(json_extract(delivery, '$.timesSent'), 0) + 1,
         '$.lastNotification', ?, '$.lastSuccess', ?, '$.status', 'ok', '$.consecutiveFailures', 0)
       WHERE tenant = ? AND id = ?`,
    ),
    recordFailure: db.prepare<[string, string, string, string]>(
      `UPDATE subscriptions SET delivery = json_set(delivery,
         '$.timesSent', coalesce(json_extract(delivery, '$.timesSent'), 0) + 1,
         '$.timesFailed', coalesce(json_extract(delivery, '$.timesFailed'), 0) + 1,
         '$.lastNotification', ?, '$.lastFailure', ?, '$.status', 'failed',
         '$.consecutiveFailures', coalesce(json_extract(delivery, '$.consecutiveFailures'), 0) + 1)
       WHERE tenant = ? AND id = ?`,
    ),
    duePeriodic: db.prepare<[string, number], SubRow>(
      `SELECT ${SUB_COLUMNS} FROM subscriptions WHERE next_periodic_at <= ? ORDER BY next_periodic_at LIMIT ?`,
    ),
    setPeriodic: db.prepare<[string | null, string, string]>('UPDATE subscriptions SET next_periodic_at = ? WHERE tenant = ? AND id = ?'),
    // Loose index scan: each distinct endpoint once, via the (endpoint, …) index, however long its queue.
    endpoints: db
      .prepare<[], string>(
        `WITH RECURSIVE eps(endpoint) AS (
           SELECT min(endpoint) FROM outbox
           UNION ALL
           SELECT (SELECT min(endpoint) FROM outbox WHERE endpoint > eps.endpoint) FROM eps WHERE eps.endpoint IS NOT NULL
         ) SELECT endpoint FROM eps WHERE endpoint IS NOT NULL`,
      )
      .pluck(),
    // INDEXED BY: without statistics the planner would scan the whole queue in endpoint order for GROUP BY.
    liveLeases: db.prepare<[string], { endpoint: string; n: number }>(
      `SELECT endpoint, count(*) AS n FROM outbox INDEXED BY outbox_leases
       WHERE lease_owner IS NOT NULL AND lease_until >= ? GROUP BY endpoint`,
    ),
    dueForEndpoint: db.prepare<[string, string, string, number], OutboxDbRow>(
      `SELECT ${OUTBOX_COLUMNS} FROM outbox
       WHERE endpoint = ? AND not_before <= ? AND (lease_until IS NULL OR lease_until < ?)
       ORDER BY not_before, seq LIMIT ?`,
    ),
    lease: db.prepare<[string, string, string]>('UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?'),
    outboxById: db.prepare<[string], { seq: number; tenant: string; coalesce_key: string | null; lease_owner: string | null }>(
      'SELECT seq, tenant, coalesce_key, lease_owner FROM outbox WHERE id = ?',
    ),
    otherPending: db.prepare<[string, string, string], number>(
      'SELECT 1 FROM outbox WHERE tenant = ? AND coalesce_key = ? AND lease_owner IS NULL AND id <> ?',
    ).pluck(),
    unlease: db.prepare<[string]>('UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE id = ?'),
    retry: db.prepare<[string, string]>(
      'UPDATE outbox SET attempts = attempts + 1, not_before = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?',
    ),
    deleteOutbox: db.prepare<[string]>('DELETE FROM outbox WHERE id = ?'),
  };

  function subParams(sub: StoredSubscription): [string, string, string, string, string, string | null] {
    const next = sub.nextPeriodicAt === undefined ? null : iso(sub.nextPeriodicAt);
    return [JSON.stringify(sub.payload), JSON.stringify(sub.context), sub.createdAt, sub.modifiedAt, JSON.stringify(sub.delivery), next];
  }

  const createTx = (tenant: TenantId, sub: StoredSubscription): void => {
    stmt.insertTenant.run(tenant, clock.nowIso());
    if (stmt.getSub.get(tenant, sub.id) !== undefined) {
      throw alreadyExists(`Subscription ${sub.id} already exists`, 'Subscription already exists');
    }
    stmt.insertSub.run(tenant, sub.id, ...subParams(sub));
    stmt.bumpVersion.run(VERSION_KEY);
  };

  const updateTx = (tenant: TenantId, id: string, change: (current: StoredSubscription) => StoredSubscription | null): StoredSubscription | null => {
      const row = stmt.getSub.get(tenant, id);
      if (row === undefined) return null;
      const current = toSub(row);
      const next = change(current);
      if (next === null) return current;
      if (next.id !== id) throw new Error(`updateSubscription: changed subscription id '${next.id}' differs from '${id}'`);
      const [payload, context, createdAt, modifiedAt, delivery, periodic] = subParams(next);
      stmt.updateSub.run(payload, context, createdAt, modifiedAt, delivery, periodic, tenant, id);
      stmt.bumpVersion.run(VERSION_KEY);
      return toSub(stmt.getSub.get(tenant, id)!);
  };

  const deleteTx = (tenant: TenantId, id: string): boolean => {
    stmt.deleteSubOutbox.run(tenant, id);
    const existed = stmt.deleteSub.run(tenant, id).changes > 0;
    if (existed) stmt.bumpVersion.run(VERSION_KEY);
    return existed;
  };

  const listTx = db.transaction((tenant: TenantId, page: { limit: number; offset: number; count: boolean }) => {
    const items = stmt.listSubs.all(tenant, page.limit, page.offset).map(toSub);
    return page.count ? { items, total: stmt.countSubs.get(tenant)! } : { items };
  });

  const claimTx = (owner: string, now: string, limit: number, leaseMs: number, perEndpoint: number): OutboxRow[] => {
    const live = new Map(stmt.liveLeases.all(now).map((r) => [r.endpoint, r.n]));
    const candidates: OutboxDbRow[] = [];
    for (const endpoint of stmt.endpoints.all()) {
      const room = Math.min(limit, perEndpoint - (live.get(endpoint) ?? 0));
      if (room > 0) candidates.push(...stmt.dueForEndpoint.all(endpoint, now, now, room));
    }
    candidates.sort((a, b) => (a.not_before < b.not_before ? -1 : a.not_before > b.not_before ? 1 : a.seq - b.seq));
    const claimed = candidates.slice(0, limit);
    const until = new Date(Date.parse(now) + leaseMs).toISOString();
    for (const row of claimed) stmt.lease.run(owner, until, row.id);
    return claimed.map(toOutboxRow);
  };

  /**
   * Hands rows back (lease cleared). A row whose coalesce key already has a pending entry — a newer change
   * written while this one was leased — is superseded by it and removed, which also keeps the key unique.
   */
  function unleaseOrDrop(ids: readonly string[], owner: string | null, retryAt: string | null): void {
    const rows = ids
      .map((id) => ({ id, row: stmt.outboxById.get(id) }))
      .filter((r) => r.row !== undefined && (owner === null || r.row.lease_owner === owner))
      .sort((a, b) => b.row!.seq - a.row!.seq); // newest first: it stays, older ones of its key go
    for (const { id, row } of rows) {
      if (row!.coalesce_key !== null && stmt.otherPending.get(row!.tenant, row!.coalesce_key, id) !== undefined) {
        stmt.deleteOutbox.run(id);
      } else if (retryAt !== null) stmt.retry.run(retryAt, id);
      else stmt.unlease.run(id);
    }
  }
  const periodicTx = (now: string, limit: number): { tenant: TenantId; sub: StoredSubscription }[] => {
    const out: { tenant: TenantId; sub: StoredSubscription }[] = [];
    for (const row of stmt.duePeriodic.all(now, limit)) {
      const sub = toSub(row);
      const next = nextPeriodicInstant(row.next_periodic_at!, now, sub.payload);
      stmt.setPeriodic.run(next, row.tenant, row.id);
      if (next === null) delete sub.nextPeriodicAt;
      else sub.nextPeriodicAt = next;
      out.push({ tenant: row.tenant as TenantId, sub });
    }
    return out;
  };

  return {
    async createSubscription(tenant, sub) {
      await write(() => createTx(tenant, sub));
    },
    async getSubscription(tenant, id) {
      const row = stmt.getSub.get(tenant, id);
      return row === undefined ? null : toSub(row);
    },
    async listSubscriptions(tenant, page) {
      return listTx.deferred(tenant, page);
    },
    async updateSubscription(tenant, id, change) {
      return write(() => updateTx(tenant, id, change));
    },
    async deleteSubscription(tenant, id) {
      return write(() => deleteTx(tenant, id));
    },
    async allSubscriptions() {
      return stmt.allSubs.all().map((row) => ({ tenant: row.tenant as TenantId, sub: toSub(row) }));
    },
    async subscriptionsVersion() {
      return stmt.version.get(VERSION_KEY) ?? 0;
    },
    async enqueue(entries) {
      if (entries.length > 0) await write(() => insertOutbox(entries));
    },
    async claimDue(owner, now, limit, leaseMs, perEndpoint) {
      if (limit <= 0 || perEndpoint <= 0) return [];
      const at = iso(now);
      return write(() => claimTx(owner, at, limit, leaseMs, perEndpoint));
    },
    async release(owner, ids) {
      if (ids.length > 0) await write(() => unleaseOrDrop(ids, owner, null));
    },
    async complete(ids) {
      if (ids.length > 0) {
        await write(() => {
          for (const id of ids) stmt.deleteOutbox.run(id);
        });
      }
    },
    async retryLater(id, notBefore) {
      const at = iso(notBefore);
      await write(() => unleaseOrDrop([id], null, at));
    },
    async recordDelivery(tenant, subscriptionId, outcome) {
      // Delivery status is not a definition change: the subscriptions version stays.
      const record = outcome.ok ? stmt.recordOk : stmt.recordFailure;
      await write(() => record.run(outcome.at, outcome.at, tenant, subscriptionId));
    },
    async claimPeriodic(now, limit) {
      if (limit <= 0) return [];
      const at = iso(now);
      return write(() => periodicTx(at, limit));
    },
  };
}
