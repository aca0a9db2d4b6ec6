// Compiles q ASTs (GS CIM 009 §4.9; guide §8) to PostgreSQL conditions on an entity row `e`, with the
// semantics of q-eval.ts / q-compare.ts: any-instance matching, value / reference / language targets,
// typed literals, type-strict comparisons, `[..]` member paths, metadata members.
// Two forms: root-path comparisons with numbers, text and DateTimes read the entity_attrs index (exact by
// construction, see derive.ts); everything else reads the search document e.qdoc.
import type { QCompare, QExpr, QList, QLiteral, QOrderOp, QPath, QRange } from '../../core/query/q-ast.ts';
import { dateTimeKey, META_KEYS } from './derive.ts';
import { regexCond } from './regex-sql.ts';
import { and, exact, exists, FALSE, not, or, type Cond, type SqlParams } from './sql-build.ts';
import { textKey } from './text-key.ts';

/** Characters of a text key kept in the entity_attrs_str index (btree rows are bounded in size). */
export const STR_INDEX_PREFIX = 200;

/** Microseconds since midnight of a canonical Time (q-compare.ts timeMicros), as decimal text. */
function timeKey(t: string): string {
  const [hms, frac = ''] = t.slice(0, -1).split('.');
  const [h, m, s] = hms.split(':').map(Number);
  return String(((h * 60 + m) * 60 + s) * 1e6 + Number(frac.padEnd(6, '0').slice(0, 6)));
}

/** A literal as a SQL key expression on a jsonb value `v`, and its bound counterpart. */
interface LiteralKey {
  key: (v: string) => string;
  param: string;
  /** Text keys order by code point: the comparison needs COLLATE "C". */
  text: boolean;
}

function literalKey(lit: QLiteral, params: SqlParams): LiteralKey | undefined {
  switch (lit.kind) {
    case 'number':
      return { key: (v) => `kend_num(${v})`, param: params.add(lit.value, 'float8'), text: false };
    case 'string':
    case 'uri':
      return { key: (v) => `kend_str(${v})`, param: params.add(textKey(lit.value), 'text'), text: true };
    case 'dateTime':
      return { key: (v) => `kend_datetime_key(kend_str(${v}))`, param: params.add(dateTimeKey(lit.value), 'bigint'), text: false };
    case 'date':
      return { key: (v) => `kend_date_text(kend_str(${v}))`, param: params.add(lit.value, 'text'), text: true };
    case 'time':
      return { key: (v) => `kend_time_key(kend_str(${v}))`, param: params.add(timeKey(lit.value), 'bigint'), text: false };
    case 'boolean':
      return undefined;
  }
}

/** Builds two-valued comparisons of one jsonb value against the term's operand (params bound once). */
class Operand {
  private readonly keys = new Map<QLiteral, LiteralKey | undefined>();
  private readonly booleans = new Map<QLiteral, string>();

  constructor(private readonly params: SqlParams) {}

  private lk(lit: QLiteral): LiteralKey | undefined {
    if (!this.keys.has(lit)) this.keys.set(lit, literalKey(lit, this.params));
    return this.keys.get(lit);
  }

  private cmp(v: string, op: string, lit: QLiteral): string {
    if (lit.kind === 'boolean') {
      if (op !== '=') return 'FALSE';
      if (!this.booleans.has(lit)) this.booleans.set(lit, this.params.add(String(lit.value), 'jsonb'));
      return `(kend_unwrap(${v}) = ${this.booleans.get(lit)}) IS TRUE`;
    }
    const k = this.lk(lit)!;
    return `(${k.key(v)}${k.text ? ' COLLATE "C"' : ''} ${op} ${k.param}) IS TRUE`;
  }

  /** q-compare.ts equalsOperand on one value. */
  equals(v: string, operand: QLiteral | QList | QRange): string {
    if (operand.kind === 'list') return `(${operand.items.map((item) => this.cmp(v, '=', item)).join(' OR ')})`;
    if (operand.kind === 'range') return `(${this.cmp(v, '>=', operand.min)} AND ${this.cmp(v, '<=', operand.max)})`;
    return this.cmp(v, '=', operand);
  }

  /** q-compare.ts satisfiesOrder on one value. */
  order(v: string, op: QOrderOp, lit: QLiteral): string {
    return this.cmp(v, op, lit);
  }
}

