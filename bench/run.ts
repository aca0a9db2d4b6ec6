// `npm run bench`: the benchmark harness of issue 8. Starts a bare Fastify app and Kend (production
// settings, fresh store) as separate processes, loads the data set through the API, runs every workload
// with autocannon over loopback, prints one table and writes it as JSON under bench/results/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { runLoad, Tally, type Measurement } from './lib/cannon.ts';
import { describeMachine } from './lib/machine.ts';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './lib/options.ts';
import { createBenchDatabase } from './lib/postgres-db.ts';
import { REPO_ROOT, startBare, startKend, type Service } from './lib/processes.ts';
import { addRatios, renderTable, writeReport, type Row } from './lib/report.ts';
import { CpuMonitor, machineBusyPct, type CpuShare } from './lib/cpu.ts';
import { RssMonitor } from './lib/rss.ts';
import { bareGet, barePost } from './workloads/bare.ts';
import { batchUpsert, loadDataset } from './workloads/batch.ts';
import { createEntity, getById, patchAttrs } from './workloads/entity-ops.ts';
import { WORKLOAD_NAMES } from './workloads/names.ts';
import { notificationLatency } from './workloads/notify.ts';
import { geoNear, pagedScan, typeAndQ } from './workloads/queries.ts';
import { temporalAggregation } from './workloads/temporal.ts';
import type { Basis, Outcome, Workload, WorkloadContext } from './workloads/workload.ts';

const WORKLOADS: readonly Workload[] = [barePost, bareGet, getById, typeAndQ, geoNear, pagedScan, patchAttrs, batchUpsert, createEntity, notificationLatency, temporalAggregation];
if (WORKLOADS.map((w) => w.name).join() !== WORKLOAD_NAMES.join()) throw new Error('WORKLOADS and WORKLOAD_NAMES disagree');

const log = (message: string) => process.stderr.write(`${message}\n`);

interface Store {
  url: string;
  description: string;
  cleanup(): Promise<void>;
}

