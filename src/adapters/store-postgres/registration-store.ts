// PostgreSQL RegistrationStore (GS CIM 009 §5.9, §5.10; issue 7 item 1): context source registrations per
// tenant, created by migration v5; several nodes may share them.
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { compareDateTime } from '../../core/datetime.ts';
import { alreadyExists } from '../../core/errors.ts';
import type { JsonObject } from '../../core/json.ts';
import type { ForwardingStatus } from '../../core/registration/model.ts';
import type { TenantId } from '../../core/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import { expiryOf, type RegistrationPage, type RegistrationStore, type StoredRegistration } from '../../ports/registration-store.ts';
import { textFromKey, textKey } from './text-key.ts';
import { insertOutbox } from './subscription-store.ts';
import { inTransaction } from './transaction.ts';

/**
 * Schema of the registration store (migration v5; released: never edit, add a migration). Notes:
 * - Keys are COLLATE "C" text holding textKey(id) (PostgreSQL text cannot hold U+0000 or lone surrogates);
 *   the payload is json (kept as written, `\u0000` escapes accepted).
 * - `seq` is the stable listing order (kept by updates); `expires_at` lets a query skip expired rows.
 * - `forwarding` holds the status members distributed operations update (§5.2.9), apart from the payload.
 * - `kend_meta.registrations_version` is bumped in the transaction of each definition change.
 */
export const POSTGRES_REGISTRATION_DDL = `
  CREATE TABLE registrations (
    tenant text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id text COLLATE "C" NOT NULL,
    payload json NOT NULL,
    created_at timestamptz NOT NULL,
    modified_at timestamptz NOT NULL,
    expires_at timestamptz,
    forwarding json NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT registrations_pkey PRIMARY KEY (tenant, id)
  );

  CREATE UNIQUE INDEX registrations_tenant_seq ON registrations (tenant, seq);

  INSERT INTO kend_meta (key, value) VALUES ('registrations_version', 0);
`;

/** Rows read per round trip while paging through a tenant's registrations. */
const CHUNK = 500;

const BUMP = `UPDATE kend_meta SET value = value + 1 WHERE key = 'registrations_version'`;

type Param = string | number | boolean | null;

function statement(name: string, text: string): (values: Param[]) => QueryConfig<Param[]> {
  return (values) => ({ name: `kend_reg_${name}`, text, values });
}

const ts = (col: string): string => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const COLUMNS = `r.seq::text AS seq, r.id, r.payload::text AS payload, ${ts('r.created_at')} AS created_at,
  ${ts('r.modified_at')} AS modified_at, r.forwarding::text AS forwarding`;

const sql = {
  create: statement(
    'create',
    `WITH new_tenant AS (
       INSERT INTO tenants (name, created_at) VALUES ($1, $8::timestamptz) ON CONFLICT (name) DO NOTHING
     ), created AS (
       INSERT INTO registrations (tenant, id, payload, created_at, modified_at, expires_at, forwarding)
       VALUES ($1, $2, $3::json, $4::timestamptz, $5::timestamptz, $6::timestamptz, $7::json)
       ON CONFLICT (tenant, id) DO NOTHING RETURNING 1
     ), bump AS (${BUMP} AND EXISTS (SELECT 1 FROM created))
     SELECT count(*)::int AS n FROM created`,
  ),
  get: statement('get', `SELECT ${COLUMNS} FROM registrations r WHERE r.tenant = $1 AND r.id = $2`),
  lock: statement('lock', `SELECT ${COLUMNS} FROM registrations r WHERE r.tenant = $1 AND r.id = $2 FOR UPDATE`),
  // Keyset chunks in seq order; expired rows skipped here (the exact comparison is made on the payload).
  chunk: statement(
    'chunk',
    `SELECT ${COLUMNS} FROM registrations r
     WHERE r.tenant = $1 AND r.seq > $2::bigint AND (r.expires_at IS NULL OR r.expires_at > $3::timestamptz - interval '1 millisecond')
     ORDER BY r.seq LIMIT $4`,
  ),
  update: statement(
    'update',
    `WITH changed AS (
       UPDATE registrations r SET payload = $3::json, created_at = $4::timestamptz, modified_at = $5::timestamptz,
         expires_at = $6::timestamptz, forwarding = $7::json
       WHERE r.tenant = $1 AND r.id = $2 RETURNING ${COLUMNS}
     ), bump AS (${BUMP})
     SELECT * FROM changed`,
  ),
  delete: statement(
    'delete',
    `WITH gone AS (DELETE FROM registrations WHERE tenant = $1 AND id = $2 RETURNING 1),
     bump AS (${BUMP} AND EXISTS (SELECT 1 FROM gone))
     SELECT count(*)::int AS n FROM gone`,
  ),
  recordOk: statement(
    'record_ok',
    `UPDATE registrations SET forwarding = (forwarding::jsonb || jsonb_build_object(
       'timesSent', coalesce((forwarding ->> 'timesSent')::bigint, 0) + 1, 'lastSuccess', $3::text, 'status', 'ok'))::json
     WHERE tenant = $1 AND id = $2`,
  ),
  recordFailure: statement(
    'record_failure',
    `UPDATE registrations SET forwarding = (forwarding::jsonb || jsonb_build_object(
       'timesSent', coalesce((forwarding ->> 'timesSent')::bigint, 0) + 1,
       'timesFailed', coalesce((forwarding ->> 'timesFailed')::bigint, 0) + 1, 'lastFailure', $3::text, 'status', 'failed'))::json
     WHERE tenant = $1 AND id = $2`,
  ),
  version: statement('version', `SELECT value::text AS value FROM kend_meta WHERE key = 'registrations_version'`),
};

