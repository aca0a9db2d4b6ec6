// Measures the SQLite temporal aggregation of issue 6 item 5: avg, min and max per hour over one entity with
// 100,000 instances (one every 36 s). Not a test: prints wall-clock p50/p95/max and CPU time (the work is
// synchronous on this thread, so CPU time is what a busy machine's wall clock inflates) over repeated runs.
// Usage: node --import tsx scripts/temporal-aggregation-timing.ts [instances] [runs] [path]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../src/adapters/store-sqlite/sqlite-store.ts';
import type { AggregationMethod, HistoryInstance, TemporalSelection } from '../src/core/temporal/model.ts';
import { DEFAULT_TENANT } from '../src/core/tenant.ts';

const count = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'kend-temporal-timing-'));
const path = process.argv[4] ?? join(dir, 'kend.db');
const store = createSqliteStore({ path });

const BASE = Date.UTC(2024, 0, 1);
const STEP = 36_000;
const ID = 'urn:ngsi-ld:Sensor:timing';
const TEMP = 'https://smartdatamodels.org/dataModel.Environment/temperature';
const HUM = 'https://smartdatamodels.org/dataModel.Environment/relativeHumidity';
const iso = (ms: number): string => new Date(ms).toISOString();

let n = 0;
const started = performance.now();
while (n < count) {
  const chunk: HistoryInstance[] = [];
  for (let k = 0; k < 5000 && n < count; k++, n++) {
    const t = BASE + n * STEP;
    chunk.push({
      attr: TEMP,
      instance: {
        type: 'Property',
        value: Math.round((15 + 10 * Math.sin(n / 500) + Math.random()) * 100) / 100,
        observedAt: iso(t),
        createdAt: iso(t),
        modifiedAt: iso(t),
        instanceId: `urn:ngsi-ld:${crypto.randomUUID()}`,
        unitCode: 'CEL',
      },
    });
  }
  await store.writeEntity(
    DEFAULT_TENANT,
    ID,
    () => ({
      result: null,
      history: { entity: { id: ID, types: ['https://smartdatamodels.org/dataModel.Environment/AirQualityObserved'], createdAt: iso(BASE), modifiedAt: iso(BASE) }, instances: chunk },
    }),
    { createTenant: false },
  );
}
// A second attribute of the same entity, so the attribute filter has something to skip.
await store.writeEntity(
  DEFAULT_TENANT,
  ID,
  () => ({
    result: null,
    history: {
      instances: Array.from({ length: 10_000 }, (_, k) => ({
        attr: HUM,
        instance: { type: 'Property' as const, value: k % 100, observedAt: iso(BASE + k * 360_000), createdAt: iso(BASE), modifiedAt: iso(BASE), instanceId: `urn:ngsi-ld:${crypto.randomUUID()}` },
      })),
    },
  }),
  { createTenant: false },
);
console.log(`loaded ${count} instances in ${Math.round(performance.now() - started)} ms`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(label: string, selection: TemporalSelection, methods: AggregationMethod[], period: { months: number; ms: number } | null): Promise<void> {
  const times: number[] = [];
  const cpu: number[] = [];
  let buckets = 0;
  for (let r = 0; r < runs + 3; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const page = await store.temporal.aggregateTemporal(DEFAULT_TENANT, selection, { methods, period }, { limit: 20, offset: 0, count: false });
    const dt = performance.now() - t0;
    const dc = process.cpuUsage(c0);
    // The first runs warm the page cache and the statement cache.
    if (r >= 3) {
      times.push(dt);
      cpu.push((dc.user + dc.system) / 1000);
    }
    buckets = page.entities[0]?.attrs[TEMP]?.[methods[0]]?.length ?? 0;
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(1);
  console.log(
    `${label}: ${buckets} buckets; wall p50 ${f(percentile(times, 50))} ms, p95 ${f(percentile(times, 95))} ms, max ${f(times[times.length - 1])} ms;` +
      ` CPU p50 ${f(percentile(cpu, 50))} ms, p95 ${f(percentile(cpu, 95))} ms`,
  );
}

const end = BASE + count * STEP;
const byId = { selectors: [{ ids: [ID] }] };
const hour = { months: 0, ms: 3_600_000 };
await measure('avg,min,max PT1H, attrs=temperature, between', { ...byId, attrs: [TEMP], window: { property: 'observedAt', rel: 'between', fromMs: BASE, toMs: end } }, ['avg', 'min', 'max'], hour);
await measure('avg,min,max PT1H, attrs=temperature, no window', { ...byId, attrs: [TEMP], window: { property: 'observedAt' } }, ['avg', 'min', 'max'], hour);
await measure('avg,min,max PT1H, all attributes, no window', { ...byId, window: { property: 'observedAt' } }, ['avg', 'min', 'max'], hour);
await measure('all eight methods PT1H, attrs=temperature', { ...byId, attrs: [TEMP], window: { property: 'observedAt' } }, ['totalCount', 'distinctCount', 'sum', 'avg', 'min', 'max', 'stddev', 'sumsq'], hour);
await measure('avg,min,max P1M, attrs=temperature', { ...byId, attrs: [TEMP], window: { property: 'observedAt' } }, ['avg', 'min', 'max'], { months: 1, ms: 0 });
await measure('avg,min,max P1D, attrs=temperature, modifiedAt', { ...byId, attrs: [TEMP], window: { property: 'modifiedAt' } }, ['avg', 'min', 'max'], { months: 0, ms: 86_400_000 });
const q0 = performance.now();
const page = await store.temporal.queryTemporal(DEFAULT_TENANT, { ...byId, attrs: [TEMP], window: { property: 'observedAt' } }, { instanceLimit: 1000, lastN: 100 }, { limit: 20, offset: 0, count: false });
console.log(`query lastN=100 cap 1000: ${(performance.now() - q0).toFixed(1)} ms, ${page.entities[0]?.attrs[TEMP]?.length} instances`);
const q1 = performance.now();
await store.temporal.queryTemporal(DEFAULT_TENANT, { ...byId, attrs: [TEMP], window: { property: 'observedAt' } }, { instanceLimit: 1000 }, { limit: 20, offset: 0, count: false });
console.log(`query first 1000: ${(performance.now() - q1).toFixed(1)} ms`);

await store.close();
if (process.argv[4] === undefined) rmSync(dir, { recursive: true, force: true });
