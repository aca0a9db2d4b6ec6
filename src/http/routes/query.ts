// Routes of Query Entities (GET /entities, POST /entityOperations/query) and Purge Entities (DELETE
// /entities) (GS CIM 009 §6.4.3.2, §6.23, §5.6.21): HTTP ↔ EntityQueryService, rendering, paging headers.
import { badRequestData } from '../../core/errors.ts';
import type { JsonObject } from '../../core/json.ts';
import type { EntityQuery } from '../../core/query/entity-query.ts';
import { entityMatchesAttrs } from '../../core/model/projection.ts';
import { renderEntity } from '../../core/model/render-entity.ts';
import { renderFeature, renderFeatureCollection } from '../../core/model/render-geojson.ts';
import { isValidName } from '../../core/names.ts';
import type { EntityQueryService, PurgeScope, QueryResult } from '../../services/entity-queries.ts';
import type { Federation, QueryForm } from '../../services/federation.ts';
import { forwardContext, warningHeaders } from '../forwarding.ts';
import { API_ROOT } from '../app.ts';
import { entityQueryFromBody, entityQueryFromParams, type QueryLimits } from '../entity-query-params.ts';
import { GEO_JSON_TYPE } from '../media-types.ts';
import type { OperationRequest, OperationResponse, RouteTable } from '../operation.ts';
import { pageLinks, parsePage, type PageLimits } from '../pagination.ts';
import { ENTITY_MAP_HEADER, ENTITY_MAP_PARAMS, NO_MAP, announce, entityMapPath, mapIntent } from '../entity-map-header.ts';
import type { EntityMapService } from '../../services/entity-maps.ts';
import type { EntityMapQueries, FederatedQuery } from '../../services/entity-map-queries.ts';
import { QueryParams } from '../query-params.ts';
import { parseReadOptions } from '../read-options.ts';

const SELECTION = ['type', 'id', 'idPattern', 'attrs', 'q', 'scopeQ', 'georel', 'geometry', 'coordinates', 'geoproperty', 'csf', 'local', 'expandValues', 'jsonKeys'];
const SHAPING = ['pick', 'omit', 'lang', 'format', 'options', 'geometryProperty', 'datasetId'];
const PAGING = ['limit', 'offset', 'count', 'orderBy', 'collation'];

export interface QueryRouteLimits extends QueryLimits, PageLimits {}

/** EntityMaps (guide §19), when the store keeps them. */
export interface EntityMapping {
  maps: EntityMapService;
  mapQueries: EntityMapQueries;
}

