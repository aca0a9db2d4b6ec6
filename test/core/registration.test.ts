// Unit tests of the registration core (GS CIM 009 §5.2.9, §5.9, §5.10.2, §5.12, §4.20; guide §16): parsing
// and names, PATCH semantics, operation groups, the query semantics on registrations, mode conflicts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import type { JsonObject } from '../../src/core/json.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import { findModeConflict } from '../../src/core/registration/conflicts.ts';
import { viewOf } from '../../src/core/registration/model.ts';
import { expandOperations, writeOperationsIn } from '../../src/core/registration/operations.ts';
import { compactRegistration, parseRegistration, patchRegistration } from '../../src/core/registration/parse.ts';
import { geometryMayMatch, matchesRegistration, matchingInformation, type RegistrationQuery } from '../../src/core/registration/query.ts';
import { triggerOf } from '../../src/core/registration/csource-subscription.ts';
import { parseQ } from '../../src/core/query/q-parse.ts';

const NGSI = 'https://uri.etsi.org/ngsi-ld/';
const DC = `${NGSI}default-context/`;
const EX = 'https://example.org/';
const CORE = new Set(['endpoint', 'mode', 'location', 'description', 'registrationName', 'ContextSourceRegistration']);
const USER: Record<string, string> = { Station: `${EX}Station`, temp: `${EX}temperature`, owner: `${EX}owner` };
const terms: TermMap = {
  expandTerm: (n) => USER[n] ?? (CORE.has(n) ? NGSI + n : n.includes('://') ? n : DC + n),
  compactIri: (iri) => Object.entries(USER).find(([, v]) => v === iri)?.[0] ?? (iri.startsWith(DC) ? iri.slice(DC.length) : iri.startsWith(NGSI) && CORE.has(iri.slice(NGSI.length)) ? iri.slice(NGSI.length) : iri),
};
const LIMITS = { maxIdPatternLength: 64, maxGeometryVertices: 100 };
const NOW = '2030-01-01T00:00:00Z';
const ID = 'urn:ngsi-ld:ContextSourceRegistration:r1';

const body = (over: JsonObject = {}): JsonObject => ({
  id: ID,
  type: 'ContextSourceRegistration',
  information: [{ entities: [{ type: 'Station' }], propertyNames: ['temp'] }],
  endpoint: 'http://village.example/',
  ...over,
});
const parse = (over: JsonObject = {}, options = {}) => parseRegistration(body(over), terms, LIMITS, NOW, options);
const bad = (fn: () => unknown, detail: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof NgsiError && e.kind === 'BadRequestData' && detail.test(e.detail));

describe('parseRegistration', () => {
  test('stores names expanded and compacts them back; read-only members are dropped', () => {
    const { payload } = parse({ owner: 'ministry', timesSent: 4, status: 'ok' });
    assert.deepEqual(payload, {
      id: ID,
      type: 'ContextSourceRegistration',
      information: [{ entities: [{ type: `${EX}Station` }], propertyNames: [`${EX}temperature`] }],
      endpoint: 'http://village.example/',
      [`${EX}owner`]: 'ministry',
    });
    assert.deepEqual(compactRegistration(payload, terms), { ...body(), owner: 'ministry' });
  });

  test('an extra property may not be written twice under two names, nor shadow a member', () => {
    bad(() => parse({ owner: 1, [`${EX}owner`]: 2 }), /name the same registration property/);
    bad(() => parse({ [`${NGSI}endpoint`]: 'http://x/' }), /names the registration member endpoint/);
  });

  test('the destination policy is asked about the endpoint', () => {
    bad(() => parse({}, { checkEndpoint: (uri: string) => (uri.includes('village') ? 'denied for the test' : null) }), /denied for the test/);
  });

  test('mode rules: exclusive needs ids and names; auxiliary offers no writes', () => {
    const pinned = { information: [{ entities: [{ type: 'Station', id: 'urn:x:1' }], propertyNames: ['temp'] }] };
    assert.equal(parse({ mode: 'exclusive', ...pinned }).view.mode, 'exclusive');
    bad(() => parse({ mode: 'exclusive' }), /needs an entity id/);
    assert.equal(parse({ mode: 'auxiliary', operations: ['retrieveOps', 'queryBatch'] }).view.mode, 'auxiliary');
    assert.equal(parse({ mode: 'auxiliary' }).view.mode, 'auxiliary', 'federationOps (the default) holds no writes');
    bad(() => parse({ mode: 'auxiliary', operations: ['mergeEntity'] }), /only offer retrieval operations, not mergeEntity/);
  });
});

