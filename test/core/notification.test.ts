// Tests for Notification messages (GS CIM 009 §5.3.1, §5.2.14, §7.2; guide §14.4, §14.5, §21 items 17 and 24):
// body, headers, formats, showChanges, deletion shapes, geo+json, ld+json and the MQTT envelope.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, JsonValue } from '../../src/core/json.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import { matchChange, currentStateMatch, type EntityChange, type Match } from '../../src/core/subscription/matcher.ts';
import { buildNotification, mqttEnvelope, type NotificationOptions } from '../../src/core/subscription/notification.ts';
import { DC, EX, LOCATION, M2, NOW, SUB_ID, compile, coreTerms, inst, prop, room, userTerms } from './subscription-fixtures.ts';

const T = `${DC}temperature`;
const NULL = 'urn:ngsi-ld:null';
const DS = 'urn:ngsi-ld:Dataset:b';
const CTX = 'https://example.org/ctx.jsonld';
const OPTS: NotificationOptions = { notificationId: 'urn:ngsi-ld:Notification:n1', notifiedAt: NOW, tenant: '', contextUrl: CTX };
const LINK = `<${CTX}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;
const POINT = { type: 'Point', coordinates: [2.35, 48.85] };

const kinds = room({
  [T]: [prop(20, { unitCode: 'CEL' })],
  [LOCATION]: [inst({ type: 'GeoProperty', value: POINT })],
  [`${DC}owner`]: [inst({ type: 'Relationship', object: 'urn:ngsi-ld:Person:1' })],
  [`${DC}name`]: [inst({ type: 'LanguageProperty', languageMap: { en: 'Hall', fr: 'Salle' } })],
  [`${DC}category`]: [inst({ type: 'VocabProperty', vocab: `${DC}Indoor` })],
  [`${DC}config`]: [inst({ type: 'JsonProperty', json: { a: 1 } })],
  [`${DC}readings`]: [inst({ type: 'ListProperty', valueList: [1, 2] })],
  [`${DC}doors`]: [inst({ type: 'ListRelationship', objectList: ['urn:a'] })],
});

function notify(change: EntityChange, over: JsonObject = {}, opts: Partial<NotificationOptions> = {}, terms = coreTerms): { body: JsonObject; headers: Record<string, string>; data: JsonObject[] } {
  const matches = matchChange(change, [compile(over, terms)], NOW);
  assert.equal(matches.length, 1, 'the change should match');
  const msg = buildNotification(matches[0], terms, { ...OPTS, ...opts });
  return { body: msg.body, headers: msg.headers, data: msg.body.data as JsonObject[] };
}
const endpoint = (e: JsonObject, n: JsonObject = {}): JsonObject => ({ notification: { endpoint: { uri: 'http://r.example/n', ...e }, ...n } });
const params = (n: JsonObject): JsonObject => endpoint({}, n);
const triggers = (...t: string[]): JsonObject => ({ notificationTrigger: t });
const set = (e: Entity, attrs: Entity['attrs']): Entity => ({ ...e, modifiedAt: M2, attrs: { ...e.attrs, ...attrs } });
const drop = (e: Entity, ...names: string[]): Entity => {
  const attrs = { ...e.attrs };
  for (const n of names) delete attrs[n];
  return { ...e, modifiedAt: M2, attrs };
};

describe('the Notification body and headers', () => {
  test('carries id, type, subscriptionId, notifiedAt and the whole current entity', () => {
    const t = room({ [T]: [prop(20)], [`${DC}humidity`]: [prop(40)] });
    const { body } = notify({ before: t, after: set(t, { [T]: [prop(21)] }) });
    assert.deepEqual(body, {
      id: 'urn:ngsi-ld:Notification:n1',
      type: 'Notification',
      subscriptionId: SUB_ID,
      notifiedAt: NOW,
      data: [{ id: 'urn:ngsi-ld:Room:1', type: 'Room', temperature: { type: 'Property', value: 21 }, humidity: { type: 'Property', value: 40 } }],
    });
  });
  test('application/json: Content-Type, exactly one context Link header, no @context in the body', () => {
    const { headers, data } = notify({ before: null, after: kinds });
    assert.deepEqual(headers, { 'Content-Type': 'application/json', Link: LINK });
    assert.equal('@context' in data[0], false);
  });
  test('application/ld+json: each data element carries @context and there is no Link header', () => {
    const { headers, data } = notify({ before: null, after: kinds }, endpoint({ accept: 'application/ld+json' }), { context: [CTX, 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld'] });
    assert.deepEqual(headers, { 'Content-Type': 'application/ld+json' });
    assert.deepEqual(data[0]['@context'], [CTX, 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld']);
    const plain = notify({ before: null, after: kinds }, endpoint({ accept: 'application/ld+json' })).data[0];
    assert.equal(plain['@context'], CTX);
  });
  test('NGSILD-Tenant for a non-default tenant, and each receiverInfo pair as a header', () => {
    const { headers } = notify({ before: null, after: kinds }, endpoint({ receiverInfo: [{ key: 'X-Token', value: 'abc' }, { key: 'content-type', value: 'text/plain' }] }), { tenant: 'villageA' });
    assert.deepEqual(headers, { 'X-Token': 'abc', 'Content-Type': 'application/json', Link: LINK, 'NGSILD-Tenant': 'villageA' });
  });
  test('data is compacted with the subscription terms', () => {
    const e: Entity = { ...room({ [`${EX}temperature`]: [prop(5)] }), types: [`${EX}Building`] };
    const { data } = notify({ before: null, after: e }, { entities: [{ type: 'Building' }] }, {}, userTerms);
    assert.deepEqual(data[0], { id: e.id, type: 'Building', temp: { type: 'Property', value: 5 } });
  });
  test('periodic notifications carry one element per entity', () => {
    const sub = compile({ timeInterval: 5 });
    const a = room({ [T]: [prop(1)] });
    const b = { ...a, id: 'urn:ngsi-ld:Room:2' };
    const msg = buildNotification([currentStateMatch(sub, a), currentStateMatch(sub, b)], coreTerms, OPTS);
    assert.deepEqual((msg.body.data as JsonObject[]).map((d) => d.id), [a.id, b.id]);
  });
});

describe('formats and projections', () => {
  const t = room({ [T]: [prop(20, { observedAt: NOW })], [`${DC}humidity`]: [prop(40)], [`${DC}owner`]: [inst({ type: 'Relationship', object: 'urn:p' })] });
  const change = { before: t, after: set(t, { [`${DC}humidity`]: [prop(41, {}, M2)] }) };
  test('concise and keyValues (simplified) formats', () => {
    assert.deepEqual(notify(change, params({ format: 'concise' })).data[0], { id: t.id, type: 'Room', temperature: { value: 20, observedAt: NOW }, humidity: 41, owner: { object: 'urn:p' } });
    assert.deepEqual(notify(change, params({ format: 'simplified' })).data[0], { id: t.id, type: 'Room', temperature: 20, humidity: 41, owner: 'urn:p' });
  });
  test('sysAttrs adds the system timestamps', () => {
    const d = notify(change, params({ sysAttrs: true })).data[0];
    assert.equal(d.modifiedAt, M2);
    assert.equal((d.humidity as JsonObject).modifiedAt, M2);
  });
  test('attributes, pick and omit restrict the data', () => {
    assert.deepEqual(notify(change, params({ attributes: ['humidity'] })).data[0], { id: t.id, type: 'Room', humidity: { type: 'Property', value: 41 } });
    assert.deepEqual(notify(change, params({ pick: ['humidity'] })).data[0], { humidity: { type: 'Property', value: 41 } });
    assert.deepEqual(Object.keys(notify(change, params({ omit: ['id', 'temperature', 'owner'] })).data[0]), ['type', 'humidity']);
  });
  test('lang turns LanguageProperties into Properties with the chosen language', () => {
    const d = notify({ before: null, after: kinds }, { lang: 'fr' }).data[0];
    assert.deepEqual(d.name, { type: 'Property', value: 'Salle', lang: 'fr' });
  });
  test('the datasetId member restricts the instances shown', () => {
    const multi = room({ [T]: [prop(20), prop(30, { datasetId: DS })] });
    const d = notify({ before: multi, after: set(multi, { [T]: [prop(20), prop(31, { datasetId: DS }, M2)] }) }, { datasetId: [DS] }).data[0];
    assert.deepEqual(d.temperature, { type: 'Property', value: 31, datasetId: DS });
  });
  test('application/geo+json: data is a FeatureCollection with the location as geometry', () => {
    const { body, headers } = notify({ before: null, after: kinds }, endpoint({ accept: 'application/geo+json' }, { attributes: ['temperature'] }));
    assert.equal(headers['Content-Type'], 'application/geo+json');
    assert.deepEqual(body.data, {
      type: 'FeatureCollection',
      features: [{ id: kinds.id, type: 'Feature', geometry: POINT, properties: { type: 'Room', temperature: { type: 'Property', value: 20, unitCode: 'CEL' } } }],
    });
  });
});

describe('showChanges', () => {
  const t = room({ [T]: [prop(20)], [`${DC}owner`]: [inst({ type: 'Relationship', object: 'urn:p:1' })], [`${DC}name`]: [inst({ type: 'LanguageProperty', languageMap: { en: 'A' } })] });
  const after = set(t, {
    [T]: [prop(21, {}, M2)],
    [`${DC}owner`]: [inst({ type: 'Relationship', object: 'urn:p:2' }, M2)],
    [`${DC}name`]: [inst({ type: 'LanguageProperty', languageMap: { en: 'B' } }, M2)],
    [`${DC}co2`]: [prop(400, {}, M2)],
  });
  test('adds the previous value in each kind on changed attributes, never on created ones', () => {
    const d = notify({ before: t, after }, params({ showChanges: true })).data[0];
    assert.deepEqual(d.temperature, { type: 'Property', value: 21, previousValue: 20 });
    assert.deepEqual(d.owner, { type: 'Relationship', object: 'urn:p:2', previousObject: 'urn:p:1' });
    assert.deepEqual(d.name, { type: 'LanguageProperty', languageMap: { en: 'B' }, previousLanguageMap: { en: 'A' } });
    assert.deepEqual(d.co2, { type: 'Property', value: 400 });
  });
  test('a concise value collapsed to a bare value is re-expanded to hold its previous value', () => {
    const d = notify({ before: t, after }, params({ showChanges: true, format: 'concise' })).data[0];
    assert.deepEqual(d.temperature, { value: 21, previousValue: 20 });
    assert.equal(d.co2, 400);
  });
  test('under lang the previous value is the same language pick', () => {
    const d = notify({ before: t, after }, { lang: 'en', ...params({ showChanges: true }) }).data[0];
    assert.deepEqual(d.name, { type: 'Property', value: 'B', lang: 'en', previousValue: 'A' });
  });
});

describe('attributeDeleted data', () => {
  const deleteAll = (over: JsonObject = {}): JsonObject => {
    const names = Object.keys(kinds.attrs);
    return notify({ before: kinds, after: drop(kinds, ...names) }, { ...triggers('attributeDeleted'), ...over }).data[0];
  };
  test('each deleted attribute is marked with NGSI-LD Null in its own kind', () => {
    assert.deepEqual(deleteAll(), {
      id: kinds.id,
      type: 'Room',
      temperature: { type: 'Property', value: NULL },
      location: { type: 'GeoProperty', value: NULL },
      owner: { type: 'Relationship', object: NULL },
      name: { type: 'LanguageProperty', languageMap: { '@none': NULL } },
      category: { type: 'VocabProperty', vocab: NULL },
      config: { type: 'JsonProperty', json: NULL },
      readings: { type: 'ListProperty', valueList: [NULL] },
      doors: { type: 'ListRelationship', objectList: [{ object: NULL }] },
    });
  });
  test('the entity after the deletion is shown with the deleted attribute added', () => {
    const d = notify({ before: kinds, after: drop(kinds, T) }, triggers('attributeDeleted')).data[0];
    assert.deepEqual(d.temperature, { type: 'Property', value: NULL });
    assert.deepEqual(d.owner, { type: 'Relationship', object: 'urn:ngsi-ld:Person:1' });
  });
  test('keyValues shows the bare null marker; concise the marker in its own kind', () => {
    const kv = deleteAll(params({ format: 'keyValues' }));
    assert.equal(kv.temperature, NULL);
    assert.equal(kv.name, NULL);
    const concise = deleteAll(params({ format: 'concise' }));
    assert.equal(concise.temperature, NULL);
    assert.deepEqual(concise.location, { type: 'GeoProperty', value: NULL });
    assert.deepEqual(concise.owner, { object: NULL });
    assert.deepEqual(concise.doors, { objectList: [NULL] });
  });
  test('showChanges adds the previous value and sysAttrs the deletedAt', () => {
    const d = notify({ before: kinds, after: drop(kinds, T), at: M2 }, { ...triggers('attributeDeleted'), ...params({ showChanges: true, sysAttrs: true }) }).data[0];
    assert.deepEqual(d.temperature, { type: 'Property', value: NULL, previousValue: 20, deletedAt: M2 });
  });
  test('deleting one datasetId instance gives an array of the survivors and the deleted one marked null', () => {
    const multi = room({ [T]: [prop(20), prop(30, { datasetId: DS })] });
    const after = set(multi, { [T]: [prop(20)] });
    const d = notify({ before: multi, after }, triggers('attributeDeleted')).data[0];
    assert.deepEqual(d.temperature, [{ type: 'Property', value: 20 }, { type: 'Property', value: NULL, datasetId: DS }]);
    const c = notify({ before: multi, after }, { ...triggers('attributeDeleted'), ...params({ format: 'concise' }) }).data[0];
    assert.deepEqual(c.temperature, [{ value: 20 }, { value: NULL, datasetId: DS }]);
    const kv = notify({ before: multi, after }, { ...triggers('attributeDeleted'), ...params({ format: 'keyValues' }) }).data[0];
    assert.deepEqual(kv.temperature, { dataset: { '@none': 20, [DS]: NULL } });
  });
  test('attributes deleted outside the projection are not shown', () => {
    const d = notify({ before: kinds, after: drop(kinds, T, `${DC}owner`) }, { ...triggers('attributeDeleted'), ...params({ omit: ['owner'] }) }).data[0];
    assert.equal('owner' in d, false);
    assert.deepEqual(d.temperature, { type: 'Property', value: NULL });
  });
});

describe('entityDeleted data', () => {
  const gone = (over: JsonObject, opts: Partial<NotificationOptions> = {}): JsonObject => notify({ before: kinds, after: null, at: M2 }, over, opts).data[0];
  test('is exactly {id, type, deletedAt}', () => {
    assert.deepEqual(gone(triggers('entityDeleted')), { id: kinds.id, type: 'Room', deletedAt: M2 });
  });
  test('deletedAt falls back to notifiedAt when the change has no instant', () => {
    const [m] = matchChange({ before: kinds, after: null }, [compile(triggers('entityDeleted'))], NOW);
    assert.equal((buildNotification(m, coreTerms, OPTS).body.data as JsonObject[])[0].deletedAt, NOW);
  });
  test('sysAttrs adds the entity createdAt and modifiedAt', () => {
    assert.deepEqual(Object.keys(gone({ ...triggers('entityDeleted'), ...params({ sysAttrs: true }) })), ['id', 'type', 'deletedAt', 'createdAt', 'modifiedAt']);
  });
  test('watching attribute deletions adds each watched attribute marked null', () => {
    const d = gone({ ...triggers('entityDeleted', 'attributeDeleted'), watchedAttributes: ['temperature', 'owner'] });
    assert.deepEqual(d, { id: kinds.id, type: 'Room', deletedAt: M2, temperature: { type: 'Property', value: NULL }, owner: { type: 'Relationship', object: NULL } });
  });
  test('with showChanges every attribute is marked null with its previous value', () => {
    const d = gone({ ...triggers('entityDeleted'), ...params({ showChanges: true }) });
    assert.equal(Object.keys(d).length, 3 + Object.keys(kinds.attrs).length);
    assert.deepEqual(d.owner, { type: 'Relationship', object: NULL, previousObject: 'urn:ngsi-ld:Person:1' });
    assert.deepEqual(d.category, { type: 'VocabProperty', vocab: NULL, previousVocab: 'Indoor' });
    assert.deepEqual(d.doors, { type: 'ListRelationship', objectList: [{ object: NULL }], previousObjectList: [{ object: 'urn:a' }] });
  });
  test('in geo+json a deleted entity is a Feature without geometry', () => {
    const { body } = notify({ before: kinds, after: null, at: M2 }, { ...triggers('entityDeleted'), ...endpoint({ accept: 'application/geo+json' }) });
    assert.deepEqual(body.data, { type: 'FeatureCollection', features: [{ id: kinds.id, type: 'Feature', geometry: null, properties: { type: 'Room', deletedAt: M2 } }] });
  });
});

describe('MQTT envelope', () => {
  test('wraps the Notification in {metadata, body} with Content-Type, Link and receiverInfo', () => {
    const [m] = matchChange({ before: null, after: kinds }, [compile(endpoint({ uri: 'mqtt://b.example/t', receiverInfo: [{ key: 'X-A', value: '1' }] }))], NOW);
    const msg = buildNotification(m as Match, coreTerms, OPTS);
    const env = mqttEnvelope(msg);
    assert.deepEqual(env.metadata, { 'Content-Type': 'application/json', Link: LINK, 'X-A': '1' });
    assert.equal(env.body, msg.body);
  });
  test('ld+json envelopes have no Link metadata', () => {
    const [m] = matchChange({ before: null, after: kinds }, [compile(endpoint({ uri: 'mqtt://b.example/t', accept: 'application/ld+json' }))], NOW);
    const env = mqttEnvelope(buildNotification(m, coreTerms, { ...OPTS, tenant: 't1' }));
    assert.deepEqual(env.metadata, { 'Content-Type': 'application/ld+json', 'NGSILD-Tenant': 't1' } as JsonValue);
  });
});
