// Compiles geo-queries (GS CIM 009 §4.10; guide §10) and scopeQ (§4.19; guide §9.1) to PostgreSQL
// conditions on an entity row `e`, with the semantics of geo-query.ts and scope-q.ts.
//
// Geo: the target is any valid geometry of the GeoProperty in entity_geo (any-instance; an entity without
// it never matches, not even `disjoint`). Topology is planar on geometry SRID 4326, as the reference
// (geo-relate.ts): ST_Within/ST_Contains/ST_Intersects/ST_Equals/ST_Overlaps, disjoint = NOT ST_Intersects.
// `near` measures on the sphere as geo-distance.ts: 0 when the geometries intersect (planar), else
// ST_DWithin(geography, geography, d, use_spheroid => false). PostGIS's sphere has radius 6371008.7714 m,
// the reference 6371008.8 m: distances differ by 4.5e-9 relative (5 µm at 1 km). GEOS raises on invalid
// polygons (self-intersections), so a predicate runs only when both geometries are valid; otherwise the
// row is left to the reference evaluator (a `maybe` bound by bounding box).
import type { GeoQuery } from '../../core/query/geo-query.ts';
import type { ScopeExpr } from '../../core/query/scope-q.ts';
import { SCOPE_WILDCARD } from '../../core/query/scope-q.ts';
import { and, exact, exists, or, TRUE, type Cond, type SqlParams } from './sql-build.ts';
import { textKey } from './text-key.ts';

const PREDICATES = {
  within: 'ST_Within',
  contains: 'ST_Contains',
  intersects: 'ST_Intersects',
  equals: 'ST_Equals',
  overlaps: 'ST_Overlaps',
} as const;

/** A GEOS predicate guarded by validity: `otherwise` for rows it cannot decide. */
function guarded(valid: string, test: string, otherwise: string): string {
  return `CASE WHEN ${valid} THEN ${test} ELSE ${otherwise} END`;
}

export interface CompiledGeo {
  /** Some valid geometry of the GeoProperty relates to the reference (correlated with `e`). */
  cond: Cond;
  /** `SELECT DISTINCT g.seq …`: every entity for which `cond.maybe` can hold (to drive a query from). */
  driver: string;
}

/** The geo-query condition on the entity row `e`, and its uncorrelated driver. */
export function compileGeo(geo: GeoQuery, params: SqlParams): CompiledGeo {
  const g = params.alias('g');
  const json = params.add(JSON.stringify({ type: geo.geometry.type, coordinates: geo.geometry.coordinates }), 'text');
  // Immutable expressions of a parameter: statements are unnamed, so PostgreSQL plans them with the values
  // and folds these to constants — evaluated once, and the index selectivity is estimated on the real box.
  const ref = `ST_Force2D(ST_GeomFromGeoJSON(${json}))`;
  const refGeog = `ST_Force2D(ST_GeomFromGeoJSON(${json}))::geography`;
  const refValid = `(ST_IsValidDetail(ST_GeomFromGeoJSON(${json}))).valid`;
  const valid = `(${g}.valid AND ${refValid})`;
  const attr = params.add(textKey(geo.geoproperty), 'text');
  const from = `entity_geo ${g} WHERE ${g}.tenant = $1 AND ${g}.seq = e.seq AND ${g}.attr = ${attr}`;
  const bbox = `${g}.geom && ${ref}`;
  const rel = geo.georel;
  let sure: string;
  let maybe: string;
  if (rel.op === 'near') {
    const within = `ST_DWithin(${g}.geog, ${refGeog}, ${params.add(rel.metres, 'float8')}, false)`;
    // Intersecting geometries are at distance 0; the bounding-box test keeps both arms indexable.
    const touches = (otherwise: string) => `(${bbox} AND ${guarded(valid, `ST_Intersects(${g}.geom, ${ref})`, otherwise)})`;
    if (rel.limit === 'maxDistance') {
      sure = `(${within} OR ${touches('FALSE')})`;
      maybe = `(${within} OR ${touches('TRUE')})`;
    } else {
      sure = `(NOT ${within} AND ${guarded(valid, `NOT ST_Intersects(${g}.geom, ${ref})`, 'FALSE')})`;
      maybe = `(NOT ${within} AND ${guarded(valid, `NOT ST_Intersects(${g}.geom, ${ref})`, 'TRUE')})`;
    }
  } else if (rel.op === 'disjoint') {
    sure = guarded(valid, `NOT ST_Intersects(${g}.geom, ${ref})`, 'FALSE');
    maybe = guarded(valid, `NOT ST_Intersects(${g}.geom, ${ref})`, 'TRUE');
  } else {
    // Every one of these relations implies that the bounding boxes meet: the GiST index applies.
    const test = `${PREDICATES[rel.op]}(${g}.geom, ${ref})`;
    sure = `(${bbox} AND ${guarded(valid, test, 'FALSE')})`;
    maybe = `(${bbox} AND ${guarded(valid, test, 'TRUE')})`;
  }
  const one = (w: string): string => `EXISTS (SELECT 1 FROM ${from} AND ${w})`;
  return {
    cond: { sure: one(sure), maybe: one(maybe) },
    driver: `SELECT DISTINCT ${g}.seq FROM entity_geo ${g} WHERE ${g}.tenant = $1 AND ${g}.attr = ${attr} AND ${maybe}`,
  };
}

/** One scope pattern: some scope of the entity has these levels (`+` any one level), or more with `/#`. */
function scopeTerm(levels: readonly string[], descendants: boolean, params: SqlParams): Cond {
  const sc = params.alias('sc');
  const tests = [`jsonb_array_length(${sc}.x) ${descendants ? '>=' : '='} ${levels.length}`];
  levels.forEach((level, i) => {
    if (level !== SCOPE_WILDCARD) tests.push(`${sc}.x ->> ${i} = ${params.add(textKey(level), 'text')}`);
  });
  return exists(`jsonb_array_elements(e.qdoc -> 's') AS ${sc}(x)`, exact(tests.join(' AND ')));
}

function scopeCond(expr: ScopeExpr, params: SqlParams): Cond {
  switch (expr.type) {
    case 'any':
      return TRUE;
    case 'scope':
      return scopeTerm(expr.levels, expr.descendants, params);
    case 'and':
      return and(expr.items.map((e) => scopeCond(e, params)));
    case 'or':
      return or(expr.items.map((e) => scopeCond(e, params)));
  }
}

/** scope-q.ts evaluateScopeQ: entities without a scope never match. */
export function compileScopeQ(expr: ScopeExpr, params: SqlParams): Cond {
  return and([exact(`(jsonb_array_length(coalesce(e.qdoc -> 's', '[]'::jsonb)) > 0)`), scopeCond(expr, params)]);
}