interface Row {
  seq: string;
  id: string;
  payload: string;
  created_at: string;
  modified_at: string;
  forwarding: string;
}

function toRegistration(row: Row): StoredRegistration {
  const out: StoredRegistration = {
    id: textFromKey(row.id),
    payload: JSON.parse(row.payload) as JsonObject,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
    forwarding: JSON.parse(row.forwarding) as ForwardingStatus,
  };
  return out;
}

function params(tenant: TenantId, r: StoredRegistration): Param[] {
  return [tenant, textKey(r.id), JSON.stringify(r.payload), r.createdAt, r.modifiedAt, expiryOf(r) ?? null, JSON.stringify(r.forwarding)];
}

/** The exact expiry test, on the payload's value (timestamptz keeps microseconds, the payload any fraction). */
function isLive(r: StoredRegistration, now: string): boolean {
  const at = expiryOf(r);
  return at === undefined || compareDateTime(at, now) > 0;
}

/** The store over a migrated database. The pool stays the caller's to end. */
export function createPostgresRegistrationStore(pool: Pool, clock: Clock): RegistrationStore {
  return {
    async createRegistration(tenant, reg, owed) {
      const create = async (client: Pool | PoolClient): Promise<void> => {
        const { rows } = await client.query<{ n: number }>(sql.create([...params(tenant, reg), clock.nowIso()]));
        if (rows[0].n === 0) throw alreadyExists(`Registration ${reg.id} already exists`, 'Registration already exists');
      };
      if (owed === undefined) return create(pool);
      await inTransaction(pool, async (client) => {
        await create(client);
        const { rows } = await client.query<Row>(sql.get([tenant, textKey(reg.id)]));
        await insertOutbox(client, owed(null, toRegistration(rows[0])));
      });
    },

    async getRegistration(tenant, id) {
      const { rows } = await pool.query<Row>(sql.get([tenant, textKey(id)]));
      return rows.length === 0 ? null : toRegistration(rows[0]);
    },

    async queryRegistrations(tenant, filter, page) {
      // One snapshot for every chunk (REPEATABLE READ), so the page and the count agree.
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const items: StoredRegistration[] = [];
        let matched = 0;
        let after = '0';
        scan: for (;;) {
          const { rows } = await client.query<Row>(sql.chunk([tenant, after, filter.now, CHUNK]));
          for (const row of rows) {
            const reg = toRegistration(row);
            if (!isLive(reg, filter.now) || (filter.matches !== undefined && !filter.matches(reg))) continue;
            if (matched >= page.offset && items.length < page.limit) items.push(reg);
            matched++;
            if (!page.count && items.length >= page.limit) break scan;
          }
          if (rows.length < CHUNK) break;
          after = rows[rows.length - 1].seq;
        }
        await client.query('COMMIT');
        const out: RegistrationPage = { items };
        if (page.count) out.total = matched;
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: unknown) => {
          broken = e instanceof Error ? e : new Error(String(e));
        });
        throw err;
      } finally {
        client.release(broken);
      }
    },

    updateRegistration(tenant, id, change, owed) {
      return inTransaction(pool, async (client) => {
        const locked = await client.query<Row>(sql.lock([tenant, textKey(id)]));
        if (locked.rows.length === 0) return null;
        const current = toRegistration(locked.rows[0]);
        const next = change(current);
        if (next === null) return current;
        if (next.id !== id) throw new Error(`updateRegistration: changed registration id '${next.id}' differs from '${id}'`);
        const { rows } = await client.query<Row>(sql.update(params(tenant, next)));
        const updated = toRegistration(rows[0]);
        if (owed !== undefined) await insertOutbox(client, owed(current, updated));
        return updated;
      });
    },

    async deleteRegistration(tenant, id, owed) {
      if (owed === undefined) {
        const { rows } = await pool.query<{ n: number }>(sql.delete([tenant, textKey(id)]));
        return rows[0].n > 0;
      }
      return inTransaction(pool, async (client) => {
        const locked = await client.query<Row>(sql.lock([tenant, textKey(id)]));
        if (locked.rows.length === 0) return false;
        await client.query(sql.delete([tenant, textKey(id)]));
        await insertOutbox(client, owed(toRegistration(locked.rows[0]), null));
        return true;
      });
    },

    async recordForwarding(tenant, id, outcome) {
      await pool.query((outcome.ok ? sql.recordOk : sql.recordFailure)([tenant, textKey(id), outcome.at]));
    },

    async registrationsVersion() {
      const { rows } = await pool.query<{ value: string }>(sql.version([]));
      return rows.length === 0 ? 0 : Number(rows[0].value);
    },
  };
}
