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
import type { TemporalQueryService } from '../../services/temporal-queries.ts';
import type { Federation } from '../../services/federation.ts';
import type { TemporalForm } from '../../services/federation-temporal.ts';
import { forwardContext, warningHeaders } from '../forwarding.ts';
import { API_ROOT } from '../app.ts';
import type { QueryLimits } from '../entity-query-params.ts';
import type { OperationRequest, OperationResponse, RouteTable } from '../operation.ts';
import { pageLinks, parsePage, type PageLimits } from '../pagination.ts';
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

export function temporalRoutes(provision: TemporalService, queries: TemporalQueryService, limits: TemporalRouteLimits, federation?: Federation): RouteTable {
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
    if (parsed.shape.kind === 'aggregated') {
      const { methods, period, sysAttrs, projection } = parsed.shape;
      // Aggregates of registered sources merge with the local ones (distributed operation, §5.12).
      const federated =
        federation === undefined
          ? null
          : await federation.aggregateQuery(forwardContext(req, req.query.bool('local')), parsed.request, page, form, { methods, period }, (p, asked) =>
              queries.aggregate(req.tenant, parsed.request, { methods: asked, period }, p),
            );
      if (federated !== null) Object.assign(headers, warningHeaders(federated.warnings));
      const res = federated?.value ?? (await queries.aggregate(req.tenant, parsed.request, { methods, period }, page));
      addPaging(res, res.entities.length);
      const bodies = res.entities
        .map((e) => renderAggregatedEntity(e, terms(req), { sysAttrs, ...(projection ? { projection } : {}), kinds: res.kinds[e.entity.id] ?? {} }))
        .filter((b): b is JsonObject => b !== null);
      return { status: 200, headers, body: bodies, context: 'each', serialize: stringifyAggregated };
    }
    const render = parsed.shape.render;
    // Instances from registered sources merge with local history (distributed operation, §5.12).
    const federated =
      federation === undefined ? null : await federation.temporalQuery(forwardContext(req, req.query.bool('local')), parsed.request, page, form, (p) => queries.query(req.tenant, parsed.request, p));
    if (federated !== null) Object.assign(headers, warningHeaders(federated.warnings));
    const res = federated?.value ?? (await queries.query(req.tenant, parsed.request, page));
    addPaging(res, res.entities.length);
    const bodies = res.entities.map((e) => renderTemporalEntity(e.entity, e.attrs, terms(req), render)).filter((b): b is JsonObject => b !== null);
    if (res.contentRange !== undefined) headers['content-range'] = res.contentRange;
    return { status: res.contentRange !== undefined ? 206 : 200, headers, body: bodies, context: 'each' };
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
        params: [...SELECTION, ...TEMPORAL_PARAMS, ...TEMPORAL_SHAPING, ...PAGING],
        offers: 'ngsi',
        async handle(req) {
          return answerQuery(req, temporalQueryFromParams(req.query, terms(req), limits), '/temporal/entities', { method: 'GET', params: req.query.entries });
        },
      },
    },
    '/temporal/entityOperations/query': {
      POST: {
        params: ['format', 'options', 'local', 'expandValues', 'jsonKeys', ...PAGING],
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
        params: ['attrs', ...TEMPORAL_PARAMS, ...TEMPORAL_SHAPING, 'local'],
        offers: 'ngsi',
        async handle(req) {
          const id = checkEntityId(req.path.entityId);
          const parsed = temporalRetrieveFromParams(req.query, terms(req));
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
