// Generators of q ASTs (GS CIM 009 §4.9) and GeoJSON geometries (§4.7, §4.10) for the query differential
// suites: every operator, literal kind, list, range, regex, (non-)existence, sub-attribute, metadata,
// [json] and [lang] paths, and nested and/or.
import { RE2JS } from 're2js';
import { dateTimeToMillis } from '../../src/core/datetime.ts';
import { Q_META_MEMBERS, type QExpr, type QLiteral, type QOp, type QPath } from '../../src/core/query/q-ast.ts';
import type { GeoGeometry, Position } from '../../src/core/query/geo-types.ts';
import type { Rng } from './query-generators.ts';
import { ATTRS, COMMON_KEYS, DATES, DATE_TIMES, HOSTILE_STRINGS, JSON_KEYS, NUMBER_POOL, STRING_POOL, SUB_ATTRS, TIMES } from './query-pools.ts';

const LANG_KEYS = ['en', 'EN', 'fr', 'de', '*', 'en-gb', 'pt-br', '@none', 'xx', 'K'];

/** Attributes whose values are usually objects, arrays or language maps: where brackets find something. */
const STRUCTURED = ATTRS.filter((a) => ['address', 'config', 'tags', 'name', 'temperature'].some((n) => a.name.endsWith(`/${n}`))).map((a) => a.name);

function genPath(rng: Rng): QPath {
  const path: QPath = { attr: rng.bool(0.93) ? rng.pick(ATTRS).name : rng.pick(SUB_ATTRS), sub: [] };
  if (rng.bool(0.15)) path.sub = rng.bool(0.8) ? [rng.pick(SUB_ATTRS)] : [rng.pick(SUB_ATTRS), rng.pick(SUB_ATTRS)];
  const r = rng.int(0, 9);
  const key = (): string => (rng.bool(0.7) ? rng.pick(COMMON_KEYS) : rng.pick(JSON_KEYS));
  if (r === 0) path.meta = rng.pick(Q_META_MEMBERS);
  else if (r <= 2) {
    if (rng.bool(0.7)) path.attr = rng.pick(STRUCTURED);
    path.jsonPath = Array.from({ length: rng.bool(0.75) ? 1 : rng.int(2, 3) }, key);
  } else if (r === 3) path.jsonPath = [rng.pick(LANG_KEYS)];
  return path;
}

/** A literal fitting what the path usually designates (metadata are DateTimes, units, dataset URIs). */
function literalFor(rng: Rng, path: QPath): QLiteral {
  if (rng.bool(0.3)) return genLiteral(rng);
  switch (path.meta) {
    case 'observedAt':
    case 'createdAt':
    case 'modifiedAt':
      return genLiteral(rng, 'dateTime');
    case 'unitCode':
      return { kind: 'string', value: rng.pick(['CEL', 'MTR', 'A"B', '']) };
    case 'datasetId':
      return { kind: 'uri', value: rng.pick(['urn:ngsi-ld:Dataset:a', 'urn:ngsi-ld:Dataset:b']) };
    default:
      return genLiteral(rng);
  }
}

/** A literal of the requested (or a random) kind, in canonical form as the parser produces it. */
export function genLiteral(rng: Rng, kind = rng.pick(['number', 'number', 'string', 'string', 'boolean', 'dateTime', 'date', 'time', 'uri'] as const)): QLiteral {
  switch (kind) {
    case 'number':
      return { kind, value: rng.pick(NUMBER_POOL) + (rng.bool(0.2) ? 0.5 : 0) };
    case 'string':
      return { kind, value: rng.bool(0.8) ? rng.pick(STRING_POOL) : rng.pick(HOSTILE_STRINGS) };
    case 'boolean':
      return { kind, value: rng.bool() };
    case 'dateTime': {
      const value = rng.pick(DATE_TIMES).replace(',', '.');
      return { kind, value, millis: dateTimeToMillis(value) };
    }
    case 'date':
      return { kind, value: rng.pick(DATES) };
    case 'time':
      return { kind, value: rng.pick(TIMES) };
    case 'uri':
      return { kind, value: rng.pick(['urn:ngsi-ld:Thing:1', 'urn:ngsi-ld:Thing:2', 'https://kend.test/ns/commercial', 'red', 'urn:ngsi-ld:Building:b']) };
  }
}

const REGEXES = ['^r', 'e', 'E', '^$', '.*', 'ü', '😀', '\\d+', '^[a-z]+$', '(?i)RED', 'x"y', '\\x00', 'n$'];

function genRegex(rng: Rng): string {
  return rng.bool(0.85) ? rng.pick(REGEXES) : RE2JS.quote(rng.pick(HOSTILE_STRINGS));
}

