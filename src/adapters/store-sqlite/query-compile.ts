// Compiles an EntityQuery + PageRequest (core entity-query.ts; GS CIM 009 §5.7.2, §4.17 types, §4.9 q,
// §4.19 scopeQ, §4.10 geo, §4.23 orderBy, §4.12 pagination) to SQLite statements with bound parameters
// only, and the discovery aggregate (§5.7.5–5.7.10). Pure: testable without a database.
import type { EntityQuery, EntitySelector, OrderKey, PageRequest } from '../../core/query/entity-query.ts';
import type { ScopeExpr } from '../../core/query/scope-q.ts';
import { SCOPE_WILDCARD } from '../../core/query/scope-q.ts';
import type { TypeExpr } from '../../core/query/type-expr.ts';
import { geoCondition } from './geo-sql.ts';
import { literalPrefix, prefixUpperBound } from './id-prefix.ts';
import type { Driver } from './query-drivers.ts';
import { compileQ, pathId, type QCompileContext } from './q-sql.ts';
import { SQL_FN } from './sql-functions.ts';
import { FALSE, TRUE, and, createAliases, join, or, raw, sql, type Sql } from './sql-fragment.ts';

export interface CompileOptions {
  /** Compile every q path with JSON1 instead of the value index (for differential tests). */
  forceJson?: boolean;
  /** The rows the page select starts from (query-drivers.ts); absent: the tenant's entities in seq order. */
  selectDriver?: Driver;
  /** The same for the count. */
  countDriver?: Driver;
}

export interface CompiledQuery {
  /**
   * Rows `{ id }` of the page, in the query's order then insertion order. Ids, not documents: SQLite would
   * read the (large) document of every row it examines; the caller reads the page's documents by key.
   */
  select: Sql;
  /** Row `{ n }`: the number of matches, when the page asks for the count. */
  count: Sql | null;
}

/** Where a selector reads an id and a type: the entity table (here) or the temporal record table. */
export interface SelectorTarget {
  id: Sql;
  /** A condition: the row has type `name`; `alias` is free for a correlated subquery. */
  hasType(name: string, alias: Sql): Sql;
}

const ENTITY_TARGET: SelectorTarget = {
  id: raw('e.id'),
  hasType: (name, t) => sql`EXISTS (SELECT 1 FROM entity_types ${t} WHERE ${t}.tenant = e.tenant AND ${t}.id = e.id AND ${t}.type = ${name})`,
};

function typeCondition(expr: TypeExpr, ctx: QCompileContext, target: SelectorTarget): Sql {
  switch (expr.op) {
    case 'any':
      return TRUE;
    case 'type':
      return target.hasType(expr.name, ctx.aliases.next('t'));
    case 'and':
      return and(expr.items.map((e) => typeCondition(e, ctx, target)));
    case 'or':
      return or(expr.items.map((e) => typeCondition(e, ctx, target)));
  }
}

/** One selector (§5.7.2, as matchesSelector): `id` takes precedence over `idPattern`. */
export function selectorCondition(s: EntitySelector, ctx: QCompileContext, target: SelectorTarget = ENTITY_TARGET): Sql {
  const parts: Sql[] = [];
  if (s.type !== undefined) parts.push(typeCondition(s.type, ctx, target));
  if (s.ids !== undefined) {
    parts.push(s.ids.length === 0 ? FALSE : sql`${target.id} IN (SELECT value FROM json_each(${JSON.stringify(s.ids)}))`);
  } else if (s.idPattern !== undefined) {
    const prefix = literalPrefix(s.idPattern.source);
    if (prefix !== '') {
      // An index range on (tenant, id) narrows the rows the linear-time matcher sees.
      const upper = prefixUpperBound(prefix);
      parts.push(upper === null ? sql`${target.id} >= ${prefix}` : sql`${target.id} >= ${prefix} AND ${target.id} < ${upper}`);
    }
    parts.push(sql`${raw(SQL_FN.regex)}(${s.idPattern.source}, ${target.id}, 2)`);
  }
  return and(parts);
}

/** The json_each arguments listing an entity's scopes: the document's `scope` member. */
const ENTITY_SCOPES = raw("e.doc, '$.scope'");

/** One scope item: `split('/').slice(1)` of some scope matches the levels (scope-q.ts scopeMatches). */
function scopeItem(levels: readonly string[], descendants: boolean, ctx: QCompileContext, scopes: Sql): Sql {
  // A level holding "/" can never equal a level of a split scope.
  if (levels.some((l) => l.includes('/'))) return FALSE;
  const s = ctx.aliases.next('s');
  const general = sql`${raw(SQL_FN.scope)}(${s}.value, ${JSON.stringify(levels)}, ${descendants ? 1 : 0})`;
  let test = general;
  if (!levels.includes(SCOPE_WILDCARD)) {
    // The usual scope starts with "/": plain comparisons (bytes; no substr, which stops at NUL).
    const exact = `/${levels.join('/')}`;
    const below = descendants ? sql` OR (${s}.value >= ${`${exact}/`} AND ${s}.value < ${`${exact}0`})` : raw('');
    test = sql`CASE WHEN substr(${s}.value, 1, 1) = '/' THEN (${s}.value = ${exact}${below}) ELSE ${general} END`;
  }
  return sql`EXISTS (SELECT 1 FROM json_each(${scopes}) ${s} WHERE ${test})`;
}

/**
 * scopeQ (§4.19) on the scopes that `json_each(<scopes>)` lists: by default the entity document's; the
 * temporal store passes its record's JSON array column.
 */
