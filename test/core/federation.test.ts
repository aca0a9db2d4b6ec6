// Unit tests of the distributed-operation core (GS CIM 009 §5.12, §6.3.17, §6.3.18; guide §16.3): merging
// entities from several parties, what exclusive/redirect registrations take from local data, source
// planning (operations, cooldown, attribute narrowing), forwarded headers and Via, write splitting,
// warnings, and reading remote payloads.
import { contentRangeEnd } from '../../src/core/federation/remote-temporal.ts';
import { mergeAggregateParts, methodsToAsk, onlyRequested, readRemoteAggregates } from '../../src/core/federation/aggregate-merge.ts';
import { mergeTemporalParts } from '../../src/core/federation/temporal-merge.ts';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import type { JsonObject } from '../../src/core/json.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import type { AttrInstance, Entity } from '../../src/core/model/entity.ts';
import { mergeEntity, withoutRemotelyHeld } from '../../src/core/federation/merge.ts';
import { apiRoot, forwardHeaders, planSources, viaContains, viaFor, type Candidate } from '../../src/core/federation/plan.ts';
import { readRemoteEntities, readRemoteEntity } from '../../src/core/federation/remote-entity.ts';
import { formatWarning } from '../../src/core/federation/warning.ts';
import { checkWriteSupported, remotelyHeld, restrictBody } from '../../src/core/federation/write-plan.ts';
import { EMPTY_FORWARDING, viewOf } from '../../src/core/registration/model.ts';

const DC = 'https://uri.etsi.org/ngsi-ld/default-context/';
const terms: TermMap = { expandTerm: (n) => (n.includes(':') ? n : DC + n), compactIri: (i) => (i.startsWith(DC) ? i.slice(DC.length) : i) };
const LIMITS = { maxGeometryVertices: 1000 };
const T0 = '2030-01-01T00:00:00Z';

const inst = (value: unknown, extra: Partial<AttrInstance> = {}): AttrInstance => ({ type: 'Property', value: value as AttrInstance['value'], createdAt: T0, modifiedAt: T0, ...extra });
const entity = (id: string, attrs: Record<string, AttrInstance[]>, types = [`${DC}Room`]): Entity => ({ id, types, createdAt: T0, modifiedAt: T0, attrs });
const reg = (over: JsonObject = {}, forwarding = EMPTY_FORWARDING): Candidate => {
  const view = viewOf({ id: 'urn:r', type: 'ContextSourceRegistration', information: [{ entities: [{ type: `${DC}Room` }] }], endpoint: 'http://src.example', ...over });
  return { view, forwarding: { ...forwarding }, infos: view.information.map((_, i) => i) };
};

describe('Merging entities from several parties', () => {
  test('attributes are united per datasetId; a strictly later observedAt wins, otherwise the held instance stays', () => {
    const a = entity('urn:e', { [`${DC}t`]: [inst(1, { observedAt: '2030-01-01T10:00:00Z' })], [`${DC}h`]: [inst(5)] });
    const b = entity('urn:e', { [`${DC}t`]: [inst(2, { observedAt: '2030-01-01T11:00:00Z' }), inst(9, { datasetId: 'urn:ds' })], [`${DC}h`]: [inst(6)] }, [`${DC}Room`, `${DC}Place`]);
    const m = mergeEntity(a, b);
    assert.deepEqual(m.attrs[`${DC}t`]!.map((i) => i.value), [2, 9]);
    assert.equal(m.attrs[`${DC}h`]![0]!.value, 5);
    assert.deepEqual(m.types, [`${DC}Room`, `${DC}Place`]);
  });

  test('fill-only (auxiliary) never replaces, only adds', () => {
    const a = entity('urn:e', { [`${DC}t`]: [inst(1)] });
    const b = entity('urn:e', { [`${DC}t`]: [inst(2, { observedAt: '2099-01-01T00:00:00Z' })], [`${DC}c`]: [inst('x')] });
    const m = mergeEntity(a, b, true);
    assert.equal(m.attrs[`${DC}t`]![0]!.value, 1);
    assert.equal(m.attrs[`${DC}c`]![0]!.value, 'x');
  });

  test('exclusive/redirect registrations take their attributes (or the whole entity) from local data', () => {
    const local = entity('urn:e', { [`${DC}t`]: [inst(1)], [`${DC}h`]: [inst(2)] });
    const excl = reg({ mode: 'exclusive', information: [{ entities: [{ type: `${DC}Room`, id: 'urn:e' }], propertyNames: [`${DC}t`] }] }).view;
    assert.deepEqual(Object.keys(withoutRemotelyHeld(local, [excl])!.attrs), [`${DC}h`]);
    assert.equal(withoutRemotelyHeld(local, [reg({ mode: 'redirect' }).view]), null);
    assert.equal(withoutRemotelyHeld(local, [reg().view]), local, 'inclusive takes nothing');
    const other = entity('urn:other', local.attrs);
    assert.equal(withoutRemotelyHeld(other, [excl]), other, 'a registration for another id takes nothing');
  });
});