/** q-eval.ts equalRule: an array matches when some element does. */
function equalRule(x: string, term: QCompare, operand: Operand, params: SqlParams): string {
  if (term.op !== '==' && term.op !== '!=') throw new Error('equalRule on a non-equality term');
  const el = params.alias('el');
  const anyElement = `EXISTS (SELECT 1 FROM jsonb_array_elements(${x}) AS ${el}(x) WHERE ${operand.equals(`${el}.x`, term.value)})`;
  return `(CASE WHEN jsonb_typeof(${x}) = 'array' THEN ${anyElement} ELSE ${operand.equals(x, term.value)} END)`;
}

/** A value target `x` (jsonb, NULL when absent): Property-like values, `[..]` members, metadata. */
function valuePredicate(x: string, term: QCompare, operand: Operand, params: SqlParams): Cond {
  switch (term.op) {
    case '==':
      return exact(`(${x} IS NOT NULL AND ${equalRule(x, term, operand, params)})`);
    case '!=':
      return exact(`(${x} IS NOT NULL AND NOT ${equalRule(x, term, operand, params)})`);
    case '~=':
      return regexCond(term.value.pattern, `kend_str(${x})`, params);
    case '!~=':
      return and([exact(`(kend_str(${x}) IS NOT NULL)`), not(regexCond(term.value.pattern, `kend_str(${x})`, params))]);
    default:
      return exact(`(${x} IS NOT NULL AND jsonb_typeof(${x}) <> 'array' AND ${operand.order(x, term.op, term.value)})`);
  }
}

/** A reference target (Relationship object, ListRelationship objectList, VocabProperty vocab): == and != only. */
function referencePredicate(r: string, term: QCompare, operand: Operand, params: SqlParams): Cond {
  if (term.op === '==') return exact(`(${r} IS NOT NULL AND ${equalRule(r, term, operand, params)})`);
  if (term.op === '!=') return exact(`(${r} IS NOT NULL AND NOT ${equalRule(r, term, operand, params)})`);
  return FALSE;
}

/** Language alternatives: each one an alternative; `!=` and `!~=` hold when none matches. */
function languagePredicate(alts: string, v: string, term: QCompare, operand: Operand, params: SqlParams): Cond {
  const any = exact(`EXISTS (SELECT 1 FROM ${alts})`);
  switch (term.op) {
    case '==':
      return exists(alts, exact(operand.equals(v, term.value)));
    case '!=':
      return and([any, not(exists(alts, exact(operand.equals(v, term.value))))]);
    case '~=':
      return exists(alts, regexCond(term.value.pattern, `kend_text(${v})`, params));
    case '!~=':
      return and([any, not(exists(alts, regexCond(term.value.pattern, `kend_text(${v})`, params)))]);
    default:
      return exists(alts, exact(operand.order(v, term.op, term.value)));
  }
}

/** The instances reached by `attr(.sub)*` (q-eval.ts instances): a FROM list and the instance expression. */
function instancesOf(path: QPath, params: SqlParams): { from: string; inst: string } {
  let alias = params.alias('i');
  let from = `jsonb_array_elements(e.qdoc -> 'a' -> ${params.add(textKey(path.attr), 'text')}) AS ${alias}(x)`;
  for (const sub of path.sub) {
    const next = params.alias('i');
    from += ` CROSS JOIN LATERAL jsonb_array_elements(${alias}.x -> 's' -> ${params.add(textKey(sub), 'text')}) AS ${next}(x)`;
    alias = next;
  }
  return { from, inst: `${alias}.x` };
}

/** The targets of a path on one instance (q-eval.ts targetOf), by channel; absent channels are undefined. */
interface Channels {
  /** Extra FROM items (a lateral member walk) to append after the instances. */
  lateral: string;
  value?: string;
  reference?: string;
  /** FROM list of the language alternatives, and the alternative expression. */
  language?: { alts: string; v: string };
}

function channelsOf(path: QPath, inst: string, params: SqlParams): Channels {
  if (path.meta !== undefined) return { lateral: '', value: `(${inst} -> '${META_KEYS[path.meta]}')` };
  const keys = path.jsonPath;
  const out: Channels = { lateral: '' };
  if (keys === undefined) {
    out.value = `(${inst} -> 'v')`;
    out.reference = `(${inst} -> 'r')`;
  } else {
    const w = params.alias('w');
    out.lateral = ` CROSS JOIN LATERAL (SELECT kend_walk(${inst} -> 'v', ${params.add(keys.map(textKey), 'text[]')}) AS x) AS ${w}`;
    out.value = `${w}.x`;
  }
  if (keys === undefined || keys.length === 1) {
    const la = params.alias('la');
    const tag = keys?.[0];
    if (tag === undefined || tag === '*') {
      const lt = params.alias('lt');
      out.language = {
        alts: `jsonb_each(${inst} -> 'l') AS ${lt}(k, vs) CROSS JOIN LATERAL jsonb_array_elements(${lt}.vs) AS ${la}(x)`,
        v: `${la}.x`,
      };
    } else {
      const t = params.add(textKey(tag.toLowerCase()), 'text');
      out.language = { alts: `jsonb_array_elements(${inst} -> 'l' -> ${t}) AS ${la}(x)`, v: `${la}.x` };
    }
  }
  return out;
}