describe('operations', () => {
  test('groups expand to their operations; writes are found inside groups', () => {
    assert.ok(expandOperations(undefined).has('queryEntity'));
    assert.ok(!expandOperations(undefined).has('createEntity'));
    assert.deepEqual([...expandOperations(['retrieveOps'])], ['retrieveEntity', 'queryEntity']);
    assert.deepEqual(writeOperationsIn(['updateOps', 'retrieveEntity']), ['updateEntity', 'updateAttrs', 'replaceEntity', 'replaceAttrs']);
  });
});

describe('patchRegistration', () => {
  test('members are replaced whole, null removes, a property written with its full name replaces the short one', () => {
    const stored = parse({ owner: 'a', description: 'd', expiresAt: '2031-01-01T00:00:00Z' }).payload;
    const { payload } = patchRegistration(stored, { [`${EX}owner`]: 'b', description: null, expiresAt: null, information: [{ propertyNames: ['x'] }] }, terms, LIMITS, NOW);
    assert.equal(payload[`${EX}owner`], 'b');
    assert.equal(payload.description, undefined);
    assert.equal(payload.expiresAt, undefined);
    assert.deepEqual(payload.information, [{ propertyNames: [`${DC}x`] }]);
  });

  test('an expired registration stays patchable unless the fragment sets a past expiry', () => {
    const stored = { ...parse().payload, expiresAt: '2020-01-01T00:00:00Z' };
    assert.equal(patchRegistration(stored, { description: 'x' }, terms, LIMITS, NOW).payload.description, 'x');
    bad(() => patchRegistration(stored, { expiresAt: '2021-01-01T00:00:00Z' }, terms, LIMITS, NOW), /not in the future/);
    bad(() => patchRegistration(stored, { endpoint: null }, terms, LIMITS, NOW), /mandatory/);
  });
});

