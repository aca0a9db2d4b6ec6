// Tests for matching entity changes against subscriptions (GS CIM 009 §5.8, §5.2.12 notificationTrigger,
// watchedAttributes, q, geoQ, scopeQ; guide §14.3, §21 item 17).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../../src/core/json.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import { diffAttributes } from '../../src/core/subscription/entity-diff.ts';
import { currentStateMatch, matchChange, matchesEntity, type EntityChange } from '../../src/core/subscription/matcher.ts';
import { parseSubscription } from '../../src/core/subscription/parse.ts';
import { C, DC, FUTURE, LIMITS, LOCATION, M, M2, NOW, PAST, compile, coreTerms, inst, payload, prop, room } from './subscription-fixtures.ts';

const T = `${DC}temperature`;
const H = `${DC}humidity`;
const DS = 'urn:ngsi-ld:Dataset:b';
const triggers = (...t: string[]): JsonObject => ({ notificationTrigger: t });

const base = room({ [T]: [prop(20, { observedAt: '2024-05-01T09:00:00Z' })], [H]: [prop(40)] });
const updated = (attrs: Entity['attrs']): Entity => ({ ...base, modifiedAt: M2, attrs: { ...base.attrs, ...attrs } });
const without = (name: string): Entity => {
  const attrs = { ...base.attrs };
  delete attrs[name];
  return { ...base, modifiedAt: M2, attrs };
};

function reasons(change: EntityChange, over: JsonObject = {}): string[] | null {
  const [m] = matchChange(change, [compile(over)], NOW);
  return m === undefined ? null : [...m.reasons].sort();
}

describe('notification triggers', () => {
  test('creating an entity fires attributeCreated for its attributes under the default triggers', () => {
    assert.deepEqual(reasons({ before: null, after: base }), ['attributeCreated']);
  });
  test('creating an entity without attributes notifies only entityCreated subscriptions', () => {
    const bare = room();
    assert.equal(reasons({ before: null, after: bare }), null);
    assert.deepEqual(reasons({ before: null, after: bare }, triggers('entityCreated')), ['entityCreated']);
  });
  test('changing a value fires attributeUpdated; an attributeCreated-only subscription stays silent', () => {
    const change = { before: base, after: updated({ [T]: [prop(21, { observedAt: '2024-05-01T09:00:00Z' }, M2)] }) };
    assert.deepEqual(reasons(change), ['attributeUpdated']);
    assert.equal(reasons(change, triggers('attributeCreated')), null);
  });
  test('re-sending an identical value with an identical observedAt is no change', () => {
    const same = updated({ [T]: [prop(20, { observedAt: '2024-05-01T09:00:00Z' }, M2)] });
    assert.equal(reasons({ before: base, after: same }), null);
    assert.equal(reasons({ before: base, after: same }, triggers('entityUpdated')), null);
  });
  test('the same value with a new observedAt is a change', () => {
    assert.deepEqual(reasons({ before: base, after: updated({ [T]: [prop(20, { observedAt: '2024-05-01T09:30:00Z' }, M2)] }) }), ['attributeUpdated']);
  });
  test('a changed sub-attribute or unitCode is a change; object member order is not', () => {
    const withSub = updated({ [H]: [{ ...prop(40), attrs: { [`${DC}accuracy`]: [prop(1)] } }] });
    assert.deepEqual(reasons({ before: base, after: withSub }), ['attributeUpdated']);
    assert.deepEqual(reasons({ before: base, after: updated({ [H]: [prop(40, { unitCode: 'P1' })] }) }), ['attributeUpdated']);
    const a = room({ [T]: [inst({ type: 'Property', value: { x: 1, y: 2 } })] });
    const b = room({ [T]: [inst({ type: 'Property', value: { y: 2, x: 1 } }, M2)] });
    assert.equal(reasons({ before: a, after: b }), null);
  });
  test('adding an attribute fires attributeCreated, deleting one attributeDeleted', () => {
    const added = updated({ [`${DC}co2`]: [prop(400, {}, M2)] });
    assert.deepEqual(reasons({ before: base, after: added }), ['attributeCreated']);
    assert.equal(reasons({ before: base, after: without(H) }), null);
    const [m] = matchChange({ before: base, after: without(H) }, [compile(triggers('attributeDeleted'))], NOW);
    assert.deepEqual([...m.reasons], ['attributeDeleted']);
    assert.deepEqual(m.deletedAttributes, [{ name: H, instance: base.attrs[H][0] }]);
    assert.deepEqual(m.attributesChanged, [H]);
  });
  test('entityUpdated stands for the three attribute triggers and is the reason reported', () => {
    assert.deepEqual(reasons({ before: base, after: without(H) }, triggers('entityUpdated')), ['entityUpdated']);
    assert.deepEqual(reasons({ before: base, after: updated({ [`${DC}co2`]: [prop(1)] }) }, triggers('entityUpdated')), ['entityUpdated']);
    assert.deepEqual(reasons({ before: base, after: updated({ [H]: [prop(41)] }) }, triggers('entityUpdated')), ['entityUpdated']);
    assert.deepEqual(reasons({ before: base, after: updated({ [H]: [prop(41)] }) }, triggers('entityUpdated', 'attributeUpdated')), ['attributeUpdated', 'entityUpdated']);
  });
  test('deleting an entity fires entityDeleted, and attributeDeleted for each attribute when subscribed', () => {
    assert.deepEqual(reasons({ before: base, after: null, at: NOW }, triggers('entityDeleted')), ['entityDeleted']);
    assert.equal(reasons({ before: base, after: null }), null);
    const [m] = matchChange({ before: base, after: null, at: NOW }, [compile(triggers('entityDeleted', 'attributeDeleted'))], NOW);
    assert.deepEqual([...m.reasons].sort(), ['attributeDeleted', 'entityDeleted']);
    assert.equal(m.entityDeleted, true);
    assert.equal(m.entity, base);
    assert.equal(m.at, NOW);
    assert.deepEqual(m.attributesChanged, [T, H]);
  });
  test('type or scope changes alone notify nobody', () => {
    assert.equal(reasons({ before: base, after: { ...base, scope: ['/a'] } }, triggers('entityUpdated')), null);
  });
});

