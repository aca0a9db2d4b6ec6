// The EntityMap sweep (guide §19): expired maps are invisible at once (stores compare expiresAt on every
// read), and this job deletes their rows periodically so the tables do not grow without bound.
import type { Logger } from 'pino';

export interface EntityMapSweepDeps {
  sweep: () => Promise<number>;
  intervalMs: number;
  logger: Pick<Logger, 'debug' | 'warn'>;
}

export function createEntityMapSweep(deps: EntityMapSweepDeps) {
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | undefined;

  function tick(): void {
    if (running !== undefined) return;
    running = deps
      .sweep()
      .then((removed) => {
        if (removed > 0) deps.logger.debug({ removed }, 'expired EntityMaps removed');
      })
      .catch((err: unknown) => deps.logger.warn({ err }, 'EntityMap sweep failed'))
      .finally(() => {
        running = undefined;
      });
  }

  return {
    /** Runs every intervalMs; the timer does not keep the process alive. */
    start(): void {
      if (timer !== undefined) return;
      timer = setInterval(tick, deps.intervalMs);
      timer.unref();
    },
    /** Stops the timer and waits for a run in progress. */
    async stop(): Promise<void> {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
