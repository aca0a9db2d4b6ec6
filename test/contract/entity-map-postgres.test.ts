// Runs the EntityMapStore contract on PostgreSQL, plus two nodes (pools) sharing one map.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { createPostgresStore } from '../../src/adapters/store-postgres/postgres-store.ts';
import { DEFAULT_TENANT } from '../../src/core/tenant.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/postgres.ts';
import { runEntityMapStoreContract } from './entity-map-contract.ts';

const availability = await postgresAvailable();

if (!availability.ok) {
  // A skipped describe reports no test at all: this placeholder makes the skip and its reason visible.
  it('runs the EntityMapStore contract on PostgreSQL', { skip: availability.reason }, () => {});
} else {
  const baseUrl = availability.baseUrl;

  describe('PostgreSQL EntityMap store', () => {
    let db: TestDatabase;
    let admin: Client;

    before(async () => {
      db = await createTestDatabase(baseUrl);
      await (await createPostgresStore({ url: db.url })).close(); // migrations, incl. the EntityMap schema
      admin = new Client({ connectionString: db.url });
      await admin.connect();
    });
    after(async () => {
      await admin?.end();
      await db?.drop();
    });

    const open = () => createPostgresStore({ url: db.url, poolSize: 4 });

    runEntityMapStoreContract('postgres', async () => {
      await admin.query('TRUNCATE entity_maps, entity_map_entries');
      const store = await open();
      return { store: store.entityMaps, cleanup: () => store.close() };
    });

    it('two nodes share a map: one creates it, the other reads it and removes entries the first then misses', async () => {
      await admin.query('TRUNCATE entity_maps, entity_map_entries');
      const [a, b] = await Promise.all([open(), open()]);
      try {
        const head = { id: 'urn:ngsi-ld:EntityMap:shared', expiresAt: '2030-01-01T01:00:00.000Z', createdAt: '2030-01-01T00:00:00.000Z', linkedMaps: {} };
        const now = '2030-01-01T00:00:00.000Z';
        await a.entityMaps.createEntityMap(DEFAULT_TENANT, head, [1, 2, 3].map((n) => ({ entityId: `urn:x:${n}`, sources: ['@none'] })));
        assert.deepStrictEqual(await b.entityMaps.getEntityMap(DEFAULT_TENANT, head.id, now), head);
        await b.entityMaps.removeEntityMapEntries(DEFAULT_TENANT, head.id, ['urn:x:2']);
        assert.deepStrictEqual((await a.entityMaps.readEntityMapEntries(DEFAULT_TENANT, head.id, -1, 10)).map((e) => e.entityId), ['urn:x:1', 'urn:x:3']);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
}
