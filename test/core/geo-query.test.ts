// Geo-query parsing and evaluation (GS CIM 009 §4.10, §5.2.13; guide §10): OGC predicates between the
// entity's GeoProperty (target) and the reference geometry; `near` in geodesic metres.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NgsiError } from '../../src/core/errors.ts';
import type { JsonValue } from '../../src/core/json.ts';
import type { TermMap } from '../../src/core/jsonld/term-map.ts';
import type { AttrInstance, Entity } from '../../src/core/model/entity.ts';
import { evaluateGeoQuery, parseGeoQuery, relates, type GeoQueryInput, type GeoRel } from '../../src/core/query/geo-query.ts';
import { geometryDistance, pointDistance } from '../../src/core/query/geo-distance.ts';
import type { GeoGeometry } from '../../src/core/query/geo-types.ts';

const DEFAULT = 'https://uri.etsi.org/ngsi-ld/default-context/';
const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const terms: TermMap = {
  expandTerm: (name) => (name === 'location' ? LOCATION : name.includes(':') ? name : DEFAULT + name),
  compactIri: (iri) => iri,
};
const LIMITS = { maxGeometryVertices: 100 };
const T0 = '2024-01-01T00:00:00Z';

const parse = (input: GeoQueryInput) => parseGeoQuery(input, terms, LIMITS);

function rejects(input: GeoQueryInput, detail: RegExp): void {
  assert.throws(
    () => parse(input),
    (e: unknown) => {
      assert.ok(e instanceof NgsiError);
      assert.equal(e.kind, 'BadRequestData');
      assert.match(e.detail, detail);
      return true;
    },
    JSON.stringify(input),
  );
}

const square = (x0: number, y0: number, x1: number, y1: number): GeoGeometry => ({
  type: 'Polygon',
  coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
});
const pt = (lon: number, lat: number): GeoGeometry => ({ type: 'Point', coordinates: [lon, lat] });
const line = (...coordinates: number[][]): GeoGeometry => ({ type: 'LineString', coordinates });

const geo = (value: GeoGeometry, extra: Partial<AttrInstance> = {}): AttrInstance => ({
  type: 'GeoProperty',
  value: value as unknown as JsonValue,
  createdAt: T0,
  modifiedAt: T0,
  ...extra,
});
function entity(attrs: Record<string, AttrInstance[]>): Entity {
  return { id: 'urn:ngsi-ld:Thing:1', types: [DEFAULT + 'Thing'], createdAt: T0, modifiedAt: T0, attrs };
}
const at = (g: GeoGeometry): Entity => entity({ [LOCATION]: [geo(g)] });
const query = (georel: string, geometry: GeoGeometry, geoproperty?: string) =>
  parse({ georel, geometry: geometry.type, coordinates: JSON.stringify(geometry.coordinates), geoproperty })!;
const is = (georel: string, target: GeoGeometry, reference: GeoGeometry): boolean => evaluateGeoQuery(query(georel, reference), at(target));

/** Metres per degree of latitude on the model sphere. */
const M_PER_DEG = (Math.PI / 180) * 6371008.8;

