// Hourly rollups of the PostgreSQL instance log (issue 6 item 5, issue 3 item 7; aggregations of GS CIM 009
// §4.5.19), the design of the SQLite store (store-sqlite/temporal-rollup.ts): per (tenant, entity, attribute)
// and UTC hour, over the counted observedAt instances (observed_at set, `counted`) of every datasetId: how many
// (n), how many with a number (nnum), and sum, sumsq, min, max of the numbers. An aggregation whose buckets are
// unions of whole hours reads one row per hour instead of every instance (temporal_rollups, migration v8).
// Kept exact in the writing transaction: appends add their cells in the statement that inserts the instances
// (temporal-write.ts); whatever rewrites or removes instances (instance PATCH/DELETE, datasetId drops,
// retention) recounts the cells it touched from the log (min/max cannot be "subtracted"); entity drops delete
// their cells. Concurrency (READ COMMITTED): every writer of a series' cells holds its temporal_entities row
// locked — appends by the record upsert or a FOR NO KEY UPDATE lookup, recounts by lockRecords first — so a
// recount's fresh snapshot sees every append that reached the cells before it, and later appends wait.
import type { PoolClient } from 'pg';
import { AGGREGATION_METHODS, type AggregationMethod, type TemporalSelection } from '../../core/temporal/model.ts';
import { statement } from './statements.ts';

export const HOUR_MS = 3_600_000;

/** The UTC hour holding `ms` (floor, also before 1970). */
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS);

/** The same in SQL on a bigint epoch-ms column (PostgreSQL's % keeps the dividend's sign, hence the fold). */
export const hourSql = (t: string): string => `((${t} - ((${t} % ${HOUR_MS}) + ${HOUR_MS}) % ${HOUR_MS}) / ${HOUR_MS})`;

/**
 * Migration v8. The key leads like the instance indexes (tenant, entity, attr) so a series' hours are one
 * index range in hour order. Filled from the log as it stands.
 */
export const TEMPORAL_ROLLUP_DDL = `
  CREATE TABLE temporal_rollups (
    tenant text COLLATE "C" NOT NULL,
    entity bigint NOT NULL,
    attr text COLLATE "C" NOT NULL,
    hour bigint NOT NULL,
    n bigint NOT NULL,
    nnum bigint NOT NULL,
    sum double precision,
    sumsq double precision,
    min double precision,
    max double precision,
    CONSTRAINT temporal_rollups_pkey PRIMARY KEY (tenant, entity, attr, hour)
  );
  INSERT INTO temporal_rollups (tenant, entity, attr, hour, n, nnum, sum, sumsq, min, max)
    SELECT tenant, entity, attr, ${hourSql('observed_at')}, count(*), count(num), sum(num), sum(num * num), min(num), max(num)
    FROM temporal_instances WHERE observed_at IS NOT NULL AND counted GROUP BY 1, 2, 3, 4;
`;

/** The cell aggregates of instance rows `s` (columns after the key, in table order). */
const CELL_AGGREGATES = 'count(*), count(s.num), sum(s.num), sum(s.num * s.num), min(s.num), max(s.num)';

/**
 * A CTE `roll` adding the instances a CTE named `ins` inserted (RETURNING tenant, entity, attr, observed_at,
 * num, counted) to their cells. LEAST/GREATEST ignore NULLs; a sum stays NULL until the cell's first number.
 */
export const ROLLUP_APPEND_CTE = `roll AS (
       INSERT INTO temporal_rollups AS c (tenant, entity, attr, hour, n, nnum, sum, sumsq, min, max)
       SELECT s.tenant, s.entity, s.attr, ${hourSql('s.observed_at')}, ${CELL_AGGREGATES}
       FROM ins s WHERE s.observed_at IS NOT NULL AND s.counted
       GROUP BY 1, 2, 3, 4
       ON CONFLICT (tenant, entity, attr, hour) DO UPDATE SET
         n = c.n + excluded.n,
         nnum = c.nnum + excluded.nnum,
         sum = coalesce(c.sum + excluded.sum, c.sum, excluded.sum),
         sumsq = coalesce(c.sumsq + excluded.sumsq, c.sumsq, excluded.sumsq),
         min = least(c.min, excluded.min),
         max = greatest(c.max, excluded.max)
     )`;

/** Overwrites cells with recounted values (both recount statements end with it). */
const OVERWRITE = `ON CONFLICT (tenant, entity, attr, hour) DO UPDATE SET
       n = excluded.n, nnum = excluded.nnum, sum = excluded.sum, sumsq = excluded.sumsq, min = excluded.min, max = excluded.max`;

