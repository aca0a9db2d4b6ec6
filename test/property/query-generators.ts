// Seeded random generators for the query differential suites (issue 4 §3): entities in the internal model
// (GS CIM 009 §4.5, every attribute kind) and EntityQuery values (q §4.9, scopeQ §4.19, type selection §4.17,
// geo-queries §4.10, orderBy, pagination §4.12), built directly as ASTs. No dependencies: a hand-rolled PRNG
// so that a failing seed replays exactly.
import { RE2JS } from 're2js';
import type { AttrInstance, AttrKind, Entity } from '../../src/core/model/entity.ts';
import type { JsonValue } from '../../src/core/json.ts';
import type { EntityQuery, EntitySelector, OrderKey, PageRequest } from '../../src/core/query/entity-query.ts';
import type { GeoQuery } from '../../src/core/query/geo-query.ts';
import type { ScopeExpr } from '../../src/core/query/scope-q.ts';
import type { TypeExpr } from '../../src/core/query/type-expr.ts';
import { HOSTILE_STRINGS, ATTRS, COMMON_KEYS, SUB_ATTRS, TYPES, JSON_KEYS, STRING_POOL, NUMBER_POOL, DATE_TIMES, DATES, TIMES, SCOPES, CENTRES } from './query-pools.ts';
import { genGeometry, genQExpr } from './query-gen-q.ts';
import { createRng, type Rng } from '../support/prng.ts';

export { HOSTILE_STRINGS, ATTRS, TYPES };

/** The shared seeded PRNG (test/support/prng.ts); re-exported for the query suites that import it from here. */
export { createRng, type Rng };

const T_BASE = Date.UTC(2024, 0, 1);

/** An ISO timestamp with millisecond precision; few distinct values, so orderings have ties. */
export function genTimestamp(rng: Rng): string {
  return new Date(T_BASE + rng.int(0, 40) * 3_600_000 + rng.pick([0, 0, 1, 999])).toISOString();
}

/** A scalar or structured JSON value as a Property may hold (never null at the top). */
export function genJsonValue(rng: Rng, depth = 0): JsonValue {
  const r = rng.int(0, depth > 1 ? 6 : 10);
  switch (r) {
    case 0:
    case 1:
      return rng.pick(NUMBER_POOL) + (rng.bool(0.2) ? rng.pick([0.5, -0.25, 1e-9]) : 0);
    case 2:
    case 3:
      return rng.pick(STRING_POOL);
    case 4:
      return rng.pick([...DATE_TIMES, ...DATES, ...TIMES]);
    case 5:
      return rng.bool();
    case 6:
      return rng.pick(HOSTILE_STRINGS);
    case 7:
    case 8: {
      const out: JsonValue[] = [];
      for (let i = rng.int(0, 4); i > 0; i--) out.push(rng.bool(0.1) ? null : genJsonValue(rng, depth + 1));
      return out;
    }
    case 9: {
      // A typed literal compares as its @value (§4.6.3); near-misses (extra key, no @type, odd @type or
      // @value) are plain objects.
      const inner: JsonValue = rng.pick<JsonValue>([...DATE_TIMES, ...DATES, 7, 'x', 'red', true, null, [1], { a: 1 }]);
      const lit: Record<string, JsonValue> = { '@type': rng.pick<JsonValue>(['DateTime', 'Date', 'https://kend.test/ns/Custom', 5]), '@value': inner };
      const r2 = rng.int(0, 5);
      if (r2 === 0) lit.extra = 1;
      else if (r2 === 1) delete lit['@type'];
      return lit;
    }
    default: {
      const out: Record<string, JsonValue> = {};
      for (let i = rng.int(0, 4); i > 0; i--) out[rng.bool(0.7) ? rng.pick(COMMON_KEYS) : rng.pick(JSON_KEYS)] = rng.bool(0.1) ? null : genJsonValue(rng, depth + 1);
      return out;
    }
  }
}

function genLanguageMap(rng: Rng): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const tag of rng.subset(['en', 'fr', 'de', 'EN-GB', 'pt-BR', '@none'], 0.4)) {
    out[tag] = rng.bool(0.7) ? rng.pick(STRING_POOL) : rng.subset(STRING_POOL, 0.15).slice(0, 3);
  }
  return out;
}

const urn = (rng: Rng): string => rng.pick(['urn:ngsi-ld:Thing:1', 'urn:ngsi-ld:Thing:2', 'urn:ngsi-ld:Building:b', ...DATE_TIMES.slice(0, 1), rng.pick(HOSTILE_STRINGS)]);

