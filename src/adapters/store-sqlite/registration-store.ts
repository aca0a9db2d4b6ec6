// SQLite RegistrationStore (GS CIM 009 §5.9, §5.10; issue 7 item 1): context source registrations per tenant
// on the store's better-sqlite3 file, created by migration v5.
import type BetterSqlite3 from 'better-sqlite3';
import { compareDateTime } from '../../core/datetime.ts';
import { alreadyExists } from '../../core/errors.ts';
import type { JsonObject } from '../../core/json.ts';
import type { ForwardingStatus } from '../../core/registration/model.ts';
import type { TenantId } from '../../core/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import { createOutboxInserter } from './subscription-store.ts';
import { expiryOf, type OwedNotifications, type RegistrationFilter, type RegistrationPage, type RegistrationStore, type StoredRegistration } from '../../ports/registration-store.ts';

/**
 * Schema of the registration store (migration v5; released: never edit, add a migration). Notes:
 * - Keyed by (tenant, id) like subscriptions; `seq` is the stable listing order (kept by updates).
 * - `expires_at` is the canonical ISO form of the payload's expiresAt, so a query skips expired rows by index
 *   order of text = time order; the exact (sub-millisecond) comparison is made on the payload's value.
 * - `forwarding` holds the status members distributed operations update (§5.2.9), apart from the payload.
 * - `kend_meta.registrations_version` is bumped in the transaction of every definition change.
 */
export const SQLITE_REGISTRATION_DDL = `
  CREATE TABLE registrations (
    tenant TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    expires_at TEXT,
    forwarding TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (tenant, id)
  ) WITHOUT ROWID;

  CREATE INDEX registrations_tenant_seq ON registrations (tenant, seq);

  INSERT INTO kend_meta (key, value) VALUES ('registrations_version', 0);
`;

const VERSION_KEY = 'registrations_version';
const COLUMNS = 'id, payload, created_at, modified_at, expires_at, forwarding';
const READ = 'id, payload, created_at, modified_at, forwarding';

interface Row {
  id: string;
  payload: string;
  created_at: string;
  modified_at: string;
  forwarding: string;
}

/** Canonical instant text (millisecond precision); text order is time order. */
const iso = (instant: string): string => new Date(instant).toISOString();

function toRegistration(row: Row): StoredRegistration {
  const out: StoredRegistration = {
    id: row.id,
    payload: JSON.parse(row.payload) as JsonObject,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
    forwarding: JSON.parse(row.forwarding) as ForwardingStatus,
  };
  return out;
}

/** True when the registration still exists at `now` (exact comparison on the payload's value). */
function isLive(reg: StoredRegistration, now: string): boolean {
  const at = expiryOf(reg);
  return at === undefined || compareDateTime(at, now) > 0;
}