export const rollupSql = {
  // $1 tenants, $2 entity seqs: the records whose cells are about to be recounted, in key order (no deadlock
  // between two recounts). Appends hold the same rows (see the header).
  lockRecords: statement(
    'rollup_lock_records',
    `SELECT 1 FROM temporal_entities r JOIN unnest($1::text[], $2::bigint[]) AS d(tenant, entity) ON r.tenant = d.tenant AND r.seq = d.entity
     ORDER BY r.tenant, r.seq FOR NO KEY UPDATE OF r`,
  ),
  // $1 tenants, $2 entity seqs, $3 attribute keys, $4 hours: those cells recounted from the log. One
  // statement: the cells still holding an instance are overwritten, the others deleted (disjoint rows, so
  // the two parts cannot step on each other within the statement).
  recountCells: statement(
    'rollup_recount_cells',
    `WITH d AS (
       SELECT DISTINCT tenant, entity, attr, hour FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) AS u(tenant, entity, attr, hour)
     ), fresh AS (
       SELECT d.tenant, d.entity, d.attr, d.hour, ${CELL_AGGREGATES}
       FROM d JOIN temporal_instances s ON s.tenant = d.tenant AND s.entity = d.entity AND s.attr = d.attr
         AND s.observed_at >= d.hour * ${HOUR_MS} AND s.observed_at < (d.hour + 1) * ${HOUR_MS} AND s.counted
       GROUP BY 1, 2, 3, 4
     ), emptied AS (
       DELETE FROM temporal_rollups c USING d
       WHERE c.tenant = d.tenant AND c.entity = d.entity AND c.attr = d.attr AND c.hour = d.hour
         AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.tenant = d.tenant AND f.entity = d.entity AND f.attr = d.attr AND f.hour = d.hour)
     )
     INSERT INTO temporal_rollups AS c (tenant, entity, attr, hour, n, nnum, sum, sumsq, min, max)
     SELECT * FROM fresh
     ${OVERWRITE}`,
  ),
  // $1 tenant, $2 entity id keys, $3 attribute keys: every cell of those series recounted (after a drop of
  // one datasetId's instances, or of all of them), as recountCells.
  recountSeries: statement(
    'rollup_recount_series',
    `WITH d AS (
       SELECT DISTINCT r.seq AS entity, u.attr FROM unnest($2::text[], $3::text[]) AS u(id, attr)
       JOIN temporal_entities r ON r.tenant = $1 AND r.id = u.id
     ), fresh AS (
       SELECT $1::text AS tenant, d.entity, d.attr, ${hourSql('s.observed_at')} AS hour, ${CELL_AGGREGATES}
       FROM d JOIN temporal_instances s ON s.tenant = $1 AND s.entity = d.entity AND s.attr = d.attr
         AND s.observed_at IS NOT NULL AND s.counted
       GROUP BY 1, 2, 3, 4
     ), emptied AS (
       DELETE FROM temporal_rollups c USING d
       WHERE c.tenant = $1 AND c.entity = d.entity AND c.attr = d.attr
         AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.entity = c.entity AND f.attr = c.attr AND f.hour = c.hour)
     )
     INSERT INTO temporal_rollups AS c (tenant, entity, attr, hour, n, nnum, sum, sumsq, min, max)
     SELECT * FROM fresh
     ${OVERWRITE}`,
  ),
  // $1 tenant, $2 entity id keys: the records about to have series recounted (recountSeries), in key order.
  lockRecordsById: statement(
    'rollup_lock_records_by_id',
    'SELECT 1 FROM temporal_entities WHERE tenant = $1 AND id = ANY ($2::text[]) ORDER BY id FOR NO KEY UPDATE',
  ),
};

/**
 * The per-bucket expression of each method the cells answer (a whitelist): over the cells `c` of a bucket, and
 * over one cell when each bucket is one cell (a period of one hour).
 */
const ROLLUP_EXPRESSIONS: Partial<Record<AggregationMethod, readonly [grouped: string, cell: string]>> = {
  totalCount: ['sum(c.n)::float8', 'c.n::float8'],
  sum: ['sum(c.sum)', 'c.sum'],
  avg: ['sum(c.sum) / nullif(sum(c.nnum), 0)', 'c.sum / nullif(c.nnum, 0)'],
  sumsq: ['sum(c.sumsq)', 'c.sumsq'],
  min: ['min(c.min)', 'c.min'],
  max: ['max(c.max)', 'c.max'],
};

/** One statement per set of methods (in AGGREGATION_METHODS order) and bucketing, built once. */
const aggregateStatements = new Map<string, ReturnType<typeof statement>>();

/**
 * Pairs $2… (k, entity, attr, origin, period, lo, hi) of tenant $1, one row per pair that has cells in hours
 * [lo, hi): `other`, its counted instances without a number (which the cells cannot aggregate), and `cols`,
 * the JSON text of one array per column — the bucket numbers b = (hour start − origin) / period, ascending,
 * then each requested method's value per bucket, in the order of `methods`. Columns rather than a row per
 * bucket: for 1,000 buckets pg parsed 1,000 rows × every method's column (a third of the request's Node
 * time); this is one JSON.parse of the columns the request needs. Each pair is aggregated in a LATERAL
 * subquery read in bucket order (json_agg with its own ORDER BY sorted every column again: 1.5 of 3.3 ms);
 * the caller checks that order rather than trusting it. `perCell` (every period one hour, so every bucket is
 * one cell): the cells as they are in key order, no grouping. Floats print as float8out prints them (the
 * shortest exact text, as the text protocol sends them); non-finite ones as strings ("NaN", "Infinity").
 */
