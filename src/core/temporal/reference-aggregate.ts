// The naive reference of temporal aggregation (GS CIM 009 §4.5.19; guide §15.4; issue 6 item 3): what the
// stores' SQL must compute, written the obvious way over instances in memory. Only tests use it (the
// property test compares it with each store); no endpoint aggregates in JavaScript.
//
// Semantics both stores follow:
// - Instances: those of the attribute inside the window (instances lacking the window's time property never
//   count); deletion instances are left out entirely (they have no value).
// - Buckets: consecutive periods from the window's lower bound or, without one, from the attribute's oldest
//   counted instance (addPeriods: months first, then milliseconds). A zero/absent period gives one bucket
//   ending at the window's upper bound or, without one, 1 ms after the newest counted instance. Buckets
//   without a counted instance are omitted.
// - Per bucket, over the instance values of instance-values.ts: totalCount = instances with a key,
//   distinctCount = distinct keys; sum, avg, sumsq, stddev (population) over `num`; min/max over `num` when
//   the bucket has a number, else over `text` in code-point order. A value is null when nothing applies.
// - A method whose value is null in every bucket does not apply to the attribute: its series is left out.
//   An attribute without counted instances is left out.
import { bucketsFor, isZeroPeriod } from './buckets.ts';
import { instanceTime, instanceValues, type InstanceValues } from './instance-values.ts';
import type { AggregateSeries, AggregationMethod, Bucket, PeriodDuration, RecordedInstance, TemporalEntityAggregates, TimeWindow } from './model.ts';

/** Code-point order (what SQLite's BINARY and PostgreSQL's "C" collation give on UTF-8), not UTF-16 order. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true || y.done === true) return (x.done === true ? 0 : 1) - (y.done === true ? 0 : 1);
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

export function inWindow(ms: number, window: TimeWindow): boolean {
  return (window.fromMs === undefined || ms >= window.fromMs) && (window.toMs === undefined || ms < window.toMs);
}

/** Index of the bucket holding `ms` (buckets are consecutive and ascending). */
function bucketIndex(buckets: readonly Bucket[], ms: number): number {
  let lo = 0;
  let hi = buckets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (buckets[mid]!.startMs <= ms) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function extreme(values: InstanceValues[], sign: 1 | -1): number | string | null {
  const nums = values.map((v) => v.num).filter((n): n is number => n !== null);
  if (nums.length > 0) return sign > 0 ? Math.max(...nums) : Math.min(...nums);
  const texts = values.map((v) => v.text).filter((t): t is string => t !== null);
  if (texts.length === 0) return null;
  return texts.reduce((a, b) => (sign * compareCodePoints(b, a) > 0 ? b : a));
}

/** One method over the values of one bucket. */
export function aggregateValues(method: AggregationMethod, values: InstanceValues[]): number | string | null {
  const nums = values.map((v) => v.num).filter((n): n is number => n !== null);
  const sum = nums.reduce((a, b) => a + b, 0);
  switch (method) {
    case 'totalCount':
      return values.filter((v) => v.key !== null).length;
    case 'distinctCount':
      return new Set(values.map((v) => v.key).filter((k) => k !== null)).size;
    case 'sum':
      return nums.length === 0 ? null : sum;
    case 'avg':
      return nums.length === 0 ? null : sum / nums.length;
    case 'sumsq':
      return nums.length === 0 ? null : nums.reduce((a, b) => a + b * b, 0);
    case 'stddev': {
      if (nums.length === 0) return null;
      const mean = sum / nums.length;
      return Math.sqrt(nums.reduce((a, b) => a + (b - mean) * (b - mean), 0) / nums.length);
    }
    case 'min':
      return extreme(values, -1);
    case 'max':
      return extreme(values, 1);
  }
}

/**
 * The aggregation of one attribute's instances, shaped as TemporalEntityAggregates.attrs: `{ [attr]: { method:
 * series } }`, or `{}` when no instance counts. `period` null or zero: one bucket over the window.
 */
export function referenceAggregate(
  instances: readonly RecordedInstance[],
  window: TimeWindow,
  methods: readonly AggregationMethod[],
  period: PeriodDuration | null,
  attr: string,
): TemporalEntityAggregates['attrs'] {
  const counted: { ms: number; values: InstanceValues }[] = [];
  for (const inst of instances) {
    if (inst.deletedAt !== undefined) continue;
    const ms = instanceTime(inst, window.property);
    if (ms === null || !inWindow(ms, window)) continue;
    counted.push({ ms, values: instanceValues(inst) });
  }
  if (counted.length === 0) return {};
  const times = counted.map((c) => c.ms);
  const origin = window.fromMs ?? Math.min(...times);
  const newest = Math.max(...times);
  const end = window.toMs ?? newest + 1;
  // Periodic buckets are needed only up to the newest instance: later ones are empty, hence omitted.
  const buckets = isZeroPeriod(period) ? [{ startMs: origin, endMs: end }] : bucketsFor(origin, newest + 1, period);
  const groups = new Map<number, InstanceValues[]>();
  for (const c of counted) {
    const i = bucketIndex(buckets, c.ms);
    groups.set(i, [...(groups.get(i) ?? []), c.values]);
  }
  const order = [...groups.keys()].sort((a, b) => a - b);
  const out: Partial<Record<AggregationMethod, AggregateSeries>> = {};
  for (const method of methods) {
    const series: AggregateSeries = order.map((i) => ({ value: aggregateValues(method, groups.get(i)!), startMs: buckets[i]!.startMs, endMs: buckets[i]!.endMs }));
    if (series.some((s) => s.value !== null)) out[method] = series;
  }
  return { [attr]: out };
}