/** One attribute instance of the given kind, with random metadata and (rarely) sub-attributes. */
export function genInstance(rng: Rng, kind: AttrKind, depth = 0): AttrInstance {
  const inst: AttrInstance = { type: kind, createdAt: genTimestamp(rng), modifiedAt: genTimestamp(rng) };
  switch (kind) {
    case 'Property':
      inst.value = genJsonValue(rng);
      break;
    case 'GeoProperty':
      inst.value = genGeometry(rng, rng.pick(CENTRES), true) as unknown as JsonValue;
      break;
    case 'Relationship':
      inst.object = rng.bool(0.8) ? urn(rng) : [urn(rng), urn(rng)];
      break;
    case 'ListRelationship':
      inst.objectList = Array.from({ length: rng.int(0, 3) }, () => urn(rng));
      break;
    case 'LanguageProperty':
      inst.languageMap = genLanguageMap(rng);
      break;
    case 'VocabProperty':
      inst.vocab = rng.bool(0.7) ? rng.pick(STRING_POOL) : rng.subset(STRING_POOL, 0.2).slice(0, 3);
      break;
    case 'JsonProperty': {
      const v = genJsonValue(rng, 1);
      inst.json = typeof v === 'object' && v !== null ? v : { k: v };
      break;
    }
    case 'ListProperty':
      inst.valueList = Array.from({ length: rng.int(0, 4) }, () => genJsonValue(rng, 1));
      break;
  }
  if (rng.bool(0.3)) inst.observedAt = rng.pick(DATE_TIMES);
  if (rng.bool(0.2)) inst.unitCode = rng.pick(['CEL', 'MTR', 'A"B', '']);
  if (rng.bool(0.05)) inst.expiresAt = rng.pick(DATE_TIMES);
  if (depth < 2 && rng.bool(0.35)) {
    inst.attrs = {};
    for (const sub of rng.subset(SUB_ATTRS, 0.5)) {
      inst.attrs[sub] = genInstances(rng, sub, depth + 1);
    }
  }
  return inst;
}

const KINDS: readonly AttrKind[] = ['Property', 'Relationship', 'GeoProperty', 'LanguageProperty', 'VocabProperty', 'JsonProperty', 'ListProperty', 'ListRelationship'];

/** The usual kind of an attribute name (so queries meet the data), sometimes another one. */
function kindFor(rng: Rng, attr: string): AttrKind {
  const usual = ATTRS.find((a) => a.name === attr)?.kind ?? 'Property';
  return rng.bool(0.85) ? usual : rng.pick(KINDS);
}

/** The instances of one attribute: a default instance and/or datasetId instances. */
function genInstances(rng: Rng, attr: string, depth: number): AttrInstance[] {
  const count = rng.bool(0.75) ? 1 : rng.int(1, 3);
  const out: AttrInstance[] = [];
  const datasets = ['urn:ngsi-ld:Dataset:a', 'urn:ngsi-ld:Dataset:b', 'urn:ngsi-ld:Dataset:c'];
  for (let i = 0; i < count; i++) {
    const inst = genInstance(rng, kindFor(rng, attr), depth);
    // The default instance (no datasetId) is not always first, nor always present.
    if (!(i === 0 && rng.bool(0.7))) inst.datasetId = datasets[i % datasets.length];
    out.push(inst);
  }
  return out;
}

/** One random entity; `id` is given so a population controls uniqueness (and reuse across tenants). */
export function genEntity(rng: Rng, id: string): Entity {
  const types = rng.subset(TYPES, 0.3);
  if (types.length === 0) types.push(rng.pick(TYPES));
  const e: Entity = { id, types, createdAt: genTimestamp(rng), modifiedAt: genTimestamp(rng), attrs: {} };
  if (rng.bool(0.5)) e.scope = rng.subset(SCOPES, 0.25).slice(0, 3);
  if (e.scope?.length === 0) delete e.scope;
  for (const a of ATTRS) {
    if (rng.bool(a.frequency)) e.attrs[a.name] = genInstances(rng, a.name, 0);
  }
  return e;
}

/** Entity ids: mostly plain URNs, some hostile (quotes, NUL, unicode, SQL, JSON-path metacharacters). */
export function genIds(rng: Rng, count: number): string[] {
  const ids = new Set<string>();
  for (let i = 0; ids.size < count; i++) {
    ids.add(rng.bool(0.1) ? `urn:ngsi-ld:X:${rng.pick(HOSTILE_STRINGS)}${i}` : `urn:ngsi-ld:${rng.pick(['Sensor', 'Room', 'Car'])}:${rng.int(0, count * 3)}`);
  }
  return [...ids];
}

function genTypeExpr(rng: Rng, depth = 0): TypeExpr {
  const r = rng.int(0, depth > 1 ? 3 : 6);
  if (r === 0) return { op: 'any' };
  if (r <= 3) return { op: 'type', name: rng.bool(0.9) ? rng.pick(TYPES) : rng.pick(HOSTILE_STRINGS) };
  const items = Array.from({ length: rng.int(2, 3) }, () => genTypeExpr(rng, depth + 1));
  return { op: rng.bool() ? 'and' : 'or', items };
}

