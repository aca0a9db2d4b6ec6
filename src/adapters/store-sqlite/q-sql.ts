// Compiles q ASTs (GS CIM 009 §4.9; guide §8) to SQLite conditions on `entities e`, reproducing core
// q-eval.ts exactly. A path naming a top-level attribute reads the attribute value index (attr_values,
// attr-index.ts); sub-attribute, metadata and [key] paths walk entities.doc with JSON1 (json_each over the
// instances, `->` with bound, quoted JSON paths). Both sides reduce a target to comparison candidates with
// the same typed columns (num, str, bool, dt, date, tm), so one set of comparison rules serves both.
import type { QCompare, QExpr, QList, QLiteral, QOrderOp, QPath, QRange } from '../../core/query/q-ast.ts';
import { SQL_FN } from './sql-functions.ts';
import { FALSE, TRUE, and, or, raw, sql, type Aliases, type Sql } from './sql-fragment.ts';
import { dateTimeKey, stringKey, timeKey } from './value-keys.ts';

export interface QCompileContext {
  aliases: Aliases;
  /** Compile every path with JSON1 (tests prove both strategies agree with the reference). */
  forceJson: boolean;
}

/** The interned id of an attribute name (value_paths), as an uncorrelated scalar subquery. */
export function pathId(name: string): Sql {
  return sql`(SELECT pid FROM value_paths WHERE path = ${name})`;
}

/**
 * The candidate column a literal kind compares with, and the literal's bound value. The unary `+` keeps
 * SQLite from scanning a value index inside a per-entity (correlated) subquery: there the primary key
 * (tenant, id, pid) finds the entity's few rows directly.
 */
function column(a: Sql, lit: QLiteral): [Sql, string | number | null] | undefined {
  switch (lit.kind) {
    case 'number':
      return [sql`+${a}.num`, lit.value];
    case 'string':
    case 'uri':
      return [sql`+${a}.str`, stringKey(lit.value)];
    case 'dateTime':
      return [sql`+${a}.dt`, dateTimeKey(lit.value)];
    case 'date':
      return [sql`+${a}.date`, lit.value];
    case 'time':
      return [sql`+${a}.tm`, timeKey(lit.value)];
    case 'boolean':
      return undefined;
  }
}

const ORDER_SQL: Record<QOrderOp, Sql> = { '>': raw('>'), '>=': raw('>='), '<': raw('<'), '<=': raw('<=') };

/** `>`, `>=`, `<`, `<=` of candidate `a` with a literal (booleans are not ordered: never). */
function compareCandidate(a: Sql, op: QOrderOp, lit: QLiteral): Sql {
  const c = column(a, lit);
  return c === undefined ? FALSE : sql`${c[0]} ${ORDER_SQL[op]} ${c[1]}`;
}

/** The `==` rule on one candidate: a literal, any item of a list, or a closed range. */
function equalsCandidate(a: Sql, operand: QLiteral | QList | QRange): Sql {
  if (operand.kind === 'list') return or(operand.items.map((item) => equalsCandidate(a, item)));
  if (operand.kind === 'range') return and([compareCandidate(a, '>=', operand.min), compareCandidate(a, '<=', operand.max)]);
  if (operand.kind === 'boolean') return sql`+${a}.bool = ${operand.value ? 1 : 0}`;
  const c = column(a, operand)!;
  return sql`${c[0]} = ${c[1]}`;
}

function regexOn(a: Sql, pattern: string): Sql {
  return sql`${raw(SQL_FN.regex)}(${pattern}, ${a}.str, 1)`;
}

export function compileQ(expr: QExpr, ctx: QCompileContext): Sql {
  switch (expr.type) {
    case 'and':
      return and(expr.items.map((e) => compileQ(e, ctx)));
    case 'or':
      return or(expr.items.map((e) => compileQ(e, ctx)));
    case 'exists':
      return indexed(expr.path, ctx) ? indexedExists(expr.path, ctx) : jsonTerm(expr.path, null, ctx);
    case 'notExists':
      return sql`NOT ${indexed(expr.path, ctx) ? indexedExists(expr.path, ctx) : jsonTerm(expr.path, null, ctx)}`;
    case 'compare':
      return indexed(expr.path, ctx) ? indexedCompare(expr, ctx) : jsonTerm(expr.path, expr, ctx);
  }
}

