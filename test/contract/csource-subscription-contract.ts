// The CsourceSubscriptionStore contract (issue 7 item 2): one node:test suite the SQLite and PostgreSQL adapters run.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { CSOURCE_OUTBOX_PREFIX, type CsourceSubscriptionStore } from '../../src/ports/csource-subscription-store.ts';
import type { StoredSubscription, SubscriptionStore } from '../../src/ports/subscription-store.ts';
import { DEFAULT_TENANT, parseTenant } from '../../src/core/tenant.ts';
import { NgsiError } from '../../src/core/errors.ts';

export interface CsourceSubscriptionHarness {
  store: CsourceSubscriptionStore;
  /** The entity subscriptions and outbox of the same database. */
  subscriptions: SubscriptionStore;
  cleanup: () => Promise<void>;
}

const T0 = '2030-01-01T00:00:00.000Z';
const at = (ms: number): string => new Date(Date.parse(T0) + ms).toISOString();
const SUB = 'urn:ngsi-ld:Subscription:';

function sub(id: string, over: Partial<StoredSubscription> = {}): StoredSubscription {
  return {
    id,
    payload: { id, type: 'Subscription', entities: [{ type: 'WeatherObserved' }], notification: { endpoint: { uri: 'http://receiver.test/' } } },
    context: 'https://example.org/context.jsonld',
    createdAt: T0,
    modifiedAt: T0,
    delivery: { timesSent: 0, timesFailed: 0, consecutiveFailures: 0 },
    ...over,
  };
}

const ids = (rows: { id: string }[]): string[] => rows.map((r) => r.id);

export function runCsourceSubscriptionStoreContract(name: string, make: () => Promise<CsourceSubscriptionHarness>): void {
  describe(`CsourceSubscriptionStore contract: ${name}`, () => {
    let h: CsourceSubscriptionHarness;
    const tA = parseTenant('tenant_a');
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('creates, reads, lists in creation order with count, and refuses duplicates per tenant', async () => {
      const a = sub(`${SUB}z`, { context: null, payload: { nested: [1, 'é', null] } });
      await h.store.createCsourceSubscription(tA, a);
      await h.store.createCsourceSubscription(tA, sub(`${SUB}a`));
      await h.store.createCsourceSubscription(DEFAULT_TENANT, sub(`${SUB}z`));
      assert.deepStrictEqual(await h.store.getCsourceSubscription(tA, a.id), a);
      await assert.rejects(h.store.createCsourceSubscription(tA, sub(`${SUB}a`)), (e: unknown) => e instanceof NgsiError && e.kind === 'AlreadyExists');
      const page = await h.store.listCsourceSubscriptions(tA, { limit: 1, offset: 0, count: true });
      assert.deepStrictEqual(ids(page.items), [`${SUB}z`]);
      assert.equal(page.total, 2);
      assert.deepStrictEqual(ids((await h.store.listCsourceSubscriptions(tA, { limit: 5, offset: 1, count: false })).items), [`${SUB}a`]);
      const all = (await h.store.allCsourceSubscriptions()).map((x) => `${x.tenant}/${x.sub.id}`).sort();
      assert.deepStrictEqual(all, [`/${SUB}z`, `${tA}/${SUB}a`, `${tA}/${SUB}z`].sort());
      // Entity subscriptions are another collection.
      assert.equal(await h.subscriptions.getSubscription(tA, a.id), null);
      assert.deepStrictEqual(await h.store.listCsourceSubscriptions(parseTenant('nobody'), { limit: 5, offset: 0, count: true }), { items: [], total: 0 });
    });

    it('updates atomically and bumps the version on definition changes only', async () => {
      await h.store.createCsourceSubscription(tA, sub(`${SUB}1`));
      const v0 = await h.store.csourceSubscriptionsVersion();
      const updated = await h.store.updateCsourceSubscription(tA, `${SUB}1`, (cur) => ({ ...cur, payload: { ...cur.payload, isActive: false }, modifiedAt: at(5) }));
      assert.equal(updated?.modifiedAt, at(5));
      assert.deepStrictEqual(await h.store.getCsourceSubscription(tA, `${SUB}1`), updated);
      const v1 = await h.store.csourceSubscriptionsVersion();
      assert.ok(v1 > v0);
      assert.deepStrictEqual(await h.store.updateCsourceSubscription(tA, `${SUB}1`, () => null), updated);
      assert.equal(await h.store.updateCsourceSubscription(tA, `${SUB}none`, (c) => c), null);
      await h.store.recordCsourceDelivery(tA, `${SUB}1`, { ok: false, at: at(6) });
      await h.store.recordCsourceDelivery(tA, `${SUB}1`, { ok: true, at: at(7) });
      assert.deepStrictEqual((await h.store.getCsourceSubscription(tA, `${SUB}1`))?.delivery, {
        timesSent: 2, timesFailed: 1, consecutiveFailures: 0, lastNotification: at(7), lastSuccess: at(7), lastFailure: at(6), status: 'ok',
      });
      assert.equal(await h.store.csourceSubscriptionsVersion(), v1);
    });

    it('deletes with its pending outbox rows, and only its own', async () => {
      await h.store.createCsourceSubscription(tA, sub(`${SUB}1`));
      const row = (id: string, subscriptionId: string) => ({
        id, tenant: tA, subscriptionId, endpoint: 'http://receiver.test/', message: { body: {}, headers: {} }, notBefore: T0, createdAt: T0,
      });
      await h.subscriptions.enqueue([row('urn:n:1', CSOURCE_OUTBOX_PREFIX + `${SUB}1`), row('urn:n:2', `${SUB}1`)]);
      const v = await h.store.csourceSubscriptionsVersion();
      assert.equal(await h.store.deleteCsourceSubscription(tA, `${SUB}1`), true);
      assert.ok((await h.store.csourceSubscriptionsVersion()) > v);
      assert.equal(await h.store.deleteCsourceSubscription(tA, `${SUB}1`), false);
      assert.equal(await h.store.getCsourceSubscription(tA, `${SUB}1`), null);
      assert.deepStrictEqual(ids(await h.subscriptions.claimDue('w', at(1000), 10, 1000, 10)), ['urn:n:2']);
    });
  });
}
