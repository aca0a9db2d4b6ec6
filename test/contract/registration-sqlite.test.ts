// Runs the RegistrationStore and CsourceSubscriptionStore contracts on SQLite, plus SQLite-only schema and
// durability tests.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/adapters/store-sqlite/sqlite-store.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { parseTenant } from '../../src/core/tenant.ts';
import { runCsourceSubscriptionStoreContract } from './csource-subscription-contract.ts';
import { runRegistrationStoreContract } from './registration-contract.ts';

const T0 = '2030-01-01T00:00:00.000Z';
const clock: Clock = { nowIso: () => T0, nowMs: () => Date.parse(T0) };

let root: string;
let counter = 0;
const freshPath = (): string => join(root, `db-${++counter}`, 'kend.db');
before(() => {
  root = mkdtempSync(join(tmpdir(), 'kend-regs-sqlite-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

runRegistrationStoreContract('sqlite :memory:', async () => {
  const store = createSqliteStore({ path: ':memory:', clock });
  return { store: store.registrations, outbox: store.subscriptions, cleanup: () => store.close() };
});

runRegistrationStoreContract('sqlite file', async () => {
  const store = createSqliteStore({ path: freshPath(), clock });
  return { store: store.registrations, outbox: store.subscriptions, cleanup: () => store.close() };
});

runCsourceSubscriptionStoreContract('sqlite', async () => {
  const store = createSqliteStore({ path: ':memory:', clock });
  return { store: store.csourceSubscriptions, subscriptions: store.subscriptions, cleanup: () => store.close() };
});

describe('SQLite registration store specifics', () => {
  const reg = {
    id: 'urn:ngsi-ld:ContextSourceRegistration:1',
    payload: { id: 'urn:ngsi-ld:ContextSourceRegistration:1', type: 'ContextSourceRegistration', expiresAt: '2031-01-01T00:00:00.5Z' },
    createdAt: T0,
    modifiedAt: T0,
    forwarding: { timesSent: 0, timesFailed: 0 },
  };

  it('creating a registration creates its tenant; rows are tied to tenants and survive a reopen', async () => {
    const path = freshPath();
    const first = createSqliteStore({ path, clock });
    await first.registrations.createRegistration(parseTenant('village'), reg);
    await first.close();
    const second = createSqliteStore({ path, clock });
    try {
      assert.equal(await second.tenantExists(parseTenant('village')), true);
      assert.deepStrictEqual(await second.registrations.getRegistration(parseTenant('village'), reg.id), reg);
    } finally {
      await second.close();
    }
    const db = new Database(path);
    try {
      assert.deepStrictEqual(db.prepare('SELECT expires_at FROM registrations').get(), { expires_at: '2031-01-01T00:00:00.500Z' });
      assert.throws(
        () => db.prepare("INSERT INTO registrations (tenant, id, payload, created_at, modified_at, forwarding, seq) VALUES ('ghost', 'x', '{}', '', '', '{}', 99)").run(),
        /FOREIGN KEY/,
      );
    } finally {
      db.close();
    }
  });
});
