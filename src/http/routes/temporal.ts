// Routes of the temporal API (GS CIM 009 §6.18–6.24; guide §15): HTTP ↔ temporal services, rendering,
// paging headers (NGSILD-Results-Count, Link next/prev) and the 206 + Content-Range of instance paging.
import { NgsiError, badRequestData, notFound } from '../../core/errors.ts';
import type { JsonObject } from '../../core/json.ts';
import type { TermMap } from '../../core/jsonld/term-map.ts';
import { isAbsoluteUri } from '../../core/names.ts';
import { renderAggregatedEntity, stringifyAggregated } from '../../core/temporal/render-aggregates.ts';
import { renderTemporalEntity } from '../../core/temporal/render-temporal.ts';
import type { TemporalEntityInstances } from '../../core/temporal/model.ts';
import type { TemporalService } from '../../services/temporal.ts';
import type { InstancesResult, TemporalQueryService } from '../../services/temporal-queries.ts';
import type { Federation } from '../../services/federation.ts';
import type { TemporalForm } from '../../services/federation-temporal.ts';
import { forwardContext, warningHeaders } from '../forwarding.ts';
import { API_ROOT } from '../app.ts';
import type { QueryLimits } from '../entity-query-params.ts';
import type { OperationRequest, OperationResponse, RouteTable } from '../operation.ts';
import { pageLinks, parsePage, type PageLimits } from '../pagination.ts';
import { ENTITY_MAP_HEADER, ENTITY_MAP_PARAMS, NO_MAP, announce, entityMapPath, mapIntent } from '../entity-map-header.ts';
import { HELD_LOCALLY } from '../../core/entity-map/model.ts';
import { inOrder, temporalOver } from '../../services/entity-map-queries.ts';
import type { EntityMapping } from './query.ts';
import { checkEntityId, locationOf } from '../path-ids.ts';
import {
  TEMPORAL_PARAMS,
  TEMPORAL_SHAPING,
  temporalQueryFromBody,
  temporalQueryFromParams,
  temporalRetrieveFromParams,
  type ParsedTemporalQuery,
} from '../temporal-params.ts';

const SELECTION = ['type', 'id', 'idPattern', 'attrs', 'q', 'scopeQ', 'georel', 'geometry', 'coordinates', 'geoproperty', 'csf', 'local', 'expandValues', 'jsonKeys'];
const PAGING = ['limit', 'offset', 'count'];

export interface TemporalRouteLimits extends QueryLimits, PageLimits {}

/** The local answer, or null when local history has no such entity (a registered source may hold it). */
async function localOrNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof NgsiError && e.kind === 'ResourceNotFound') return null;
    throw e;
  }
}

function instanceIdOf(req: OperationRequest): string {
  const id = req.path.instanceId;
  if (id === undefined || !isAbsoluteUri(id)) throw badRequestData(`The instance id "${id ?? ''}" is not an absolute URI`, 'Invalid instance id');
  return id;
}