describe('parseGeoQuery', () => {
  test('returns undefined when no geo-query is given, even with a lone geoproperty', () => {
    assert.equal(parse({}), undefined);
    assert.equal(parse({ geoproperty: 'observationSpace' }), undefined);
  });

  test('parses near with a distance modifier in metres, decimals allowed', () => {
    assert.deepEqual(parse({ georel: 'near;maxDistance==1500.5', geometry: 'Point', coordinates: '[8,40]' }), {
      georel: { op: 'near', limit: 'maxDistance', metres: 1500.5 },
      geometry: { type: 'Point', coordinates: [8, 40] },
      geoproperty: LOCATION,
    });
    assert.deepEqual(parse({ georel: 'near;minDistance==10', geometry: 'Point', coordinates: [8, 40] })!.georel, { op: 'near', limit: 'minDistance', metres: 10 });
  });

  test('parses every named relation, every geometry, and expands geoproperty', () => {
    for (const op of ['within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps']) {
      assert.deepEqual(parse({ georel: op, geometry: 'Polygon', coordinates: '[[[100,0],[101,0],[101,1],[100,1],[100,0]]]' })!.georel, { op });
    }
    const coords: Record<string, JsonValue> = {
      Point: [8, 40],
      MultiPoint: [[8, 40], [9, 41]],
      LineString: [[8, 40], [9, 41]],
      MultiLineString: [[[8, 40], [9, 41]]],
      Polygon: [[[0, 0], [1, 0], [1, 1], [0, 0]]],
      MultiPolygon: [[[[0, 0], [1, 0], [1, 1], [0, 0]]]],
    };
    for (const [geometry, c] of Object.entries(coords)) {
      assert.deepEqual(parse({ georel: 'intersects', geometry, coordinates: JSON.stringify(c) })!.geometry, { type: geometry, coordinates: c });
    }
    assert.equal(parse({ georel: 'within', geometry: 'Point', coordinates: '[1,2]', geoproperty: 'observationSpace' })!.geoproperty, DEFAULT + 'observationSpace');
  });

  test('requires georel, geometry and coordinates together', () => {
    rejects({ georel: 'within' }, /georel given without geometry and coordinates/);
    rejects({ geometry: 'Point', coordinates: '[1,2]' }, /without georel/);
    rejects({ georel: 'near;maxDistance==5', geometry: 'Point' }, /without coordinates/);
  });

  test('rejects unknown relations and malformed near modifiers', () => {
    const base = { geometry: 'Point', coordinates: '[8,40]' };
    rejects({ ...base, georel: 'touches' }, /"touches" is not one of/);
    rejects({ ...base, georel: 'near' }, /exactly one modifier/);
    rejects({ ...base, georel: 'near;maxDistance==1;minDistance==2' }, /exactly one modifier/);
    rejects({ ...base, georel: 'near;distance==5' }, /maxDistance==<metres> or minDistance/);
    rejects({ ...base, georel: 'near;maxDistance=5' }, /maxDistance==<metres> or minDistance/);
    for (const d of ['0', '-100', 'inf', 'Infinity', '1e400', '', 'NaN', '1e-400', ' 5']) {
      rejects({ ...base, georel: `near;maxDistance==${d}` }, /finite positive number of metres/);
    }
  });

  test('rejects unknown geometries, bad JSON and coordinates that do not fit the geometry', () => {
    rejects({ georel: 'within', geometry: 'Circle', coordinates: '[1,2]' }, /"Circle" is not one of Point/);
    rejects({ georel: 'within', geometry: 'GeometryCollection', coordinates: '[]' }, /is not one of/);
    rejects({ georel: 'within', geometry: 'Point', coordinates: '[1,2' }, /not JSON/);
    rejects({ georel: 'within', geometry: 'Point', coordinates: '[[1,2]]' }, /valid Point/);
    rejects({ georel: 'within', geometry: 'Polygon', coordinates: '[[[0,0],[1,0],[1,1],[0,1]]]' }, /not closed/);
    rejects({ georel: 'within', geometry: 'Point', coordinates: '[8,95]' }, /latitude 95/);
    rejects({ georel: 'within', geometry: 'Point', coordinates: '[1,2]', geoproperty: 'my loc' }, /not a valid attribute name/);
    const many = JSON.stringify(Array.from({ length: 101 }, (_, i) => [i / 1000, 0]));
    rejects({ georel: 'intersects', geometry: 'LineString', coordinates: many }, /more than 100 vertices/);
  });
});

