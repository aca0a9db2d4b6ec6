// Command-line options of `npm run bench` (bench/run.ts): store, quick mode, duration, connections, filter.
import { resolve } from 'node:path';
import { WORKLOAD_NAMES, type WorkloadName } from '../workloads/names.ts';

export type StoreKind = 'sqlite' | 'postgres';

export interface BenchOptions {
  store: StoreKind;
  quick: boolean;
  /** Measured seconds per workload. */
  durationS: number;
  /** Seconds of unmeasured load before each measured run (JIT, caches). */
  warmupS: number;
  connections: number;
  /** Entities loaded for the read, update and query workloads. */
  entities: number;
  /** Instances of one entity loaded for the temporal aggregation. */
  temporalInstances: number;
  /** Fixed update rate of the notification workload, per second. */
  notifyRate: number;
  notifySubscriptions: number;
  /** Distinct endpoint URLs the subscriptions are spread over (each one has its own delivery queue). */
  notifyEndpoints: number;
  only: ReadonlySet<WorkloadName> | undefined;
  /** Directory the JSON result is written to. */
  outDir: string;
  /** PostgreSQL server (maintenance database) the fresh benchmark database is created on. */
  postgresUrl: string;
  /** Directory Kend writes a V8 CPU profile of the whole run to (node --cpu-prof), if set. */
  cpuProfDir: string | undefined;
  /** Kend records history (its default); false only to measure what history costs (issue 6 item 5). */
  history: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]
  --store sqlite|postgres   store under test (default sqlite)
  --quick                   small data (1,000 entities), 1 s per workload: a smoke run
  --duration S              measured seconds per workload (default 10; quick 1)
  --connections N           concurrent HTTP connections (default 10; quick 2)
  --only a,b                run only these workloads: ${WORKLOAD_NAMES.join(', ')}
  --entities N              entities loaded (default 100000; quick 1000)
  --out DIR                 where the JSON result goes (default bench/results)
  --postgres-url URL        server for --store postgres (default postgres://postgres@127.0.0.1:5432/postgres)
  --notify-rate N           updates/s offered by the notification workload (default 2000; quick 500)
  --cpu-prof DIR            Kend writes a V8 CPU profile of the run into DIR (see bench/profile-top.ts)
  --history on|off          Kend records history (default on, the production default); off only to compare
`;

export class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined): number {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`${name} needs a positive integer, got ${String(raw)}`);
  return Number(raw);
}

function positiveNumber(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isFinite(n) || n <= 0) throw new UsageError(`${name} needs a positive number, got ${String(raw)}`);
  return n;
}

function isWorkloadName(s: string): s is WorkloadName {
  return (WORKLOAD_NAMES as readonly string[]).includes(s);
}

export function parseOptions(argv: readonly string[], defaultOutDir: string): BenchOptions {
  let store: StoreKind = 'sqlite';
  let quick = false;
  let durationS: number | undefined;
  let connections: number | undefined;
  let entities: number | undefined;
  let only: Set<WorkloadName> | undefined;
  let outDir = defaultOutDir;
  let cpuProfDir: string | undefined;
  let history = true;
  let notifyRate: number | undefined;
  let postgresUrl = process.env.KEND_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--store': {
        const v = value();
        if (v !== 'sqlite' && v !== 'postgres') throw new UsageError(`--store must be sqlite or postgres, got ${String(v)}`);
        store = v;
        break;
      }
      case '--quick':
        quick = true;
        break;
      case '--duration':
        durationS = positiveNumber('--duration', value());
        break;
      case '--connections':
        connections = positiveInt('--connections', value());
        break;
      case '--entities':
        entities = positiveInt('--entities', value());
        break;
      case '--only': {
        const names = (value() ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
        const unknown = names.filter((n) => !isWorkloadName(n));
        if (names.length === 0 || unknown.length > 0) throw new UsageError(`--only: unknown workload(s) ${unknown.join(', ') || '(none given)'}; known: ${WORKLOAD_NAMES.join(', ')}`);
        only = new Set(names.filter(isWorkloadName));
        break;
      }
      case '--out':
        outDir = resolve(value() ?? outDir);
        break;
      case '--notify-rate':
        notifyRate = positiveInt('--notify-rate', value());
        break;
      case '--cpu-prof':
        cpuProfDir = value();
        if (cpuProfDir === undefined) throw new UsageError('--cpu-prof needs a directory');
        cpuProfDir = resolve(cpuProfDir);
        break;
      case '--history': {
        const v = value();
        if (v !== 'on' && v !== 'off') throw new UsageError(`--history needs on or off, got ${String(v)}`);
        history = v === 'on';
        break;
      }
      case '--postgres-url':
        postgresUrl = value() ?? postgresUrl;
        break;
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  const size = entities ?? (quick ? 1000 : 100_000);
  return {
    store,
    quick,
    durationS: durationS ?? (quick ? 1 : 10),
    warmupS: quick ? 0.2 : 2,
    // A smoke run needs a few responses of every workload, also of 1,000-entity batches: few connections.
    connections: connections ?? (quick ? 2 : 10),
    entities: size,
    temporalInstances: quick ? 1000 : 100_000,
    // A smoke run must finish in seconds even where Kend cannot sustain 2,000 updates/s.
    notifyRate: notifyRate ?? (quick ? 500 : 2000),
    notifySubscriptions: Math.min(100, size),
    notifyEndpoints: Math.min(100, size),
    only,
    outDir,
    postgresUrl,
    cpuProfDir,
    history,
  };
}