function indexed(path: QPath, ctx: QCompileContext): boolean {
  return !ctx.forceJson && path.sub.length === 0 && path.meta === undefined && path.jsonPath === undefined;
}

// ---- Index side: rows of attr_values (one per candidate; `cix <= 0` is the instance's representative).

function rowsOf(v: Sql, attr: string): Sql {
  return sql`${v}.tenant = e.tenant AND ${v}.id = e.id AND ${v}.pid = ${pathId(attr)}`;
}

/** Candidate rows of the same target (instance) as row `t`. */
function sameTarget(c: Sql, t: Sql): Sql {
  return sql`${c}.tenant = ${t}.tenant AND ${c}.id = ${t}.id AND ${c}.pid = ${t}.pid AND ${c}.tix = ${t}.tix`;
}

function indexedExists(path: QPath, ctx: QCompileContext): Sql {
  const v = ctx.aliases.next('v');
  return sql`EXISTS (SELECT 1 FROM attr_values ${v} WHERE ${rowsOf(v, path.attr)} AND ${v}.tgt = 1)`;
}

function indexedCompare(term: QCompare, ctx: QCompileContext): Sql {
  const v = ctx.aliases.next('v');
  const base = rowsOf(v, term.path.attr);
  const some = (cond: Sql): Sql => sql`EXISTS (SELECT 1 FROM attr_values ${v} WHERE ${base} AND ${cond})`;
  switch (term.op) {
    case '==':
      return some(equalsCandidate(v, term.value));
    case '!=': {
      const c = ctx.aliases.next('c');
      return some(sql`${v}.tgt = 1 AND ${v}.cix <= 0 AND NOT EXISTS (SELECT 1 FROM attr_values ${c} WHERE ${sameTarget(c, v)} AND ${equalsCandidate(c, term.value)})`);
    }
    case '>':
    case '>=':
    case '<':
    case '<=':
      return some(sql`${v}.ord > 0 AND ${compareCandidate(v, term.op, term.value)}`);
    case '~=':
      return some(sql`${v}.ord > 0 AND ${regexOn(v, term.value.pattern)}`);
    case '!~=': {
      const c = ctx.aliases.next('c');
      const single = sql`${v}.ord = 1 AND ${v}.str IS NOT NULL AND NOT ${regexOn(v, term.value.pattern)}`;
      const language = sql`${v}.ord = 2 AND ${v}.cix = 0 AND NOT EXISTS (SELECT 1 FROM attr_values ${c} WHERE ${sameTarget(c, v)} AND ${regexOn(c, term.value.pattern)})`;
      return some(sql`((${single}) OR (${language}))`);
    }
  }
}

// ---- JSON1 side: targets computed from entities.doc.

/** A JSON path selecting one member; the key is JSON-quoted (SQLite reads `\"`, `\\`, `\uXXXX` in labels). */
function memberPath(key: string): string {
  return `$.${JSON.stringify(key)}`;
}

/**
 * Member `key` of the JSON object `x`, as JSON text (NULL when absent or `x` is no object). SQLite compares
 * path labels as C strings, so a key holding NUL is looked up by json_each with a bound key instead.
 */
function member(x: Sql, key: string, ctx: QCompileContext): Sql {
  if (!key.includes('\u0000')) return sql`(${x} -> ${memberPath(key)})`;
  const j = ctx.aliases.next('j');
  return sql`(SELECT CASE ${j}.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN 'null' WHEN 'object' THEN ${j}.value WHEN 'array' THEN ${j}.value ELSE json_quote(${j}.value) END FROM json_each(CASE json_type(${x}) WHEN 'object' THEN ${x} END) ${j} WHERE ${j}.key = ${key})`;
}

