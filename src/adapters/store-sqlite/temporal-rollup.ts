// Hourly rollups of the instance log (issue 6 item 5; aggregations of GS CIM 009 §4.5.19): per series and UTC
// hour, over the counted observedAt instances (observed_at set, not a deletion) of every datasetId: how many
// (n), how many with a number (nnum), and sum, sumsq, min, max of the numbers. An aggregation whose buckets are
// unions of whole hours reads 1 row per hour instead of every instance (temporal_rollups, migration v9).
// Kept exact: appends add to their cells in the write's transaction; anything that rewrites or removes
// instances (instance PATCH/DELETE, attribute and entity drops, retention) recomputes the cells it touched
// from the log, so a cell never drifts from the instances it summarises (min/max cannot be "subtracted").
import type BetterSqlite3 from 'better-sqlite3';
import type { AggregationMethod, TemporalSelection } from '../../core/temporal/model.ts';
import { join, raw, sql, type Sql } from './sql-fragment.ts';

export const HOUR_MS = 3_600_000;

/** The UTC hour holding `ms` (floor, also before 1970). */
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS);

/** One cell's contribution: what an append adds to (sid, hour). */
export interface RollupDelta {
  sid: number;
  hour: number;
  n: number;
  nnum: number;
  sum: number | null;
  sumsq: number | null;
  min: number | null;
  max: number | null;
}

/** Adds one counted observedAt instance (its `num`, null when it has none) to the deltas of one write. */
export function addToDelta(deltas: Map<string, RollupDelta>, sid: number, observedMs: number, num: number | null): void {
  const hour = hourOf(observedMs);
  const key = `${sid}:${hour}`;
  let d = deltas.get(key);
  if (d === undefined) {
    d = { sid, hour, n: 0, nnum: 0, sum: null, sumsq: null, min: null, max: null };
    deltas.set(key, d);
  }
  d.n += 1;
  if (num === null) return;
  d.nnum += 1;
  d.sum = (d.sum ?? 0) + num;
  d.sumsq = (d.sumsq ?? 0) + num * num;
  d.min = d.min === null || num < d.min ? num : d.min;
  d.max = d.max === null || num > d.max ? num : d.max;
}

const DELTA_COLUMNS = 8;
const MAX_DELTAS_PER_UPSERT = 64;

/**
 * Merges deltas into their cells. SQLite's two-argument min()/max() return NULL when either side is NULL, hence
 * the CASEs: a cell without numbers has NULL sum/min/max until its first number.
 */
const UPSERT_TAIL = `ON CONFLICT (sid, hour) DO UPDATE SET
  n = n + excluded.n,
  nnum = nnum + excluded.nnum,
  sum = CASE WHEN excluded.sum IS NULL THEN sum WHEN sum IS NULL THEN excluded.sum ELSE sum + excluded.sum END,
  sumsq = CASE WHEN excluded.sumsq IS NULL THEN sumsq WHEN sumsq IS NULL THEN excluded.sumsq ELSE sumsq + excluded.sumsq END,
  min = CASE WHEN excluded.min IS NULL THEN min WHEN min IS NULL THEN excluded.min ELSE min(min, excluded.min) END,
  max = CASE WHEN excluded.max IS NULL THEN max WHEN max IS NULL THEN excluded.max ELSE max(max, excluded.max) END`;

/** The cells of one series' counted observedAt instances, recomputed from the log (hour as a floor). */
const CELLS_FROM_LOG = `SELECT sid, (observed_at - ((observed_at % ${HOUR_MS}) + ${HOUR_MS}) % ${HOUR_MS}) / ${HOUR_MS} AS hour,
    count(*), count(num), sum(num), sum(num * num), min(num), max(num)
  FROM temporal_instances`;

export interface RollupWriter {
  /** Adds one write's deltas (inside its transaction). */
  apply(deltas: Map<string, RollupDelta>): void;
  /** Recomputes the given cells of one series from the log (after instances there changed or went). */
  recompute(sid: number, hours: Iterable<number>): void;
  /** Recomputes every cell of one series (after an attribute drop removed some of its instances). */
  rebuild(sid: number): void;
}

export function createRollupWriter(db: BetterSqlite3.Database): RollupWriter {
  const stmt = {
    clearCell: db.prepare<[number, number]>('DELETE FROM temporal_rollups WHERE sid = ? AND hour = ?'),
    fillCell: db.prepare<[number, number, number]>(
      `INSERT INTO temporal_rollups (sid, hour, n, nnum, sum, sumsq, min, max)
       ${CELLS_FROM_LOG} WHERE sid = ? AND observed_at >= ? AND observed_at < ? AND deleted_at IS NULL GROUP BY 1, 2`,
    ),
    clearSeries: db.prepare<[number]>('DELETE FROM temporal_rollups WHERE sid = ?'),
    fillSeries: db.prepare<[number]>(
      `INSERT INTO temporal_rollups (sid, hour, n, nnum, sum, sumsq, min, max)
       ${CELLS_FROM_LOG} WHERE sid = ? AND observed_at IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2`,
    ),
  };
  const upserts = new Map<number, BetterSqlite3.Statement<unknown[]>>();
  const upsert = (rows: number): BetterSqlite3.Statement<unknown[]> => {
    let s = upserts.get(rows);
    if (s === undefined) {
      const tuple = `(${new Array(DELTA_COLUMNS).fill('?').join(', ')})`;
      s = db.prepare<unknown[]>(
        `INSERT INTO temporal_rollups (sid, hour, n, nnum, sum, sumsq, min, max) VALUES ${new Array(rows).fill(tuple).join(', ')} ${UPSERT_TAIL}`,
      );
      upserts.set(rows, s);
    }
    return s;
  };

  return {
    apply(deltas) {
      if (deltas.size === 0) return;
      const all = [...deltas.values()];
      for (let i = 0; i < all.length; i += MAX_DELTAS_PER_UPSERT) {
        const chunk = all.slice(i, i + MAX_DELTAS_PER_UPSERT);
        const values: unknown[] = [];
        for (const d of chunk) values.push(d.sid, d.hour, d.n, d.nnum, d.sum, d.sumsq, d.min, d.max);
        upsert(chunk.length).run(...values);
      }
    },
    recompute(sid, hours) {
      for (const hour of new Set(hours)) {
        stmt.clearCell.run(sid, hour);
        stmt.fillCell.run(sid, hour * HOUR_MS, (hour + 1) * HOUR_MS);
      }
    },
    rebuild(sid) {
      stmt.clearSeries.run(sid);
      stmt.fillSeries.run(sid);
    },
  };
}