describe('evaluateGeoQuery: near in geodesic metres', () => {
  test('measures point to point distances in metres, also at high latitude', () => {
    // 1 km east at 70°N is about 0.0263° of longitude: right in metres, ~2.9 times off in "degrees".
    const east = 1000 / (M_PER_DEG * Math.cos((70 * Math.PI) / 180));
    assert.ok(Math.abs(pointDistance([10, 70], [10 + east, 70]) - 1000) < 0.5);
    assert.equal(is('near;maxDistance==1010', pt(10 + east, 70), pt(10, 70)), true);
    assert.equal(is('near;maxDistance==990', pt(10 + east, 70), pt(10, 70)), false);
    assert.equal(is('near;minDistance==990', pt(10 + east, 70), pt(10, 70)), true);
    assert.equal(is('near;minDistance==1010', pt(10 + east, 70), pt(10, 70)), false);
  });

  test('keeps longitude first: [lon, lat] positions are not swapped', () => {
    assert.ok(Math.abs(pointDistance([0, 0], [0, 1]) - M_PER_DEG) < 1e-6);
    assert.equal(is('within', pt(2.35, 48.85), square(2, 48, 3, 49)), true);
    assert.equal(is('within', pt(48.85, 2.35), square(2, 48, 3, 49)), false);
  });

  test('measures to the closest point of a polygon, and 0 inside it', () => {
    const poly = square(0, 0, 1, 1);
    const outside = pt(1 + 1000 / M_PER_DEG, 0.5); // 1 km east of the east edge, at the equator
    assert.equal(is('near;maxDistance==2000', outside, poly), true);
    assert.equal(is('near;maxDistance==900', outside, poly), false);
    assert.equal(is('near;maxDistance==1', pt(0.5, 0.5), poly), true);
    assert.equal(is('near;minDistance==1', pt(0.5, 0.5), poly), false);
  });

  test('measures from inside a hole to the hole boundary', () => {
    const holed: GeoGeometry = { type: 'Polygon', coordinates: [square(0, 0, 1, 1).coordinates[0] as number[][], [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6], [0.4, 0.4]]] };
    const d = geometryDistance(pt(0.5, 0.5), holed);
    assert.ok(Math.abs(d - 0.1 * M_PER_DEG) < 20, String(d));
  });

  test('measures to the closest point of a line, not only its vertices', () => {
    const l = line([0, 0], [2, 0]);
    const above = pt(1, 500 / M_PER_DEG);
    assert.equal(is('near;maxDistance==510', above, l), true);
    assert.equal(is('near;maxDistance==490', above, l), false);
  });

  test('measures non-point targets by their closest vertex or edge', () => {
    const l = line([0, 1], [0, 2]);
    assert.ok(Math.abs(geometryDistance(l, pt(0, 0)) - M_PER_DEG) < 1e-3);
    // The closest pair is at 1°N (meridians converge), slightly closer than the pair on the equator.
    assert.ok(Math.abs(geometryDistance(square(2, 0, 3, 1), square(0, 0, 1, 1)) - pointDistance([1, 1], [2, 1])) < 1e-6);
    assert.ok(pointDistance([1, 1], [2, 1]) < M_PER_DEG);
    assert.equal(geometryDistance(line([-1, 0.5], [2, 0.5]), square(0, 0, 1, 1)), 0);
    assert.equal(is('near;maxDistance==1', line([-1, 0.5], [2, 0.5]), square(0, 0, 1, 1)), true);
  });
});

