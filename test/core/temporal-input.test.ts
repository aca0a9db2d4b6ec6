// Tests for EntityTemporal payloads (GS CIM 009 §5.6.11–5.6.14; guide §15.1–15.2): parsing, recorded
// instances and how they move the entity's current state.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import type { JsonObject, JsonValue } from '../../src/core/json.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import type { Entity } from '../../src/core/model/entity.ts';
import { applyTemporal, parseTemporalEntity, temporalInstances } from '../../src/core/temporal/temporal-input.ts';
import { SCOPE_ATTR } from '../../src/core/temporal/model.ts';

const DC = 'https://uri.etsi.org/ngsi-ld/default-context/';
const terms: TermMap = { expandTerm: (n) => (n.includes(':') ? n : DC + n), compactIri: (i) => (i.startsWith(DC) ? i.slice(DC.length) : i) };
const limits = { maxGeometryVertices: 1000 };
const NOW = '2026-06-01T00:00:00Z';
const ids = () => {
  let n = 0;
  return () => `urn:ngsi-ld:i${++n}`;
};
const obs = (value: JsonValue, observedAt: string): JsonObject => ({ type: 'Property', value, observedAt });

function bad(fn: () => unknown, detail: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof NgsiError && e.kind === 'BadRequestData' && detail.test(e.detail));
}

describe('parseTemporalEntity', () => {
  test('each attribute is an array of instances or one instance; several may share the default dataset', () => {
    const p = parseTemporalEntity(
      { id: 'urn:ngsi-ld:M:1', type: 'Meter', volume: [obs(1, '2026-01-01T00:00:00Z'), obs(2, '2026-01-01T01:00:00Z')], valve: { type: 'Relationship', object: 'urn:ngsi-ld:V:1' } },
      terms,
      limits,
      'create',
    );
    assert.equal(p.id, 'urn:ngsi-ld:M:1');
    assert.deepEqual(p.types, [DC + 'Meter']);
    assert.equal(p.attrs[DC + 'volume']!.length, 2);
    assert.equal(p.attrs[DC + 'valve']![0]!.draft.type, 'Relationship');
  });

  test('an instance holding the NGSI-LD Null is a deletion; instanceId sent back by a client is ignored', () => {
    const p = parseTemporalEntity(
      { id: 'urn:ngsi-ld:M:1', type: 'M', r: [{ type: 'Relationship', object: 'urn:ngsi-ld:null', observedAt: '2026-01-01T00:00:00Z', instanceId: 'urn:x:old' }] },
      terms,
      limits,
      'create',
    );
    const [h] = temporalInstances(p, NOW, ids());
    assert.equal(h!.instance.object, 'urn:ngsi-ld:null');
    assert.equal(h!.instance.deletedAt, NOW);
    assert.equal(h!.instance.observedAt, '2026-01-01T00:00:00Z');
    assert.equal(h!.instance.instanceId, 'urn:ngsi-ld:i1');
  });

  test('refuses an entity-level NGSI-LD Null, a missing id or type on create, an id differing from the path', () => {
    bad(() => parseTemporalEntity({ id: 'urn:ngsi-ld:M:1', type: 'M', expiresAt: 'urn:ngsi-ld:null' }, terms, limits, 'create'), /NGSI-LD Null is not allowed as the entity member 'expiresAt'/);
    bad(() => parseTemporalEntity({ type: 'M' }, terms, limits, 'create'), /id is missing/);
    bad(() => parseTemporalEntity({ id: 'urn:ngsi-ld:M:1' }, terms, limits, 'create'), /type is missing/);
    bad(() => parseTemporalEntity({ id: 'urn:ngsi-ld:M:2', a: [obs(1, NOW)] }, terms, limits, 'fragment', 'urn:ngsi-ld:M:1'), /differs from the id/);
    bad(() => parseTemporalEntity({ a: [] }, terms, limits, 'fragment'), /empty array/);
    bad(() => parseTemporalEntity({ a: [{ type: 'Property', value: null }] }, terms, limits, 'fragment'), /JSON null/);
  });
});

describe('applyTemporal', () => {
  const base: Entity = {
    id: 'urn:ngsi-ld:M:1',
    types: [DC + 'M'],
    createdAt: '2025-01-01T00:00:00Z',
    modifiedAt: '2025-01-01T00:00:00Z',
    attrs: { [DC + 'a']: [{ type: 'Property', value: 5, observedAt: '2026-01-01T05:00:00Z', createdAt: '2025-01-01T00:00:00Z', modifiedAt: '2025-01-01T00:00:00Z' }] },
  };

  test('the latest added instance becomes current unless the current one was observed later', () => {
    const p = parseTemporalEntity({ a: [obs(1, '2026-01-01T01:00:00Z'), obs(9, '2026-01-01T09:00:00Z'), obs(3, '2026-01-01T03:00:00Z')], b: [obs(7, '2026-01-01T00:00:00Z')] }, terms, limits, 'fragment');
    const added = temporalInstances(p, NOW, ids());
    const e = applyTemporal(base, base.id, p, added, NOW);
    assert.equal(e.attrs[DC + 'a']![0]!.value, 9);
    assert.equal(e.attrs[DC + 'a']![0]!.createdAt, '2025-01-01T00:00:00Z');
    assert.equal(e.attrs[DC + 'b']![0]!.value, 7);
    assert.equal('instanceId' in e.attrs[DC + 'a']![0]!, false);
    const older = parseTemporalEntity({ a: [obs(0, '2026-01-01T00:00:00Z')] }, terms, limits, 'fragment');
    assert.equal(applyTemporal(base, base.id, older, temporalInstances(older, NOW, ids()), NOW).attrs[DC + 'a']![0]!.value, 5);
  });

  test('a latest deletion instance removes the current instance; scope instances set the scope', () => {
    const p = parseTemporalEntity({ a: [{ type: 'Property', value: 'urn:ngsi-ld:null', observedAt: '2026-02-01T00:00:00Z' }], scope: [{ type: 'Property', value: '/Town' }] }, terms, limits, 'fragment');
    const added = temporalInstances(p, NOW, ids());
    assert.equal(added.find((h) => h.attr === SCOPE_ATTR)!.instance.value, '/Town');
    const e = applyTemporal(base, base.id, p, added, NOW);
    assert.equal(e.attrs[DC + 'a'], undefined);
    assert.deepEqual(e.scope, ['/Town']);
  });

  test('a new entity takes its types from the payload', () => {
    const p = parseTemporalEntity({ id: 'urn:ngsi-ld:M:9', type: ['M', 'N'], a: [obs(1, NOW)] }, terms, limits, 'create');
    const e = applyTemporal(null, 'urn:ngsi-ld:M:9', p, temporalInstances(p, NOW, ids()), NOW);
    assert.deepEqual(e.types, [DC + 'M', DC + 'N']);
    assert.equal(e.createdAt, NOW);
  });
});
