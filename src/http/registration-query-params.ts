// Query Context Source Registrations input (GS CIM 009 §5.10.2, §6.8.3.2; guide §16.1): URL parameters turned
// into one RegistrationQuery. Syntax errors (non-URI id, bad q/csf/scopeQ, incomplete geo-query, timerel
// without timeAt) → 400; a query with no filter at all lists every registration.
import { badRequestData } from '../core/errors.ts';
import type { TermMap } from '../core/jsonld/term-map.ts';
import { parseLang } from '../core/model/lang.ts';
import { isValidName } from '../core/names.ts';
import { parseIdPattern, type EntitySelector } from '../core/query/entity-query.ts';
import { parseGeoQuery } from '../core/query/geo-query.ts';
import { parseQ } from '../core/query/q-parse.ts';
import { parseScopeQ } from '../core/query/scope-q.ts';
import { parseTypeExpr } from '../core/query/type-expr.ts';
import type { RegistrationQuery } from '../core/registration/query.ts';
import { parseTemporalQuery } from '../core/temporal/temporal-query.ts';
import { parseIdList, type QueryLimits } from './entity-query-params.ts';
import type { QueryParams } from './query-params.ts';

/** The URL parameters of GET /csourceRegistrations besides options and paging (§6.8.3.2). */
export const REGISTRATION_QUERY_PARAMS = [
  'id', 'type', 'idPattern', 'attrs', 'q', 'csf', 'georel', 'geometry', 'coordinates', 'geoproperty',
  'timeproperty', 'timerel', 'timeAt', 'endTimeAt', 'geometryProperty', 'lang', 'scopeQ',
];

/** The query, or undefined when no filtering parameter is given (every live registration is listed). */
export function registrationQueryFromParams(params: QueryParams, terms: TermMap, limits: QueryLimits): RegistrationQuery | undefined {
  const expand = (n: string): string => terms.expandTerm(n);
  const query: RegistrationQuery = { latestOnly: false };
  const selector: EntitySelector = {};
  const type = params.get('type');
  if (type !== undefined) selector.type = parseTypeExpr(type, expand);
  const id = params.get('id');
  if (id !== undefined) selector.ids = parseIdList(id);
  const idPattern = params.get('idPattern');
  if (idPattern !== undefined) selector.idPattern = parseIdPattern(idPattern, limits.maxIdPatternLength);
  if (Object.keys(selector).length > 0) query.selectors = [selector];

  const attrs = params.get('attrs');
  if (attrs !== undefined) {
    const names = attrs.split(',').map((s) => s.trim());
    for (const n of names) if (!isValidName(n)) throw badRequestData(`"${n}" in attrs is not a valid attribute name`, 'Invalid attrs');
    query.attrs = names.map(expand);
  }
  const q = params.get('q');
  if (q !== undefined) query.q = parseQ(q, terms, { maxLength: limits.maxQueryLength });
  const csf = params.get('csf');
  if (csf !== undefined) query.csf = parseQ(csf, terms, { maxLength: limits.maxQueryLength });
  const scopeQ = params.get('scopeQ');
  if (scopeQ !== undefined) query.scopeQ = parseScopeQ(scopeQ, { maxLength: limits.maxQueryLength });
  const geo = parseGeoQuery(
    { georel: params.get('georel'), geometry: params.get('geometry'), coordinates: params.get('coordinates'), geoproperty: params.get('geoproperty') },
    terms,
    { maxGeometryVertices: limits.maxGeometryVertices },
  );
  if (geo !== undefined) query.geo = geo;
  const temporal = parseTemporalQuery(
    { timerel: params.get('timerel'), timeAt: params.get('timeAt'), endTimeAt: params.get('endTimeAt'), timeproperty: params.get('timeproperty') },
    false,
  );
  if (temporal.window.rel !== undefined) query.temporal = temporal.window;

  // Accepted as the OpenAPI lists them; they shape entity output, which a registration query has none of.
  const lang = params.get('lang');
  if (lang !== undefined) parseLang(lang);
  const geometryProperty = params.get('geometryProperty');
  if (geometryProperty !== undefined && !isValidName(geometryProperty)) {
    throw badRequestData(`geometryProperty "${geometryProperty}" is not a valid attribute name`, 'Invalid geometryProperty');
  }

  const filters = ['selectors', 'attrs', 'q', 'csf', 'scopeQ', 'geo', 'temporal'] as const;
  if (!filters.some((f) => query[f] !== undefined)) return undefined;
  // Without a temporal query only registrations of latest information (no time intervals) are considered.
  query.latestOnly = query.temporal === undefined;
  return query;
}
