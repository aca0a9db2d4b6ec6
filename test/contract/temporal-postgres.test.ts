// Runs the TemporalStore contract on PostgreSQL + PostGIS, plus PostgreSQL-only tests of the history write:
// concurrent writers on two nodes, rollback, tenant isolation, batches folded per id, odd strings.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { createPostgresStore } from '../../src/adapters/store-postgres/postgres-store.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import { DEFAULT_TENANT, parseTenant, type TenantId } from '../../src/core/tenant.ts';
import type { HistoryInstance, HistoryWrite, RecordedInstance, TemporalSelection } from '../../src/core/temporal/model.ts';
import type { EntityStore } from '../../src/ports/store.ts';
import type { TemporalStore } from '../../src/ports/temporal-store.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/postgres.ts';
import { runTemporalStoreContract } from './temporal-contract.ts';

type Store = EntityStore & { temporal: TemporalStore };

const BASE = Date.UTC(2024, 0, 1);
const at = (ms: number): string => new Date(BASE + ms).toISOString();
const NO_CREATE = { createTenant: false };
const CREATE = { createTenant: true };
const PAGE = { limit: 100, offset: 0, count: true };
const ALL: TemporalSelection = { window: { property: 'createdAt' } };

function entity(id: string, types: string[] = ['urn:T']): Entity {
  return { id, types, createdAt: at(0), modifiedAt: at(0), attrs: {} };
}

function instance(n: number, value: RecordedInstance['value'], extra: Partial<RecordedInstance> = {}): RecordedInstance {
  return { type: 'Property', value, observedAt: at(n * 1000), createdAt: at(n), modifiedAt: at(n), instanceId: `urn:ngsi-ld:i:${n}`, ...extra };
}

function history(id: string, instances: HistoryInstance[], types: string[] = ['urn:T']): HistoryWrite {
  return { entity: { id, types, createdAt: at(0), modifiedAt: at(0) }, instances };
}

/** Appends one attribute to an existing entity and records its instance, in one read-modify-write. */
function appendWithHistory(store: Store, tenant: TenantId, id: string, attr: string, n: number): Promise<void> {
  return store.writeEntity(
    tenant,
    id,
    (cur) => {
      if (cur === null) throw new Error(`missing ${id}`);
      const inst = instance(n, n);
      const { instanceId: _i, ...attrInstance } = inst;
      return {
        put: { ...cur, attrs: { ...cur.attrs, [attr]: [attrInstance] } },
        history: history(id, [{ attr, instance: inst }], [`urn:T${n % 3}`]),
        result: undefined,
      };
    },
    NO_CREATE,
  );
}

const availability = await postgresAvailable();

