// The SQLite TemporalStore (ports/temporal-store.ts; GS CIM 009 §5.6.11–5.6.16, §5.7.3–5.7.4, §4.5.19,
// §6.3.10): temporal queries and aggregations run as SQL over temporal_instances (migration v4), aggregations
// over whole hours over its hourly rollups (temporal-rollup.ts, migration v9); instances are appended by entity
// writes (temporal-write.ts), in their transaction.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import type { PageRequest } from '../../core/query/entity-query.ts';
import { bucketsFor, isZeroPeriod, MAX_BUCKETS } from '../../core/temporal/buckets.ts';
import type {
  AggregateSeries,
  AggregationMethod,
  Bucket,
  RecordedInstance,
  TemporalEntity,
  TemporalEntityAggregates,
  TemporalEntityInstances,
  TemporalSelection,
} from '../../core/temporal/model.ts';
import type { TenantId } from '../../core/tenant.ts';
import type { AggregationRequest, TemporalPage, TemporalStore } from '../../ports/temporal-store.ts';
import type { Sql } from './sql-fragment.ts';
import {
  compileAggregation,
  compileEntityPage,
  compileInstanceSlice,
  compileSeries,
  compileTimeBound,
  passMethods,
  type AggregatePass,
  type AggregateRow,
  type Bucketing,
  type RecordRow,
} from './temporal-compile.ts';
import { compileRollupAggregation, createRollupWriter, hourOf, ROLLUP_ROW, rollupPlan, rollupStats } from './temporal-rollup.ts';
import { FIND_SERIES, instanceRowValues, type InstanceRowValues } from './temporal-write.ts';

/** How many distinct compiled statements stay prepared (their SQL depends on the query's shape only). */
const STATEMENT_CACHE_SIZE = 128;

/** Instances deleted per transaction by the retention job: other writers get the lock between chunks. */
const PRUNE_CHUNK = 5000;

