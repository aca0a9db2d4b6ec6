// Keeps PostgreSQL's planner statistics in step with bulk loads: query plans (query-compile.ts) rely on
// row estimates of entities and their side tables, and right after a bulk load autovacuum has not yet
// analyzed them (it wakes once a minute): a semi-join planned for "one row" then probes 10,000 rows
// 10,000 times. So the store analyzes its own tables once the rows it wrote since the last ANALYZE
// reach the size they had then (and at least MIN_ROWS): a few ANALYZE runs while a table grows from 0
// to 100,000 entities, none in a steady state, which autovacuum covers.
import type { Pool } from 'pg';

/** Entities written by this process before the first ANALYZE is considered. */
export const MIN_ROWS = 500;

const ANALYZE = 'ANALYZE entities, entity_types, entity_attrs, entity_geo';

export interface AutoAnalyze {
  /** Records `entities` written (after their commit); may run ANALYZE before resolving. */
  written(entities: number): Promise<void>;
}

export function createAutoAnalyze(pool: Pool): AutoAnalyze {
  let since = 0;
  let analyzedSize = 0;
  let running: Promise<void> | null = null;
  return {
    async written(entities) {
      since += entities;
      if (since < MIN_ROWS || since < analyzedSize) return;
      if (running === null) {
        const size = analyzedSize + since;
        since = 0;
        running = pool
          .query(ANALYZE)
          .then(
            () => {
              analyzedSize = size;
            },
            // Not the owner of the tables, or a transient failure: autovacuum remains.
            () => {},
          )
          .finally(() => {
            running = null;
          });
      }
      await running;
    },
  };
}
