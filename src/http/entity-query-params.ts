// Query Entities input (GS CIM 009 §5.7.2, §6.4.3.2, §6.23; guide §7.3): URL parameters or a POST Query body
// turned into one EntityQuery, with the breadth rule ("too wide" → 400) and the spec's validation errors.
import { badRequestData } from '../core/errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';
import type { TermMap } from '../core/jsonld/term-map.ts';
import { isAbsoluteUri, isValidName } from '../core/names.ts';
import { parseIdPattern, type EntityQuery, type EntitySelector, type OrderKey } from '../core/query/entity-query.ts';
import { parseGeoQuery } from '../core/query/geo-query.ts';
import type { QExpr } from '../core/query/q-ast.ts';
import { parseQ } from '../core/query/q-parse.ts';
import { parseScopeQ } from '../core/query/scope-q.ts';
import { parseTypeExpr } from '../core/query/type-expr.ts';
import type { QueryParams } from './query-params.ts';

export interface QueryLimits {
  maxQueryLength: number;
  maxIdPatternLength: number;
  maxGeometryVertices: number;
}

/** Entity members that are not attributes: naming only these does not make a query narrow enough. */
const SYSTEM_NAMES = ['id', 'type', 'scope', 'createdAt', 'modifiedAt', 'deletedAt', 'expiresAt', '@id', '@type'];

export function parseIdList(raw: string): string[] {
  const ids = raw.split(',').map((s) => s.trim());
  for (const id of ids) if (!isAbsoluteUri(id)) throw badRequestData(`"${id}" in id is not an absolute URI`, 'Invalid id');
  return ids;
}

function qAttrs(expr: QExpr, out: Set<string>): Set<string> {
  if (expr.type === 'and' || expr.type === 'or') for (const e of expr.items) qAttrs(e, out);
  else out.add(expr.path.attr);
  return out;
}

function parseOrderBy(raw: string, terms: TermMap): OrderKey[] {
  return raw.split(',').map((item) => {
    const [name, dir, ...rest] = item.split(';').map((s) => s.trim());
    if (!name || rest.length > 0 || (dir !== undefined && dir !== 'asc' && dir !== 'desc')) {
      throw badRequestData(`Invalid orderBy item "${item}"`, 'Invalid orderBy');
    }
    const desc = dir === 'desc';
    if (name === 'id' || name === 'createdAt' || name === 'modifiedAt') return { kind: name, desc };
    if (!isValidName(name) || SYSTEM_NAMES.includes(name)) {
      throw badRequestData(`orderBy key "${name}" is not supported (id, createdAt, modifiedAt or an attribute name)`, 'Invalid orderBy');
    }
    return { kind: 'attr', attr: terms.expandTerm(name), desc };
  });
}

interface RawQuery {
  selectors: EntitySelector[];
  typeStar: boolean;
  attrs?: string;
  q?: string;
  scopeQ?: string;
  geo: { georel?: string; geometry?: string; coordinates?: string | JsonValue; geoproperty?: string };
  orderBy?: string;
  expandValues?: string;
  local: boolean;
}

function build(raw: RawQuery, terms: TermMap, limits: QueryLimits, requireNarrow: boolean): EntityQuery {
  const query: EntityQuery = {};
  if (raw.selectors.length > 0) query.selectors = raw.selectors;
  let narrow = raw.local || raw.selectors.some((s) => s.type !== undefined);
  if (raw.attrs !== undefined) {
    const names = raw.attrs.split(',').map((s) => s.trim());
    for (const n of names) if (!isValidName(n)) throw badRequestData(`"${n}" in attrs is not a valid attribute name`, 'Invalid attrs');
    const real = names.filter((n) => !SYSTEM_NAMES.includes(n));
    if (real.length > 0) {
      query.attrs = real.map((n) => terms.expandTerm(n));
      narrow = true;
    }
  }
  if (raw.q !== undefined) {
    const expandValues = raw.expandValues?.split(',').map((s) => s.trim()).filter((s) => s !== '');
    query.q = parseQ(raw.q, terms, { maxLength: limits.maxQueryLength }, { expandValues });
    const system = new Set(SYSTEM_NAMES.map((n) => terms.expandTerm(n)));
    if ([...qAttrs(query.q, new Set())].some((a) => !system.has(a))) narrow = true;
  }
  if (raw.scopeQ !== undefined) query.scopeQ = parseScopeQ(raw.scopeQ, { maxLength: limits.maxQueryLength });
  const geo = parseGeoQuery(raw.geo, terms, { maxGeometryVertices: limits.maxGeometryVertices });
  if (geo !== undefined) {
    query.geo = geo;
    narrow = true;
  }
  if (raw.orderBy !== undefined) query.order = parseOrderBy(raw.orderBy, terms);
  if (raw.typeStar && !raw.local) throw badRequestData('type=* is only allowed with local=true', 'Invalid type');
  if (requireNarrow && !narrow) {
    throw badRequestData('The query is too wide: give at least one of type, attrs, q, a geo-query, or local=true', 'Too wide query');
  }
  return query;
}

