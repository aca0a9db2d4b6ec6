// Tests for the subscription status state machine (GS CIM 009 §5.2.12 status; guide §14.2): the status of
// every state, every transition of the exhaustive table, and which statuses notify.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  STATUS_OF_STATE,
  STATUS_TRANSITIONS,
  deriveStatus,
  isNotifying,
  statusState,
  type StatusEvent,
  type StatusState,
  type SubscriptionStatus,
} from '../../src/core/subscription/model.ts';
import { FUTURE, NOW, PAST } from './subscription-fixtures.ts';

const MAX = 3;

/** Concrete inputs (subscription members and delivery counters) that put a subscription in `state`. */
interface Inputs {
  isActive: boolean;
  expiresAt?: string;
  consecutiveFailures: number;
}

function inputsOf(state: StatusState): Inputs {
  const [expiry, activity, delivery] = state.split('/');
  return { isActive: activity === 'active', expiresAt: expiry === 'expired' ? PAST : FUTURE, consecutiveFailures: delivery === 'failing' ? MAX : 0 };
}

/** What each event does to the inputs, independently of the table. */
const EFFECT: { [E in StatusEvent]: (i: Inputs) => Inputs } = {
  pause: (i) => ({ ...i, isActive: false }),
  resume: (i) => ({ ...i, isActive: true }),
  expire: (i) => ({ ...i, expiresAt: PAST }),
  renew: (i) => ({ ...i, expiresAt: FUTURE }),
  failureLimitReached: (i) => ({ ...i, consecutiveFailures: MAX }),
  deliverySucceeded: (i) => ({ ...i, consecutiveFailures: 0 }),
};

const STATES = Object.keys(STATUS_OF_STATE) as StatusState[];
const EVENTS = Object.keys(EFFECT) as StatusEvent[];

describe('subscription status', () => {
  test('the table covers all eight combinations of expiry, activity and delivery health', () => {
    assert.equal(STATES.length, 8);
    assert.deepEqual(Object.keys(STATUS_TRANSITIONS).sort(), [...STATES].sort());
  });

  test('deriveStatus gives the status written in the table for every state', () => {
    for (const state of STATES) {
      const i = inputsOf(state);
      assert.equal(statusState(i, i, NOW, MAX), state);
      assert.equal(deriveStatus(i, i, NOW, MAX), STATUS_OF_STATE[state], state);
    }
  });

  test('expiry wins over pausing, pausing over failure', () => {
    const cases: [Inputs, SubscriptionStatus][] = [
      [{ isActive: false, expiresAt: PAST, consecutiveFailures: MAX }, 'expired'],
      [{ isActive: false, expiresAt: FUTURE, consecutiveFailures: MAX }, 'paused'],
      [{ isActive: true, expiresAt: FUTURE, consecutiveFailures: MAX }, 'failed'],
      [{ isActive: true, consecutiveFailures: MAX - 1 }, 'active'],
    ];
    for (const [i, status] of cases) assert.equal(deriveStatus(i, i, NOW, MAX), status);
  });

  test('a subscription whose expiresAt equals now is expired', () => {
    assert.equal(deriveStatus({ isActive: true, expiresAt: NOW }, { consecutiveFailures: 0 }, NOW, MAX), 'expired');
    assert.equal(deriveStatus({ isActive: true, expiresAt: '2024-05-01T10:00:00.001Z' }, { consecutiveFailures: 0 }, NOW, MAX), 'active');
  });

  test('every transition of the table is what the event does to the inputs', () => {
    for (const state of STATES) {
      for (const event of EVENTS) {
        const after = EFFECT[event](inputsOf(state));
        const expected = STATUS_TRANSITIONS[state][event];
        assert.equal(statusState(after, after, NOW, MAX), expected, `${state} --${event}-->`);
        assert.equal(deriveStatus(after, after, NOW, MAX), STATUS_OF_STATE[expected]);
      }
    }
  });

  test('resuming a failed subscription leaves it failed until a delivery succeeds', () => {
    assert.equal(STATUS_OF_STATE[STATUS_TRANSITIONS['live/inactive/failing'].resume], 'failed');
    assert.equal(STATUS_OF_STATE[STATUS_TRANSITIONS['live/active/failing'].deliverySucceeded], 'active');
  });

  test('a new future expiresAt revives an expired subscription into its paused or active state', () => {
    assert.equal(STATUS_OF_STATE[STATUS_TRANSITIONS['expired/active/healthy'].renew], 'active');
    assert.equal(STATUS_OF_STATE[STATUS_TRANSITIONS['expired/inactive/healthy'].renew], 'paused');
  });

  test('a failure limit below 1 disables the failed status', () => {
    assert.equal(deriveStatus({ isActive: true }, { consecutiveFailures: 0 }, NOW, 0), 'active');
    assert.equal(deriveStatus({ isActive: true }, { consecutiveFailures: 9 }, NOW, 0), 'active');
  });

  test('active and failed subscriptions are matched; paused and expired ones are not', () => {
    for (const state of STATES) {
      const i = inputsOf(state);
      const status = STATUS_OF_STATE[state];
      assert.equal(isNotifying(i, NOW), status === 'active' || status === 'failed', state);
    }
  });
});
