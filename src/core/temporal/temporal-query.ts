// The temporal query of Retrieve / Query Temporal Evolution (GS CIM 009 §5.2.21, §5.7.3, §5.7.4, §4.5.19;
// guide §15.3–15.4): timerel, timeAt, endTimeAt, timeproperty, lastN, aggrMethods and aggrPeriodDuration,
// validated into a TimeWindow and an aggregation request. Every bad value is 400 BadRequestData naming it.
import { badRequestData } from '../errors.ts';
import { dateTimeToMillis, parseDate, parseDateTime } from '../datetime.ts';
import { parseDuration } from './duration.ts';
import {
  AGGREGATION_METHODS,
  TIME_PROPERTIES,
  type AggregationMethod,
  type PeriodDuration,
  type TimeProperty,
  type TimeRel,
  type TimeWindow,
} from './model.ts';

/** The raw members, from URL parameters or a POST query's `temporalQ` (strings as the client sent them). */
export interface TemporalQueryInput {
  timerel?: string;
  timeAt?: string;
  endTimeAt?: string;
  timeproperty?: string;
  lastN?: string;
}

export interface TemporalQuery {
  window: TimeWindow;
  lastN?: number;
  /** timeAt / endTimeAt in their canonical form as sent (echoed in Content-Range, §6.3.10). */
  timeAt?: string;
  endTimeAt?: string;
}

const TIME_RELS: readonly TimeRel[] = ['before', 'after', 'between'];

function bad(detail: string, title = 'Invalid temporal query'): never {
  throw badRequestData(detail, title);
}

function instant(name: string, raw: string): string {
  const dt = parseDateTime(raw);
  if (dt !== null) return dt;
  if (parseDate(raw) !== null) bad(`${name} "${raw}" is a Date; a DateTime (YYYY-MM-DDThh:mm:ss[.ffffff]Z) is required`);
  return bad(`${name} "${raw}" is not a UTC DateTime (YYYY-MM-DDThh:mm:ss[.ffffff]Z)`);
}

/** Parses lastN: a positive integer. */
export function parseLastN(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) bad(`lastN must be a positive integer, got "${raw}"`);
  return Number(raw);
}

/**
 * Validates a temporal query. `required` (Query Temporal Evolution): timerel must be given. Without timerel
 * (Retrieve) the window is unbounded: the whole history on the time property.
 */
export function parseTemporalQuery(input: TemporalQueryInput, required: boolean): TemporalQuery {
  const property = (input.timeproperty ?? 'observedAt') as TimeProperty;
  if (!(TIME_PROPERTIES as readonly string[]).includes(property)) {
    bad(`timeproperty must be one of ${TIME_PROPERTIES.join(', ')}, got "${input.timeproperty}"`);
  }
  const window: TimeWindow = { property };
  const out: TemporalQuery = { window };
  if (input.lastN !== undefined) out.lastN = parseLastN(input.lastN);
  if (input.timerel === undefined) {
    if (required) bad('A temporal query is required: give timerel (before, after or between) and timeAt', 'Missing temporal query');
    if (input.timeAt !== undefined || input.endTimeAt !== undefined) bad('timeAt and endTimeAt need timerel (before, after or between)');
    return out;
  }
  const rel = input.timerel as TimeRel;
  if (!TIME_RELS.includes(rel)) bad(`timerel must be before, after or between, got "${input.timerel}"`);
  if (input.timeAt === undefined) bad(`timerel=${rel} needs timeAt`);
  const timeAt = instant('timeAt', input.timeAt);
  const atMs = dateTimeToMillis(timeAt);
  window.rel = rel;
  out.timeAt = timeAt;
  if (rel === 'before') window.toMs = atMs;
  else window.fromMs = atMs;
  if (rel === 'between') {
    if (input.endTimeAt === undefined) bad('timerel=between needs endTimeAt');
    const end = instant('endTimeAt', input.endTimeAt);
    const endMs = dateTimeToMillis(end);
    if (endMs < atMs) bad(`endTimeAt ${end} is before timeAt ${timeAt}`);
    window.toMs = endMs;
    out.endTimeAt = end;
  } else if (input.endTimeAt !== undefined) {
    instant('endTimeAt', input.endTimeAt);
  }
  return out;
}

/** aggrMethods: a comma list (or array) of the eight methods, at least one; unknown → BadRequestData. */
export function parseAggrMethods(raw: string | readonly string[]): AggregationMethod[] {
  const items = typeof raw === 'string' ? raw.split(',') : [...raw];
  const out: AggregationMethod[] = [];
  for (const item of items.map((s) => s.trim())) {
    if (!(AGGREGATION_METHODS as readonly string[]).includes(item)) {
      bad(`Unknown aggregation method "${item}"; allowed: ${AGGREGATION_METHODS.join(', ')}`, 'Invalid aggrMethods');
    }
    if (!out.includes(item as AggregationMethod)) out.push(item as AggregationMethod);
  }
  if (out.length === 0) bad('aggrMethods must name at least one method', 'Invalid aggrMethods');
  return out;
}

/** aggrPeriodDuration: an ISO 8601 duration; null for the zero duration (one bucket over the window). */
export function parseAggrPeriod(raw: string): PeriodDuration | null {
  const period = parseDuration(raw);
  if (period === null) bad(`aggrPeriodDuration "${raw}" is not an ISO 8601 duration (e.g. PT1H, P1D, P1M, P1W)`, 'Invalid aggrPeriodDuration');
  return period.months === 0 && period.ms === 0 ? null : period;
}
