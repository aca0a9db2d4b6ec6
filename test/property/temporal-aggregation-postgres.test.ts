// Runs the temporal aggregation property test (temporal-aggregation-property.ts) on PostgreSQL + PostGIS, in a
// fresh database; skipped with the reason when no PostgreSQL is reachable.
import { it } from 'node:test';
import { createPostgresStore } from '../../src/adapters/store-postgres/postgres-store.ts';
import { rollupStats } from '../../src/adapters/store-postgres/temporal-rollup.ts';
import { createTestDatabase, postgresAvailable } from '../support/postgres.ts';
import { runTemporalAggregationProperty } from './temporal-aggregation-property.ts';

const availability = await postgresAvailable();

if (!availability.ok) {
  // A skipped describe reports no test at all: this placeholder makes the skip and its reason visible.
  it('runs the temporal aggregation property test on PostgreSQL', { skip: availability.reason }, () => {});
} else {
  const baseUrl = availability.baseUrl;
  runTemporalAggregationProperty('postgres', async () => {
    const db = await createTestDatabase(baseUrl);
    return { store: await createPostgresStore({ url: db.url, poolSize: 4 }), cleanup: () => db.drop() };
  }, { rollupHits: () => rollupStats.pairs });
}