export function createSqliteRegistrationStore(db: BetterSqlite3.Database, clock: Clock): RegistrationStore {
  const stmt = {
    insertTenant: db.prepare<[string, string]>('INSERT OR IGNORE INTO tenants (name, created_at) VALUES (?, ?)'),
    get: db.prepare<[string, string], Row>(`SELECT ${READ} FROM registrations WHERE tenant = ? AND id = ?`),
    // Expired rows are skipped a millisecond late at worst (truncated text); isLive decides exactly.
    live: db.prepare<[string, string], Row>(
      `SELECT ${READ} FROM registrations WHERE tenant = ? AND (expires_at IS NULL OR expires_at >= ?) ORDER BY seq`,
    ),
    insert: db.prepare<[string, string, string, string, string, string | null, string]>(
      `INSERT INTO registrations (tenant, ${COLUMNS}, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM registrations))`,
    ),
    update: db.prepare<[string, string, string, string | null, string, string, string]>(
      `UPDATE registrations SET payload = ?, created_at = ?, modified_at = ?, expires_at = ?, forwarding = ?
       WHERE tenant = ? AND id = ?`,
    ),
    delete: db.prepare<[string, string]>('DELETE FROM registrations WHERE tenant = ? AND id = ?'),
    bump: db.prepare<[string]>('UPDATE kend_meta SET value = value + 1 WHERE key = ?'),
    version: db.prepare<[string], number>('SELECT value FROM kend_meta WHERE key = ?').pluck(),
    recordOk: db.prepare<[string, string, string]>(
      `UPDATE registrations SET forwarding = json_set(forwarding,
         '$.timesSent', coalesce(json_extract(forwarding, '$.timesSent'), 0) + 1, '$.lastSuccess', ?, '$.status', 'ok')
       WHERE tenant = ? AND id = ?`,
    ),
    recordFailure: db.prepare<[string, string, string]>(
      `UPDATE registrations SET forwarding = json_set(forwarding,
         '$.timesSent', coalesce(json_extract(forwarding, '$.timesSent'), 0) + 1,
         '$.timesFailed', coalesce(json_extract(forwarding, '$.timesFailed'), 0) + 1, '$.lastFailure', ?, '$.status', 'failed')
       WHERE tenant = ? AND id = ?`,
    ),
  };

  const params = (r: StoredRegistration): [string, string, string, string | null, string] => {
    const expiry = expiryOf(r);
    return [JSON.stringify(r.payload), r.createdAt, r.modifiedAt, expiry === undefined ? null : iso(expiry), JSON.stringify(r.forwarding)];
  };

  const insertOutbox = createOutboxInserter(db);
  const owe = (owed: OwedNotifications | undefined, before: StoredRegistration | null, after: StoredRegistration | null): void => {
    if (owed !== undefined) insertOutbox(owed(before, after));
  };

  const createTx = db.transaction((tenant: TenantId, reg: StoredRegistration, owed: OwedNotifications | undefined) => {
    stmt.insertTenant.run(tenant, clock.nowIso());
    if (stmt.get.get(tenant, reg.id) !== undefined) throw alreadyExists(`Registration ${reg.id} already exists`, 'Registration already exists');
    stmt.insert.run(tenant, reg.id, ...params(reg));
    stmt.bump.run(VERSION_KEY);
    owe(owed, null, toRegistration(stmt.get.get(tenant, reg.id)!));
  });

  const updateTx = db.transaction(
    (tenant: TenantId, id: string, change: (current: StoredRegistration) => StoredRegistration | null, owed: OwedNotifications | undefined): StoredRegistration | null => {
      const row = stmt.get.get(tenant, id);
      if (row === undefined) return null;
      const current = toRegistration(row);
      const next = change(current);
      if (next === null) return current;
      if (next.id !== id) throw new Error(`updateRegistration: changed registration id '${next.id}' differs from '${id}'`);
      const [payload, createdAt, modifiedAt, expiresAt, forwarding] = params(next);
      stmt.update.run(payload, createdAt, modifiedAt, expiresAt, forwarding, tenant, id);
      stmt.bump.run(VERSION_KEY);
      const updated = toRegistration(stmt.get.get(tenant, id)!);
      owe(owed, current, updated);
      return updated;
    },
  );

  const deleteTx = db.transaction((tenant: TenantId, id: string, owed: OwedNotifications | undefined): boolean => {
    const row = stmt.get.get(tenant, id);
    if (row === undefined) return false;
    stmt.delete.run(tenant, id);
    stmt.bump.run(VERSION_KEY);
    owe(owed, toRegistration(row), null);
    return true;
  });

  // One read transaction: the page and the count come from one snapshot. Rows stream in seq order; without
  // count the scan stops at the end of the page.
  const queryTx = db.transaction((tenant: TenantId, filter: RegistrationFilter, page: { limit: number; offset: number; count: boolean }) => {
    const items: StoredRegistration[] = [];
    let matched = 0;
    for (const row of stmt.live.iterate(tenant, iso(filter.now))) {
      const reg = toRegistration(row);
      if (!isLive(reg, filter.now) || (filter.matches !== undefined && !filter.matches(reg))) continue;
      if (matched >= page.offset && items.length < page.limit) items.push(reg);
      matched++;
      if (!page.count && items.length >= page.limit) break;
    }
    const out: RegistrationPage = { items };
    if (page.count) out.total = matched;
    return out;
  });

  return {
    async createRegistration(tenant, reg, owed) {
      createTx.immediate(tenant, reg, owed);
    },
    async getRegistration(tenant, id) {
      const row = stmt.get.get(tenant, id);
      return row === undefined ? null : toRegistration(row);
    },
    async queryRegistrations(tenant, filter, page) {
      return queryTx.deferred(tenant, filter, page);
    },
    async updateRegistration(tenant, id, change, owed) {
      return updateTx.immediate(tenant, id, change, owed);
    },
    async deleteRegistration(tenant, id, owed) {
      return deleteTx.immediate(tenant, id, owed);
    },
    async recordForwarding(tenant, id, outcome) {
      (outcome.ok ? stmt.recordOk : stmt.recordFailure).run(outcome.at, tenant, id);
    },
    async registrationsVersion() {
      return stmt.version.get(VERSION_KEY) ?? 0;
    },
  };
}
