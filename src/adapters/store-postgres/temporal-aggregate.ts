// Aggregated temporal values (GS CIM 009 §4.5.19, §5.7.3 aggrMethods / aggrPeriodDuration; issue 6 item 3)
// in PostgreSQL, with the semantics of core reference-aggregate.ts: the eight methods as SQL aggregates over
// the instance views (instance-values.ts) of each attribute's counted instances (deletions left out),
// grouped by bucket. Each attribute's buckets start at the window's lower bound or at its own oldest counted
// instance; fixed periods bucket by integer division from that origin, calendar months by the boundaries of
// core bucketsFor, found per row with width_bucket (a binary search). Only one row per (entity, attribute,
// bucket) reaches JavaScript. Aggregations over whole hours read the hourly rollups instead (temporal-rollup.ts).
import type { PoolClient } from 'pg';
import { bucketsFor, isZeroPeriod, MAX_BUCKETS } from '../../core/temporal/buckets.ts';
import {
  AGGREGATION_METHODS,
  type AggregateSeries,
  type AggregationMethod,
  type TemporalEntityAggregates,
  type TemporalSelection,
} from '../../core/temporal/model.ts';
import type { AggregationRequest } from '../../ports/temporal-store.ts';
import { SqlParams } from './sql-build.ts';
import { pairsFrom, run, toTemporalEntity, type RecordRow } from './temporal-read.ts';
import { HOUR_MS, rollupAggregate, rollupEligible, rollupHours, rollupStats } from './temporal-rollup.ts';
import { instanceCond, TIME_COLUMN } from './temporal-select.ts';
import { textFromCodePointKey, textFromKey } from './text-key.ts';

/**
 * The SQL of each method over the subquery `s` of counted instances (a whitelist): the heap form reads
 * num, text and key; the index form (null when the method needs the heap) only what the covering index
 * holds. min and max have a numeric and a text form.
 */
const METHOD_COLUMNS: Record<AggregationMethod, readonly (readonly [string, string, string | null])[]> = {
  totalCount: [['total_count', 'count(s.key)::float8', 'count(*)::float8']],
  distinctCount: [['distinct_count', 'count(DISTINCT s.key)::float8', null]],
  sum: [['sum', 'sum(s.num)', 'sum(s.num)']],
  avg: [['avg', 'avg(s.num)', 'avg(s.num)']],
  sumsq: [['sumsq', 'sum(s.num * s.num)', 'sum(s.num * s.num)']],
  stddev: [['stddev', 'stddev_pop(s.num)', 'stddev_pop(s.num)']],
  min: [
    ['min_num', 'min(s.num)', 'min(s.num)'],
    ['min_text', 'min(s.text)', 'NULL::text COLLATE "C"'],
  ],
  max: [
    ['max_num', 'max(s.num)', 'max(s.num)'],
    ['max_text', 'max(s.text)', 'NULL::text COLLATE "C"'],
  ],
};

type Cell = number | string | null;

/** One aggregation row: the pair's index in the plan list, bucket number, method columns. */
interface AggregateRow {
  pair: number;
  b: number;
  [column: string]: Cell;
}

function methodColumns(methods: readonly AggregationMethod[], indexOnly: boolean): string {
  return [...new Set(methods)]
    .flatMap((m) => METHOD_COLUMNS[m].map(([alias, heap, index]) => `${indexOnly ? index : heap} AS ${alias}`))
    .join(', ');
}

/** How one attribute of one record is bucketed. */
interface PairPlan {
  seq: string;
  attr: string;
  /** Fixed periods: bucket b = [origin + b·period, origin + (b + 1)·period). */
  originMs: number;
  periodMs: number;
  /** Calendar periods: explicit boundaries (bucketsFor); b indexes them. */
  starts?: number[];
  ends?: number[];
}

/**
 * Per (record, attribute) of the page: the oldest and newest counted instance (deletions do not count) in
 * the window. On observedAt PostgreSQL turns min and max into one probe at each end of the covering index;
 * on the other time properties it is one pass over the attribute's rows. Pairs without a counted instance
 * do not appear: their attribute is not listed.
 */
