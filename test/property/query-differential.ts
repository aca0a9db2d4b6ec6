// The differential property suite for store queries (issue 4 §3, §4): a store's queryEntities and discover
// must equal the in-memory reference (referenceQuery, summarizeEntities) on random populations and random
// queries, page without loss or duplicates, survive hostile strings, and keep tenants apart. Every store
// adapter runs it unchanged (SQLite here, PostgreSQL in its own test file).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RE2JS } from 're2js';
import type { EntityStore } from '../../src/ports/store.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import { NgsiError } from '../../src/core/errors.ts';
import { validateGeometry } from '../../src/core/model/geojson.ts';
import { referenceQuery, type EntityQuery, type PageRequest } from '../../src/core/query/entity-query.ts';
import { summarizeEntities } from '../../src/core/query/discovery.ts';
import { DEFAULT_TENANT, parseTenant, type TenantId } from '../../src/core/tenant.ts';
import { createRng, genEntity, genIds, genPage, genQuery, type Rng } from './query-generators.ts';
import { describeQuery, hostileQueries } from './query-hostile.ts';

export type QueryStoreFactory = () => Promise<{ store: EntityStore; cleanup: () => Promise<void> }>;

export interface QueryDifferentialOptions {
  /** Number of seeds (default 4, or the seeds in KEND_PROPERTY_SEEDS="1,2,3"). */
  seeds?: number;
  /** Random queries per seed (default 300). */
  queries?: number;
  /** Size of the population paged through with several page sizes (default 10,000; 0 skips). */
  pagingEntities?: number;
}

const CREATE = { createTenant: true };
const TENANTS: TenantId[] = [DEFAULT_TENANT, parseTenant('tenant_a'), parseTenant('tenant-b')];

function seedList(count: number): number[] {
  const fromEnv = process.env.KEND_PROPERTY_SEEDS;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.split(',').map((s) => Number(s.trim()));
  return Array.from({ length: count }, (_, i) => 1000 + i * 7919);
}

/** What differs between two id sequences, for assertion messages. */
function diffIds(expected: readonly string[], actual: readonly string[]): string {
  const e = new Set(expected);
  const a = new Set(actual);
  const missing = expected.filter((x) => !a.has(x));
  const extra = actual.filter((x) => !e.has(x));
  const show = (xs: readonly string[]): string => JSON.stringify(xs.slice(0, 8)) + (xs.length > 8 ? `… (${xs.length})` : '');
  return `missing ${show(missing)}, extra ${show(extra)}, expected order ${show(expected)}, actual order ${show(actual)}`;
}

const ids = (es: readonly Entity[]): string[] => es.map((e) => e.id);

/** Loads a population into three tenants (some ids shared between tenants), then replaces and removes some. */
async function loadPopulation(store: EntityStore, rng: Rng): Promise<Map<TenantId, string[]>> {
  const base = genIds(rng, 160);
  const plan = new Map<TenantId, string[]>([
    [TENANTS[0], base.slice(0, 120)],
    [TENANTS[1], [...base.slice(60, 140), ...genIds(rng, 40).map((id) => `${id}:a`)]],
    [TENANTS[2], base.slice(100, 160)],
  ]);
  for (const [tenant, list] of plan) {
    for (const id of list) await store.writeEntity(tenant, id, () => ({ put: genEntity(rng, id), result: null }), CREATE);
  }
  // Replace some (index rows must follow) and remove some (index rows must go).
  for (const [tenant, list] of plan) {
    for (const id of list) {
      if (rng.bool(0.1)) await store.writeEntity(tenant, id, () => ({ put: genEntity(rng, id), result: null }), CREATE);
      else if (rng.bool(0.05)) await store.writeEntity(tenant, id, () => ({ remove: true, result: null }), CREATE);
    }
  }
  return plan;
}

/** Compares one query page with the reference; returns false when the store refused it with a 400. */
export async function checkQuery(
  store: EntityStore,
  tenant: TenantId,
  query: EntityQuery,
  page: PageRequest,
  label: string,
  snapshot?: readonly Entity[],
): Promise<boolean> {
  const all = snapshot ?? (await store.listEntities(tenant));
  const context = `${label}, tenant "${tenant}", query ${describeQuery(query)}, page ${JSON.stringify(page)}`;
  let expected;
  try {
    expected = referenceQuery(query, all, page);
  } catch (e) {
    throw new Error(`reference failed on ${context}: ${(e as Error).message}`, { cause: e });
  }
  let actual;
  try {
    actual = await store.queryEntities(tenant, query, page);
  } catch (e) {
    if (e instanceof NgsiError && e.status === 400) return false;
    throw new Error(`store failed on ${context}: ${(e as Error).stack ?? String(e)}`, { cause: e });
  }
  const want = ids(expected.entities);
  const got = ids(actual.entities);
  assert.deepStrictEqual(got, want, `ids differ on ${context}: ${diffIds(want, got)}`);
  assert.equal(actual.total, expected.total, `total differs on ${context}`);
  assert.deepStrictEqual(actual.entities, expected.entities, `entity documents differ on ${context}`);
  return true;
}

