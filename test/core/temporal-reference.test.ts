// Tests for the reference aggregation (GS CIM 009 §4.5.19; guide §15.4) that the stores' SQL must equal.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCodePoints, referenceAggregate } from '../../src/core/temporal/reference-aggregate.ts';
import type { RecordedInstance } from '../../src/core/temporal/model.ts';

const H = 3_600_000;
const t0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
let n = 0;
const p = (value: RecordedInstance['value'], ms: number, extra: Partial<RecordedInstance> = {}): RecordedInstance => ({
  type: 'Property',
  value,
  observedAt: iso(ms),
  createdAt: iso(ms),
  modifiedAt: iso(ms),
  instanceId: `urn:i:${++n}`,
  ...extra,
});

describe('referenceAggregate', () => {
  test('hourly buckets from the window start; empty buckets omitted; every method', () => {
    const inst = [p(1, t0), p(3, t0 + 10), p(10, t0 + 2 * H + 5)];
    const out = referenceAggregate(inst, { property: 'observedAt', rel: 'after', fromMs: t0 }, ['totalCount', 'distinctCount', 'sum', 'avg', 'min', 'max', 'stddev', 'sumsq'], { months: 0, ms: H }, 'a');
    const a = out.a!;
    const v = (m: keyof typeof a) => a[m]!.map((s) => s.value);
    assert.deepEqual(a.sum!.map((s) => [s.startMs, s.endMs]), [
      [t0, t0 + H],
      [t0 + 2 * H, t0 + 3 * H],
    ]);
    assert.deepEqual(v('totalCount'), [2, 1]);
    assert.deepEqual(v('sum'), [4, 10]);
    assert.deepEqual(v('avg'), [2, 10]);
    assert.deepEqual(v('min'), [1, 10]);
    assert.deepEqual(v('max'), [3, 10]);
    assert.deepEqual(v('stddev'), [1, 0]);
    assert.deepEqual(v('sumsq'), [10, 100]);
  });

  test('without a lower bound buckets start at the oldest instance; one bucket ends 1 ms after the newest', () => {
    const out = referenceAggregate([p(1, t0 + 5), p(2, t0 + 9)], { property: 'observedAt' }, ['sum'], null, 'a');
    assert.deepEqual(out.a!.sum, [{ value: 3, startMs: t0 + 5, endMs: t0 + 10 }]);
  });

  test('strings: min/max in code-point order, no sum; booleans count as 1/0; arrays by length', () => {
    const strs = referenceAggregate([p('b', t0), p('\u{1F600}', t0 + 1), p('\uFFFF', t0 + 2)], { property: 'observedAt' }, ['min', 'max', 'sum'], null, 's');
    assert.equal(strs.s!.max![0]!.value, '\u{1F600}');
    assert.equal(strs.s!.min![0]!.value, 'b');
    assert.equal(strs.s!.sum, undefined);
    assert.ok(compareCodePoints('\u{1F600}', '\uFFFF') > 0);
    assert.equal(referenceAggregate([p(true, t0), p(false, t0 + 1)], { property: 'observedAt' }, ['avg'], null, 'b').b!.avg![0]!.value, 0.5);
    assert.equal(referenceAggregate([p([1, 2, 3], t0)], { property: 'observedAt' }, ['sum'], null, 'l').l!.sum![0]!.value, 3);
  });

  test('deletions, instances outside the window and instances lacking the time property do not count', () => {
    const inst = [p(1, t0), p('urn:ngsi-ld:null', t0 + 1, { deletedAt: iso(t0 + 1) }), p(5, t0 + 2 * H), { ...p(7, t0), observedAt: undefined }];
    const out = referenceAggregate(inst, { property: 'observedAt', rel: 'before', toMs: t0 + H }, ['totalCount'], null, 'a');
    assert.deepEqual(out.a!.totalCount, [{ value: 1, startMs: t0, endMs: t0 + H }]);
    assert.deepEqual(referenceAggregate([], { property: 'observedAt' }, ['sum'], null, 'a'), {});
  });

  test('calendar months: P1M buckets follow month lengths', () => {
    const jan = Date.parse('2026-01-01T00:00:00Z');
    const feb = Date.parse('2026-02-01T00:00:00Z');
    const mar = Date.parse('2026-03-01T00:00:00Z');
    const out = referenceAggregate([p(1, jan + 5), p(2, feb + 5), p(4, mar - 1)], { property: 'observedAt', rel: 'after', fromMs: jan }, ['sum'], { months: 1, ms: 0 }, 'a');
    assert.deepEqual(out.a!.sum, [
      { value: 1, startMs: jan, endMs: feb },
      { value: 6, startMs: feb, endMs: mar },
    ]);
  });

  test('Relationships only count', () => {
    const r: RecordedInstance = { type: 'Relationship', object: 'urn:x:1', observedAt: iso(t0), createdAt: iso(t0), modifiedAt: iso(t0), instanceId: 'urn:i:r' };
    const out = referenceAggregate([r, { ...r, instanceId: 'urn:i:r2' }], { property: 'observedAt' }, ['totalCount', 'distinctCount', 'sum', 'max'], null, 'r');
    assert.deepEqual(Object.keys(out.r!).sort(), ['distinctCount', 'totalCount']);
    assert.equal(out.r!.distinctCount![0]!.value, 1);
  });
});
