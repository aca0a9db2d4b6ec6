// Property test of temporal aggregation (issue 6 item 3; GS CIM 009 §4.5.19): random series (every value kind,
// deletions, datasetIds, instances lacking the time property), random windows, bucket sizes (fixed and calendar
// months) and methods; a store's aggregateTemporal must equal the naive reference (core reference-aggregate.ts)
// computed here from the same instances. Store-agnostic: every adapter runs it with its own factory.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonValue } from '../../src/core/json.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import { AGGREGATION_METHODS, type AggregateSeries, type AggregationMethod, type HistoryInstance, type PeriodDuration, type RecordedInstance, type TemporalEntityAggregates, type TemporalSelection, type TimeProperty, type TimeWindow } from '../../src/core/temporal/model.ts';
import { instanceTime } from '../../src/core/temporal/instance-values.ts';
import { inWindow, referenceAggregate } from '../../src/core/temporal/reference-aggregate.ts';
import { parseTenant, type TenantId } from '../../src/core/tenant.ts';
import type { PageRequest } from '../../src/core/query/entity-query.ts';
import { createRng, type Rng } from '../support/prng.ts';
import type { TemporalCapableStore, TemporalStoreFactory } from '../contract/temporal-contract.ts';

/** Seeds that once failed somewhere: always run, whatever `cases`. */
export const REGRESSION_SEEDS: readonly number[] = [];

