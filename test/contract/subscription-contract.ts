// The SubscriptionStore contract (issue 5 items 0, 4–6): one node:test suite the SQLite and PostgreSQL adapters run.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { OutboxEntry, StoredSubscription, SubscriptionStore } from '../../src/ports/subscription-store.ts';
import { DEFAULT_TENANT, parseTenant, type TenantId } from '../../src/core/tenant.ts';
import { NgsiError } from '../../src/core/errors.ts';

export interface SubscriptionHarness {
  store: SubscriptionStore;
  /** Writes entries the way an entity write does: inside a write transaction of the adapter. */
  insertOutboxInWrite: (entries: OutboxEntry[]) => Promise<void>;
  cleanup: () => Promise<void>;
}

const T0 = '2030-01-01T00:00:00.000Z';
const at = (ms: number): string => new Date(Date.parse(T0) + ms).toISOString();
const SUB = 'urn:ngsi-ld:Subscription:';
const E1 = 'http://receiver.test/one';
const E2 = 'http://receiver.test/two';

function subscription(id: string, over: Partial<StoredSubscription> = {}): StoredSubscription {
  return {
    id,
    payload: { type: 'Subscription', entities: [{ type: 'Building' }], notification: { endpoint: { uri: E1 } } },
    context: 'https://example.org/context.jsonld',
    createdAt: T0,
    modifiedAt: T0,
    delivery: { timesSent: 0, timesFailed: 0, consecutiveFailures: 0 },
    ...over,
  };
}

let seq = 0;
function entry(o: { endpoint?: string; sub?: string; key?: string; notBefore?: string; tenant?: TenantId; text?: string } = {}): OutboxEntry {
  const id = `urn:ngsi-ld:Notification:${String(++seq).padStart(6, '0')}`;
  const e: OutboxEntry = {
    id,
    tenant: o.tenant ?? DEFAULT_TENANT,
    subscriptionId: o.sub ?? `${SUB}s`,
    endpoint: o.endpoint ?? E1,
    message: { body: { id, type: 'Notification', data: [{ text: o.text ?? id }] }, headers: {} },
    notBefore: o.notBefore ?? T0,
    createdAt: o.notBefore ?? T0,
  };
  if (o.key !== undefined) e.coalesceKey = o.key;
  return e;
}

const ids = (rows: { id: string }[]): string[] => rows.map((r) => r.id);
const isAlreadyExists = (err: unknown): boolean => err instanceof NgsiError && err.kind === 'AlreadyExists' && err.status === 409;