export function temporalRoutes(
  provision: TemporalService,
  queries: TemporalQueryService,
  limits: TemporalRouteLimits,
  federation?: Federation,
  emaps?: EntityMapping,
): RouteTable {
  const mapParams = emaps === undefined ? [] : ENTITY_MAP_PARAMS;
  const terms = (req: OperationRequest): TermMap => req.context.terms;
  const attrOf = (req: OperationRequest): string => terms(req).expandTerm(req.path.attrId!);

  async function answerQuery(req: OperationRequest, parsed: ParsedTemporalQuery, path: string, form: TemporalForm): Promise<OperationResponse> {
    const page = parsePage(req.query, limits);
    const headers: Record<string, string> = {};
    const addPaging = (res: { total?: number; hasMore: boolean }, returned: number): void => {
      if (res.total !== undefined) headers['ngsild-results-count'] = String(res.total);
      const links = pageLinks(`${API_ROOT}${path}`, req.query, page, returned, res.hasMore);
      if (links.length > 0) headers.link = links.join(', ');
    };
    // EntityMaps (guide §19): over a live map, the page's entities are picked from its candidates first, then
    // read like any page (so instance caps, aggregation and federation apply unchanged); paging facts come
    // from the map.
    const intent = emaps === undefined ? NO_MAP : await mapIntent(req, emaps.maps);
    let status = 200;
    let request = parsed.request;
    let onMap: { ids: string[]; hasMore: boolean; total?: number } | undefined;
    if (intent.kind === 'use' && emaps !== undefined) {
      const p = await emaps.mapQueries.pageTemporalIds(req.tenant, intent.head.id, parsed.request, page);
      onMap = { ids: p.items, hasMore: p.hasMore, ...(p.total !== undefined ? { total: p.total } : {}) };
      request = temporalOver(parsed.request, p.items);
      headers[ENTITY_MAP_HEADER] = entityMapPath(intent.head.id);
    } else if (intent.kind === 'create' && emaps !== undefined) {
      Object.assign(headers, announce(await emaps.mapQueries.createForTemporal(req.tenant, parsed.request, intent.lifetime), true));
      status = 201;
    }
    const pageOf = onMap === undefined ? page : { limit: Math.max(onMap.ids.length, 1), offset: 0, count: false };
    const emptyMapPage = onMap?.ids.length === 0;
    /** A page read for the map's chosen ids, put in map order with the map's paging facts. */
    const fromMap = <R extends { entities: E[]; hasMore: boolean; total?: number }, E extends { entity: { id: string } }>(res: R): R => {
      if (onMap === undefined) return res;
      const out: R = { ...res, entities: inOrder(onMap.ids, res.entities, (e) => e.entity.id), hasMore: onMap.hasMore };
      if (onMap.total !== undefined) out.total = onMap.total;
      return out;
    };
    if (parsed.shape.kind === 'aggregated') {
      const { methods, period, sysAttrs, projection } = parsed.shape;
      // Aggregates of registered sources merge with the local ones (distributed operation, §5.12).
      const federated =
        federation === undefined || emptyMapPage
          ? null
          : await federation.aggregateQuery(forwardContext(req, req.query.bool('local')), request, pageOf, form, { methods, period }, (p, asked) =>
              queries.aggregate(req.tenant, request, { methods: asked, period }, p),
            );
      if (federated !== null) Object.assign(headers, warningHeaders(federated.warnings));
      const res = fromMap(
        emptyMapPage ? { entities: [], hasMore: false, kinds: {} } : (federated?.value ?? (await queries.aggregate(req.tenant, request, { methods, period }, pageOf))),
      );
      addPaging(res, res.entities.length);
      const bodies = res.entities
        .map((e) => renderAggregatedEntity(e, terms(req), { sysAttrs, ...(projection ? { projection } : {}), kinds: res.kinds[e.entity.id] ?? {} }))
        .filter((b): b is JsonObject => b !== null);
      return { status, headers, body: bodies, context: 'each', serialize: stringifyAggregated };
    }
    const render = parsed.shape.render;
    // Instances from registered sources merge with local history (distributed operation, §5.12).
    const federated =
      federation === undefined || emptyMapPage
        ? null
        : await federation.temporalQuery(forwardContext(req, req.query.bool('local')), request, pageOf, form, (p) => queries.query(req.tenant, request, p));
    if (federated !== null) Object.assign(headers, warningHeaders(federated.warnings));
    const res = fromMap<InstancesResult, TemporalEntityInstances>(
      emptyMapPage ? { entities: [], hasMore: false } : (federated?.value ?? (await queries.query(req.tenant, request, pageOf))),
    );
    addPaging(res, res.entities.length);
    const bodies = res.entities.map((e) => renderTemporalEntity(e.entity, e.attrs, terms(req), render)).filter((b): b is JsonObject => b !== null);
    if (res.contentRange !== undefined) headers['content-range'] = res.contentRange;
    return { status: res.contentRange !== undefined ? 206 : status, headers, body: bodies, context: 'each' };
  }

  return {
    '/temporal/entities': {
      POST: {
        params: ['local'],
        body: 'object',
        offers: 'ngsi',
        createsTenant: true,
        async handle(req) {
          req.query.bool('local');
          const body = req.body as JsonObject;
          const created = await provision.create(req.tenant, body, terms(req));
          if (!created) return { status: 204 };
          return { status: 201, headers: { location: locationOf(`${API_ROOT}/temporal/entities`, String(body.id ?? body['@id'])) } };
        },
      },
      GET: {
        params: [...SELECTION, ...TEMPORAL_PARAMS, ...TEMPORAL_SHAPING, ...PAGING, ...mapParams],
        offers: 'ngsi',
        async handle(req) {
          return answerQuery(req, temporalQueryFromParams(req.query, terms(req), limits), '/temporal/entities', { method: 'GET', params: req.query.entries });
        },
      },
    },
    '/temporal/entityOperations/query': {
      POST: {
        params: ['format', 'options', 'local', 'expandValues', 'jsonKeys', ...PAGING, ...mapParams],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          return answerQuery(req, temporalQueryFromBody(req.body as JsonObject, req.query, terms(req), limits), '/temporal/entityOperations/query', {
            method: 'POST',
            body: req.body as JsonObject,
          });
        },
      },
    },
    '/temporal/entities/:entityId': {
      GET: {
        params: ['attrs', ...TEMPORAL_PARAMS, ...TEMPORAL_SHAPING, 'local', ...mapParams],
        offers: 'ngsi',
        async handle(req) {
          const id = checkEntityId(req.path.entityId);
          const parsed = temporalRetrieveFromParams(req.query, terms(req));
          const wantsMap = emaps !== undefined && req.query.bool('entityMap');
          const lifetime = emaps?.maps.parseLifetime(req.query.get('entityMapLifetime'));
          /** entityMap=true (§19): a new map holding the entity, announced once the entity was found. */
          const mapHeaders = async (): Promise<Record<string, string>> =>
            wantsMap && emaps !== undefined && lifetime !== undefined ? announce(await emaps.mapQueries.createFor(req.tenant, [{ entityId: id, sources: [HELD_LOCALLY] }], lifetime), false) : {};
          if (parsed.shape.kind === 'aggregated') {
            const { methods, period, sysAttrs, projection } = parsed.shape;
            const federated =
              federation === undefined
                ? null
                : await federation.aggregateRetrieve(forwardContext(req, req.query.bool('local')), id, parsed.request, req.query.entries, { methods, period }, (asked) =>
                    localOrNull(() => queries.retrieveAggregated(req.tenant, id, parsed.request, { methods: asked, period })),
                  );
            const headers: Record<string, string> = federated === null ? {} : warningHeaders(federated.warnings);
            if (federated !== null && federated.value === null) {
              const err = notFound(`Entity ${id} has no temporal representation`, 'Entity not found');
              return { status: 404, headers, body: err.toProblem() as unknown as JsonObject, context: 'none' };
            }
            const res = federated?.value ?? (await queries.retrieveAggregated(req.tenant, id, parsed.request, { methods, period }));
            const body = renderAggregatedEntity(res.entity, terms(req), { sysAttrs, ...(projection ? { projection } : {}), kinds: res.kinds });
            Object.assign(headers, await mapHeaders());
            return { status: 200, headers, body: body ?? { id }, context: 'object', serialize: stringifyAggregated };
          }
          const federated =
            federation === undefined
              ? null
              : await federation.temporalRetrieve(forwardContext(req, req.query.bool('local')), id, parsed.request, req.query.entries, () => localOrNull(() => queries.retrieve(req.tenant, id, parsed.request)));
          const headers: Record<string, string> = federated === null ? {} : warningHeaders(federated.warnings);
          let res: { entity: TemporalEntityInstances; contentRange?: string };
          if (federated === null) res = await queries.retrieve(req.tenant, id, parsed.request);
          else if (federated.value.entity === null) {
            const err = notFound(`Entity ${id} has no temporal representation`, 'Entity not found');
            return { status: 404, headers, body: err.toProblem() as unknown as JsonObject, context: 'none' };
          } else res = { entity: federated.value.entity, ...(federated.value.contentRange !== undefined ? { contentRange: federated.value.contentRange } : {}) };
          const body = renderTemporalEntity(res.entity.entity, res.entity.attrs, terms(req), parsed.shape.render);
          if (res.contentRange !== undefined) headers['content-range'] = res.contentRange;
          Object.assign(headers, await mapHeaders());
          return { status: res.contentRange !== undefined ? 206 : 200, headers, body: body ?? { id }, context: 'object' };
        },
      },
      DELETE: {
        params: ['local'],
        offers: 'ngsi',
        async handle(req) {
          req.query.bool('local');
          await provision.deleteEntity(req.tenant, checkEntityId(req.path.entityId));
          return { status: 204 };
        },
      },
    },
    '/temporal/entities/:entityId/attrs': {
      POST: {
        params: ['local'],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          req.query.bool('local');
          await provision.addAttrs(req.tenant, checkEntityId(req.path.entityId), req.body as JsonObject, terms(req));
          return { status: 204 };
        },
      },
    },
    '/temporal/entities/:entityId/attrs/:attrId': {
      DELETE: {
        params: ['datasetId', 'deleteAll', 'local'],
        offers: 'ngsi',
        async handle(req) {
          const id = checkEntityId(req.path.entityId);
          const deleteAll = req.query.bool('deleteAll');
          req.query.bool('local');
          const datasetId = req.query.get('datasetId');
          if (datasetId !== undefined && datasetId !== '@none' && !isAbsoluteUri(datasetId)) {
            throw badRequestData(`datasetId "${datasetId}" is not a URI`, 'Invalid datasetId');
          }
          await provision.deleteAttr(req.tenant, id, attrOf(req), { ...(datasetId !== undefined && datasetId !== '@none' ? { datasetId } : {}), deleteAll });
          return { status: 204 };
        },
      },
    },
    '/temporal/entities/:entityId/attrs/:attrId/:instanceId': {
      PATCH: {
        params: ['local'],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          const id = checkEntityId(req.path.entityId);
          const instanceId = instanceIdOf(req);
          req.query.bool('local');
          await provision.patchInstance(req.tenant, id, attrOf(req), instanceId, req.body as JsonObject, terms(req));
          return { status: 204 };
        },
      },
      DELETE: {
        params: ['local'],
        offers: 'ngsi',
        async handle(req) {
          const id = checkEntityId(req.path.entityId);
          const instanceId = instanceIdOf(req);
          req.query.bool('local');
          await provision.deleteInstance(req.tenant, id, attrOf(req), instanceId, req.path.attrId!);
          return { status: 204 };
        },
      },
    },
  };
}
