// The benchmark's data: deterministic weather-station entities with 8 attributes (6 numeric Properties with
// unitCode and observedAt, a Relationship, a GeoProperty), built as JSON text without a serializer pass.
export const ENTITY_TYPE = 'WeatherStation';
export const ID_PREFIX = `urn:ngsi-ld:${ENTITY_TYPE}:`;

/** Stations are spread uniformly over this box (≈ 85 km × 55 km in Azerbaijan): ≈ 21 per km² at 100,000. */
export const AREA = { west: 47.0, east: 48.0, south: 40.0, north: 40.5 } as const;

/** temperature is uniform over [min, max) with two decimals. */
export const TEMPERATURE = { min: -10, max: 40 } as const;

const BASE_TIME_MS = Date.UTC(2026, 0, 1);

/** A uniform number in [0, 1) from (index, salt): an integer hash, so every run loads the same data. */
export function unitHash(index: number, salt: number): number {
  let h = (Math.imul(index ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(salt + 1, 0x85ebca6b)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

function scaled(index: number, salt: number, min: number, max: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round((min + (max - min) * unitHash(index, salt)) * f) / f;
}

export function stationId(index: number): string {
  return `${ID_PREFIX}s${index}`;
}

/** Position of station `index` (longitude, latitude). */
export function stationPosition(index: number): [number, number] {
  return [scaled(index, 101, AREA.west, AREA.east, 6), scaled(index, 102, AREA.south, AREA.north, 6)];
}

function numeric(name: string, value: number, unitCode: string, observedAt: string): string {
  return `"${name}":{"type":"Property","value":${value},"unitCode":"${unitCode}","observedAt":"${observedAt}"}`;
}

/**
 * One station entity in normalized form. `round` changes the values and observedAt (used by the upsert
 * workload so every replacement really changes the entity) but never the position.
 */
export function stationJson(id: string, index: number, round = 0): string {
  const observedAt = new Date(BASE_TIME_MS + index * 1000 + round * 60_000).toISOString();
  const salt = round * 16;
  const [lon, lat] = stationPosition(index);
  return (
    `{"id":"${id}","type":"${ENTITY_TYPE}",` +
    `${numeric('temperature', scaled(index, salt + 1, TEMPERATURE.min, TEMPERATURE.max, 2), 'CEL', observedAt)},` +
    `${numeric('humidity', scaled(index, salt + 2, 0, 100, 1), 'P1', observedAt)},` +
    `${numeric('pressure', scaled(index, salt + 3, 950, 1050, 1), 'A97', observedAt)},` +
    `${numeric('windSpeed', scaled(index, salt + 4, 0, 30, 1), 'MTS', observedAt)},` +
    `${numeric('rainfall', scaled(index, salt + 5, 0, 50, 1), 'MMT', observedAt)},` +
    `${numeric('soilMoisture', scaled(index, salt + 6, 0, 60, 1), 'P1', observedAt)},` +
    `"refParcel":{"type":"Relationship","object":"urn:ngsi-ld:Parcel:p${index % 5000}"},` +
    `"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[${lon},${lat}]}}}`
  );
}

/** A batch body: stations [first, first + count), wrapping around `size` (ids stay within the loaded set). */
export function stationBatchJson(first: number, count: number, size: number, round = 0): string {
  const parts: string[] = [];
  for (let k = 0; k < count; k++) {
    const index = (first + k) % size;
    parts.push(stationJson(stationId(index), index, round));
  }
  return `[${parts.join(',')}]`;
}
