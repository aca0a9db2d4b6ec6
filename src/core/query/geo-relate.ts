// Topological predicates between two GeoJSON geometries for geo-queries (GS CIM 009 §4.10; guide §10):
// OGC Simple Features (DE-9IM) intersects, disjoint, contains, within, equals and overlaps, built on
// @turf/turf and completed where turf leaves combinations out or gets them wrong.
//
// Like PostGIS on the `geometry` type, topology is planar in longitude/latitude degrees (edges are straight
// lines in that plane); only distances (geo-distance.ts) are geodesic. Polygon holes are never part of the
// polygon. Boundaries follow OGC: a polygon's boundary is its rings, a line's its two end points.
import { area, booleanContains, booleanPointInPolygon, feature, featureCollection, intersect } from '@turf/turf';
import { lineCoveredBy, linesIntersect, linesShareLength, pointOnLines, pointOnLinesBoundary } from './geo-lines.ts';
import type {
  GeoGeometry,
  GeoPart,
  LineStringGeometry,
  MultiPolygonGeometry,
  PointGeometry,
  PolygonGeometry,
  Position,
} from './geo-types.ts';

/** The single-part geometries a geometry is made of. */
export function geometryParts(g: GeoGeometry): GeoPart[] {
  switch (g.type) {
    case 'Point':
    case 'LineString':
    case 'Polygon':
      return [g];
    case 'MultiPoint':
      return g.coordinates.map((coordinates): PointGeometry => ({ type: 'Point', coordinates }));
    case 'MultiLineString':
      return g.coordinates.map((coordinates): LineStringGeometry => ({ type: 'LineString', coordinates }));
    case 'MultiPolygon':
      return g.coordinates.map((coordinates): PolygonGeometry => ({ type: 'Polygon', coordinates }));
  }
}

/** True when `p` is inside the polygon or on its boundary; a point inside a hole is outside. */
export function pointInPolygon(p: Position, poly: PolygonGeometry): boolean {
  return booleanPointInPolygon(p, poly);
}

/** OGC dimension: 0 for points, 1 for lines, 2 for polygons. */
export function dimension(g: GeoGeometry): 0 | 1 | 2 {
  if (g.type === 'Point' || g.type === 'MultiPoint') return 0;
  if (g.type === 'LineString' || g.type === 'MultiLineString') return 1;
  return 2;
}

/**
 * The geometries share at least one point (boundaries included). Own implementation: turf's treats a
 * repeated vertex (a zero-length segment) as covering a whole vertical line through it.
 */
export function intersects(a: GeoGeometry, b: GeoGeometry): boolean {
  const pb = geometryParts(b);
  return geometryParts(a).some((x) => pb.some((y) => partsIntersect(x, y)));
}

function rings(poly: PolygonGeometry): LineStringGeometry[] {
  return poly.coordinates.map((coordinates): LineStringGeometry => ({ type: 'LineString', coordinates }));
}

function partsIntersect(a: GeoPart, b: GeoPart): boolean {
  if (a.type === 'Point') {
    if (b.type === 'Point') return samePosition(a.coordinates, b.coordinates);
    if (b.type === 'LineString') return pointOnLines(a.coordinates, [b]);
    return booleanPointInPolygon(a.coordinates, b);
  }
  if (b.type === 'Point') return partsIntersect(b, a);
  if (a.type === 'LineString') {
    if (b.type === 'LineString') return linesIntersect([a], [b]);
    return a.coordinates.some((p) => booleanPointInPolygon(p, b)) || linesIntersect([a], rings(b));
  }
  if (b.type === 'LineString') return partsIntersect(b, a);
  // Two polygons: crossing rings, or one polygon's outer ring starts inside the other (holes excluded,
  // so a polygon lying in the other's hole is disjoint from it).
  return (
    booleanPointInPolygon(a.coordinates[0][0], b) || booleanPointInPolygon(b.coordinates[0][0], a) || linesIntersect(rings(a), rings(b))
  );
}

export function disjoint(a: GeoGeometry, b: GeoGeometry): boolean {
  return !intersects(a, b);
}