/**
 * How many (entity, attribute) aggregations were answered from the cells since start: a diagnostic that lets
 * the property test prove it exercised this path (answers are the same either way).
 */
export const rollupStats = { pairs: 0 };

/** The methods the cells can answer; distinctCount and stddev (and text min/max) need the instances. */
const ROLLUP_METHODS: ReadonlySet<AggregationMethod> = new Set(['totalCount', 'sum', 'avg', 'min', 'max', 'sumsq']);

/** Where an aggregation may read the cells: hours [fromHour, toHour) grouped into buckets from `originMs`. */
export interface RollupPlan {
  originMs: number;
  periodMs: number;
  fromHour: number;
  toHour: number | null;
}

/**
 * A plan when every bucket is a union of whole cells and every requested method comes from them: the window
 * on observedAt, no datasetId filter (cells count every datasetId), an origin and upper bound on hour
 * boundaries and a period of whole hours — or one bucket open to the newest instance. Null otherwise: the
 * caller scans the instances.
 */
export function rollupPlan(
  selection: TemporalSelection,
  methods: readonly AggregationMethod[],
  bucketing: { originMs: number; periodMs: number },
  openEnded: boolean,
): RollupPlan | null {
  const w = selection.window;
  if (w.property !== 'observedAt' || selection.datasetIds !== undefined) return null;
  if (!methods.every((m) => ROLLUP_METHODS.has(m))) return null;
  const { originMs, periodMs } = bucketing;
  if (originMs % HOUR_MS !== 0 || (w.toMs !== undefined && w.toMs % HOUR_MS !== 0)) return null;
  // A period of whole hours keeps every cell inside one bucket; so does a single bucket without upper bound.
  if (periodMs % HOUR_MS !== 0 && !openEnded) return null;
  return { originMs, periodMs, fromHour: originMs / HOUR_MS, toHour: w.toMs === undefined ? null : w.toMs / HOUR_MS };
}

const ROLLUP_COLUMNS: Partial<Record<AggregationMethod, string>> = {
  totalCount: 'sum(r.n) AS n',
  sum: 'sum(r.sum) AS sum',
  avg: 'sum(r.sum) / sum(r.nnum) AS avg',
  sumsq: 'sum(r.sumsq) AS sumsq',
  min: 'min(r.min) AS min_num',
  max: 'max(r.max) AS max_num',
};

/** The same per single cell. */
const CELL_COLUMNS: Partial<Record<AggregationMethod, string>> = {
  totalCount: 'r.n AS n',
  sum: 'r.sum AS sum',
  avg: 'r.sum / r.nnum AS avg',
  sumsq: 'r.sumsq AS sumsq',
  min: 'r.min AS min_num',
  max: 'r.max AS max_num',
};

/** Positions of the leading columns of a rollup row (compileRollupAggregation); the methods' follow. */
export const ROLLUP_ROW = { b: 0, other: 1 } as const;

/**
 * Per bucket: b, `other` (counted instances without a number, which the cells cannot aggregate: the caller
 * scans the instances when a bucket has any), then a column per requested method (`columns` gives its
 * position; totalCount is n) — only those: for 1,000 buckets each column is 1,000 values to read. Meant for
 * raw rows.
 */
export function compileRollupAggregation(
  sid: number,
  plan: RollupPlan,
  methods: readonly AggregationMethod[],
): { sql: Sql; columns: Partial<Record<AggregationMethod, number>> } {
  const upper = plan.toHour === null ? raw('') : sql` AND r.hour < ${plan.toHour}`;
  const perCell = plan.periodMs === HOUR_MS;
  const exprs = perCell ? CELL_COLUMNS : ROLLUP_COLUMNS;
  const columns: Partial<Record<AggregationMethod, number>> = {};
  const cols: Sql[] = [];
  for (const m of new Set(methods)) {
    if (exprs[m] === undefined) continue;
    columns[m] = 2 + cols.length;
    cols.push(raw(exprs[m]!));
  }
  const tail = cols.length > 0 ? sql`, ${join(cols, ', ')}` : raw('');
  if (perCell) {
    // A bucket per cell: the cells as they are, in key order — no grouping, no sort (1,000 buckets: 2.6 → 1.4 ms).
    return {
      sql: sql`SELECT r.hour - ${plan.fromHour} AS b, r.n - r.nnum AS other${tail}
        FROM temporal_rollups r WHERE r.sid = ${sid} AND r.hour >= ${plan.fromHour}${upper} ORDER BY r.hour`,
      columns,
    };
  }
  return {
    sql: sql`SELECT CAST((r.hour * ${HOUR_MS} - ${plan.originMs}) / ${plan.periodMs} AS INTEGER) AS b,
        sum(r.n - r.nnum) AS other${tail}
      FROM temporal_rollups r WHERE r.sid = ${sid} AND r.hour >= ${plan.fromHour}${upper} GROUP BY b ORDER BY b`,
    columns,
  };
}
