// Geo-queries (GS CIM 009 §4.10, §5.2.13; guide §10): parsing `georel`/`geometry`/`coordinates`/
// `geoproperty` into a plain GeoQuery, and evaluating it on an entity's GeoProperty.
import { badRequestData } from '../errors.ts';
import type { JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { Entity } from '../model/entity.ts';
import { GEOMETRY_TYPES, validateGeometry } from '../model/geojson.ts';
import { isValidName } from '../names.ts';
import { geometryDistance } from './geo-distance.ts';
import { contains, disjoint, equals, intersects, overlaps, within } from './geo-relate.ts';
import type { GeoGeometry } from './geo-types.ts';

export const GEO_RELATIONS = ['within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps'] as const;
export type GeoRelation = (typeof GEO_RELATIONS)[number];

/** `near;maxDistance==d` (target at most d metres away) or `near;minDistance==d` (at least d metres). */
export type GeoRel =
  | { op: 'near'; limit: 'maxDistance' | 'minDistance'; metres: number }
  | { op: GeoRelation };

export interface GeoQuery {
  georel: GeoRel;
  /** The reference geometry, validated. */
  geometry: GeoGeometry;
  /** The GeoProperty compared (the target), an FQN; `location` by default. */
  geoproperty: string;
}

export interface GeoQueryInput {
  georel?: string;
  geometry?: string;
  /** JSON text (GET) or an already parsed array / JSON text (POST query, subscription geoQ). */
  coordinates?: string | JsonValue;
  geoproperty?: string;
}

export interface GeoQueryLimits {
  /** Maximum number of positions in the reference geometry. */
  maxGeometryVertices: number;
}

const DISTANCE = /^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const TITLE = 'Invalid geo-query';

const fail = (detail: string): never => {
  throw badRequestData(`Invalid geo-query: ${detail}`, TITLE);
};

/**
 * Parses the geo-query members; undefined when none of georel, geometry and coordinates is given (a lone
 * `geoproperty` selects nothing and is ignored). All three or none, else BadRequestData.
 */
export function parseGeoQuery(input: GeoQueryInput, terms: TermMap, limits: GeoQueryLimits): GeoQuery | undefined {
  const { georel, geometry, coordinates, geoproperty } = input;
  const given = { georel, geometry, coordinates };
  const present = Object.entries(given).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (present.length === 0) return undefined;
  if (present.length < 3) {
    const missing = Object.keys(given).filter((k) => !present.includes(k));
    fail(`${present.join(' and ')} given without ${missing.join(' and ')} (georel, geometry and coordinates go together)`);
  }
  const rel = parseGeorel(georel!);
  if (!GEOMETRY_TYPES.has(geometry!)) {
    fail(`geometry "${geometry}" is not one of ${[...GEOMETRY_TYPES].join(', ')}`);
  }
  const coords = parseCoordinates(coordinates!);
  const candidate = { type: geometry!, coordinates: coords };
  const problem = validateGeometry(candidate, limits.maxGeometryVertices);
  if (problem !== null) fail(`coordinates do not form a valid ${geometry}: ${problem}`);
  const name = geoproperty ?? 'location';
  if (!isValidName(name)) fail(`geoproperty "${name}" is not a valid attribute name`);
  return { georel: rel, geometry: candidate as GeoGeometry, geoproperty: terms.expandTerm(name) };
}

function parseGeorel(text: string): GeoRel {
  if ((GEO_RELATIONS as readonly string[]).includes(text)) return { op: text as GeoRelation };
  const parts = text.split(';');
  if (parts[0] !== 'near') {
    fail(`georel "${text}" is not one of near;maxDistance==<metres>, near;minDistance==<metres>, ${GEO_RELATIONS.join(', ')}`);
  }
  if (parts.length !== 2) {
    fail(`georel "${text}": near takes exactly one modifier, maxDistance==<metres> or minDistance==<metres>`);
  }
  const m = /^(maxDistance|minDistance)==(.*)$/.exec(parts[1]);
  if (m === null) fail(`georel "${text}": the near modifier must be maxDistance==<metres> or minDistance==<metres>`);
  const metres = Number(m![2]);
  if (!DISTANCE.test(m![2]) || !Number.isFinite(metres) || metres <= 0) {
    fail(`georel "${text}": ${m![1]} must be a finite positive number of metres, not "${m![2]}"`);
  }
  return { op: 'near', limit: m![1] as 'maxDistance' | 'minDistance', metres };
}

function parseCoordinates(c: string | JsonValue): JsonValue {
  if (typeof c !== 'string') return c;
  try {
    return JSON.parse(c) as JsonValue;
  } catch {
    return fail(`coordinates "${c.length > 60 ? `${c.slice(0, 60)}…` : c}" are not JSON (e.g. [8,40] or [[8,40],[9,41]])`);
  }
}

/** Entity GeoProperty values are validated on write; this bound only guards the evaluator's assumptions. */
const STORED_VERTEX_BOUND = Number.MAX_SAFE_INTEGER;

/**
 * True when some instance of the entity's GeoProperty (the target) stands in the relation to the
 * reference geometry. Entities without that GeoProperty never match — not even `disjoint`.
 */
export function evaluateGeoQuery(q: GeoQuery, entity: Entity): boolean {
  const instances = Object.hasOwn(entity.attrs, q.geoproperty) ? entity.attrs[q.geoproperty] : [];
  return instances.some((inst) => {
    if (inst.type !== 'GeoProperty' || validateGeometry(inst.value, STORED_VERTEX_BOUND) !== null) return false;
    return relates(q.georel, inst.value as unknown as GeoGeometry, q.geometry);
  });
}

/** The relation between a target geometry and the reference (target first, as in the OGC predicates). */
export function relates(rel: GeoRel, target: GeoGeometry, reference: GeoGeometry): boolean {
  switch (rel.op) {
    case 'near': {
      const d = geometryDistance(target, reference);
      return rel.limit === 'maxDistance' ? d <= rel.metres : d >= rel.metres;
    }
    case 'within':
      return within(target, reference);
    case 'contains':
      return contains(target, reference);
    case 'intersects':
      return intersects(target, reference);
    case 'equals':
      return equals(target, reference);
    case 'disjoint':
      return disjoint(target, reference);
    case 'overlaps':
      return overlaps(target, reference);
  }
}
