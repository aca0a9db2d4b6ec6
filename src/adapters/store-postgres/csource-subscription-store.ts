// PostgreSQL CsourceSubscriptionStore (GS CIM 009 §5.11; issue 7 item 2): context source registration
// subscriptions per tenant, created by migration v5; their notifications live in the shared outbox.
import type { Pool, QueryConfig } from 'pg';
import { alreadyExists } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import type { TenantId } from '../../core/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import { CSOURCE_OUTBOX_PREFIX, type CsourceSubscriptionStore } from '../../ports/csource-subscription-store.ts';
import type { DeliveryStatus, StoredSubscription } from '../../ports/subscription-store.ts';
import { textFromKey, textKey } from './text-key.ts';
import { inTransaction } from './transaction.ts';

/** Schema (migration v5, with the registrations; released: never edit). Same layout as `subscriptions`. */
export const POSTGRES_CSOURCE_SUBSCRIPTION_DDL = `
  CREATE TABLE csource_subscriptions (
    tenant text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id text COLLATE "C" NOT NULL,
    payload json NOT NULL,
    context json NOT NULL,
    created_at timestamptz NOT NULL,
    modified_at timestamptz NOT NULL,
    delivery json NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT csource_subscriptions_pkey PRIMARY KEY (tenant, id)
  );

  CREATE UNIQUE INDEX csource_subscriptions_tenant_seq ON csource_subscriptions (tenant, seq);

  INSERT INTO kend_meta (key, value) VALUES ('csource_subscriptions_version', 0);
`;

const BUMP = `UPDATE kend_meta SET value = value + 1 WHERE key = 'csource_subscriptions_version'`;

type Param = string | number | boolean | null;
const statement = (name: string, text: string) => (values: Param[]): QueryConfig<Param[]> => ({ name: `kend_csub_${name}`, text, values });
const ts = (col: string): string => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const COLUMNS = `s.tenant, s.id, s.payload::text AS payload, s.context::text AS context, ${ts('s.created_at')} AS created_at,
  ${ts('s.modified_at')} AS modified_at, s.delivery::text AS delivery`;

const recordDelivery = (members: string): string => `
  UPDATE csource_subscriptions SET delivery = (delivery::jsonb || jsonb_build_object(
    'timesSent', coalesce((delivery ->> 'timesSent')::bigint, 0) + 1, 'lastNotification', $3::text, ${members}))::json
  WHERE tenant = $1 AND id = $2`;

const sql = {
  create: statement(
    'create',
    `WITH new_tenant AS (
       INSERT INTO tenants (name, created_at) VALUES ($1, $8::timestamptz) ON CONFLICT (name) DO NOTHING
     ), created AS (
       INSERT INTO csource_subscriptions (tenant, id, payload, context, created_at, modified_at, delivery)
       VALUES ($1, $2, $3::json, $4::json, $5::timestamptz, $6::timestamptz, $7::json)
       ON CONFLICT (tenant, id) DO NOTHING RETURNING 1
     ), bump AS (${BUMP} AND EXISTS (SELECT 1 FROM created))
     SELECT count(*)::int AS n FROM created`,
  ),
  get: statement('get', `SELECT ${COLUMNS} FROM csource_subscriptions s WHERE s.tenant = $1 AND s.id = $2`),
  lock: statement('lock', `SELECT ${COLUMNS} FROM csource_subscriptions s WHERE s.tenant = $1 AND s.id = $2 FOR UPDATE`),
  list: statement(
    'list',
    `SELECT c.total, p.* FROM (SELECT CASE WHEN $4::boolean THEN (SELECT count(*)::int FROM csource_subscriptions WHERE tenant = $1) END AS total) c
     LEFT JOIN LATERAL (SELECT ${COLUMNS} FROM csource_subscriptions s WHERE s.tenant = $1 ORDER BY s.seq LIMIT $2 OFFSET $3) p ON true`,
  ),
  all: statement('all', `SELECT ${COLUMNS} FROM csource_subscriptions s ORDER BY s.tenant, s.seq`),
  update: statement(
    'update',
    `WITH changed AS (
       UPDATE csource_subscriptions s SET payload = $3::json, context = $4::json, created_at = $5::timestamptz,
         modified_at = $6::timestamptz, delivery = $7::json
       WHERE s.tenant = $1 AND s.id = $2 RETURNING ${COLUMNS}
     ), bump AS (${BUMP})
     SELECT * FROM changed`,
  ),
  delete: statement(
    'delete',
    `WITH gone AS (DELETE FROM csource_subscriptions WHERE tenant = $1 AND id = $2 RETURNING 1),
     dropped AS (DELETE FROM outbox WHERE tenant = $1 AND subscription_id = $3),
     bump AS (${BUMP} AND EXISTS (SELECT 1 FROM gone))
     SELECT count(*)::int AS n FROM gone`,
  ),
  version: statement('version', `SELECT value::text AS value FROM kend_meta WHERE key = 'csource_subscriptions_version'`),
  recordOk: statement('record_ok', recordDelivery(`'lastSuccess', $3::text, 'status', 'ok', 'consecutiveFailures', 0`)),
  recordFailure: statement(
    'record_failure',
    recordDelivery(`'timesFailed', coalesce((delivery ->> 'timesFailed')::bigint, 0) + 1, 'lastFailure', $3::text,
      'status', 'failed', 'consecutiveFailures', coalesce((delivery ->> 'consecutiveFailures')::bigint, 0) + 1`),
  ),
};

