// Parser of the NGSI-LD query language `q` (GS CIM 009 §4.9; guide §8.1, §8.4) into the AST of q-ast.ts.
// Input is the already percent-decoded text. No whitespace is skipped: the grammar has none.
import { RE2JS } from 're2js';
import { NgsiError, badRequestData } from '../errors.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { isValidName } from '../names.ts';
import { dateTimeToMillis, parseDate, parseDateTime, parseTime } from '../datetime.ts';
import { Q_META_MEMBERS, Q_OPS } from './q-ast.ts';
import type { QExpr, QList, QLiteral, QMetaMember, QOp, QPath, QRange, QRegex, QTerm } from './q-ast.ts';

export interface QParseLimits {
  /** Maximum length of the q text in UTF-16 code units. */
  maxLength: number;
  /** Maximum parenthesis nesting; 32 when omitted. */
  maxDepth?: number;
}

export interface QParseOptions {
  /**
   * `expandValues` [1.9]: attribute names (as written) whose unquoted/quoted text values are expanded as
   * IRIs with the request context before comparing (VocabProperty values are stored expanded).
   */
  expandValues?: readonly string[];
}

const DEFAULT_MAX_DEPTH = 32;
/** JSON number grammar, leading zeros tolerated (`007` is 7, not a URI). */
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
// A `,` always separates list items here, so a DateTime fraction needs `.` (`…T10:00:00.5Z`), unlike the
// entity payload grammar that also accepts `,`.
const NAME_CHAR = /[\p{L}\p{N}_:-]/u;
const META: ReadonlySet<string> = new Set(Q_META_MEMBERS);
const JSON_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Parses a q expression. `;` (AND) binds tighter than `|` (OR); parentheses nest. Every syntax error is a
 * BadRequestData whose detail names the 1-based position. Names are expanded with `terms`.
 */
