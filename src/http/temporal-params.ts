// Temporal query input (GS CIM 009 §5.7.3, §5.7.4, §6.18–6.24; guide §15.3–15.4): URL parameters or a POST
// temporal Query body turned into the store's TemporalSelection, the q / geo filter, the temporal query and
// the representation (normalized, concise, temporalValues or aggregatedValues with methods and period).
import { badRequestData, invalidRequest } from '../core/errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';
import type { TermMap } from '../core/jsonld/term-map.ts';
import { parseLang } from '../core/model/lang.ts';
import { parseProjection, type Projection } from '../core/model/projection.ts';
import { isAbsoluteUri, isValidName } from '../core/names.ts';
import type { EntityQuery } from '../core/query/entity-query.ts';
import type { AggregationMethod, PeriodDuration } from '../core/temporal/model.ts';
import { parseAggrMethods, parseAggrPeriod, parseTemporalQuery, type TemporalQueryInput } from '../core/temporal/temporal-query.ts';
import type { TemporalRenderOptions } from '../core/temporal/render-temporal.ts';
import type { TemporalRequest } from '../services/temporal-queries.ts';
import { entityQueryFromBody, entityQueryFromParams, type QueryLimits } from './entity-query-params.ts';
import type { QueryParams } from './query-params.ts';

export const TEMPORAL_PARAMS = ['timerel', 'timeAt', 'endTimeAt', 'timeproperty', 'lastN', 'aggrMethods', 'aggrPeriodDuration'];
export const TEMPORAL_SHAPING = ['pick', 'omit', 'lang', 'format', 'options', 'datasetId'];

export type TemporalShape =
  | { kind: 'instances'; render: TemporalRenderOptions }
  | { kind: 'aggregated'; methods: AggregationMethod[]; period: PeriodDuration | null; sysAttrs: boolean; projection?: Projection };

const OPTION_TOKENS = ['temporalValues', 'aggregatedValues', 'sysAttrs', 'normalized', 'concise', 'keyValues', 'simplified'];
const FORMATS: Record<string, 'normalized' | 'concise' | 'temporalValues' | 'aggregatedValues'> = {
  normalized: 'normalized',
  concise: 'concise',
  temporalValues: 'temporalValues',
  aggregatedValues: 'aggregatedValues',
  simplified: 'temporalValues',
  keyValues: 'temporalValues',
};

/** Output shaping members, as strings (URL parameters, or POST body members joined). */
export interface ShapingInput {
  format?: string;
  options?: string;
  pick?: string;
  omit?: string;
  attrs?: string;
  lang?: string;
  aggrMethods?: string | readonly string[];
  aggrPeriodDuration?: string;
}

function representation(format: string | undefined, options: Set<string>): 'normalized' | 'concise' | 'temporalValues' | 'aggregatedValues' {
  if (format !== undefined) {
    const f = FORMATS[format];
    if (f === undefined) throw invalidRequest(`Unknown format "${format}"`, 'Invalid format');
    return f;
  }
  if (options.has('temporalValues') && options.has('aggregatedValues')) {
    throw badRequestData('options may hold only one of temporalValues and aggregatedValues', 'Invalid options');
  }
  for (const token of ['aggregatedValues', 'temporalValues', 'keyValues', 'simplified', 'concise']) if (options.has(token)) return FORMATS[token]!;
  return 'normalized';
}

/** The representation of a temporal answer; aggregatedValues needs aggrMethods. */
export function parseTemporalShape(input: ShapingInput, terms: TermMap, timeProperty: TemporalRenderOptions['timeProperty']): TemporalShape {
  const options = new Set<string>();
  for (const token of input.options?.split(',') ?? []) {
    const t = token.trim();
    if (!OPTION_TOKENS.includes(t)) throw invalidRequest(`Unknown options value "${t}"`, 'Invalid options');
    options.add(t);
  }
  const format = representation(input.format, options);
  const sysAttrs = options.has('sysAttrs');
  const projection = input.pick !== undefined || input.omit !== undefined || input.attrs !== undefined ? parseProjection({ pick: input.pick, omit: input.omit, attrs: input.attrs }, terms) : undefined;
  const methods = input.aggrMethods !== undefined ? parseAggrMethods(input.aggrMethods) : undefined;
  const period = input.aggrPeriodDuration !== undefined ? parseAggrPeriod(input.aggrPeriodDuration) : null;
  if (format === 'aggregatedValues') {
    if (methods === undefined) throw badRequestData('aggregatedValues needs aggrMethods (e.g. aggrMethods=avg,max)', 'Missing aggrMethods');
    return { kind: 'aggregated', methods, period, sysAttrs, ...(projection ? { projection } : {}) };
  }
  const render: TemporalRenderOptions = { format, sysAttrs, timeProperty };
  if (projection) render.projection = projection;
  if (input.lang !== undefined) render.lang = parseLang(input.lang);
  return { kind: 'instances', render };
}

function parseDatasetIds(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const ids = raw.split(',').map((s) => s.trim());
  for (const id of ids) if (id !== '@none' && !isAbsoluteUri(id)) throw badRequestData(`datasetId "${id}" is not a URI`, 'Invalid datasetId');
  return ids;
}

