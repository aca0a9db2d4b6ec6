// The RegistrationStore contract (issue 7 item 1): one node:test suite the SQLite and PostgreSQL adapters run.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { OwedNotifications, RegistrationStore, StoredRegistration } from '../../src/ports/registration-store.ts';
import type { OutboxEntry, SubscriptionStore } from '../../src/ports/subscription-store.ts';
import { DEFAULT_TENANT, parseTenant } from '../../src/core/tenant.ts';
import { NgsiError } from '../../src/core/errors.ts';

export interface RegistrationHarness {
  store: RegistrationStore;
  /** The outbox of the same database, to see the notifications registration changes owe. */
  outbox: Pick<SubscriptionStore, 'claimDue'>;
  cleanup: () => Promise<void>;
}

const T0 = '2030-01-01T00:00:00.000Z';
const at = (ms: number): string => new Date(Date.parse(T0) + ms).toISOString();
const REG = 'urn:ngsi-ld:ContextSourceRegistration:';

function registration(id: string, over: Partial<StoredRegistration> = {}): StoredRegistration {
  return {
    id,
    payload: {
      id,
      type: 'ContextSourceRegistration',
      information: [{ entities: [{ type: 'https://example.org/WeatherObserved' }] }],
      endpoint: 'http://village.test:1026',
    },
    createdAt: T0,
    modifiedAt: T0,
    forwarding: { timesSent: 0, timesFailed: 0 },
    ...over,
  };
}

const ids = (rows: { id: string }[]): string[] => rows.map((r) => r.id);
const isAlreadyExists = (err: unknown): boolean => err instanceof NgsiError && err.kind === 'AlreadyExists' && err.status === 409;
const all = { limit: 10_000, offset: 0, count: true };

