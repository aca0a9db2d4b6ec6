// GeoJSON geometry validation for GeoProperty values (GS CIM 009 §4.7, RFC 7946 §3.1; guide §5.2).
// Point, MultiPoint, LineString, MultiLineString, Polygon and MultiPolygon; GeometryCollection is not
// allowed. Positions are [longitude, latitude(, altitude)].
import type { JsonValue } from '../json.ts';
import { isJsonObject } from '../json.ts';

export const GEOMETRY_TYPES: ReadonlySet<string> = new Set([
  'Point',
  'MultiPoint',
  'LineString',
  'MultiLineString',
  'Polygon',
  'MultiPolygon',
]);

/**
 * True for an object that presents itself as a GeoJSON geometry (a geometry `type` with `coordinates`, or a
 * GeometryCollection) — used to classify concise input; it says nothing about validity.
 */
export function isGeometryLike(v: unknown): boolean {
  if (!isJsonObject(v) || typeof v.type !== 'string') return false;
  if (v.type === 'GeometryCollection') return true;
  return GEOMETRY_TYPES.has(v.type) && 'coordinates' in v;
}

/**
 * GeoJSON may arrive as a string holding the GeoJSON text (§4.7.2): returns the parsed object when `v` is
 * such a string, else `v` unchanged.
 */
export function coerceGeometry(v: JsonValue): JsonValue {
  if (typeof v !== 'string' || !v.trimStart().startsWith('{')) return v;
  try {
    const parsed = JSON.parse(v) as JsonValue;
    return isJsonObject(parsed) ? parsed : v;
  } catch {
    return v;
  }
}

class GeometryError extends Error {}

interface Budget {
  left: number;
  max: number;
}

function position(p: unknown, where: string, budget: Budget): number[] {
  if (!Array.isArray(p) || (p.length !== 2 && p.length !== 3)) {
    throw new GeometryError(`${where} must be a position of 2 or 3 numbers`);
  }
  for (const n of p) {
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new GeometryError(`${where} holds a non-numeric coordinate`);
  }
  const [lon, lat] = p as number[];
  if (lon < -180 || lon > 180) throw new GeometryError(`${where}: longitude ${lon} is outside [-180, 180]`);
  if (lat < -90 || lat > 90) throw new GeometryError(`${where}: latitude ${lat} is outside [-90, 90]`);
  budget.left -= 1;
  if (budget.left < 0) throw new GeometryError(`geometry has more than ${budget.max} vertices`);
  return p as number[];
}

function list(v: unknown, where: string, min: number, what: string): unknown[] {
  if (!Array.isArray(v)) throw new GeometryError(`${where} must be an array`);
  if (v.length < min) throw new GeometryError(`${where} must hold at least ${min} ${what}`);
  return v;
}

function lineString(v: unknown, where: string, budget: Budget): void {
  list(v, where, 2, 'positions').forEach((p, i) => position(p, `${where}[${i}]`, budget));
}

function samePosition(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

function polygon(v: unknown, where: string, budget: Budget): void {
  list(v, where, 1, 'linear ring').forEach((ring, r) => {
    const rw = `${where}[${r}]`;
    const positions = list(ring, rw, 4, 'positions').map((p, i) => position(p, `${rw}[${i}]`, budget));
    if (!samePosition(positions[0], positions[positions.length - 1])) {
      throw new GeometryError(`linear ring ${rw} is not closed (first and last positions differ)`);
    }
  });
}

/**
 * Validates a GeoJSON geometry. Returns null when valid, otherwise a message saying what is wrong. At most
 * `maxVertices` positions are accepted in total.
 */
export function validateGeometry(v: unknown, maxVertices: number): string | null {
  if (!isJsonObject(v)) return 'a GeoJSON geometry must be a JSON object';
  const type = v.type;
  if (typeof type !== 'string') return 'a GeoJSON geometry needs a string "type"';
  if (type === 'GeometryCollection') return 'GeometryCollection is not supported';
  if (!GEOMETRY_TYPES.has(type)) return `"${type}" is not a GeoJSON geometry type`;
  if (!('coordinates' in v)) return `${type} has no "coordinates"`;
  if ('bbox' in v) {
    const bbox = v.bbox;
    if (!Array.isArray(bbox) || (bbox.length !== 4 && bbox.length !== 6) || !bbox.every((n) => typeof n === 'number' && Number.isFinite(n))) {
      return 'bbox must be an array of 4 or 6 numbers';
    }
  }
  const budget: Budget = { left: maxVertices, max: maxVertices };
  const c = v.coordinates;
  try {
    switch (type) {
      case 'Point':
        position(c, 'coordinates', budget);
        break;
      case 'MultiPoint':
        list(c, 'coordinates', 1, 'position').forEach((p, i) => position(p, `coordinates[${i}]`, budget));
        break;
      case 'LineString':
        lineString(c, 'coordinates', budget);
        break;
      case 'MultiLineString':
        list(c, 'coordinates', 1, 'line string').forEach((l, i) => lineString(l, `coordinates[${i}]`, budget));
        break;
      case 'Polygon':
        polygon(c, 'coordinates', budget);
        break;
      case 'MultiPolygon':
        list(c, 'coordinates', 1, 'polygon').forEach((p, i) => polygon(p, `coordinates[${i}]`, budget));
        break;
    }
  } catch (e) {
    if (e instanceof GeometryError) return `${type}: ${e.message}`;
    throw e;
  }
  return null;
}