function request(query: EntityQuery, temporal: TemporalQueryInput, required: boolean, datasetIds: string[] | undefined): TemporalRequest {
  const tq = parseTemporalQuery(temporal, required);
  const req: TemporalRequest = { selection: { window: tq.window }, filter: {} };
  if (query.selectors !== undefined) req.selection.selectors = query.selectors;
  if (query.attrs !== undefined) req.selection.attrs = query.attrs;
  if (query.scopeQ !== undefined) req.selection.scopeQ = query.scopeQ;
  if (datasetIds !== undefined) req.selection.datasetIds = datasetIds;
  if (query.q !== undefined) req.filter.q = query.q;
  if (query.geo !== undefined) req.filter.geo = query.geo;
  if (tq.lastN !== undefined) req.lastN = tq.lastN;
  if (tq.timeAt !== undefined) req.timeAt = tq.timeAt;
  if (tq.endTimeAt !== undefined) req.endTimeAt = tq.endTimeAt;
  return req;
}

const temporalInput = (params: QueryParams): TemporalQueryInput => ({
  timerel: params.get('timerel'),
  timeAt: params.get('timeAt'),
  endTimeAt: params.get('endTimeAt'),
  timeproperty: params.get('timeproperty'),
  lastN: params.get('lastN'),
});

const shapingInput = (params: QueryParams): ShapingInput => ({
  format: params.get('format'),
  options: params.get('options'),
  pick: params.get('pick'),
  omit: params.get('omit'),
  attrs: params.get('attrs'),
  lang: params.get('lang'),
  aggrMethods: params.get('aggrMethods'),
  aggrPeriodDuration: params.get('aggrPeriodDuration'),
});

export interface ParsedTemporalQuery {
  request: TemporalRequest;
  shape: TemporalShape;
}

/** GET /temporal/entities: Query Entities' selection and breadth rule, plus the mandatory temporal query. */
export function temporalQueryFromParams(params: QueryParams, terms: TermMap, limits: QueryLimits): ParsedTemporalQuery {
  const query = entityQueryFromParams(params, terms, limits);
  const req = request(query, temporalInput(params), true, parseDatasetIds(params.get('datasetId')));
  return { request: req, shape: parseTemporalShape(shapingInput(params), terms, req.selection.window.property) };
}

/** GET /temporal/entities/{id}: attrs and the optional temporal query (without: the whole history). */
export function temporalRetrieveFromParams(params: QueryParams, terms: TermMap): ParsedTemporalQuery {
  const query: EntityQuery = {};
  const attrs = params.get('attrs');
  if (attrs !== undefined) {
    const names = attrs.split(',').map((s) => s.trim());
    for (const n of names) if (!isValidName(n)) throw badRequestData(`"${n}" in attrs is not a valid attribute name`, 'Invalid attrs');
    query.attrs = names.map((n) => terms.expandTerm(n));
  }
  const req = request(query, temporalInput(params), false, parseDatasetIds(params.get('datasetId')));
  params.bool('local');
  return { request: req, shape: parseTemporalShape(shapingInput(params), terms, req.selection.window.property) };
}

const TEMPORAL_BODY_MEMBERS = ['temporalQ', 'aggrMethods', 'aggrPeriodDuration', 'aggrParams'];

function stringMember(obj: JsonObject, key: string): string | undefined {
  const v: JsonValue | undefined = obj[key];
  if (v === undefined) return undefined;
  if (typeof v === 'number' && key === 'lastN') return String(v);
  if (typeof v !== 'string') throw badRequestData(`"${key}" must be a string`, 'Invalid temporal query');
  return v;
}

function methodsMember(v: JsonValue | undefined): string | string[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw badRequestData('"aggrMethods" must be a string or an array of strings', 'Invalid aggrMethods');
}

/** POST /temporal/entityOperations/query: a Query body with a mandatory `temporalQ`. */
export function temporalQueryFromBody(body: JsonObject, params: QueryParams, terms: TermMap, limits: QueryLimits): ParsedTemporalQuery {
  const tq = body.temporalQ;
  if (tq === undefined) throw badRequestData('A temporal query needs "temporalQ" with timerel and timeAt', 'Missing temporal query');
  if (!isJsonObject(tq)) throw badRequestData('"temporalQ" must be an object', 'Invalid temporal query');
  const aggrParams = body.aggrParams;
  if (aggrParams !== undefined && !isJsonObject(aggrParams)) throw badRequestData('"aggrParams" must be an object', 'Invalid temporal query');
  const rest: JsonObject = Object.fromEntries(Object.entries(body).filter(([k]) => !TEMPORAL_BODY_MEMBERS.includes(k)));
  const { query, shaping } = entityQueryFromBody(rest, params, terms, limits);
  const temporal: TemporalQueryInput = {
    timerel: stringMember(tq, 'timerel'),
    timeAt: stringMember(tq, 'timeAt'),
    endTimeAt: stringMember(tq, 'endTimeAt'),
    timeproperty: stringMember(tq, 'timeproperty'),
    lastN: stringMember(tq, 'lastN') ?? params.get('lastN'),
  };
  const req = request(query, temporal, true, parseDatasetIds(shaping.datasetId));
  const shape = parseTemporalShape(
    {
      format: params.get('format'),
      options: params.get('options'),
      pick: shaping.pick,
      omit: shaping.omit,
      attrs: shaping.attrs,
      lang: shaping.lang,
      aggrMethods: methodsMember(body.aggrMethods ?? aggrParams?.aggrMethods),
      aggrPeriodDuration: stringMember(body, 'aggrPeriodDuration') ?? (aggrParams ? stringMember(aggrParams, 'aggrPeriodDuration') : undefined),
    },
    terms,
    req.selection.window.property,
  );
  return { request: req, shape };
}
