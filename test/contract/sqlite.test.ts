// Runs the store contract on SQLite (memory and file), plus SQLite-only durability, locking and migration tests.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/adapters/store-sqlite/sqlite-store.ts';
import { openDatabase, BUSY_TIMEOUT_MS } from '../../src/adapters/store-sqlite/database.ts';
import { LATEST_SCHEMA_VERSION } from '../../src/adapters/store-sqlite/migrations.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import { DEFAULT_TENANT, parseTenant } from '../../src/core/tenant.ts';
import type { EntityStore } from '../../src/ports/store.ts';
import { runStoreContract } from './store-contract.ts';

const T0 = '2024-01-02T03:04:05.678Z';
const NO_CREATE = { createTenant: false };

function entity(id: string): Entity {
  return { id, types: ['urn:T'], createdAt: T0, modifiedAt: T0, attrs: {} };
}

/** Appends one Property attribute to an existing entity in one read-modify-write. */
function appendAttr(store: EntityStore, id: string, name: string): Promise<void> {
  return store.writeEntity(
    DEFAULT_TENANT,
    id,
    (cur) => {
      if (cur === null) throw new Error(`missing ${id}`);
      const attr = { type: 'Property' as const, value: name, createdAt: T0, modifiedAt: T0 };
      return { put: { ...cur, attrs: { ...cur.attrs, [name]: [attr] } }, result: undefined };
    },
    NO_CREATE,
  );
}

let root: string;
let counter = 0;
const freshPath = (): string => join(root, `db-${++counter}`, 'kend.db');

