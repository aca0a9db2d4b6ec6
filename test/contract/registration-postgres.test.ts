// Runs the RegistrationStore and CsourceSubscriptionStore contracts on PostgreSQL, plus PostgreSQL-only tests: ids PostgreSQL text cannot
// hold, and two nodes (pools) sharing the registrations.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { createPostgresStore } from '../../src/adapters/store-postgres/postgres-store.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { DEFAULT_TENANT, parseTenant } from '../../src/core/tenant.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/postgres.ts';
import { runCsourceSubscriptionStoreContract } from './csource-subscription-contract.ts';
import { runRegistrationStoreContract } from './registration-contract.ts';

const T0 = '2030-01-01T00:00:00.000Z';
const clock: Clock = { nowIso: () => T0, nowMs: () => Date.parse(T0) };

const availability = await postgresAvailable();

if (!availability.ok) {
  // A skipped describe reports no test at all: these placeholders make the skip and its reason visible.
  it('runs the RegistrationStore and CsourceSubscriptionStore contracts on PostgreSQL', { skip: availability.reason }, () => {});
  it('runs the PostgreSQL registration store specifics', { skip: availability.reason }, () => {});
} else {
  const baseUrl = availability.baseUrl;

  describe('PostgreSQL registration store', () => {
    let db: TestDatabase;
    let admin: Client;

    before(async () => {
      db = await createTestDatabase(baseUrl);
      await (await createPostgresStore({ url: db.url })).close(); // migrations, incl. the registration schema (v5)
      admin = new Client({ connectionString: db.url });
      await admin.connect();
    });
    after(async () => {
      await admin?.end();
      await db?.drop();
    });

    const reset = async (): Promise<void> => {
      await admin.query("TRUNCATE registrations, csource_subscriptions, subscriptions, outbox; DELETE FROM tenants WHERE name <> ''");
    };
    const open = () => createPostgresStore({ url: db.url, poolSize: 4, clock });

    runRegistrationStoreContract('postgres', async () => {
      await reset();
      const store = await open();
      return { store: store.registrations, outbox: store.subscriptions, cleanup: () => store.close() };
    });

    runCsourceSubscriptionStoreContract('postgres', async () => {
      await reset();
      const store = await open();
      return { store: store.csourceSubscriptions, subscriptions: store.subscriptions, cleanup: () => store.close() };
    });

    describe('PostgreSQL registration store specifics', () => {
      it('round-trips ids PostgreSQL text cannot hold as such (U+0000, lone surrogates)', async () => {
        await reset();
        const store = await open();
        try {
          const odd = 'urn:x:\u0000\uD800\uFFFF';
          const reg = {
            id: odd, payload: { id: odd, type: 'ContextSourceRegistration', note: 'a\u0000b' }, createdAt: T0, modifiedAt: T0,
            forwarding: { timesSent: 0, timesFailed: 0 },
          };
          await store.registrations.createRegistration(DEFAULT_TENANT, reg);
          assert.deepStrictEqual(await store.registrations.getRegistration(DEFAULT_TENANT, odd), reg);
          assert.deepStrictEqual((await store.registrations.queryRegistrations(DEFAULT_TENANT, { now: T0 }, { limit: 5, offset: 0, count: false })).items, [reg]);
          assert.equal(await store.registrations.deleteRegistration(DEFAULT_TENANT, odd), true);
        } finally {
          await store.close();
        }
      });

      it('two nodes see each other’s registrations and version changes; creating one id twice at once: one wins', async () => {
        await reset();
        const [a, b] = await Promise.all([open(), open()]);
        try {
          const tenant = parseTenant('region');
          const reg = (n: number) => ({
            id: `urn:ngsi-ld:ContextSourceRegistration:${n}`, payload: { n }, createdAt: T0, modifiedAt: T0, forwarding: { timesSent: 0, timesFailed: 0 },
          });
          const v0 = await b.registrations.registrationsVersion();
          await a.registrations.createRegistration(tenant, reg(1));
          assert.ok((await b.registrations.registrationsVersion()) > v0);
          assert.deepStrictEqual(await b.registrations.getRegistration(tenant, reg(1).id), reg(1));
          const results = await Promise.allSettled([a.registrations.createRegistration(tenant, reg(2)), b.registrations.createRegistration(tenant, reg(2))]);
          assert.deepStrictEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
          assert.equal((await a.registrations.queryRegistrations(tenant, { now: T0 }, { limit: 10, offset: 0, count: true })).total, 2);
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      });
    });
  });
}