export function queryRoutes(queries: EntityQueryService, limits: QueryRouteLimits, federation?: Federation, emaps?: EntityMapping): RouteTable {
  const mapParams = emaps === undefined ? [] : ENTITY_MAP_PARAMS;
  async function answer(req: OperationRequest, query: EntityQuery, shapingParams: QueryParams, path: string, form: QueryForm, local: boolean): Promise<OperationResponse> {
    const terms = req.context.terms;
    const geo = req.responseType === GEO_JSON_TYPE;
    const opts = parseReadOptions(shapingParams, terms, geo);
    const page = parsePage(req.query, limits);
    const headers: Record<string, string> = {};
    const intent = emaps === undefined ? NO_MAP : await mapIntent(req, emaps.maps);
    const runFederated: FederatedQuery | undefined =
      federation === undefined ? undefined : (p) => federation.query(forwardContext(req, local), query, p, form, (lp) => queries.query(req.tenant, query, lp));
    let status = 200;
    let result: QueryResult;
    if (intent.kind === 'use' && emaps !== undefined) {
      // Paging over a live map (§19): its candidates only, filters re-checked; the header is echoed.
      const mapped = await emaps.mapQueries.pageEntities(req.tenant, intent.head.id, query, page, runFederated);
      Object.assign(headers, warningHeaders(mapped.warnings), { [ENTITY_MAP_HEADER]: entityMapPath(intent.head.id) });
      result = mapped.result;
    } else {
      const federated = runFederated === undefined ? null : await runFederated(page);
      if (federated !== null) Object.assign(headers, warningHeaders(federated.warnings));
      result = federated?.value ?? (await queries.query(req.tenant, query, page));
      if (intent.kind === 'create' && emaps !== undefined) {
        const created = await emaps.mapQueries.createForEntities(req.tenant, query, intent.lifetime, runFederated);
        Object.assign(headers, announce(created.head, true));
        status = 201;
      }
    }
    const bodies: JsonObject[] = [];
    for (const entity of result.entities) {
      if (!entityMatchesAttrs(entity, opts.projection)) continue;
      const body = geo ? renderFeature(entity, terms, opts, opts.geometryProperty) : renderEntity(entity, terms, opts);
      if (body !== null) bodies.push(body);
    }
    if (result.total !== undefined) headers['ngsild-results-count'] = String(result.total);
    const links = pageLinks(`${API_ROOT}${path}`, req.query, page, result.entities.length, result.hasMore);
    if (links.length > 0) headers.link = links.join(', ');
    if (geo) return { status, headers, body: renderFeatureCollection(bodies), context: 'object' };
    return { status, headers, body: bodies, context: 'each' };
  }

  return {
    '/entities': {
      GET: {
        params: [...SELECTION, ...SHAPING, ...PAGING, ...mapParams],
        offers: 'ngsi-geo',
        async handle(req) {
          const query = entityQueryFromParams(req.query, req.context.terms, limits);
          return answer(req, query, req.query, '/entities', { method: 'GET', params: req.query.entries }, req.query.bool('local'));
        },
      },
      DELETE: {
        params: [...SELECTION.filter((p) => p !== 'csf'), 'drop', 'keep'],
        offers: 'ngsi',
        async handle(req) {
          const drop = req.query.get('drop');
          const keep = req.query.get('keep');
          if (drop !== undefined && keep !== undefined) throw badRequestData('drop and keep cannot be combined', 'Invalid purge');
          const query = entityQueryFromParams(req.query, req.context.terms, limits);
          const names = (drop ?? keep)?.split(',').map((s) => s.trim());
          for (const n of names ?? []) if (!isValidName(n)) throw badRequestData(`"${n}" is not a valid attribute name`, 'Invalid purge');
          const attrs = (names ?? []).map((n) => req.context.terms.expandTerm(n));
          const scope: PurgeScope = drop !== undefined ? { kind: 'drop', attrs } : keep !== undefined ? { kind: 'keep', attrs } : { kind: 'entities' };
          // Registered sources offering purgeEntity take part (distributed write, §5.12); local=true keeps it local.
          const ctx = forwardContext(req, req.query.bool('local'));
          const federated = federation === undefined ? null : await federation.purge(ctx, { query, scope, params: req.query.entries }, (spare) => queries.purge(req.tenant, query, scope, spare));
          if (federated === null) await queries.purge(req.tenant, query, scope);
          else if (federated.status === 207) return { status: 207, body: federated.body };
          return { status: 204 };
        },
      },
    },
    '/entityOperations/query': {
      POST: {
        params: ['format', 'options', 'geometryProperty', 'local', 'expandValues', 'jsonKeys', ...PAGING, ...mapParams],
        body: 'object',
        offers: 'ngsi-geo',
        async handle(req) {
          const { query, shaping } = entityQueryFromBody(req.body as JsonObject, req.query, req.context.terms, limits);
          const entries: [string, string][] = req.query.entries.filter(([k]) => ['format', 'options', 'geometryProperty'].includes(k)).map(([k, v]) => [k, v]);
          for (const [k, v] of Object.entries(shaping)) if (v !== undefined) entries.push([k, v]);
          return answer(req, query, new QueryParams('', entries), '/entityOperations/query', { method: 'POST', body: req.body as JsonObject }, req.query.bool('local'));
        },
      },
    },
  };
}
