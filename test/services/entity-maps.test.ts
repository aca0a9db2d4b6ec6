// Service tests of EntityMaps (guide §19): paging over candidates, gathering matches, and the sweep that
// deletes expired maps' rows (no unbounded growth), on an in-memory SQLite store with an injected clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createSqliteStore } from '../../src/adapters/store-sqlite/sqlite-store.ts';
import { DEFAULT_TENANT } from '../../src/core/tenant.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { createEntityMapService } from '../../src/services/entity-maps.ts';
import { createEntityMapSweep } from '../../src/services/entity-map-sweep.ts';
import { eventually } from '../support/harness.ts';

let nowMs = Date.parse('2030-01-01T00:00:00.000Z');
const clock: Clock = { nowMs: () => nowMs, nowIso: () => new Date(nowMs).toISOString() };
const HOUR = { months: 0, ms: 3_600_000 };

function setup(maxEntries = 1000) {
  const db = createSqliteStore({ path: ':memory:', clock });
  const maps = createEntityMapService({ store: db.entityMaps, clock, defaultLifetime: HOUR, maxLifetime: { months: 0, ms: 2 * 3_600_000 }, maxEntries });
  return { db, maps };
}
const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ entityId: `urn:x:${i}`, sources: ['@none'] }));

describe('EntityMap service', () => {
  it('pages over 500 candidates with matches spread thinly: offsets count matches, non-matches leave the map', async () => {
    const { db, maps } = setup();
    try {
      const head = await maps.create(DEFAULT_TENANT, entries(500), HOUR);
      const matching = (id: string): boolean => Number(id.slice(6)) % 7 === 0;
      const evaluate = async (ids: string[]) => new Map(ids.filter(matching).map((id) => [id, id]));
      const p1 = await maps.page(DEFAULT_TENANT, head.id, { limit: 10, offset: 0, count: false }, evaluate);
      assert.deepEqual(p1.items, [0, 7, 14, 21, 28, 35, 42, 49, 56, 63].map((n) => `urn:x:${n}`));
      assert.equal(p1.hasMore, true);
      assert.equal(p1.total, undefined);
      const last = await maps.page(DEFAULT_TENANT, head.id, { limit: 10, offset: 70, count: true }, evaluate);
      assert.deepEqual(last.items, ['urn:x:490', 'urn:x:497']);
      assert.equal(last.hasMore, false);
      assert.equal(last.total, 72);
      const left = await db.entityMaps.readEntityMapEntries(DEFAULT_TENANT, head.id, -1, 1000);
      assert.equal(left.length, 72);
    } finally {
      await db.close();
    }
  });

  it('gathers matches page by page, joining the sources of an id met twice, and refuses more than the maximum', async () => {
    const { db, maps } = setup(5);
    try {
      const pages = [[{ entityId: 'urn:a', sources: ['@none'] }, { entityId: 'urn:b', sources: ['r1'] }], [{ entityId: 'urn:b', sources: ['r2'] }]];
      const got = await maps.collect(async (offset) => ({ entries: pages[offset / 2] ?? [], more: offset === 0 }), 2);
      assert.deepEqual(got, [{ entityId: 'urn:a', sources: ['@none'] }, { entityId: 'urn:b', sources: ['r1', 'r2'] }]);
      await assert.rejects(maps.collect(async () => ({ entries: entries(6), more: false })), /more than 5/);
      await assert.rejects(maps.create(DEFAULT_TENANT, entries(6), HOUR), /more than 5/);
    } finally {
      await db.close();
    }
  });

  it('the sweep deletes the rows of expired maps and keeps live ones', async () => {
    const { db, maps } = setup();
    const sweep = createEntityMapSweep({ sweep: () => maps.sweep(), intervalMs: 100, logger: pino({ level: 'silent' }) });
    try {
      const short = await maps.create(DEFAULT_TENANT, entries(3), { months: 0, ms: 1000 });
      const long = await maps.create(DEFAULT_TENANT, entries(3), HOUR);
      sweep.start();
      nowMs += 1000;
      assert.equal(await maps.find(DEFAULT_TENANT, short.id), null);
      await eventually(async () => ((await db.entityMaps.readEntityMapEntries(DEFAULT_TENANT, short.id, -1, 10)).length === 0 ? true : undefined), 5000, 'sweep');
      assert.equal((await db.entityMaps.readEntityMapEntries(DEFAULT_TENANT, long.id, -1, 10)).length, 3);
    } finally {
      await sweep.stop();
      await db.close();
    }
  });

  it('entityMapLifetime must be a positive ISO 8601 duration', () => {
    const { db, maps } = setup();
    try {
      assert.deepEqual(maps.parseLifetime(undefined), HOUR);
      assert.deepEqual(maps.parseLifetime('PT5M'), { months: 0, ms: 300_000 });
      for (const bad of ['', '5', 'PT', 'P0D', '-PT1S', 'PT1X']) assert.throws(() => maps.parseLifetime(bad), /entityMapLifetime/, bad);
    } finally {
      void db.close();
    }
  });
});