/** Registers the contract; `make` must return a fresh, empty store on every call. */
export function runRegistrationStoreContract(name: string, make: () => Promise<RegistrationHarness>): void {
  describe(`RegistrationStore contract: ${name}`, () => {
    let store: RegistrationStore;
    let outbox: Pick<SubscriptionStore, 'claimDue'>;
    let cleanup: () => Promise<void>;
    const tA = parseTenant('tenant_a');
    const tB = parseTenant('tenant-b');

    beforeEach(async () => {
      ({ store, outbox, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('creates a registration (in a new tenant too) and reads back a deep-equal copy', async () => {
      const reg = registration(`${REG}1`, {
        modifiedAt: at(1000),
        payload: {
          ...registration(`${REG}1`).payload,
          'https://example.org/note': { nested: [1, 'two', null, true, 'é \u2028 \ud83d\ude00'] },
          expiresAt: '2031-01-01T00:00:00.123456Z',
        },
        forwarding: { timesSent: 3, timesFailed: 1, lastSuccess: at(5), lastFailure: at(3), status: 'ok' },
      });
      await store.createRegistration(tA, reg);
      assert.deepStrictEqual(await store.getRegistration(tA, reg.id), reg);
      const plain = registration(`${REG}2`);
      await store.createRegistration(DEFAULT_TENANT, plain);
      assert.deepStrictEqual(await store.getRegistration(DEFAULT_TENANT, plain.id), plain);
      assert.equal(await store.getRegistration(tA, `${REG}missing`), null);
    });

    it('refuses a duplicate id in one tenant with AlreadyExists (409) and allows it in another tenant', async () => {
      await store.createRegistration(tA, registration(`${REG}1`));
      await assert.rejects(store.createRegistration(tA, registration(`${REG}1`, { modifiedAt: at(5) })), isAlreadyExists);
      await store.createRegistration(tB, registration(`${REG}1`, { modifiedAt: at(7) }));
      assert.equal((await store.getRegistration(tA, `${REG}1`))?.modifiedAt, T0);
      assert.equal((await store.getRegistration(tB, `${REG}1`))?.modifiedAt, at(7));
    });

    it('keeps tenants apart in get and query', async () => {
      await store.createRegistration(tA, registration(`${REG}a`));
      await store.createRegistration(tB, registration(`${REG}b`));
      assert.equal(await store.getRegistration(tA, `${REG}b`), null);
      assert.equal(await store.getRegistration(DEFAULT_TENANT, `${REG}a`), null);
      assert.deepStrictEqual(ids((await store.queryRegistrations(tA, { now: T0 }, all)).items), [`${REG}a`]);
      assert.deepStrictEqual(await store.queryRegistrations(DEFAULT_TENANT, { now: T0 }, all), { items: [], total: 0 });
      assert.deepStrictEqual(await store.queryRegistrations(parseTenant('nobody'), { now: T0 }, all), { items: [], total: 0 });
    });

    it('queries in creation order with limit, offset and an optional total, also after updates', async () => {
      const order = ['z', 'a', 'm', 'b'].map((s) => `${REG}${s}`);
      for (const id of order) await store.createRegistration(tA, registration(id));
      await store.updateRegistration(tA, order[0], (cur) => ({ ...cur, modifiedAt: at(9) }));
      const first = await store.queryRegistrations(tA, { now: T0 }, { limit: 3, offset: 0, count: true });
      assert.deepStrictEqual(ids(first.items), order.slice(0, 3));
      assert.equal(first.total, 4);
      const rest = await store.queryRegistrations(tA, { now: T0 }, { limit: 3, offset: 3, count: false });
      assert.deepStrictEqual(ids(rest.items), order.slice(3));
      assert.equal(rest.total, undefined);
      assert.deepStrictEqual(await store.queryRegistrations(tA, { now: T0 }, { limit: 3, offset: 10, count: true }), { items: [], total: 4 });
      assert.deepStrictEqual(await store.queryRegistrations(tA, { now: T0 }, { limit: 0, offset: 0, count: true }), { items: [], total: 4 });
    });

    it('applies the filter before paging and counting', async () => {
      for (let i = 0; i < 10; i++) {
        const reg = registration(`${REG}${i}`);
        reg.payload.mode = i % 3 === 0 ? 'exclusive' : 'inclusive';
        await store.createRegistration(tA, reg);
      }
      const exclusive = (r: StoredRegistration): boolean => r.payload.mode === 'exclusive';
      const page = await store.queryRegistrations(tA, { now: T0, matches: exclusive }, { limit: 2, offset: 1, count: true });
      assert.deepStrictEqual(ids(page.items), [`${REG}3`, `${REG}6`]);
      assert.equal(page.total, 4);
      const noCount = await store.queryRegistrations(tA, { now: T0, matches: exclusive }, { limit: 2, offset: 0, count: false });
      assert.deepStrictEqual(ids(noCount.items), [`${REG}0`, `${REG}3`]);
    });

    it('leaves out registrations whose expiresAt is not after now, to the microsecond', async () => {
      const expiring = (id: string, expiresAt: string): StoredRegistration => {
        const reg = registration(id);
        reg.payload.expiresAt = expiresAt;
        return reg;
      };
      await store.createRegistration(tA, expiring(`${REG}past`, at(-1)));
      await store.createRegistration(tA, expiring(`${REG}now`, T0));
      await store.createRegistration(tA, expiring(`${REG}micro`, '2030-01-01T00:00:00.000001Z'));
      await store.createRegistration(tA, expiring(`${REG}later`, at(1)));
      await store.createRegistration(tA, registration(`${REG}never`));
      const live = await store.queryRegistrations(tA, { now: T0 }, all);
      assert.deepStrictEqual(ids(live.items), [`${REG}micro`, `${REG}later`, `${REG}never`]);
      assert.equal(live.total, 3);
      assert.deepStrictEqual(ids((await store.queryRegistrations(tA, { now: at(1) }, all)).items), [`${REG}never`]);
      // get returns expired ones: the caller decides (and deletes them).
      assert.equal((await store.getRegistration(tA, `${REG}past`))?.id, `${REG}past`);
      // Renewing the expiry brings a registration back.
      await store.updateRegistration(tA, `${REG}past`, (cur) => {
        const payload = { ...cur.payload };
        delete payload.expiresAt;
        return { ...cur, payload };
      });
      assert.deepStrictEqual(ids((await store.queryRegistrations(tA, { now: at(1) }, all)).items), [`${REG}past`, `${REG}never`]);
    });

    it('pages consistently over many registrations', async () => {
      const n = 1203;
      for (let i = 0; i < n; i++) await store.createRegistration(tA, registration(`${REG}${String(i).padStart(5, '0')}`));
      const odd = (r: StoredRegistration): boolean => Number(r.id.slice(-5)) % 2 === 1;
      const page = await store.queryRegistrations(tA, { now: T0, matches: odd }, { limit: 5, offset: 598, count: true });
      assert.deepStrictEqual(ids(page.items), [1197, 1199, 1201].map((i) => `${REG}0${i}`));
      assert.equal(page.total, 601);
      const whole = await store.queryRegistrations(tA, { now: T0 }, { limit: 1000, offset: 1000, count: false });
      assert.equal(whole.items.length, 203);
      assert.equal(whole.items[0]!.id, `${REG}01000`);
    });

    it('updates atomically; a change returning null writes nothing; an absent id yields null', async () => {
      await store.createRegistration(tA, registration(`${REG}1`));
      const v0 = await store.registrationsVersion();
      const updated = await store.updateRegistration(tA, `${REG}1`, (cur) => ({
        ...cur,
        payload: { ...cur.payload, description: 'village one', expiresAt: '2040-01-01T00:00:00Z' },
        modifiedAt: at(5),
      }));
      const expected = { ...registration(`${REG}1`), payload: { ...registration(`${REG}1`).payload, description: 'village one', expiresAt: '2040-01-01T00:00:00Z' }, modifiedAt: at(5) };
      assert.deepStrictEqual(updated, expected);
      assert.deepStrictEqual(await store.getRegistration(tA, `${REG}1`), expected);
      const v1 = await store.registrationsVersion();
      assert.ok(v1 > v0);
      assert.deepStrictEqual(await store.updateRegistration(tA, `${REG}1`, () => null), expected);
      assert.equal(await store.registrationsVersion(), v1);
      let called = false;
      const absent = await store.updateRegistration(tB, `${REG}1`, (cur) => {
        called = true;
        return cur;
      });
      assert.equal(absent, null);
      assert.equal(called, false);
    });

    it('deletes: true when it existed, then false; only the tenant’s copy goes', async () => {
      await store.createRegistration(tA, registration(`${REG}1`));
      await store.createRegistration(tB, registration(`${REG}1`));
      const v0 = await store.registrationsVersion();
      assert.equal(await store.deleteRegistration(tA, `${REG}1`), true);
      assert.ok((await store.registrationsVersion()) > v0);
      const v1 = await store.registrationsVersion();
      assert.equal(await store.deleteRegistration(tA, `${REG}1`), false);
      assert.equal(await store.registrationsVersion(), v1);
      assert.equal(await store.getRegistration(tA, `${REG}1`), null);
      assert.notEqual(await store.getRegistration(tB, `${REG}1`), null);
    });

    it('records forwarding outcomes on the status members without a definition change', async () => {
      await store.createRegistration(tA, registration(`${REG}1`));
      const v = await store.registrationsVersion();
      await store.recordForwarding(tA, `${REG}1`, { ok: true, at: at(1) });
      await store.recordForwarding(tA, `${REG}1`, { ok: false, at: at(2) });
      assert.deepStrictEqual((await store.getRegistration(tA, `${REG}1`))?.forwarding, {
        timesSent: 2, timesFailed: 1, lastSuccess: at(1), lastFailure: at(2), status: 'failed',
      });
      await store.recordForwarding(tA, `${REG}1`, { ok: true, at: at(3) });
      assert.deepStrictEqual((await store.getRegistration(tA, `${REG}1`))?.forwarding, {
        timesSent: 3, timesFailed: 1, lastSuccess: at(3), lastFailure: at(2), status: 'ok',
      });
      await store.recordForwarding(tA, `${REG}missing`, { ok: true, at: at(4) });
      assert.equal(await store.registrationsVersion(), v);
    });

    describe('owed notifications', () => {
      const calls: [string | null, string | null][] = [];
      let seq = 0;
      const owed: OwedNotifications = (before, after) => {
        calls.push([before?.modifiedAt ?? null, after?.modifiedAt ?? null]);
        const id = `urn:ngsi-ld:Notification:${String(++seq).padStart(4, '0')}`;
        const entry: OutboxEntry = {
          id, tenant: tA, subscriptionId: 'csourceSubscription|urn:x:s', endpoint: 'http://receiver.test/',
          message: { body: { before: before?.id ?? null, after: after?.id ?? null }, headers: {} }, notBefore: T0, createdAt: T0,
        };
        return [entry];
      };
      const claimed = async (): Promise<unknown[]> => (await outbox.claimDue('w', at(60_000), 100, 60_000, 100)).map((r) => r.message.body);

      it('create, update and delete write the owed entries with the change, seeing the states before and after', async () => {
        calls.length = 0;
        await store.createRegistration(tA, registration(`${REG}1`), owed);
        await store.updateRegistration(tA, `${REG}1`, (cur) => ({ ...cur, modifiedAt: at(5) }), owed);
        assert.equal(await store.deleteRegistration(tA, `${REG}1`, owed), true);
        assert.deepStrictEqual(calls, [[null, T0], [T0, at(5)], [at(5), null]]);
        assert.deepStrictEqual(await claimed(), [
          { before: null, after: `${REG}1` },
          { before: `${REG}1`, after: `${REG}1` },
          { before: `${REG}1`, after: null },
        ]);
      });

      it('nothing is owed by a change that does not happen; a throwing computation writes nothing at all', async () => {
        calls.length = 0;
        await store.createRegistration(tA, registration(`${REG}1`));
        await assert.rejects(store.createRegistration(tA, registration(`${REG}1`), owed), isAlreadyExists);
        assert.equal(await store.deleteRegistration(tA, `${REG}missing`, owed), false);
        assert.equal(await store.updateRegistration(tA, `${REG}missing`, (cur) => cur, owed), null);
        assert.deepStrictEqual(await store.updateRegistration(tA, `${REG}1`, () => null, owed), registration(`${REG}1`));
        assert.deepStrictEqual(calls, []);
        const boom: OwedNotifications = () => {
          throw new Error('matcher failed');
        };
        await assert.rejects(store.createRegistration(tA, registration(`${REG}2`), boom), /matcher failed/);
        await assert.rejects(store.updateRegistration(tA, `${REG}1`, (cur) => ({ ...cur, modifiedAt: at(9) }), boom), /matcher failed/);
        await assert.rejects(store.deleteRegistration(tA, `${REG}1`, boom), /matcher failed/);
        assert.equal(await store.getRegistration(tA, `${REG}2`), null);
        assert.deepStrictEqual(await store.getRegistration(tA, `${REG}1`), registration(`${REG}1`));
        assert.deepStrictEqual(await claimed(), []);
      });
    });
  });
}