function validGeo(query: EntityQuery): boolean {
  return query.geo === undefined || validateGeometry(query.geo.geometry, 10_000) === null;
}

/** Registers the suite; `makeStore` must return a fresh, empty store on every call. */
export function runQueryDifferential(name: string, makeStore: QueryStoreFactory, options: QueryDifferentialOptions = {}): void {
  const queries = options.queries ?? 300;
  describe(`query differential: ${name}`, () => {
    for (const seed of seedList(options.seeds ?? 4)) {
      describe(`seed ${seed}`, () => {
        let store: EntityStore;
        let cleanup: () => Promise<void>;
        let plan: Map<TenantId, string[]>;
        /** Each tenant's entities in insertion order, read once after loading (nothing writes later). */
        const snapshot = new Map<TenantId, Entity[]>();
        const rng = createRng(seed);

        before(async () => {
          ({ store, cleanup } = await makeStore());
          plan = await loadPopulation(store, rng);
          for (const tenant of TENANTS) snapshot.set(tenant, await store.listEntities(tenant));
        });
        after(async () => {
          await store.close();
          await cleanup();
        });

        it(`random queries return the reference's ids, order and total (seed ${seed})`, async () => {
          let checked = 0;
          for (let i = 0; i < queries; i++) {
            const tenant = rng.pick(TENANTS);
            const query = genQuery(rng, [...plan.get(tenant)!, ...plan.get(TENANTS[1])!.slice(0, 5)]);
            if (!validGeo(query)) continue;
            if (await checkQuery(store, tenant, query, genPage(rng), `seed ${seed} query #${i}`, snapshot.get(tenant))) checked++;
          }
          assert.ok(checked >= queries * 0.9, `seed ${seed}: only ${checked} of ${queries} queries were compared`);
        });

        it(`discovery rows equal the reference summary per tenant (seed ${seed})`, async () => {
          for (const tenant of [...TENANTS, parseTenant('nobody')]) {
            const expected = summarizeEntities(await store.listEntities(tenant));
            assert.deepStrictEqual(await store.discover(tenant), expected, `seed ${seed}: discover differs for tenant "${tenant}"`);
          }
        });

        it(`paging through a result returns every match once and the count equals what pages return (seed ${seed})`, async () => {
          for (let i = 0; i < 25; i++) {
            const tenant = rng.pick(TENANTS);
            const query = genQuery(rng, plan.get(tenant)!);
            if (!validGeo(query)) continue;
            const all = referenceQuery(query, snapshot.get(tenant)!, { limit: 1e9, offset: 0, count: true });
            for (const size of [1, 7, 50]) {
              const seen: string[] = [];
              for (let offset = 0; ; offset += size) {
                const page = await store.queryEntities(tenant, query, { limit: size, offset, count: true });
                assert.equal(page.total, all.total, `seed ${seed}: count differs at offset ${offset} for ${describeQuery(query)}`);
                seen.push(...ids(page.entities));
                if (page.entities.length < size) break;
              }
              assert.equal(new Set(seen).size, seen.length, `seed ${seed}: an entity appeared twice paging by ${size} ${describeQuery(query)}`);
              assert.deepStrictEqual(seen, ids(all.entities), `seed ${seed}: pages by ${size} differ: ${diffIds(ids(all.entities), seen)} ${describeQuery(query)}`);
              assert.equal(seen.length, all.total);
            }
          }
        });

        it(`hostile strings in every filter give the reference's result or a 400, never an error (seed ${seed})`, async () => {
          const known = plan.get(TENANTS[0])!;
          for (const [label, query] of hostileQueries(known)) {
            for (const tenant of TENANTS) {
              await checkQuery(store, tenant, query, { limit: 1000, offset: 0, count: true }, `seed ${seed} hostile ${label}`, snapshot.get(tenant));
            }
          }
          // The tables are still there and intact.
          for (const tenant of TENANTS) {
            assert.equal((await store.listEntities(tenant)).length, (await store.queryEntities(tenant, {}, { limit: 0, offset: 0, count: true })).total);
          }
        });

        it(`queries and discovery never return another tenant's entities (seed ${seed})`, async () => {
          for (const tenant of [...TENANTS, parseTenant('nobody')]) {
            const own = await store.listEntities(tenant);
            const byId = new Map(own.map((e) => [e.id, e]));
            const page = await store.queryEntities(tenant, {}, { limit: 100_000, offset: 0, count: true });
            assert.equal(page.total, own.length, `seed ${seed}: tenant "${tenant}" count`);
            for (const e of page.entities) assert.deepStrictEqual(e, byId.get(e.id), `seed ${seed}: tenant "${tenant}" got a foreign ${e.id}`);
            const sharedId = plan.get(TENANTS[1])![70];
            const q = await store.queryEntities(tenant, { selectors: [{ ids: [sharedId] }] }, { limit: 10, offset: 0, count: false });
            assert.deepStrictEqual(q.entities, byId.has(sharedId) ? [byId.get(sharedId)] : []);
            const rows = await store.discover(tenant);
            const types = new Set(own.flatMap((e) => e.types));
            for (const r of rows) assert.ok(types.has(r.type), `seed ${seed}: tenant "${tenant}" discovered foreign type ${r.type}`);
          }
        });
      });
    }

    const pagingEntities = options.pagingEntities ?? 10_000;
    if (pagingEntities > 0) {
      it(`pages through ${pagingEntities} entities with several page sizes and orders, every match exactly once`, async () => {
        const { store, cleanup } = await makeStore();
        try {
          await checkLargePaging(store, pagingEntities);
        } finally {
          await store.close();
          await cleanup();
        }
      });
    }
  });
}