describe('matching registrations', () => {
  const view = (over: JsonObject = {}) => viewOf(parse(over).payload);
  const q = (text: string) => parseQ(text, terms, { maxLength: 200 });
  const query = (over: Partial<RegistrationQuery>): RegistrationQuery => ({ latestOnly: false, ...over });

  test('q: registration properties are tested; other attributes must be listed by the element', () => {
    const v = view({ owner: 'ministry' });
    assert.ok(matchesRegistration(query({ q: q('owner=="ministry"') }), v, NOW));
    assert.ok(!matchesRegistration(query({ q: q('owner=="village"') }), v, NOW));
    assert.ok(matchesRegistration(query({ q: q('temp>20') }), v, NOW));
    assert.ok(!matchesRegistration(query({ q: q('humidity>20') }), v, NOW));
    assert.ok(matchesRegistration(query({ q: q('!humidity') }), v, NOW));
    assert.ok(matchesRegistration(query({ csf: q('endpoint=="http://village.example/"') }), v, NOW));
    assert.ok(!matchesRegistration(query({ csf: q('temp>20') }), v, NOW), 'csf never looks at information');
  });

  test('expired registrations never match; only the matching information elements are kept', () => {
    assert.ok(!matchesRegistration(query({}), view({ expiresAt: '2030-06-01T00:00:00Z' }), '2030-06-01T00:00:00Z'));
    const two = view({ information: [{ entities: [{ type: 'Lamp' }] }, { entities: [{ type: 'Station' }] }] });
    assert.deepEqual(matchingInformation(query({ selectors: [{ type: { op: 'type', name: `${EX}Station` } }] }), two, NOW), [1]);
  });

  test('a geometry may hold entities in relation to the reference', () => {
    const area = { type: 'Polygon' as const, coordinates: [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]] };
    const inside = { type: 'Polygon' as const, coordinates: [[[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1], [0.5, 0.5]]] };
    const far = { type: 'Point' as const, coordinates: [10, 10] };
    assert.ok(geometryMayMatch({ op: 'within' }, area, inside), 'an area overlapping the reference may hold entities within it');
    assert.ok(!geometryMayMatch({ op: 'within' }, far, inside));
    assert.ok(!geometryMayMatch({ op: 'disjoint' }, inside, area), 'all inside the reference: nothing can be disjoint from it');
    assert.ok(geometryMayMatch({ op: 'disjoint' }, area, inside));
    assert.ok(geometryMayMatch({ op: 'near', limit: 'maxDistance', metres: 2000 }, { type: 'Point', coordinates: [0, 0] }, { type: 'Point', coordinates: [0, 0.01] }));
    assert.ok(!geometryMayMatch({ op: 'near', limit: 'maxDistance', metres: 500 }, { type: 'Point', coordinates: [0, 0] }, { type: 'Point', coordinates: [0, 0.01] }));
  });

  test('time intervals overlap the temporal query; latestOnly keeps registrations without intervals', () => {
    const hist = view({ observationInterval: { startAt: '2020-01-01T00:00:00Z', endAt: '2021-01-01T00:00:00Z' } });
    const window = (rel: 'before' | 'after', ms: number) => ({ property: 'observedAt' as const, rel, ...(rel === 'before' ? { toMs: ms } : { fromMs: ms }) });
    assert.ok(matchesRegistration(query({ temporal: window('before', Date.parse('2020-06-01T00:00:00Z')) }), hist, NOW));
    assert.ok(!matchesRegistration(query({ temporal: window('after', Date.parse('2021-06-01T00:00:00Z')) }), hist, NOW));
    assert.ok(!matchesRegistration(query({ latestOnly: true }), hist, NOW));
    assert.ok(matchesRegistration(query({ latestOnly: true }), view(), NOW));
  });

  test('triggerOf tells newly matching, updated and no longer matching apart', () => {
    const rec = (over: JsonObject) => ({ id: ID, payload: parse(over).payload, createdAt: NOW, modifiedAt: NOW, forwarding: { timesSent: 0, timesFailed: 0 } });
    const stations: RegistrationQuery = { latestOnly: true, selectors: [{ type: { op: 'type', name: `${EX}Station` } }] };
    const lamp = rec({ information: [{ entities: [{ type: 'Lamp' }] }] });
    assert.equal(triggerOf(stations, null, rec({}), NOW)?.reason, 'newlyMatching');
    assert.equal(triggerOf(stations, rec({}), rec({ owner: 'x' }), NOW)?.reason, 'updated');
    assert.equal(triggerOf(stations, rec({}), lamp, NOW)?.reason, 'noLongerMatching');
    assert.equal(triggerOf(stations, rec({}), null, NOW)?.reason, 'noLongerMatching');
    assert.equal(triggerOf(stations, lamp, null, NOW), null);
  });
});

describe('mode conflicts', () => {
  const reg = (id: string, mode: string, info: JsonObject) => viewOf(parse({ id, mode, information: [info] }).payload);
  const valve = (id: string, attrs: string[]) => ({ entities: [{ type: 'Valve', id }], propertyNames: attrs });

  test('exclusive vs exclusive needs a shared entity and attribute; redirect vs exclusive too; redirects may overlap', () => {
    const x1 = reg('urn:r:1', 'exclusive', valve('urn:v:1', ['flow']));
    assert.equal(findModeConflict(reg('urn:r:2', 'exclusive', valve('urn:v:1', ['flow', 'open'])), [x1])?.id, 'urn:r:1');
    assert.equal(findModeConflict(reg('urn:r:3', 'exclusive', valve('urn:v:1', ['open'])), [x1]), undefined);
    assert.equal(findModeConflict(reg('urn:r:4', 'exclusive', valve('urn:v:2', ['flow'])), [x1]), undefined);
    assert.equal(findModeConflict(reg('urn:r:5', 'redirect', { entities: [{ type: 'Valve' }] }), [x1])?.id, 'urn:r:1');
    assert.equal(findModeConflict(reg('urn:r:6', 'redirect', { entities: [{ type: 'Pump' }] }), [x1]), undefined);
    const d1 = reg('urn:r:7', 'redirect', { entities: [{ type: 'Valve' }] });
    assert.equal(findModeConflict(reg('urn:r:8', 'redirect', { entities: [{ type: 'Valve' }] }), [d1]), undefined);
    assert.equal(findModeConflict(reg('urn:r:9', 'inclusive', valve('urn:v:1', ['flow'])), [x1]), undefined);
    assert.equal(findModeConflict(x1, [x1]), undefined, 'a registration never conflicts with itself');
  });
});
