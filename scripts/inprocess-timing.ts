// In-process timings of single requests (no HTTP, no load generator), used while profiling for issue 8:
//   node --import tsx scripts/inprocess-timing.ts MODE [N] [STORE]
// MODE: load (N stations through batch upsert), q (type + q, 200 requests), get (KEND_TIMING_GETS by id, one at
// a time), patch (KEND_TIMING_PATCHES, default 5,000, KEND_TIMING_CONCURRENCY at a time),
// temporal (100,000 instances of one entity, then 40 aggregation requests). STORE: a SQLite file path
// (default /var/tmp/kend-timing.db) or a postgres:// URL. KEND_HISTORY=false compares writes without history.
// Add `node --cpu-prof` to profile; summarise with bench/profile-top.ts. Figures of one run on a busy machine
// are not results: bench/RESULTS.md records the benchmark.
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { buildKend } from '../src/main.ts';
import { ENTITY_TYPE, TEMPERATURE, stationBatchJson } from '../bench/lib/entities.ts';

const mode = process.argv[2] ?? 'load';
const N = Number(process.argv[3] ?? 100000);
const store = process.argv[4] ?? '/var/tmp/kend-timing.db';
const config = loadConfig({
  KEND_DATABASE_URL: store.startsWith('postgres') ? store : `sqlite:${store}`,
  KEND_LOG_LEVEL: 'silent',
  KEND_HISTORY: process.env.KEND_HISTORY ?? 'true',
});
const kend = await buildKend(config, { logger: pino({ level: 'silent' }) });
const API = '/ngsi-ld/v1';

async function request(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: string): Promise<string> {
  const res = await kend.app.inject({ method, url: API + url, payload, headers: payload === undefined ? {} : { 'content-type': 'application/json' } });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.body;
}

function percentiles(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number): string => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(2);
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms`;
}

/** A reader of the summed CPU time (ms) of the PostgreSQL backends serving the database of `url` (ends with null). */
async function backendCpuMs(url: string): Promise<(end?: 'end') => Promise<number>> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const tick = 10; // ms per clock tick (USER_HZ 100)
  return async (end) => {
    if (end === 'end') {
      await client.end();
      return 0;
    }
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    let ms = 0;
    for (const { pid } of rows) {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ms += (Number(fields[11]) + Number(fields[12])) * tick;
    }
    return ms;
  };
}

async function timed(count: number, next: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    const t = performance.now();
    await next();
    times.push(performance.now() - t);
  }
  return times;
}

if (mode === 'load') {
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) await request('POST', '/entityOperations/upsert', stationBatchJson(i, Math.min(1000, N - i), N));
  const s = (performance.now() - t0) / 1000;
  console.log(`load ${N} entities: ${s.toFixed(1)} s = ${Math.round(N / s)} entities/s`);
} else if (mode === 'q') {
  const times = await timed(200, () => {
    const lo = Math.round((TEMPERATURE.min + Math.random() * (TEMPERATURE.max - TEMPERATURE.min - 0.1)) * 100) / 100;
    return request('GET', `/entities?type=${ENTITY_TYPE}&q=${encodeURIComponent(`temperature>=${lo};temperature<${(lo + 0.05).toFixed(2)}`)}`);
  });
  console.log(`type + q: ${percentiles(times)}`);
} else if (mode === 'get') {
  const C = Number(process.env.KEND_TIMING_GETS ?? 50000);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = 0; k < C; k++) await request('GET', `/entities/urn:ngsi-ld:${ENTITY_TYPE}:s${(k * 7919) % N}`);
  const cpu = process.cpuUsage(cpu0);
  console.log(`get: ${Math.round(C / ((performance.now() - t0) / 1000))}/s, ${Math.round((cpu.user + cpu.system) / C)} µs CPU each`);
} else if (mode === 'patch') {
  // KEND_TIMING_PATCHES in total, KEND_TIMING_CONCURRENCY at a time (10: like the benchmark's connections).
  const C = Number(process.env.KEND_TIMING_PATCHES ?? 5000);
  const W = Number(process.env.KEND_TIMING_CONCURRENCY ?? C);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let k = next++; k < C; k = next++) {
      await request('PATCH', `/entities/urn:ngsi-ld:${ENTITY_TYPE}:s${k % N}/attrs`, `{"temperature":{"type":"Property","value":${k % 40},"observedAt":"2026-11-29T10:00:00Z"}}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(W, C) }, lane));
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `patch: ${Math.round(C / ((performance.now() - t0) / 1000))}/s (${C} PATCHes, ${W} at a time), ${Math.round((cpu.user + cpu.system) / C)} µs CPU each`,
  );
} else if (mode === 'temporal') {
  const START = Date.UTC(2026, 0, 1);
  const STEP = 36_000;
  const instances = (first: number, n: number): string =>
    `[${Array.from({ length: n }, (_, k) => `{"type":"Property","value":${((first + k) % 97) / 3},"observedAt":"${new Date(START + (first + k) * STEP).toISOString()}"}`).join(',')}]`;
  const id = `urn:ngsi-ld:${ENTITY_TYPE}:temporal-timing`;
  // A store loaded by an earlier run is reused (profiles then show the requests, not the load).
  const loaded = (await kend.app.inject({ method: 'GET', url: `${API}/temporal/entities/${id}?lastN=1` })).statusCode === 200;
  if (!loaded) {
    await request('POST', '/temporal/entities', `{"id":"${id}","type":"${ENTITY_TYPE}","temperature":${instances(0, 1000)}}`);
    for (let f = 1000; f < 100_000; f += 1000) await request('POST', `/temporal/entities/${id}/attrs`, `{"temperature":${instances(f, 1000)}}`);
  }
  const end = new Date(START + 100_000 * STEP + 3_600_000).toISOString();
  const path = `/temporal/entities/${id}?attrs=temperature&options=aggregatedValues&aggrMethods=avg,min,max&aggrPeriodDuration=PT1H&timerel=between&timeAt=${new Date(START).toISOString()}&endTimeAt=${end}`;
  for (let k = 0; k < 5; k++) await request('GET', path); // warm-up: prepared statements, JIT
  // CPU per request, not wall-clock, is what a loaded machine does not distort: this process's, and on
  // PostgreSQL also the server's (the backends of this database, from /proc: same host only).
  const serverCpu = store.startsWith('postgres') ? await backendCpuMs(store) : null;
  const s0 = serverCpu === null ? 0 : await serverCpu();
  const c0 = process.cpuUsage();
  const count = Number(process.env.TIMING_REQUESTS ?? 40);
  const times = await timed(count, () => request('GET', path));
  const c = process.cpuUsage(c0);
  const server = serverCpu === null ? '' : `, server CPU ${(((await serverCpu()) - s0) / count).toFixed(2)} ms/request`;
  await serverCpu?.('end');
  console.log(`temporal aggregation, 100,000 instances: ${percentiles(times)}, CPU ${((c.user + c.system) / 1000 / count).toFixed(2)} ms/request${server}`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
await kend.close();
