// ISO 8601 durations (GS CIM 009 §4.5.19 aggrPeriodDuration; retention of history): `P[n]Y[n]M[n]W[n]DT[n]H[n]M[n]S`
// split into calendar months and exact milliseconds, so that P1M stays one calendar month and P30D 30 days.
import type { PeriodDuration } from './model.ts';

const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?!$)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** True when `s` has the shape of an ISO 8601 duration accepted by parseDuration. */
export function isDuration(s: string): boolean {
  return s === '0' || DURATION.test(s);
}

/**
 * Parses an ISO 8601 duration; null when `s` is not one. Years count as 12 months, weeks as 7 days, days as
 * 24 hours (UTC has no daylight saving). Fractions are accepted on hours, minutes and seconds (`PT0.5S`) and
 * rounded to the millisecond. `0` (the OpenAPI default) is the zero duration.
 */
export function parseDuration(s: string): PeriodDuration | null {
  if (s === '0') return { months: 0, ms: 0 };
  const m = DURATION.exec(s);
  if (m === null) return null;
  const int = (g: string | undefined): number => (g === undefined ? 0 : Number(g));
  const dec = (g: string | undefined): number => (g === undefined ? 0 : Number(g.replace(',', '.')));
  const months = int(m[1]) * 12 + int(m[2]);
  const ms = Math.round((int(m[3]) * 7 + int(m[4])) * DAY_MS + dec(m[5]) * HOUR_MS + dec(m[6]) * 60_000 + dec(m[7]) * 1000);
  if (!Number.isSafeInteger(months) || !Number.isSafeInteger(ms)) return null;
  return { months, ms };
}