function samePosition(a: Position, b: Position): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

function points(g: GeoGeometry): Position[] {
  return g.type === 'Point' ? [g.coordinates] : g.type === 'MultiPoint' ? g.coordinates : [];
}

function lines(g: GeoGeometry): LineStringGeometry[] {
  return geometryParts(g).filter((p): p is LineStringGeometry => p.type === 'LineString');
}

function asMultiPolygon(g: PolygonGeometry | MultiPolygonGeometry): MultiPolygonGeometry {
  return g.type === 'MultiPolygon' ? g : { type: 'MultiPolygon', coordinates: [g.coordinates] };
}

/**
 * `a` contains `b`: no point of `b` lies outside `a`, and some interior point of `b` lies in the interior
 * of `a`. A geometry never contains one of higher dimension.
 */
export function contains(a: GeoGeometry, b: GeoGeometry): boolean {
  if (dimension(b) > dimension(a)) return false;
  switch (a.type) {
    case 'Point':
    case 'MultiPoint': {
      const own = points(a);
      return points(b).every((p) => own.some((q) => samePosition(p, q)));
    }
    case 'LineString':
    case 'MultiLineString':
      return linesContain(lines(a), b);
    case 'Polygon':
    case 'MultiPolygon': {
      // turf handles every kind of `b` for a MultiPolygon container (not for a Polygon one), but it does not
      // see a polygon `b` that covers one of `a`'s holes; a hole vertex strictly inside `b` proves that.
      // turf asks one component of a MultiPolygon to hold each part of `b`: exact for valid MultiPolygons
      // (components touch at points only), except a line passing between two components at such a point.
      const multi = asMultiPolygon(a);
      if (!booleanContains(multi, b)) return false;
      if (dimension(b) < 2) return true;
      const holeVertices = multi.coordinates.flatMap((poly) => poly.slice(1).flat());
      const bPolys = geometryParts(b).filter((p): p is PolygonGeometry => p.type === 'Polygon');
      return !holeVertices.some((v) => bPolys.some((poly) => booleanPointInPolygon(v, poly, { ignoreBoundary: true })));
    }
  }
}

/**
 * Lines containing points or lines. Points: each on the lines, one of them not on their boundary (mod-2
 * rule). Lines: each covered by the union of `own` (exact segment comparison, see geo-lines.ts).
 */
function linesContain(own: LineStringGeometry[], b: GeoGeometry): boolean {
  if (dimension(b) === 0) {
    const pts = points(b);
    return pts.every((p) => pointOnLines(p, own)) && pts.some((p) => !pointOnLinesBoundary(p, own));
  }
  return lines(b).every((lb) => lineCoveredBy(lb, own));
}

export function within(a: GeoGeometry, b: GeoGeometry): boolean {
  return contains(b, a);
}

/** Topological equality: same dimension and each contains the other (vertex order and start ignored). */
export function equals(a: GeoGeometry, b: GeoGeometry): boolean {
  return dimension(a) === dimension(b) && contains(a, b) && contains(b, a);
}

/**
 * Same dimension, the interiors share a part of that dimension, and neither contains the other (so two
 * polygons that only touch along an edge do not overlap, nor does a polygon with one inside it).
 */
export function overlaps(a: GeoGeometry, b: GeoGeometry): boolean {
  const dim = dimension(a);
  if (dim !== dimension(b)) return false;
  if (dim === 0) {
    const pa = points(a);
    const pb = points(b);
    const inB = (p: Position): boolean => pb.some((q) => samePosition(p, q));
    const inA = (p: Position): boolean => pa.some((q) => samePosition(p, q));
    return pa.some(inB) && !pa.every(inB) && !pb.every(inA);
  }
  if (contains(a, b) || contains(b, a)) return false;
  if (dim === 1) return linesShareLength(lines(a), lines(b));
  const shared = intersect(
    featureCollection([feature(a as PolygonGeometry | MultiPolygonGeometry), feature(b as PolygonGeometry | MultiPolygonGeometry)]),
  );
  return shared !== null && area(shared) > 0;
}
