// Shared fixtures of the subscription and notification tests: fake term maps, entities, a subscription builder.
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import type { JsonObject } from '../../src/core/json.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import type { AttrInstance, Entity } from '../../src/core/model/entity.ts';
import type { CompiledSubscription } from '../../src/core/subscription/model.ts';
import { parseSubscription, type SubscriptionLimits } from '../../src/core/subscription/parse.ts';

export const DC = 'https://uri.etsi.org/ngsi-ld/default-context/';
export const NGSI = 'https://uri.etsi.org/ngsi-ld/';
export const LOCATION = `${NGSI}location`;
export const EX = 'https://example.org/';

/** The core context alone: unknown terms go to the default vocabulary. */
export const coreTerms: TermMap = {
  expandTerm: (n) => (n === 'location' ? LOCATION : n.includes(':') ? n : DC + n),
  compactIri: (iri) => (iri === LOCATION ? 'location' : iri.startsWith(DC) ? iri.slice(DC.length) : iri),
};

/** A user context defining `Building`, `temp` (→ ex:temperature) and `owner` in https://example.org/. */
const USER: Record<string, string> = { Building: `${EX}Building`, temp: `${EX}temperature`, owner: `${EX}owner`, where: `${EX}where` };
export const userTerms: TermMap = {
  expandTerm: (n) => USER[n] ?? coreTerms.expandTerm(n),
  compactIri: (iri) => Object.entries(USER).find(([, v]) => v === iri)?.[0] ?? coreTerms.compactIri(iri),
};

export const LIMITS: SubscriptionLimits = { maxQueryLength: 256, maxIdPatternLength: 64, maxGeometryVertices: 100 };
export const NOW = '2024-05-01T10:00:00Z';
export const FUTURE = '2030-01-01T00:00:00Z';
export const PAST = '2020-01-01T00:00:00Z';
export const SUB_ID = 'urn:ngsi-ld:Subscription:s1';
export const ENDPOINT = 'http://receiver.example:8080/notify';

/** A valid subscription payload with `over` merged at the top level. */
export function payload(over: JsonObject = {}): JsonObject {
  return {
    id: SUB_ID,
    type: 'Subscription',
    entities: [{ type: 'Room' }],
    notification: { endpoint: { uri: ENDPOINT } },
    ...over,
  };
}

export function compile(over: JsonObject = {}, terms: TermMap = coreTerms): CompiledSubscription {
  return parseSubscription(payload(over), terms, LIMITS, NOW).compiled;
}

export function badRequest(fn: () => unknown, detail?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof NgsiError, `expected an NgsiError, got ${String(err)}`);
    assert.equal(err.kind, 'BadRequestData', err.detail);
    if (detail) assert.match(err.detail, detail);
    return true;
  });
}

export const C = '2024-01-01T00:00:00Z';
export const M = '2024-04-01T00:00:00Z';
export const M2 = '2024-05-01T09:59:00Z';

export function inst(i: Omit<AttrInstance, 'createdAt' | 'modifiedAt'>, modifiedAt = M): AttrInstance {
  return { ...i, createdAt: C, modifiedAt };
}

export function room(attrs: Entity['attrs'] = {}, over: Partial<Entity> = {}): Entity {
  return { id: 'urn:ngsi-ld:Room:1', types: [`${DC}Room`], createdAt: C, modifiedAt: M, attrs, ...over };
}

export const prop = (value: number | string, extra: Partial<AttrInstance> = {}, modifiedAt = M): AttrInstance =>
  inst({ type: 'Property', value, ...extra }, modifiedAt);