/** The entity_attrs column an indexed literal compares with, or undefined when none does. */
function indexedColumn(lit: QLiteral): 'num' | 'str' | 'dtk' | undefined {
  if (lit.kind === 'number') return 'num';
  if (lit.kind === 'dateTime') return 'dtk';
  if (lit.kind === 'string' || lit.kind === 'uri') return 'str';
  return undefined;
}

/** `a.<column> op literal` on an entity_attrs row `a`, in a form its value indexes can range over. */
function indexTest(op: string, lit: QLiteral, params: SqlParams): string {
  if (lit.kind === 'number') return `a.num ${op} ${params.add(lit.value, 'float8')}`;
  if (lit.kind === 'dateTime') return `a.dtk ${op} ${params.add(dateTimeKey(lit.value), 'bigint')}`;
  if (lit.kind !== 'string' && lit.kind !== 'uri') return 'FALSE';
  const key = textKey(lit.value);
  // The index holds left(str, 200): a necessary bound on it lets the btree range apply.
  const head = params.add(Array.from(key).slice(0, STR_INDEX_PREFIX).join(''), 'text');
  const headOp = op === '>' ? '>=' : op === '<' ? '<=' : op;
  return `left(a.str, ${STR_INDEX_PREFIX}) ${headOp} ${head} AND a.str ${op} ${params.add(key, 'text')}`;
}

/** Rows ordering comparisons read: never array elements nor references (derive.ts ORDERED_SOURCES). */
const ORDERED_ROWS = `a.src IN ('v', 'l')`;

/** `attr op literal` on a root path with numbers, text or DateTimes: answered by entity_attrs alone. */
function indexedCompare(term: QCompare, params: SqlParams): Cond | undefined {
  const { path } = term;
  if (path.sub.length > 0 || path.meta !== undefined || path.jsonPath !== undefined) return undefined;
  if (term.op !== '==' && term.op !== '>' && term.op !== '>=' && term.op !== '<' && term.op !== '<=') return undefined;
  const lits = term.value.kind === 'list' ? term.value.items : term.value.kind === 'range' ? [term.value.min, term.value.max] : [term.value];
  if (!lits.every((l) => indexedColumn(l) !== undefined)) return undefined;
  const test = (op: string, lit: QLiteral): string => indexTest(op, lit, params);
  let cond: string;
  if (term.value.kind === 'list') cond = `(${term.value.items.map((l) => `(${test('=', l)})`).join(' OR ')})`;
  else if (term.value.kind === 'range') cond = `${test('>=', term.value.min)} AND ${test('<=', term.value.max)}`;
  else if (term.op === '==') cond = test('=', term.value);
  // Ordering never matches arrays (elements) nor references.
  else cond = `${ORDERED_ROWS} AND ${test(term.op, term.value as QLiteral)}`;
  return exact(
    `EXISTS (SELECT 1 FROM entity_attrs a WHERE a.tenant = $1 AND a.seq = e.seq AND a.attr = ${params.add(textKey(path.attr), 'text')} AND ${cond})`,
  );
}

function compareTerm(term: QCompare, params: SqlParams): Cond {
  const indexed = indexedCompare(term, params);
  if (indexed !== undefined) return indexed;
  const { from, inst } = instancesOf(term.path, params);
  const ch = channelsOf(term.path, inst, params);
  const operand = new Operand(params);
  const parts: Cond[] = [];
  if (ch.value !== undefined) parts.push(valuePredicate(ch.value, term, operand, params));
  if (ch.reference !== undefined) parts.push(referencePredicate(ch.reference, term, operand, params));
  if (ch.language !== undefined) parts.push(languagePredicate(ch.language.alts, ch.language.v, term, operand, params));
  return exists(from + ch.lateral, or(parts));
}