function genTerm(rng: Rng): QExpr {
  const path = genPath(rng);
  const r = rng.int(0, 19);
  if (r === 0) return { type: 'exists', path };
  if (r === 1) return { type: 'notExists', path };
  const op = rng.pick<QOp>(['==', '==', '!=', '>', '>=', '<', '<=', '~=', '!~=']);
  switch (op) {
    case '==':
    case '!=': {
      const v = rng.int(0, 5);
      if (v === 0) return { type: 'compare', path, op, value: { kind: 'list', items: [literalFor(rng, path), genLiteral(rng), ...(rng.bool() ? [genLiteral(rng)] : [])] } };
      if (v === 1) {
        const kind = rng.pick(['number', 'string', 'dateTime', 'date', 'time', 'uri', 'boolean'] as const);
        const min = genLiteral(rng, kind);
        const max = rng.bool(0.9) ? genLiteral(rng, kind) : genLiteral(rng);
        return { type: 'compare', path, op, value: { kind: 'range', min, max } };
      }
      return { type: 'compare', path, op, value: literalFor(rng, path) };
    }
    case '>':
    case '>=':
    case '<':
    case '<=':
      return { type: 'compare', path, op, value: literalFor(rng, path) };
    case '~=':
    case '!~=':
      return { type: 'compare', path, op, value: { kind: 'regex', pattern: genRegex(rng) } };
  }
}

/**
 * `a>x;a<y` (each operator either strict or not) on one path, sometimes with a further term: the two-sided
 * ranges both stores drive by one index range (entities whose instances satisfy each bound differently
 * included).
 */
function genRangePair(rng: Rng): QExpr {
  const path = genPath(rng);
  const items: QExpr[] = [
    { type: 'compare', path, op: rng.pick(['>', '>='] as const), value: literalFor(rng, path) },
    { type: 'compare', path, op: rng.pick(['<', '<='] as const), value: literalFor(rng, path) },
  ];
  if (rng.bool(0.3)) items.push(genTerm(rng));
  return { type: 'and', items: rng.bool() ? items : items.reverse() };
}

/** A q AST: terms combined with and/or, flattened as the parser builds them. */
export function genQExpr(rng: Rng, depth = 0): QExpr {
  if (depth === 0 && rng.bool(0.15)) return genRangePair(rng);
  if (depth > 2 || rng.bool(0.55)) return genTerm(rng);
  const type = rng.bool(0.4) ? 'and' : 'or';
  const items: QExpr[] = [];
  for (let i = rng.int(2, 3); i > 0; i--) {
    const e = genQExpr(rng, depth + 1);
    if (e.type === type) items.push(...e.items);
    else items.push(e);
  }
  return { type, items };
}

const clampLon = (x: number): number => Math.max(-180, Math.min(180, x));
const clampLat = (y: number): number => Math.max(-90, Math.min(90, y));

function position(rng: Rng, centre: readonly [number, number], spread: number): Position {
  // Some positions on a coarse grid, so equal and touching geometries occur.
  const snap = rng.bool(0.4);
  const dx = snap ? rng.int(-2, 2) * spread * 0.5 : (rng.next() - 0.5) * 2 * spread;
  const dy = snap ? rng.int(-2, 2) * spread * 0.5 : (rng.next() - 0.5) * 2 * spread;
  return [clampLon(centre[0] + dx), clampLat(centre[1] + dy)];
}

function ring(rng: Rng, centre: readonly [number, number], spread: number): Position[] {
  const c = position(rng, centre, spread);
  const w = spread * (0.2 + rng.next());
  const h = spread * (0.2 + rng.next());
  const pts: Position[] = rng.bool()
    ? [c, [clampLon(c[0] + w), c[1]], [clampLon(c[0] + w), clampLat(c[1] + h)], [c[0], clampLat(c[1] + h)]]
    : [c, [clampLon(c[0] + w), c[1]], [c[0], clampLat(c[1] + h)]];
  return [...pts, c];
}

function polygon(rng: Rng, centre: readonly [number, number], spread: number): Position[][] {
  const outer = ring(rng, centre, spread);
  if (!rng.bool(0.2)) return [outer];
  // A small hole around the middle of the outer ring's first edge pair (valid for our rectangles/triangles).
  const [x0, y0] = outer[0];
  const [x1] = outer[1];
  const [, y2] = outer[2];
  const mx = x0 + (x1 - x0) * 0.3;
  const my = y0 + (y2 - y0) * 0.2;
  const d = Math.min(Math.abs(x1 - x0), Math.abs(y2 - y0)) * 0.1;
  return [outer, [[mx, my], [mx + d, my], [mx + d, my + d], [mx, my + d], [mx, my]]];
}

/** A valid geometry near `centre`; entity geometries (`stored`) are mostly points. */
export function genGeometry(rng: Rng, centre: readonly [number, number], stored: boolean): GeoGeometry {
  const spread = rng.pick([0.001, 0.01, 0.05, 0.5]);
  const r = rng.int(0, 9);
  if (r <= (stored ? 5 : 2)) return { type: 'Point', coordinates: position(rng, centre, spread) };
  if (r === 6) return { type: 'LineString', coordinates: Array.from({ length: rng.int(2, 4) }, () => position(rng, centre, spread)) };
  if (r === 7) return { type: 'Polygon', coordinates: polygon(rng, centre, spread) };
  const m = rng.int(0, 2);
  if (m === 0) return { type: 'MultiPoint', coordinates: Array.from({ length: rng.int(1, 3) }, () => position(rng, centre, spread)) };
  if (m === 1) return { type: 'MultiLineString', coordinates: [[position(rng, centre, spread), position(rng, centre, spread)]] };
  return { type: 'MultiPolygon', coordinates: [polygon(rng, centre, spread)] };
}
