// Compiles temporal queries (GS CIM 009 §5.7.3–5.7.4, §4.5.19 aggregations, §6.3.10 instance cap) to SQLite
// statements with bound parameters only: the entity page over temporal_entities, then per (entity, attribute)
// slices — instances under the cap and lastN, aggregations per bucket — each one index range, so the work
// follows what is returned rather than the length of the history. Pure: no database.
import type { EntitySelector, PageRequest } from '../../core/query/entity-query.ts';
import type { AggregationMethod, TemporalSelection, TimeProperty } from '../../core/temporal/model.ts';
import { scopeCondition, selectorCondition, type SelectorTarget } from './query-compile.ts';
import type { QCompileContext } from './q-sql.ts';
import { SQL_FN } from './sql-functions.ts';
import { FALSE, TRUE, createAliases, join, or, raw, sql, type Sql } from './sql-fragment.ts';

/** The column of each time property (identifiers from this whitelist only). */
const TIME_COLUMN: Record<TimeProperty, string> = {
  observedAt: 'observed_at',
  createdAt: 'created_at',
  modifiedAt: 'modified_at',
  deletedAt: 'deleted_at',
};

/** The instance time of the window's property, for ORDER BY and bucketing. */
export function timeColumn(property: TimeProperty, alias = 'i'): Sql {
  return raw(`${alias}.${TIME_COLUMN[property]}`);
}

/**
 * The same in a WHERE clause. createdAt is written `+i.created_at`: its only index is the retention job's
 * (created_at alone, across tenants), which a query must not pick over the series prefix of the others.
 */
function timeFilterColumn(property: TimeProperty, alias: string): Sql {
  return raw(`${property === 'createdAt' ? '+' : ''}${alias}.${TIME_COLUMN[property]}`);
}

/** The conditions on a selected instance row (alias `i` by default): datasetIds and the time window. */
export function instanceConditions(selection: TemporalSelection, alias = 'i'): Sql {
  const a = raw(alias);
  const parts: Sql[] = [];
  if (selection.datasetIds !== undefined) {
    parts.push(
      selection.datasetIds.length === 0
        ? FALSE
        : sql`coalesce(${a}.dataset_id, '@none') IN (SELECT value FROM json_each(${JSON.stringify(selection.datasetIds)}))`,
    );
  }
  const w = selection.window;
  const t = timeFilterColumn(w.property, alias);
  parts.push(sql`${t} IS NOT NULL`);
  if (w.fromMs !== undefined) parts.push(sql`${t} >= ${w.fromMs}`);
  if (w.toMs !== undefined) parts.push(sql`${t} < ${w.toMs}`);
  return join(parts, ' AND ');
}

/** The selection's attributes as a condition on temporal_attrs (alias given); TRUE when it names none. */
function attrCondition(selection: TemporalSelection, alias: string): Sql {
  if (selection.attrs === undefined) return TRUE;
  if (selection.attrs.length === 0) return FALSE;
  return sql`${raw(alias)}.attr IN (SELECT value FROM json_each(${JSON.stringify(selection.attrs)}))`;
}

/** Selectors read the temporal record: its id, and its types as a JSON array. */
const RECORD_TARGET: SelectorTarget = {
  id: raw('r.id'),
  hasType: (name, t) => sql`EXISTS (SELECT 1 FROM json_each(r.types) ${t} WHERE ${t}.value = ${name})`,
};

/** At most this many ids become bound values of an IN list (SQLite allows 32,766 variables per statement). */
const MAX_LISTED_IDS = 1000;

/** The ids every match must have one of, when each selector lists ids (and they are few); else null. */
function idsOfEverySelector(selectors: readonly EntitySelector[]): string[] | null {
  const ids = new Set<string>();
  for (const s of selectors) {
    if (s.ids === undefined) return null;
    for (const id of s.ids) ids.add(id);
  }
  return ids.size > 0 && ids.size <= MAX_LISTED_IDS ? [...ids] : null;
}

