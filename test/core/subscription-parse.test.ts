// Tests for Subscription validation and compilation, and PATCH fragments (GS CIM 009 §5.2.12–5.2.15, §5.8.1,
// §5.8.2, §5.5.8; guide §14.1).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import type { JsonObject } from '../../src/core/json.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import { deriveStatus } from '../../src/core/subscription/model.ts';
import { applySubscriptionPatch, compileStoredSubscription, parseSubscription, patchSubscription } from '../../src/core/subscription/parse.ts';
import { DC, ENDPOINT, EX, FUTURE, LIMITS, NOW, PAST, SUB_ID, badRequest, compile, coreTerms, payload, userTerms } from './subscription-fixtures.ts';

const parse = (p: JsonObject, opts = {}) => parseSubscription(p, coreTerms, LIMITS, NOW, opts);
const withNotification = (n: JsonObject, over: JsonObject = {}): JsonObject => payload({ notification: { endpoint: { uri: ENDPOINT }, ...n }, ...over });
const withEndpoint = (e: JsonObject): JsonObject => payload({ notification: { endpoint: { uri: ENDPOINT, ...e } } });
const healthy = { consecutiveFailures: 0 };
/** A request context where `temperature` means ex:temperature and `special` is outside every other context. */
const requestTerms: TermMap = {
  expandTerm: (n) => (n === 'temperature' ? `${EX}temperature` : n === 'special' ? 'https://other.example/special' : coreTerms.expandTerm(n)),
  compactIri: (iri) => coreTerms.compactIri(iri),
};

