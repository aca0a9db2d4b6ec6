// Type-strict comparison of one stored JSON value with one q literal (GS CIM 009 §4.9; guide §8.3):
// numbers with numbers, text with text (UTF-16 code units), DateTime/Date/Time chronologically.
import type { JsonValue } from '../json.ts';
import { isJsonObject } from '../json.ts';
import { compareDateTime, parseDate, parseDateTime, parseTime } from '../datetime.ts';
import type { QList, QLiteral, QRange } from './q-ast.ts';

/**
 * A JSON-LD value object `{"@type": T, "@value": v}` (typed literal, §4.6.3 / annex C.6) stands for its
 * `@value`: `{"@type":"DateTime","@value":"2024-05-01T10:00:00Z"}` compares as that DateTime. Anything else
 * is returned unchanged.
 */
export function unwrapTypedLiteral(v: JsonValue): JsonValue {
  if (!isJsonObject(v)) return v;
  const keys = Object.keys(v);
  if (keys.length !== 2 || typeof v['@type'] !== 'string' || !Object.hasOwn(v, '@value')) return v;
  const inner = v['@value'];
  return typeof inner === 'string' || typeof inner === 'number' || typeof inner === 'boolean' ? inner : v;
}

/** Microseconds since midnight of a Time accepted by parseTime. */
function timeMicros(t: string): number {
  const [hms, frac = ''] = t.slice(0, -1).split('.');
  const [h, m, sec] = hms.split(':').map(Number);
  return ((h * 60 + m) * 60 + sec) * 1e6 + Number(frac.padEnd(6, '0').slice(0, 6));
}

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** UTF-16 code unit order, as JavaScript's `<` on strings (and JSON text) does. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders a stored value against a literal: negative, zero or positive, or undefined when the two are of
 * different types (no match, never an error). Booleans are not ordered (undefined) — only `==`/`!=` use them,
 * through `equalsLiteral`. A `uri` literal is text like a string: URIs are JSON strings in stored data.
 * A DateTime literal compares with stored strings that parse as a UTC DateTime; a Date with `YYYY-MM-DD`
 * strings only, a Time with `hh:mm:ss[.f]Z` strings only (a Date never equals a DateTime: types differ).
 */
export function orderLiteral(stored: JsonValue, lit: QLiteral): number | undefined {
  const v = unwrapTypedLiteral(stored);
  switch (lit.kind) {
    case 'number':
      return typeof v === 'number' ? sign(v - lit.value) : undefined;
    case 'string':
    case 'uri':
      return typeof v === 'string' ? compareText(v, lit.value) : undefined;
    case 'boolean':
      return undefined;
    case 'dateTime': {
      const dt = parseDateTime(v);
      return dt === null ? undefined : sign(compareDateTime(dt, lit.value));
    }
    case 'date': {
      const d = parseDate(v);
      return d === null ? undefined : compareText(d, lit.value);
    }
    case 'time': {
      const t = parseTime(v);
      return t === null ? undefined : sign(timeMicros(t) - timeMicros(lit.value));
    }
  }
}

/** Type-strict equality of a single stored value with a literal. */
export function equalsLiteral(stored: JsonValue, lit: QLiteral): boolean {
  if (lit.kind === 'boolean') return unwrapTypedLiteral(stored) === lit.value;
  return orderLiteral(stored, lit) === 0;
}

/** `min <= stored <= max`, both comparisons defined. */
export function inRange(stored: JsonValue, range: QRange): boolean {
  const lo = orderLiteral(stored, range.min);
  const hi = orderLiteral(stored, range.max);
  return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
}

/** The `==` rule for one single (non-array) stored value: a literal, any item of a list, or a closed range. */
export function equalsOperand(stored: JsonValue, operand: QLiteral | QList | QRange): boolean {
  if (operand.kind === 'list') return operand.items.some((item) => equalsLiteral(stored, item));
  if (operand.kind === 'range') return inRange(stored, operand);
  return equalsLiteral(stored, operand);
}

/** `>`, `>=`, `<`, `<=` on one single stored value. */
export function satisfiesOrder(stored: JsonValue, op: '>' | '>=' | '<' | '<=', lit: QLiteral): boolean {
  const c = orderLiteral(stored, lit);
  if (c === undefined) return false;
  switch (op) {
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
  }
}
