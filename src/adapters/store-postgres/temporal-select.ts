// Compiles a TemporalSelection (GS CIM 009 §5.7.3–5.7.4 with the §5.7.2 entity filters) to PostgreSQL
// conditions: on the temporal entity record `r` (id, idPattern, type expression, scopeQ) and on an instance
// row (attributes, datasetIds, the time window). Every value a bound parameter, every identifier a constant.
import type { EntitySelector } from '../../core/query/entity-query.ts';
import type { ScopeExpr } from '../../core/query/scope-q.ts';
import { SCOPE_WILDCARD } from '../../core/query/scope-q.ts';
import type { TypeExpr } from '../../core/query/type-expr.ts';
import type { TemporalSelection, TimeProperty } from '../../core/temporal/model.ts';
import { regexCond } from './regex-sql.ts';
import { and, exact, exists, FALSE, or, SqlParams, TRUE, type Cond } from './sql-build.ts';
import { textKey } from './text-key.ts';

/** The column of each time property (identifiers from this whitelist only). */
export const TIME_COLUMN: Record<TimeProperty, string> = {
  observedAt: 'observed_at',
  createdAt: 'created_at',
  modifiedAt: 'modified_at',
  deletedAt: 'deleted_at',
};

/** type-expr.ts matchesTypeExpr on the record's types (jsonb array of textKeys, GIN-indexed). */
function typeCond(expr: TypeExpr, params: SqlParams): Cond {
  switch (expr.op) {
    case 'any':
      return TRUE;
    case 'type':
      return exact(`r.types ? ${params.add(textKey(expr.name), 'text')}`);
    case 'and':
      return and(expr.items.map((e) => typeCond(e, params)));
    case 'or':
      if (expr.items.every((e) => e.op === 'type')) {
        const names = expr.items.map((e) => textKey((e as { name: string }).name));
        return exact(`r.types ?| ${params.add(names, 'text[]')}`);
      }
      return or(expr.items.map((e) => typeCond(e, params)));
  }
}

/** entity-query.ts matchesSelector on the record: `ids` takes precedence over `idPattern`. */
function selectorCond(sel: EntitySelector, params: SqlParams): Cond {
  const parts: Cond[] = [];
  if (sel.type !== undefined) parts.push(typeCond(sel.type, params));
  if (sel.ids !== undefined) {
    parts.push(sel.ids.length === 0 ? FALSE : exact(`r.id = ANY (${params.add(sel.ids.map(textKey), 'text[]')})`));
  } else if (sel.idPattern !== undefined) {
    // Exact for literal patterns; otherwise a bound the reference evaluator completes (temporal-read.ts).
    parts.push(regexCond(sel.idPattern.source, 'r.id', params, true));
  }
  return and(parts);
}

/**
 * One scope pattern against the record's scopes (jsonb array of textKeys of `/a/b` strings): the levels of
 * a scope are its '/'-separated parts after the first, as scope-q.ts evaluateScopeQ splits them ('/' is
 * its own textKey, so splitting keys splits the scopes).
 */
function scopeTerm(levels: readonly string[], descendants: boolean, params: SqlParams): Cond {
  const sc = params.alias('sc');
  const parts = `(string_to_array(${sc}.x, '/'))[2:]`;
  const tests = [`cardinality(${parts}) ${descendants ? '>=' : '='} ${params.add(levels.length, 'int')}`];
  levels.forEach((level, i) => {
    if (level !== SCOPE_WILDCARD) tests.push(`(string_to_array(${sc}.x, '/'))[${params.add(i + 2, 'int')}] = ${params.add(textKey(level), 'text')}`);
  });
  return exists(`jsonb_array_elements_text(r.scope) AS ${sc}(x)`, exact(tests.join(' AND ')));
}

function scopeCond(expr: ScopeExpr, params: SqlParams): Cond {
  switch (expr.type) {
    case 'any':
      return TRUE;
    case 'scope':
      return scopeTerm(expr.levels, expr.descendants, params);
    case 'and':
      return and(expr.items.map((e) => scopeCond(e, params)));
    case 'or':
      return or(expr.items.map((e) => scopeCond(e, params)));
  }
}

/** scope-q.ts evaluateScopeQ on the record's current scope: records without a scope never match. */
function compileRecordScopeQ(expr: ScopeExpr, params: SqlParams): Cond {
  return and([exact(`(jsonb_array_length(coalesce(r.scope, '[]'::jsonb)) > 0)`), scopeCond(expr, params)]);
}

/**
 * The conditions of a selected instance on alias `a` (tenant excluded): attributes, datasetIds ('@none'
 * = the default instance) and the window — instances lacking the window's time property never match.
 * `attrPinned`: the caller already fixed `a.attr` to one selected attribute by equality; repeating the
 * selection as `attr = ANY (…)` there keeps PostgreSQL 15 from reading the (…, attr, time) indexes in time
 * order, so a newest-first read sorted a series of 100,000 instances to return two (≈ 130 ms).
 */
export function instanceCond(selection: TemporalSelection, params: SqlParams, a: string, attrPinned = false): string {
  const parts: string[] = [];
  if (selection.attrs !== undefined && !attrPinned) {
    parts.push(selection.attrs.length === 0 ? 'FALSE' : `${a}.attr = ANY (${params.add(selection.attrs.map(textKey), 'text[]')})`);
  }
  if (selection.datasetIds !== undefined) {
    parts.push(
      selection.datasetIds.length === 0
        ? 'FALSE'
        : `coalesce(${a}.dataset_id, '@none') = ANY (${params.add(selection.datasetIds.map(textKey), 'text[]')})`,
    );
  }
  const w = selection.window;
  const t = `${a}.${TIME_COLUMN[w.property]}`;
  parts.push(`${t} IS NOT NULL`);
  if (w.fromMs !== undefined) parts.push(`${t} >= ${params.add(w.fromMs, 'bigint')}`);
  if (w.toMs !== undefined) parts.push(`${t} < ${params.add(w.toMs, 'bigint')}`);
  return parts.join(' AND ');
}

/** A compiled selection; `$1` is the tenant. */
export interface CompiledSelection {
  params: SqlParams;
  /** On `temporal_entities r`: tenant, selectors, scopeQ, and at least one selected instance. */
  where: Cond;
}

/** The records matching `selection` that have at least one selected instance in the window. */
export function compileSelection(tenant: string, selection: TemporalSelection): CompiledSelection {
  const params = new SqlParams();
  params.add(tenant, 'text');
  const parts: Cond[] = [exact('r.tenant = $1')];
  if (selection.selectors !== undefined && selection.selectors.length > 0) {
    parts.push(or(selection.selectors.map((s) => selectorCond(s, params))));
  }
  if (selection.scopeQ !== undefined) parts.push(compileRecordScopeQ(selection.scopeQ, params));
  parts.push(
    exact(`EXISTS (SELECT 1 FROM temporal_instances x WHERE x.tenant = $1 AND x.entity = r.seq AND ${instanceCond(selection, params, 'x')})`),
  );
  return { params, where: and(parts) };
}