const CANONICAL_INDEX = /^(?:0|[1-9]\d*)$/;

/**
 * One `[key]` step with ECMAScript member semantics (q-eval.ts `member`): an object's own member, or an
 * array element when the key is a canonical index. Which applies depends on the stored value, so an
 * index-like key branches on json_type; any other key never selects an array element.
 */
function step(x: Sql, key: string, ctx: QCompileContext): Sql {
  if (!CANONICAL_INDEX.test(key) || Number(key) > 2_147_483_647) return member(x, key, ctx);
  const w = ctx.aliases.next('w');
  return sql`(SELECT CASE json_type(${w}.x) WHEN 'array' THEN ${w}.x -> ${`$[${key}]`} WHEN 'object' THEN ${member(sql`${w}.x`, key, ctx)} END FROM (SELECT ${x} AS x) ${w})`;
}

/** The strings of a LanguageProperty (every language, or the tag's, case-insensitively) as a JSON array. */
function languageAlternatives(inst: Sql, tag: string | undefined, ctx: QCompileContext): Sql {
  const lm = ctx.aliases.next('lm');
  const a = ctx.aliases.next('a');
  const filter = tag === undefined || tag === '*' ? TRUE : sql`${raw(SQL_FN.lower)}(${lm}.key) = ${tag.toLowerCase()}`;
  return sql`nullif((SELECT json_group_array(${a}.value) FROM json_each(${inst}, '$.languageMap') ${lm}, json_each(CASE WHEN ${lm}.type = 'array' THEN ${lm}.value ELSE json_array(${lm}.value) END) ${a} WHERE ${filter}), '[]')`;
}

/**
 * The targets of a path, one row per instance reached: `ord` (as attr-index.ts CompareMode) and `arr`, the
 * JSON array of the target's comparison candidates.
 */
function targets(path: QPath, ctx: QCompileContext): Sql {
  const inst: Sql[] = [ctx.aliases.next('i')];
  const instancesOf = (owner: Sql, name: string): Sql =>
    name.includes('\u0000') ? sql`json_each(${member(sql`(${owner} -> '$.attrs')`, name, ctx)})` : sql`json_each(${owner}, ${`$.attrs.${JSON.stringify(name)}`})`;
  let from = sql`${instancesOf(raw('e.doc'), path.attr)} ${inst[0]}`;
  for (const sub of path.sub) {
    const next = ctx.aliases.next('i');
    from = sql`${from} JOIN ${instancesOf(sql`${inst[inst.length - 1]}.value`, sub)} ${next}`;
    inst.push(next);
  }
  const I = sql`${inst[inst.length - 1]}.value`;
  const kind = sql`(${I} ->> '$.type')`;
  let src: Sql;
  let t: Sql;
  if (path.meta !== undefined) {
    src = raw('0');
    t = member(I, path.meta, ctx);
  } else {
    const keys = path.jsonPath;
    let value = sql`(${I} -> (CASE ${kind} WHEN 'Property' THEN '$.value' WHEN 'GeoProperty' THEN '$.value' WHEN 'JsonProperty' THEN '$.json' WHEN 'ListProperty' THEN '$.valueList' END))`;
    for (const key of keys ?? []) value = step(value, key, ctx);
    const reference =
      keys === undefined
        ? sql` WHEN ${kind} = 'Relationship' THEN (${I} -> '$.object') WHEN ${kind} = 'ListRelationship' THEN (${I} -> '$.objectList') WHEN ${kind} = 'VocabProperty' THEN (${I} -> '$.vocab')`
        : raw('');
    const language = keys === undefined || keys.length === 1 ? sql` WHEN ${kind} = 'LanguageProperty' THEN ${languageAlternatives(I, keys?.[0], ctx)}` : raw('');
    src = sql`(CASE ${kind} WHEN 'Relationship' THEN 1 WHEN 'ListRelationship' THEN 1 WHEN 'VocabProperty' THEN 1 WHEN 'LanguageProperty' THEN 2 ELSE 0 END)`;
    t = sql`(CASE WHEN ${kind} IN ('Property', 'GeoProperty', 'JsonProperty', 'ListProperty') THEN ${value}${reference}${language} END)`;
  }
  const x = ctx.aliases.next('x');
  return sql`SELECT CASE WHEN ${x}.src = 2 THEN 2 WHEN ${x}.src = 1 OR json_type(${x}.t) = 'array' THEN 0 ELSE 1 END AS ord, CASE WHEN ${x}.src = 2 OR json_type(${x}.t) = 'array' THEN ${x}.t ELSE json_array(json(${x}.t)) END AS arr FROM (SELECT ${src} AS src, ${t} AS t FROM ${from}) ${x} WHERE ${x}.t IS NOT NULL`;
}

