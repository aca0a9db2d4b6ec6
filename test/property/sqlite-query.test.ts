// The SQLite store's query compilation (issue 4 §3, §7): the differential suite on every strategy (value
// index or JSON1, scan or index-driven plans), the compiler's output shape (placeholders only), the query
// plans of the main shapes (indexes, not scans), and the v1 → v2 migration of a database holding entities.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runQueryDifferential, checkQuery } from './query-differential.ts';
import { createRng, genEntity, genIds, genQuery, HOSTILE_STRINGS } from './query-generators.ts';
import { hostileQueries } from './query-hostile.ts';
import { createSqliteStore, type SqliteStoreOptions } from '../../src/adapters/store-sqlite/sqlite-store.ts';
import { MIGRATIONS, applyMigrations } from '../../src/adapters/store-sqlite/migrations.ts';
import { compileQuery } from '../../src/adapters/store-sqlite/query-compile.ts';
import { driverCandidates } from '../../src/adapters/store-sqlite/query-drivers.ts';
import { registerSqlFunctions } from '../../src/adapters/store-sqlite/sql-functions.ts';
import { openDatabase } from '../../src/adapters/store-sqlite/database.ts';
import type { EntityQuery } from '../../src/core/query/entity-query.ts';
import { DEFAULT_TENANT, parseTenant } from '../../src/core/tenant.ts';

const memory = (extra: Omit<SqliteStoreOptions, 'path'> = {}) => async () => ({
  store: createSqliteStore({ path: ':memory:', ...extra }),
  cleanup: async () => {},
});

runQueryDifferential('sqlite :memory:', memory());
runQueryDifferential('sqlite, every q path through JSON1', memory({ compile: { forceJson: true } }), { seeds: 2, pagingEntities: 0 });
runQueryDifferential('sqlite, always scanning in insertion order', memory({ plan: 'scan' }), { seeds: 1, pagingEntities: 2000 });
runQueryDifferential('sqlite, always driven by an index', memory({ plan: 'drive' }), { seeds: 2, pagingEntities: 2000 });

const NS = 'https://kend.test/ns/';
const temperature = { attr: `${NS}temperature`, sub: [] };
const SHAPES: Record<string, EntityQuery> = {
  'type': { selectors: [{ type: { op: 'type', name: `${NS}Room` } }] },
  'type and q comparison': { selectors: [{ type: { op: 'type', name: `${NS}Room` } }], q: { type: 'compare', path: temperature, op: '>', value: { kind: 'number', value: 20 } } },
  'q string equality': { q: { type: 'compare', path: { attr: `${NS}status`, sub: [] }, op: '==', value: { kind: 'string', value: 'on' } } },
  'id list': { selectors: [{ ids: ['urn:a', 'urn:b'] }] },
  'idPattern prefix': { selectors: [{ idPattern: { source: '^urn:ngsi-ld:Room:' } }] },
  'geo near': { geo: { georel: { op: 'near', limit: 'maxDistance', metres: 1000 }, geometry: { type: 'Point', coordinates: [-3.7, 40.4] }, geoproperty: 'https://uri.etsi.org/ngsi-ld/location' } },
};