interface Row {
  tenant: string; id: string; payload: string; context: string; created_at: string; modified_at: string; delivery: string;
}

function toSub(row: Row): StoredSubscription {
  return {
    id: textFromKey(row.id),
    payload: JSON.parse(row.payload) as JsonObject,
    context: JSON.parse(row.context) as JsonValue,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
    delivery: JSON.parse(row.delivery) as DeliveryStatus,
  };
}

const params = (tenant: TenantId, s: StoredSubscription): Param[] => [
  tenant, textKey(s.id), JSON.stringify(s.payload), JSON.stringify(s.context), s.createdAt, s.modifiedAt, JSON.stringify(s.delivery),
];

export function createPostgresCsourceSubscriptionStore(pool: Pool, clock: Clock): CsourceSubscriptionStore {
  return {
    async createCsourceSubscription(tenant, sub) {
      const { rows } = await pool.query<{ n: number }>(sql.create([...params(tenant, sub), clock.nowIso()]));
      if (rows[0].n === 0) throw alreadyExists(`Subscription ${sub.id} already exists`, 'Subscription already exists');
    },
    async getCsourceSubscription(tenant, id) {
      const { rows } = await pool.query<Row>(sql.get([tenant, textKey(id)]));
      return rows.length === 0 ? null : toSub(rows[0]);
    },
    async listCsourceSubscriptions(tenant, page) {
      const { rows } = await pool.query<Row & { total: number | null }>(sql.list([tenant, page.limit, page.offset, page.count]));
      const items = rows.filter((r) => r.id !== null).map(toSub);
      return page.count ? { items, total: rows[0].total ?? 0 } : { items };
    },
    updateCsourceSubscription(tenant, id, change) {
      return inTransaction(pool, async (client) => {
        const locked = await client.query<Row>(sql.lock([tenant, textKey(id)]));
        if (locked.rows.length === 0) return null;
        const current = toSub(locked.rows[0]);
        const next = change(current);
        if (next === null) return current;
        if (next.id !== id) throw new Error(`updateCsourceSubscription: changed id '${next.id}' differs from '${id}'`);
        return toSub((await client.query<Row>(sql.update(params(tenant, next)))).rows[0]);
      });
    },
    async deleteCsourceSubscription(tenant, id) {
      const { rows } = await pool.query<{ n: number }>(sql.delete([tenant, textKey(id), textKey(CSOURCE_OUTBOX_PREFIX + id)]));
      return rows[0].n > 0;
    },
    async allCsourceSubscriptions() {
      const { rows } = await pool.query<Row>(sql.all([]));
      return rows.map((row) => ({ tenant: row.tenant as TenantId, sub: toSub(row) }));
    },
    async csourceSubscriptionsVersion() {
      const { rows } = await pool.query<{ value: string }>(sql.version([]));
      return rows.length === 0 ? 0 : Number(rows[0].value);
    },
    async recordCsourceDelivery(tenant, id, outcome) {
      await pool.query((outcome.ok ? sql.recordOk : sql.recordFailure)([tenant, textKey(id), outcome.at]));
    },
  };
}
