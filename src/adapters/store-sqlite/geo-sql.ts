// Geo-query conditions for the SQLite store (GS CIM 009 §4.10; guide §10): the R*Tree box prefilter (its
// index drives) and the exact predicate (core `relates`, via a registered function) on each candidate.
import type { GeoQuery } from '../../core/query/geo-query.ts';
import { geoPredicateArgument, searchBox, type Box } from './geo-index.ts';
import { pathId } from './q-sql.ts';
import { SQL_FN } from './sql-functions.ts';
import { raw, sql, type Sql } from './sql-fragment.ts';

/** Conditions on `geo_rtree r` selecting exactly the geometries that satisfy the query. */
export function geoExactCondition(q: GeoQuery, tenant: string, box: Box | null): Sql {
  const exact = sql`r.tenant = ${tenant} AND r.pid = ${pathId(q.geoproperty)} AND ${raw(SQL_FN.geo)}(r.geom, ${geoPredicateArgument(q)})`;
  if (box === null) return exact;
  return sql`r.minx <= ${box.maxx} AND r.maxx >= ${box.minx} AND r.miny <= ${box.maxy} AND r.maxy >= ${box.miny} AND ${exact}`;
}

/** The entity has a geometry satisfying the query (without a search box every geometry is tested). */
export function geoCondition(q: GeoQuery, tenant: string): Sql {
  return sql`e.id IN (SELECT r.id FROM geo_rtree r WHERE ${geoExactCondition(q, tenant, searchBox(q))})`;
}
