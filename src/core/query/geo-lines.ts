// Planar predicates between line geometries for geo-queries (GS CIM 009 §4.10, OGC Simple Features
// DE-9IM): containment by a union of lines, shared line portions, and the mod-2 boundary rule. turf's
// line predicates compare vertices only (a straight segment between two points of a V-shaped line counts
// as "on" it), so segments are compared exactly here.
import type { LineStringGeometry, Position } from './geo-types.ts';

type Segment = [Position, Position];

function segments(lines: readonly LineStringGeometry[]): Segment[] {
  const out: Segment[] = [];
  for (const l of lines) for (let i = 0; i + 1 < l.coordinates.length; i++) out.push([l.coordinates[i], l.coordinates[i + 1]]);
  return out;
}

const sub = (a: Position, b: Position): [number, number] => [a[0] - b[0], a[1] - b[1]];
const cross = (u: readonly number[], v: readonly number[]): number => u[0] * v[1] - u[1] * v[0];
const dot = (u: readonly number[], v: readonly number[]): number => u[0] * v[0] + u[1] * v[1];

/**
 * The part of segment `s` (as parameters in [0, 1] along it) that lies on segment `o`, when the two are
 * collinear and share more than a point; undefined otherwise. Collinearity is exact, as in turf.
 */
function sharedInterval(s: Segment, o: Segment): [number, number] | undefined {
  const d = sub(s[1], s[0]);
  const len2 = dot(d, d);
  if (len2 === 0) return undefined;
  if (cross(d, sub(o[0], s[0])) !== 0 || cross(d, sub(o[1], s[0])) !== 0) return undefined;
  const t0 = dot(sub(o[0], s[0]), d) / len2;
  const t1 = dot(sub(o[1], s[0]), d) / len2;
  const lo = Math.max(0, Math.min(t0, t1));
  const hi = Math.min(1, Math.max(t0, t1));
  return lo < hi ? [lo, hi] : undefined;
}

function pointOnSegment(p: Position, s: Segment): boolean {
  const d = sub(s[1], s[0]);
  const w = sub(p, s[0]);
  const len2 = dot(d, d);
  // A repeated vertex makes a zero-length segment: only that very point lies on it.
  if (len2 === 0) return w[0] === 0 && w[1] === 0;
  if (cross(d, w) !== 0) return false;
  const t = dot(w, d);
  return t >= 0 && t <= len2;
}

/** True when every point of `line` lies on the union of `cover` (a line may run across several of them). */
export function lineCoveredBy(line: LineStringGeometry, cover: readonly LineStringGeometry[]): boolean {
  const others = segments(cover);
  for (const s of segments([line])) {
    if (s[0][0] === s[1][0] && s[0][1] === s[1][1]) {
      if (!others.some((o) => pointOnSegment(s[0], o))) return false;
      continue;
    }
    const parts = others.map((o) => sharedInterval(s, o)).filter((x): x is [number, number] => x !== undefined);
    parts.sort((a, b) => a[0] - b[0]);
    let reached = 0;
    for (const [lo, hi] of parts) {
      if (lo > reached) break;
      reached = Math.max(reached, hi);
    }
    if (reached < 1) return false;
  }
  return true;
}

/** True when the lines share a portion of positive length. */
export function linesShareLength(a: readonly LineStringGeometry[], b: readonly LineStringGeometry[]): boolean {
  const sb = segments(b);
  return segments(a).some((s) => sb.some((o) => sharedInterval(s, o) !== undefined));
}

/** True when `p` lies on one of the lines. */
export function pointOnLines(p: Position, lines: readonly LineStringGeometry[]): boolean {
  return segments(lines).some((s) => pointOnSegment(p, s));
}

/**
 * True when `p` is on the boundary of the lines: by the OGC mod-2 rule, an end point shared by an odd
 * number of line ends (so a closed ring has no boundary, and two lines joined end to end have none there).
 */
export function pointOnLinesBoundary(p: Position, lines: readonly LineStringGeometry[]): boolean {
  let count = 0;
  for (const l of lines) {
    const first = l.coordinates[0];
    const last = l.coordinates[l.coordinates.length - 1];
    if (first[0] === p[0] && first[1] === p[1]) count++;
    if (last[0] === p[0] && last[1] === p[1]) count++;
  }
  return count % 2 === 1;
}

function orientation(p: Position, q: Position, r: Position): number {
  return Math.sign(cross(sub(q, p), sub(r, p)));
}

/** `q` within the bounding box of `p`–`r` (used once p, q, r are known to be collinear). */
function withinBox(p: Position, q: Position, r: Position): boolean {
  return Math.min(p[0], r[0]) <= q[0] && q[0] <= Math.max(p[0], r[0]) && Math.min(p[1], r[1]) <= q[1] && q[1] <= Math.max(p[1], r[1]);
}

/** The closed segments share a point: proper crossing, touching, collinear overlap or zero-length cases. */
function segmentsIntersect([p1, p2]: Segment, [p3, p4]: Segment): boolean {
  const o1 = orientation(p1, p2, p3);
  const o2 = orientation(p1, p2, p4);
  const o3 = orientation(p3, p4, p1);
  const o4 = orientation(p3, p4, p2);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && withinBox(p1, p3, p2)) ||
    (o2 === 0 && withinBox(p1, p4, p2)) ||
    (o3 === 0 && withinBox(p3, p1, p4)) ||
    (o4 === 0 && withinBox(p3, p2, p4))
  );
}

/** True when the lines (or rings given as lines) share at least one point. */
export function linesIntersect(a: readonly LineStringGeometry[], b: readonly LineStringGeometry[]): boolean {
  const sb = segments(b);
  return segments(a).some((s) => sb.some((o) => segmentsIntersect(s, o)));
}