function toTemporalEntity(row: RecordRow): TemporalEntity {
  const e: TemporalEntity = {
    id: row.id,
    types: JSON.parse(row.types) as string[],
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
  if (row.scope !== null) e.scope = JSON.parse(row.scope) as string[];
  if (row.deleted_at !== null) e.deletedAt = row.deleted_at;
  return e;
}

/** Rows of a pass by bucket number. */
const byBucket = (rows: readonly AggregateRow[]): Map<number, AggregateRow> => new Map(rows.map((r) => [r.b, r]));

/**
 * The value of one method in one bucket, from the passes' rows (`num` always has the bucket): numeric methods
 * null without a number; min/max over numbers when the bucket has one, else over texts; totalCount is n when
 * every counted instance has a number (a number implies a key), else the key pass's count, as distinctCount.
 */
function bucketValue(method: AggregationMethod, num: AggregateRow, text: AggregateRow | undefined, key: AggregateRow | undefined): number | string | null {
  switch (method) {
    case 'totalCount':
      return num.n === num.nnum ? num.n : (key?.totalCount ?? 0);
    case 'distinctCount':
      return key?.[method] ?? 0;
    case 'min':
    case 'max':
      return (num.nnum as number) > 0 ? (num[`${method}_num`] ?? null) : (text?.[`${method}_text`] ?? null);
    default:
      return num[method] ?? null;
  }
}

export function createSqliteTemporalStore(db: BetterSqlite3.Database): TemporalStore {
  const prepared = new Map<string, BetterSqlite3.Statement<unknown[]>>();
  /** A cached statement; `raw` ones (rows as arrays) are kept apart, as raw mode is a statement's state. */
  function statement(text: string, raw = false): BetterSqlite3.Statement<unknown[]> {
    const key = raw ? `raw\u0000${text}` : text;
    let s = prepared.get(key);
    if (s !== undefined) prepared.delete(key);
    else s = raw ? db.prepare<unknown[]>(text).raw(true) : db.prepare<unknown[]>(text);
    prepared.set(key, s);
    if (prepared.size > STATEMENT_CACHE_SIZE) prepared.delete(prepared.keys().next().value!);
    return s;
  }
  const all = <T>(q: Sql): T[] => statement(q.text).all(...q.values) as T[];
  const rawRows = (q: Sql): unknown[][] => statement(q.text, true).all(...q.values) as unknown[][];

  const stmt = {
    getRecord: db.prepare<[string, string], RecordRow>(
      'SELECT id, types, scope, created_at, modified_at, deleted_at FROM temporal_entities WHERE tenant = ? AND id = ?',
    ),
    findSeries: db.prepare<[string, string, string], number>(FIND_SERIES).pluck(),
    // The instance id and its series (tenant, entity, attribute) must both match: tenants stay apart.
    findInstance: db.prepare<[string, number], { seq: number; observed_at: number | null }>(
      'SELECT seq, observed_at FROM temporal_instances WHERE instance_id = ? AND sid = ?',
    ),
    replaceInstance: db.prepare<[...InstanceRowValues, number]>(
      `UPDATE temporal_instances SET dataset_id = ?, instance_id = ?, observed_at = ?, created_at = ?, modified_at = ?, deleted_at = ?,
         num = ?, text = ?, key = ?, doc = ?
       WHERE seq = ?`,
    ),
    deleteInstance: db.prepare<[number]>('DELETE FROM temporal_instances WHERE seq = ?'),
    pruneChunk: db.prepare<[number, number], { sid: number; observed_at: number | null }>(
      // The oldest chunk in recording order; a chunk without an old instance ends the walk (see migration v7).
      // The removed instances' series and times name the rollup cells to recount.
      `DELETE FROM temporal_instances WHERE seq IN (SELECT seq FROM (SELECT seq, created_at FROM temporal_instances ORDER BY seq LIMIT ?) WHERE created_at < ?)
       RETURNING sid, observed_at`,
    ),
  };
  const rollups = createRollupWriter(db);

  /** The instance row of (tenant, entity, attribute, instanceId), or undefined. */
  function locate(tenant: string, entityId: string, attr: string, instanceId: string): { sid: number; seq: number; observed_at: number | null } | undefined {
    const sid = stmt.findSeries.get(tenant, entityId, attr);
    if (sid === undefined) return undefined;
    const row = stmt.findInstance.get(instanceId, sid);
    return row === undefined ? undefined : { sid, ...row };
  }

  /** The rollup cells an instance time lies in (none without observedAt). */
  const cellsOf = (...times: (number | null)[]): number[] => times.filter((t): t is number => t !== null).map(hourOf);

  // Corrections and removals recount the cells they touch (temporal-rollup.ts), in the same transaction.
  const replaceTx = db.transaction((tenant: string, entityId: string, attr: string, instance: RecordedInstance): boolean => {
    const at = locate(tenant, entityId, attr, instance.instanceId);
    if (at === undefined) return false;
    const values = instanceRowValues(instance);
    stmt.replaceInstance.run(...values, at.seq);
    rollups.recompute(at.sid, cellsOf(at.observed_at, values[2]));
    return true;
  });
  const deleteTx = db.transaction((tenant: string, entityId: string, attr: string, instanceId: string): boolean => {
    const at = locate(tenant, entityId, attr, instanceId);
    if (at === undefined) return false;
    stmt.deleteInstance.run(at.seq);
    rollups.recompute(at.sid, cellsOf(at.observed_at));
    return true;
  });
  const pruneTx = db.transaction((chunk: number, beforeMs: number): number => {
    const removed = stmt.pruneChunk.all(chunk, beforeMs);
    const cells = new Map<number, number[]>();
    for (const r of removed) {
      if (r.observed_at === null) continue;
      const list = cells.get(r.sid) ?? [];
      list.push(hourOf(r.observed_at));
      cells.set(r.sid, list);
    }
    for (const [sid, hours] of cells) rollups.recompute(sid, hours);
    return removed.length;
  });

  function entityPage(tenant: TenantId, selection: TemporalSelection, page: PageRequest): { records: TemporalEntity[]; total?: number } {
    const compiled = compileEntityPage(tenant, selection, page);
    const records = all<RecordRow>(compiled.select).map(toTemporalEntity);
    if (compiled.count === null) return { records };
    return { records, total: all<{ n: number }>(compiled.count)[0].n };
  }

  /** The series a selection reads of one entity: of the attributes it names, else of every recorded one. */
  const seriesOf = (tenant: TenantId, entityId: string, selection: TemporalSelection): { sid: number; attr: string }[] =>
    all<{ sid: number; attr: string }>(compileSeries(tenant, entityId, selection));

  // Read transactions: the page, its instances and the count come from one snapshot.
  const queryTx = db.transaction(
    (tenant: TenantId, selection: TemporalSelection, lastN: number | undefined, cap: number, page: PageRequest): TemporalPage<TemporalEntityInstances> => {
      const { records, total } = entityPage(tenant, selection, page);
      const keep = lastN === undefined ? cap : Math.min(lastN, cap);
      // One row beyond `keep` means more instances; the cap (not lastN) cut them when lastN is absent or above it.
      const capCuts = lastN === undefined || lastN > cap;
      const newest = lastN !== undefined;
      const entities = records.map((entity): TemporalEntityInstances => {
        const out: TemporalEntityInstances = { entity, attrs: {}, truncated: false };
        for (const { sid, attr } of seriesOf(tenant, entity.id, selection)) {
          const docs = all<{ doc: string }>(compileInstanceSlice(sid, selection, keep + 1, newest));
          if (docs.length === 0) continue;
          if (docs.length > keep) {
            docs.length = keep;
            if (capCuts) out.truncated = true;
          }
          if (newest) docs.reverse();
          out.attrs[attr] = docs.map((d) => JSON.parse(d.doc) as RecordedInstance);
        }
        return out;
      });
      const result: TemporalPage<TemporalEntityInstances> = { entities };
      if (total !== undefined) result.total = total;
      return result;
    },
  );

  /** Runs one pass of one attribute's aggregation when some requested method needs it. */
  function passRows(sid: number, selection: TemporalSelection, pass: AggregatePass, methods: readonly AggregationMethod[], bucketing: Bucketing): AggregateRow[] {
    return all<AggregateRow>(compileAggregation(sid, selection, pass, methods, bucketing));
  }

  /**
   * The series from the hourly rollups when the buckets are whole hours and the methods allow, and every
   * counted instance there has a number (as the `num` pass would give them: totalCount is n, min/max numeric);
   * null otherwise. Rows come raw (arrays: half the cost of objects for ~1,000 rows) and go straight into
   * the series.
   */
  function rollupSeries(
    sid: number,
    selection: TemporalSelection,
    methods: readonly AggregationMethod[],
    bucketing: Bucketing,
    openEnded: boolean,
  ): Partial<Record<AggregationMethod, AggregateSeries>> | null {
    const plan = bucketing.kind === 'fixed' ? rollupPlan(selection, methods, bucketing, openEnded) : null;
    if (plan === null) return null;
    const compiled = compileRollupAggregation(sid, plan, methods);
    const rows = rawRows(compiled.sql);
    if (!rows.every((r) => r[ROLLUP_ROW.other] === 0)) return null;
    rollupStats.pairs += 1;
    // Fixed buckets (rollupPlan) by arithmetic, as aggregateAttr's `bucket` computes them, without an object per bucket.
    const { originMs, periodMs } = plan;
    const out: Partial<Record<AggregationMethod, AggregateSeries>> = {};
    for (const m of new Set(methods)) {
      const col = compiled.columns[m]!;
      const series: AggregateSeries = new Array(rows.length);
      let any = false;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        const value = row[col] as number | null;
        if (value !== null) any = true;
        const b = row[ROLLUP_ROW.b] as number;
        series[i] = { value, startMs: originMs + periodMs * b, endMs: originMs + periodMs * (b + 1) };
      }
      if (any) out[m] = series;
    }
    return out;
  }

  /**
   * One attribute's aggregation (the semantics of core reference-aggregate.ts): buckets from the window's
   * lower bound or the attribute's oldest counted instance; the buckets holding a counted instance, each
   * method's series left out when its value is null in all of them. Null when nothing is counted.
   */
  function aggregateAttr(sid: number, selection: TemporalSelection, aggregation: AggregationRequest): Partial<Record<AggregationMethod, AggregateSeries>> | null {
    const bound = (newest: boolean): number | undefined => all<{ t: number }>(compileTimeBound(sid, selection, newest))[0]?.t;
    const newest = bound(true);
    if (newest === undefined) return null;
    const w = selection.window;
    const origin = w.fromMs ?? bound(false)!;
    const period = aggregation.period;
    let bucketing: Bucketing;
    let bucket: (b: number) => Bucket;
    if (isZeroPeriod(period)) {
      // One bucket over the window: a period as wide as [origin, end).
      const end = w.toMs ?? newest + 1;
      bucketing = { kind: 'fixed', originMs: origin, periodMs: end - origin };
      bucket = () => ({ startMs: origin, endMs: end });
    } else if (period!.months === 0) {
      const ms = period!.ms;
      // As bucketsFor would, refuse more periods than MAX_BUCKETS up to the newest instance.
      if ((newest + 1 - origin) / ms > MAX_BUCKETS) throw new RangeError(`more than ${MAX_BUCKETS} aggregation buckets`);
      bucketing = { kind: 'fixed', originMs: origin, periodMs: ms };
      bucket = (b) => ({ startMs: origin + ms * b, endMs: origin + ms * (b + 1) });
    } else {
      const buckets = bucketsFor(origin, newest + 1, period);
      bucketing = { kind: 'bounds', pairs: buckets.map((x) => [x.startMs, x.endMs] as const) };
      bucket = (b) => buckets[b]!;
    }
    const methods = aggregation.methods;
    const fromRollups = rollupSeries(sid, selection, methods, bucketing, isZeroPeriod(period) && w.toMs === undefined);
    if (fromRollups !== null) return fromRollups;
    const num = passRows(sid, selection, 'num', methods, bucketing);
    if (num.length === 0) return {};
    const needText = passMethods('text', methods).length > 0 && num.some((r) => r.nnum === 0);
    const text = needText ? byBucket(passRows(sid, selection, 'text', methods, bucketing)) : new Map<number, AggregateRow>();
    // A number implies a key (instance-values.ts): where every counted instance has one, totalCount is n.
    const allNumeric = num.every((r) => r.n === r.nnum);
    const keyMethods = passMethods('key', methods).filter((m) => m === 'distinctCount' || !allNumeric);
    const key = keyMethods.length > 0 ? byBucket(passRows(sid, selection, 'key', keyMethods, bucketing)) : new Map<number, AggregateRow>();
    const out: Partial<Record<AggregationMethod, AggregateSeries>> = {};
    const bounds = num.map((r) => bucket(r.b));
    for (const m of new Set(methods)) {
      const series = num.map((r, i) => ({ value: bucketValue(m, r, text.get(r.b), key.get(r.b)), startMs: bounds[i]!.startMs, endMs: bounds[i]!.endMs }));
      if (series.some((x) => x.value !== null)) out[m] = series;
    }
    return out;
  }

  function aggregateEntity(tenant: TenantId, entity: TemporalEntity, selection: TemporalSelection, aggregation: AggregationRequest): TemporalEntityAggregates {
    const result: TemporalEntityAggregates = { entity, attrs: {} };
    for (const { sid, attr } of seriesOf(tenant, entity.id, selection)) {
      const series = aggregateAttr(sid, selection, aggregation);
      if (series !== null) result.attrs[attr] = series;
    }
    return result;
  }

  const aggregateTx = db.transaction(
    (tenant: TenantId, selection: TemporalSelection, aggregation: AggregationRequest, page: PageRequest): TemporalPage<TemporalEntityAggregates> => {
      const { records, total } = entityPage(tenant, selection, page);
      const out: TemporalPage<TemporalEntityAggregates> = { entities: records.map((e) => aggregateEntity(tenant, e, selection, aggregation)) };
      if (total !== undefined) out.total = total;
      return out;
    },
  );

  return {
    async getTemporalEntity(tenant, id) {
      const row = stmt.getRecord.get(tenant, id);
      return row === undefined ? null : toTemporalEntity(row);
    },

    async queryTemporal(tenant, selection, instances, page) {
      return queryTx.deferred(tenant, selection, instances.lastN, instances.instanceLimit, page);
    },

    async aggregateTemporal(tenant, selection, aggregation, page) {
      return aggregateTx.deferred(tenant, selection, aggregation, page);
    },

    async replaceInstance(tenant, entityId, attr, instance) {
      return replaceTx.immediate(tenant, entityId, attr, instance);
    },

    async deleteInstance(tenant, entityId, attr, instanceId) {
      return deleteTx.immediate(tenant, entityId, attr, instanceId);
    },

    async pruneHistory(beforeMs) {
      // In chunks, each its own transaction, yielding between them: a large backlog neither holds the
      // write lock nor blocks the event loop for long.
      let removed = 0;
      for (;;) {
        const n = pruneTx.immediate(PRUNE_CHUNK, beforeMs);
        removed += n;
        if (n < PRUNE_CHUNK) return removed;
        await yieldToLoop();
      }
    },
  };
}