export function rollupAggregate(methods: readonly AggregationMethod[], perCell: boolean): ReturnType<typeof statement> {
  const ordered = AGGREGATION_METHODS.filter((m) => methods.includes(m));
  const key = `${perCell ? 'c' : 'g'}${ordered.map((m) => ROLLUP_KEYS[m]).join('')}`;
  let s = aggregateStatements.get(key);
  if (s === undefined) {
    const values = ordered.map((m, i) => {
      const expressions = ROLLUP_EXPRESSIONS[m];
      if (expressions === undefined) throw new Error(`no rollup column for ${m}`);
      return `, ${expressions[perCell ? 1 : 0]} AS v${i}`;
    });
    const arrays = ['g.b', ...ordered.map((_m, i) => `g.v${i}`)].map((v) => `json_agg(${v})`).join(', ');
    const cells = 'FROM temporal_rollups c WHERE c.tenant = $1 AND c.entity = p.entity AND c.attr = p.attr AND c.hour >= p.lo AND c.hour < p.hi';
    const buckets = perCell
      ? `SELECT c.hour - p.lo AS b, c.n - c.nnum AS other${values.join('')} ${cells} ORDER BY c.hour`
      : `SELECT (c.hour * ${HOUR_MS} - p.origin) / p.period AS b, sum(c.n - c.nnum) AS other${values.join('')} ${cells} GROUP BY 1 ORDER BY 1`;
    s = statement(
      `rollup_aggregate_${key}`,
      `SELECT p.k AS pair, r.other, r.cols
       FROM unnest($2::int[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
         AS p(k, entity, attr, origin, period, lo, hi)
       CROSS JOIN LATERAL (
         SELECT sum(g.other)::float8 AS other, json_build_array(${arrays})::text AS cols FROM (${buckets}) g HAVING count(*) > 0
       ) r`,
    );
    aggregateStatements.set(key, s);
  }
  return s;
}

/** Short statement-name letters of the methods. */
const ROLLUP_KEYS: Record<AggregationMethod, string> = {
  totalCount: 't',
  distinctCount: 'd',
  sum: 's',
  avg: 'a',
  min: 'n',
  max: 'x',
  stddev: 'v',
  sumsq: 'q',
};

/**
 * How many (entity, attribute) aggregations were answered from the cells since start: a diagnostic that lets
 * the property test prove it exercised this path (answers are the same either way).
 */
export const rollupStats = { pairs: 0 };

/** Recounts the cells (tenant, entity seq, attribute key, hour) after instances there changed or went. */
export async function recountCells(client: PoolClient, cells: readonly { tenant: string; entity: string; attr: string; hour: number }[]): Promise<void> {
  if (cells.length === 0) return;
  await client.query(rollupSql.lockRecords([cells.map((c) => c.tenant), cells.map((c) => c.entity)]));
  await client.query(
    rollupSql.recountCells([cells.map((c) => c.tenant), cells.map((c) => c.entity), cells.map((c) => c.attr), cells.map((c) => c.hour)]),
  );
}

/** The methods the cells can answer; distinctCount and stddev (and text min/max) need the instances. */
const ROLLUP_METHODS: ReadonlySet<AggregationMethod> = new Set(['totalCount', 'sum', 'avg', 'min', 'max', 'sumsq']);

/**
 * Whether a selection and methods may be answered from the cells at all (as SQLite's rollupPlan): a window on
 * observedAt, no datasetId filter (cells count every datasetId), an upper bound on an hour boundary, methods the
 * cells hold. Each pair must then also pass rollupHours.
 */
export function rollupEligible(selection: TemporalSelection, methods: readonly AggregationMethod[]): boolean {
  const w = selection.window;
  if (w.property !== 'observedAt' || selection.datasetIds !== undefined) return false;
  if (w.toMs !== undefined && w.toMs % HOUR_MS !== 0) return false;
  return methods.every((m) => ROLLUP_METHODS.has(m));
}

/**
 * The hours [lo, hi) one pair reads when every bucket is a union of whole cells — an origin on an hour and a
 * period of whole hours, or one bucket without upper bound (zero period, open window) — else null. `newest` is
 * the pair's newest counted instance in the window: without an upper bound, its hour is the last one read.
 */
export function rollupHours(
  selection: TemporalSelection,
  plan: { originMs: number; periodMs: number; starts?: number[] },
  openEnded: boolean,
  newest: number,
): { lo: number; hi: number } | null {
  if (plan.starts !== undefined || plan.originMs % HOUR_MS !== 0) return null;
  if (plan.periodMs % HOUR_MS !== 0 && !openEnded) return null;
  const to = selection.window.toMs;
  return { lo: plan.originMs / HOUR_MS, hi: to === undefined ? hourOf(newest) + 1 : to / HOUR_MS };
}
