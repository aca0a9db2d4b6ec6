// Runs the temporal aggregation property test (temporal-aggregation-property.ts) on SQLite, in memory.
import { createSqliteStore } from '../../src/adapters/store-sqlite/sqlite-store.ts';
import { rollupStats } from '../../src/adapters/store-sqlite/temporal-rollup.ts';
import { runTemporalAggregationProperty } from './temporal-aggregation-property.ts';

runTemporalAggregationProperty(
  'sqlite :memory:',
  async () => ({ store: createSqliteStore({ path: ':memory:' }), cleanup: async () => {} }),
  { rollupHits: () => rollupStats.pairs },
);
