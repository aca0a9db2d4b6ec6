// NGSI-LD temporal literals (GS CIM 009 §4.6.3, annex C.6; guide §5.4): UTC DateTime, Date and Time.
//
// DateTime grammar: `YYYY-MM-DDThh:mm:ss[.f{1,6}]Z` — UTC only, every component present, `,` accepted as the
// decimal separator on input (normalised to `.`). The canonical form returned is what the client sent: a
// fraction is never added, padded or trimmed, so user instants round-trip byte-identical.

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?Z$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?Z$/;

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isValidDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const max = m === 2 && isLeapYear(y) ? 29 : MONTH_DAYS[m - 1];
  return d <= max;
}

function isValidTime(h: number, min: number, s: number): boolean {
  return h <= 23 && min <= 59 && s <= 59;
}

/**
 * Parses a UTC DateTime. Returns the canonical string (the input with `.` as decimal separator) or null
 * when `s` is not a string, has an offset other than `Z`, lacks a component, or names an impossible
 * date or time (2026-02-30, 24:00:00, seconds 60).
 */
export function parseDateTime(s: unknown): string | null {
  if (typeof s !== 'string') return null;
  const m = DATE_TIME.exec(s);
  if (m === null) return null;
  if (!isValidDate(Number(m[1]), Number(m[2]), Number(m[3]))) return null;
  if (!isValidTime(Number(m[4]), Number(m[5]), Number(m[6]))) return null;
  return m[7] === undefined ? s : s.replace(',', '.');
}

/** True for a valid UTC DateTime string (see parseDateTime). */
export function isDateTime(s: unknown): s is string {
  return parseDateTime(s) !== null;
}

/** Parses a Date literal `YYYY-MM-DD`; returns it or null. */
export function parseDate(s: unknown): string | null {
  if (typeof s !== 'string') return null;
  const m = DATE.exec(s);
  if (m === null || !isValidDate(Number(m[1]), Number(m[2]), Number(m[3]))) return null;
  return s;
}

/** Parses a Time literal `hh:mm:ss[.f]Z`; returns it (with `.` as decimal separator) or null. */
export function parseTime(s: unknown): string | null {
  if (typeof s !== 'string') return null;
  const m = TIME.exec(s);
  if (m === null || !isValidTime(Number(m[1]), Number(m[2]), Number(m[3]))) return null;
  return m[4] === undefined ? s : s.replace(',', '.');
}

/**
 * Milliseconds since the epoch of a DateTime accepted by parseDateTime (sub-millisecond digits are
 * truncated). Use it, not string comparison, to order instants written with different fraction lengths.
 */
export function dateTimeToMillis(s: string): number {
  const m = DATE_TIME.exec(s);
  if (m === null) return Number.NaN;
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3)));
  return d.getTime();
}

/**
 * Compares two DateTimes by instant: negative, zero or positive. Fractions of any length are compared
 * exactly (microseconds included), unlike a plain string comparison (`…:00Z` vs `…:00.5Z`).
 */
export function compareDateTime(a: string, b: string): number {
  const da = dateTimeToMillis(a);
  const db = dateTimeToMillis(b);
  if (da !== db) return da - db;
  return fractionMicros(a) - fractionMicros(b);
}

function fractionMicros(s: string): number {
  const m = DATE_TIME.exec(s);
  return m?.[7] === undefined ? 0 : Number(m[7].padEnd(6, '0').slice(3));
}