describe('watchedAttributes', () => {
  test('only changes of watched attributes count', () => {
    const change = { before: base, after: updated({ [H]: [prop(41)] }) };
    assert.equal(reasons(change, { watchedAttributes: ['temperature'] }), null);
    const [m] = matchChange({ before: base, after: updated({ [H]: [prop(41)], [T]: [prop(1)] }) }, [compile({ watchedAttributes: ['temperature'] })], NOW);
    assert.deepEqual(m.attributesChanged, [T]);
  });
  test('entity creation and deletion count when a watched attribute is present', () => {
    const watching = { watchedAttributes: ['co2'], ...triggers('entityCreated', 'entityDeleted') };
    assert.equal(reasons({ before: null, after: base }, watching), null);
    assert.equal(reasons({ before: base, after: null }, watching), null);
    const w = { ...watching, watchedAttributes: ['humidity'] };
    assert.deepEqual(reasons({ before: null, after: base }, w), ['entityCreated']);
    assert.deepEqual(reasons({ before: base, after: null }, w), ['entityDeleted']);
  });
  test('a subscription with watchedAttributes and no entities watches every entity', () => {
    const { entities: _e, ...p } = payload({ watchedAttributes: ['humidity'] });
    const sub = parseSubscription(p, coreTerms, LIMITS, NOW).compiled;
    const other = { ...base, id: 'urn:ngsi-ld:Hall:1', types: [`${DC}Hall`] };
    assert.equal(matchChange({ before: other, after: { ...other, attrs: { [H]: [prop(5)] } } }, [sub], NOW).length, 1);
  });
});

describe('entity selection and filters', () => {
  const change = { before: base, after: updated({ [T]: [prop(25, {}, M2)] }) };
  test('the entity type, id and idPattern of a selector must match', () => {
    assert.equal(reasons(change, { entities: [{ type: 'Hall' }] }), null);
    assert.ok(reasons(change, { entities: [{ type: 'Hall' }, { type: 'Hall|Room' }] }));
    assert.equal(reasons(change, { entities: [{ type: 'Room', id: 'urn:ngsi-ld:Room:2' }] }), null);
    assert.ok(reasons(change, { entities: [{ type: 'Room', id: 'urn:ngsi-ld:Room:1' }] }));
    assert.ok(reasons(change, { entities: [{ type: 'Room', idPattern: '^urn:ngsi-ld:Room:\\d$' }] }));
    assert.equal(reasons(change, { entities: [{ type: 'Room', idPattern: 'Hall' }] }), null);
  });
  test('q is evaluated on the entity after the change', () => {
    assert.ok(reasons(change, { q: 'temperature>22' }));
    assert.equal(reasons(change, { q: 'temperature<22' }), null);
  });
  test('for a deletion q is evaluated on the last state', () => {
    assert.ok(reasons({ before: base, after: null }, { q: 'temperature==20', ...triggers('entityDeleted') }));
    assert.equal(reasons({ before: base, after: null }, { q: 'temperature==25', ...triggers('entityDeleted') }), null);
  });
  test('geoQ and scopeQ are evaluated on the entity', () => {
    const located = room({ [LOCATION]: [inst({ type: 'GeoProperty', value: { type: 'Point', coordinates: [2.35, 48.85] } })] }, { scope: ['/Paris/North'] });
    const moved = { ...located, modifiedAt: M2, attrs: { [LOCATION]: [inst({ type: 'GeoProperty', value: { type: 'Point', coordinates: [2.36, 48.85] } }, M2)] } };
    const near = { georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: [2.35, 48.85] };
    assert.ok(reasons({ before: located, after: moved }, { geoQ: near }));
    assert.equal(reasons({ before: located, after: moved }, { geoQ: { ...near, coordinates: [13.4, 52.5] } }), null);
    assert.ok(reasons({ before: located, after: moved }, { scopeQ: '/Paris/#' }));
    assert.equal(reasons({ before: located, after: moved }, { scopeQ: '/Madrid' }), null);
  });
  test('notification.attributes requires the entity to hold one of them, or to have just lost one', () => {
    assert.equal(reasons(change, { notification: { endpoint: { uri: 'http://r/' }, attributes: ['co2'] } }), null);
    assert.ok(reasons(change, { notification: { endpoint: { uri: 'http://r/' }, attributes: ['humidity'] } }));
    assert.ok(reasons({ before: base, after: without(H) }, { ...triggers('attributeDeleted'), notification: { endpoint: { uri: 'http://r/' }, attributes: ['humidity'] } }));
  });
});

