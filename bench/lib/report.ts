// The benchmark's result: one row per workload, printed as one Markdown table and written as JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Basis } from '../workloads/workload.ts';
import type { CpuShare } from './cpu.ts';
import type { LatencySummary } from './stats.ts';

export interface Row {
  /** Workload name (see workloads/names.ts), or "load" for loading the data set. */
  workload: string;
  title: string;
  basis: Basis;
  status: 'measured' | 'skipped' | 'failed';
  /** Why the row was skipped or failed. */
  reason?: string;
  requests?: number;
  durationS?: number;
  rps?: number;
  entitiesPerS?: number;
  latencyMs?: LatencySummary;
  non2xx?: number;
  errors?: number;
  statusCodes?: Record<string, number>;
  peakRssMb?: number;
  /** Seconds since the process under load was spawned: when the workload started and ended (to cut a CPU profile). */
  window?: [number, number];
  /** CPU use during the workload, percent of one core. */
  cpu?: CpuShare;
  /** rps divided by the bare route's rps (POST or GET, per basis). */
  ratio?: number;
  note?: string;
  extra?: Record<string, unknown>;
}

export interface Report {
  meta: Record<string, unknown>;
  rows: Row[];
}

/** Foreign CPU use (percent of one core) from which a row's note warns that the figures are skewed. */
const OTHER_CPU_WARN_PCT = 10;

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isNaN(n) ? '—' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));

/** Fills `ratio` from the bare rows. */
export function addRatios(rows: Row[]): void {
  const bare = (name: string) => rows.find((r) => r.workload === name && r.status === 'measured')?.rps;
  const base: Record<Basis, number | undefined> = { post: bare('bare-post'), get: bare('bare-get'), none: undefined };
  for (const row of rows) {
    const b = base[row.basis];
    if (row.status === 'measured' && row.rps !== undefined && b !== undefined && b > 0) row.ratio = row.rps / b;
  }
}

export function renderTable(rows: readonly Row[]): string {
  const head = ['workload', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'non-2xx', 'peak RSS MB', 'ratio to bare', 'note'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 || i === head.length - 1 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    if (r.status !== 'measured') {
      const rss = r.peakRssMb === undefined ? '—' : int(r.peakRssMb);
      lines.push(`| ${r.title} | — | — | — | — | — | ${rss} | — | ${r.status}: ${r.reason ?? ''} |`);
      continue;
    }
    const l = r.latencyMs!;
    const failures = `${r.non2xx ?? 0}${r.errors ? ` (+${r.errors} errors)` : ''}`;
    const ratio = r.ratio === undefined ? '—' : `${r.ratio >= 0.1 ? r.ratio.toFixed(2) : r.ratio.toPrecision(2)} × ${r.basis.toUpperCase()}`;
    const busy = r.cpu !== undefined && r.cpu.otherPct >= OTHER_CPU_WARN_PCT ? `other processes used ${r.cpu.otherPct} % CPU` : '';
    const note = [r.entitiesPerS === undefined ? '' : `${int(r.entitiesPerS)} entities/s`, r.note ?? '', busy].filter((s) => s !== '').join('; ');
    lines.push(`| ${r.title} | ${int(r.rps!)} | ${ms(l.p50)} | ${ms(l.p95)} | ${ms(l.p99)} | ${failures} | ${r.peakRssMb === undefined ? '—' : int(r.peakRssMb)} | ${ratio} | ${note} |`);
  }
  return lines.join('\n');
}

/** Writes the report as JSON into `dir`; returns the file's path. */
export function writeReport(dir: string, fileStem: string, report: Report): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${fileStem}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