describe('parseSubscription: a valid subscription', () => {
  test('compiles selectors, default triggers and the default notification parameters', () => {
    const sub = compile();
    assert.equal(sub.id, SUB_ID);
    assert.deepEqual(sub.selectors, [{ type: { op: 'type', name: `${DC}Room` } }]);
    assert.deepEqual([...sub.triggers], ['attributeCreated', 'attributeUpdated']);
    assert.equal(sub.isActive, true);
    assert.equal(sub.notification.format, 'normalized');
    assert.equal(sub.notification.sysAttrs, false);
    assert.equal(sub.notification.showChanges, false);
    assert.deepEqual(sub.notification.endpoint, { uri: ENDPOINT, protocol: 'http', accept: 'application/json', receiverInfo: [], notifierInfo: [] });
  });

  test('takes the generated id when the payload has none and stores it first', () => {
    const { id: _id, ...noId } = payload();
    const r = parse(noId, { newId: 'urn:ngsi-ld:Subscription:new' });
    assert.equal(r.compiled.id, 'urn:ngsi-ld:Subscription:new');
    assert.deepEqual(Object.keys(r.payload).slice(0, 2), ['id', 'type']);
    assert.equal(r.payload.id, 'urn:ngsi-ld:Subscription:new');
  });

  test('stores the client members but silently drops read-only members and @context', () => {
    const r = parse(
      payload({
        '@context': 'https://example.org/ctx.jsonld',
        status: 'paused',
        createdAt: NOW,
        modifiedAt: NOW,
        notification: { endpoint: { uri: ENDPOINT }, timesSent: 4, status: 'ok', lastSuccess: NOW, format: 'concise' },
        description: 'rooms',
      }),
    );
    assert.deepEqual(r.payload, {
      id: SUB_ID,
      type: 'Subscription',
      entities: [{ type: 'Room' }],
      notification: { endpoint: { uri: ENDPOINT }, format: 'concise' },
      description: 'rooms',
    });
    assert.equal(r.compiled.isActive, true);
  });

  test('expands names with the subscription terms', () => {
    const sub = compile({ entities: [{ type: 'Building' }], watchedAttributes: ['temp'], q: 'temp>20', geoQ: { georel: 'near;maxDistance==100', geometry: 'Point', coordinates: [1, 2], geoproperty: 'where' } }, userTerms);
    assert.deepEqual(sub.selectors, [{ type: { op: 'type', name: `${EX}Building` } }]);
    assert.deepEqual([...sub.watchedAttributes!], [`${EX}temperature`]);
    assert.equal(sub.q?.type, 'compare');
    assert.equal(sub.q?.type === 'compare' && sub.q.path.attr, `${EX}temperature`);
    assert.equal(sub.geoQ?.geoproperty, `${EX}where`);
  });

  test('accepts watchedAttributes without entities, and both together', () => {
    const { entities: _e, ...noEntities } = payload({ watchedAttributes: ['temperature'] });
    assert.equal(parse(noEntities).compiled.selectors, undefined);
    assert.ok(compile({ watchedAttributes: ['temperature'] }).selectors);
  });

  test('reads type expressions, id and idPattern in entity selectors; id takes precedence', () => {
    const sub = compile({ entities: [{ type: 'Room|Hall' }, { type: 'Room', id: 'urn:ngsi-ld:Room:1', idPattern: '^x' }, { type: 'Room', idPattern: '^urn:ngsi-ld:Room:' }] });
    assert.equal(sub.selectors![0].type!.op, 'or');
    assert.deepEqual(sub.selectors![1], { type: { op: 'type', name: `${DC}Room` }, ids: ['urn:ngsi-ld:Room:1'] });
    assert.deepEqual(sub.selectors![2].idPattern, { source: '^urn:ngsi-ld:Room:' });
  });

  test('accepts fractional throttling, a future expiresAt, a positive timeInterval, isActive false', () => {
    assert.equal(compile({ throttling: 0.5 }).throttling, 0.5);
    assert.equal(compile({ expiresAt: FUTURE }).expiresAt, FUTURE);
    assert.equal(compile({ timeInterval: 10 }).timeInterval, 10);
    assert.equal(compile({ isActive: false }).isActive, false);
  });

  test('maps simplified to keyValues and keeps the projection of attributes, pick and omit', () => {
    assert.equal(compile({ notification: { endpoint: { uri: ENDPOINT }, format: 'simplified' } }).notification.format, 'keyValues');
    const attrs = parse(withNotification({ attributes: ['temperature'] })).compiled.notification.projection;
    assert.deepEqual([...attrs!.attrs!], [`${DC}temperature`]);
    const pick = parse(withNotification({ pick: ['id', 'temperature'], omit: ['type'] })).compiled.notification.projection;
    assert.deepEqual([...pick!.pick!.members], ['id']);
    assert.deepEqual([...pick!.pick!.attrs], [`${DC}temperature`]);
    assert.deepEqual([...pick!.omit!.members], ['type']);
  });

  test('compiles MQTT endpoints with notifierInfo settings and their defaults', () => {
    const def = parse(withEndpoint({ uri: 'mqtt://broker.example:1883/kend/notify' })).compiled.notification.endpoint;
    assert.deepEqual([def.protocol, def.mqtt], ['mqtt', { version: 'mqtt5.0', qos: 0 }]);
    const set = parse(withEndpoint({ uri: 'mqtts://u:p@broker.example/t', notifierInfo: [{ key: 'MQTT-Version', value: 'mqtt3.1.1' }, { key: 'MQTT-QoS', value: '1' }] }));
    assert.deepEqual(set.compiled.notification.endpoint.mqtt, { version: 'mqtt3.1.1', qos: 1 });
  });

  test('parses lang, datasetId, scopeQ, csf, receiverInfo, timeout and cooldown', () => {
    const r = parse(payload({ lang: 'fr,en;q=0.5', datasetId: ['@none', 'urn:ngsi-ld:Dataset:a'], scopeQ: '/Madrid/#', csf: 'a==1', notification: { endpoint: { uri: ENDPOINT, receiverInfo: [{ key: 'X-Auth', value: 't' }], timeout: 500, cooldown: 1000 } } }));
    assert.equal(r.compiled.notification.lang?.ranges[0].tag, 'fr');
    assert.deepEqual(r.compiled.datasetIds, ['@none', 'urn:ngsi-ld:Dataset:a']);
    assert.equal(r.compiled.scopeQ?.type, 'scope');
    assert.equal(r.compiled.csf?.type, 'compare');
    assert.deepEqual(r.compiled.notification.endpoint.receiverInfo, [{ key: 'X-Auth', value: 't' }]);
    assert.equal(r.compiled.notification.endpoint.timeout, 500);
    assert.equal(r.compiled.notification.endpoint.cooldown, 1000);
  });
});