/** The comparison candidates of target row `tg`, typed-literal objects unwrapped (q-compare.ts). */
function candidates(tg: Sql, ctx: QCompileContext): Sql {
  const c = ctx.aliases.next('c');
  const u = ctx.aliases.next('u');
  const typed = sql`${c}.type = 'object' AND json_type(${c}.value, '$."@type"') = 'text' AND json_type(${c}.value, '$."@value"') IN ('text', 'integer', 'real', 'true', 'false') AND (SELECT count(*) FROM json_each(${c}.value)) = 2`;
  const text = (fn: string): Sql => sql`CASE WHEN ${u}.ty = 'text' THEN ${raw(fn)}(${u}.v) END`;
  return sql`SELECT CASE WHEN ${u}.ty IN ('integer', 'real') THEN ${u}.v END AS num, ${text(SQL_FN.strKey)} AS str, CASE ${u}.ty WHEN 'true' THEN 1 WHEN 'false' THEN 0 END AS bool, ${text(SQL_FN.dtKey)} AS dt, ${text(SQL_FN.dateKey)} AS date, ${text(SQL_FN.timeKey)} AS tm FROM (SELECT CASE WHEN ${typed} THEN json_type(${c}.value, '$."@value"') ELSE ${c}.type END AS ty, CASE WHEN ${typed} THEN json_extract(${c}.value, '$."@value"') ELSE ${c}.value END AS v FROM json_each(${tg}.arr) ${c}) ${u}`;
}

/** A term on a JSON1-walked path: `term` null means existence. */
function jsonTerm(path: QPath, term: QCompare | null, ctx: QCompileContext): Sql {
  const tg = ctx.aliases.next('tg');
  const k = ctx.aliases.next('k');
  const some = (cond: Sql): Sql => sql`EXISTS (SELECT 1 FROM (${candidates(tg, ctx)}) ${k} WHERE ${cond})`;
  let pred: Sql;
  if (term === null) pred = TRUE;
  else {
    switch (term.op) {
      case '==':
        pred = some(equalsCandidate(k, term.value));
        break;
      case '!=':
        pred = sql`NOT ${some(equalsCandidate(k, term.value))}`;
        break;
      case '>':
      case '>=':
      case '<':
      case '<=':
        pred = sql`${tg}.ord > 0 AND ${some(compareCandidate(k, term.op, term.value))}`;
        break;
      case '~=':
        pred = sql`${tg}.ord > 0 AND ${some(regexOn(k, term.value.pattern))}`;
        break;
      case '!~=': {
        const single = sql`${tg}.ord = 1 AND ${some(sql`${k}.str IS NOT NULL AND NOT ${regexOn(k, term.value.pattern)}`)}`;
        const language = sql`${tg}.ord = 2 AND NOT ${some(regexOn(k, term.value.pattern))}`;
        pred = sql`((${single}) OR (${language}))`;
        break;
      }
    }
  }
  return sql`EXISTS (SELECT 1 FROM (${targets(path, ctx)}) ${tg} WHERE ${pred})`;
}