if (!availability.ok) {
  // A skipped describe reports no test at all: these placeholders make the skip and its reason visible.
  it('runs the TemporalStore contract on PostgreSQL', { skip: availability.reason }, () => {});
  it('runs the PostgreSQL-specific temporal history tests', { skip: availability.reason }, () => {});
} else {
  const baseUrl = availability.baseUrl;

  describe('PostgreSQL temporal store', () => {
    let db: TestDatabase;
    let admin: Client;
    const stores: Store[] = [];
    const open = async (poolSize = 4): Promise<Store> => {
      const store = await createPostgresStore({ url: db.url, poolSize });
      stores.push(store);
      return store;
    };

    before(async () => {
      db = await createTestDatabase(baseUrl);
      await (await createPostgresStore({ url: db.url })).close();
      admin = new Client({ connectionString: db.url });
      await admin.connect();
    });
    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await admin?.end();
      await db?.drop();
    });

    const reset = async (): Promise<void> => {
      await admin.query(
        "TRUNCATE entity_types, entity_attrs, entity_geo, entities, contexts, subscriptions, outbox, temporal_entities, temporal_instances; DELETE FROM tenants WHERE name <> ''",
      );
    };
    // One database for the file, emptied before each contract test (the contract wants a fresh, empty store).
    runTemporalStoreContract('postgres', async () => {
      await reset();
      return { store: await createPostgresStore({ url: db.url, poolSize: 4 }), cleanup: async () => {} };
    });

    const instanceCount = async (): Promise<number> =>
      (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM temporal_instances')).rows[0].n;

    describe('PostgreSQL temporal store specifics', () => {
      it('two nodes appending 2 × 100 attributes with history to one entity lose no instance and union every type', async () => {
        await reset();
        const [a, b] = [await open(), await open()];
        const id = 'urn:x:shared';
        await a.writeEntity(DEFAULT_TENANT, id, () => ({ put: entity(id), history: history(id, []), result: null }), NO_CREATE);
        const writes: Promise<void>[] = [];
        for (let i = 0; i < 100; i++) {
          writes.push(appendWithHistory(a, DEFAULT_TENANT, id, `urn:a:${i}`, 2 * i), appendWithHistory(b, DEFAULT_TENANT, id, `urn:b:${i}`, 2 * i + 1));
        }
        await Promise.all(writes);
        const page = await b.temporal.queryTemporal(DEFAULT_TENANT, ALL, { instanceLimit: 1000 }, PAGE);
        assert.equal(page.total, 1);
        const [found] = page.entities;
        assert.equal(Object.keys(found.attrs).length, 200);
        const ids = Object.values(found.attrs).flat().map((i) => i.instanceId);
        assert.equal(new Set(ids).size, 200);
        // Stored order first, then new ones: which of T0/T1/T2 came first is up to the race.
        assert.equal(found.entity.types[0], 'urn:T');
        assert.deepStrictEqual([...found.entity.types].sort(), ['urn:T', 'urn:T0', 'urn:T1', 'urn:T2']);
        const final = await a.getEntity(DEFAULT_TENANT, id);
        assert.equal(Object.keys(final!.attrs).length, 200);
      });

      it('a history write that fails rolls the entity write back with it, and a failing batch leaves no instance', async () => {
        await reset();
        const store = await open();
        const id = 'urn:x:rollback';
        const first = instance(1, 1);
        await store.writeEntity(DEFAULT_TENANT, id, () => ({ put: entity(id), history: history(id, [{ attr: 'urn:p', instance: first }]), result: null }), NO_CREATE);
        // The same instanceId again violates temporal_instances_instance after the entity row was written.
        await assert.rejects(
          store.writeEntity(
            DEFAULT_TENANT,
            id,
            (cur) => ({ put: { ...cur!, types: ['urn:Changed'] }, history: history(id, [{ attr: 'urn:p', instance: first }], ['urn:Changed']), result: null }),
            NO_CREATE,
          ),
          /temporal_instances_instance|duplicate key/,
        );
        assert.deepStrictEqual((await store.getEntity(DEFAULT_TENANT, id))?.types, ['urn:T']);
        assert.deepStrictEqual((await store.temporal.getTemporalEntity(DEFAULT_TENANT, id))?.types, ['urn:T']);
        assert.equal(await instanceCount(), 1);

        await assert.rejects(
          store.writeEntities(
            DEFAULT_TENANT,
            [
              { id: 'urn:x:b1', decide: () => ({ put: entity('urn:x:b1'), history: history('urn:x:b1', [{ attr: 'urn:p', instance: instance(2, 2) }]), result: null }) },
              {
                id: 'urn:x:b2',
                decide: () => {
                  throw new Error('not an NgsiError: the whole batch aborts');
                },
              },
            ],
            NO_CREATE,
          ),
          /whole batch aborts/,
        );
        assert.equal(await store.temporal.getTemporalEntity(DEFAULT_TENANT, 'urn:x:b1'), null);
        assert.equal(await instanceCount(), 1);
      });

      it('keeps tenants apart in queries, aggregations, counts, corrections and lookups, even for a hostile tenant name', async () => {
        await reset();
        const store = await open();
        const tA = parseTenant('tenant_a');
        const hostile = `x'; DROP TABLE temporal_instances; --\\ "q"` as TenantId;
        const id = 'urn:x:1';
        for (const [tenant, value, options] of [[tA, 10, CREATE], [hostile, 20, CREATE], [DEFAULT_TENANT, 30, NO_CREATE]] as const) {
          await store.writeEntity(
            tenant,
            id,
            () => ({ put: entity(id), history: history(id, [{ attr: 'urn:p', instance: instance(value, value, { instanceId: 'urn:ngsi-ld:same' }) }], [`urn:T${value}`]), result: null }),
            options,
          );
        }
        for (const [tenant, value] of [[tA, 10], [hostile, 20], [DEFAULT_TENANT, 30]] as const) {
          const q = await store.temporal.queryTemporal(tenant, ALL, { instanceLimit: 10 }, PAGE);
          assert.equal(q.total, 1);
          assert.deepStrictEqual(q.entities[0].entity.types, [`urn:T${value}`]);
          assert.deepStrictEqual(q.entities[0].attrs['urn:p'].map((i) => i.value), [value]);
          const agg = await store.temporal.aggregateTemporal(tenant, ALL, { methods: ['sum', 'totalCount'], period: null }, PAGE);
          assert.equal(agg.total, 1);
          assert.deepStrictEqual(agg.entities[0].attrs['urn:p'].sum?.map((s) => s.value), [value]);
          assert.deepStrictEqual((await store.temporal.getTemporalEntity(tenant, id))?.types, [`urn:T${value}`]);
        }
        assert.equal(await store.temporal.getTemporalEntity(parseTenant('other'), id), null);
        assert.deepStrictEqual((await store.temporal.queryTemporal(parseTenant('other'), ALL, { instanceLimit: 10 }, PAGE)).entities, []);
        // A correction or a deletion in one tenant leaves the same instanceId of the others alone.
        assert.equal(await store.temporal.replaceInstance(tA, id, 'urn:p', instance(10, 11, { instanceId: 'urn:ngsi-ld:same' })), true);
        assert.equal(await store.temporal.deleteInstance(hostile, id, 'urn:p', 'urn:ngsi-ld:same'), true);
        const values = async (tenant: TenantId): Promise<unknown[]> =>
          ((await store.temporal.queryTemporal(tenant, ALL, { instanceLimit: 10 }, PAGE)).entities[0]?.attrs['urn:p'] ?? []).map((i) => i.value);
        assert.deepStrictEqual(await values(tA), [11]);
        assert.deepStrictEqual(await values(hostile), []);
        assert.deepStrictEqual(await values(DEFAULT_TENANT), [30]);
        const rows = await admin.query<{ tenant: string; n: number }>('SELECT tenant, count(*)::int AS n FROM temporal_instances GROUP BY tenant ORDER BY tenant');
        assert.deepStrictEqual(rows.rows, [{ tenant: '', n: 1 }, { tenant: 'tenant_a', n: 1 }]);
      });

      it('a batch writes the histories of its items as item by item: a later drop removes what an earlier item appended', async () => {
        await reset();
        const store = await open();
        const id = 'urn:x:folded';
        const put = (h: HistoryWrite) => (cur: Entity | null) => ({ put: cur ?? entity(h.entity!.id), history: h, result: null });
        await store.writeEntity(DEFAULT_TENANT, id, put(history(id, [{ attr: 'urn:p', instance: instance(1, 1) }, { attr: 'urn:q', instance: instance(2, 2) }], ['urn:A'])), NO_CREATE);
        const outcomes = await store.writeEntities(
          DEFAULT_TENANT,
          [
            { id, decide: put(history(id, [{ attr: 'urn:p', instance: instance(3, 3) }, { attr: 'urn:p', instance: instance(4, 4, { datasetId: 'urn:d' }) }], ['urn:B'])) },
            { id: 'urn:x:other', decide: put({ ...history('urn:x:other', [{ attr: 'urn:p', instance: instance(5, 5) }]) }) },
            { id, decide: put({ ...history(id, [{ attr: 'urn:q', instance: instance(6, 6) }], ['urn:C', 'urn:A']), drop: { kind: 'attribute', attr: 'urn:p', all: false } }) },
          ],
          NO_CREATE,
        );
        assert.ok(outcomes.every((o) => o.ok));
        const q = await store.temporal.queryTemporal(DEFAULT_TENANT, { ...ALL, selectors: [{ ids: [id] }] }, { instanceLimit: 10 }, PAGE);
        assert.deepStrictEqual(q.entities[0].entity.types, ['urn:A', 'urn:B', 'urn:C']);
        const ids = Object.fromEntries(Object.entries(q.entities[0].attrs).map(([k, v]) => [k, v.map((i) => i.instanceId)]));
        // The default instances of urn:p went (stored and batched alike); the datasetId one stayed.
        assert.deepStrictEqual(ids, { 'urn:p': ['urn:ngsi-ld:i:4'], 'urn:q': ['urn:ngsi-ld:i:2', 'urn:ngsi-ld:i:6'] });

        await store.writeEntities(
          DEFAULT_TENANT,
          [
            { id, decide: put({ ...history(id, [{ attr: 'urn:r', instance: instance(7, 7) }], ['urn:D']), drop: { kind: 'entity' } }) },
            { id, decide: put(history(id, [{ attr: 'urn:r', instance: instance(8, 8) }], ['urn:E'])) },
          ],
          NO_CREATE,
        );
        const after = await store.temporal.queryTemporal(DEFAULT_TENANT, { ...ALL, selectors: [{ ids: [id] }] }, { instanceLimit: 10 }, PAGE);
        assert.deepStrictEqual(after.entities[0].entity.types, ['urn:D', 'urn:E']);
        assert.deepStrictEqual(Object.keys(after.entities[0].attrs), ['urn:r']);
        assert.deepStrictEqual(after.entities[0].attrs['urn:r'].map((i) => i.value), [7, 8]);

        await store.writeEntities(DEFAULT_TENANT, [{ id, decide: () => ({ remove: true, history: { drop: { kind: 'entity' }, instances: [] }, result: null }) }], NO_CREATE);
        assert.equal(await store.temporal.getTemporalEntity(DEFAULT_TENANT, id), null);
        assert.equal((await admin.query('SELECT count(*)::int AS n FROM temporal_instances WHERE entity NOT IN (SELECT seq FROM temporal_entities)')).rows[0].n, 0);
      });

      it('a history-only write on a new tenant creates the tenant its record refers to', async () => {
        await reset();
        const store = await open();
        const tenant = parseTenant('fresh');
        await store.writeEntity(tenant, 'urn:x:h', () => ({ history: history('urn:x:h', [{ attr: 'urn:p', instance: instance(1, 1) }]), result: null }), CREATE);
        assert.equal(await store.tenantExists(tenant), true);
        assert.ok((await store.temporal.getTemporalEntity(tenant, 'urn:x:h')) !== null);
      });

      it('round-trips ids, attribute names, datasetIds and values PostgreSQL text cannot hold as such (U+0000, lone surrogates)', async () => {
        await reset();
        const store = await open();
        const odd = 'urn:x:\u0000\uD800\uFFFF';
        const inst = instance(1, { nul: 'a\u0000b', lone: '\uDC00' }, { datasetId: `urn:d:${odd}`, instanceId: `urn:ngsi-ld:${odd}` });
        const text = instance(2, `t\u0000${odd}`, { instanceId: 'urn:ngsi-ld:t' });
        await store.writeEntity(
          DEFAULT_TENANT,
          odd,
          () => ({
            // (The entity store keeps types as plain text: only the temporal record gets the odd type.)
            put: entity(odd),
            history: { entity: { id: odd, types: [`urn:T:${odd}`], scope: ['/a/b'], createdAt: at(0), modifiedAt: at(0) }, instances: [{ attr: `urn:${odd}`, instance: inst }, { attr: 'urn:s', instance: text }] },
            result: null,
          }),
          NO_CREATE,
        );
        const selection: TemporalSelection = { ...ALL, selectors: [{ ids: [odd], type: { op: 'type', name: `urn:T:${odd}` } }], datasetIds: [`urn:d:${odd}`, '@none'] };
        const q = await store.temporal.queryTemporal(DEFAULT_TENANT, selection, { instanceLimit: 10 }, PAGE);
        assert.equal(q.entities.length, 1);
        assert.deepStrictEqual(q.entities[0].entity, { id: odd, types: [`urn:T:${odd}`], scope: ['/a/b'], createdAt: at(0), modifiedAt: at(0) });
        assert.equal(JSON.stringify(q.entities[0].attrs[`urn:${odd}`]), JSON.stringify([inst]));
        assert.equal(JSON.stringify(q.entities[0].attrs['urn:s']), JSON.stringify([text]));
        const agg = await store.temporal.aggregateTemporal(DEFAULT_TENANT, { ...ALL, attrs: ['urn:s'] }, { methods: ['min', 'distinctCount'], period: null }, PAGE);
        assert.deepStrictEqual(agg.entities[0].attrs['urn:s'].min?.map((s) => s.value), [`t\u0000${odd}`]);
        assert.equal(await store.temporal.deleteInstance(DEFAULT_TENANT, odd, `urn:${odd}`, `urn:ngsi-ld:${odd}`), true);
      });

      it('prunes instances recorded before the retention limit in every tenant, in batches', async () => {
        await reset();
        const store = await open();
        const instances = Array.from({ length: 25_000 }, (_, n) => ({ attr: 'urn:p', instance: instance(n, n) }));
        await store.writeEntity(DEFAULT_TENANT, 'urn:x:p', () => ({ put: entity('urn:x:p'), history: history('urn:x:p', instances), result: null }), NO_CREATE);
        await store.writeEntity(parseTenant('t2'), 'urn:x:p', () => ({ put: entity('urn:x:p'), history: history('urn:x:p', instances.slice(0, 10)), result: null }), CREATE);
        assert.equal(await store.temporal.pruneHistory(BASE + 21_000), 21_010);
        assert.equal(await instanceCount(), 4_000);
        assert.ok((await store.temporal.getTemporalEntity(parseTenant('t2'), 'urn:x:p')) !== null, 'records outlive their instances');
      });

      it('reads at most cap + 1 instances per attribute from the index, however long the series', async () => {
        await reset();
        const store = await open();
        const instances = Array.from({ length: 20_000 }, (_, n) => ({ attr: 'urn:p', instance: instance(n, n) }));
        await store.writeEntity(DEFAULT_TENANT, 'urn:x:long', () => ({ put: entity('urn:x:long'), history: history('urn:x:long', instances), result: null }), NO_CREATE);
        await admin.query('ANALYZE temporal_instances');
        const window: TemporalSelection = { window: { property: 'observedAt', fromMs: BASE + 1000 } };
        const oldest = await store.temporal.queryTemporal(DEFAULT_TENANT, window, { instanceLimit: 10 }, PAGE);
        assert.deepStrictEqual(oldest.entities[0].attrs['urn:p'].map((i) => i.value), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert.equal(oldest.entities[0].truncated, true);
        const newest = await store.temporal.queryTemporal(DEFAULT_TENANT, window, { instanceLimit: 10, lastN: 3 }, PAGE);
        assert.deepStrictEqual(newest.entities[0].attrs['urn:p'].map((i) => i.value), [19_997, 19_998, 19_999]);
        assert.equal(newest.entities[0].truncated, false);
        const capped = await store.temporal.queryTemporal(DEFAULT_TENANT, window, { instanceLimit: 4, lastN: 5 }, PAGE);
        assert.deepStrictEqual(capped.entities[0].attrs['urn:p'].map((i) => i.value), [19_996, 19_997, 19_998, 19_999]);
        assert.equal(capped.entities[0].truncated, true);
        // The plan: an index scan that stops after cap + 1 rows (no sort of the series).
        const seq = (await admin.query<{ seq: string }>("SELECT seq::text AS seq FROM temporal_entities WHERE id = 'urn:x:long'")).rows[0].seq;
        const plan = await admin.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
           SELECT i.doc FROM temporal_instances i WHERE i.tenant = '' AND i.entity = $1 AND i.attr = 'urn:p'
             AND i.observed_at IS NOT NULL AND i.observed_at >= $2 ORDER BY i.observed_at, i.seq LIMIT 11`,
          [seq, BASE + 1000],
        );
        const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
        assert.match(text, /Index Scan using temporal_instances_observed/);
        assert.doesNotMatch(text, /Sort/);
      });
    });
  });
}