export function parseQ(input: string, terms: TermMap, limits: QParseLimits, options: QParseOptions = {}): QExpr {
  const s = input;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  let pos = 0;

  const fail = (at: number, why: string): never => {
    const near = at >= s.length ? 'at the end' : `at position ${at + 1} ("${s.slice(at, at + 20)}")`;
    throw badRequestData(`Invalid q: ${why} ${near}`, 'Invalid q expression');
  };
  if (s.length > limits.maxLength) {
    // An implementation limit, not a syntax error (§5.5.2): 403 TooComplexQuery.
    throw new NgsiError('TooComplexQuery', `q is longer than the limit of ${limits.maxLength} characters (${s.length})`, 'Query too complex');
  }
  if (s.length === 0) fail(0, 'empty expression');

  const atTermEnd = (): boolean => pos >= s.length || s[pos] === ';' || s[pos] === '|' || s[pos] === ')';
  const expandSet = new Set((options.expandValues ?? []).map((n) => terms.expandTerm(n)));

  function parseOr(depth: number): QExpr {
    const items: QExpr[] = [];
    const push = (e: QExpr): void => void (e.type === 'or' ? items.push(...e.items) : items.push(e));
    push(parseAnd(depth));
    while (s[pos] === '|') {
      pos++;
      push(parseAnd(depth));
    }
    return items.length === 1 ? items[0] : { type: 'or', items };
  }

  function parseAnd(depth: number): QExpr {
    const items: QExpr[] = [];
    const push = (e: QExpr): void => void (e.type === 'and' ? items.push(...e.items) : items.push(e));
    push(parseItem(depth));
    while (s[pos] === ';') {
      pos++;
      push(parseItem(depth));
    }
    return items.length === 1 ? items[0] : { type: 'and', items };
  }

  function parseItem(depth: number): QExpr {
    if (s[pos] !== '(') return parseTerm();
    if (depth >= maxDepth) fail(pos, `parentheses nested deeper than ${maxDepth} levels`);
    const open = pos++;
    const e = parseOr(depth + 1);
    if (s[pos] !== ')') fail(pos, `missing ")" for the "(" at position ${open + 1}`);
    pos++;
    return e;
  }

  function parseTerm(): QTerm {
    if (s[pos] === '!') {
      pos++;
      const path = parsePath();
      if (!atTermEnd()) fail(pos, 'a non-existence test "!attr" takes no operator or value; expected ";", "|", ")" or the end');
      return { type: 'notExists', path };
    }
    const path = parsePath();
    if (atTermEnd()) return { type: 'exists', path };
    const opAt = pos;
    const op = Q_OPS.find((o) => s.startsWith(o, pos));
    if (op === undefined) fail(pos, 'expected an operator (==, !=, >, >=, <, <=, ~=, !~=), ";", "|", ")" or the end');
    pos += op!.length;
    return parseComparison(path, op!, opAt);
  }

  function parseComparison(path: QPath, op: QOp, opAt: number): QTerm {
    if (op === '~=' || op === '!~=') {
      const value = parseRegex();
      if (!atTermEnd()) fail(pos, 'unexpected text after the regular expression (quote a pattern holding ";" or "|")');
      return { type: 'compare', path, op, value };
    }
    const valueAt = pos;
    const value = expandValues(path, parseOperand());
    if (!atTermEnd()) fail(pos, 'expected ";", "|", ")" or the end after the value');
    if (op === '==' || op === '!=') return { type: 'compare', path, op, value };
    if (value.kind === 'list' || value.kind === 'range') {
      fail(valueAt, `a ${value.kind === 'list' ? 'value list' : 'range'} is only allowed with == and !=, not with ${op} (operator at position ${opAt + 1})`);
    }
    return { type: 'compare', path, op, value: value as QLiteral };
  }

  function scanName(what: string): string {
    const start = pos;
    while (pos < s.length) {
      const cp = s.codePointAt(pos)!;
      const ch = String.fromCodePoint(cp);
      if (!NAME_CHAR.test(ch)) break;
      pos += ch.length;
    }
    const name = s.slice(start, pos);
    if (name === '') fail(start, `expected ${what}`);
    if (!isValidName(name)) fail(start, `"${name}" is not valid as ${what}`);
    return name;
  }

  function parsePath(): QPath {
    const names = [scanName('an attribute name')];
    while (s[pos] === '.') {
      pos++;
      names.push(scanName('a sub-attribute name'));
    }
    if (s[pos] === '{') fail(pos, `linked-entity filters ("${names.join('.')}{...}") need join, which this broker does not support`);
    let jsonPath: string[] | undefined;
    if (s[pos] === '[') jsonPath = parseBracket();
    const last = names[names.length - 1];
    let meta: QMetaMember | undefined;
    if (names.length > 1 && META.has(last)) {
      meta = last as QMetaMember;
      names.pop();
      if (jsonPath !== undefined) fail(pos, `"${meta}" is a plain member; it cannot be followed by "[...]"`);
    }
    const [attr, ...sub] = names.map((n) => terms.expandTerm(n));
    const path: QPath = { attr, sub };
    if (meta !== undefined) path.meta = meta;
    if (jsonPath !== undefined) path.jsonPath = jsonPath;
    return path;
  }

  function parseBracket(): string[] {
    const open = pos++;
    const keys: string[] = [];
    let start = pos;
    for (;;) {
      if (pos >= s.length) fail(open, 'missing "]" for this "["');
      const c = s[pos];
      if (c === '[') fail(pos, 'nested "[" inside a "[...]" path');
      if (c === '.' || c === ']') {
        if (pos === start) fail(pos, 'empty key in a "[...]" path');
        keys.push(s.slice(start, pos));
        pos++;
        if (c === ']') return keys;
        start = pos;
        continue;
      }
      if (c.charCodeAt(0) < 0x20) fail(pos, 'control character in a "[...]" path');
      pos++;
    }
  }

  function parseOperand(): QLiteral | QList | QRange {
    const first = parseSingle();
    if (s.startsWith('..', pos)) {
      const dots = pos;
      pos += 2;
      const second = parseSingle();
      if (s[pos] === ',' || s.startsWith('..', pos)) fail(pos, 'a range has exactly two bounds and cannot be part of a list');
      return makeRange(first, second, dots);
    }
    if (s[pos] !== ',') return first;
    const items = [first];
    while (s[pos] === ',') {
      pos++;
      items.push(parseSingle());
    }
    if (s.startsWith('..', pos)) fail(pos, 'a value list cannot contain a range');
    return { kind: 'list', items };
  }

  function makeRange(min: QLiteral, max: QLiteral, at: number): QRange {
    const cls = (l: QLiteral): string => (l.kind === 'uri' ? 'string' : l.kind);
    if (min.kind === 'boolean' || max.kind === 'boolean') fail(at, 'a range needs ordered bounds (numbers, strings, DateTimes, Dates or Times), not booleans');
    if (cls(min) !== cls(max)) fail(at, `the bounds of a range must be of one kind (${min.kind} vs ${max.kind})`);
    return { kind: 'range', min, max };
  }

  function parseSingle(): QLiteral {
    if (s[pos] === '"') return { kind: 'string', value: parseJsonString() };
    const start = pos;
    while (pos < s.length) {
      const c = s[pos];
      if (c === ';' || c === '|' || c === ')' || c === ',' || s.startsWith('..', pos)) break;
      if (c === '"' || c === '(' || c <= ' ') fail(pos, `unexpected ${c <= ' ' ? 'whitespace or control character' : `"${c}"`} in an unquoted value (quote the value)`);
      pos++;
    }
    const text = s.slice(start, pos);
    if (text === '') fail(start, 'expected a value');
    return classify(text, start);
  }

  function classify(text: string, at: number): QLiteral {
    if (text === 'true' || text === 'false') return { kind: 'boolean', value: text === 'true' };
    if (NUMBER.test(text)) {
      const n = Number(text);
      if (!Number.isFinite(n)) fail(at, `the number ${text} is out of range`);
      return { kind: 'number', value: n === 0 ? 0 : n };
    }
    const dt = parseDateTime(text);
    if (dt !== null) return { kind: 'dateTime', value: dt, millis: dateTimeToMillis(dt) };
    if (parseDate(text) !== null) return { kind: 'date', value: text };
    const t = parseTime(text);
    if (t !== null) return { kind: 'time', value: t };
    if (/^[-+.\d]/.test(text)) {
      fail(at, `"${text}" is not a number, a UTC DateTime (…Z), a Date or a Time; quote it if it is a string`);
    }
    return { kind: 'uri', value: text };
  }

  /** A JSON string literal starting at `pos` (which holds `"`), escapes as in JSON (RFC 8259 §7). */
  function parseJsonString(): string {
    const open = pos++;
    let out = '';
    for (;;) {
      if (pos >= s.length) fail(open, 'unterminated string');
      const c = s[pos];
      if (c === '"') {
        pos++;
        return out;
      }
      if (c < ' ') fail(pos, 'unescaped control character in a string');
      if (c !== '\\') {
        out += c;
        pos++;
        continue;
      }
      const e = s[pos + 1];
      if (e !== undefined && Object.hasOwn(JSON_ESCAPES, e)) {
        out += JSON_ESCAPES[e];
        pos += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(pos + 2, pos + 6))) {
        out += String.fromCharCode(parseInt(s.slice(pos + 2, pos + 6), 16));
        pos += 6;
      } else {
        fail(pos, 'invalid escape sequence in a string');
      }
    }
  }

  /**
   * A regex operand: a quoted pattern (only `\"` is unescaped; every other backslash reaches the regex
   * engine, so `"^Sensor-\d+$"` works) or a bare one ending at `;`, `|` or `)` outside its own groups and
   * character classes. Compiled with re2js (RE2 syntax, linear time) to refuse what it cannot run.
   */
  function parseRegex(): QRegex {
    const start = pos;
    let pattern = '';
    if (s[pos] === '"') {
      pos++;
      for (;;) {
        if (pos >= s.length) fail(start, 'unterminated quoted regular expression');
        const c = s[pos];
        if (c === '"') break;
        if (c === '\\' && pos + 1 < s.length) {
          pattern += s[pos + 1] === '"' ? '"' : s.slice(pos, pos + 2);
          pos += 2;
        } else {
          pattern += c;
          pos++;
        }
      }
      pos++;
    } else {
      let depth = 0;
      let inClass = false;
      while (pos < s.length) {
        const c = s[pos];
        if (c === '\\') {
          pos += 2;
          continue;
        }
        if (inClass) {
          if (c === ']') inClass = false;
        } else if (c === '[') {
          inClass = true;
          if (s[pos + 1] === '^') pos++;
          if (s[pos + 1] === ']') pos++;
        } else if (c === '(') {
          depth++;
        } else if (c === ')') {
          if (depth === 0) break;
          depth--;
        } else if ((c === ';' || c === '|') && depth === 0) {
          break;
        }
        pos++;
      }
      pos = Math.min(pos, s.length);
      pattern = s.slice(start, pos);
    }
    if (pattern === '') fail(start, 'expected a regular expression');
    try {
      RE2JS.compile(pattern);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      fail(start, `invalid or unsupported regular expression (RE2 syntax; no look-around or back-references): ${why}`);
    }
    return { kind: 'regex', pattern };
  }

  function expandValues(path: QPath, v: QLiteral | QList | QRange): QLiteral | QList | QRange {
    if (path.meta !== undefined || !expandSet.has(path.attr)) return v;
    const one = (l: QLiteral): QLiteral => (l.kind === 'uri' || l.kind === 'string' ? { kind: l.kind, value: terms.expandTerm(l.value) } : l);
    if (v.kind === 'list') return { kind: 'list', items: v.items.map(one) };
    if (v.kind === 'range') return { kind: 'range', min: one(v.min), max: one(v.max) };
    return one(v);
  }

  const expr = parseOr(0);
  if (pos < s.length) fail(pos, s[pos] === ')' ? 'unbalanced ")"' : `unexpected "${s[pos]}"`);
  return expr;
}