describe('Planning the sources', () => {
  test('only registrations offering the operation; federationOps has reads, not writes', () => {
    assert.equal(planSources([reg()], ['retrieveEntity'], undefined, { nowMs: 0, defaultTimeoutMs: 100 }).length, 1);
    assert.equal(planSources([reg()], ['updateAttrs'], undefined, { nowMs: 0, defaultTimeoutMs: 100 }).length, 0);
    assert.equal(planSources([reg({ operations: ['updateOps'] })], ['updateAttrs'], undefined, { nowMs: 0, defaultTimeoutMs: 100 }).length, 1);
  });

  test('attributes are narrowed to what the registration lists; no overlap → not asked', () => {
    const c = reg({ information: [{ entities: [{ type: `${DC}Room` }], propertyNames: [`${DC}t`, `${DC}h`] }] });
    const opts = { nowMs: 0, defaultTimeoutMs: 100 };
    assert.deepEqual(planSources([c], ['queryEntity'], undefined, opts)[0]!.attrs, [`${DC}t`, `${DC}h`]);
    assert.deepEqual(planSources([c], ['queryEntity'], [`${DC}t`, `${DC}x`], opts)[0]!.attrs, [`${DC}t`]);
    assert.equal(planSources([c], ['queryEntity'], [`${DC}x`], opts).length, 0);
  });

  test('timeout, localOnly and tenant come from the registration; a failed one cools down for management.cooldown ms', () => {
    const failedAt = '2030-01-01T00:00:00Z';
    const c = reg({ tenant: 'v1', management: { timeout: 250, localOnly: true, cooldown: 1000 } }, { timesSent: 1, timesFailed: 1, lastFailure: failedAt, status: 'failed' });
    const at = Date.parse(failedAt);
    assert.equal(planSources([c], ['retrieveEntity'], undefined, { nowMs: at + 500, defaultTimeoutMs: 100 }).length, 0);
    const [p] = planSources([c], ['retrieveEntity'], undefined, { nowMs: at + 1500, defaultTimeoutMs: 100 });
    assert.equal(p!.timeoutMs, 250);
    assert.equal(p!.localOnly, true);
    assert.equal(p!.tenant, 'v1');
  });

  test('headers: registration tenant, contextSourceInfo (urn:ngsi-ld:request copies), client Link, Via appended', () => {
    const [p] = planSources([reg({ tenant: 'v1', contextSourceInfo: [{ key: 'X-Key', value: 'k' }, { key: 'Authorization', value: 'urn:ngsi-ld:request' }, { key: 'jsonldContext', value: 'http://ctx.example/c.jsonld' }] })], ['retrieveEntity'], undefined, { nowMs: 0, defaultTimeoutMs: 1 });
    const h = forwardHeaders(p!, { via: '1.1 a', get: (n) => (n === 'authorization' ? 'Bearer t' : undefined) }, 'me');
    assert.equal(h['ngsild-tenant'], 'v1');
    assert.equal(h['x-key'], 'k');
    assert.equal(h.authorization, 'Bearer t');
    assert.equal(h.via, '1.1 a, 1.1 me');
    assert.match(h.link!, /^<http:\/\/ctx\.example\/c\.jsonld>/);
  });

  test('Via parsing and the API root of an endpoint', () => {
    assert.equal(viaContains('1.1 a, HTTP/1.1 me (comment)', 'me'), true);
    assert.equal(viaContains('1.1 mee', 'me'), false);
    assert.equal(viaContains(undefined, 'me'), false);
    assert.equal(viaFor(' ', 'me'), '1.1 me');
    assert.equal(apiRoot('http://h:1026/'), 'http://h:1026/ngsi-ld/v1');
    assert.equal(apiRoot('http://h/x/ngsi-ld/v1'), 'http://h/x/ngsi-ld/v1');
  });
});

