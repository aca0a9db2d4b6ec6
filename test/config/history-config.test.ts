// Tests for the history and temporal configuration keys (issue 6): KEND_HISTORY, KEND_HISTORY_RETENTION,
// KEND_HISTORY_PRUNE_INTERVAL_MS, KEND_TEMPORAL_INSTANCE_LIMIT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

test('defaults: history on, kept forever, an instance cap of 1000', () => {
  const c = loadConfig({});
  assert.equal(c.historyEnabled, true);
  assert.equal(c.historyRetention, '');
  assert.equal(c.temporalInstanceLimit, 1000);
});

test('KEND_HISTORY takes true/false (and 1/0, on/off, yes/no); anything else names the variable', () => {
  assert.equal(loadConfig({ KEND_HISTORY: 'false' }).historyEnabled, false);
  assert.equal(loadConfig({ KEND_HISTORY: 'OFF' }).historyEnabled, false);
  assert.equal(loadConfig({ KEND_HISTORY: '1' }).historyEnabled, true);
  assert.throws(() => loadConfig({ KEND_HISTORY: 'maybe' }), (e: unknown) => e instanceof ConfigError && e.variable === 'KEND_HISTORY');
});

test('KEND_HISTORY_RETENTION must be an ISO 8601 duration', () => {
  assert.equal(loadConfig({ KEND_HISTORY_RETENTION: 'P1Y' }).historyRetention, 'P1Y');
  assert.equal(loadConfig({ KEND_HISTORY_RETENTION: 'PT12H' }).historyRetention, 'PT12H');
  for (const bad of ['90 days', 'P', 'PT', '30D']) {
    assert.throws(() => loadConfig({ KEND_HISTORY_RETENTION: bad }), (e: unknown) => e instanceof ConfigError && e.variable === 'KEND_HISTORY_RETENTION', bad);
  }
});

test('KEND_TEMPORAL_INSTANCE_LIMIT is a positive integer (small values such as 10 allowed)', () => {
  assert.equal(loadConfig({ KEND_TEMPORAL_INSTANCE_LIMIT: '10' }).temporalInstanceLimit, 10);
  assert.throws(() => loadConfig({ KEND_TEMPORAL_INSTANCE_LIMIT: '0' }), ConfigError);
});
