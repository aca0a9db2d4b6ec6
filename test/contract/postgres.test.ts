// Runs the store contract on PostgreSQL + PostGIS, plus Postgres-only migration, concurrency and tenancy tests.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Pool } from 'pg';
import { createPostgresStore } from '../../src/adapters/store-postgres/postgres-store.ts';
import { applyMigrations, LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/adapters/store-postgres/migrations.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import { DEFAULT_TENANT, parseTenant, type TenantId } from '../../src/core/tenant.ts';
import type { EntityStore } from '../../src/ports/store.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/postgres.ts';
import { runStoreContract } from './store-contract.ts';

const T0 = '2024-01-02T03:04:05.678Z';
const NO_CREATE = { createTenant: false };
const CREATE = { createTenant: true };

function entity(id: string, types: string[] = ['urn:T']): Entity {
  return { id, types, createdAt: T0, modifiedAt: T0, attrs: {} };
}

/** Appends one Property attribute to an existing entity in one read-modify-write. */
function appendAttr(store: EntityStore, id: string, name: string, value: number): Promise<void> {
  return store.writeEntity(
    DEFAULT_TENANT,
    id,
    (cur) => {
      if (cur === null) throw new Error(`missing ${id}`);
      const attr = { type: 'Property' as const, value, createdAt: T0, modifiedAt: T0 };
      return { put: { ...cur, attrs: { ...cur.attrs, [name]: [attr] } }, result: undefined };
    },
    NO_CREATE,
  );
}

/** Creates `id` when absent; reports what its (last) decide saw. */
function createOnce(store: EntityStore, id: string, seen?: (Entity | null)[]): Promise<'created' | 'exists'> {
  return store.writeEntity(
    DEFAULT_TENANT,
    id,
    (cur) => {
      seen?.push(cur);
      return cur === null ? { put: entity(id), result: 'created' } : { result: 'exists' };
    },
    NO_CREATE,
  );
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

async function waitFor(what: string, check: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const availability = await postgresAvailable();

if (!availability.ok) {
  // A skipped describe reports no test at all: these placeholders make the skip and its reason visible.
  it('runs the EntityStore contract on PostgreSQL', { skip: availability.reason }, () => {});
  it('runs the PostgreSQL-specific migration, concurrency and tenancy tests', { skip: availability.reason }, () => {});
} else {
  const baseUrl = availability.baseUrl;

  describe('PostgreSQL store', () => {
    // One database for the file, emptied before each test; tests needing a virgin database make their own.
    let db: TestDatabase;
    let admin: Client;
    const stores: EntityStore[] = [];
    const open = async (poolSize = 4): Promise<EntityStore> => {
      const store = await createPostgresStore({ url: db.url, poolSize });
      stores.push(store);
      return store;
    };

    before(async () => {
      db = await createTestDatabase(baseUrl);
      await (await createPostgresStore({ url: db.url })).close();
      admin = await connect(db.url);
    });
    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await admin?.end();
      await db?.drop();
    });

    const reset = async (): Promise<void> => {
      await admin.query("TRUNCATE entity_types, entity_attrs, entity_geo, entities, contexts, subscriptions, outbox, temporal_entities, temporal_instances, registrations, csource_subscriptions; DELETE FROM tenants WHERE name <> ''");
    };

    runStoreContract('postgres', async () => {
      await reset();
      return { store: await createPostgresStore({ url: db.url, poolSize: 4 }), cleanup: async () => {} };
    });

    describe('PostgreSQL store specifics', () => {
      it('applies migrations once when two nodes start on a fresh database at the same time', async () => {
        const fresh = await createTestDatabase(baseUrl);
        const check = await connect(fresh.url);
        try {
          const both = await Promise.all([createPostgresStore({ url: fresh.url }), createPostgresStore({ url: fresh.url })]);
          await Promise.all(both.map((s) => s.close()));
          await (await createPostgresStore({ url: fresh.url })).close();
          const versions = await check.query('SELECT version, description FROM schema_migrations ORDER BY version');
          assert.deepStrictEqual(
            versions.rows,
            MIGRATIONS.map((m) => ({ version: m.version, description: m.description })),
          );
          assert.equal(versions.rows.length, LATEST_SCHEMA_VERSION);
          const tables = await check.query(
            `SELECT table_name FROM information_schema.tables
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'spatial_ref_sys'
             ORDER BY table_name`,
          );
          assert.deepStrictEqual(
            tables.rows.map((r: { table_name: string }) => r.table_name),
            [
              'contexts', 'csource_subscriptions', 'entities', 'entity_attrs', 'entity_geo', 'entity_map_entries', 'entity_maps', 'entity_types', 'kend_meta', 'outbox', 'registrations', 'schema_migrations',
              'subscriptions', 'temporal_entities', 'temporal_instances', 'temporal_rollups', 'tenants',
            ],
          );
          assert.deepStrictEqual((await check.query('SELECT name FROM tenants')).rows, [{ name: '' }]);
          const postgis = await check.query("SELECT 1 FROM pg_extension WHERE extname = 'postgis'");
          assert.equal(postgis.rowCount, 1);
        } finally {
          await check.end();
          await fresh.drop();
        }
      });

      it('rolls a failing migration back entirely and refuses a schema newer than the build', async () => {
        const fresh = await createTestDatabase(baseUrl);
        const pool = new Pool({ connectionString: fresh.url, max: 1 });
        try {
          const broken = [...MIGRATIONS, { version: MIGRATIONS.length + 1, description: 'broken', sql: 'SELECT no_such_column' }];
          await assert.rejects(applyMigrations(pool, broken), /no_such_column/);
          const left = await pool.query("SELECT to_regclass('entities') AS e, to_regclass('schema_migrations') AS m");
          assert.deepStrictEqual(left.rows, [{ e: null, m: null }]);

          await (await createPostgresStore({ url: fresh.url })).close();
          await pool.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [LATEST_SCHEMA_VERSION + 1, 'future']);
          await assert.rejects(createPostgresStore({ url: fresh.url }), /newer than this build supports/);
        } finally {
          await pool.end();
          await fresh.drop();
        }
      });

      it('migration v7 marks the ordered rows of attributes with several ordered values in their entity as multi', async () => {
        const fresh = await createTestDatabase(baseUrl);
        const pool = new Pool({ connectionString: fresh.url, max: 1 });
        try {
          await applyMigrations(pool, MIGRATIONS.slice(0, 6)); // up to v6 (EntityMaps): the rows below are as schemas v5 and v6 wrote them
          // Side rows as schema v5 wrote them (seq, attr, src): two instances of t in entity 1; one value and
          // array elements in entity 2; two language strings in entity 3; one instance in entity 4.
          const rows: [number, string, string][] = [
            [1, 't', 'v'], [1, 't', 'v'], [1, 'u', 'v'],
            [2, 't', 'v'], [2, 'a', 'e'], [2, 'a', 'e'],
            [3, 'label', 'l'], [3, 'label', 'l'],
            [4, 't', 'v'], [4, 'r', 'r'], [4, 'r', 'r'],
          ];
          for (const [seq, attr, src] of rows) {
            await pool.query(
              `INSERT INTO entity_attrs (tenant, seq, attr, kind, head, src) VALUES ('', $1, $2, 'Property', true, $3)`,
              [seq, attr, src],
            );
          }
          await applyMigrations(pool);
          const marked = await pool.query<{ seq: string; attr: string }>(
            'SELECT seq::text AS seq, attr FROM entity_attrs WHERE multi ORDER BY seq, attr',
          );
          assert.deepStrictEqual(
            marked.rows.map((r) => `${r.seq}:${r.attr}`),
            ['1:t', '1:t', '3:label', '3:label'],
          );
        } finally {
          await pool.end();
          await fresh.drop();
        }
      });

      it('an update rewrites the side rows of the changed attributes only, leaving exactly those of the new version', async () => {
        await reset();
        const store = await open();
        const id = 'urn:x:side';
        const prop = (value: unknown, datasetId?: string) =>
          ({ type: 'Property' as const, value, createdAt: T0, modifiedAt: T0, ...(datasetId === undefined ? {} : { datasetId }) }) as Entity['attrs'][string][number];
        const geo = (lon: number) =>
          ({ type: 'GeoProperty' as const, value: { type: 'Point', coordinates: [lon, 40] }, createdAt: T0, modifiedAt: T0 }) as Entity['attrs'][string][number];
        const put = (e: Entity) => store.writeEntity(DEFAULT_TENANT, id, () => ({ put: e, result: null }), NO_CREATE);
        const sideRows = async () => {
          const attrs = await admin.query<{ r: string }>(
            `SELECT concat_ws('|', a.attr, a.kind, a.head, a.src, a.num, a.str, a.dtk, a.multi) AS r
             FROM entity_attrs a JOIN entities e ON e.seq = a.seq WHERE e.id = $1 ORDER BY 1`,
            [id],
          );
          const geos = await admin.query<{ r: string }>(
            `SELECT concat_ws('|', g.attr, g.instance_key, g.valid, ST_AsText(g.geom)) AS r
             FROM entity_geo g JOIN entities e ON e.seq = g.seq WHERE e.id = $1 ORDER BY 1`,
            [id],
          );
          return [...attrs.rows.map((x) => x.r), ...geos.rows.map((x) => x.r)];
        };
        const versions: Entity[] = [
          { ...entity(id), attrs: { a: [prop(1)], b: [prop('x')], loc: [geo(47)] } },
          // a changed, c added, b and loc untouched.
          { ...entity(id), attrs: { a: [prop(2)], b: [prop('x')], loc: [geo(47)], c: [prop(3)] } },
          // a gains a second instance (multi), b removed, loc moved, types changed.
          { ...entity(id, ['urn:T', 'urn:U']), attrs: { a: [prop(2), prop(5, 'urn:d')], loc: [geo(48)], c: [prop(3)] } },
          // a back to one instance.
          { ...entity(id), attrs: { a: [prop(5, 'urn:d')], loc: [geo(48)], c: [prop(3)] } },
        ];
        for (const v of versions) {
          await put(v);
          const incremental = await sideRows();
          // The rows a create of the same version writes: every attribute derived afresh.
          await store.writeEntity(DEFAULT_TENANT, id, () => ({ remove: true, result: null }), NO_CREATE);
          await put(v);
          assert.deepStrictEqual(incremental, await sideRows());
        }
      });

      it('two nodes appending 2 × 100 different attributes to one entity at once lose none', async () => {
        await reset();
        const [a, b] = [await open(), await open()];
        const id = 'urn:x:shared';
        await a.writeEntity(DEFAULT_TENANT, id, () => ({ put: entity(id), result: null }), NO_CREATE);
        const writes: Promise<void>[] = [];
        for (let i = 0; i < 100; i++) {
          writes.push(appendAttr(a, id, `urn:a:${i}`, i), appendAttr(b, id, `urn:b:${i}`, i));
        }
        await Promise.all(writes);
        const final = await b.getEntity(DEFAULT_TENANT, id);
        assert.ok(final !== null);
        assert.equal(Object.keys(final.attrs).length, 200);
        for (let i = 0; i < 100; i++) {
          assert.equal(final.attrs[`urn:a:${i}`][0].value, i);
          assert.equal(final.attrs[`urn:b:${i}`][0].value, i);
        }
        assert.deepStrictEqual(await a.getEntity(DEFAULT_TENANT, id), final);
      });

      it('concurrent creates of one absent id: both decide on null, the loser reruns and sees the row', async () => {
        await reset();
        const [a, b] = [await open(), await open()];
        const id = 'urn:x:raced';
        // An uncommitted insert of the same key: both writers read no row, then their INSERTs wait on it.
        const blocker = await connect(db.url);
        try {
          await blocker.query('BEGIN');
          await blocker.query(
            `INSERT INTO entities (tenant, id, types, created_at, modified_at, doc)
             VALUES ('', $1, '[]', now(), now(), '{}')`,
            [id],
          );
          const seenA: (Entity | null)[] = [];
          const seenB: (Entity | null)[] = [];
          const racing = Promise.all([createOnce(a, id, seenA), createOnce(b, id, seenB)]);
          await waitFor('both INSERTs to wait on the uncommitted row', async () => {
            const { rows } = await admin.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = 'kend' AND wait_event_type = 'Lock'`,
            );
            return rows[0].n === 2;
          });
          await blocker.query('ROLLBACK');
          const results = await racing;
          assert.deepStrictEqual([...results].sort(), ['created', 'exists']);
          const [winnerSeen, loserSeen] = results[0] === 'created' ? [seenA, seenB] : [seenB, seenA];
          assert.deepStrictEqual(winnerSeen, [null]);
          assert.deepStrictEqual(loserSeen, [null, entity(id)]);
          assert.deepStrictEqual(await a.getEntity(DEFAULT_TENANT, id), entity(id));
        } finally {
          await blocker.end();
        }
      });

      it('creates of 25 ids racing on two nodes give exactly one creation per id', async () => {
        await reset();
        const [a, b] = [await open(), await open()];
        const ids = Array.from({ length: 25 }, (_, i) => `urn:x:race:${i}`);
        const results = await Promise.all(ids.map((id) => Promise.all([createOnce(a, id), createOnce(b, id)])));
        for (const pair of results) assert.deepStrictEqual([...pair].sort(), ['created', 'exists']);
        assert.deepStrictEqual((await a.listEntities(DEFAULT_TENANT)).map((e) => e.id).sort(), [...ids].sort());
      });

      it('batches touching the same ids in opposite orders on two nodes neither deadlock nor lose updates', async () => {
        await reset();
        const [a, b] = [await open(), await open()];
        const ids = Array.from({ length: 10 }, (_, i) => `urn:x:batch:${i}`);
        await a.writeEntities(DEFAULT_TENANT, ids.map((id) => ({ id, decide: () => ({ put: entity(id), result: null }) })), NO_CREATE);
        const append = (tag: string, round: number) => (cur: Entity | null) => {
          if (cur === null) throw new Error('missing');
          const attr = { type: 'Property' as const, value: round, createdAt: T0, modifiedAt: T0 };
          return { put: { ...cur, attrs: { ...cur.attrs, [`urn:${tag}:${round}`]: [attr] } }, result: round };
        };
        const rounds = Array.from({ length: 10 }, (_, round) => [
          a.writeEntities(DEFAULT_TENANT, ids.map((id) => ({ id, decide: append('a', round) })), NO_CREATE),
          b.writeEntities(DEFAULT_TENANT, [...ids].reverse().map((id) => ({ id, decide: append('b', round) })), NO_CREATE),
        ]).flat();
        for (const outcomes of await Promise.all(rounds)) assert.ok(outcomes.every((o) => o.ok));
        for (const e of await a.listEntities(DEFAULT_TENANT)) assert.equal(Object.keys(e.attrs).length, 20, e.id);
      });

      it('keeps tenants apart in every table, even for a hostile tenant name that skipped validation', async () => {
        await reset();
        const store = await open();
        const tA = parseTenant('tenant_a');
        const hostile = `x'; DROP TABLE entities; --\\ "q"` as TenantId;
        await store.writeEntity(tA, 'urn:x:1', () => ({ put: entity('urn:x:1', ['urn:A', 'urn:S']), result: null }), CREATE);
        await store.writeEntity(hostile, 'urn:x:1', () => ({ put: entity('urn:x:1', ['urn:H', 'urn:S']), result: null }), CREATE);
        await store.writeEntity(DEFAULT_TENANT, 'urn:x:1', () => ({ put: entity('urn:x:1', ['urn:D']), result: null }), NO_CREATE);
        assert.equal(await store.tenantExists(hostile), true);
        assert.deepStrictEqual((await store.getEntity(hostile, 'urn:x:1'))?.types, ['urn:H', 'urn:S']);
        const types = async (): Promise<unknown[]> =>
          (await admin.query('SELECT tenant, type FROM entity_types ORDER BY tenant, type')).rows;
        assert.deepStrictEqual(await types(), [
          { tenant: '', type: 'urn:D' },
          { tenant: 'tenant_a', type: 'urn:A' },
          { tenant: 'tenant_a', type: 'urn:S' },
          { tenant: hostile, type: 'urn:H' },
          { tenant: hostile, type: 'urn:S' },
        ]);
        await store.writeEntity(tA, 'urn:x:1', () => ({ remove: true, result: null }), NO_CREATE);
        await store.writeEntity(hostile, 'urn:x:1', () => ({ put: entity('urn:x:1', ['urn:S', 'urn:H2']), result: null }), NO_CREATE);
        assert.deepStrictEqual(await types(), [
          { tenant: '', type: 'urn:D' },
          { tenant: hostile, type: 'urn:H2' },
          { tenant: hostile, type: 'urn:S' },
        ]);
        assert.deepStrictEqual((await admin.query('SELECT name FROM tenants ORDER BY name')).rows, [
          { name: '' },
          { name: 'tenant_a' },
          { name: hostile },
        ]);
        assert.deepStrictEqual((await store.listEntities(tA)).length, 0);
        assert.deepStrictEqual((await store.listEntities(DEFAULT_TENANT)).map((e) => e.types), [['urn:D']]);
      });

      it('stores the document text exactly as written: member order, number spelling and \\u0000 kept', async () => {
        await reset();
        const store = await open();
        const e: Entity = {
          ...entity('urn:x:doc'),
          attrs: {
            'urn:z': [{ type: 'Property', value: { z: 1, a: [1.5, 1e300, 'nul \u0000 here'], m: { y: null, b: true } }, createdAt: T0, modifiedAt: T0 }],
            'urn:a': [{ type: 'Property', value: 'second', createdAt: T0, modifiedAt: T0 }],
          },
        };
        await store.writeEntity(DEFAULT_TENANT, e.id, () => ({ put: e, result: null }), NO_CREATE);
        const raw = await admin.query<{ doc: string; types: unknown }>('SELECT doc::text AS doc, types FROM entities WHERE id = $1', [e.id]);
        assert.equal(raw.rows[0].doc, JSON.stringify(e));
        assert.deepStrictEqual(raw.rows[0].types, ['urn:T']);
        const back = await store.getEntity(DEFAULT_TENANT, e.id);
        assert.equal(JSON.stringify(back), JSON.stringify(e));
      });

      it('rejects an invalid decision without writing, and closes idempotently', async () => {
        await reset();
        const store = await createPostgresStore({ url: db.url, poolSize: 1 });
        await assert.rejects(
          store.writeEntity(DEFAULT_TENANT, 'urn:x:1', () => ({ put: entity('urn:x:other'), result: null }), NO_CREATE),
          /differs/,
        );
        await assert.rejects(
          store.writeEntity(DEFAULT_TENANT, 'urn:x:1', () => ({ put: entity('urn:x:1'), remove: true, result: null }), NO_CREATE),
          /both put and remove/,
        );
        // The single pooled connection was handed back after each failure.
        assert.deepStrictEqual(await store.listEntities(DEFAULT_TENANT), []);
        await store.close();
        await store.close();
      });
    });
  });
}