describe('Splitting writes', () => {
  test('an exclusive registration lacking the operation is a Conflict; inclusive ones are just skipped', () => {
    const excl = reg({ mode: 'exclusive', operations: ['retrieveOps'], information: [{ entities: [{ type: `${DC}Room`, id: 'urn:e' }], propertyNames: [`${DC}t`] }] });
    assert.throws(() => checkWriteSupported([excl], 'updateAttrs'), (e: unknown) => e instanceof NgsiError && e.kind === 'Conflict');
    assert.doesNotThrow(() => checkWriteSupported([reg({ operations: ['retrieveOps'] })], 'updateAttrs'));
  });

  test('remotely held attributes leave the local body; a source gets only what it covers', () => {
    const excl = reg({ mode: 'exclusive', operations: ['updateOps'], information: [{ entities: [{ type: `${DC}Room`, id: 'urn:e' }], propertyNames: [`${DC}t`] }] });
    const plans = planSources([excl], ['updateAttrs'], [`${DC}t`, `${DC}h`], { nowMs: 0, defaultTimeoutMs: 1 });
    const held = remotelyHeld(plans);
    assert.deepEqual(held, { attrs: [`${DC}t`] });
    const body = { type: 'Room', t: { value: 1 }, h: { value: 2 }, '@context': 'x' };
    assert.deepEqual(restrictBody(body, terms, { drop: [`${DC}t`] }), { type: 'Room', h: { value: 2 } });
    assert.deepEqual(restrictBody(body, terms, { keep: [`${DC}t`] }), { type: 'Room', t: { value: 1 } });
    assert.equal(remotelyHeld(planSources([reg({ mode: 'redirect', operations: ['updateOps'] })], ['updateAttrs'], undefined, { nowMs: 0, defaultTimeoutMs: 1 })), 'none');
  });
});

describe('Reading remote payloads and warnings', () => {
  test('a valid entity is read with the request context; wrong shapes, ids and kinds are unusable', () => {
    const ok = readRemoteEntity({ id: 'urn:e', type: 'Room', t: { type: 'Property', value: 1 }, '@context': 'x' }, 'urn:e', terms, LIMITS, T0);
    assert.ok(ok.ok && ok.value !== null && ok.value.attrs[`${DC}t`]![0]!.value === 1);
    for (const bad of [undefined, [1], 'x', { id: 'urn:other', type: 'Room' }, { id: 'urn:e', type: 7 }, { id: 'urn:e', type: 'Room', t: { type: 'Property' } }]) {
      assert.equal(readRemoteEntity(bad as JsonObject, 'urn:e', terms, LIMITS, T0).ok, false, JSON.stringify(bad));
    }
    const expired = readRemoteEntity({ id: 'urn:e', type: 'Room', expiresAt: '2000-01-01T00:00:00Z' }, 'urn:e', terms, LIMITS, T0);
    assert.ok(expired.ok && expired.value === null, 'expired remote data is dropped');
    assert.equal(readRemoteEntities({ not: 'array' }, terms, LIMITS, T0).ok, false);
    assert.equal(readRemoteEntities([{ id: 'urn:a', type: 'Room' }, { id: 3 }], terms, LIMITS, T0).ok, false, 'one bad element spoils the payload');
  });

  test('warnings are RFC 7234 values with the "-" agent and no quotes or control characters inside', () => {
    assert.equal(formatWarning({ code: 299, registrationId: 'urn:r', endpoint: 'http://h', reason: 'said "no"\n' }), `299 - "Context source urn:r (http://h): said 'no' "`);
  });
});

