// Keeps the temporal instance table ready for index-only aggregation after bulk appends (issue 6 item 5):
// numeric aggregations read the covering index alone (migration-v4.ts), which PostgreSQL can only do on
// pages the visibility map marks all-visible, and only VACUUM marks them. Right after a bulk load (100,000
// instances through the temporal API) autovacuum has not come yet — it wakes once a minute — so every
// aggregation would visit the heap. The store therefore vacuums (and analyzes) the history tables itself
// once the instances it appended since the last run reach half the table's size then (and at least
// MIN_INSTANCES): eight runs while a series grows to 100,000 rows (the last one leaves at most a third of
// the pages unmarked), none in a steady state that autovacuum covers. VACUUM of an append-only table visits
// only the new pages.
import type { Pool } from 'pg';

/** Instances appended by this process before the first VACUUM is considered. */
export const MIN_INSTANCES = 5_000;

// SKIP_LOCKED: a node that finds another node vacuuming leaves it to that one instead of waiting.
const VACUUM = 'VACUUM (ANALYZE, SKIP_LOCKED) temporal_instances, temporal_entities';

export interface HistoryVacuum {
  /** Records `instances` appended (after their commit); may run VACUUM before resolving. */
  appended(instances: number): Promise<void>;
}

export function createHistoryVacuum(pool: Pool): HistoryVacuum {
  let since = 0;
  let vacuumedSize = 0;
  let running: Promise<void> | null = null;
  return {
    async appended(instances) {
      if (instances === 0) return;
      since += instances;
      if (since < MIN_INSTANCES || since * 2 < vacuumedSize) return;
      if (running === null) {
        const size = vacuumedSize + since;
        since = 0;
        running = pool
          .query(VACUUM)
          .then(
            () => {
              vacuumedSize = size;
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
