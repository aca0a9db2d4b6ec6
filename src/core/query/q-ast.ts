// The AST of the NGSI-LD query language `q` (GS CIM 009 §4.9; guide §8): plain, typed data so that the
// in-memory evaluator (q-eval.ts) and the SQL compilers (SQLite JSON1, PostgreSQL jsonb) read one shape.

/** Non-reified members addressed by a trailing dotted segment (`temperature.observedAt`, §4.9). */
export const Q_META_MEMBERS = ['observedAt', 'createdAt', 'modifiedAt', 'unitCode', 'datasetId'] as const;
export type QMetaMember = (typeof Q_META_MEMBERS)[number];

/**
 * A resolved path `attr(.sub)*(.meta)?([key(.key)*])?`.
 *
 * - `attr`: the entity attribute, an FQN (expanded with the request context).
 * - `sub`: the sub-attribute chain below it, FQNs, outermost first.
 * - `meta`: a trailing special member; when set, the target is that member of the instance reached by
 *   `attr`/`sub`, and `jsonPath` is never set.
 * - `jsonPath`: the `[a.b]` part, raw keys (never expanded). The bracket is one syntactic thing with two
 *   meanings decided at evaluation time by the kind of the attribute reached: on a LanguageProperty a
 *   single key is a language tag (`name[fr]`, `name[*]` = any language); on any other kind the keys walk
 *   into the JSON value with ECMAScript own-member semantics (`address[city]`). The parser cannot know the
 *   kind, so it must not decide; a SQL compiler branches on the stored kind the same way.
 */
export interface QPath {
  attr: string;
  sub: string[];
  meta?: QMetaMember;
  jsonPath?: string[];
}

/**
 * A single typed literal (§4.9 grammar `single`). Unquoted text that is not a number, boolean, DateTime,
 * Date or Time is `uri` (it compares like a string: a URI is a JSON string in the stored data).
 */
export type QLiteral =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  /** `value` is the canonical DateTime text (`.` as decimal separator); `millis` its instant. */
  | { kind: 'dateTime'; value: string; millis: number }
  /** `YYYY-MM-DD`. */
  | { kind: 'date'; value: string }
  /** `hh:mm:ss[.f]Z`, canonical (`.` as decimal separator). */
  | { kind: 'time'; value: string }
  | { kind: 'uri'; value: string };

export type QLiteralKind = QLiteral['kind'];

/** `a,b,c` — at least two items; only with `==` / `!=`. */
export interface QList {
  kind: 'list';
  items: QLiteral[];
}

/** `min..max`, both bounds inclusive and of one comparable kind; only with `==` / `!=`. */
export interface QRange {
  kind: 'range';
  min: QLiteral;
  max: QLiteral;
}

/** A regular expression in RE2 syntax (validated with re2js at parse time); matched unanchored. */
export interface QRegex {
  kind: 'regex';
  pattern: string;
}

export type QEqualityOp = '==' | '!=';
export type QOrderOp = '>' | '>=' | '<' | '<=';
export type QRegexOp = '~=' | '!~=';
export type QOp = QEqualityOp | QOrderOp | QRegexOp;

/** Operators in the order a tokenizer must try them (longest first, §8.4). */
export const Q_OPS: readonly QOp[] = ['!~=', '>=', '<=', '==', '!=', '~=', '>', '<'];

/** A comparison term; the operator decides which operand shapes are possible. */
export type QCompare =
  | { type: 'compare'; path: QPath; op: QEqualityOp; value: QLiteral | QList | QRange }
  | { type: 'compare'; path: QPath; op: QOrderOp; value: QLiteral }
  | { type: 'compare'; path: QPath; op: QRegexOp; value: QRegex };

/** `attr` — the element exists (whatever its value). */
export interface QExists {
  type: 'exists';
  path: QPath;
}

/** `!attr` — the element does not exist. */
export interface QNotExists {
  type: 'notExists';
  path: QPath;
}

export type QTerm = QCompare | QExists | QNotExists;

/**
 * Logical nodes hold at least two items and never a direct child of their own type (the parser flattens
 * `(a;b);c` to one `and` of three): one canonical tree per meaning, so printing and re-parsing is stable.
 */
export interface QAnd {
  type: 'and';
  items: QExpr[];
}

export interface QOr {
  type: 'or';
  items: QExpr[];
}

export type QExpr = QAnd | QOr | QTerm;
