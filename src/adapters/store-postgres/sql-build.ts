// Building blocks of the PostgreSQL query compiler: bound parameters ($1…, with a cast from a fixed list),
// fresh aliases, and two-bound conditions for terms SQL can only approximate (regex, invalid geometries).

export type SqlScalar = string | number | boolean | null;
export type SqlValue = SqlScalar | readonly SqlScalar[];

/** The only casts the compiler writes after a placeholder. */
export type SqlCast = 'text' | 'text[]' | 'float8' | 'bigint' | 'bigint[]' | 'int' | 'jsonb';

export interface SqlStatement {
  text: string;
  values: SqlValue[];
}

/** Collects bound values; every value in compiled SQL is a placeholder returned by `add`. */
export class SqlParams {
  readonly values: SqlValue[] = [];
  private aliases = 0;

  /** Binds `value` and returns its placeholder with an explicit cast, e.g. `$3::float8`. */
  add(value: SqlValue, cast: SqlCast): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }

  /** A fresh table alias `<prefix><n>` (prefix is a compiler constant). */
  alias(prefix: string): string {
    this.aliases += 1;
    return `${prefix}${this.aliases}`;
  }

  /** A copy for one statement (the page parameters are appended per statement). */
  fork(): SqlParams {
    const copy = new SqlParams();
    copy.values.push(...this.values);
    copy.aliases = this.aliases;
    return copy;
  }
}

/**
 * A condition known between two bounds: `sure` holds only for rows that match, `maybe` holds for every
 * row that matches. When SQL decides exactly both are the same text. Rows where `maybe` holds and `sure`
 * does not are confirmed with the reference evaluator (query-run.ts). Both are two-valued SQL.
 */
export interface Cond {
  sure: string;
  maybe: string;
}

export const TRUE: Cond = { sure: 'TRUE', maybe: 'TRUE' };
export const FALSE: Cond = { sure: 'FALSE', maybe: 'FALSE' };

export function exact(sql: string): Cond {
  return { sure: sql, maybe: sql };
}

export function isExact(c: Cond): boolean {
  return c.sure === c.maybe;
}

/**
 * Drops neutral constants only: a part that makes the whole constant is kept (PostgreSQL folds it), since
 * dropping SQL would drop its placeholders, and an unreferenced placeholder has no type ($n errors).
 */
function join(parts: string[], op: 'AND' | 'OR'): string {
  const neutral = op === 'AND' ? 'TRUE' : 'FALSE';
  const kept = parts.filter((p) => p !== neutral);
  if (kept.length === 0) return neutral;
  return kept.length === 1 ? kept[0] : `(${kept.join(` ${op} `)})`;
}

export function and(items: Cond[]): Cond {
  const sure = join(items.map((c) => c.sure), 'AND');
  return items.every(isExact) ? exact(sure) : { sure, maybe: join(items.map((c) => c.maybe), 'AND') };
}

export function or(items: Cond[]): Cond {
  const sure = join(items.map((c) => c.sure), 'OR');
  return items.every(isExact) ? exact(sure) : { sure, maybe: join(items.map((c) => c.maybe), 'OR') };
}

function negate(sql: string): string {
  return sql === 'TRUE' ? 'FALSE' : sql === 'FALSE' ? 'TRUE' : `NOT ${sql}`;
}

/** Negation swaps the bounds. */
export function not(c: Cond): Cond {
  return isExact(c) ? exact(negate(c.sure)) : { sure: negate(c.maybe), maybe: negate(c.sure) };
}

/** `EXISTS (SELECT 1 FROM <from> WHERE <where>)` for each bound: any row matching suffices. */
export function exists(from: string, where: Cond): Cond {
  const one = (w: string): string => `EXISTS (SELECT 1 FROM ${from}${w === 'TRUE' ? '' : ` WHERE ${w}`})`;
  return isExact(where) ? exact(one(where.sure)) : { sure: one(where.sure), maybe: one(where.maybe) };
}
