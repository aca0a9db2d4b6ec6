// Runs the EntityMapStore contract on SQLite (in memory and on a file), plus persistence across a reopen.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../../src/adapters/store-sqlite/sqlite-store.ts';
import { DEFAULT_TENANT } from '../../src/core/tenant.ts';
import { runEntityMapStoreContract } from './entity-map-contract.ts';

let root: string;
let counter = 0;
const freshPath = (): string => join(root, `db-${++counter}`, 'kend.db');
before(() => {
  root = mkdtempSync(join(tmpdir(), 'kend-emaps-sqlite-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

runEntityMapStoreContract('sqlite :memory:', async () => {
  const store = createSqliteStore({ path: ':memory:' });
  return { store: store.entityMaps, cleanup: () => store.close() };
});

runEntityMapStoreContract('sqlite file', async () => {
  const store = createSqliteStore({ path: freshPath() });
  return { store: store.entityMaps, cleanup: () => store.close() };
});

describe('SQLite EntityMap store specifics', () => {
  it('a map survives closing and reopening the database file', async () => {
    const path = freshPath();
    const head = { id: 'urn:ngsi-ld:EntityMap:1', expiresAt: '2030-01-01T01:00:00.000Z', createdAt: '2030-01-01T00:00:00.000Z', linkedMaps: {} };
    const first = createSqliteStore({ path });
    await first.entityMaps.createEntityMap(DEFAULT_TENANT, head, [{ entityId: 'urn:x:1', sources: ['@none'] }]);
    await first.close();
    const second = createSqliteStore({ path });
    try {
      assert.deepStrictEqual(await second.entityMaps.getEntityMap(DEFAULT_TENANT, head.id, '2030-01-01T00:30:00.000Z'), head);
      assert.equal((await second.entityMaps.readEntityMapEntries(DEFAULT_TENANT, head.id, -1, 10)).length, 1);
    } finally {
      await second.close();
    }
  });
});
