// Instants as the temporal API prints them (guide §5.4): UTC, and no zero fraction padded on (`…:00Z`, not
// `…:00.000Z`), because clients compare bucket bounds and Content-Range times literally.

const DAY_MS = 86_400_000;
/** 0000-01-01 and 10000-01-01 in epoch ms: the years toISOString writes with four digits. */
const MIN_FOUR_DIGIT_MS = -62_167_219_200_000;
const MAX_FOUR_DIGIT_MS = 253_402_300_800_000;

const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

// The date part of the last day formatted: an aggregation prints thousands of bounds, mostly of a few days,
// and Date's toISOString was a tenth of its CPU time.
let lastDay = Number.NaN;
let lastDayText = '';

/** Epoch milliseconds → `YYYY-MM-DDThh:mm:ss[.mmm]Z`, the fraction only when it is not zero. */
export function formatInstant(ms: number): string {
  if (!Number.isInteger(ms) || ms < MIN_FOUR_DIGIT_MS || ms >= MAX_FOUR_DIGIT_MS) {
    const iso = new Date(ms).toISOString();
    return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
  }
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay) {
    lastDayText = new Date(day * DAY_MS).toISOString().slice(0, 11);
    lastDay = day;
  }
  let rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  const hour = (rest - min) / 60;
  const time = `${lastDayText}${TWO_DIGITS[hour]!}:${TWO_DIGITS[min]!}:${TWO_DIGITS[sec]!}`;
  return milli === 0 ? `${time}Z` : `${time}.${THREE_DIGITS[milli]!}Z`;
}