/** The records that match the selection and have at least one selected instance in the window. */
function recordConditions(tenant: string, selection: TemporalSelection): Sql {
  const ctx: QCompileContext = { aliases: createAliases(), forceJson: false };
  const parts: Sql[] = [sql`r.tenant = ${tenant}`];
  if (selection.selectors !== undefined && selection.selectors.length > 0) {
    const listed = idsOfEverySelector(selection.selectors);
    // Redundant with the selectors, but as bound values the planner sees how few they are and looks the
    // records up by (tenant, id); otherwise it walked the tenant's records in seq order to spare a sort —
    // 100,000 records read per retrieve (45 ms) once a village had that many (issue 6 item 5 benchmark).
    if (listed !== null) parts.push(sql`r.id IN (${join(listed.map((id) => sql`${id}`), ', ')})`);
    parts.push(or(selection.selectors.map((s) => selectorCondition(s, ctx, RECORD_TARGET))));
  }
  if (selection.scopeQ !== undefined) parts.push(scopeCondition(selection.scopeQ, ctx, raw('r.scope')));
  parts.push(sql`EXISTS (SELECT 1 FROM temporal_attrs ser JOIN temporal_instances x ON x.sid = ser.sid
    WHERE ser.tenant = r.tenant AND ser.entity_id = r.id AND ${attrCondition(selection, 'ser')} AND ${instanceConditions(selection, 'x')})`);
  return join(parts, ' AND ');
}

export interface RecordRow {
  id: string;
  types: string;
  scope: string | null;
  created_at: string;
  modified_at: string;
  deleted_at: string | null;
}

export interface CompiledEntityPage {
  /** RecordRow rows of the page in first-recording order. */
  select: Sql;
  /** Row `{ n }` when the page asks for a count. */
  count: Sql | null;
}

export function compileEntityPage(tenant: string, selection: TemporalSelection, page: PageRequest): CompiledEntityPage {
  const where = recordConditions(tenant, selection);
  const select = sql`SELECT r.id AS id, r.types AS types, r.scope AS scope, r.created_at AS created_at, r.modified_at AS modified_at, r.deleted_at AS deleted_at
    FROM temporal_entities r WHERE ${where} ORDER BY r.seq LIMIT ${page.limit} OFFSET ${page.offset}`;
  const count = page.count ? sql`SELECT count(*) AS n FROM temporal_entities r WHERE ${recordConditions(tenant, selection)}` : null;
  return { select, count };
}

/** Rows `{ sid, attr }`: the series of one entity the selection reads (its attributes, else all), by name. */
export function compileSeries(tenant: string, entityId: string, selection: TemporalSelection): Sql {
  return sql`SELECT ser.sid AS sid, ser.attr AS attr FROM temporal_attrs ser
    WHERE ser.tenant = ${tenant} AND ser.entity_id = ${entityId} AND ${attrCondition(selection, 'ser')} ORDER BY ser.attr`;
}

/** The conditions of one series' selected instances: the sid first, so the slice is one index range. */
function sliceConditions(sid: number, selection: TemporalSelection): Sql {
  return sql`i.sid = ${sid} AND ${instanceConditions(selection)}`;
}

/**
 * Rows `{ doc }`: the first `limit` selected instances of one series in time order (ties by recording
 * order), or with `newest` the last ones, newest first. The index delivers this order, so the work is
 * O(limit) however long the history — unlike a ROW_NUMBER() window over the whole history, which took 65 ms
 * to return the first 1,000 of 100,000 instances where this takes 1–2 ms.
 */
export function compileInstanceSlice(sid: number, selection: TemporalSelection, limit: number, newest: boolean): Sql {
  const t = timeColumn(selection.window.property);
  const dir = raw(newest ? ' DESC' : '');
  return sql`SELECT i.doc AS doc FROM temporal_instances i WHERE ${sliceConditions(sid, selection)}
    ORDER BY ${t}${dir}, i.seq${dir} LIMIT ${limit}`;
}

/**
 * Row `{ t }` when the series has a counted instance (not a deletion) in the selection: its oldest (or
 * newest) time, one index seek (deleted_at is in the observedAt index).
 */
export function compileTimeBound(sid: number, selection: TemporalSelection, newest: boolean): Sql {
  const t = timeColumn(selection.window.property);
  return sql`SELECT ${t} AS t FROM temporal_instances i WHERE ${sliceConditions(sid, selection)} AND i.deleted_at IS NULL
    ORDER BY ${t}${raw(newest ? ' DESC' : '')} LIMIT 1`;
}

