// Tests for the history recording decorator and the retention job (issue 6 item 1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entity } from '../../src/core/model/entity.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { WriteDecision } from '../../src/ports/store.ts';
import { createHistoryRetention, retentionCutoff } from '../../src/services/history-retention.ts';
import { withHistory } from '../../src/services/recording-store.ts';
import { eventually } from '../support/harness.ts';

const NOW = '2026-03-31T12:00:00Z';
const clock: Clock = { nowIso: () => NOW, nowMs: () => Date.parse(NOW) };
const e: Entity = { id: 'urn:ngsi-ld:S:1', types: ['urn:t:S'], createdAt: NOW, modifiedAt: NOW, attrs: { 'urn:a:x': [{ type: 'Property', value: 1, createdAt: NOW, modifiedAt: NOW }] } };

describe('withHistory', () => {
  test('a put records its instances, a remove the deletions, a no-op nothing', () => {
    const put = withHistory({ put: e, result: 1 }, null, clock);
    assert.equal(put.history!.instances.length, 1);
    assert.match(put.history!.instances[0]!.instance.instanceId, /^urn:ngsi-ld:[0-9a-f-]{36}$/);
    const removed = withHistory({ remove: true, result: 1 }, e, clock);
    assert.equal(removed.history!.entity!.deletedAt, NOW);
    const none: WriteDecision<number> = { result: 1 };
    assert.equal(withHistory(none, e, clock), none);
  });

  test('a decision that already carries history (temporal API) is left alone', () => {
    const d: WriteDecision<number> = { put: e, history: { instances: [] }, result: 1 };
    assert.equal(withHistory(d, null, clock), d);
  });
});

describe('history retention', () => {
  test('the cutoff counts calendar months back, clamping the day', () => {
    assert.equal(new Date(retentionCutoff(Date.parse(NOW), { months: 1, ms: 0 })).toISOString(), '2026-02-28T12:00:00.000Z');
    assert.equal(retentionCutoff(Date.parse(NOW), { months: 0, ms: 86_400_000 }), Date.parse(NOW) - 86_400_000);
  });

  test('runs at start and on its interval, and stop waits for a run in progress', async () => {
    const calls: number[] = [];
    const job = createHistoryRetention({
      temporal: {
        pruneHistory: async (before) => {
          calls.push(before);
          return 2;
        },
      },
      clock,
      retention: { months: 0, ms: 1000 },
      intervalMs: 10,
      logger: { info: () => {}, warn: () => {} } as never,
    });
    job.start();
    await eventually(async () => (calls.length >= 2 ? true : undefined), 5000, 'two retention runs');
    await job.stop();
    const seen = calls.length;
    assert.ok(seen >= 2, `ran ${seen} times`);
    assert.ok(calls.every((c) => c === Date.parse(NOW) - 1000));
    await new Promise((r) => setTimeout(r, 25));
    assert.equal(calls.length, seen);
    assert.equal(await job.pruneOnce(), 2);
  });
});