describe('SQLite query compiler', () => {
  it('puts every value of every filter in bound parameters, never in the SQL text', () => {
    const rng = createRng(77);
    const ids = genIds(rng, 50);
    const queries: EntityQuery[] = [...hostileQueries(ids).map(([, q]) => q), ...Array.from({ length: 300 }, () => genQuery(rng, ids))];
    for (const query of queries) {
      for (const forceJson of [false, true]) {
        const drivers = driverCandidates('tenant_x', query);
        const compiled = compileQuery('tenant_x', query, { limit: 7, offset: 3, count: true }, { forceJson, selectDriver: drivers[0], countDriver: drivers[0] });
        for (const s of [compiled.select, compiled.count!]) {
          assert.equal(s.text.split('?').length - 1, s.values.length, 'one placeholder per value');
          assert.ok(!s.text.includes('tenant_x'), 'the tenant is bound');
          assert.ok(!/\$\.attrs\./.test(s.text), 'JSON paths are bound');
          const outsideLiterals = s.text.replace(/'[^']*'/g, "''");
          for (const h of HOSTILE_STRINGS.filter((x) => x.length > 2)) assert.ok(!outsideLiterals.includes(h), `hostile text ${JSON.stringify(h)} reached the SQL`);
          // Only literals of the compiler: JSON paths it writes itself, and SQL keywords.
          for (const literal of s.text.match(/'[^']*'/g) ?? []) assert.match(literal, /^'(?:\$[.\w"@]*|[A-Za-z]*|\[\]|\/)'$/, `unexpected literal ${literal}`);
        }
      }
    }
  });

  it('uses indexes for the main query shapes (plans shown in the test output)', () => {
    const db = openDatabase(':memory:');
    registerSqlFunctions(db);
    try {
      for (const [name, query] of Object.entries(SHAPES)) {
        const drivers = driverCandidates('t', query);
        assert.ok(drivers.length > 0, `${name}: an index can drive it`);
        const compiled = compileQuery('t', query, { limit: 20, offset: 0, count: false }, { selectDriver: drivers[0] });
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${compiled.select.text}`).all(...compiled.select.values) as { detail: string }[];
        const lines = plan.map((p) => p.detail);
        console.log(`plan for ${name} (driven by ${drivers[0].kind}):\n  ${lines.join('\n  ')}`);
        assert.ok(!lines.some((l) => /^SCAN (e|entities|attr_values|entity_types)\b/.test(l)), `${name}: no full table scan`);
        const scanPlan = compileQuery('t', query, { limit: 20, offset: 0, count: false });
        const scanLines = (db.prepare(`EXPLAIN QUERY PLAN ${scanPlan.select.text}`).all(...scanPlan.select.values) as { detail: string }[]).map((p) => p.detail);
        assert.ok(!scanLines.some((l) => /^SCAN (e|entities|attr_values|entity_types)\b/.test(l)), `${name}: no full table scan in the in-order plan`);
      }
    } finally {
      db.close();
    }
  });
});

describe('SQLite schema v2 migration', () => {
  it('migrates a v1 database holding entities: index tables are backfilled and queries agree with the reference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kend-migrate-'));
    const path = join(dir, 'kend.db');
    try {
      // A v1 database written the way the v1 store wrote it.
      const v1 = new Database(path);
      v1.pragma('foreign_keys = ON');
      applyMigrations(v1, MIGRATIONS.slice(0, 1));
      const rng = createRng(4711);
      const tenants = [DEFAULT_TENANT, parseTenant('old_tenant')];
      v1.prepare("INSERT INTO tenants (name, created_at) VALUES ('old_tenant', '2024-01-01T00:00:00Z')").run();
      const ids = genIds(rng, 120);
      let seq = 0;
      for (const tenant of tenants) {
        for (const id of ids) {
          const e = genEntity(rng, id);
          v1.prepare('INSERT INTO entities (tenant, id, types, created_at, modified_at, doc, seq) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
            tenant, id, JSON.stringify(e.types), e.createdAt, e.modifiedAt, JSON.stringify(e), ++seq,
          );
          for (const t of new Set(e.types)) v1.prepare('INSERT INTO entity_types (tenant, id, type) VALUES (?, ?, ?)').run(tenant, id, t);
        }
      }
      assert.equal(v1.pragma('user_version', { simple: true }), 1);
      v1.close();

      const store = createSqliteStore({ path });
      try {
        for (const tenant of tenants) {
          const all = await store.listEntities(tenant);
          assert.equal(all.length, ids.length);
          for (let i = 0; i < 150; i++) {
            await checkQuery(store, tenant, genQuery(rng, ids), { limit: 25, offset: rng.int(0, 10), count: true }, `migrated query #${i}`, all);
          }
        }
        // Writes after the migration maintain the indexes; deleting an entity removes its index rows.
        await store.writeEntity(DEFAULT_TENANT, ids[0], () => ({ remove: true, result: null }), { createTenant: false });
        await store.writeEntity(DEFAULT_TENANT, ids[1], () => ({ put: genEntity(rng, ids[1]), result: null }), { createTenant: false });
        const all = await store.listEntities(DEFAULT_TENANT);
        for (let i = 0; i < 100; i++) await checkQuery(store, DEFAULT_TENANT, genQuery(rng, ids), { limit: 25, offset: 0, count: true }, `after writes #${i}`, all);
      } finally {
        await store.close();
      }
      const db = new Database(path, { readonly: true });
      try {
        assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
        const orphans = db.prepare('SELECT count(*) FROM attr_values v WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.tenant = v.tenant AND e.id = v.id)').pluck().get();
        assert.equal(orphans, 0);
        const geoOrphans = db.prepare('SELECT count(*) FROM geo_rtree r WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.tenant = r.tenant AND e.id = r.id)').pluck().get();
        assert.equal(geoOrphans, 0);
        assert.deepStrictEqual(db.pragma('foreign_key_check'), []);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