export function scopeCondition(expr: ScopeExpr, ctx: QCompileContext, scopes: Sql = ENTITY_SCOPES): Sql {
  switch (expr.type) {
    case 'any':
      return sql`EXISTS (SELECT 1 FROM json_each(${scopes}))`;
    case 'scope':
      return scopeItem(expr.levels, expr.descendants, ctx, scopes);
    case 'and':
      return and(expr.items.map((e) => scopeCondition(e, ctx, scopes)));
    case 'or':
      return or(expr.items.map((e) => scopeCondition(e, ctx, scopes)));
  }
}

function whereClause(tenant: string, query: EntityQuery, ctx: QCompileContext, driver: Driver | undefined): Sql {
  const parts: Sql[] = [sql`e.tenant = ${tenant}`];
  if (query.selectors !== undefined && query.selectors.length > 0) parts.push(or(query.selectors.map((s) => selectorCondition(s, ctx))));
  if (query.attrs !== undefined) {
    const a = ctx.aliases.next('a');
    parts.push(
      query.attrs.length === 0
        ? FALSE
        : sql`EXISTS (SELECT 1 FROM attr_values ${a} WHERE ${a}.tenant = e.tenant AND ${a}.id = e.id AND ${a}.pid IN (SELECT pid FROM value_paths WHERE path IN (SELECT value FROM json_each(${JSON.stringify(query.attrs)}))))`,
    );
  }
  if (query.q !== undefined) parts.push(compileQ(query.q, ctx));
  if (query.scopeQ !== undefined) parts.push(scopeCondition(query.scopeQ, ctx));
  if (query.geo !== undefined && driver?.coversGeo !== true) parts.push(geoCondition(query.geo, tenant));
  return join(parts, ' AND ');
}

/**
 * ORDER BY terms reproducing compareByOrder: ids in UTF-16 order; an attribute's sort value (attr_values
 * row with srt = 1) ranks numbers, then strings, with entities lacking it last in either direction.
 */
function orderClause(order: readonly OrderKey[], ctx: QCompileContext): { joins: Sql; terms: Sql } {
  const joins: Sql[] = [];
  const terms: Sql[] = [];
  for (const key of order) {
    const dir = raw(key.desc ? ' DESC' : '');
    switch (key.kind) {
      case 'id':
        terms.push(sql`${raw(SQL_FN.strKey)}(e.id)${dir}`);
        break;
      case 'createdAt':
        terms.push(sql`e.created_at${dir}`);
        break;
      case 'modifiedAt':
        terms.push(sql`e.modified_at${dir}`);
        break;
      case 'attr': {
        const o = ctx.aliases.next('o');
        joins.push(sql` LEFT JOIN attr_values ${o} ON ${o}.tenant = e.tenant AND ${o}.id = e.id AND ${o}.pid = ${pathId(key.attr)} AND ${o}.srt = 1`);
        terms.push(sql`(${o}.num IS NULL AND ${o}.str IS NULL)`, sql`(${o}.num IS NULL)${dir}`, sql`${o}.num${dir}`, sql`${o}.str${dir}`);
        break;
      }
    }
  }
  terms.push(raw('e.seq'));
  return { joins: join(joins, ''), terms: join(terms, ', ') };
}

/**
 * `entities e`, alone (SQLite scans the tenant's entities in seq order, probing each condition by key) or
 * joined to a driver's distinct ids, which CROSS JOIN makes the outer loop.
 */
function fromClause(tenant: string, driver: Driver | undefined): Sql {
  if (driver === undefined) return raw('entities e');
  return sql`(SELECT DISTINCT id FROM (${driver.source})) d CROSS JOIN entities e ON e.tenant = ${tenant} AND e.id = d.id`;
}

export function compileQuery(tenant: string, query: EntityQuery, page: PageRequest, options: CompileOptions = {}): CompiledQuery {
  const forceJson = options.forceJson === true;
  const selectCtx: QCompileContext = { aliases: createAliases(), forceJson };
  const from = fromClause(tenant, options.selectDriver);
  const { joins, terms } = orderClause(query.order ?? [], selectCtx);
  const where = whereClause(tenant, query, selectCtx, options.selectDriver);
  const select = sql`SELECT e.id AS id FROM ${from}${joins} WHERE ${where} ORDER BY ${terms} LIMIT ${page.limit} OFFSET ${page.offset}`;
  let count: Sql | null = null;
  if (page.count) {
    const countCtx: QCompileContext = { aliases: createAliases(), forceJson };
    count = sql`SELECT count(*) AS n FROM ${fromClause(tenant, options.countDriver)} WHERE ${whereClause(tenant, query, countCtx, options.countDriver)}`;
  }
  return { select, count };
}

/**
 * Discovery rows (core discovery.ts): per (type, attribute, kind) the entities holding it and their
 * instances (one representative attr_values row per instance), plus per type its entity count.
 */
export function compileDiscovery(tenant: string): Sql {
  return sql`SELECT t.type AS type, p.path AS attr, v.kind AS kind, count(DISTINCT v.id) AS entities, count(*) AS instances
    FROM entity_types t JOIN attr_values v ON v.tenant = t.tenant AND v.id = t.id JOIN value_paths p ON p.pid = v.pid
    WHERE t.tenant = ${tenant} AND v.cix <= 0 GROUP BY t.type, v.pid, v.kind
    UNION ALL SELECT type, NULL, NULL, count(*), 0 FROM entity_types WHERE tenant = ${tenant} GROUP BY type`;
}
