// The geometry index of the SQLite store (GS CIM 009 §4.10; guide §10): bounding boxes of GeoProperty
// instances for the R*Tree prefilter (migration v2), the search boxes of a geo-query, and the exact
// predicate run on the candidates — the core `relates`, so results equal the in-memory reference.
import type { Entity } from '../../core/model/entity.ts';
import { validateGeometry } from '../../core/model/geojson.ts';
import { EARTH_RADIUS_M } from '../../core/query/geo-distance.ts';
import { relates, type GeoQuery, type GeoRel } from '../../core/query/geo-query.ts';
import type { GeoGeometry, Position } from '../../core/query/geo-types.ts';

export interface Box {
  minx: number;
  maxx: number;
  miny: number;
  maxy: number;
}

export interface GeoRow {
  attr: string;
  /** The geometry as JSON text, what the exact predicate reads. */
  geom: string;
  box: Box;
}

const RAD = Math.PI / 180;
/** Outward padding of every box: absorbs rounding in the arc extents and the R*Tree's 32-bit floats. */
const PAD = 1e-6;

type Vec = [number, number, number];
const toVec = (p: Position): Vec => [Math.cos(p[1] * RAD) * Math.cos(p[0] * RAD), Math.cos(p[1] * RAD) * Math.sin(p[0] * RAD), Math.sin(p[1] * RAD)];
const dot = (a: Vec, b: Vec): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec, b: Vec): Vec => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: Vec): number => Math.hypot(a[0], a[1], a[2]);

function paths(g: GeoGeometry): Position[][] {
  switch (g.type) {
    case 'Point':
      return [[g.coordinates]];
    case 'MultiPoint':
      return g.coordinates.map((p) => [p]);
    case 'LineString':
      return [g.coordinates];
    case 'MultiLineString':
    case 'Polygon':
      return g.coordinates;
    case 'MultiPolygon':
      return g.coordinates.flat();
  }
}

function include(box: Box, lon: number, lat: number): void {
  box.minx = Math.min(box.minx, lon);
  box.maxx = Math.max(box.maxx, lon);
  box.miny = Math.min(box.miny, lat);
  box.maxy = Math.max(box.maxy, lat);
}

/**
 * Widens `box` to the great-circle arc a–b, which is what distances are measured to (geo-distance.ts):
 * an arc bulges poleward of its end points, and one spanning more than 180° of longitude runs across the
 * antimeridian (then the box takes every longitude).
 */
function includeArc(box: Box, a: Position, b: Position): void {
  if (Math.abs(a[0] - b[0]) > 180) {
    box.minx = -180;
    box.maxx = 180;
  }
  const A = toVec(a);
  const B = toVec(b);
  const n = cross(A, B);
  const len = norm(n);
  if (len < 1e-15) return;
  const N: Vec = [n[0] / len, n[1] / len, n[2] / len];
  for (const s of [1, -1]) {
    // The northmost (s = 1) or southmost point of the great circle: the pole axis projected on its plane.
    const v: Vec = [-s * N[2] * N[0], -s * N[2] * N[1], s * (1 - N[2] * N[2])];
    const vl = norm(v);
    if (vl < 1e-15) continue;
    const V: Vec = [v[0] / vl, v[1] / vl, v[2] / vl];
    if (dot(cross(A, V), N) >= 0 && dot(cross(V, B), N) >= 0) {
      const lat = Math.asin(Math.max(-1, Math.min(1, V[2]))) / RAD;
      box.miny = Math.min(box.miny, lat);
      box.maxy = Math.max(box.maxy, lat);
      if (Math.abs(lat) > 89.9999) {
        box.minx = -180;
        box.maxx = 180;
      }
    }
  }
}

function pad(box: Box): Box {
  return { minx: box.minx - PAD, maxx: box.maxx + PAD, miny: box.miny - PAD, maxy: box.maxy + PAD };
}

/** The planar bounding box (what the topological predicates, planar in lon/lat, stay inside). */
export function planarBox(g: GeoGeometry): Box {
  const box: Box = { minx: Infinity, maxx: -Infinity, miny: Infinity, maxy: -Infinity };
  for (const path of paths(g)) for (const p of path) include(box, p[0], p[1]);
  return pad(box);
}

