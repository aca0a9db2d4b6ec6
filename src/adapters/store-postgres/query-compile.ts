// Compiles an EntityQuery + PageRequest (GS CIM 009 §5.7.2, §4.17, §4.9, §4.19, §4.10, §4.23) to PostgreSQL
// statements `{ text, values }`: every value a bound parameter, every identifier a compiler constant.
// Pure (no database): the semantics are those of entity-query.ts referenceQuery, proved by the
// differential property test (test/property/postgres-query.test.ts).
import type { EntityQuery, EntitySelector, OrderKey, PageRequest } from '../../core/query/entity-query.ts';
import type { TypeExpr } from '../../core/query/type-expr.ts';
import { compileGeo, compileScopeQ } from './geo-sql.ts';
import { compileQ, rangeDrivers } from './q-sql.ts';
import { regexCond } from './regex-sql.ts';
import { and, exact, FALSE, isExact, or, SqlParams, TRUE, type Cond, type SqlStatement } from './sql-build.ts';
import { isStorableText, textKey } from './text-key.ts';

/** A compiled filter and order on `entities e`; `$1` is the tenant. */
export interface CompiledQuery {
  params: SqlParams;
  /** Includes `e.tenant = $1`. `where.sure === where.maybe` when SQL decides every row (isExact). */
  where: Cond;
  /** ORDER BY list: the order keys, then e.seq (insertion order), a total order. */
  orderBy: string;
  /** Placeholders of `where` are $1..$whereParams; those of `orderBy` follow. */
  whereParams: number;
  /**
   * For a geo-query in insertion order without id filters: the seqs the geo index selects, to drive the
   * query from (query plans otherwise join every geo match before taking the first page).
   */
  geoDriver?: string;
  /** Insertion order (no order keys): a page can be chosen by seq first and its documents read after. */
  seqOrder: boolean;
}

/** Values that PostgreSQL text cannot hold can never equal a stored value. */
function storable(values: readonly string[]): string[] {
  return values.filter(isStorableText);
}

/**
 * type-expr.ts matchesTypeExpr on the entity's types (jsonb array, GIN-indexed): a filter on the row at
 * hand when the type is common, an index scan when it is rare.
 */
function typeCond(expr: TypeExpr, params: SqlParams): Cond {
  const has = (names: string[]): Cond => {
    const ok = storable(names);
    if (ok.length === 0) return FALSE;
    return exact(ok.length === 1 ? `e.types ? ${params.add(ok[0], 'text')}` : `e.types ?| ${params.add(ok, 'text[]')}`);
  };
  switch (expr.op) {
    case 'any':
      return TRUE;
    case 'type':
      return has([expr.name]);
    case 'and':
      return and(expr.items.map((e) => typeCond(e, params)));
    case 'or':
      if (expr.items.every((e) => e.op === 'type')) return has(expr.items.map((e) => (e as { name: string }).name));
      return or(expr.items.map((e) => typeCond(e, params)));
  }
}

/** entity-query.ts matchesSelector: `ids` takes precedence over `idPattern`. */
function selectorCond(sel: EntitySelector, params: SqlParams): Cond {
  const parts: Cond[] = [];
  if (sel.type !== undefined) parts.push(typeCond(sel.type, params));
  if (sel.ids !== undefined) {
    // Stored ids are textKeys (statements.ts).
    parts.push(sel.ids.length === 0 ? FALSE : exact(`e.id = ANY (${params.add(sel.ids.map(textKey), 'text[]')})`));
  } else if (sel.idPattern !== undefined) {
    parts.push(regexCond(sel.idPattern.source, 'e.id', params, true));
  }
  return and(parts);
}

function orderTerms(key: OrderKey, params: SqlParams): string[] {
  const dir = key.desc ? 'DESC' : 'ASC';
  switch (key.kind) {
    case 'id':
      return [`e.id ${dir}`];
    case 'createdAt':
      return [`(e.qdoc ->> 'c') COLLATE "C" ${dir}`];
    case 'modifiedAt':
      return [`(e.qdoc ->> 'm') COLLATE "C" ${dir}`];
    case 'attr': {
      // entity-query.ts compareByOrder: numbers, then strings; entities lacking a value last either way.
      const v = `(e.qdoc -> 'o' -> ${params.add(textKey(key.attr), 'text')})`;
      return [
        `(${v} IS NULL) ASC`,
        `(jsonb_typeof(${v}) = 'string') ${dir}`,
        `(CASE WHEN jsonb_typeof(${v}) = 'number' THEN ${v}::double precision END) ${dir}`,
        `(CASE WHEN jsonb_typeof(${v}) = 'string' THEN ${v} #>> '{}' END) COLLATE "C" ${dir}`,
      ];
    }
  }
}

