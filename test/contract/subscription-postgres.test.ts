// Runs the SubscriptionStore contract on PostgreSQL, plus multi-node tests: two pools claiming the same outbox.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Pool } from 'pg';
import { createPostgresStore } from '../../src/adapters/store-postgres/postgres-store.ts';
import {
  createPostgresSubscriptionStore,
  insertOutbox,
} from '../../src/adapters/store-postgres/subscription-store.ts';
import { inTransaction } from '../../src/adapters/store-postgres/transaction.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { OutboxEntry, SubscriptionStore } from '../../src/ports/subscription-store.ts';
import { DEFAULT_TENANT, parseTenant } from '../../src/core/tenant.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/postgres.ts';
import { runSubscriptionStoreContract } from './subscription-contract.ts';

const T0 = '2030-01-01T00:00:00.000Z';
const at = (ms: number): string => new Date(Date.parse(T0) + ms).toISOString();
const clock: Clock = { nowIso: () => T0, nowMs: () => Date.parse(T0) };

function entry(n: number, o: { endpoint?: string; key?: string } = {}): OutboxEntry {
  const id = `urn:ngsi-ld:Notification:${String(n).padStart(5, '0')}`;
  const e: OutboxEntry = {
    id, tenant: DEFAULT_TENANT, subscriptionId: 'urn:ngsi-ld:Subscription:s', endpoint: o.endpoint ?? 'http://receiver.test/n',
    message: { n }, notBefore: at(n), createdAt: at(n),
  };
  if (o.key !== undefined) e.coalesceKey = o.key;
  return e;
}

const availability = await postgresAvailable();

