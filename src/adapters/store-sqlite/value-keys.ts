// Sort keys that let SQLite's binary text comparison reproduce the q comparison rules (GS CIM 009 §4.9;
// guide §8.3, core q-compare.ts): UTF-16 code-unit order for strings, chronological order for DateTime and
// Time. Used for the attribute value index and, as registered SQL functions, on JSON1-extracted values.
import { parseDateTime, parseDate, parseTime } from '../../core/datetime.ts';
import { unwrapTypedLiteral } from '../../core/query/q-compare.ts';
import type { JsonValue } from '../../core/json.ts';

/**
 * SQLite compares TEXT as UTF-8 bytes, i.e. by code point; JavaScript (and the reference) by UTF-16 code
 * unit. They differ when a supplementary character (a surrogate pair, D800–DFFF) meets a character in
 * E000–FFFF. The key maps every code unit ≥ D800 to the code point 0x10000 + (unit − D800), one per unit:
 * the mapping is injective, keeps the order of units, and puts all of them above every unit < D800 — so
 * byte order of keys equals code-unit order of the strings, and key equality equals string equality.
 */
export function stringKey(s: string): string {
  if (!/[\uD800-\uFFFF]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    out += u < 0xd800 ? s[i] : String.fromCodePoint(0x10000 + (u - 0xd800));
  }
  return out;
}

/** The inverse of stringKey. */
export function stringFromKey(k: string): string {
  if (!/[\uD800-\uDFFF]/.test(k)) return k;
  let out = '';
  for (const ch of k) {
    const cp = ch.codePointAt(0)!;
    out += cp >= 0x10000 ? String.fromCharCode(cp - 0x10000 + 0xd800) : ch;
  }
  return out;
}

/**
 * `YYYY-MM-DDThh:mm:ss.ffffff` for a UTC DateTime the reference accepts (null otherwise): fixed width, so
 * text order is the instant order of compareDateTime (fractions of any length, `,` or `.`).
 */
export function dateTimeKey(v: unknown): string | null {
  const dt = parseDateTime(v);
  if (dt === null) return null;
  const [main, frac = ''] = dt.slice(0, -1).split('.');
  return `${main}.${frac.padEnd(6, '0')}`;
}

/** The Date itself (`YYYY-MM-DD` compares as text), or null. */
export function dateKey(v: unknown): string | null {
  return parseDate(v);
}

/** `hh:mm:ss.ffffff` for a Time the reference accepts, or null. */
export function timeKey(v: unknown): string | null {
  const t = parseTime(v);
  if (t === null) return null;
  const [main, frac = ''] = t.slice(0, -1).split('.');
  return `${main}.${frac.padEnd(6, '0')}`;
}

/** The typed columns of one comparison candidate, after typed-literal unwrapping (q-compare.ts). */
export interface CandidateColumns {
  num: number | null;
  str: string | null;
  bool: number | null;
  dt: string | null;
  date: string | null;
  tm: string | null;
}

export function candidateColumns(raw: JsonValue): CandidateColumns {
  const v = unwrapTypedLiteral(raw);
  const out: CandidateColumns = { num: null, str: null, bool: null, dt: null, date: null, tm: null };
  if (typeof v === 'number') out.num = v;
  else if (typeof v === 'boolean') out.bool = v ? 1 : 0;
  else if (typeof v === 'string') {
    out.str = stringKey(v);
    out.dt = dateTimeKey(v);
    out.date = dateKey(v);
    out.tm = timeKey(v);
  }
  return out;
}