describe('evaluateGeoQuery: OGC relations (target first)', () => {
  const ref = square(0, 0, 2, 2);

  test('within: target inside the reference, not on its boundary only, never in a hole', () => {
    const holed: GeoGeometry = { type: 'Polygon', coordinates: [square(0, 0, 10, 10).coordinates[0] as number[][], square(4, 4, 6, 6).coordinates[0] as number[][]] };
    assert.equal(is('within', pt(1, 1), ref), true);
    assert.equal(is('within', pt(2, 1), ref), false);
    assert.equal(is('within', pt(5, 5), holed), false);
    assert.equal(is('within', pt(2, 2), holed), true);
    assert.equal(is('within', square(1, 1, 9, 9), holed), false);
    assert.equal(is('within', square(0.5, 0.5, 1, 1), ref), true);
    assert.equal(is('within', { type: 'MultiLineString', coordinates: [[[0.5, 0.5], [1, 1]], [[1.2, 1.2], [1.5, 1.5]]] }, ref), true);
    assert.equal(is('within', { type: 'MultiPoint', coordinates: [[1, 1], [3, 3]] }, ref), false);
  });

  test('contains: target contains the reference', () => {
    assert.equal(is('contains', ref, pt(1, 1)), true);
    assert.equal(is('contains', pt(1, 1), ref), false);
    assert.equal(is('contains', { type: 'MultiPolygon', coordinates: [ref.coordinates as number[][][], square(5, 5, 6, 6).coordinates as number[][][]] }, square(5.2, 5.2, 5.8, 5.8)), true);
    assert.equal(is('contains', line([0, 0], [2, 0]), line([0.5, 0], [1, 0])), true);
    assert.equal(is('contains', line([0, 0], [2, 0]), pt(0, 0)), false);
  });

  test('compares lines by segments, not only by vertices', () => {
    const v = line([0, 0], [1, 1], [2, 0]);
    assert.equal(is('contains', v, line([0.5, 0.5], [1.5, 0.5])), false);
    assert.equal(is('contains', line([0, 0], [1, 0], [2, 0]), line([0.5, 0], [1.5, 0])), true);
    assert.equal(is('within', line([0.5, 0], [1.5, 0]), { type: 'MultiLineString', coordinates: [[[0, 0], [1, 0]], [[1, 0], [2, 0]]] }), true);
  });

  test('intersects and disjoint are complementary for entities that have the GeoProperty', () => {
    const cases: [GeoGeometry, boolean][] = [[pt(1, 1), true], [pt(2, 2), true], [pt(3, 3), false], [square(2, 0, 4, 2), true], [line([3, 0], [3, 5]), false]];
    for (const [target, hit] of cases) {
      assert.equal(is('intersects', target, ref), hit, JSON.stringify(target));
      assert.equal(is('disjoint', target, ref), !hit, JSON.stringify(target));
    }
  });

  test('equals: topological equality regardless of ring start or duplicate points', () => {
    assert.equal(is('equals', { type: 'Polygon', coordinates: [[[2, 0], [2, 2], [0, 2], [0, 0], [2, 0]]] }, ref), true);
    assert.equal(is('equals', { type: 'MultiPoint', coordinates: [[1, 1], [1, 1]] }, pt(1, 1)), true);
    assert.equal(is('equals', square(0, 0, 2, 3), ref), false);
    assert.equal(is('equals', pt(1, 1), pt(1, 1.0000001)), false);
  });

  test('overlaps: same dimension, shared interior, neither contains the other', () => {
    assert.equal(is('overlaps', square(1, 1, 3, 3), ref), true);
    assert.equal(is('overlaps', square(2, 0, 4, 2), ref), false);
    assert.equal(is('overlaps', square(0.5, 0.5, 1, 1), ref), false);
    assert.equal(is('overlaps', ref, ref), false);
    assert.equal(is('overlaps', pt(1, 1), ref), false);
    assert.equal(is('overlaps', line([0.5, 0], [3, 0]), line([0, 0], [2, 0])), true);
    assert.equal(is('overlaps', line([0, 0], [2, 0]), line([2, 0], [3, 0])), false);
    assert.equal(is('overlaps', { type: 'MultiPoint', coordinates: [[1, 1], [2, 2]] }, { type: 'MultiPoint', coordinates: [[1, 1], [3, 3]] }), true);
  });

  test('relates is the same predicate with geometries given directly', () => {
    const rel: GeoRel = { op: 'within' };
    assert.equal(relates(rel, pt(1, 1), ref), true);
  });
});