describe('Distributed temporal answers (core/federation/temporal-merge.ts, remote-temporal.ts)', () => {
  const inst = (v: number, h: number, id: string) => ({ type: 'Property' as const, value: v, observedAt: `2026-03-01T0${h}:00:00Z`, createdAt: '2026-03-01T00:00:00Z', modifiedAt: '2026-03-01T00:00:00Z', instanceId: id });
  const rec = (id: string, attrs: Record<string, ReturnType<typeof inst>[]>) => ({ entity: { id, types: ['T'], createdAt: '2026-03-01T00:00:00Z', modifiedAt: '2026-03-01T00:00:00Z' }, attrs, truncated: false });

  test('contentRangeEnd finds the end of a date-time range despite the hyphens inside DateTimes', () => {
    assert.deepEqual(contentRangeEnd('date-time 2026-03-01T00:00:00Z-2026-03-01T03:00:00.5Z/*')?.text, '2026-03-01T03:00:00.5Z');
    assert.equal(contentRangeEnd('bytes 0-10/20'), null);
    assert.equal(contentRangeEnd(undefined), null);
  });

  test('instances of one attribute from several parties combine in time order, duplicates once, lastN over the union, cut at the most restrictive party', () => {
    const a = { entities: [rec('urn:x:1', { p: [inst(1, 1, 'i1'), inst(3, 3, 'i3')] })] };
    const b = { entities: [rec('urn:x:1', { p: [inst(2, 2, 'i2'), inst(3, 3, 'i3'), inst(5, 5, 'i5')] })], cutAt: { ms: Date.parse('2026-03-01T04:00:00Z'), text: '2026-03-01T04:00:00Z' } };
    const all = mergeTemporalParts([a, b], { timeProperty: 'observedAt' });
    assert.deepEqual(all.entities[0]!.attrs.p!.map((i) => i.value), [1, 2, 3]);
    assert.equal(all.cutAt?.text, '2026-03-01T04:00:00Z');
    const last = mergeTemporalParts([a, { entities: b.entities }], { timeProperty: 'observedAt', lastN: 2 });
    assert.deepEqual(last.entities[0]!.attrs.p!.map((i) => i.value), [3, 5]);
  });
});