/** The planar box widened to the great-circle arcs of the geometry's edges. */
export function geometryBox(g: GeoGeometry): Box {
  const box = planarBox(g);
  for (const path of paths(g)) for (let i = 0; i + 1 < path.length; i++) includeArc(box, path[i], path[i + 1]);
  return pad(box);
}

/**
 * A box holding every point within `metres` (geodesic) of some point of `ref` (itself a geometryBox):
 * latitude grows by the angular distance; longitude by asin(sin δ / cos φ) at the most poleward latitude φ
 * of the box, or every longitude when the widened box reaches a pole or the antimeridian. Null: no bound.
 */
export function nearBox(ref: Box, metres: number): Box | null {
  const delta = metres / EARTH_RADIUS_M;
  if (delta >= Math.PI / 2) return null;
  const ddeg = (delta / RAD) * (1 + 1e-9) + PAD;
  const phi = Math.max(Math.abs(ref.miny), Math.abs(ref.maxy));
  const out: Box = { minx: -180, maxx: 180, miny: Math.max(-90, ref.miny - ddeg), maxy: Math.min(90, ref.maxy + ddeg) };
  if (phi + ddeg >= 89.9999) return pad(out);
  const dlon = (Math.asin(Math.min(1, Math.sin(delta) / Math.cos(phi * RAD))) / RAD) * (1 + 1e-9) + PAD;
  if (ref.minx - dlon > -180 && ref.maxx + dlon < 180) {
    out.minx = ref.minx - dlon;
    out.maxx = ref.maxx + dlon;
  }
  return pad(out);
}

/**
 * The R*Tree search box of a geo-query: every geometry that can satisfy it has a geometryBox overlapping
 * the result. Null for relations satisfied by geometries anywhere (disjoint, near;minDistance).
 */
export function searchBox(q: GeoQuery): Box | null {
  switch (q.georel.op) {
    case 'disjoint':
      return null;
    case 'near':
      return q.georel.limit === 'minDistance' ? null : nearBox(geometryBox(q.geometry), q.georel.metres);
    default:
      // The other relations need a shared point, and topology is planar: planar boxes overlap.
      return planarBox(q.geometry);
  }
}

/** The geometry rows of an entity: each GeoProperty instance whose value is a valid geometry. */
export function geoRows(entity: Entity): GeoRow[] {
  const rows: GeoRow[] = [];
  for (const attr of Object.keys(entity.attrs)) {
    const instances = entity.attrs[attr];
    if (!Array.isArray(instances)) continue;
    for (const inst of instances) {
      // Same test as evaluateGeoQuery: other instances never match any geo-query.
      if (inst.type !== 'GeoProperty' || validateGeometry(inst.value, Number.MAX_SAFE_INTEGER) !== null) continue;
      const g = inst.value as unknown as GeoGeometry;
      rows.push({ attr, geom: JSON.stringify(g), box: geometryBox(g) });
    }
  }
  return rows;
}

/** The serialised part of a geo-query the exact predicate needs (the geoproperty is matched in SQL). */
export function geoPredicateArgument(q: GeoQuery): string {
  return JSON.stringify({ georel: q.georel, geometry: q.geometry });
}

/**
 * The exact predicate as a SQL function body: (geometry JSON, geoPredicateArgument) → 1/0. Parsed query
 * arguments are memoised per connection (a pure function of the text, bounded).
 */
export function createGeoPredicate(): (geom: unknown, arg: unknown) => number | null {
  const parsed = new Map<string, { georel: GeoRel; geometry: GeoGeometry }>();
  // A statement passes the same argument for every candidate: compare before hashing it into the map.
  let lastArg = '';
  let last: { georel: GeoRel; geometry: GeoGeometry } | undefined;
  return (geom, arg) => {
    if (typeof geom !== 'string' || typeof arg !== 'string') return null;
    if (last === undefined || arg !== lastArg) {
      last = parsed.get(arg);
      if (last === undefined) {
        last = JSON.parse(arg) as { georel: GeoRel; geometry: GeoGeometry };
        if (parsed.size > 100) parsed.clear();
        parsed.set(arg, last);
      }
      lastArg = arg;
    }
    return relates(last.georel, JSON.parse(geom) as GeoGeometry, last.geometry) ? 1 : 0;
  };
}