describe('parseSubscription: every validation rule answers 400 BadRequestData', () => {
  test('an empty payload', () => badRequest(() => parse({}), /empty/));
  test('a missing or wrong type', () => {
    const { type: _t, ...noType } = payload();
    badRequest(() => parse(noType), /type is mandatory/);
    badRequest(() => parse(payload({ type: 'Subscriptions' })), /type must be "Subscription"/);
  });
  test('an id that is empty or not a URI', () => {
    badRequest(() => parse(payload({ id: '' })), /id "" is not an absolute URI/);
    badRequest(() => parse(payload({ id: 'not a uri' })), /not an absolute URI/);
  });
  test('neither entities nor watchedAttributes', () => {
    const { entities: _e, ...none } = payload();
    badRequest(() => parse(none), /needs entities or watchedAttributes/);
  });
  test('empty arrays for entities, watchedAttributes, notification.attributes, pick and omit', () => {
    badRequest(() => parse(payload({ entities: [] })), /entities must not be an empty array/);
    badRequest(() => parse(payload({ watchedAttributes: [] })), /watchedAttributes must not be an empty array/);
    badRequest(() => parse(withNotification({ attributes: [] })), /notification.attributes must not be an empty array/);
    badRequest(() => parse(withNotification({ pick: [] })), /notification.pick must not be an empty array/);
    badRequest(() => parse(withNotification({ omit: [] })), /notification.omit must not be an empty array/);
  });
  test('an entity selector without type, with a bad type expression, id or idPattern', () => {
    badRequest(() => parse(payload({ entities: [{ id: 'urn:ngsi-ld:Room:1' }] })), /entities\[0\] has no type/);
    badRequest(() => parse(payload({ entities: [{ type: 'Room||' }] })), /Invalid type selector/);
    badRequest(() => parse(payload({ entities: [{ type: 'Room', id: 'nope' }] })), /entities\[0\].id "nope" is not an absolute URI/);
    badRequest(() => parse(payload({ entities: [{ type: 'Room', idPattern: '(' }] })), /idPattern "\(" is not a valid regular expression/);
    badRequest(() => parse(payload({ entities: ['Room'] })), /entities\[0\] must be a JSON object/);
  });
  test('an idPattern over the length limit is 403 TooComplexQuery', () => {
    assert.throws(() => parse(payload({ entities: [{ type: 'Room', idPattern: 'x'.repeat(65) }] })), (e: unknown) => e instanceof NgsiError && e.kind === 'TooComplexQuery');
  });
  test('invalid watched attribute names', () => badRequest(() => parse(payload({ watchedAttributes: ['a b'] })), /"a b" in watchedAttributes is not a valid attribute name/));
  test('an unknown or empty notificationTrigger', () => {
    badRequest(() => parse(payload({ notificationTrigger: ['entityChanged'] })), /notificationTrigger "entityChanged" is not one of/);
    badRequest(() => parse(payload({ notificationTrigger: [] })), /must not be an empty array/);
  });
  test('timeInterval together with watchedAttributes or throttling', () => {
    badRequest(() => parse(payload({ timeInterval: 10, watchedAttributes: ['a'] })), /timeInterval cannot be combined with watchedAttributes/);
    badRequest(() => parse(payload({ timeInterval: 10, throttling: 5 })), /timeInterval cannot be combined with throttling/);
  });
  test('non-positive or non-numeric numbers', () => {
    badRequest(() => parse(payload({ timeInterval: 0 })), /timeInterval must be greater than 0/);
    badRequest(() => parse(payload({ throttling: -1 })), /throttling must be greater than 0/);
    badRequest(() => parse(payload({ throttling: '5' })), /throttling must be a number/);
    badRequest(() => parse(withEndpoint({ timeout: 0 })), /timeout must be greater than 0/);
    badRequest(() => parse(withEndpoint({ cooldown: -5 })), /cooldown must be greater than 0/);
    badRequest(() => parse(withNotification({ joinLevel: 0 })), /joinLevel must be greater than 0/);
  });
  test('a malformed, past or present expiresAt', () => {
    badRequest(() => parse(payload({ expiresAt: 'tomorrow' })), /expiresAt "tomorrow" is not a UTC DateTime/);
    badRequest(() => parse(payload({ expiresAt: '2030-01-01T00:00:00+02:00' })), /not a UTC DateTime/);
    badRequest(() => parse(payload({ expiresAt: PAST })), /expiresAt 2020-01-01T00:00:00Z is not in the future/);
    badRequest(() => parse(payload({ expiresAt: NOW })), /not in the future/);
  });
  test('a stored subscription whose expiresAt has passed still compiles', () => {
    assert.equal(compileStoredSubscription(payload({ expiresAt: PAST }), coreTerms, LIMITS).expiresAt, PAST);
  });
  test('bad q, geoQ, scopeQ and csf', () => {
    badRequest(() => parse(payload({ q: 'temperature>' })), /Invalid q/);
    badRequest(() => parse(payload({ q: 5 })), /q must be a string/);
    badRequest(() => parse(payload({ geoQ: { georel: 'near;maxDistance==10', geometry: 'Point' } })), /geoQ needs georel, geometry and coordinates \(missing: coordinates\)/);
    badRequest(() => parse(payload({ geoQ: { georel: 'close', geometry: 'Point', coordinates: [1, 2] } })), /georel "close"/);
    badRequest(() => parse(payload({ geoQ: { georel: 'within', geometry: 'Polygon', coordinates: [1, 2] } })), /valid Polygon/);
    badRequest(() => parse(payload({ geoQ: 'near' })), /geoQ must be a JSON object/);
    badRequest(() => parse(payload({ scopeQ: 'Madrid' })), /Invalid scopeQ/);
    badRequest(() => parse(payload({ csf: 'a==' })), /Invalid q/);
  });
  test('a missing notification, endpoint or uri', () => {
    const { notification: _n, ...none } = payload();
    badRequest(() => parse(none), /notification is mandatory/);
    badRequest(() => parse(payload({ notification: {} })), /notification.endpoint is mandatory/);
    badRequest(() => parse(payload({ notification: { endpoint: {} } })), /notification.endpoint.uri is mandatory/);
  });
  test('an endpoint uri that is relative, has another scheme, no host, or an unusable MQTT topic', () => {
    badRequest(() => parse(withEndpoint({ uri: '/notify' })), /is not an absolute URI/);
    badRequest(() => parse(withEndpoint({ uri: 'ftp://host/x' })), /scheme "ftp" is not one of http, https, mqtt, mqtts/);
    badRequest(() => parse(withEndpoint({ uri: 'urn:example:x' })), /scheme "urn"/);
    badRequest(() => parse(withEndpoint({ uri: 'mqtt://broker.example' })), /has no MQTT topic/);
    badRequest(() => parse(withEndpoint({ uri: 'mqtt://broker.example/a/#' })), /wildcards/);
  });
  test('an endpoint refused by the destination policy', () => {
    const checkEndpoint = (uri: string): string | null => (uri.includes('169.254.') ? 'link-local addresses are refused' : null);
    badRequest(() => parse(withEndpoint({ uri: 'http://169.254.169.254/latest' }), { checkEndpoint }), /not an allowed destination: link-local addresses are refused/);
    assert.ok(parse(payload(), { checkEndpoint }));
  });
  test('an unknown accept or format', () => {
    badRequest(() => parse(withEndpoint({ accept: 'text/plain' })), /accept "text\/plain" is not one of/);
    badRequest(() => parse(withNotification({ format: 'compact' })), /notification.format "compact" is not one of/);
  });
  test('pick and omit overlapping, or combined with attributes', () => {
    badRequest(() => parse(withNotification({ pick: ['a', 'b'], omit: ['b'] })), /appears in both pick and omit/);
    badRequest(() => parse(withNotification({ pick: ['id'], omit: ['id'] })), /appears in both pick and omit/);
    badRequest(() => parse(withNotification({ attributes: ['a'], pick: ['b'] })), /cannot be combined with notification.pick/);
    badRequest(() => parse(withNotification({ attributes: ['a'], omit: ['b'] })), /cannot be combined/);
  });
  test('showChanges with keyValues or simplified', () => {
    badRequest(() => parse(withNotification({ showChanges: true, format: 'keyValues' })), /showChanges cannot be true with format keyValues/);
    badRequest(() => parse(withNotification({ showChanges: true, format: 'simplified' })), /showChanges cannot be true with format simplified/);
    assert.ok(parse(withNotification({ showChanges: false, format: 'keyValues' })));
  });
  test('receiverInfo and notifierInfo entries that are not {key, value} strings', () => {
    badRequest(() => parse(withEndpoint({ receiverInfo: [{ value: 'x' }] })), /receiverInfo\[0\].key must be a non-empty string/);
    badRequest(() => parse(withEndpoint({ receiverInfo: [{ key: 'X', value: 1 }] })), /receiverInfo\[0\].value must be a string/);
    badRequest(() => parse(withEndpoint({ notifierInfo: [{ key: 'MQTT-QoS' }] })), /notifierInfo\[0\].value must be a string/);
    badRequest(() => parse(withEndpoint({ receiverInfo: { key: 'X', value: 'y' } })), /must be an array/);
  });
  test('receiverInfo keys that are not header names or would reframe the request, and values with line breaks', () => {
    badRequest(() => parse(withEndpoint({ receiverInfo: [{ key: 'X Auth', value: 'y' }] })), /not a valid header name/);
    badRequest(() => parse(withEndpoint({ receiverInfo: [{ key: 'Content-Length', value: '1' }] })), /reserved for the transport/);
    badRequest(() => parse(withEndpoint({ receiverInfo: [{ key: 'X-A', value: 'a\r\nX-B: b' }] })), /control characters/);
  });
  test('notifierInfo MQTT-Version and MQTT-QoS outside their values', () => {
    badRequest(() => parse(withEndpoint({ uri: 'mqtt://b/t', notifierInfo: [{ key: 'MQTT-Version', value: 'mqtt4' }] })), /MQTT-Version "mqtt4" is not one of mqtt3.1.1, mqtt5.0/);
    badRequest(() => parse(withEndpoint({ uri: 'mqtt://b/t', notifierInfo: [{ key: 'MQTT-QoS', value: '3' }] })), /MQTT-QoS "3" is not one of 0, 1, 2/);
  });
  test('a malformed lang, datasetId, isActive, sysAttrs or jsonldContext', () => {
    badRequest(() => parse(payload({ lang: 'fr;q=2' })), /Invalid lang/);
    badRequest(() => parse(payload({ datasetId: ['nope'] })), /datasetId "nope" is neither a URI nor @none/);
    badRequest(() => parse(payload({ isActive: 'yes' })), /isActive must be true or false/);
    badRequest(() => parse(withNotification({ sysAttrs: 1 })), /sysAttrs must be true or false/);
    badRequest(() => parse(payload({ jsonldContext: 'ctx' })), /jsonldContext "ctx" is not an absolute URI/);
  });
});

