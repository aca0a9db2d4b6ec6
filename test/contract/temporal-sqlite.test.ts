// Runs the TemporalStore contract on SQLite (memory and file), plus SQLite-only tests: the history write
// failing rolls the entity write back, and a v3 database gains the temporal schema on upgrade.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/adapters/store-sqlite/sqlite-store.ts';
import { applyMigrations, MIGRATIONS } from '../../src/adapters/store-sqlite/migrations.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import type { RecordedInstance } from '../../src/core/temporal/model.ts';
import { DEFAULT_TENANT } from '../../src/core/tenant.ts';
import { runTemporalStoreContract } from './temporal-contract.ts';

runTemporalStoreContract('sqlite :memory:', async () => ({
  store: createSqliteStore({ path: ':memory:' }),
  cleanup: async () => {},
}));

runTemporalStoreContract('sqlite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kend-temporal-contract-'));
  return {
    store: createSqliteStore({ path: join(dir, 'kend.db') }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

const T0 = '2024-01-01T00:00:00.000Z';
const ATTR = 'https://example.org/temperature';
const entity = (id: string): Entity => ({ id, types: ['urn:T'], createdAt: T0, modifiedAt: T0, attrs: {} });
const instance = (instanceId: string, value: number): RecordedInstance => ({ type: 'Property', value, observedAt: T0, createdAt: T0, modifiedAt: T0, instanceId });
const ALL = { window: { property: 'createdAt' as const } };
const PAGE = { limit: 10, offset: 0, count: false };

describe('SQLite temporal store specifics', () => {
  it('a history append that fails (an instanceId recorded twice) rolls the entity write back', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    try {
      const write = (id: string, instanceId: string) =>
        store.writeEntity(
          DEFAULT_TENANT,
          id,
          () => ({ put: entity(id), result: null, history: { entity: { id, types: ['urn:T'], createdAt: T0, modifiedAt: T0 }, instances: [{ attr: ATTR, instance: instance(instanceId, 1) }] } }),
          { createTenant: false },
        );
      await write('urn:e:1', 'urn:ngsi-ld:i:1');
      await assert.rejects(write('urn:e:2', 'urn:ngsi-ld:i:1'), /UNIQUE/);
      assert.equal(await store.getEntity(DEFAULT_TENANT, 'urn:e:2'), null);
      assert.equal(await store.temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:e:2'), null);
      const page = await store.temporal.queryTemporal(DEFAULT_TENANT, ALL, { instanceLimit: 10 }, PAGE);
      assert.deepStrictEqual(page.entities.map((e) => e.entity.id), ['urn:e:1']);
    } finally {
      await store.close();
    }
  });

  it('upgrades a version 3 database holding entities: the temporal schema is added and works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kend-temporal-upgrade-'));
    const path = join(dir, 'kend.db');
    try {
      const v3 = new Database(path);
      applyMigrations(v3, MIGRATIONS.slice(0, 3));
      v3.prepare('INSERT INTO entities (tenant, id, types, created_at, modified_at, doc) VALUES (?, ?, ?, ?, ?, ?)').run(
        '',
        'urn:e:old',
        '["urn:T"]',
        T0,
        T0,
        JSON.stringify(entity('urn:e:old')),
      );
      v3.close();
      const old = createSqliteStore({ path });
      await old.writeEntity(
        DEFAULT_TENANT,
        'urn:e:new',
        () => ({ put: entity('urn:e:new'), result: null, history: { entity: { id: 'urn:e:new', types: ['urn:T'], createdAt: T0, modifiedAt: T0 }, instances: [{ attr: ATTR, instance: instance('urn:ngsi-ld:i:2', 2) }] } }),
        { createTenant: false },
      );
      await old.close();
      const reopened = createSqliteStore({ path });
      try {
        assert.notEqual(await reopened.getEntity(DEFAULT_TENANT, 'urn:e:old'), null);
        const page = await reopened.temporal.queryTemporal(DEFAULT_TENANT, ALL, { instanceLimit: 10 }, PAGE);
        assert.deepStrictEqual(page.entities.map((e) => [e.entity.id, e.attrs[ATTR]?.map((i) => i.value)]), [['urn:e:new', [2]]]);
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