describe('subscription status and kind', () => {
  const change = { before: base, after: updated({ [T]: [prop(25, {}, M2)] }) };
  test('paused and expired subscriptions are not notified', () => {
    assert.equal(reasons(change, { isActive: false }), null);
    const expiring = compile({ expiresAt: '2024-05-01T10:00:01Z' });
    assert.equal(matchChange(change, [expiring], NOW).length, 1);
    assert.equal(matchChange(change, [expiring], '2024-05-01T10:00:01Z').length, 0);
    assert.equal(matchChange(change, [{ ...compile(), expiresAt: PAST }], NOW).length, 0);
    assert.equal(matchChange(change, [{ ...compile(), expiresAt: FUTURE }], NOW).length, 1);
  });
  test('periodic subscriptions never match changes; matchesEntity selects their entities', () => {
    const periodic = compile({ timeInterval: 10, q: 'temperature>10' });
    assert.equal(matchChange(change, [periodic], NOW).length, 0);
    assert.equal(matchesEntity(periodic, base), true);
    assert.equal(matchesEntity(compile({ timeInterval: 10, q: 'temperature>30' }), base), false);
    const m = currentStateMatch(periodic, base);
    assert.deepEqual([m.reasons.size, m.changes, m.entityDeleted, m.entity], [0, [], false, base]);
  });
  test('several subscriptions are matched independently, in order', () => {
    const subs = [compile({ id: 'urn:s:1' }), compile({ id: 'urn:s:2', isActive: false }), compile({ id: 'urn:s:3', ...triggers('attributeUpdated') })];
    assert.deepEqual(matchChange(change, subs, NOW).map((m) => m.sub.id), ['urn:s:1', 'urn:s:3']);
  });
});

describe('datasetId instances', () => {
  const multi = room({ [T]: [prop(20), prop(30, { datasetId: DS })] });
  test('each instance is a change of its own', () => {
    const after = room({ [T]: [prop(20), prop(31, { datasetId: DS }, M2)] });
    assert.deepEqual(diffAttributes(multi, after).map((c) => [c.kind, c.datasetId]), [['updated', DS]]);
    const dropped = room({ [T]: [prop(20)] });
    const [m] = matchChange({ before: multi, after: dropped }, [compile(triggers('attributeDeleted'))], NOW);
    assert.deepEqual(m.deletedAttributes, [{ name: T, instance: multi.attrs[T][1] }]);
  });
  test('the subscription datasetId selects which instances count', () => {
    const after = room({ [T]: [prop(20), prop(31, { datasetId: DS }, M2)] });
    assert.equal(reasons({ before: multi, after }, { datasetId: ['@none'] }), null);
    assert.ok(reasons({ before: multi, after }, { datasetId: [DS] }));
    const defaultChanged = room({ [T]: [prop(21, {}, M2), prop(30, { datasetId: DS })] });
    assert.ok(reasons({ before: multi, after: defaultChanged }, { datasetId: ['@none'] }));
  });
  test('system timestamps alone are never a change', () => {
    const touched = room({ [T]: [{ ...prop(20), createdAt: M, modifiedAt: NOW }, prop(30, { datasetId: DS }, NOW)] }, { modifiedAt: NOW, createdAt: C });
    assert.deepEqual(diffAttributes(multi, touched), []);
  });
});
