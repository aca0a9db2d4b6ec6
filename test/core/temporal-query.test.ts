// Tests for temporal query parameters (GS CIM 009 §5.2.21, §5.7.3–5.7.4, §4.5.19; guide §15.3–15.4): time
// windows, lastN, aggregation methods and ISO 8601 durations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import { isDuration, parseDuration } from '../../src/core/temporal/duration.ts';
import { parseAggrMethods, parseAggrPeriod, parseLastN, parseTemporalQuery } from '../../src/core/temporal/temporal-query.ts';

const ms = (s: string): number => Date.parse(s);

function badRequest(fn: () => unknown, detail: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof NgsiError && e.kind === 'BadRequestData' && detail.test(e.detail));
}

describe('parseTemporalQuery', () => {
  test('before is an exclusive upper bound, after an inclusive lower bound, between [timeAt, endTimeAt)', () => {
    assert.deepEqual(parseTemporalQuery({ timerel: 'before', timeAt: '2026-01-01T00:00:00Z' }, true).window, {
      property: 'observedAt',
      rel: 'before',
      toMs: ms('2026-01-01T00:00:00Z'),
    });
    assert.deepEqual(parseTemporalQuery({ timerel: 'after', timeAt: '2026-01-01T00:00:00Z', timeproperty: 'createdAt' }, true).window, {
      property: 'createdAt',
      rel: 'after',
      fromMs: ms('2026-01-01T00:00:00Z'),
    });
    const q = parseTemporalQuery({ timerel: 'between', timeAt: '2026-01-01T00:00:00,5Z', endTimeAt: '2026-01-02T00:00:00Z' }, true);
    assert.deepEqual(q.window, { property: 'observedAt', rel: 'between', fromMs: ms('2026-01-01T00:00:00.500Z'), toMs: ms('2026-01-02T00:00:00Z') });
    assert.equal(q.timeAt, '2026-01-01T00:00:00.5Z');
    assert.equal(q.endTimeAt, '2026-01-02T00:00:00Z');
  });

  test('without timerel a retrieve has an unbounded window and a query is refused', () => {
    assert.deepEqual(parseTemporalQuery({}, false).window, { property: 'observedAt' });
    badRequest(() => parseTemporalQuery({}, true), /temporal query is required/);
    badRequest(() => parseTemporalQuery({ timeAt: '2026-01-01T00:00:00Z' }, false), /need timerel/);
  });

  test('each malformed member is refused with a detail naming it', () => {
    const t = '2026-01-01T00:00:00Z';
    badRequest(() => parseTemporalQuery({ timerel: 'after' }, true), /timerel=after needs timeAt/);
    badRequest(() => parseTemporalQuery({ timerel: 'between', timeAt: t }, true), /between needs endTimeAt/);
    badRequest(() => parseTemporalQuery({ timerel: 'during', timeAt: t }, true), /timerel must be before, after or between/);
    badRequest(() => parseTemporalQuery({ timerel: 'after', timeAt: '2026-01-01' }, true), /is a Date; a DateTime/);
    badRequest(() => parseTemporalQuery({ timerel: 'after', timeAt: '2026-01-01T00:00:00+02:00' }, true), /not a UTC DateTime/);
    badRequest(() => parseTemporalQuery({ timerel: 'between', timeAt: t, endTimeAt: '2025-12-31T23:59:59Z' }, true), /endTimeAt .* is before timeAt/);
    badRequest(() => parseTemporalQuery({ timerel: 'after', timeAt: t, timeproperty: 'seenAt' }, true), /timeproperty must be one of/);
    badRequest(() => parseTemporalQuery({ timerel: 'after', timeAt: t, lastN: '0' }, true), /lastN must be a positive integer/);
  });

  test('lastN is a positive integer', () => {
    assert.equal(parseLastN('3'), 3);
    for (const raw of ['0', '-1', '1.5', 'abc', '']) badRequest(() => parseLastN(raw), /lastN/);
  });
});

describe('aggregation parameters', () => {
  test('aggrMethods: the eight methods, comma list or array, duplicates once; unknown → BadRequestData', () => {
    assert.deepEqual(parseAggrMethods('avg, max,avg'), ['avg', 'max']);
    assert.deepEqual(parseAggrMethods(['totalCount', 'distinctCount', 'sum', 'avg', 'min', 'max', 'stddev', 'sumsq']).length, 8);
    badRequest(() => parseAggrMethods('avg,median'), /Unknown aggregation method "median"/);
    badRequest(() => parseAggrMethods(''), /Unknown aggregation method ""/);
  });

  test('ISO 8601 durations split into calendar months and milliseconds', () => {
    assert.deepEqual(parseDuration('PT1H'), { months: 0, ms: 3_600_000 });
    assert.deepEqual(parseDuration('P1Y2M'), { months: 14, ms: 0 });
    assert.deepEqual(parseDuration('P2W'), { months: 0, ms: 14 * 86_400_000 });
    assert.deepEqual(parseDuration('P1DT2H3M4.5S'), { months: 0, ms: 86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4500 });
    assert.deepEqual(parseDuration('PT0S'), { months: 0, ms: 0 });
    assert.deepEqual(parseDuration('0'), { months: 0, ms: 0 });
    for (const bad of ['P', 'PT', '1H', 'PT-1H', 'P1H', 'PT1D', 'P1.5D', 'p1d', '']) {
      assert.equal(parseDuration(bad), null, bad);
      assert.equal(isDuration(bad), false, bad);
    }
  });

  test('aggrPeriodDuration: zero means one bucket over the window; malformed → BadRequestData', () => {
    assert.equal(parseAggrPeriod('PT0S'), null);
    assert.deepEqual(parseAggrPeriod('P1M'), { months: 1, ms: 0 });
    badRequest(() => parseAggrPeriod('one hour'), /not an ISO 8601 duration/);
  });
});
