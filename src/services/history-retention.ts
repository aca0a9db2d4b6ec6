// The history retention job (issue 6 item 1, KEND_HISTORY_RETENTION): periodically removes recorded
// instances older than the retention period. Calendar periods (P1M, P1Y) count back calendar months.
import type { Logger } from 'pino';
import { addPeriods } from '../core/temporal/buckets.ts';
import type { PeriodDuration } from '../core/temporal/model.ts';
import type { Clock } from '../ports/clock.ts';
import type { TemporalStore } from '../ports/temporal-store.ts';

export interface HistoryRetentionDeps {
  temporal: Pick<TemporalStore, 'pruneHistory'>;
  clock: Clock;
  retention: PeriodDuration;
  intervalMs: number;
  logger: Pick<Logger, 'info' | 'warn'>;
}

/** The instant before which history is pruned: now minus the retention period. */
export function retentionCutoff(nowMs: number, retention: PeriodDuration): number {
  return addPeriods(nowMs, retention, -1);
}

export function createHistoryRetention(deps: HistoryRetentionDeps) {
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | undefined;

  async function pruneOnce(): Promise<number> {
    const removed = await deps.temporal.pruneHistory(retentionCutoff(deps.clock.nowMs(), deps.retention));
    if (removed > 0) deps.logger.info({ removed }, 'history retention: old instances removed');
    return removed;
  }

  function tick(): void {
    if (running !== undefined) return;
    running = pruneOnce()
      .then(() => undefined)
      .catch((err: unknown) => deps.logger.warn({ err }, 'history retention run failed'))
      .finally(() => {
        running = undefined;
      });
  }

  return {
    pruneOnce,
    /** Runs once now, then every intervalMs; the timer does not keep the process alive. */
    start(): void {
      if (timer !== undefined) return;
      timer = setInterval(tick, deps.intervalMs);
      timer.unref();
      tick();
    },
    /** Stops the timer and waits for a run in progress. */
    async stop(): Promise<void> {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export type HistoryRetention = ReturnType<typeof createHistoryRetention>;