const BASE = Date.UTC(2024, 0, 31, 13, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TYPE = 'https://example.org/Sensor';
const ATTRS = ['https://example.org/a/temperature', 'https://example.org/a/status', 'https://example.org/a/owner', 'https://example.org/a/mixed'] as const;
type Profile = 'num' | 'text' | 'rel' | 'mixed' | 'list';
const PROFILES: Record<(typeof ATTRS)[number], Profile> = {
  'https://example.org/a/temperature': 'num',
  'https://example.org/a/status': 'text',
  'https://example.org/a/owner': 'rel',
  'https://example.org/a/mixed': 'mixed',
};
// Code-point order differs from UTF-16 order between U+FFFD and the emoji. No NUL: the contract's round-trip
// test covers it, and PostgreSQL text cannot hold it, so a store may keep no text view for such a string.
const TEXTS = ['a', 'Zebra', 'apple', 'é', '\uFFFD', '\u{1F600}', '10', 'urn:x', ''];
const DATE_TIMES = ['2024-02-01T00:00:00Z', '2023-12-31T23:59:59.999Z', '2024-01-01T10:00:00+01:00'];

const iso = (ms: number): string => new Date(ms).toISOString();

function genNumber(rng: Rng): number {
  switch (rng.int(0, 3)) {
    case 0:
      return rng.int(-50, 50);
    case 1:
      return rng.int(-100_000, 100_000) / 100;
    case 2:
      return rng.pick([0, -0.5, 0.1, 0.2, 0.3, 1e-3]);
    default:
      return rng.int(0, 5);
  }
}

function genValue(rng: Rng, profile: Profile): Pick<RecordedInstance, 'type' | 'value' | 'object' | 'valueList'> {
  switch (profile) {
    case 'num':
      return { type: 'Property', value: genNumber(rng) };
    case 'text':
      return rng.bool(0.85)
        ? { type: 'Property', value: rng.pick(TEXTS) }
        : { type: 'Property', value: { '@type': 'DateTime', '@value': rng.pick(DATE_TIMES) } };
    case 'rel':
      return { type: 'Relationship', object: rng.bool(0.8) ? `urn:ngsi-ld:P:${rng.int(1, 4)}` : ['urn:a', `urn:b${rng.int(1, 2)}`] };
    case 'list':
      return { type: 'ListProperty', valueList: Array.from({ length: rng.int(0, 3) }, () => rng.int(0, 9)) };
    case 'mixed': {
      const r = rng.int(0, 7);
      const value: JsonValue =
        r <= 2 ? genNumber(rng) : r === 3 ? rng.bool() : r === 4 ? rng.pick(TEXTS) : r === 5 ? Array.from({ length: rng.int(0, 3) }, () => rng.int(0, 3)) : r === 6 ? { b: 1, a: rng.int(1, 2) } : { a: rng.int(1, 2), b: 1 };
      return rng.bool(0.1) ? genValue(rng, 'list') : { type: 'Property', value };
    }
  }
}

interface Case {
  tenant: TenantId;
  /** Entity id → its instances in recording order. */
  entities: { id: string; instances: HistoryInstance[] }[];
  selection: TemporalSelection;
  methods: AggregationMethod[];
  period: PeriodDuration | null;
  span: number;
}

let instanceCounter = 0;

function genInstance(rng: Rng, profile: Profile, span: number): RecordedInstance {
  // Some times on hour and day boundaries, where bucket edges fall.
  const time = (): number => BASE + (rng.bool(0.25) ? rng.int(0, Math.floor(span / HOUR)) * HOUR : rng.int(0, span));
  const obs = time();
  const inst: RecordedInstance = {
    ...genValue(rng, profile),
    instanceId: `urn:ngsi-ld:${(++instanceCounter).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    createdAt: iso(time()),
    modifiedAt: iso(rng.bool(0.5) ? obs : time()),
  };
  if (rng.bool(0.9)) inst.observedAt = iso(obs);
  if (rng.bool(0.2)) inst.datasetId = 'urn:ds:1';
  if (rng.bool(0.06)) {
    inst.deletedAt = iso(obs);
    delete inst.object;
    delete inst.valueList;
    inst.type = 'Property';
    inst.value = 'urn:ngsi-ld:null';
  }
  return inst;
}

function genWindow(rng: Rng, span: number): TimeWindow {
  const property: TimeProperty = rng.pick(['observedAt', 'observedAt', 'observedAt', 'createdAt', 'modifiedAt', 'deletedAt']);
  const at = (): number => BASE + rng.int(-Math.floor(span / 4), Math.floor(span * 1.25));
  switch (rng.int(0, 3)) {
    case 0:
      return { property };
    case 1:
      return { property, rel: 'before', toMs: at() };
    case 2:
      return { property, rel: 'after', fromMs: at() };
    default: {
      const a = at();
      const b = at();
      return { property, rel: 'between', fromMs: Math.min(a, b), toMs: Math.max(a, b) + 1 };
    }
  }
}

function genPeriod(rng: Rng, span: number): PeriodDuration | null {
  const r = rng.int(0, 9);
  if (r === 0) return null;
  if (r === 1) return { months: 0, ms: 0 };
  if (r <= 3) return { months: rng.int(1, 3), ms: rng.pick([0, 0, DAY, HOUR, 1]) };
  // Fixed periods: at most a few thousand buckets over 1.5 spans, sometimes an odd number of milliseconds.
  const floor = Math.ceil((span * 1.5) / 5000);
  const ms = rng.bool(0.7) ? rng.pick([1000, 60_000, HOUR, DAY, 7 * DAY]) * rng.int(1, 5) : rng.int(1, Math.max(2, Math.floor(span / 3)));
  return { months: 0, ms: Math.max(ms, floor) };
}

function genCase(seed: number): Case {
  const rng = createRng(seed);
  const span = rng.pick([2 * HOUR, 3 * DAY, 40 * DAY, 400 * DAY]);
  const entities = Array.from({ length: rng.int(1, 3) }, (_, k) => {
    const instances: HistoryInstance[] = [];
    for (const attr of ATTRS) {
      if (rng.bool(0.2)) continue;
      const n = rng.pick([0, 1, 2, 5, 20, 60, 120]);
      for (let i = 0; i < n; i++) instances.push({ attr, instance: genInstance(rng, PROFILES[attr], span) });
    }
    // A ListProperty attribute now and then.
    if (rng.bool(0.3)) for (let i = 0; i < rng.int(1, 10); i++) instances.push({ attr: 'https://example.org/a/list', instance: genInstance(rng, 'list', span) });
    return { id: `urn:ngsi-ld:Sensor:${seed}:${k}`, instances };
  });
  const selection: TemporalSelection = { window: genWindow(rng, span) };
  if (rng.bool(0.4)) selection.attrs = [...rng.subset([...ATTRS, 'https://example.org/a/list', 'https://example.org/a/never']), ATTRS[0]];
  if (rng.bool(0.3)) selection.datasetIds = rng.pick([['@none'], ['urn:ds:1'], ['@none', 'urn:ds:1']]);
  if (rng.bool(0.2)) selection.selectors = [{ ids: rng.subset(entities.map((e) => e.id)) }];
  const methods = rng.bool(0.3) ? [...AGGREGATION_METHODS] : rng.subset(AGGREGATION_METHODS, 0.4);
  if (methods.length === 0) methods.push(rng.pick(AGGREGATION_METHODS));
  const c: Case = { tenant: parseTenant(`agg-${seed}`), entities, selection, methods, period: genPeriod(rng, span), span };
  // A third of the cases ask what a store may answer from pre-aggregated hours (SQLite's hourly rollups): an
  // observedAt window on hour boundaries, whole-hour periods, numeric methods — or nearly so (an odd
  // millisecond, one bucket, a datasetId filter), which must fall back to the instances and agree all the same.
  if (rng.bool(0.35)) alignCase(c, rng);
  return c;
}

const ALIGNED_METHODS: readonly AggregationMethod[] = ['totalCount', 'sum', 'avg', 'min', 'max', 'sumsq'];

function alignCase(c: Case, rng: Rng): void {
  const hours = Math.max(1, Math.floor(c.span / HOUR));
  const at = (): number => BASE + rng.int(-2, hours + 2) * HOUR + (rng.bool(0.15) ? rng.pick([1, -1, 1800_000]) : 0);
  const a = at();
  const b = at();
  const window: TimeWindow = rng.pick<TimeWindow>([
    { property: 'observedAt', rel: 'between', fromMs: Math.min(a, b), toMs: Math.max(a, b) + HOUR },
    { property: 'observedAt', rel: 'after', fromMs: a },
    { property: 'observedAt', rel: 'between', fromMs: Math.min(a, b), toMs: Math.max(a, b) + HOUR },
  ]);
  c.selection = { ...c.selection, window };
  delete c.selection.datasetIds;
  if (rng.bool(0.1)) c.selection.datasetIds = ['@none'];
  const floorHours = Math.max(1, Math.ceil((c.span * 1.5) / 5000 / HOUR));
  c.period = rng.bool(0.15) ? { months: 0, ms: 0 } : { months: 0, ms: Math.max(floorHours, rng.pick([1, 1, 2, 3, 24])) * HOUR + (rng.bool(0.1) ? 1 : 0) };
  const methods = rng.subset(ALIGNED_METHODS, 0.5);
  c.methods = methods.length > 0 ? methods : ['avg'];
  if (rng.bool(0.1)) c.methods.push(rng.pick(['stddev', 'distinctCount'] as const));
}

/**
 * Corrections after the load, mirrored in the case: some instances replaced (PATCH, possibly moving to another
 * hour or losing observedAt), some deleted, now and then an attribute's datasetId dropped — what a store's
 * pre-aggregates must follow exactly.
 */
async function mutate(store: TemporalCapableStore, c: Case, rng: Rng): Promise<void> {
  for (const e of c.entities) {
    for (let k = 0; k < e.instances.length; k++) {
      const h = e.instances[k]!;
      const r = rng.int(0, 19);
      if (r === 0) {
        const replacement: RecordedInstance = { ...genInstance(rng, PROFILES[h.attr as (typeof ATTRS)[number]] ?? 'list', c.span), instanceId: h.instance.instanceId };
        assert.equal(await store.temporal.replaceInstance(c.tenant, e.id, h.attr, replacement), true, 'replaced');
        e.instances[k] = { attr: h.attr, instance: replacement };
      } else if (r === 1) {
        assert.equal(await store.temporal.deleteInstance(c.tenant, e.id, h.attr, h.instance.instanceId), true, 'deleted');
        e.instances.splice(k--, 1);
      }
    }
    if (rng.bool(0.15) && e.instances.length > 0) {
      const attr = rng.pick(e.instances).attr;
      const datasetId = rng.bool() ? 'urn:ds:1' : undefined;
      const entity: Entity = { id: e.id, types: [TYPE], createdAt: iso(BASE), modifiedAt: iso(BASE), attrs: {} };
      await store.writeEntity(
        c.tenant,
        e.id,
        () => ({ put: entity, result: null, history: { drop: { kind: 'attribute', attr, datasetId, all: false }, instances: [] } }),
        { createTenant: true },
      );
      e.instances = e.instances.filter((h) => h.attr !== attr || h.instance.datasetId !== datasetId);
    }
  }
}

/** Writes each entity's instances in one to three entity writes, in recording order. */
async function load(store: TemporalCapableStore, c: Case, rng: Rng): Promise<void> {
  for (const e of c.entities) {
    const parts = rng.int(1, 3);
    const size = Math.ceil(e.instances.length / parts) || 1;
    for (let i = 0; i === 0 || i < e.instances.length; i += size) {
      const chunk = e.instances.slice(i, i + size);
      const entity: Entity = { id: e.id, types: [TYPE], createdAt: iso(BASE), modifiedAt: iso(BASE), attrs: {} };
      await store.writeEntity(
        c.tenant,
        e.id,
        () => ({ put: entity, result: null, history: { entity: { id: e.id, types: [TYPE], createdAt: iso(BASE), modifiedAt: iso(BASE) }, instances: chunk } }),
        { createTenant: true },
      );
    }
  }
}

/** The expected answer: entities with a selected instance in the window, each attribute by the reference. */
function expected(c: Case): TemporalEntityAggregates[] {
  const { selection: s } = c;
  const datasetOk = (i: RecordedInstance): boolean => s.datasetIds === undefined || s.datasetIds.includes(i.datasetId ?? '@none');
  const attrOk = (attr: string): boolean => s.attrs === undefined || s.attrs.includes(attr);
  const out: TemporalEntityAggregates[] = [];
  for (const e of c.entities) {
    if (s.selectors !== undefined && s.selectors.length > 0 && !s.selectors.some((sel) => sel.ids === undefined || sel.ids.includes(e.id))) continue;
    const selected = e.instances.filter(({ attr, instance }) => {
      const t = instanceTime(instance, s.window.property);
      return attrOk(attr) && datasetOk(instance) && t !== null && inWindow(t, s.window);
    });
    if (selected.length === 0) continue;
    const attrs: TemporalEntityAggregates['attrs'] = {};
    for (const attr of [...new Set(selected.map((h) => h.attr))]) {
      const instances = e.instances.filter((h) => h.attr === attr && datasetOk(h.instance)).map((h) => h.instance);
      Object.assign(attrs, referenceAggregate(instances, s.window, c.methods, c.period, attr));
    }
    out.push({ entity: { id: e.id, types: [TYPE], createdAt: iso(BASE), modifiedAt: iso(BASE) }, attrs });
  }
  return out;
}

function close(a: number | string | null, b: number | string | null): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return a === b;
}

function compareSeries(where: string, actual: AggregateSeries | undefined, wanted: AggregateSeries | undefined): void {
  assert.ok(actual !== undefined && wanted !== undefined, `${where}: series present in both`);
  assert.deepStrictEqual(
    actual.map((x) => [x.startMs, x.endMs]),
    wanted.map((x) => [x.startMs, x.endMs]),
    `${where}: the same buckets`,
  );
  actual.forEach((x, i) => {
    assert.ok(close(x.value, wanted[i]!.value), `${where}: bucket ${i} value ${String(x.value)} ≠ reference ${String(wanted[i]!.value)}`);
  });
}

function compare(label: string, actual: TemporalEntityAggregates[], wanted: TemporalEntityAggregates[]): void {
  assert.deepStrictEqual(actual.map((e) => e.entity.id), wanted.map((e) => e.entity.id), `${label}: the same entities`);
  actual.forEach((e, k) => {
    const w = wanted[k]!;
    assert.deepStrictEqual(Object.keys(e.attrs).sort(), Object.keys(w.attrs).sort(), `${label} ${e.entity.id}: the same attributes`);
    for (const [attr, methods] of Object.entries(w.attrs)) {
      const got = e.attrs[attr]!;
      assert.deepStrictEqual(Object.keys(got).sort(), Object.keys(methods).sort(), `${label} ${e.entity.id} ${attr}: the same methods`);
      for (const m of Object.keys(methods) as AggregationMethod[]) compareSeries(`${label} ${e.entity.id} ${attr} ${m}`, got[m], methods[m]);
    }
  });
}

export interface AggregationPropertyOptions {
  /** Random cases besides the regression seeds (default 120). */
  cases?: number;
  /** First seed of the random cases (default 1). */
  firstSeed?: number;
  /**
   * The store's count of aggregations answered from pre-aggregated hours (its rollups), when it has them: the
   * run must then use them (as well as fall back), so both paths are compared with the reference.
   */
  rollupHits?: () => number;
}

/** Registers the property test; `makeStore` returns a fresh, empty store (each case uses its own tenant). */
export function runTemporalAggregationProperty(name: string, makeStore: TemporalStoreFactory, options: AggregationPropertyOptions = {}): void {
  const cases = options.cases ?? 120;
  const first = options.firstSeed ?? 1;
  const seeds = [...REGRESSION_SEEDS, ...Array.from({ length: cases }, (_, i) => first + i)];

  describe(`temporal aggregation equals the reference: ${name}`, () => {
    let store: TemporalCapableStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await makeStore());
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    it(`agrees on ${seeds.length} random series, windows, bucket sizes and methods (failures name the seed)`, async () => {
      let compared = 0;
      const hitsBefore = options.rollupHits?.() ?? 0;
      for (const seed of seeds) {
        const c = genCase(seed);
        await load(store, c, createRng(seed ^ 0x5eed));
        if (seed % 2 === 0) await mutate(store, c, createRng(seed ^ 0xfeed));
        const wanted = expected(c);
        const label = `seed ${seed}`;
        const page: PageRequest = { limit: 100, offset: 0, count: true };
        const got = await store.temporal.aggregateTemporal(c.tenant, c.selection, { methods: c.methods, period: c.period }, page);
        compare(label, got.entities, wanted);
        assert.equal(got.total, wanted.length, `${label}: total`);
        // A page of one, further on, is the same entity the full answer lists there.
        if (wanted.length > 1) {
          const second = await store.temporal.aggregateTemporal(c.tenant, c.selection, { methods: c.methods, period: c.period }, { limit: 1, offset: 1, count: false });
          compare(`${label} page 2`, second.entities, wanted.slice(1, 2));
        }
        compared += wanted.reduce((n, e) => n + Object.keys(e.attrs).length, 0);
      }
      // The generator must produce real work, not empty windows only.
      assert.ok(compared > seeds.length, `compared ${compared} attribute aggregations`);
      if (options.rollupHits !== undefined) {
        const hits = options.rollupHits() - hitsBefore;
        assert.ok(hits >= 10, `${hits} aggregations answered from rollups`);
      }
    });
  });

  describe(`temporal aggregation equals the reference after retention pruning: ${name}`, () => {
    it('agrees once instances recorded before a cutoff are pruned (a fresh store per seed: pruning spans tenants)', async () => {
      for (let seed = first; seed < first + 6; seed++) {
        const { store, cleanup } = await makeStore();
        try {
          const c = genCase(seed * 7919);
          alignCase(c, createRng(seed));
          await load(store, c, createRng(seed ^ 0x5eed));
          const cutoff = BASE + Math.floor(c.span / 2);
          await store.temporal.pruneHistory(cutoff);
          for (const e of c.entities) e.instances = e.instances.filter((h) => instanceTime(h.instance, 'createdAt')! >= cutoff);
          const page: PageRequest = { limit: 100, offset: 0, count: true };
          const got = await store.temporal.aggregateTemporal(c.tenant, c.selection, { methods: c.methods, period: c.period }, page);
          compare(`prune seed ${seed}`, got.entities, expected(c));
        } finally {
          await store.close();
          await cleanup();
        }
      }
    });
  });
}