async function pairRanges(
  client: PoolClient,
  tenant: string,
  selection: TemporalSelection,
  seqs: readonly string[],
): Promise<{ seq: string; attr: string; lo: number; hi: number }[]> {
  const params = new SqlParams();
  params.add(tenant, 'text');
  const t = `i.${TIME_COLUMN[selection.window.property]}`;
  const pairs = pairsFrom(selection, params, seqs);
  // The first and the last counted instance in time order, each one index probe: min()/max() with the
  // `counted` filter read the whole series (≈ 23 ms for 100,000 instances); an ordered LIMIT 1 stops at
  // the first counted row. A series without one has no row (CROSS JOIN), as `lo IS NOT NULL` dropped it.
  const cond = `i.tenant = $1 AND i.entity = p.entity AND i.attr = p.attr AND ${instanceCond(selection, params, 'i', true)} AND i.counted`;
  const text = `SELECT p.entity::text AS seq, p.attr, lo.t::float8 AS lo, hi.t::float8 AS hi
    FROM ${pairs}
    CROSS JOIN LATERAL (SELECT ${t} AS t FROM temporal_instances i WHERE ${cond} ORDER BY ${t} ASC LIMIT 1) lo
    CROSS JOIN LATERAL (SELECT ${t} AS t FROM temporal_instances i WHERE ${cond} ORDER BY ${t} DESC LIMIT 1) hi`;
  return (await run<{ seq: string; attr: string; lo: number; hi: number }>(client, { text, values: params.values })).rows;
}

/**
 * The buckets of one attribute (reference-aggregate.ts): from the window start or the oldest counted
 * instance; periodic ones up to the newest counted instance, a zero period up to the window end (else the
 * newest + 1 ms). More than MAX_BUCKETS up to the newest instance is refused as bucketsFor refuses it.
 */
function planPair(seq: string, attr: string, lo: number, hi: number, selection: TemporalSelection, request: AggregationRequest): PairPlan {
  const originMs = selection.window.fromMs ?? lo;
  const period = request.period;
  if (period === null || isZeroPeriod(period)) {
    return { seq, attr, originMs, periodMs: (selection.window.toMs ?? hi + 1) - originMs };
  }
  if (period.months === 0) {
    if (period.ms < 0) throw new RangeError('negative aggregation period');
    // bucketsFor's refusal without listing the buckets: integer division finds them.
    if (Math.ceil((hi + 1 - originMs) / period.ms) > MAX_BUCKETS) throw new RangeError(`more than ${MAX_BUCKETS} aggregation buckets`);
    return { seq, attr, originMs, periodMs: period.ms };
  }
  const buckets = bucketsFor(originMs, hi + 1, period);
  return { seq, attr, originMs, periodMs: 0, starts: buckets.map((b) => b.startMs), ends: buckets.map((b) => b.endMs) };
}

/** Pairs per statement: each is one subquery of a UNION ALL, planned with its own values. */
export const PAIRS_PER_STATEMENT = 32;

/**
 * Whether the covering index answers the aggregation (migration-v4.ts): a window on observedAt (the
 * indexed time), no datasetId filter, no distinctCount (it needs the key). min/max then see numbers only;
 * a pair with a bucket lacking numbers is aggregated again from the heap (aggregateRecords).
 */
function indexAnswers(selection: TemporalSelection, methods: readonly AggregationMethod[]): boolean {
  return selection.window.property === 'observedAt' && selection.datasetIds === undefined && !methods.includes('distinctCount');
}

/**
 * The aggregation of each planned pair, one UNION ALL branch per pair grouped by bucket alone: each branch
 * is planned with its own entity, attribute and origin (bound values of an unnamed statement), so the
 * planner knows how many instances it reads — an index-only scan of the covering index, or the heap
 * (sequential or bitmap) — and `OFFSET 0` hides the bucket expression from its distinct estimate, so it
 * hashes the buckets (a hash aggregate spills to disk if there are more than it thought) instead of
 * sorting every instance by a bucket it takes for as distinct as the times.
 */
