// Tests for instance pagination (GS CIM 009 §6.3.10; guide §15.3): the cap, the common range, Content-Range.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyInstanceRange, storeInstanceLimit } from '../../src/core/temporal/instance-range.ts';
import type { RecordedInstance, TemporalEntityInstances } from '../../src/core/temporal/model.ts';

const at = (m: number): string => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString().replace('.000Z', 'Z');
const run = (n: number, step = 1, from = 0): RecordedInstance[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'Property', value: i, observedAt: at(from + i * step), createdAt: at(0), modifiedAt: at(0), instanceId: `urn:i:${i}` }));
const entity = (attrs: Record<string, RecordedInstance[]>): TemporalEntityInstances => ({ entity: { id: 'urn:e', types: ['T'], createdAt: at(0), modifiedAt: at(0) }, attrs, truncated: false });

describe('applyInstanceRange', () => {
  test('the store is asked for one instance more than the cap', () => {
    assert.equal(storeInstanceLimit(10), 11);
  });

  test('nothing over the cap: unchanged, no range', () => {
    const res = applyInstanceRange([entity({ a: run(10) })], { window: { property: 'observedAt' }, cap: 10 });
    assert.equal(res.contentRange, undefined);
    assert.equal(res.entities[0]!.attrs.a!.length, 10);
  });

  test('ascending: the oldest cap instances; the range from timeAt (after) to the newest kept; others trimmed to it', () => {
    const res = applyInstanceRange([entity({ a: run(11), b: run(11, 2) })], {
      window: { property: 'observedAt', rel: 'after', fromMs: Date.parse(at(0)) },
      timeAt: at(0),
      cap: 10,
    });
    assert.equal(res.contentRange, `date-time ${at(0)}-${at(9)}/*`);
    assert.equal(res.entities[0]!.attrs.a!.length, 10);
    assert.deepEqual(res.entities[0]!.attrs.b!.map((i) => i.value), [0, 1, 2, 3, 4]);
    assert.equal(res.entities[0]!.truncated, true);
  });

  test('ascending without a lower bound: the range starts at the oldest returned time', () => {
    const res = applyInstanceRange([entity({ a: run(11, 1, 5) })], { window: { property: 'observedAt' }, cap: 10 });
    assert.equal(res.contentRange, `date-time ${at(5)}-${at(14)}/*`);
  });

  test('descending (lastN): the newest cap instances; the range from the upper bound down to the oldest kept; size lastN', () => {
    const res = applyInstanceRange([entity({ a: run(11), b: run(3, 1, 8) })], {
      window: { property: 'observedAt', rel: 'before', toMs: Date.parse(at(60)) },
      timeAt: at(60),
      lastN: 20,
      cap: 10,
    });
    assert.equal(res.contentRange, `date-time ${at(60)}-${at(1)}/20`);
    assert.deepEqual(res.entities[0]!.attrs.a!.map((i) => i.value), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(res.entities[0]!.attrs.b!.length, 3);
    const open = applyInstanceRange([entity({ a: run(11) })], { window: { property: 'observedAt' }, lastN: 11, cap: 10 });
    assert.equal(open.contentRange, `date-time ${at(10)}-${at(1)}/11`);
  });

  test('an attribute all of whose instances lie outside the range is present and empty', () => {
    const res = applyInstanceRange([entity({ a: run(11), late: run(2, 1, 50) })], { window: { property: 'observedAt' }, cap: 10 });
    assert.deepEqual(res.entities[0]!.attrs.late, []);
  });
});