/** Compiles the filter and order of `query` for `tenant` ($1). */
export function compileEntityQuery(tenant: string, query: EntityQuery): CompiledQuery {
  const params = new SqlParams();
  params.add(tenant, 'text');
  const parts: Cond[] = [exact('e.tenant = $1')];
  if (query.selectors !== undefined && query.selectors.length > 0) {
    parts.push(or(query.selectors.map((s) => selectorCond(s, params))));
  }
  if (query.attrs !== undefined) {
    const names = query.attrs.map(textKey);
    parts.push(
      names.length === 0
        ? FALSE
        : exact(`EXISTS (SELECT 1 FROM entity_attrs a WHERE a.tenant = $1 AND a.seq = e.seq AND a.attr = ANY (${params.add(names, 'text[]')}))`),
    );
  }
  if (query.q !== undefined) {
    const driven = rangeDrivers(query.q, params);
    parts.push(...driven.drivers.map(exact));
    if (driven.rest !== undefined) parts.push(compileQ(driven.rest, params));
  }
  if (query.scopeQ !== undefined) parts.push(compileScopeQ(query.scopeQ, params));
  let geoDriver: string | undefined;
  if (query.geo !== undefined) {
    const geo = compileGeo(query.geo, params);
    parts.push(geo.cond);
    const idFilter = (query.selectors ?? []).some((s) => s.ids !== undefined || s.idPattern !== undefined);
    if ((query.order ?? []).length === 0 && !idFilter) geoDriver = geo.driver;
  }
  const where = and(parts);
  const whereParams = params.values.length;
  const orderBy = [...(query.order ?? []).flatMap((k) => orderTerms(k, params)), 'e.seq ASC'].join(', ');
  const seqOrder = (query.order ?? []).length === 0;
  return { params, where, orderBy, whereParams, geoDriver, seqOrder };
}

/** Whether SQL alone decides the query (no reference confirmation needed). */
export function isExactQuery(c: CompiledQuery): boolean {
  return isExact(c.where);
}

/**
 * One page of an exact query. With `count`: one row { total, docs } where docs is a JSON array of the
 * documents in order (one statement, one snapshot); without: rows { doc } in order.
 */
export function pageStatement(c: CompiledQuery, page: PageRequest): SqlStatement {
  const p = c.params.fork();
  const limit = p.add(page.limit, 'bigint');
  const offset = p.add(page.offset, 'bigint');
  const where = c.where.sure;
  if (!page.count && c.seqOrder) {
    // The page's seqs first, then the documents of those alone: the documents of the rows a filter drops
    // or the offset skips are never read, and a filter on the tenant and types alone is answered by an
    // index-only scan of (tenant, seq) INCLUDE (types) (migration v7), which skips the offset in the index.
    return {
      text: `SELECT d.doc::text AS doc FROM (
        SELECT e.seq FROM entities e WHERE ${where} ORDER BY e.seq LIMIT ${limit} OFFSET ${offset}) k
        JOIN entities d ON d.tenant = $1 AND d.seq = k.seq ORDER BY k.seq`,
      values: p.values,
    };
  }
  if (!page.count) {
    return {
      text: `SELECT e.doc::text AS doc FROM entities e WHERE ${where} ORDER BY ${c.orderBy} LIMIT ${limit} OFFSET ${offset}`,
      values: p.values,
    };
  }
  return {
    text: `SELECT (SELECT count(*) FROM entities e WHERE ${where}) AS total,
      (SELECT json_agg(p.doc ORDER BY p.rn) FROM (
        SELECT e.doc, row_number() OVER (ORDER BY ${c.orderBy}) AS rn FROM entities e WHERE ${where}
        ORDER BY ${c.orderBy} LIMIT ${limit} OFFSET ${offset}) p)::text AS docs`,
    values: p.values,
  };
}

/**
 * The candidates of an inexact query in order: rows { doc, sure } where `maybe` holds; `sure` tells
 * whether SQL already knows the row matches. `limit` undefined: all candidates (for a cursor).
 */
export function candidatesStatement(c: CompiledQuery, limit?: number): SqlStatement {
  const p = c.params.fork();
  const tail = limit === undefined ? '' : ` LIMIT ${p.add(limit, 'bigint')}`;
  if (c.geoDriver !== undefined && limit !== undefined) {
    // Geo matches in seq order, each completed by a probe of its entity (OFFSET 0 keeps the nested loop),
    // until the page is full.
    return {
      text: `SELECT x.doc, x.sure FROM (${c.geoDriver}) m CROSS JOIN LATERAL (
        SELECT e.doc::text AS doc, (${c.where.sure}) AS sure FROM entities e WHERE e.seq = m.seq AND ${c.where.maybe} OFFSET 0) x
        ORDER BY m.seq${tail}`,
      values: p.values,
    };
  }
  return {
    text: `SELECT e.doc::text AS doc, (${c.where.sure}) AS sure FROM entities e WHERE ${c.where.maybe} ORDER BY ${c.orderBy}${tail}`,
    values: p.values,
  };
}

/** Counts of an inexact query: { sure, maybe }; equal counts mean the total is known. */
export function countStatement(c: CompiledQuery): SqlStatement {
  return {
    text: `SELECT count(*) FILTER (WHERE ${c.where.sure}) AS sure, count(*) AS maybe FROM entities e WHERE ${c.where.maybe}`,
    values: c.params.values.slice(0, c.whereParams),
  };
}