/** A fresh store: an SQLite file in a new directory under .tmp/ (the repository's disk, not a tmpfs), or a new PostgreSQL database. */
async function freshStore(options: BenchOptions): Promise<Store> {
  if (options.store === 'sqlite') {
    const parent = join(REPO_ROOT, '.tmp');
    mkdirSync(parent, { recursive: true });
    const dir = mkdtempSync(join(parent, 'bench-'));
    return { url: `sqlite:${join(dir, 'kend.db')}`, description: `SQLite file in ${dir}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const db = await createBenchDatabase(options.postgresUrl);
  const name = new URL(db.url).pathname.slice(1);
  return { url: db.url, description: `PostgreSQL database ${name}`, cleanup: () => db.drop() };
}

interface Monitors {
  rss: RssMonitor;
  cpu: CpuMonitor;
}

function monitorsOf(service: Service): Monitors {
  return { rss: new RssMonitor(service.pid), cpu: new CpuMonitor(service.pid) };
}

/** Runs `work` inside a measurement window of both monitors. */
async function watched<T>(m: Monitors, work: () => Promise<T>): Promise<{ result: T; peakRssMb: number | undefined; cpu: CpuShare | undefined }> {
  m.rss.begin();
  m.cpu.begin();
  try {
    const result = await work();
    return { result, peakRssMb: m.rss.end(), cpu: m.cpu.end() };
  } finally {
    m.rss.end();
    m.cpu.end();
  }
}

function toRow(workload: string, title: string, basis: Basis, outcome: Outcome, peakRssMb?: number, cpu?: CpuShare): Row {
  const base = { workload, title, basis, peakRssMb, cpu };
  if (outcome.status !== 'measured') return { ...base, status: outcome.status, reason: outcome.reason };
  const m = outcome.measurement;
  return {
    ...base,
    status: 'measured',
    requests: m.requests,
    durationS: m.durationS,
    rps: m.rps,
    entitiesPerS: outcome.entitiesPerS,
    latencyMs: m.latencyMs,
    non2xx: m.non2xx,
    errors: m.errors,
    statusCodes: m.statusCodes,
    note: outcome.note,
    extra: outcome.extra,
  };
}

function describe(row: Row): string {
  if (row.status !== 'measured') return `  ${row.status}: ${row.reason ?? ''}`;
  const l = row.latencyMs!;
  const cpu = row.cpu === undefined ? '' : `, CPU % server ${row.cpu.serverPct} bench ${row.cpu.benchPct} kernel ${row.cpu.kernelPct} postgres ${row.cpu.postgresPct} other ${row.cpu.otherPct}`;
  return `  ${Math.round(row.rps!)} req/s, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, non-2xx ${row.non2xx}, errors ${row.errors}, peak RSS ${row.peakRssMb?.toFixed(0) ?? '?'} MB${cpu}`;
}

async function runWorkload(w: Workload, service: Service, monitors: Monitors, options: BenchOptions, datasetSize: number): Promise<Row> {
  log(`▶ ${w.name}: ${w.title}`);
  const ctx: WorkloadContext = {
    origin: service.origin,
    options,
    datasetSize,
    log,
    // Every run sends a fixed number of requests and waits for all of them (autocannon `amount`): a run
    // stopped by the clock would abandon requests the server still works off, and that backlog would
    // leak into the next run. The numbers come from the rate seen so far: a short probe, then runs adding
    // up to warmupS (unmeasured), then runs adding up to durationS (measured).
    async measure(spec) {
      const common = { ...spec, origin: service.origin, connections: options.connections };
      let rps = (await runLoad({ ...common, amount: 2 * options.connections, maxDurationS: 60 })).rps;
      const runFor = async (seconds: number): Promise<Measurement> => {
        const tally = new Tally();
        let m = tally.measurement();
        while (tally.seconds < 0.95 * seconds) {
          const before = tally.seconds;
          const left = seconds - before;
          m = await runLoad({ ...common, amount: Math.max(options.connections, Math.round(rps * left)), maxDurationS: 3 * left + 30 }, tally);
          if (tally.seconds - before < 0.001) break; // no response at all: nothing more to learn
          rps = m.rps;
        }
        return m;
      };
      if (options.warmupS > 0) await runFor(options.warmupS);
      return runFor(options.durationS);
    },
  };
  const since = () => Math.round(performance.now() - service.spawnedAt) / 1000;
  const from = since();
  const { result: outcome, peakRssMb, cpu } = await watched(monitors, () =>
    w.run(ctx).catch((err: unknown): Outcome => ({ status: 'failed', reason: err instanceof Error ? err.message : String(err) })),
  );
  const row: Row = { ...toRow(w.name, w.title, w.basis, outcome, peakRssMb, cpu), window: [from, since()] };
  log(describe(row));
  return row;
}

function exited(service: Service): boolean {
  return service.child.exitCode !== null || service.child.signalCode !== null;
}

/** Problems that make the run fail (exit 1): failed rows, non-2xx answers, errors, lost notifications. */
function problems(rows: readonly Row[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    if (r.status === 'failed') out.push(`${r.workload}: ${r.reason ?? 'failed'}`);
    if ((r.non2xx ?? 0) > 0 || (r.errors ?? 0) > 0) out.push(`${r.workload}: ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statusCodes)})`);
    const missing = r.extra?.missing;
    if (typeof missing === 'number' && missing > 0) out.push(`${r.workload}: ${missing} notifications missing`);
  }
  return out;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), join(REPO_ROOT, 'bench', 'results'));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  const started = new Date();
  const chosen = WORKLOADS.filter((w) => options.only === undefined || options.only.has(w.name));
  const bases = new Set(chosen.map((w) => w.basis));
  const bareWork = WORKLOADS.filter(
    (w) => w.target === 'bare' && (chosen.includes(w) || (w.name === 'bare-post' && bases.has('post')) || (w.name === 'bare-get' && bases.has('get'))),
  );
  const kendWork = chosen.filter((w) => w.target === 'kend');
  const rows: Row[] = [];
  const meta: Record<string, unknown> = {
    date: started.toISOString(),
    store: options.store,
    quick: options.quick,
    settings: {
      durationS: options.durationS,
      warmupS: options.warmupS,
      connections: options.connections,
      entities: options.entities,
      temporalInstances: options.temporalInstances,
      notifyRatePerS: options.notifyRate,
      notifySubscriptions: options.notifySubscriptions,
      notifyEndpoints: options.notifyEndpoints,
      kend: options.history
        ? 'production defaults (no KEND_* variable but port, host and database URL)'
        : 'production defaults but KEND_HISTORY=false (--history off: measures what history costs)',
    },
    machine: describeMachine(),
    // Other processes on the machine skew every figure: the load average is recorded at start and end,
    // and how busy the machine was in the second before the start (percent of one core).
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    busyBeforeStartPct: await machineBusyPct(1000),
  };
  const busy = meta.busyBeforeStartPct;
  if (typeof busy === 'number' && busy >= 10) log(`warning: the machine was ${busy} % busy (of one core) before the start: other processes will skew the figures`);
  log(`Kend benchmark: store ${options.store}${options.quick ? ' (quick)' : ''}${options.history ? '' : ', history OFF (KEND_HISTORY=false)'}, ${options.durationS} s per workload after ${options.warmupS} s warm-up, ${options.connections} connections`);

  if (bareWork.length > 0) {
    const bare = await startBare();
    const monitors = monitorsOf(bare);
    try {
      for (const w of bareWork) rows.push(await runWorkload(w, bare, monitors, options, 0));
    } finally {
      await bare.stop();
    }
  }

  if (kendWork.length > 0) {
    const store = await freshStore(options);
    log(`store: ${store.description}`);
    try {
      const kend = await startKend(store.url, options.cpuProfDir, options.history);
      log(`Kend listening at ${kend.origin} (pid ${kend.pid})`);
      const monitors = monitorsOf(kend);
      try {
        let datasetSize = 0;
        if (kendWork.some((w) => w.needsData)) {
          const { result: outcome, peakRssMb, cpu } = await watched(monitors, () => loadDataset(kend.origin, options, log));
          const row = toRow('load', 'load: batch upsert, new entities', 'none', outcome, peakRssMb, cpu);
          log(describe(row));
          rows.push(row);
          if (outcome.status === 'measured') datasetSize = options.entities;
        }
        for (const w of kendWork) {
          if (exited(kend)) {
            rows.push(toRow(w.name, w.title, w.basis, { status: 'failed', reason: 'Kend exited' }));
            continue;
          }
          if (w.needsData && datasetSize === 0) {
            rows.push(toRow(w.name, w.title, w.basis, { status: 'failed', reason: 'the data set was not loaded' }));
            continue;
          }
          rows.push(await runWorkload(w, kend, monitors, options, datasetSize));
        }
        meta.kendPeakRssMb = monitors.rss.lifetimePeakMb();
      } finally {
        const crashed = exited(kend);
        meta.kendExitCode = await kend.stop();
        if (crashed || meta.kendExitCode !== 0) log(`Kend ${crashed ? 'exited during the run' : `exited with ${String(meta.kendExitCode)}`}; its last output:\n${kend.output().slice(-4000)}`);
      }
    } finally {
      await store.cleanup();
    }
  }

  if (options.cpuProfDir !== undefined) meta.cpuProfile = `${options.cpuProfDir} (profiling slows Kend: figures of this run are not results)`;
  meta.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  meta.wallS = Math.round((Date.now() - started.getTime()) / 100) / 10;
  addRatios(rows);
  const report = { meta, rows };
  const table = renderTable(rows);
  const stem = `${started.toISOString().replace(/[:.]/g, '-')}-${options.store}${options.quick ? '-quick' : ''}${options.history ? '' : '-nohistory'}`;
  const path = writeReport(options.outDir, stem, report);
  if (!options.history) process.stdout.write('\nHistory OFF (KEND_HISTORY=false, --history off): not the production configuration.\n');
  process.stdout.write(`\n${table}\n\n`);
  if (meta.kendPeakRssMb !== undefined) process.stdout.write(`Kend peak RSS over the whole run: ${Math.round(meta.kendPeakRssMb as number)} MB\n`);
  process.stdout.write(`results: ${path}\n`);
  const found = problems(rows);
  if (meta.kendExitCode !== undefined && meta.kendExitCode !== 0) found.push(`Kend exited with ${String(meta.kendExitCode)} at SIGTERM`);
  for (const p of found) process.stdout.write(`PROBLEM ${p}\n`);
  return found.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
