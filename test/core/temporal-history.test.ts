// Tests for the history of core-API changes (GS CIM 009 §4.5.6; guide §15.1): what historyOf records.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttrInstance, Entity } from '../../src/core/model/entity.ts';
import { historyOf } from '../../src/core/temporal/history.ts';
import { SCOPE_ATTR } from '../../src/core/temporal/model.ts';

const A = 'urn:a:temperature';
const R = 'urn:a:room';
const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T01:00:00Z';
const ids = () => {
  let n = 0;
  return () => `urn:ngsi-ld:i${++n}`;
};
const prop = (value: number, at: string, extra: Partial<AttrInstance> = {}): AttrInstance => ({ type: 'Property', value, createdAt: T0, modifiedAt: at, ...extra });
const entity = (attrs: Entity['attrs'], modifiedAt = T0, extra: Partial<Entity> = {}): Entity => ({ id: 'urn:ngsi-ld:S:1', types: ['urn:a:S'], createdAt: T0, modifiedAt, attrs, ...extra });

describe('historyOf', () => {
  test('a create records every instance and the entity record', () => {
    const h = historyOf(null, entity({ [A]: [prop(1, T0)], [R]: [{ type: 'Relationship', object: 'urn:x:1', createdAt: T0, modifiedAt: T0 }] }), T0, ids())!;
    assert.deepEqual(h.instances.map((i) => [i.attr, i.instance.instanceId]), [
      [A, 'urn:ngsi-ld:i1'],
      [R, 'urn:ngsi-ld:i2'],
    ]);
    assert.deepEqual(h.entity, { id: 'urn:ngsi-ld:S:1', types: ['urn:a:S'], createdAt: T0, modifiedAt: T0 });
    assert.equal(h.drop, undefined);
  });

  test('an update records the written instance only, also when its value did not change', () => {
    const before = entity({ [A]: [prop(1, T0)], [R]: [{ type: 'Relationship', object: 'urn:x:1', createdAt: T0, modifiedAt: T0 }] });
    const changed = historyOf(before, entity({ ...before.attrs, [A]: [prop(2, T1)] }, T1), T1, ids())!;
    assert.deepEqual(changed.instances.map((i) => [i.attr, i.instance.value]), [[A, 2]]);
    const same = historyOf(before, entity({ ...before.attrs, [A]: [prop(1, T1)] }, T1), T1, ids())!;
    assert.deepEqual(same.instances.map((i) => [i.attr, i.instance.value]), [[A, 1]]);
  });

  test('an expiresAt-only change records no instance', () => {
    const before = entity({ [A]: [prop(1, T0)] });
    const h = historyOf(before, { ...before, modifiedAt: T1, expiresAt: '2099-01-01T00:00:00Z' }, T1, ids())!;
    assert.deepEqual(h.instances, []);
    assert.equal(h.entity!.modifiedAt, T1);
  });

  test('a deleted attribute instance is recorded with the NGSI-LD Null in its own kind and deletedAt', () => {
    const before = entity({
      [A]: [prop(1, T0), prop(5, T0, { datasetId: 'urn:ds:b' })],
      [R]: [{ type: 'Relationship', object: 'urn:x:1', createdAt: T0, modifiedAt: T0 }],
      'urn:a:l': [{ type: 'LanguageProperty', languageMap: { en: 'x' }, createdAt: T0, modifiedAt: T0 }],
      'urn:a:lr': [{ type: 'ListRelationship', objectList: ['urn:x:1'], createdAt: T0, modifiedAt: T0 }],
    });
    const h = historyOf(before, entity({ [A]: [prop(1, T0)] }, T1), T1, ids())!;
    const byAttr = Object.fromEntries(h.instances.map((i) => [i.attr, i.instance]));
    assert.deepEqual(byAttr[A], { type: 'Property', value: 'urn:ngsi-ld:null', datasetId: 'urn:ds:b', createdAt: T1, modifiedAt: T1, deletedAt: T1, instanceId: byAttr[A]!.instanceId });
    assert.equal(byAttr[R]!.object, 'urn:ngsi-ld:null');
    assert.deepEqual(byAttr['urn:a:l']!.languageMap, { '@none': 'urn:ngsi-ld:null' });
    assert.deepEqual(byAttr['urn:a:lr']!.objectList, ['urn:ngsi-ld:null']);
    assert.equal(h.instances.length, 4);
  });

  test('deleting the entity keeps the record with deletedAt and records the deletion of each attribute', () => {
    const before = entity({ [A]: [prop(1, T0)] }, T0, { scope: ['/A'] });
    const h = historyOf(before, null, T1, ids())!;
    assert.equal(h.entity!.deletedAt, T1);
    assert.deepEqual(h.instances.map((i) => [i.attr, i.instance.deletedAt]), [
      [A, T1],
      [SCOPE_ATTR, T1],
    ]);
    assert.deepEqual(h.instances[1]!.instance.value, []);
  });

  test('scope changes are Property instances observed at the change', () => {
    const h = historyOf(entity({}, T0, { scope: ['/A'] }), entity({}, T1, { scope: ['/A', '/B'] }), T1, ids())!;
    assert.deepEqual(h.instances.map((i) => [i.attr, i.instance.value, i.instance.observedAt]), [[SCOPE_ATTR, ['/A', '/B'], T1]]);
    assert.deepEqual(historyOf(entity({}, T0, { scope: ['/A'] }), entity({}, T1, { scope: ['/A'] }), T1, ids())!.instances, []);
  });

  test('nothing on either side: nothing to record', () => {
    assert.equal(historyOf(null, null, T0, ids()), null);
  });
});
