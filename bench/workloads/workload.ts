// What a benchmark workload is: a named load against Kend (or the bare app) that yields one table row.
import type { LoadSpec, Measurement } from '../lib/cannon.ts';
import type { BenchOptions } from '../lib/options.ts';
import type { WorkloadName } from './names.ts';

/** Which bare route a workload's requests/s is divided by (none: the ratio means nothing). */
export type Basis = 'post' | 'get' | 'none';

export type Outcome =
  | {
      status: 'measured';
      measurement: Measurement;
      /** Entities written or read per second, for workloads moving many per request. */
      entitiesPerS?: number;
      note?: string;
      extra?: Record<string, unknown>;
    }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; reason: string };

export interface WorkloadContext {
  /** http://127.0.0.1:port of the process under load. */
  origin: string;
  options: BenchOptions;
  /** Entities loaded (ids stationId(0 … size-1)), 0 when nothing was loaded. */
  datasetSize: number;
  log(message: string): void;
  /** Warm-up (unmeasured) then a measured run of options.durationS with options.connections. */
  measure(spec: Omit<LoadSpec, 'origin' | 'connections' | 'durationS' | 'amount'>): Promise<Measurement>;
}

export interface Workload {
  name: WorkloadName;
  title: string;
  basis: Basis;
  target: 'kend' | 'bare';
  /** Needs the loaded data set. */
  needsData: boolean;
  run(ctx: WorkloadContext): Promise<Outcome>;
}

export const API = '/ngsi-ld/v1';
export const JSON_BODY = { 'content-type': 'application/json' } as const;
export const JSON_ACCEPT = { accept: 'application/json' } as const;

export function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}

export function measured(measurement: Measurement, more: Omit<Extract<Outcome, { status: 'measured' }>, 'status' | 'measurement'> = {}): Outcome {
  return { status: 'measured', measurement, ...more };
}