if (!availability.ok) {
  // A skipped describe reports no test at all: these placeholders make the skip and its reason visible.
  it('runs the SubscriptionStore contract on PostgreSQL', { skip: availability.reason }, () => {});
  it('runs the PostgreSQL multi-node outbox tests', { skip: availability.reason }, () => {});
} else {
  const baseUrl = availability.baseUrl;

  describe('PostgreSQL subscription store', () => {
    let db: TestDatabase;
    let admin: Client;
    const pools: Pool[] = [];
    const pool = (max = 4): Pool => {
      const p = new Pool({ connectionString: db.url, max });
      p.on('error', () => {});
      pools.push(p);
      return p;
    };

    before(async () => {
      db = await createTestDatabase(baseUrl);
      await (await createPostgresStore({ url: db.url })).close(); // migrations, incl. the subscription schema (v3)
      admin = new Client({ connectionString: db.url });
      await admin.connect();
    });
    after(async () => {
      await Promise.all(pools.map((p) => p.end()));
      await admin?.end();
      await db?.drop();
    });

    const reset = async (): Promise<void> => {
      await admin.query("TRUNCATE subscriptions, outbox; DELETE FROM tenants WHERE name <> ''");
    };
    const writeIn = (p: Pool, entries: readonly OutboxEntry[]): Promise<void> =>
      inTransaction(p, (client) => insertOutbox(client, entries));

    runSubscriptionStoreContract('postgres', async () => {
      await reset();
      const p = new Pool({ connectionString: db.url, max: 4 });
      p.on('error', () => {});
      return {
        store: createPostgresSubscriptionStore(p, clock),
        insertOutboxInWrite: (entries) => writeIn(p, entries),
        cleanup: () => p.end(),
      };
    });

    describe('PostgreSQL subscription store specifics', () => {
      it('two nodes (two pools) claiming concurrently never get the same row', async () => {
        await reset();
        const [a, b] = [createPostgresSubscriptionStore(pool(), clock), createPostgresSubscriptionStore(pool(), clock)];
        const all = Array.from({ length: 300 }, (_, i) => entry(i, { endpoint: `http://receiver.test/${i % 5}` }));
        await a.enqueue(all);
        const seen: string[] = [];
        const drain = async (store: SubscriptionStore, owner: string): Promise<void> => {
          for (;;) {
            const rows = await store.claimDue(owner, at(1000), 7, 60_000, 1000);
            if (rows.length === 0) return;
            seen.push(...rows.map((r) => r.id));
          }
        };
        await Promise.all([drain(a, 'a1'), drain(a, 'a2'), drain(b, 'b1'), drain(b, 'b2')]);
        assert.equal(new Set(seen).size, seen.length, 'a row was claimed twice');
        assert.deepStrictEqual(seen.sort(), all.map((e) => e.id).sort());
      });

      it('the per-endpoint cap holds across nodes claiming at once', async () => {
        await reset();
        const stores = [pool(), pool()].map((p) => createPostgresSubscriptionStore(p, clock));
        await stores[0].enqueue(Array.from({ length: 40 }, (_, i) => entry(i)));
        const claims = Array.from({ length: 8 }, (_, i) => stores[i % 2].claimDue(`w${i}`, at(1000), 10, 60_000, 3));
        const claimed = (await Promise.all(claims)).flat();
        assert.deepStrictEqual(claimed.map((r) => r.id).sort(), [0, 1, 2].map((n) => entry(n).id));
      });

      it('each period of a periodic subscription goes to exactly one node', async () => {
        await reset();
        const stores = [pool(), pool()].map((p) => createPostgresSubscriptionStore(p, clock));
        const tenant = parseTenant('village');
        for (let i = 0; i < 20; i++) {
          await stores[0].createSubscription(tenant, {
            id: `urn:ngsi-ld:Subscription:p${i}`, payload: { timeInterval: 30 }, context: null, createdAt: T0, modifiedAt: T0,
            delivery: { timesSent: 0, timesFailed: 0, consecutiveFailures: 0 }, nextPeriodicAt: at(i),
          });
        }
        const claims = Array.from({ length: 10 }, (_, i) => stores[i % 2].claimPeriodic(at(1000), 4));
        const won = (await Promise.all(claims)).flat().map((x) => x.sub.id);
        assert.equal(won.length, 20);
        assert.equal(new Set(won).size, 20);
        assert.deepStrictEqual(await stores[1].claimPeriodic(at(29_999), 100), []);
      });

      it('concurrent writes of one coalesce key leave exactly one pending row', async () => {
        await reset();
        const p = pool(8);
        const store = createPostgresSubscriptionStore(p, clock);
        await Promise.all(Array.from({ length: 20 }, (_, i) => writeIn(p, [entry(i, { key: 'k' })])));
        const rows = await store.claimDue('w', at(1000), 100, 60_000, 100);
        assert.equal(rows.length, 1);
        // The first committed entry's notBefore, the last committed entry's id: which ones is up to the race.
        const written = Array.from({ length: 20 }, (_, i) => entry(i));
        assert.ok(written.some((e) => e.notBefore === rows[0].notBefore));
        assert.ok(written.some((e) => e.id === rows[0].id));
      });

      it('outbox entries of a write transaction that rolls back vanish with it', async () => {
        await reset();
        const p = pool();
        await assert.rejects(
          inTransaction(p, async (client) => {
            await insertOutbox(client, [entry(1)]);
            throw new Error('the entity write failed');
          }),
          /entity write failed/,
        );
        assert.equal((await admin.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n, 0);
      });

      it('round-trips ids and keys PostgreSQL text cannot hold as such (U+0000, lone surrogates)', async () => {
        await reset();
        const store = createPostgresSubscriptionStore(pool(), clock);
        const odd = 'urn:x:\u0000\uD800\uFFFF';
        const sub = {
          id: odd, payload: { q: 'name=="\u00e9"' }, context: null, createdAt: T0, modifiedAt: T0,
          delivery: { timesSent: 0, timesFailed: 0, consecutiveFailures: 0 },
        };
        await store.createSubscription(DEFAULT_TENANT, sub);
        assert.deepStrictEqual(await store.getSubscription(DEFAULT_TENANT, odd), sub);
        const e = { ...entry(1, { key: `k|${odd}`, endpoint: `http://receiver.test/${odd}` }), subscriptionId: odd, id: `n:${odd}` };
        await store.enqueue([e]);
        assert.deepStrictEqual(await store.claimDue('w', at(1000), 10, 1000, 10), [{ ...e, attempts: 0 }]);
        assert.equal(await store.deleteSubscription(DEFAULT_TENANT, odd), true);
        assert.deepStrictEqual(await store.claimDue('w2', at(9000), 10, 1000, 10), []);
      });
    });
  });
}
