// The scope query language `scopeQ` (GS CIM 009 §4.19; guide §9.1): parser to a plain AST and its
// evaluation against an entity's scopes (§4.18).
import { NgsiError, badRequestData } from '../errors.ts';

/** `+` in `levels` stands for exactly one level of any name (a real level always starts with a letter). */
export const SCOPE_WILDCARD = '+';

export type ScopeExpr =
  /** `/#`: any entity that has at least one scope. */
  | { type: 'any' }
  /** `/a/+/c` (exactly that scope, `+` = one level of any name); with `descendants`, `/a/+/c/#`. */
  | { type: 'scope'; levels: string[]; descendants: boolean }
  /** The entity has scopes satisfying every item (possibly different scopes). */
  | { type: 'and'; items: ScopeExpr[] }
  | { type: 'or'; items: ScopeExpr[] };

export interface ScopeQLimits {
  maxLength: number;
  /** Maximum parenthesis nesting; 32 when omitted. */
  maxDepth?: number;
}

const LEVEL = /^[\p{L}][\p{L}\p{N}_]*$/u;

/**
 * Parses scopeQ. `,` and `|` are OR, `;` is AND and binds tighter, parentheses group (and may nest —
 * a superset of the restated grammar). `/#` is accepted wherever a scope may stand. No whitespace.
 */
export function parseScopeQ(input: string, limits: ScopeQLimits): ScopeExpr {
  const s = input;
  const maxDepth = limits.maxDepth ?? 32;
  let pos = 0;
  const fail = (at: number, why: string): never => {
    const near = at >= s.length ? 'at the end' : `at position ${at + 1} ("${s.slice(at, at + 20)}")`;
    throw badRequestData(`Invalid scopeQ: ${why} ${near}`, 'Invalid scopeQ expression');
  };
  if (s.length > limits.maxLength) {
    // An implementation limit, not a syntax error (§5.5.2): 403 TooComplexQuery.
    throw new NgsiError('TooComplexQuery', `scopeQ is longer than the limit of ${limits.maxLength} characters (${s.length})`, 'Query too complex');
  }
  if (s === '') fail(0, 'empty expression');

  const parseOr = (depth: number): ScopeExpr => {
    const items: ScopeExpr[] = [];
    const push = (e: ScopeExpr): void => void (e.type === 'or' ? items.push(...e.items) : items.push(e));
    push(parseAnd(depth));
    while (s[pos] === '|' || s[pos] === ',') {
      pos++;
      push(parseAnd(depth));
    }
    return items.length === 1 ? items[0] : { type: 'or', items };
  };
  const parseAnd = (depth: number): ScopeExpr => {
    const items: ScopeExpr[] = [];
    const push = (e: ScopeExpr): void => void (e.type === 'and' ? items.push(...e.items) : items.push(e));
    push(parseItem(depth));
    while (s[pos] === ';') {
      pos++;
      push(parseItem(depth));
    }
    return items.length === 1 ? items[0] : { type: 'and', items };
  };
  const parseItem = (depth: number): ScopeExpr => {
    if (s[pos] === '(') {
      if (depth >= maxDepth) fail(pos, `parentheses nested deeper than ${maxDepth} levels`);
      const open = pos++;
      const e = parseOr(depth + 1);
      if (s[pos] !== ')') fail(pos, `missing ")" for the "(" at position ${open + 1}`);
      pos++;
      return e;
    }
    return parseScope();
  };
  const parseScope = (): ScopeExpr => {
    if (s[pos] !== '/') fail(pos, 'expected a scope starting with "/"');
    if (s.startsWith('/#', pos)) {
      pos += 2;
      return { type: 'any' };
    }
    const levels: string[] = [];
    let descendants = false;
    while (s[pos] === '/') {
      pos++;
      if (s[pos] === '#') {
        pos++;
        descendants = true;
        break;
      }
      const start = pos;
      while (pos < s.length && !'/;|,()'.includes(s[pos])) pos++;
      const level = s.slice(start, pos);
      if (level === '') fail(start, 'empty scope level');
      if (level !== SCOPE_WILDCARD && !LEVEL.test(level)) {
        fail(start, `"${level}" is not a scope level (a letter, then letters, digits or "_"; or "+")`);
      }
      levels.push(level);
    }
    return { type: 'scope', levels, descendants };
  };

  const expr = parseOr(0);
  if (pos < s.length) fail(pos, s[pos] === ')' ? 'unbalanced ")"' : `unexpected "${s[pos]}"`);
  return expr;
}

/** True when an entity with these scopes satisfies `expr`; entities without scope never match. */
export function evaluateScopeQ(expr: ScopeExpr, scopes: readonly string[] | undefined): boolean {
  if (scopes === undefined || scopes.length === 0) return false;
  const split = scopes.map((sc) => sc.split('/').slice(1));
  const test = (e: ScopeExpr): boolean => {
    switch (e.type) {
      case 'any':
        return true;
      case 'and':
        return e.items.every(test);
      case 'or':
        return e.items.some(test);
      case 'scope':
        return split.some((levels) => scopeMatches(e.levels, e.descendants, levels));
    }
  };
  return test(expr);
}

function scopeMatches(pattern: readonly string[], descendants: boolean, levels: readonly string[]): boolean {
  if (descendants ? levels.length < pattern.length : levels.length !== pattern.length) return false;
  return pattern.every((p, i) => p === SCOPE_WILDCARD || p === levels[i]);
}