/** GET /entities and DELETE /entities: the selection from URL parameters. */
export function entityQueryFromParams(params: QueryParams, terms: TermMap, limits: QueryLimits): EntityQuery {
  const selector: EntitySelector = {};
  const type = params.get('type');
  const typeStar = type?.trim() === '*';
  if (type !== undefined && !typeStar) selector.type = parseTypeExpr(type, (n) => terms.expandTerm(n));
  const id = params.get('id');
  if (id !== undefined) selector.ids = parseIdList(id);
  const idPattern = params.get('idPattern');
  if (idPattern !== undefined) selector.idPattern = parseIdPattern(idPattern, limits.maxIdPatternLength);
  const local = params.bool('local');
  const csf = params.get('csf');
  // No context sources are registered locally, so csf selects nothing extra; its syntax is still checked.
  if (csf !== undefined) parseQ(csf, terms, { maxLength: limits.maxQueryLength });
  return build(
    {
      selectors: Object.keys(selector).length > 0 ? [selector] : [],
      typeStar,
      attrs: params.get('attrs'),
      q: params.get('q'),
      scopeQ: params.get('scopeQ'),
      geo: { georel: params.get('georel'), geometry: params.get('geometry'), coordinates: params.get('coordinates'), geoproperty: params.get('geoproperty') },
      orderBy: params.get('orderBy'),
      expandValues: params.get('expandValues'),
      local,
    },
    terms,
    limits,
    true,
  );
}

const str = (body: JsonObject, key: string): string | undefined => {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequestData(`Query member "${key}" must be a string`, 'Invalid query');
  return v;
};

const list = (body: JsonObject, key: string): string | undefined => {
  const v = body[key];
  if (v === undefined) return undefined;
  const items = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(items) || items.length === 0 || !items.every((x) => typeof x === 'string')) {
    throw badRequestData(`Query member "${key}" must be a non-empty array of strings`, 'Invalid query');
  }
  return items.join(',');
};

export interface PostedQuery {
  query: EntityQuery;
  /** Projection and shaping members of the body, as URL-parameter strings. */
  shaping: { attrs?: string; pick?: string; omit?: string; lang?: string; datasetId?: string };
}

/** POST /entityOperations/query: the Query body (§5.2.23). */
export function entityQueryFromBody(body: JsonObject, params: QueryParams, terms: TermMap, limits: QueryLimits): PostedQuery {
  if (body.type !== 'Query') throw badRequestData('The query body must have "type": "Query"', 'Invalid query');
  if ('temporalQ' in body) throw badRequestData('temporalQ is only valid for temporal queries', 'Invalid query');
  const selectors: EntitySelector[] = [];
  let typeStar = false;
  if (body.entities !== undefined) {
    if (!Array.isArray(body.entities) || body.entities.length === 0) throw badRequestData('"entities" must be a non-empty array', 'Invalid query');
    for (const e of body.entities) {
      if (!isJsonObject(e) || typeof e.type !== 'string') throw badRequestData('Each entity selector needs a "type"', 'Invalid query');
      const selector: EntitySelector = {};
      if (e.type.trim() === '*') typeStar = true;
      else selector.type = parseTypeExpr(e.type, (n) => terms.expandTerm(n));
      if (e.id !== undefined) {
        const ids = typeof e.id === 'string' ? [e.id] : e.id;
        if (!Array.isArray(ids) || !ids.every((x) => isAbsoluteUri(x))) throw badRequestData('Selector "id" must be a URI or an array of URIs', 'Invalid query');
        selector.ids = ids as string[];
      } else if (e.idPattern !== undefined) {
        if (typeof e.idPattern !== 'string') throw badRequestData('Selector "idPattern" must be a string', 'Invalid query');
        selector.idPattern = parseIdPattern(e.idPattern, limits.maxIdPatternLength);
      }
      selectors.push(selector);
    }
  }
  let geo: RawQuery['geo'] = {};
  if (body.geoQ !== undefined) {
    if (!isJsonObject(body.geoQ)) throw badRequestData('"geoQ" must be an object', 'Invalid query');
    const g = body.geoQ;
    geo = { georel: str(g, 'georel'), geometry: str(g, 'geometry'), coordinates: g.coordinates, geoproperty: str(g, 'geoproperty') };
    if (geo.georel === undefined || geo.geometry === undefined || geo.coordinates === undefined) {
      throw badRequestData('"geoQ" needs georel, geometry and coordinates', 'Invalid query');
    }
  }
  if (body.csf !== undefined) parseQ(str(body, 'csf')!, terms, { maxLength: limits.maxQueryLength });
  const query = build(
    {
      selectors,
      typeStar,
      attrs: list(body, 'attrs'),
      q: str(body, 'q'),
      scopeQ: str(body, 'scopeQ'),
      geo,
      orderBy: params.get('orderBy'),
      expandValues: params.get('expandValues'),
      local: params.bool('local'),
    },
    terms,
    limits,
    true,
  );
  return { query, shaping: { attrs: list(body, 'attrs'), pick: list(body, 'pick'), omit: list(body, 'omit'), lang: str(body, 'lang'), datasetId: list(body, 'datasetId') } };
}