/** A valid RE2 pattern, sometimes built from a hostile string (quoted, or raw when it compiles). */
export function genPattern(rng: Rng, known: readonly string[]): string {
  const r = rng.int(0, 6);
  if (r === 0) return rng.pick(['^urn:ngsi-ld:Sensor:', 'Room:1', '^urn:ngsi-ld:(Car|Room):[0-9]$', '.*', 'é', '😀', '^$', '\\d{2}$']);
  if (r === 1) {
    const raw = rng.pick(HOSTILE_STRINGS);
    try {
      RE2JS.compile(raw);
      return raw;
    } catch {
      return RE2JS.quote(raw);
    }
  }
  if (r === 2) return RE2JS.quote(rng.pick(HOSTILE_STRINGS));
  const id = rng.pick(known);
  const cut = rng.int(1, Math.max(1, id.length));
  return r === 3 ? `^${RE2JS.quote(id.slice(0, cut))}` : RE2JS.quote(id.slice(cut - 1));
}

function genSelector(rng: Rng, ids: readonly string[]): EntitySelector {
  const s: EntitySelector = {};
  if (rng.bool(0.6)) s.type = genTypeExpr(rng);
  if (rng.bool(0.2)) s.ids = [...rng.subset(ids, 0.05).slice(0, 5), ...(rng.bool(0.3) ? [rng.pick(HOSTILE_STRINGS)] : [])];
  if (rng.bool(0.3)) s.idPattern = { source: genPattern(rng, ids) };
  return s;
}

function genScope(rng: Rng, depth = 0): ScopeExpr {
  const r = rng.int(0, depth > 1 ? 4 : 6);
  if (r === 0) return { type: 'any' };
  if (r <= 4) {
    const base = rng.pick(SCOPES).split('/').slice(1);
    const levels = base.slice(0, rng.int(1, base.length)).map((l) => (rng.bool(0.2) ? '+' : l));
    return { type: 'scope', levels, descendants: rng.bool(0.4) };
  }
  return { type: rng.bool() ? 'and' : 'or', items: [genScope(rng, depth + 1), genScope(rng, depth + 1)] };
}

/** A geo-query of any georel on `location`, `observationSpace` or an attribute no entity has. */
export function genGeoQuery(rng: Rng): GeoQuery {
  const centre = rng.pick(CENTRES);
  const op = rng.pick(['near', 'near', 'within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps'] as const);
  const georel: GeoQuery['georel'] =
    op === 'near' ? { op, limit: rng.bool(0.7) ? 'maxDistance' : 'minDistance', metres: rng.pick([1, 50, 500, 1000, 5000, 20000, 300000]) } : { op };
  const geoproperty = rng.pick(['https://uri.etsi.org/ngsi-ld/location', 'https://uri.etsi.org/ngsi-ld/location', 'https://uri.etsi.org/ngsi-ld/observationSpace', 'https://kend.test/ns/nowhere']);
  return { georel, geometry: genGeometry(rng, centre, false), geoproperty };
}

function genOrder(rng: Rng): OrderKey[] {
  const keys: OrderKey[] = [];
  for (let i = rng.int(1, 3); i > 0; i--) {
    const desc = rng.bool();
    const r = rng.int(0, 5);
    if (r === 0) keys.push({ kind: 'id', desc });
    else if (r === 1) keys.push({ kind: 'createdAt', desc });
    else if (r === 2) keys.push({ kind: 'modifiedAt', desc });
    else keys.push({ kind: 'attr', attr: rng.pick(ATTRS).name, desc });
  }
  return keys;
}

/** A random query; `ids` are ids of the population (so id filters and idPatterns meet the data). */
export function genQuery(rng: Rng, ids: readonly string[]): EntityQuery {
  const q: EntityQuery = {};
  if (rng.bool(0.4)) q.selectors = Array.from({ length: rng.int(1, 2) }, () => genSelector(rng, ids));
  if (rng.bool(0.1)) q.attrs = rng.subset(ATTRS.map((a) => a.name), 0.2).slice(0, 3);
  if (rng.bool(0.7)) q.q = genQExpr(rng);
  if (rng.bool(0.12)) q.scopeQ = genScope(rng);
  if (rng.bool(0.12)) q.geo = genGeoQuery(rng);
  if (rng.bool(0.4)) q.order = genOrder(rng);
  return q;
}

export function genPage(rng: Rng): PageRequest {
  return { limit: rng.pick([0, 1, 3, 10, 20, 50, 1000]), offset: rng.pick([0, 0, 0, 1, 5, 20]), count: rng.bool() };
}

export { genQExpr, genGeometry };