before(() => {
  root = mkdtempSync(join(tmpdir(), 'kend-sqlite-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

runStoreContract('sqlite :memory:', async () => ({
  store: createSqliteStore({ path: ':memory:' }),
  cleanup: async () => {},
}));

runStoreContract('sqlite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kend-sqlite-contract-'));
  return {
    store: createSqliteStore({ path: join(dir, 'nested', 'kend.db') }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('SQLite store specifics', () => {
  it('configures WAL, synchronous=FULL, busy_timeout and foreign keys on file databases', () => {
    const db = openDatabase(freshPath());
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('synchronous', { simple: true }), 2);
      assert.equal(db.pragma('busy_timeout', { simple: true }), BUSY_TIMEOUT_MS);
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(db.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('keeps entities, tenants, types and contexts across close and reopen', async () => {
    const path = freshPath();
    const tenant = parseTenant('village');
    const first = createSqliteStore({ path });
    await first.writeEntity(tenant, 'urn:x:1', () => ({ put: entity('urn:x:1'), result: null }), { createTenant: true });
    await first.writeEntity(DEFAULT_TENANT, 'urn:x:2', () => ({ put: entity('urn:x:2'), result: null }), NO_CREATE);
    await first.putContext({ localId: 'c1', kind: 'Hosted', document: { '@context': {} }, createdAt: T0 });
    await first.close();

    const second = createSqliteStore({ path });
    try {
      assert.equal(await second.tenantExists(tenant), true);
      assert.deepStrictEqual(await second.getEntity(tenant, 'urn:x:1'), entity('urn:x:1'));
      assert.deepStrictEqual(await second.listEntities(DEFAULT_TENANT), [entity('urn:x:2')]);
      assert.equal((await second.getContext('c1'))?.kind, 'Hosted');
    } finally {
      await second.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      const types = db.prepare('SELECT tenant, id, type FROM entity_types ORDER BY tenant, id').all();
      assert.deepStrictEqual(types, [
        { tenant: '', id: 'urn:x:2', type: 'urn:T' },
        { tenant: 'village', id: 'urn:x:1', type: 'urn:T' },
      ]);
    } finally {
      db.close();
    }
  });

  it('maintains entity_types on replace and remove', async () => {
    const path = freshPath();
    const store = createSqliteStore({ path });
    const put = (e: Entity): Promise<null> =>
      store.writeEntity(DEFAULT_TENANT, e.id, () => ({ put: e, result: null }), NO_CREATE);
    await put({ ...entity('urn:x:1'), types: ['urn:A', 'urn:B'] });
    await put({ ...entity('urn:x:2'), types: ['urn:B'] });
    await put({ ...entity('urn:x:1'), types: ['urn:C'] });
    await store.writeEntity(DEFAULT_TENANT, 'urn:x:2', () => ({ remove: true, result: null }), NO_CREATE);
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.deepStrictEqual(db.prepare('SELECT id, type FROM entity_types').all(), [{ id: 'urn:x:1', type: 'urn:C' }]);
    } finally {
      db.close();
    }
  });

  it('two store instances on one file interleaving writes to one entity lose no update', async () => {
    const path = freshPath();
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    try {
      await a.writeEntity(DEFAULT_TENANT, 'urn:x:shared', () => ({ put: entity('urn:x:shared'), result: null }), NO_CREATE);
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 40; i++) writes.push(appendAttr(i % 2 === 0 ? a : b, 'urn:x:shared', `urn:attr:${i}`));
      await Promise.all(writes);
      const fromA = await a.getEntity(DEFAULT_TENANT, 'urn:x:shared');
      const fromB = await b.getEntity(DEFAULT_TENANT, 'urn:x:shared');
      assert.deepStrictEqual(fromA, fromB);
      assert.equal(Object.keys(fromA?.attrs ?? {}).length, 40);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('two processes writing one entity of one file lose no update (busy_timeout + BEGIN IMMEDIATE)', async () => {
    const path = freshPath();
    const setup = createSqliteStore({ path });
    await setup.writeEntity(DEFAULT_TENANT, 'urn:x:proc', () => ({ put: entity('urn:x:proc'), result: null }), NO_CREATE);
    await setup.close();

    const perProcess = 150;
    const moduleUrl = pathToFileURL(join(import.meta.dirname, '../../src/adapters/store-sqlite/sqlite-store.ts')).href;
    const script = `
      const { createSqliteStore } = await import(${JSON.stringify(moduleUrl)});
      const [path, tag, n] = process.argv.slice(1);
      const store = createSqliteStore({ path });
      // Start both writers together: report ready, then wait for the parent's go line on stdin.
      process.stdout.write('ready\\n');
      await new Promise((resolve) => process.stdin.once('data', resolve));
      for (let i = 0; i < Number(n); i++) {
        await store.writeEntity('', 'urn:x:proc', (cur) => ({
          put: { ...cur, attrs: { ...cur.attrs, ['urn:' + tag + ':' + i]: [{ type: 'Property', value: i,
            createdAt: cur.createdAt, modifiedAt: cur.createdAt }] } },
          result: null,
        }), { createTenant: false });
      }
      await store.close();
    `;
    const children = ['p1', 'p2'].map((tag) =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, path, tag, String(perProcess)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    const ready = children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.on('error', reject);
          child.stdout.once('data', () => resolve());
        }),
    );
    const exits = children.map(
      (child) => new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))),
    );
    await Promise.all(ready);
    for (const child of children) child.stdin.end('go\n');
    assert.deepStrictEqual(await Promise.all(exits), [0, 0]);

    const store = createSqliteStore({ path });
    try {
      const final = await store.getEntity(DEFAULT_TENANT, 'urn:x:proc');
      assert.equal(Object.keys(final?.attrs ?? {}).length, 2 * perProcess);
    } finally {
      await store.close();
    }
  });

  it('applies migrations once: reopening keeps user_version and the schema', async () => {
    const path = freshPath();
    await createSqliteStore({ path }).close();
    await createSqliteStore({ path }).close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
      assert.deepStrictEqual(db.prepare('SELECT name FROM tenants').all(), [{ name: '' }]);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      assert.deepStrictEqual(tables, [
        'attr_values',
        'contexts',
        'csource_subscriptions',
        'entities',
        'entity_map_entries',
        'entity_maps',
        'entity_types',
        'geo_items',
        'geo_rtree',
        'geo_rtree_node',
        'geo_rtree_parent',
        'geo_rtree_rowid',
        'kend_meta',
        'outbox',
        'registrations',
        'sqlite_sequence',
        'subscriptions',
        'temporal_attrs',
        'temporal_entities',
        'temporal_instances',
        'temporal_rollups',
        'tenants',
        'value_paths',
      ]);
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer schema version', () => {
    const path = freshPath();
    openDatabase(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => createSqliteStore({ path }), /newer than this build supports/);
  });

  it('rejects an invalid decision without writing', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    try {
      await assert.rejects(
        store.writeEntity(DEFAULT_TENANT, 'urn:x:1', () => ({ put: entity('urn:x:other'), result: null }), NO_CREATE),
        /differs/,
      );
      await assert.rejects(
        store.writeEntity(DEFAULT_TENANT, 'urn:x:1', () => ({ put: entity('urn:x:1'), remove: true, result: null }), NO_CREATE),
        /both put and remove/,
      );
      assert.deepStrictEqual(await store.listEntities(DEFAULT_TENANT), []);
    } finally {
      await store.close();
    }
  });
});