async function aggregatePairs(
  client: PoolClient,
  tenant: string,
  selection: TemporalSelection,
  methods: readonly AggregationMethod[],
  plans: readonly PairPlan[],
  indexes: readonly number[],
  indexOnly: boolean,
): Promise<AggregateRow[]> {
  const rows: AggregateRow[] = [];
  const t = `i.${TIME_COLUMN[selection.window.property]}`;
  for (let from = 0; from < indexes.length; from += PAIRS_PER_STATEMENT) {
    const params = new SqlParams();
    params.add(tenant, 'text');
    const branches = indexes.slice(from, from + PAIRS_PER_STATEMENT).map((k) => {
      const p = plans[k];
      const bucket =
        p.starts === undefined
          ? `(${t} - ${params.add(p.originMs, 'bigint')}) / ${params.add(p.periodMs, 'bigint')}`
          : `width_bucket(${t}, ${params.add(p.starts, 'bigint[]')}) - 1`;
      const read = indexOnly ? 'i.num' : 'i.num, i.text, i.key';
      return `(SELECT ${params.add(k, 'int')}::float8 AS pair, s.b::float8 AS b, count(s.num)::float8 AS nnum, ${methodColumns(methods, indexOnly)}
        FROM (
          SELECT ${bucket} AS b, ${read}
          FROM temporal_instances i
          WHERE i.tenant = $1 AND i.entity = ${params.add(p.seq, 'bigint')} AND i.attr = ${params.add(p.attr, 'text')}
            AND ${instanceCond(selection, params, 'i', true)} AND i.counted
          OFFSET 0
        ) s
        GROUP BY s.b)`;
    });
    const text = `${branches.join('\n      UNION ALL ')}\n      ORDER BY 1, 2`;
    rows.push(...(await run<AggregateRow>(client, { text, values: params.values })).rows);
  }
  return rows;
}

/**
 * The series of one attribute from its bucket rows (reference-aggregate.ts): min and max per bucket over
 * numbers when the bucket has one, else over text (code-point order); a method whose value is null in every
 * bucket yields no series.
 */
function seriesOf(rows: readonly AggregateRow[], methods: readonly AggregationMethod[], plan: PairPlan): Partial<Record<AggregationMethod, AggregateSeries>> {
  const bucket = (b: number) =>
    plan.starts !== undefined
      ? { startMs: plan.starts[b], endMs: plan.ends![b] }
      : { startMs: plan.originMs + b * plan.periodMs, endMs: plan.originMs + (b + 1) * plan.periodMs };
  const value = (r: AggregateRow, m: AggregationMethod): Cell => {
    switch (m) {
      case 'totalCount':
        return r.total_count;
      case 'distinctCount':
        return r.distinct_count;
      case 'min':
      case 'max': {
        if ((r.nnum as number) > 0) return r[`${m}_num`];
        const text = r[`${m}_text`];
        return typeof text === 'string' ? textFromCodePointKey(text) : null;
      }
      default:
        return r[m];
    }
  };
  const out: Partial<Record<AggregationMethod, AggregateSeries>> = {};
  for (const m of new Set(methods)) {
    const series = rows.map((r) => ({ value: value(r, m), ...bucket(r.b) }));
    if (series.some((s) => s.value !== null)) out[m] = series;
  }
  return out;
}

/**
 * The series of the pairs whose buckets are whole hours, from the rollup cells, by pair index. A pair with a
 * counted instance lacking a number in its buckets is left to the scan (as on SQLite: the cells hold only
 * numbers' aggregates). Where every counted instance has a number, each bucket's totalCount is its count of
 * numbers and min/max are numeric, as the scan's `num` rows give them (seriesOf).
 */
async function rollupSeries(
  client: PoolClient,
  tenant: string,
  selection: TemporalSelection,
  request: AggregationRequest,
  plans: readonly PairPlan[],
  ranges: readonly { hi: number }[],
): Promise<Map<number, Partial<Record<AggregationMethod, AggregateSeries>>>> {
  const answered = new Map<number, Partial<Record<AggregationMethod, AggregateSeries>>>();
  const openEnded = (request.period === null || isZeroPeriod(request.period)) && selection.window.toMs === undefined;
  const picked: { k: number; lo: number; hi: number }[] = [];
  plans.forEach((p, k) => {
    const hours = rollupHours(selection, p, openEnded, ranges[k].hi);
    if (hours !== null) picked.push({ k, ...hours });
  });
  if (picked.length === 0) return answered;
  const methods = AGGREGATION_METHODS.filter((m) => request.methods.includes(m));
  const perCell = picked.every((x) => plans[x.k].periodMs === HOUR_MS);
  const { rows } = await client.query<{ pair: number; other: number; cols: string }>(
    rollupAggregate(methods, perCell)([
      tenant,
      picked.map((x) => x.k),
      picked.map((x) => plans[x.k].seq),
      picked.map((x) => plans[x.k].attr),
      picked.map((x) => plans[x.k].originMs),
      picked.map((x) => plans[x.k].periodMs),
      picked.map((x) => x.lo),
      picked.map((x) => x.hi),
    ]),
  );
  for (const row of rows) {
    if (row.other > 0) continue;
    const [b, ...values] = inBucketOrder(JSON.parse(row.cols) as [number[], ...(number | string | null)[][]]);
    const plan = plans[row.pair];
    const starts = b.map((x) => plan.originMs + x * plan.periodMs);
    const out: Partial<Record<AggregationMethod, AggregateSeries>> = {};
    methods.forEach((m, i) => {
      const column = values[i];
      const series: AggregateSeries = new Array(b.length);
      let any = false;
      for (let j = 0; j < b.length; j++) {
        const v = column[j];
        // JSON has no NaN or infinities: PostgreSQL writes them as strings.
        const value = typeof v === 'string' ? Number(v) : v;
        if (value !== null) any = true;
        series[j] = { value, startMs: starts[j], endMs: starts[j] + plan.periodMs };
      }
      if (any) out[m] = series;
    });
    answered.set(row.pair, out);
  }
  rollupStats.pairs += answered.size;
  return answered;
}