/** Registers the contract; `make` must return a fresh, empty store (and its write path) on every call. */
export function runSubscriptionStoreContract(name: string, make: () => Promise<SubscriptionHarness>): void {
  describe(`SubscriptionStore contract: ${name}`, () => {
    let store: SubscriptionStore;
    let write: (entries: OutboxEntry[]) => Promise<void>;
    let cleanup: () => Promise<void>;
    const tA = parseTenant('tenant_a');
    const tB = parseTenant('tenant-b');

    beforeEach(async () => {
      ({ store, insertOutboxInWrite: write, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup();
    });

    describe('subscriptions', () => {
      it('creates a subscription (in a new tenant too) and reads back a deep-equal copy', async () => {
        const sub = subscription(`${SUB}1`, {
          context: ['https://example.org/a.jsonld', { x: 'urn:x' }],
          modifiedAt: at(1000),
          nextPeriodicAt: at(60_000),
          payload: { type: 'Subscription', timeInterval: 60, nested: { list: [1, 'two', null, true] } },
        });
        await store.createSubscription(tA, sub);
        assert.deepStrictEqual(await store.getSubscription(tA, sub.id), sub);
        const plain = subscription(`${SUB}2`, { context: null });
        await store.createSubscription(DEFAULT_TENANT, plain);
        assert.deepStrictEqual(await store.getSubscription(DEFAULT_TENANT, plain.id), plain);
        assert.equal(await store.getSubscription(tA, `${SUB}missing`), null);
      });

      it('refuses a duplicate id in one tenant with AlreadyExists (409) and allows it in another tenant', async () => {
        await store.createSubscription(tA, subscription(`${SUB}1`));
        await assert.rejects(store.createSubscription(tA, subscription(`${SUB}1`, { modifiedAt: at(5) })), isAlreadyExists);
        await store.createSubscription(tB, subscription(`${SUB}1`, { modifiedAt: at(7) }));
        assert.equal((await store.getSubscription(tA, `${SUB}1`))?.modifiedAt, T0);
        assert.equal((await store.getSubscription(tB, `${SUB}1`))?.modifiedAt, at(7));
      });

      it('keeps tenants apart in get and list; allSubscriptions returns every tenant', async () => {
        await store.createSubscription(tA, subscription(`${SUB}a`));
        await store.createSubscription(tB, subscription(`${SUB}b`));
        assert.equal(await store.getSubscription(tA, `${SUB}b`), null);
        assert.equal(await store.getSubscription(DEFAULT_TENANT, `${SUB}a`), null);
        assert.deepStrictEqual(ids((await store.listSubscriptions(tA, { limit: 10, offset: 0, count: false })).items), [`${SUB}a`]);
        assert.deepStrictEqual(await store.listSubscriptions(DEFAULT_TENANT, { limit: 10, offset: 0, count: true }), { items: [], total: 0 });
        const all = (await store.allSubscriptions()).map((x) => `${x.tenant}/${x.sub.id}`).sort();
        assert.deepStrictEqual(all, [`${tA}/${SUB}a`, `${tB}/${SUB}b`].sort());
      });

      it('lists in creation order with limit, offset and an optional total, also after updates', async () => {
        const order = ['z', 'a', 'm', 'b'].map((s) => `${SUB}${s}`);
        for (const id of order) await store.createSubscription(tA, subscription(id));
        await store.updateSubscription(tA, order[0], (cur) => ({ ...cur, modifiedAt: at(9) }));
        const first = await store.listSubscriptions(tA, { limit: 3, offset: 0, count: true });
        assert.deepStrictEqual(ids(first.items), order.slice(0, 3));
        assert.equal(first.total, 4);
        const rest = await store.listSubscriptions(tA, { limit: 3, offset: 3, count: false });
        assert.deepStrictEqual(ids(rest.items), order.slice(3));
        assert.equal(rest.total, undefined);
        assert.deepStrictEqual(await store.listSubscriptions(tA, { limit: 3, offset: 10, count: true }), { items: [], total: 4 });
      });

      it('updates atomically; a change returning null writes nothing; an absent id yields null', async () => {
        await store.createSubscription(tA, subscription(`${SUB}1`, { nextPeriodicAt: at(1) }));
        const updated = await store.updateSubscription(tA, `${SUB}1`, (cur) => {
          const next = { ...cur, payload: { ...cur.payload, q: 'temp>20' }, modifiedAt: at(5) };
          delete next.nextPeriodicAt;
          return next;
        });
        const expected = { ...subscription(`${SUB}1`), payload: { ...subscription('x').payload, q: 'temp>20' }, modifiedAt: at(5) };
        assert.deepStrictEqual(updated, expected);
        assert.deepStrictEqual(await store.getSubscription(tA, `${SUB}1`), expected);
        const v = await store.subscriptionsVersion();
        assert.deepStrictEqual(await store.updateSubscription(tA, `${SUB}1`, () => null), expected);
        assert.equal(await store.subscriptionsVersion(), v);
        let called = false;
        const absent = await store.updateSubscription(tB, `${SUB}1`, (cur) => {
          called = true;
          return cur;
        });
        assert.equal(absent, null);
        assert.equal(called, false);
      });

      it('deletes: true when it existed, then false; the subscription is gone', async () => {
        await store.createSubscription(tA, subscription(`${SUB}1`));
        await store.createSubscription(tB, subscription(`${SUB}1`));
        assert.equal(await store.deleteSubscription(tA, `${SUB}1`), true);
        assert.equal(await store.deleteSubscription(tA, `${SUB}1`), false);
        assert.equal(await store.getSubscription(tA, `${SUB}1`), null);
        assert.notEqual(await store.getSubscription(tB, `${SUB}1`), null);
      });

      it('the version increases on create, update and delete, and not on refused or status-only writes', async () => {
        const v0 = await store.subscriptionsVersion();
        await store.createSubscription(tA, subscription(`${SUB}1`));
        const v1 = await store.subscriptionsVersion();
        assert.ok(v1 > v0);
        await assert.rejects(store.createSubscription(tA, subscription(`${SUB}1`)), isAlreadyExists);
        await store.recordDelivery(tA, `${SUB}1`, { ok: true, at: at(1) });
        await store.recordDelivery(tA, `${SUB}1`, { ok: false, at: at(2) });
        assert.equal(await store.deleteSubscription(tA, `${SUB}other`), false);
        assert.equal(await store.subscriptionsVersion(), v1);
        await store.updateSubscription(tA, `${SUB}1`, (cur) => ({ ...cur, modifiedAt: at(3) }));
        const v2 = await store.subscriptionsVersion();
        assert.ok(v2 > v1);
        await store.deleteSubscription(tA, `${SUB}1`);
        assert.ok((await store.subscriptionsVersion()) > v2);
      });

      it('recordDelivery keeps the counters, last times, status and failure streak', async () => {
        await store.createSubscription(tA, subscription(`${SUB}1`));
        await store.recordDelivery(tA, `${SUB}1`, { ok: true, at: at(1) });
        await store.recordDelivery(tA, `${SUB}1`, { ok: false, at: at(2) });
        await store.recordDelivery(tA, `${SUB}1`, { ok: false, at: at(3) });
        assert.deepStrictEqual((await store.getSubscription(tA, `${SUB}1`))?.delivery, {
          timesSent: 3, timesFailed: 2, consecutiveFailures: 2, status: 'failed',
          lastNotification: at(3), lastSuccess: at(1), lastFailure: at(3),
        });
        await store.recordDelivery(tA, `${SUB}1`, { ok: true, at: at(4) });
        assert.deepStrictEqual((await store.getSubscription(tA, `${SUB}1`))?.delivery, {
          timesSent: 4, timesFailed: 2, consecutiveFailures: 0, status: 'ok',
          lastNotification: at(4), lastSuccess: at(4), lastFailure: at(3),
        });
        await store.recordDelivery(tB, `${SUB}1`, { ok: true, at: at(5) }); // unknown: no-op
        assert.equal(await store.getSubscription(tB, `${SUB}1`), null);
      });

      it('recordDelivery calls made together (several per subscription, several subscriptions) count as made one by one', async () => {
        await store.createSubscription(tA, subscription(`${SUB}a`));
        await store.createSubscription(tA, subscription(`${SUB}b`));
        await store.createSubscription(tA, subscription(`${SUB}c`));
        await store.recordDelivery(tA, `${SUB}c`, { ok: false, at: at(1) });
        await Promise.all([
          store.recordDelivery(tA, `${SUB}a`, { ok: true, at: at(2) }),
          store.recordDelivery(tA, `${SUB}b`, { ok: false, at: at(2) }),
          store.recordDelivery(tA, `${SUB}a`, { ok: false, at: at(3) }),
          store.recordDelivery(tA, `${SUB}c`, { ok: false, at: at(3) }),
          store.recordDelivery(tA, `${SUB}a`, { ok: false, at: at(4) }),
          store.recordDelivery(tA, `${SUB}b`, { ok: true, at: at(5) }),
        ]);
        assert.deepStrictEqual((await store.getSubscription(tA, `${SUB}a`))?.delivery, {
          timesSent: 3, timesFailed: 2, consecutiveFailures: 2, status: 'failed',
          lastNotification: at(4), lastSuccess: at(2), lastFailure: at(4),
        });
        assert.deepStrictEqual((await store.getSubscription(tA, `${SUB}b`))?.delivery, {
          timesSent: 2, timesFailed: 1, consecutiveFailures: 0, status: 'ok',
          lastNotification: at(5), lastSuccess: at(5), lastFailure: at(2),
        });
        assert.deepStrictEqual((await store.getSubscription(tA, `${SUB}c`))?.delivery, {
          timesSent: 2, timesFailed: 2, consecutiveFailures: 2, status: 'failed',
          lastNotification: at(3), lastFailure: at(3),
        });
      });

      it('claimPeriodic hands each due period to one of two concurrent claimers and skips missed periods', async () => {
        const periodic = subscription(`${SUB}p`, { payload: { type: 'Subscription', timeInterval: 60 }, nextPeriodicAt: at(60_000) });
        await store.createSubscription(tA, periodic);
        await store.createSubscription(tA, subscription(`${SUB}plain`));
        assert.deepStrictEqual(await store.claimPeriodic(at(59_999), 10), []);
        const [one, two] = await Promise.all([store.claimPeriodic(at(60_000), 10), store.claimPeriodic(at(60_000), 10)]);
        const won = [...one, ...two];
        assert.equal(won.length, 1);
        assert.equal(won[0].tenant, tA);
        assert.deepStrictEqual(won[0].sub, { ...periodic, nextPeriodicAt: at(120_000) });
        assert.deepStrictEqual(await store.claimPeriodic(at(61_000), 10), []);
        assert.equal((await store.getSubscription(tA, periodic.id))?.nextPeriodicAt, at(120_000));
        // Five periods missed: one notification, next due the first period after now.
        const late = await store.claimPeriodic(at(430_000), 10);
        assert.deepStrictEqual(late.map((x) => x.sub.nextPeriodicAt), [at(480_000)]);
      });
    });

    describe('outbox', () => {
      it('claims entries written in a write and enqueued, due ones only, oldest first', async () => {
        const late = entry({ notBefore: at(2000) });
        const a = entry({ notBefore: at(500) });
        const b = entry({ notBefore: at(100), endpoint: E2 });
        const c = entry({ notBefore: at(500) });
        await write([late, a]);
        await store.enqueue([b, c]);
        const rows = await store.claimDue('w1', at(1000), 10, 30_000, 100);
        assert.deepStrictEqual(ids(rows), [b.id, a.id, c.id]);
        assert.deepStrictEqual(rows[1], { ...a, attempts: 0 });
        assert.deepStrictEqual(ids(await store.claimDue('w1', at(2000), 10, 30_000, 100)), [late.id]);
      });

      it('respects the limit and leaves the rest for the next claim', async () => {
        const all = [0, 1, 2, 3, 4].map((i) => entry({ notBefore: at(i) }));
        await store.enqueue(all);
        assert.deepStrictEqual(ids(await store.claimDue('w1', at(10), 2, 30_000, 100)), ids(all.slice(0, 2)));
        assert.deepStrictEqual(ids(await store.claimDue('w1', at(10), 10, 30_000, 100)), ids(all.slice(2)));
      });

      it('a live lease keeps other owners out until it expires; expiry is not an attempt', async () => {
        const e = entry();
        await store.enqueue([e]);
        assert.deepStrictEqual(ids(await store.claimDue('w1', at(0), 10, 5000, 100)), [e.id]);
        assert.deepStrictEqual(await store.claimDue('w2', at(0), 10, 5000, 100), []);
        assert.deepStrictEqual(await store.claimDue('w2', at(5000), 10, 5000, 100), []);
        const again = await store.claimDue('w2', at(5001), 10, 5000, 100);
        assert.deepStrictEqual(again, [{ ...e, attempts: 0 }]);
      });

      it('caps live leases per endpoint, counting leases already held, so one endpoint cannot crowd out another', async () => {
        const one = [0, 1, 2, 3, 4].map((i) => entry({ endpoint: E1, notBefore: at(i) }));
        const two = [5, 6].map((i) => entry({ endpoint: E2, notBefore: at(i) }));
        await store.enqueue([...one, ...two]);
        assert.deepStrictEqual(ids(await store.claimDue('w1', at(10), 10, 5000, 2)), [one[0].id, one[1].id, ...ids(two)]);
        assert.deepStrictEqual(await store.claimDue('w2', at(10), 10, 5000, 2), []);
        await store.complete([one[0].id]);
        assert.deepStrictEqual(ids(await store.claimDue('w2', at(10), 10, 5000, 2)), [one[2].id]);
        // Expired leases do not count: after expiry the oldest due rows are claimable again, up to the cap.
        assert.deepStrictEqual(ids(await store.claimDue('w3', at(20_000), 10, 5000, 2)), [one[1].id, one[2].id, ...ids(two)]);
      });

      it('release hands rows back without counting an attempt, only for their owner', async () => {
        const [a, b] = [entry(), entry()];
        await store.enqueue([a, b]);
        await store.claimDue('w1', at(0), 10, 60_000, 100);
        await store.release('w2', [a.id, b.id]);
        assert.deepStrictEqual(await store.claimDue('w2', at(1), 10, 60_000, 100), []);
        await store.release('w1', [a.id]);
        assert.deepStrictEqual(await store.claimDue('w2', at(1), 10, 60_000, 100), [{ ...a, attempts: 0 }]);
      });

      it('complete removes rows for good', async () => {
        const [a, b] = [entry(), entry()];
        await store.enqueue([a, b]);
        await store.claimDue('w1', at(0), 10, 1000, 100);
        await store.complete([a.id, `${a.id}-unknown`]);
        assert.deepStrictEqual(ids(await store.claimDue('w2', at(60_000), 10, 1000, 100)), [b.id]);
      });

      it('retryLater counts the attempt, clears the lease and delays the row', async () => {
        const e = entry();
        await store.enqueue([e]);
        await store.claimDue('w1', at(0), 10, 60_000, 100);
        await store.retryLater(e.id, at(2000));
        assert.deepStrictEqual(await store.claimDue('w2', at(1999), 10, 60_000, 100), []);
        assert.deepStrictEqual(await store.claimDue('w2', at(2000), 10, 60_000, 100), [{ ...e, notBefore: at(2000), attempts: 1 }]);
        await store.retryLater(e.id, at(3000));
        const [row] = await store.claimDue('w3', at(3000), 10, 60_000, 100);
        assert.equal(row.attempts, 2);
      });

      it('coalesces into a pending entry of the same key: its id and message are replaced, its notBefore kept', async () => {
        const first = entry({ key: 'k1', notBefore: at(10_000), text: 'first' });
        const second = entry({ key: 'k1', notBefore: at(1000), text: 'second' });
        const other = entry({ key: 'k1', tenant: parseTenant('tenant_a'), notBefore: at(1000) });
        await write([first]);
        await write([second, other]);
        assert.deepStrictEqual(ids(await store.claimDue('w1', at(9999), 10, 60_000, 100)), [other.id]);
        const rows = await store.claimDue('w1', at(10_000), 10, 60_000, 100);
        assert.deepStrictEqual(rows, [{ ...first, id: second.id, message: second.message, attempts: 0 }]);
      });

      it('coalesces entries of one call and of enqueue alike', async () => {
        const a = entry({ key: 'k', notBefore: at(5) });
        const b = entry({ key: 'k', notBefore: at(1) });
        const c = entry({ key: 'k', notBefore: at(2) });
        await write([a, b]);
        await store.enqueue([c]);
        assert.deepStrictEqual(await store.claimDue('w1', at(10), 10, 60_000, 100), [{ ...a, id: c.id, message: c.message, attempts: 0 }]);
      });

      it('never coalesces into a claimed entry; a claimed entry superseded meanwhile is dropped when handed back', async () => {
        const a = entry({ key: 'k' });
        await write([a]);
        assert.deepStrictEqual(ids(await store.claimDue('w1', at(0), 10, 60_000, 100)), [a.id]);
        const b = entry({ key: 'k', notBefore: at(1) });
        await write([b]);
        await store.retryLater(a.id, at(2)); // b carries the newer state: a is superseded
        assert.deepStrictEqual(ids(await store.claimDue('w2', at(100), 10, 60_000, 100)), [b.id]);
        const c = entry({ key: 'k', notBefore: at(101) });
        await write([c]);
        await store.release('w2', [b.id]);
        assert.deepStrictEqual(ids(await store.claimDue('w3', at(200), 10, 60_000, 100)), [c.id]);
        await store.retryLater(c.id, at(300)); // nothing pending for its key: a plain retry
        assert.deepStrictEqual(await store.claimDue('w4', at(300), 10, 60_000, 100), [{ ...c, notBefore: at(300), attempts: 1 }]);
      });

      it('deleting a subscription drops its pending and leased entries, and only its own', async () => {
        await store.createSubscription(tA, subscription(`${SUB}1`));
        await store.createSubscription(tA, subscription(`${SUB}2`));
        const leased = entry({ tenant: tA, sub: `${SUB}1` });
        const pending = entry({ tenant: tA, sub: `${SUB}1`, key: 'k' });
        const kept = entry({ tenant: tA, sub: `${SUB}2` });
        const otherTenant = entry({ tenant: tB, sub: `${SUB}1` });
        await write([leased]);
        await store.claimDue('w1', at(0), 10, 1000, 100);
        await write([pending, kept, otherTenant]);
        assert.equal(await store.deleteSubscription(tA, `${SUB}1`), true);
        assert.deepStrictEqual(ids(await store.claimDue('w2', at(5000), 10, 1000, 100)).sort(), [kept.id, otherTenant.id].sort());
      });
    });
  });
}
