// Tests for rendering stored subscriptions (GS CIM 009 §5.8.3, §5.2.12; guide §14.1, §21 items 16 and 23).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, JsonValue } from '../../src/core/json.ts';
import type { DeliveryCounters } from '../../src/core/subscription/model.ts';
import { parseSubscription } from '../../src/core/subscription/parse.ts';
import { renderSubscription, type SubscriptionRecord } from '../../src/core/subscription/render.ts';
import { DC, ENDPOINT, EX, FUTURE, LIMITS, NOW, PAST, SUB_ID, coreTerms, payload, userTerms } from './subscription-fixtures.ts';

const NEVER: DeliveryCounters = { timesSent: 0, timesFailed: 0, consecutiveFailures: 0 };
const OPTS = { now: NOW, sysAttrs: false, maxConsecutiveFailures: 3 };

function record(p: JsonObject, delivery: DeliveryCounters = NEVER, context: JsonValue = null, terms = coreTerms): SubscriptionRecord {
  const stored = parseSubscription(p, terms, LIMITS, NOW).payload;
  return { id: stored.id as string, payload: stored, context, createdAt: '2024-01-01T00:00:00Z', modifiedAt: '2024-02-01T00:00:00Z', delivery };
}

describe('renderSubscription', () => {
  test('shows exactly the client members plus status and the defaults applied', () => {
    const out = renderSubscription(record(payload()), coreTerms, coreTerms, OPTS);
    assert.deepEqual(out, {
      id: SUB_ID,
      type: 'Subscription',
      entities: [{ type: 'Room' }],
      notification: { endpoint: { uri: ENDPOINT, accept: 'application/json' }, format: 'normalized' },
      notificationTrigger: ['attributeCreated', 'attributeUpdated'],
      status: 'active',
    });
  });

  test('adds no isActive, no timestamps and no empty status counters the client did not send', () => {
    const out = renderSubscription(record(payload()), coreTerms, coreTerms, OPTS);
    for (const key of ['isActive', 'createdAt', 'modifiedAt', 'expiresAt', 'throttling']) assert.equal(key in out, false, key);
    const n = out.notification as JsonObject;
    for (const key of ['timesSent', 'timesFailed', 'lastNotification', 'lastSuccess', 'lastFailure', 'status']) assert.equal(key in n, false, key);
  });

  test('keeps the client values of defaulted members', () => {
    const p = payload({ notificationTrigger: ['entityDeleted'], isActive: true, notification: { endpoint: { uri: ENDPOINT, accept: 'application/ld+json' }, format: 'simplified' } });
    const out = renderSubscription(record(p), coreTerms, coreTerms, OPTS);
    assert.deepEqual(out.notificationTrigger, ['entityDeleted']);
    assert.equal(out.isActive, true);
    assert.deepEqual(out.notification, { endpoint: { uri: ENDPOINT, accept: 'application/ld+json' }, format: 'simplified' });
  });

  test('a periodic subscription gets no default notificationTrigger', () => {
    const out = renderSubscription(record(payload({ timeInterval: 60 })), coreTerms, coreTerms, OPTS);
    assert.equal(out.notificationTrigger, undefined);
    assert.equal(out.timeInterval, 60);
  });

  test('createdAt and modifiedAt appear only with sysAttrs', () => {
    const out = renderSubscription(record(payload()), coreTerms, coreTerms, { ...OPTS, sysAttrs: true });
    assert.equal(out.createdAt, '2024-01-01T00:00:00Z');
    assert.equal(out.modifiedAt, '2024-02-01T00:00:00Z');
  });

  test('names are expanded with the subscription context and compacted with the request context; q stays as written', () => {
    const p = payload({
      entities: [{ type: 'Building|(Room;Building)' }],
      watchedAttributes: ['temp', 'humidity'],
      q: 'temp>20',
      geoQ: { georel: 'near;maxDistance==10', geometry: 'Point', coordinates: [1, 2], geoproperty: 'where' },
      notification: { endpoint: { uri: ENDPOINT }, pick: ['id', 'temp'], omit: ['owner'] },
    });
    const out = renderSubscription(record(p, NEVER, 'https://example.org/ctx.jsonld', userTerms), userTerms, coreTerms, OPTS);
    assert.deepEqual(out.entities, [{ type: `${EX}Building|(Room;${EX}Building)` }]);
    assert.deepEqual(out.watchedAttributes, [`${EX}temperature`, 'humidity']);
    assert.equal(out.q, 'temp>20');
    assert.equal((out.geoQ as JsonObject).geoproperty, `${EX}where`);
    assert.deepEqual((out.notification as JsonObject).pick, ['id', `${EX}temperature`]);
    assert.deepEqual((out.notification as JsonObject).omit, [`${EX}owner`]);
    const same = renderSubscription(record(p, NEVER, null, userTerms), userTerms, userTerms, OPTS);
    assert.deepEqual(same.watchedAttributes, ['temp', 'humidity']);
  });

  test('notification.attributes are compacted too', () => {
    const p = payload({ notification: { endpoint: { uri: ENDPOINT }, attributes: [`${DC}humidity`] } });
    assert.deepEqual((renderSubscription(record(p), coreTerms, coreTerms, OPTS).notification as JsonObject).attributes, ['humidity']);
  });

  test('notification status members appear once a notification has been attempted', () => {
    const ok: DeliveryCounters = { timesSent: 2, timesFailed: 0, lastNotification: NOW, lastSuccess: NOW, status: 'ok', consecutiveFailures: 0 };
    const n = renderSubscription(record(payload(), ok), coreTerms, coreTerms, OPTS).notification as JsonObject;
    assert.deepEqual([n.status, n.timesSent, n.timesFailed, n.lastNotification, n.lastSuccess, n.lastFailure], ['ok', 2, undefined, NOW, NOW, undefined]);
    const failed: DeliveryCounters = { timesSent: 1, timesFailed: 1, lastNotification: NOW, lastFailure: NOW, status: 'failed', consecutiveFailures: 1 };
    const f = renderSubscription(record(payload(), failed), coreTerms, coreTerms, OPTS).notification as JsonObject;
    assert.deepEqual([f.status, f.timesSent, f.timesFailed, f.lastFailure], ['failed', 1, 1, NOW]);
  });

  test('status follows isActive, expiresAt and the failure streak', () => {
    const status = (p: JsonObject, d = NEVER): JsonValue => renderSubscription(record(p, d), coreTerms, coreTerms, OPTS).status;
    assert.equal(status(payload({ isActive: false })), 'paused');
    assert.equal(status(payload({ expiresAt: FUTURE })), 'active');
    const stored = record(payload({ expiresAt: FUTURE }));
    stored.payload.expiresAt = PAST;
    assert.equal(renderSubscription(stored, coreTerms, coreTerms, OPTS).status, 'expired');
    assert.equal(status(payload(), { timesSent: 3, timesFailed: 3, consecutiveFailures: 3, lastNotification: NOW, status: 'failed' }), 'failed');
  });

  test('jsonldContext defaults to the subscription context URL when it is one URL', () => {
    const ctx = 'https://example.org/ctx.jsonld';
    assert.equal(renderSubscription(record(payload(), NEVER, ctx), coreTerms, coreTerms, OPTS).jsonldContext, ctx);
    assert.equal(renderSubscription(record(payload(), NEVER, [ctx]), coreTerms, coreTerms, OPTS).jsonldContext, ctx);
    assert.equal(renderSubscription(record(payload(), NEVER, { a: 'b' }), coreTerms, coreTerms, OPTS).jsonldContext, undefined);
    const implicit = 'http://kend/ngsi-ld/v1/jsonldContexts/abc';
    assert.equal(renderSubscription(record(payload(), NEVER, { a: 'b' }), coreTerms, coreTerms, { ...OPTS, defaultJsonldContext: implicit }).jsonldContext, implicit);
    const own = payload({ jsonldContext: 'https://example.org/notify.jsonld' });
    assert.equal(renderSubscription(record(own, NEVER, ctx), coreTerms, coreTerms, OPTS).jsonldContext, 'https://example.org/notify.jsonld');
  });

  test('rendering does not change the stored payload', () => {
    const stored = record(payload({ watchedAttributes: ['temp'] }), NEVER, null, userTerms);
    const before = structuredClone(stored.payload);
    renderSubscription(stored, userTerms, coreTerms, OPTS);
    assert.deepEqual(stored.payload, before);
  });
});