/**
 * The columns of a rollup row in ascending bucket order: the statement reads them in that order (an ordered
 * subquery feeding json_agg), which SQL does not promise, so it is checked here and sorted if ever not.
 */
function inBucketOrder<C extends unknown[]>(cols: [number[], ...C[]]): [number[], ...C[]] {
  const b = cols[0];
  let ordered = true;
  for (let i = 1; i < b.length && ordered; i++) ordered = b[i - 1] < b[i];
  if (ordered) return cols;
  const order = b.map((_x, i) => i).sort((x, y) => b[x] - b[y]);
  return cols.map((col) => order.map((i) => col[i])) as [number[], ...C[]];
}

/** The rows of the given pairs from the instances: the covering index when it answers, else the heap. */
async function scanPairs(
  client: PoolClient,
  tenant: string,
  selection: TemporalSelection,
  methods: readonly AggregationMethod[],
  plans: readonly PairPlan[],
  indexes: readonly number[],
): Promise<AggregateRow[]> {
  if (!indexAnswers(selection, methods)) return aggregatePairs(client, tenant, selection, methods, plans, indexes, false);
  let rows = await aggregatePairs(client, tenant, selection, methods, plans, indexes, true);
  // min/max over texts where a bucket has no number: those pairs again, from the heap.
  if (methods.includes('min') || methods.includes('max')) {
    const again = new Set(rows.filter((r) => r.nnum === 0).map((r) => r.pair));
    if (again.size > 0) {
      rows = rows.filter((r) => !again.has(r.pair));
      rows.push(...(await aggregatePairs(client, tenant, selection, methods, plans, [...again], false)));
    }
  }
  return rows;
}

/** The aggregations of a page of records (in page order), per attribute and method. */
export async function aggregateRecords(
  client: PoolClient,
  tenant: string,
  selection: TemporalSelection,
  records: readonly RecordRow[],
  request: AggregationRequest,
): Promise<TemporalEntityAggregates[]> {
  const ranges = records.length === 0 ? [] : await pairRanges(client, tenant, selection, records.map((r) => r.seq));
  const plans = ranges.map((r) => planPair(r.seq, r.attr, r.lo, r.hi, selection, request));
  const methods = request.methods;
  const rows: AggregateRow[] = [];
  let rest = plans.map((_p, k) => k);
  const fromRollups = rollupEligible(selection, methods) ? await rollupSeries(client, tenant, selection, request, plans, ranges) : new Map<number, never>();
  rest = rest.filter((k) => !fromRollups.has(k));
  if (rest.length > 0) rows.push(...(await scanPairs(client, tenant, selection, methods, plans, rest)));
  const byPair = new Map<number, AggregateRow[]>();
  for (const row of rows) {
    const list = byPair.get(row.pair) ?? [];
    byPair.set(row.pair, list);
    list.push(row);
  }
  const bySeq = new Map<string, TemporalEntityAggregates['attrs']>();
  plans.forEach((plan, k) => {
    const attrs = bySeq.get(plan.seq) ?? {};
    bySeq.set(plan.seq, attrs);
    attrs[textFromKey(plan.attr)] = fromRollups.get(k) ?? seriesOf(byPair.get(k) ?? [], request.methods, plan);
  });
  return records.map((record) => ({ entity: toTemporalEntity(record), attrs: bySeq.get(record.seq) ?? {} }));
}
