// Entity type selection language (GS CIM 009 §4.17): `A,B` / `A|B` (or), `A;B` (and), parentheses.
import { badRequestData } from '../errors.ts';
import { isValidName } from '../names.ts';

export type TypeExpr =
  | { op: 'type'; name: string }
  | { op: 'any' }
  | { op: 'and'; items: TypeExpr[] }
  | { op: 'or'; items: TypeExpr[] };

/** Parses a type selector; names are passed through `expand` (JSON-LD term expansion). */
export function parseTypeExpr(input: string, expand: (name: string) => string): TypeExpr {
  const s = input.trim();
  if (s === '*') return { op: 'any' };
  let pos = 0;
  const fail = (why: string): never => {
    throw badRequestData(`Invalid type selector "${input}": ${why}`, 'Invalid type selector');
  };
  const parseOr = (): TypeExpr => {
    const items = [parseAnd()];
    while (s[pos] === '|' || s[pos] === ',') {
      pos++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { op: 'or', items };
  };
  const parseAnd = (): TypeExpr => {
    const items = [parsePrimary()];
    while (s[pos] === ';') {
      pos++;
      items.push(parsePrimary());
    }
    return items.length === 1 ? items[0]! : { op: 'and', items };
  };
  const parsePrimary = (): TypeExpr => {
    if (s[pos] === '(') {
      pos++;
      const e = parseOr();
      if (s[pos] !== ')') fail('missing ")"');
      pos++;
      return e;
    }
    const start = pos;
    while (pos < s.length && !'|,;()'.includes(s[pos]!)) pos++;
    const name = s.slice(start, pos).trim();
    if (name === '') fail('empty type name');
    if (!isValidName(name)) fail(`"${name}" is not a valid type name`);
    return { op: 'type', name: expand(name) };
  };
  if (s === '') fail('empty');
  const expr = parseOr();
  if (pos !== s.length) fail(`unexpected "${s[pos]}"`);
  return expr;
}

/** True when an entity with these (expanded) types satisfies the selector. */
export function matchesTypeExpr(expr: TypeExpr, types: readonly string[]): boolean {
  switch (expr.op) {
    case 'any':
      return true;
    case 'type':
      return types.includes(expr.name);
    case 'and':
      return expr.items.every((e) => matchesTypeExpr(e, types));
    case 'or':
      return expr.items.some((e) => matchesTypeExpr(e, types));
  }
}
