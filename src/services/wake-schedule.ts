// A set of future instants with one timer at the earliest: the delivery worker claims throttled notifications
// (outbox rows whose notBefore lies ahead, issue 5 item 6) when they fall due, not at its next poll.
export interface WakeSchedule {
  /** Calls `fire` at (or just after) `atMs`; instants already planned are not planned twice. */
  add(atMs: number): void;
  clear(): void;
  size(): number;
}

export function createWakeSchedule(nowMs: () => number, fire: () => void): WakeSchedule {
  /** Ascending, distinct. */
  let instants: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  let timerAt: number | undefined;

  function arm(): void {
    const next = instants[0];
    if (next === timerAt) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    timerAt = next;
    if (next === undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = undefined;
      const now = nowMs();
      let due = 0;
      while (due < instants.length && instants[due]! <= now) due++;
      // setTimeout may fire a little early by the injected clock: keep the instant and re-arm.
      instants = instants.slice(due);
      arm();
      if (due > 0) fire();
    }, Math.max(0, next - nowMs()));
    timer.unref();
  }

  return {
    add(atMs: number): void {
      let lo = 0;
      let hi = instants.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (instants[mid]! < atMs) lo = mid + 1;
        else hi = mid;
      }
      if (instants[lo] === atMs) return;
      instants.splice(lo, 0, atMs);
      if (lo === 0) arm();
    },
    clear(): void {
      instants = [];
      arm();
    },
    size: () => instants.length,
  };
}
