// SQLite CsourceSubscriptionStore (GS CIM 009 §5.11; issue 7 item 2): context source registration
// subscriptions per tenant, created by migration v5; their notifications live in the shared outbox.
import type BetterSqlite3 from 'better-sqlite3';
import { alreadyExists } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import type { TenantId } from '../../core/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import { CSOURCE_OUTBOX_PREFIX, type CsourceSubscriptionStore } from '../../ports/csource-subscription-store.ts';
import type { DeliveryStatus, StoredSubscription } from '../../ports/subscription-store.ts';

/** Schema (migration v5, with the registrations; released: never edit). Same layout as `subscriptions`. */
export const SQLITE_CSOURCE_SUBSCRIPTION_DDL = `
  CREATE TABLE csource_subscriptions (
    tenant TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id TEXT NOT NULL,
    payload TEXT NOT NULL,
    context TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    delivery TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (tenant, id)
  ) WITHOUT ROWID;

  CREATE INDEX csource_subscriptions_tenant_seq ON csource_subscriptions (tenant, seq);

  INSERT INTO kend_meta (key, value) VALUES ('csource_subscriptions_version', 0);
`;

const VERSION_KEY = 'csource_subscriptions_version';
const COLUMNS = 'tenant, id, payload, context, created_at, modified_at, delivery';

interface Row {
  tenant: string;
  id: string;
  payload: string;
  context: string;
  created_at: string;
  modified_at: string;
  delivery: string;
}

function toSub(row: Row): StoredSubscription {
  return {
    id: row.id,
    payload: JSON.parse(row.payload) as JsonObject,
    context: JSON.parse(row.context) as JsonValue,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
    delivery: JSON.parse(row.delivery) as DeliveryStatus,
  };
}

export function createSqliteCsourceSubscriptionStore(db: BetterSqlite3.Database, clock: Clock): CsourceSubscriptionStore {
  const stmt = {
    insertTenant: db.prepare<[string, string]>('INSERT OR IGNORE INTO tenants (name, created_at) VALUES (?, ?)'),
    get: db.prepare<[string, string], Row>(`SELECT ${COLUMNS} FROM csource_subscriptions WHERE tenant = ? AND id = ?`),
    list: db.prepare<[string, number, number], Row>(`SELECT ${COLUMNS} FROM csource_subscriptions WHERE tenant = ? ORDER BY seq LIMIT ? OFFSET ?`),
    count: db.prepare<[string], number>('SELECT count(*) FROM csource_subscriptions WHERE tenant = ?').pluck(),
    all: db.prepare<[], Row>(`SELECT ${COLUMNS} FROM csource_subscriptions ORDER BY tenant, seq`),
    insert: db.prepare<[string, string, string, string, string, string, string]>(
      `INSERT INTO csource_subscriptions (${COLUMNS}, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM csource_subscriptions))`,
    ),
    update: db.prepare<[string, string, string, string, string, string, string]>(
      `UPDATE csource_subscriptions SET payload = ?, context = ?, created_at = ?, modified_at = ?, delivery = ? WHERE tenant = ? AND id = ?`,
    ),
    delete: db.prepare<[string, string]>('DELETE FROM csource_subscriptions WHERE tenant = ? AND id = ?'),
    deleteOutbox: db.prepare<[string, string]>('DELETE FROM outbox WHERE tenant = ? AND subscription_id = ?'),
    bump: db.prepare<[string]>('UPDATE kend_meta SET value = value + 1 WHERE key = ?'),
    version: db.prepare<[string], number>('SELECT value FROM kend_meta WHERE key = ?').pluck(),
    recordOk: db.prepare<[string, string, string, string]>(
      `UPDATE csource_subscriptions SET delivery = json_set(delivery,
         '$.timesSent', coalesce(json_extract(delivery, '$.timesSent'), 0) + 1,
         '$.lastNotification', ?, '$.lastSuccess', ?, '$.status', 'ok', '$.consecutiveFailures', 0)
       WHERE tenant = ? AND id = ?`,
    ),
    recordFailure: db.prepare<[string, string, string, string]>(
      `UPDATE csource_subscriptions SET delivery = json_set(delivery,
         '$.timesSent', coalesce(json_extract(delivery, '$.timesSent'), 0) + 1,
         '$.timesFailed', coalesce(json_extract(delivery, '$.timesFailed'), 0) + 1,
         '$.lastNotification', ?, '$.lastFailure', ?, '$.status', 'failed',
         '$.consecutiveFailures', coalesce(json_extract(delivery, '$.consecutiveFailures'), 0) + 1)
       WHERE tenant = ? AND id = ?`,
    ),
  };
  const params = (s: StoredSubscription): [string, string, string, string, string] => [
    JSON.stringify(s.payload), JSON.stringify(s.context), s.createdAt, s.modifiedAt, JSON.stringify(s.delivery),
  ];

  const createTx = db.transaction((tenant: TenantId, sub: StoredSubscription) => {
    stmt.insertTenant.run(tenant, clock.nowIso());
    if (stmt.get.get(tenant, sub.id) !== undefined) throw alreadyExists(`Subscription ${sub.id} already exists`, 'Subscription already exists');
    stmt.insert.run(tenant, sub.id, ...params(sub));
    stmt.bump.run(VERSION_KEY);
  });
  const updateTx = db.transaction((tenant: TenantId, id: string, change: (c: StoredSubscription) => StoredSubscription | null) => {
    const row = stmt.get.get(tenant, id);
    if (row === undefined) return null;
    const current = toSub(row);
    const next = change(current);
    if (next === null) return current;
    if (next.id !== id) throw new Error(`updateCsourceSubscription: changed id '${next.id}' differs from '${id}'`);
    stmt.update.run(...params(next), tenant, id);
    stmt.bump.run(VERSION_KEY);
    return toSub(stmt.get.get(tenant, id)!);
  });
  const deleteTx = db.transaction((tenant: TenantId, id: string): boolean => {
    stmt.deleteOutbox.run(tenant, CSOURCE_OUTBOX_PREFIX + id);
    const existed = stmt.delete.run(tenant, id).changes > 0;
    if (existed) stmt.bump.run(VERSION_KEY);
    return existed;
  });
  const listTx = db.transaction((tenant: TenantId, page: { limit: number; offset: number; count: boolean }) => {
    const items = stmt.list.all(tenant, page.limit, page.offset).map(toSub);
    return page.count ? { items, total: stmt.count.get(tenant)! } : { items };
  });

  return {
    async createCsourceSubscription(tenant, sub) {
      createTx.immediate(tenant, sub);
    },
    async getCsourceSubscription(tenant, id) {
      const row = stmt.get.get(tenant, id);
      return row === undefined ? null : toSub(row);
    },
    async listCsourceSubscriptions(tenant, page) {
      return listTx.deferred(tenant, page);
    },
    async updateCsourceSubscription(tenant, id, change) {
      return updateTx.immediate(tenant, id, change);
    },
    async deleteCsourceSubscription(tenant, id) {
      return deleteTx.immediate(tenant, id);
    },
    async allCsourceSubscriptions() {
      return stmt.all.all().map((row) => ({ tenant: row.tenant as TenantId, sub: toSub(row) }));
    },
    async csourceSubscriptionsVersion() {
      return stmt.version.get(VERSION_KEY) ?? 0;
    },
    async recordCsourceDelivery(tenant, id, outcome) {
      (outcome.ok ? stmt.recordOk : stmt.recordFailure).run(outcome.at, outcome.at, tenant, id);
    },
  };
}
