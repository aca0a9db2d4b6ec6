// Driving sets of the SQLite query plans (issue 4 §7, indexes not scans): the conjuncts of an EntityQuery
// that an index can enumerate — a type (entity_types), an id list, an idPattern prefix (primary key
// range), a number or string comparison on an attribute (attr_values partial indexes), a geo-query box
// (R*Tree). Each yields a superset of the matches; the full condition still filters every row, so any
// choice returns exactly the reference's result. The store picks one by cheap capped counts.
import type { EntityQuery } from '../../core/query/entity-query.ts';
import type { QExpr, QLiteral } from '../../core/query/q-ast.ts';
import type { TypeExpr } from '../../core/query/type-expr.ts';
import { searchBox } from './geo-index.ts';
import { literalPrefix, prefixUpperBound } from './id-prefix.ts';
import { pathId } from './q-sql.ts';
import { geoExactCondition } from './geo-sql.ts';
import { sql, type Sql } from './sql-fragment.ts';
import { stringKey } from './value-keys.ts';

export type DriverKind = 'type' | 'ids' | 'idPrefix' | 'range' | 'value' | 'geo';

export interface Driver {
  kind: DriverKind;
  /** `SELECT id …`: every matching entity's id, possibly repeated, possibly with non-matching ones. */
  source: Sql;
  /** `SELECT 1 …` with about as many rows as `source`, cheaper to count (geo: boxes, no exact test). */
  estimate: Sql;
  /** True when `source` is exactly the geo condition (then the WHERE clause may leave it out). */
  coversGeo: boolean;
}

/** A top-level conjunct of a type expression that names one type. */
function typeNames(expr: TypeExpr): string[] {
  if (expr.op === 'type') return [expr.name];
  if (expr.op === 'and') return expr.items.flatMap(typeNames);
  return [];
}

/** The indexed column and bound value of a literal the value index can range over. */
function indexedValue(lit: QLiteral): ['num' | 'str', number | string] | undefined {
  if (lit.kind === 'number') return ['num', lit.value];
  if (lit.kind === 'string' || lit.kind === 'uri') return ['str', stringKey(lit.value)];
  return undefined;
}

const COLUMN: Record<'num' | 'str', Sql> = { num: sql`num`, str: sql`str` };
const ORDER: Record<'>' | '>=' | '<' | '<=' | '==', Sql> = { '>': sql`>`, '>=': sql`>=`, '<': sql`<`, '<=': sql`<=`, '==': sql`=` };

/** A q term on a top-level attribute whose matches some attr_values index range contains. */
function valueDriver(tenant: string, term: QExpr): Driver | undefined {
  if (term.type !== 'compare' || term.path.sub.length > 0 || term.path.meta !== undefined || term.path.jsonPath !== undefined) return undefined;
  const rows = sql`SELECT id FROM attr_values WHERE tenant = ${tenant} AND pid = ${pathId(term.path.attr)}`;
  const v = term.value;
  if (term.op === '!=' || term.op === '~=' || term.op === '!~=' || v.kind === 'list' || v.kind === 'regex') return undefined;
  let cond: Sql | undefined;
  if (v.kind === 'range') {
    const lo = indexedValue(v.min);
    const hi = indexedValue(v.max);
    if (lo !== undefined && hi !== undefined && lo[0] === hi[0]) cond = sql`${COLUMN[lo[0]]} >= ${lo[1]} AND ${COLUMN[lo[0]]} <= ${hi[1]}`;
  } else {
    const c = indexedValue(v);
    if (c !== undefined) cond = sql`${COLUMN[c[0]]} ${ORDER[term.op]} ${c[1]}`;
  }
  return cond === undefined ? undefined : driver('value', sql`${rows} AND ${cond}`);
}

type Bound = { attr: string; column: 'num' | 'str'; cond: Sql };