describe('applySubscriptionPatch and patchSubscription (§5.5.8)', () => {
  const stored = parse(payload({ expiresAt: FUTURE, notification: { endpoint: { uri: ENDPOINT, accept: 'application/ld+json' }, format: 'concise' } })).payload;
  const patch = (fragment: JsonObject, base = stored) => patchSubscription({ payload: base, terms: coreTerms }, fragment, coreTerms, LIMITS, NOW);

  test('replaces each top-level member wholesale', () => {
    const merged = applySubscriptionPatch(stored, { notification: { endpoint: { uri: 'http://other.example/' } } });
    assert.deepEqual(merged.notification, { endpoint: { uri: 'http://other.example/' } });
    assert.deepEqual(merged.entities, stored.entities);
  });
  test('a notification fragment without endpoint is refused, the stored endpoint is not kept', () => {
    badRequest(() => patch({ notification: { format: 'keyValues' } }), /notification.endpoint is mandatory/);
  });
  test('JSON null and NGSI-LD Null remove an optional member', () => {
    assert.equal(applySubscriptionPatch(stored, { expiresAt: null }).expiresAt, undefined);
    assert.equal(applySubscriptionPatch(stored, { expiresAt: 'urn:ngsi-ld:null' }).expiresAt, undefined);
    assert.equal(patch({ expiresAt: null }).compiled.expiresAt, undefined);
  });
  test('null on a mandatory member is refused', () => {
    badRequest(() => applySubscriptionPatch(stored, { notification: null }), /notification is mandatory and cannot be removed/);
    badRequest(() => patch({ notification: { endpoint: null } }), /notification.endpoint is mandatory/);
  });
  test('removing entities when there are no watchedAttributes fails revalidation', () => {
    badRequest(() => patch({ entities: null }), /needs entities or watchedAttributes/);
  });
  test('id and type cannot change', () => {
    badRequest(() => applySubscriptionPatch(stored, { id: 'urn:ngsi-ld:Subscription:other' }), /id cannot be changed/);
    badRequest(() => applySubscriptionPatch(stored, { type: 'Registration' }), /type must be "Subscription"/);
    assert.equal(applySubscriptionPatch(stored, { id: SUB_ID, type: 'Subscription', description: 'd' }).description, 'd');
  });
  test('an empty fragment is refused; read-only members are ignored', () => {
    badRequest(() => applySubscriptionPatch(stored, {}), /fragment is empty/);
    badRequest(() => applySubscriptionPatch(stored, { '@context': 'https://example.org/c' }), /fragment is empty/);
    assert.deepEqual(applySubscriptionPatch(stored, { status: 'paused', createdAt: NOW }), stored);
  });
  test('isActive false pauses, isActive true resumes', () => {
    const paused = patch({ isActive: false });
    assert.equal(deriveStatus(paused.compiled, healthy, NOW, 3), 'paused');
    assert.equal(deriveStatus(patch({ isActive: true }, paused.payload).compiled, healthy, NOW, 3), 'active');
  });
  test('an expired subscription stays patchable, isActive true leaves it expired, a new future expiresAt revives it', () => {
    const expired = { ...stored, expiresAt: PAST };
    const still = patch({ isActive: true }, expired);
    assert.equal(deriveStatus(still.compiled, healthy, NOW, 3), 'expired');
    const revived = patch({ expiresAt: FUTURE }, expired);
    assert.equal(deriveStatus(revived.compiled, healthy, NOW, 3), 'active');
  });
  test('a past expiresAt in the fragment is refused', () => {
    badRequest(() => patch({ expiresAt: PAST }), /not in the future/);
  });
  test('the merged result is revalidated whole: nothing is half-updated', () => {
    badRequest(() => patch({ description: 'ok', throttling: 5, timeInterval: 5 }), /timeInterval cannot be combined with throttling/);
  });
  test('fragment names written with the request context are stored in the subscription context', () => {
    const base = parseSubscription(payload({ entities: [{ type: 'Building' }] }), userTerms, LIMITS, NOW).payload;
    const r = patchSubscription({ payload: base, terms: userTerms }, { watchedAttributes: [`${EX}temperature`, 'humidity'], q: 'temperature>1' }, requestTerms, LIMITS, NOW);
    assert.deepEqual(r.payload.watchedAttributes, ['temp', 'humidity']);
    assert.deepEqual([...r.compiled.watchedAttributes!], [`${EX}temperature`, `${DC}humidity`]);
    assert.equal(r.payload.q, 'temp>1');
    assert.deepEqual(r.payload.entities, [{ type: 'Building' }]);
  });
  test('a fragment q naming an attribute the subscription context can only write as an IRI is refused', () => {
    const base = parseSubscription(payload(), userTerms, LIMITS, NOW).payload;
    badRequest(() => patchSubscription({ payload: base, terms: userTerms }, { q: 'special==1' }, requestTerms, LIMITS, NOW), /cannot express in q syntax/);
  });
});