/** Some instance has a target for the path. */
function existsTerm(path: QPath, params: SqlParams): Cond {
  const { from, inst } = instancesOf(path, params);
  const ch = channelsOf(path, inst, params);
  const parts: Cond[] = [];
  if (ch.value !== undefined) parts.push(exact(`(${ch.value} IS NOT NULL)`));
  if (ch.reference !== undefined) parts.push(exact(`(${ch.reference} IS NOT NULL)`));
  if (ch.language !== undefined) parts.push(exact(`EXISTS (SELECT 1 FROM ${ch.language.alts})`));
  return exists(from + ch.lateral, or(parts));
}

/** The condition of a q expression on the entity row `e`. */
export function compileQ(expr: QExpr, params: SqlParams): Cond {
  switch (expr.type) {
    case 'and':
      return and(expr.items.map((e) => compileQ(e, params)));
    case 'or':
      return or(expr.items.map((e) => compileQ(e, params)));
    case 'exists':
      return existsTerm(expr.path, params);
    case 'notExists':
      return not(existsTerm(expr.path, params));
    case 'compare':
      return compareTerm(expr, params);
  }
}

/** A lower (`>`, `>=`) or upper (`<`, `<=`) bound on a root attribute with an indexed literal. */
interface Bound {
  attr: string;
  op: '>' | '>=' | '<' | '<=';
  lit: QLiteral;
  column: 'num' | 'str' | 'dtk';
}

function boundOf(term: QExpr, side: 'lower' | 'upper'): Bound | undefined {
  if (term.type !== 'compare') return undefined;
  const { path, op, value } = term;
  if (path.sub.length > 0 || path.meta !== undefined || path.jsonPath !== undefined) return undefined;
  const ok = side === 'lower' ? op === '>' || op === '>=' : op === '<' || op === '<=';
  if (!ok || value.kind === 'list' || value.kind === 'range' || value.kind === 'regex') return undefined;
  const column = indexedColumn(value);
  return column === undefined ? undefined : { attr: path.attr, op: op as Bound['op'], lit: value, column };
}

/** A q conjunction with some of its terms answered by range drivers (see rangeDrivers). */
export interface DrivenQ {
  /** Exact conditions on `e`, one per driven attribute: each replaces its two bounds. */
  drivers: string[];
  /** The other terms of the conjunction, undefined when none is left. */
  rest: QExpr | undefined;
}

/**
 * `a>=x;a<y` in a q conjunction (issue 3 item 7): `e.seq` among the rows of ONE index range over both
 * bounds, instead of two EXISTS probes per entity of the type. Exact, so it replaces the two bounds: an
 * entity with an ordered value (derive.ts ORDERED_SOURCES) of the attribute in the range satisfies both
 * through it; one without such a value satisfies both only with two different values, and then it has
 * several ordered values, all of them marked entity_attrs.multi (migration v7), which a small partial
 * index finds and a GROUP BY decides (some value satisfies each bound).
 */
export function rangeDrivers(expr: QExpr, params: SqlParams): DrivenQ {
  const terms = expr.type === 'and' ? expr.items : [expr];
  const lowers = terms.map((t) => [t, boundOf(t, 'lower')] as const).filter((x): x is [QExpr, Bound] => x[1] !== undefined);
  const uppers = terms.map((t) => [t, boundOf(t, 'upper')] as const).filter((x): x is [QExpr, Bound] => x[1] !== undefined);
  const drivers: string[] = [];
  const consumed = new Set<QExpr>();
  for (const [loTerm, lo] of lowers) {
    const upper = uppers.find(([t, u]) => u.attr === lo.attr && u.column === lo.column && !consumed.has(t));
    if (upper === undefined || consumed.has(loTerm)) continue;
    const [hiTerm, hi] = upper;
    consumed.add(loTerm).add(hiTerm);
    const attr = params.add(textKey(lo.attr), 'text');
    const rows = `SELECT a.seq FROM entity_attrs a WHERE a.tenant = $1 AND a.attr = ${attr}`;
    const loTest = indexTest(lo.op, lo.lit, params);
    const hiTest = indexTest(hi.op, hi.lit, params);
    drivers.push(
      `e.seq IN (${rows} AND ${ORDERED_ROWS} AND ${loTest} AND ${hiTest}
        UNION ALL ${rows} AND a.multi GROUP BY a.seq HAVING bool_or(${loTest}) AND bool_or(${hiTest}))`,
    );
  }
  const left = terms.filter((t) => !consumed.has(t));
  const rest = left.length === 0 ? undefined : left.length === 1 ? left[0] : { type: 'and' as const, items: left };
  return { drivers, rest };
}
