// Peak resident memory of a child process (Linux /proc): the kernel's high-water mark VmHWM, reset before
// each workload through /proc/<pid>/clear_refs, plus VmRSS polled every 100 ms as a fallback where the
// reset is not allowed. Elsewhere than Linux every figure is undefined.
import { readFileSync, writeFileSync } from 'node:fs';

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export class RssMonitor {
  private polledKb = 0;
  private resettable = true;
  private lifetimeKb = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pid: number) {}

  /** Starts a measurement window: resets the high-water mark and the polled maximum. */
  begin(): void {
    this.end();
    if (this.resettable) {
      try {
        writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      } catch {
        this.resettable = false;
      }
    }
    this.polledKb = statusKb(this.pid, 'VmRSS') ?? 0;
    this.timer = setInterval(() => {
      const kb = statusKb(this.pid, 'VmRSS');
      if (kb !== undefined && kb > this.polledKb) this.polledKb = kb;
    }, 100);
    this.timer.unref();
  }

  /** Ends the window; returns its peak RSS in MB (undefined where /proc is unavailable). */
  end(): number | undefined {
    if (this.timer === undefined) return undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    const hwm = this.resettable ? statusKb(this.pid, 'VmHWM') : undefined;
    const kb = Math.max(hwm ?? 0, this.polledKb);
    if (kb === 0) return undefined;
    this.lifetimeKb = Math.max(this.lifetimeKb, kb);
    return kb / 1024;
  }

  /** Highest peak over every window so far, in MB. */
  lifetimePeakMb(): number | undefined {
    const hwm = this.resettable ? 0 : statusKb(this.pid, 'VmHWM') ?? 0;
    const kb = Math.max(this.lifetimeKb, hwm);
    return kb === 0 ? undefined : kb / 1024;
  }
}