describe('Distributed aggregated answers (core/federation/aggregate-merge.ts)', () => {
  type Methods = Parameters<typeof mergeAggregateParts>[1];
  const b = (value: number | string | null, s = 0, e = 10) => ({ value, startMs: s, endMs: e });
  const part = (attrs: Record<string, Partial<Record<Methods[number], ReturnType<typeof b>[]>>>) => ({
    entities: [{ entity: { id: 'urn:x:1', types: ['T'], createdAt: '2026-01-01T00:00:00Z', modifiedAt: '2026-01-01T00:00:00Z' }, attrs }],
    kinds: {},
  });

  test('helpers: avg and stddev ask for sum, avg (and sumsq) too; onlyRequested strips them again', () => {
    assert.deepEqual(methodsToAsk(['stddev']), ['sum', 'avg', 'stddev', 'sumsq']);
    assert.deepEqual(methodsToAsk(['max', 'totalCount']), ['totalCount', 'max']);
    const merged = mergeAggregateParts([part({ p: { sum: [b(3)], avg: [b(1.5)] } })], ['sum', 'avg'], false);
    assert.deepEqual(Object.keys(onlyRequested(merged.entities[0]!, ['avg']).attrs.p!), ['avg']);
  });

  test('avg and stddev use each party\'s numeric count (sum/avg), not totalCount, which also counts strings', () => {
    // Party A: values 10, 20 and a string (totalCount 3); party B: 30.
    const a = part({ p: { totalCount: [b(3)], sum: [b(30)], avg: [b(15)], sumsq: [b(500)], stddev: [b(5)], min: [b(10)], max: [b(20)] } });
    const c = part({ p: { totalCount: [b(1)], sum: [b(30)], avg: [b(30)], sumsq: [b(900)], stddev: [b(0)], min: [b('z')], max: [b('z')] } });
    const m = mergeAggregateParts([a, c], ['totalCount', 'sum', 'avg', 'min', 'max', 'stddev', 'sumsq'], false);
    const p = m.entities[0]!.attrs.p!;
    assert.equal(p.totalCount![0]!.value, 4);
    assert.equal(p.avg![0]!.value, 20);
    assert.ok(Math.abs((p.stddev![0]!.value as number) - Math.sqrt(200 / 3)) < 1e-9);
    assert.equal(p.max![0]!.value, 20, 'numbers before strings');
    assert.deepEqual(m.conflicts, []);
  });

  test('what cannot be exact keeps the first holder and is reported: distinctCount, avg 0 (count unknowable), misaligned buckets', () => {
    const m = mergeAggregateParts([part({ p: { distinctCount: [b(2)], sum: [b(0)], avg: [b(0)] } }), part({ p: { distinctCount: [b(1)], sum: [b(4)], avg: [b(4)] } })], ['distinctCount', 'sum', 'avg'], false);
    assert.equal(m.entities[0]!.attrs.p!.distinctCount![0]!.value, 2);
    assert.equal(m.entities[0]!.attrs.p!.avg![0]!.value, 0);
    assert.deepEqual(m.conflicts.map((c) => [c.part, c.method]).sort(), [[1, 'avg'], [1, 'distinctCount']]);
    const shifted = mergeAggregateParts([part({ p: { max: [b(1, 0, 10)] } }), part({ p: { max: [b(9, 5, 15)] } })], ['max'], false);
    assert.equal(shifted.entities[0]!.attrs.p!.max![0]!.value, 1);
    assert.deepEqual(shifted.conflicts.map((c) => c.method), ['buckets']);
    const single = mergeAggregateParts([part({ p: { max: [b(1, 0, 10)] } }), part({ p: { max: [b(9, 5, 15)] } })], ['max'], true);
    assert.deepEqual(single.entities[0]!.attrs.p!.max, [b(9, 0, 15)], 'without a period one bucket spans the union');
  });

  test('a source\'s aggregated payload is validated: wrong shapes are unusable, names expanded', () => {
    const terms = { expandTerm: (n: string) => `${DC}${n}`, compactIri: (i: string) => i } as unknown as TermMap;
    const ok = readRemoteAggregates([{ id: 'urn:x:1', type: 'T', p: { type: 'Property', avg: [[1.5, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z']] } }], terms, '2026-01-01T00:00:00Z', false);
    assert.ok(ok.ok);
    assert.deepEqual(Object.keys(ok.value.entities[0]!.attrs), [`${DC}p`]);
    for (const bad of [{}, [{ id: 'x', type: 'T' }], [{ id: 'urn:x:1', type: 'T', p: { avg: [[true, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z']] } }], [{ id: 'urn:x:1', type: 'T', p: 3 }], [{ id: 'urn:x:1', type: 'T', 'in(valid': { avg: [] } }]]) {
      assert.equal(readRemoteAggregates(bad, terms, '2026-01-01T00:00:00Z', false).ok, false, JSON.stringify(bad));
    }
  });
});
