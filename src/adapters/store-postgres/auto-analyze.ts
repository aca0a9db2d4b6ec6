// Keeps PostgreSQL's planner statistics and visibility map in step with bulk loads: query plans
// (query-compile.ts) rely on row estimates of entities and their side tables, and right after a bulk load
// autovacuum has not yet analyzed them (it wakes once a minute): a semi-join planned for "one row" then
// probes 10,000 rows 10,000 times. Paged type scans and the value-index drivers read indexes alone
// (index-only scans), which PostgreSQL can only do on pages the visibility map marks all-visible, and only
// VACUUM marks them. So the store vacuums and analyzes its own tables once the rows written since the last
// run reach half the size the table had then (and at least MIN_ROWS): a dozen runs while a table grows
// from 0 to 100,000 entities (the last leaves at most a third of it unmarked, which autovacuum, asked to
// come early on entities by migration v7, covers), none in a steady state. The size starts at the table's
// size when the store opens: a node started on a large database leaves it to autovacuum instead of
// vacuuming every table after its first few hundred writes. VACUUM visits only the pages changed since it
// last ran.
import type { Pool } from 'pg';

/** Entities written by this process before the first run is considered. */
export const MIN_ROWS = 500;

// SKIP_LOCKED: a node that finds another node vacuuming leaves it to that one instead of waiting.
const VACUUM = 'VACUUM (ANALYZE, SKIP_LOCKED) entities, entity_types, entity_attrs, entity_geo';

export interface AutoAnalyze {
  /** Records `entities` written (after their commit); may run VACUUM (ANALYZE) before resolving. */
  written(entities: number): Promise<void>;
}

/** The planner's estimate of the entities table's rows (0 when never analyzed): the size to start from. */
export async function entitiesEstimate(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    "SELECT greatest(reltuples, 0)::bigint::text AS n FROM pg_class WHERE oid = 'entities'::regclass",
  );
  return Number(rows[0]?.n ?? 0);
}

export function createAutoAnalyze(pool: Pool, initialSize = 0): AutoAnalyze {
  let since = 0;
  let analyzedSize = initialSize;
  let running: Promise<void> | null = null;
  return {
    async written(entities) {
      since += entities;
      if (since < MIN_ROWS || since * 2 < analyzedSize) return;
      if (running === null) {
        const size = analyzedSize + since;
        since = 0;
        running = pool
          .query(VACUUM)
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