describe('evaluateGeoQuery: which entities take part', () => {
  const q = query('disjoint', square(0, 0, 1, 1));

  test('never matches an entity lacking the GeoProperty, not even for disjoint', () => {
    assert.equal(evaluateGeoQuery(q, entity({})), false);
    const asProperty: AttrInstance = { type: 'Property', value: { type: 'Point', coordinates: [5, 5] }, createdAt: T0, modifiedAt: T0 };
    assert.equal(evaluateGeoQuery(q, entity({ [LOCATION]: [asProperty] })), false);
  });

  test('matches when any instance of a multi-instance GeoProperty matches', () => {
    const e = entity({ [LOCATION]: [geo(pt(0.5, 0.5)), geo(pt(5, 5), { datasetId: 'urn:ds:gps' })] });
    assert.equal(evaluateGeoQuery(q, e), true);
    assert.equal(evaluateGeoQuery(query('within', square(0, 0, 1, 1)), e), true);
    assert.equal(evaluateGeoQuery(query('within', square(10, 10, 11, 11)), e), false);
  });

  test('uses the named geoproperty instead of location', () => {
    const e = entity({ [LOCATION]: [geo(pt(50, 50))], [DEFAULT + 'observationSpace']: [geo(square(0, 0, 1, 1))] });
    assert.equal(evaluateGeoQuery(query('intersects', pt(0.5, 0.5), 'observationSpace'), e), true);
    assert.equal(evaluateGeoQuery(query('intersects', pt(0.5, 0.5)), e), false);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property test: consistency laws between the predicates on random geometries (fixed seeds).

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('geo predicates: laws on random geometries', () => {
  function randomGeometry(rand: () => number): GeoGeometry {
    // A coarse grid makes touching, shared edges and shared vertices frequent.
    const c = (): number => Math.floor(rand() * 7) / 2;
    const k = rand();
    if (k < 0.35) return pt(c(), c());
    if (k < 0.5) return line([c(), c()], [c(), c()], [c(), c()]);
    if (k < 0.6) return { type: 'MultiPoint', coordinates: [[c(), c()], [c(), c()]] };
    if (k < 0.65) return { type: 'MultiLineString', coordinates: [[[c(), c()], [c(), c()]], [[c(), c()], [c(), c()]]] };
    const box = (): number[][][] => {
      const x = c();
      const y = c();
      return square(x, y, x + 0.5 + Math.floor(rand() * 4) / 2, y + 0.5 + Math.floor(rand() * 4) / 2).coordinates as number[][][];
    };
    if (k < 0.75) return { type: 'MultiPolygon', coordinates: [box(), box()] };
    if (k < 0.85) {
      const x = c();
      const y = c();
      const hole = square(x + 0.5, y + 0.5, x + 1, y + 1).coordinates[0] as number[][];
      return { type: 'Polygon', coordinates: [square(x, y, x + 1.5, y + 1.5).coordinates[0] as number[][], hole] };
    }
    return { type: 'Polygon', coordinates: box() };
  }

  test('disjoint negates intersects, within mirrors contains, equals is both, near agrees with intersects (300 seeds)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = prng(seed);
      const a = randomGeometry(rand);
      const b = randomGeometry(rand);
      const where = `seed ${seed}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
      const r = (op: GeoRel['op'] & string): boolean => relates({ op } as GeoRel, a, b);
      const inter = r('intersects');
      assert.equal(r('disjoint'), !inter, where);
      assert.equal(r('within'), relates({ op: 'contains' }, b, a), where);
      assert.equal(r('equals'), r('within') && r('contains'), where);
      if (r('within') || r('contains') || r('overlaps')) assert.ok(inter, where);
      if (r('overlaps')) assert.ok(!r('within') && !r('contains'), where);
      const d = geometryDistance(a, b);
      // Topology is planar (straight lon/lat edges, RFC 7946) while distances follow great-circle edges
      // (PostGIS geography): on this grid they differ by at most an arc's bulge, well under 100 m.
      if (d === 0) assert.ok(inter, `distance 0 but not intersecting; ${where}`);
      if (inter) assert.ok(d < 100, `intersecting but ${d} m apart; ${where}`);
      if (inter && a.type !== 'Point') assert.equal(d, 0, where);
      const m = 1 + Math.floor(rand() * 300_000);
      assert.ok(relates({ op: 'near', limit: 'maxDistance', metres: m }, a, b) || relates({ op: 'near', limit: 'minDistance', metres: m }, a, b), where);
    }
  });
});
