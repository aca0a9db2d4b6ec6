// CPU time during a workload (Linux /proc), split into the process under load, the rest of the benchmark
// (harness, load generator, receiver) and everything else on the machine — on a shared machine the last
// one says how far to trust a row. Figures are percent of one core; undefined elsewhere than Linux.
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuShare {
  /** The process under load (Kend or the bare app). */
  serverPct: number;
  /** The harness process and its other children (load generation, notification receiver). */
  benchPct: number;
  /** Kernel threads (e.g. the journal and writeback threads our fsyncs keep busy). */
  kernelPct: number;
  /** The PostgreSQL server, every process of it (also any serving other clients of the machine). */
  postgresPct: number;
  /** Every other process on the machine. */
  otherPct: number;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

/**
 * Busy ticks of the whole machine: user, nice, system, steal. Interrupt and softirq time is left out: it is
 * charged to no process, and much of it is the benchmark's own loopback traffic.
 */
function machineBusy(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    return f[0]! + f[1]! + f[2]! + f[7]!;
  } catch {
    return undefined;
  }
}

/** pid → [parent pid, utime + stime ticks, command name] for every process. */
function processTable(): Map<number, [number, number, string]> {
  const table = new Map<number, [number, number, string]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command (which may contain spaces) start after the last ')'.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), [Number(f[1]), Number(f[11]) + Number(f[12]), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))]);
    } catch {
      /* exited meanwhile */
    }
  }
  return table;
}

export class CpuMonitor {
  private startBusy: number | undefined;
  private startedAt = 0;
  /** Per process of the benchmark: ticks at first sight and last seen. */
  private seen = new Map<number, { first: number; last: number }>();
  /** The same for kernel threads (children of kthreadd, pid 2). */
  private kernel = new Map<number, { first: number; last: number }>();
  /** The same for PostgreSQL server processes. */
  private postgres = new Map<number, { first: number; last: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly serverPid: number) {}

  private sample(initial: boolean): void {
    const table = processTable();
    const ours = new Set<number>([process.pid]);
    // Descendants of the harness (children are listed after their parents often, but not always).
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, [ppid]] of table) {
        if (!ours.has(pid) && ours.has(ppid)) {
          ours.add(pid);
          grew = true;
        }
      }
    }
    const note = (seen: Map<number, { first: number; last: number }>, pid: number, ticks: number) => {
      const entry = seen.get(pid);
      if (entry === undefined) seen.set(pid, { first: initial ? ticks : 0, last: ticks });
      else entry.last = ticks;
    };
    for (const [pid, [ppid, ticks, comm]] of table) {
      if (ours.has(pid)) note(this.seen, pid, ticks);
      else if (pid === 2 || ppid === 2) note(this.kernel, pid, ticks);
      else if (comm === 'postgres') note(this.postgres, pid, ticks);
    }
  }

  begin(): void {
    this.startBusy = machineBusy();
    if (this.startBusy === undefined) return;
    this.startedAt = performance.now();
    this.seen.clear();
    this.kernel.clear();
    this.postgres.clear();
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), 500);
    this.timer.unref();
  }

  end(): CpuShare | undefined {
    if (this.timer === undefined || this.startBusy === undefined) return undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample(false);
    const busy = machineBusy()! - this.startBusy;
    const seconds = (performance.now() - this.startedAt) / 1000;
    let server = 0;
    let bench = 0;
    for (const [pid, { first, last }] of this.seen) {
      if (pid === this.serverPid) server += last - first;
      else bench += last - first;
    }
    const sum = (m: Map<number, { first: number; last: number }>) => [...m.values()].reduce((acc, { first, last }) => acc + last - first, 0);
    const kernel = sum(this.kernel);
    const postgres = sum(this.postgres);
    const pct = (ticks: number) => Math.round((ticks / TICKS_PER_S / seconds) * 100);
    return {
      serverPct: pct(server),
      benchPct: pct(bench),
      kernelPct: pct(kernel),
      postgresPct: pct(postgres),
      otherPct: Math.max(0, pct(busy - server - bench - kernel - postgres)),
    };
  }
}

/** Percent of one core the machine was busy for during `ms` (before a run: everyone else's load). */
export async function machineBusyPct(ms: number): Promise<number | undefined> {
  const before = machineBusy();
  await new Promise((r) => setTimeout(r, ms));
  const after = machineBusy();
  return before === undefined || after === undefined ? undefined : Math.round(((after - before) / TICKS_PER_S / (ms / 1000)) * 100);
}