/** A lower or an upper bound on a top-level attribute's value that the value index can range over. */
function bound(term: QExpr, side: 'lower' | 'upper'): Bound | undefined {
  if (term.type !== 'compare' || term.path.sub.length > 0 || term.path.meta !== undefined || term.path.jsonPath !== undefined) return undefined;
  const ops = side === 'lower' ? ['>', '>='] : ['<', '<='];
  if (!ops.includes(term.op) || term.value.kind === 'list' || term.value.kind === 'regex' || term.value.kind === 'range') return undefined;
  const c = indexedValue(term.value);
  if (c === undefined) return undefined;
  const op = ORDER[term.op as '>' | '>=' | '<' | '<='];
  return { attr: term.path.attr, column: c[0], cond: sql`${COLUMN[c[0]]} ${op} ${c[1]}` };
}

/**
 * `a>=x;a<y`: one index range over both bounds of one attribute, instead of two half-open ranges that each
 * hold about half of the attribute's rows. Entities with several rows for the attribute are added whole
 * (attr_values_multi), since each bound may hold for a different value of theirs.
 */
function rangeDrivers(tenant: string, terms: readonly QExpr[]): Driver[] {
  const out: Driver[] = [];
  const lowers = terms.map((t) => bound(t, 'lower')).filter((b): b is Bound => b !== undefined);
  const uppers = terms.map((t) => bound(t, 'upper')).filter((b): b is Bound => b !== undefined);
  for (const lo of lowers) {
    const hi = uppers.find((u) => u.attr === lo.attr && u.column === lo.column);
    if (hi === undefined) continue;
    const pid = pathId(lo.attr);
    const source = sql`SELECT id FROM attr_values WHERE tenant = ${tenant} AND pid = ${pid} AND ${lo.cond} AND ${hi.cond}
      UNION ALL SELECT id FROM attr_values WHERE tenant = ${tenant} AND pid = ${pid} AND (tix > 0 OR cix > 0)`;
    out.push(driver('range', source));
  }
  return out;
}

function driver(kind: DriverKind, source: Sql): Driver {
  return { kind, source, estimate: source, coversGeo: false };
}

const PRIORITY: Record<DriverKind, number> = { ids: 0, idPrefix: 1, geo: 2, range: 3, value: 4, type: 5 };

/** The drivers of a query, the usually smallest first. */
export function driverCandidates(tenant: string, query: EntityQuery): Driver[] {
  const out: Driver[] = [];
  // Selectors are alternatives: only a single one is a conjunct.
  if (query.selectors?.length === 1) {
    const s = query.selectors[0];
    for (const name of s.type === undefined ? [] : typeNames(s.type)) {
      out.push(driver('type', sql`SELECT id FROM entity_types WHERE tenant = ${tenant} AND type = ${name}`));
    }
    if (s.ids !== undefined) out.push(driver('ids', sql`SELECT value AS id FROM json_each(${JSON.stringify(s.ids)})`));
    else if (s.idPattern !== undefined) {
      const prefix = literalPrefix(s.idPattern.source);
      const upper = prefix === '' ? null : prefixUpperBound(prefix);
      if (upper !== null) {
        out.push(driver('idPrefix', sql`SELECT id FROM entities WHERE tenant = ${tenant} AND id >= ${prefix} AND id < ${upper}`));
      }
    }
  }
  if (query.q !== undefined) {
    const terms = query.q.type === 'and' ? query.q.items : [query.q];
    out.push(...rangeDrivers(tenant, terms));
    for (const term of terms) {
      const d = valueDriver(tenant, term);
      if (d !== undefined) out.push(d);
    }
  }
  if (query.geo !== undefined) {
    const box = searchBox(query.geo);
    if (box !== null) {
      out.push({
        kind: 'geo',
        source: sql`SELECT r.id AS id FROM geo_rtree r WHERE ${geoExactCondition(query.geo, tenant, box)}`,
        estimate: sql`SELECT 1 FROM geo_rtree r WHERE r.minx <= ${box.maxx} AND r.maxx >= ${box.minx} AND r.miny <= ${box.maxy} AND r.maxy >= ${box.miny}`,
        coversGeo: true,
      });
    }
  }
  return out.sort((a, b) => PRIORITY[a.kind] - PRIORITY[b.kind]);
}

/** `{ n }`: about how many rows the driver yields, counting at most `cap` (cheap: stops early). */
export function probeDriver(d: Driver, cap: number): Sql {
  return sql`SELECT count(*) AS n FROM (SELECT 1 FROM (${d.estimate}) LIMIT ${cap})`;
}
