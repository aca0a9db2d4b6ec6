// Aggregation buckets (§4.5.19 aggrPeriodDuration): consecutive periods from an origin. Computed here, once,
// so both stores group by the same boundaries (calendar months cannot be a fixed number of milliseconds).
import type { Bucket, PeriodDuration } from './model.ts';

/** More buckets than this is not a chart but a mistake: the request is refused (TooManyResults-like 400). */
export const MAX_BUCKETS = 100_000;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** `origin` plus k periods: months first (day of month clamped to the month's length, as calendars do), then ms. */
export function addPeriods(originMs: number, period: PeriodDuration, k: number): number {
  let t = originMs;
  if (period.months !== 0) {
    const d = new Date(originMs);
    const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + period.months * k;
    const year = Math.floor(total / 12);
    const month = total - year * 12;
    const day = Math.min(d.getUTCDate(), daysInMonth(year, month));
    t = Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
  }
  return t + period.ms * k;
}

export function isZeroPeriod(period: PeriodDuration | null): boolean {
  return period === null || (period.months === 0 && period.ms === 0);
}

/**
 * The buckets covering [originMs, endMs): the last one may end after endMs (it is the period's end). A zero
 * or absent period gives one bucket [originMs, endMs). Throws RangeError past MAX_BUCKETS.
 */
export function bucketsFor(originMs: number, endMs: number, period: PeriodDuration | null): Bucket[] {
  if (endMs <= originMs) return [];
  if (period === null || isZeroPeriod(period)) return [{ startMs: originMs, endMs }];
  if (period.months < 0 || period.ms < 0) throw new RangeError('negative aggregation period');
  const out: Bucket[] = [];
  let start = originMs;
  for (let k = 1; start < endMs; k++) {
    const end = addPeriods(originMs, period, k);
    if (end <= start) throw new RangeError('aggregation period does not advance');
    out.push({ startMs: start, endMs: end });
    if (out.length > MAX_BUCKETS) throw new RangeError(`more than ${MAX_BUCKETS} aggregation buckets`);
    start = end;
  }
  return out;
}