async function checkLargePaging(store: EntityStore, count: number): Promise<void> {
  const tenant = parseTenant('paging');
  const rng = createRng(4242);
  const population: Entity[] = [];
  for (let i = 0; i < count; i++) {
    const id = `urn:ngsi-ld:Sensor:${String(i).padStart(6, '0')}`;
    const t = '2024-01-01T00:00:00.000Z';
    population.push({
      id,
      types: [rng.bool(0.8) ? 'https://kend.test/ns/Sensor' : 'https://kend.test/ns/Room'],
      createdAt: t,
      modifiedAt: t,
      attrs: { 'https://kend.test/ns/temperature': [{ type: 'Property', value: rng.int(0, 20), createdAt: t, modifiedAt: t }] },
    });
  }
  rng.subset(population, 1); // keep the stream stable if the population shape changes
  for (let i = 0; i < population.length; i += 500) {
    const items = population.slice(i, i + 500).map((e) => ({ id: e.id, decide: () => ({ put: e, result: null }) }));
    await store.writeEntities(tenant, items, CREATE);
  }
  const queries: EntityQuery[] = [
    {},
    { selectors: [{ type: { op: 'type', name: 'https://kend.test/ns/Sensor' } }], q: { type: 'compare', path: { attr: 'https://kend.test/ns/temperature', sub: [] }, op: '>', value: { kind: 'number', value: 5 } } },
    { order: [{ kind: 'attr', attr: 'https://kend.test/ns/temperature', desc: true }] },
    { order: [{ kind: 'createdAt', desc: false }] },
  ];
  const all = await store.listEntities(tenant);
  for (const query of queries) {
    const expected = ids(referenceQuery(query, all, { limit: count, offset: 0, count: false }).entities);
    for (const size of [97, 1000, 4096]) {
      const seen: string[] = [];
      for (let offset = 0; ; offset += size) {
        const page = await store.queryEntities(tenant, query, { limit: size, offset, count: true });
        assert.equal(page.total, expected.length, `count at offset ${offset} for ${describeQuery(query)}`);
        seen.push(...ids(page.entities));
        if (page.entities.length < size) break;
      }
      assert.equal(new Set(seen).size, seen.length, `duplicates paging by ${size} for ${describeQuery(query)}`);
      assert.deepStrictEqual(seen, expected, `paging by ${size} differs for ${describeQuery(query)}`);
    }
  }
  // An idPattern prefix and an id list select exactly what the reference selects.
  const prefix: EntityQuery = { selectors: [{ idPattern: { source: `^${RE2JS.quote('urn:ngsi-ld:Sensor:0012')}` } }] };
  await checkQuery(store, tenant, prefix, { limit: 1000, offset: 0, count: true }, 'large population idPattern prefix', all);
}
