// Regular expressions of `~=` / `!~=` (GS CIM 009 §4.9) and idPattern (§5.7.2) in the PostgreSQL query
// compiler. The reference matches RE2 syntax unanchored (re2js); PostgreSQL's `~` is POSIX ARE, which
// differs (`.` and newlines, `\w`/`\d` by locale, case folding, bounds, UTF-16 vs code points). So no
// pattern is handed to `~`. Instead:
// - a pattern that is a plain literal, optionally anchored (`^lit`, `lit$`, `^lit$`, `lit`, with `.*` at an
//   unanchored end), is decided exactly with starts_with / right / strpos / equality;
// - otherwise SQL gives only bounds: never `sure`, and `maybe` for every string — narrowed to
//   `starts_with(prefix)` when the pattern begins `^lit` with no top-level alternation — and the reference
//   evaluator confirms the candidates (query-run.ts).
// Literals are restricted to U+0003–U+D7FF ("plain" text): such text is its own textKey and occurs in a
// textKey exactly where it occurs in the original, so the same SQL is exact on ids and on textKeys.
import { isPlainText } from './text-key.ts';
import { exact, FALSE, type Cond, type SqlParams } from './sql-build.ts';

export type RegexPlan =
  /** Exactly: the text contains `literal` (at the start when `start`, at the end when `end`). */
  | { kind: 'literal'; literal: string; start: boolean; end: boolean }
  /** Only a necessary condition: every match starts with `prefix`. */
  | { kind: 'prefix'; prefix: string }
  | { kind: 'opaque' };

const META = new Set(['.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$', '\\']);
const QUANTIFIER = new Set(['*', '+', '?', '{']);
const PUNCTUATION = /^[!-/:-@[-`{-~]$/;

/** True when `|` appears outside any group or character class (alternation of the whole pattern). */
function hasTopLevelAlternation(p: string): boolean {
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
    else if (c === '[') {
      i++;
      if (p[i] === '^') i++;
      if (p[i] === ']') i++;
      for (; i < p.length && p[i] !== ']'; i++) {
        if (p[i] === '\\') i++;
        else if (p[i] === '[' && p[i + 1] === ':') {
          const close = p.indexOf(':]', i + 2);
          if (close > 0) i = close + 1;
        }
      }
    }
  }
  return false;
}

/** Reads the literal run at the start of `p` (after `^`): plain characters and escaped punctuation. */
function literalRun(p: string, from: number): { literal: string; next: number } {
  let literal = '';
  let i = from;
  while (i < p.length) {
    const c = p[i];
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined || !PUNCTUATION.test(n)) break;
      literal += n;
      i += 2;
    } else if (META.has(c)) break;
    else {
      const cp = String.fromCodePoint(p.codePointAt(i)!);
      literal += cp;
      i += cp.length;
    }
  }
  return { literal, next: i };
}

/** Classifies an RE2 pattern (already validated by re2js) for SQL. */
export function planRegex(pattern: string): RegexPlan {
  const start = pattern.startsWith('^');
  let i = start ? 1 : 0;
  if (!start) while (pattern.startsWith('.*', i)) i += 2;
  const { literal, next } = literalRun(pattern, i);
  let rest = pattern.slice(next);
  if (!isPlainText(literal)) return { kind: 'opaque' };
  let end = false;
  if (rest === '$') {
    end = true;
    rest = '';
  } else if (/^(?:\.\*)+$/.test(rest)) {
    rest = '';
  }
  if (rest === '') return { kind: 'literal', literal, start, end };
  if (!start || hasTopLevelAlternation(pattern)) return { kind: 'opaque' };
  // A quantifier applies to the last literal character, which may then be absent.
  const prefix = QUANTIFIER.has(rest[0]) ? Array.from(literal).slice(0, -1).join('') : literal;
  return prefix === '' ? { kind: 'opaque' } : { kind: 'prefix', prefix };
}

/** `\`, `%` and `_` escaped for LIKE (default escape character `\`). */
function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function prefixTest(s: string, prefix: string, params: SqlParams, indexed: boolean): string {
  return indexed ? `${s} LIKE ${params.add(`${likeEscape(prefix)}%`, 'text')}` : `starts_with(${s}, ${params.add(prefix, 'text')})`;
}

/**
 * The regex condition on a text expression `s` (NULL counts as no match). `indexed`: `s` is an indexed
 * column; anchored-prefix forms are written with LIKE so a btree ("C") range applies.
 */
export function regexCond(pattern: string, s: string, params: SqlParams, indexed = false): Cond {
  const plan = planRegex(pattern);
  if (plan.kind === 'literal') {
    const { literal, start, end } = plan;
    // Two-valued: `s IS NOT NULL AND …` is FALSE, never NULL, for a NULL `s`.
    const known = (test: string): Cond => exact(`(${s} IS NOT NULL AND ${test})`);
    if (literal === '' && !(start && end)) return exact(`(${s} IS NOT NULL)`);
    if (start && end) return known(`${s} = ${params.add(literal, 'text')}`);
    if (start) return known(prefixTest(s, literal, params, indexed));
    if (end) return known(`right(${s}, ${params.add(literal.length, 'int')}) = ${params.add(literal, 'text')}`);
    return known(`strpos(${s}, ${params.add(literal, 'text')}) > 0`);
  }
  if (plan.kind === 'prefix') return { sure: FALSE.sure, maybe: `(${s} IS NOT NULL AND ${prefixTest(s, plan.prefix, params, indexed)})` };
  return { sure: FALSE.sure, maybe: `(${s} IS NOT NULL)` };
}
