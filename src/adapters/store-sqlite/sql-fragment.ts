// SQL fragments with bound parameters for the SQLite query compiler: text holds only `?` placeholders and
// constants written in this adapter; every value travels in `values`, in placeholder order, so composing
// fragments can never misplace a parameter or paste user text into SQL.

export type SqlValue = string | number | null;

export interface Sql {
  readonly text: string;
  readonly values: readonly SqlValue[];
}

function isSql(x: unknown): x is Sql {
  return typeof x === 'object' && x !== null && 'text' in x && 'values' in x;
}

/**
 * Tagged template: embedded fragments are inlined with their values, anything else is bound as one
 * parameter. `sql\`x = ${v}\`` is `{ text: 'x = ?', values: [v] }`.
 */
export function sql(strings: TemplateStringsArray, ...parts: (Sql | SqlValue)[]): Sql {
  let text = strings[0];
  const values: SqlValue[] = [];
  parts.forEach((part, i) => {
    if (isSql(part)) {
      text += part.text;
      values.push(...part.values);
    } else {
      text += '?';
      values.push(part);
    }
    text += strings[i + 1];
  });
  return { text, values };
}

/** A constant of this adapter (an identifier from its whitelist, a keyword): never user input. */
export function raw(text: string): Sql {
  return { text, values: [] };
}

export function join(parts: readonly Sql[], separator: string): Sql {
  return { text: parts.map((p) => p.text).join(separator), values: parts.flatMap((p) => p.values) };
}

export const TRUE = raw('1');
export const FALSE = raw('0');

/** `(a AND b …)`; TRUE for none. */
export function and(parts: readonly Sql[]): Sql {
  return parts.length === 0 ? TRUE : parts.length === 1 ? parts[0] : sql`(${join(parts, ' AND ')})`;
}

/** `(a OR b …)`; FALSE for none. */
export function or(parts: readonly Sql[]): Sql {
  return parts.length === 0 ? FALSE : parts.length === 1 ? parts[0] : sql`(${join(parts, ' OR ')})`;
}

/** Fresh aliases for nested subqueries of one statement. */
export interface Aliases {
  next(prefix: string): Sql;
}

export function createAliases(): Aliases {
  let n = 0;
  return { next: (prefix) => raw(`${prefix}${++n}`) };
}