/** How instances are grouped: fixed periods from an origin, or explicit [start, end) pairs (calendar months). */
export type Bucketing = { kind: 'fixed'; originMs: number; periodMs: number } | { kind: 'bounds'; pairs: readonly (readonly [number, number])[] };

/**
 * The three passes of one attribute's aggregation, each over the counted instances (deletions are not):
 * - `num`: every counted instance — `n`, `nnum` (how many have a number) and the numeric methods, min and
 *   max as `min_num`/`max_num`; for observedAt it reads the index alone (num and deleted_at are in it);
 * - `text`: min/max (`min_text`, `max_text`) of the counted instances without a number, for the buckets
 *   that have no number at all;
 * - `key`: totalCount and distinctCount.
 */
export type AggregatePass = 'num' | 'text' | 'key';

const PASS_COLUMNS: Record<AggregatePass, Partial<Record<AggregationMethod, readonly [string, string][]>>> = {
  num: {
    sum: [['sum', 'sum(i.num)']],
    avg: [['avg', 'avg(i.num)']],
    sumsq: [['sumsq', 'sum(i.num * i.num)']],
    stddev: [['stddev', `${SQL_FN.stddevPop}(i.num)`]],
    min: [['min_num', 'min(i.num)']],
    max: [['max_num', 'max(i.num)']],
  },
  text: {
    min: [['min_text', 'min(i.text)']],
    max: [['max_text', 'max(i.text)']],
  },
  key: {
    totalCount: [['totalCount', 'count(i.key)']],
    distinctCount: [['distinctCount', 'count(DISTINCT i.key)']],
  },
};

const PASS_FILTER: Record<AggregatePass, string> = {
  num: '',
  text: ' AND i.num IS NULL AND i.text IS NOT NULL',
  key: ' AND i.key IS NOT NULL',
};

/** The methods of `methods` a pass computes. */
export function passMethods(pass: AggregatePass, methods: readonly AggregationMethod[]): AggregationMethod[] {
  return [...new Set(methods)].filter((m) => PASS_COLUMNS[pass][m] !== undefined);
}

/** One aggregation row: the bucket number, then the pass's columns (PASS_COLUMNS aliases, n and nnum). */
export interface AggregateRow {
  b: number;
  [column: string]: number | string | null;
}

/**
 * One pass over one series (an attribute of an entity), per bucket: fixed periods group by floor((t − origin) /
 * period); boundary pairs drive the scan, each bucket one index range. Buckets without a row of the pass
 * yield no row.
 */
export function compileAggregation(
  sid: number,
  selection: TemporalSelection,
  pass: AggregatePass,
  methods: readonly AggregationMethod[],
  bucketing: Bucketing,
): Sql {
  const columns = passMethods(pass, methods).flatMap((m) => PASS_COLUMNS[pass][m]!.map(([alias, expr]) => raw(`${expr} AS ${alias}`)));
  if (pass === 'num') columns.unshift(raw('count(*) AS n'), raw('count(i.num) AS nnum'));
  const cols = join(columns, ', ');
  const where = sql`${sliceConditions(sid, selection)} AND i.deleted_at IS NULL${raw(PASS_FILTER[pass])}`;
  if (bucketing.kind === 'fixed') {
    const t = timeColumn(selection.window.property);
    return sql`SELECT CAST((${t} - ${bucketing.originMs}) / ${bucketing.periodMs} AS INTEGER) AS b, ${cols}
      FROM temporal_instances i WHERE ${where} GROUP BY b ORDER BY b`;
  }
  const t = timeFilterColumn(selection.window.property, 'i');
  return sql`SELECT bk.key AS b, ${cols}
    FROM json_each(${JSON.stringify(bucketing.pairs)}) bk CROSS JOIN temporal_instances i
    WHERE ${where} AND ${t} >= json_extract(bk.value, '$[0]') AND ${t} < json_extract(bk.value, '$[1]')
    GROUP BY bk.key ORDER BY bk.key`;
}
