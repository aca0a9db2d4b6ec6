// Runs the SubscriptionStore contract on SQLite (file and memory), plus SQLite-only atomicity and locking tests.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { createSqliteStore } from '../../src/adapters/store-sqlite/sqlite-store.ts';
import { openDatabase } from '../../src/adapters/store-sqlite/database.ts';
import {
  createSqliteSubscriptionStore,
  insertOutboxSync,
  SQLITE_SUBSCRIPTION_DDL,
} from '../../src/adapters/store-sqlite/subscription-store.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { OutboxEntry } from '../../src/ports/subscription-store.ts';
import { DEFAULT_TENANT, parseTenant } from '../../src/core/tenant.ts';
import { runSubscriptionStoreContract, type SubscriptionHarness } from './subscription-contract.ts';

const T0 = '2030-01-01T00:00:00.000Z';
const clock: Clock = { nowIso: () => T0, nowMs: () => Date.parse(T0) };

let root: string;
let counter = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'kend-subs-sqlite-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A bare database (no entity store) gets the subscription schema alone: the store needs nothing else. */
function applySubscriptionSchema(db: BetterSqlite3.Database): void {
  const present = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").get();
  if (present === undefined) db.exec(SQLITE_SUBSCRIPTION_DDL);
}

/** A file migrated by the entity store (v1, v2…), then opened again with the subscription schema. */
async function freshFile(): Promise<{ path: string; db: BetterSqlite3.Database }> {
  const path = join(root, `db-${++counter}`, 'kend.db');
  await createSqliteStore({ path, clock }).close();
  const db = openDatabase(path); // migration v3 created the subscription schema
  return { path, db };
}

function harness(db: BetterSqlite3.Database): SubscriptionHarness {
  const inWrite = db.transaction((entries: readonly OutboxEntry[]) => insertOutboxSync(db, entries));
  return {
    store: createSqliteSubscriptionStore(db, clock),
    insertOutboxInWrite: async (entries) => void inWrite.immediate(entries),
    cleanup: async () => void db.close(),
  };
}

runSubscriptionStoreContract('sqlite file', async () => harness((await freshFile()).db));

runSubscriptionStoreContract('sqlite :memory:', async () => {
  const db = openDatabase(':memory:');
  applySubscriptionSchema(db);
  return harness(db);
});

function entry(n: number, endpoint = 'http://receiver.test/n'): OutboxEntry {
  const id = `urn:ngsi-ld:Notification:${n}`;
  return { id, tenant: DEFAULT_TENANT, subscriptionId: 'urn:ngsi-ld:Subscription:s', endpoint, message: { n }, notBefore: T0, createdAt: T0 };
}

describe('SQLite subscription store specifics', () => {
  it('outbox entries written in a write transaction that fails vanish with it', async () => {
    const { db } = await freshFile();
    try {
      const failing = db.transaction(() => {
        insertOutboxSync(db, [entry(1)]);
        throw new Error('the entity write failed');
      });
      assert.throws(() => failing.immediate(), /entity write failed/);
      assert.equal(db.prepare('SELECT count(*) FROM outbox').pluck().get(), 0);
    } finally {
      db.close();
    }
  });

  it('creating a subscription creates its tenant; the schema ties subscriptions to tenants', async () => {
    const { db } = await freshFile();
    try {
      const store = createSqliteSubscriptionStore(db, clock);
      const tenant = parseTenant('village');
      await store.createSubscription(tenant, {
        id: 'urn:ngsi-ld:Subscription:1', payload: {}, context: null, createdAt: T0, modifiedAt: T0,
        delivery: { timesSent: 0, timesFailed: 0, consecutiveFailures: 0 },
      });
      assert.deepStrictEqual(db.prepare('SELECT name, created_at FROM tenants WHERE name = ?').get('village'), { name: 'village', created_at: T0 });
      assert.throws(
        () => db.prepare("INSERT INTO subscriptions (tenant, id, payload, context, created_at, modified_at, delivery, seq) VALUES ('ghost', 'x', '{}', 'null', '', '', '{}', 99)").run(),
        /FOREIGN KEY/,
      );
    } finally {
      db.close();
    }
  });

  it('two connections on one file claiming in turn never get the same row', async () => {
    const { path, db } = await freshFile();
    const other = openDatabase(path);
    try {
      const a = createSqliteSubscriptionStore(db, clock);
      const b = createSqliteSubscriptionStore(other, clock);
      const all = Array.from({ length: 60 }, (_, i) => entry(i, `http://receiver.test/${i % 3}`));
      await a.enqueue(all);
      const seen: string[] = [];
      const claims = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).claimDue(`w${i % 2}`, T0, 4, 60_000, 100));
      for (const rows of await Promise.all(claims)) seen.push(...rows.map((r) => r.id));
      assert.equal(new Set(seen).size, seen.length);
      assert.deepStrictEqual(seen.sort(), all.map((e) => e.id).sort());
    } finally {
      other.close();
      db.close();
    }
  });
});
