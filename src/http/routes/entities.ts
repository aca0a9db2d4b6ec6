// Routes of the entity API (GS CIM 009 §6.4–6.7): HTTP ↔ EntityService, nothing else.
import { badRequestData } from '../../core/errors.ts';
import type { JsonObject } from '../../core/json.ts';
import type { TermMap } from '../../core/jsonld/term-map.ts';
import { entityMatchesAttrs } from '../../core/model/projection.ts';
import { renderEntity } from '../../core/model/render-entity.ts';
import { renderFeature } from '../../core/model/render-geojson.ts';
import { isAbsoluteUri } from '../../core/names.ts';
import { NgsiError, notFound } from '../../core/errors.ts';
import type { Entity } from '../../core/model/entity.ts';
import type { Federation } from '../../services/federation.ts';
import type { WriteRequest } from '../../services/federation-writes.ts';
import type { UpdateResult } from '../../core/model/write-ops.ts';
import { forwardContext, warningHeaders } from '../forwarding.ts';
import { parseTypeExpr } from '../../core/query/type-expr.ts';
import { parseDateTime } from '../../core/datetime.ts';
import type { EntityService, EntityTarget } from '../../services/entities.ts';
import { GEO_JSON_TYPE } from '../media-types.ts';
import type { OperationRequest, OperationResponse, RouteTable } from '../operation.ts';
import { checkAttrName, checkEntityId, locationOf } from '../path-ids.ts';
import { parseFormat, parseOptionTokens, parseReadOptions } from '../read-options.ts';
import { API_ROOT } from '../app.ts';
import { ENTITY_MAP_PARAMS, announce } from '../entity-map-header.ts';
import { HELD_LOCALLY } from '../../core/entity-map/model.ts';
import type { EntityMapping } from './query.ts';

function target(req: OperationRequest): EntityTarget {
  const id = checkEntityId(req.path.entityId);
  const type = req.query.get('type');
  return type === undefined ? { id } : { id, type: parseTypeExpr(type, (n) => req.context.terms.expandTerm(n)) };
}

function updateResultResponse(result: { updated: string[]; notUpdated: unknown[] }): OperationResponse {
  if (result.notUpdated.length === 0) return { status: 204 };
  return { status: 207, body: result as unknown as JsonObject };
}

/** The type selector of a create body (its types, any of them), for matching registrations; none when invalid. */
function createType(req: OperationRequest, body: JsonObject): { type?: EntityTarget['type'] } {
  const types = (Array.isArray(body.type) ? body.type : [body.type]).filter((t): t is string => typeof t === 'string' && /^[^,;|()!]+$/.test(t));
  if (types.length === 0) return {};
  try {
    return { type: parseTypeExpr(types.join(','), (n) => req.context.terms.expandTerm(n)) };
  } catch {
    return {};
  }
}

/** The local entity, or null when there is none (a remote source may still hold it). */
async function localOrNull(entities: EntityService, req: OperationRequest, t: EntityTarget): Promise<Entity | null> {
  try {
    return await entities.retrieve(req.tenant, t);
  } catch (e) {
    if (e instanceof NgsiError && e.kind === 'ResourceNotFound') return null;
    throw e;
  }
}

const emptyId = async (): Promise<OperationResponse> => {
  throw badRequestData('The entity id in the path is empty', 'Missing entity id');
};

export function entityRoutes(entities: EntityService, federation?: Federation, emaps?: EntityMapping): RouteTable {
  const terms = (req: OperationRequest): TermMap => req.context.terms;
  const idPath = (id: string): string => encodeURIComponent(id).replace(/%3A/gi, ':');
  /** Passes the listed URL parameters on to context sources. */
  const passOn = (req: OperationRequest, names: readonly string[]): [string, string][] =>
    req.query.entries.filter(([k]) => names.includes(k)).map(([k, v]) => [k, v]);

  /**
   * A write with registered sources taking part (distributed operation, §5.12), or null when none does and
   * the write is purely local.
   */
  async function federated(
    req: OperationRequest,
    t: EntityTarget,
    w: Omit<WriteRequest, 'id' | 'type' | 'typeParam'>,
    local: (body: JsonObject | undefined) => Promise<UpdateResult | void>,
  ): Promise<OperationResponse | null> {
    if (federation === undefined) return null;
    const typeParam = req.query.get('type');
    const outcome = await federation.write(forwardContext(req, req.query.bool('local')), { ...w, ...t, ...(typeParam !== undefined ? { typeParam } : {}) }, local);
    if (outcome === null) return null;
    if (outcome.status === 404) throw notFound(`Entity ${t.id} was not found`, 'Entity not found');
    if (outcome.status === 204) return { status: 204 };
    return { status: 207, body: outcome.body };
  }

  return {
    '/entities': {
      POST: {
        params: [],
        body: 'object',
        offers: 'ngsi',
        createsTenant: true,
        async handle(req) {
          const body = req.body as JsonObject;
          if (typeof body.id === 'string' && body.id !== '') {
            const id = body.id;
            const location = { location: locationOf(`${API_ROOT}/entities`, id) };
            const res = await federated(req, { id, ...createType(req, body) }, { op: 'createEntity', method: 'POST', path: '/entities', params: [], body, bodyIsAttributes: true }, async (b) => {
              await entities.create(req.tenant, b ?? body, terms(req));
            });
            if (res !== null) return res.status === 204 ? { status: 201, headers: location } : { ...res, headers: location };
          }
          const id = await entities.create(req.tenant, body, terms(req));
          return { status: 201, headers: { location: locationOf(`${API_ROOT}/entities`, id) } };
        },
      },
      PUT: { params: [], offers: 'ngsi', body: 'any', handle: emptyId },
      PATCH: { params: [], offers: 'ngsi', body: 'any', handle: emptyId },
    },
    '/entities/:entityId': {
      GET: {
        params: ['type', 'attrs', 'pick', 'omit', 'format', 'options', 'lang', 'geometryProperty', 'datasetId', 'local', ...(emaps === undefined ? [] : ENTITY_MAP_PARAMS)],
        offers: 'ngsi-geo',
        async handle(req) {
          const t = target(req);
          const geo = req.responseType === GEO_JSON_TYPE;
          const opts = parseReadOptions(req.query, terms(req), geo);
          const local = req.query.bool('local');
          const wantsMap = emaps !== undefined && req.query.bool('entityMap');
          const lifetime = emaps?.maps.parseLifetime(req.query.get('entityMapLifetime'));
          let heldBy = [HELD_LOCALLY];
          let entity: Entity;
          let headers: Record<string, string> = {};
          const attrs = opts.projection?.attrs === undefined ? undefined : [...opts.projection.attrs];
          const typeParam = req.query.get('type');
          const federated =
            federation === undefined
              ? null
              : await federation.retrieve(forwardContext(req, local), { ...t, ...(typeParam !== undefined ? { typeParam } : {}) }, attrs, () => localOrNull(entities, req, t));
          if (federated === null) entity = await entities.retrieve(req.tenant, t);
          else {
            headers = warningHeaders(federated.warnings);
            if (federated.value === null) {
              const err = notFound(`Entity ${t.id} was not found`, 'Entity not found');
              return { status: 404, headers, body: err.toProblem() as unknown as JsonObject, context: 'none' };
            }
            entity = federated.value;
            heldBy = federated.heldBy;
          }
          if (!entityMatchesAttrs(entity, opts.projection)) throw notFound(`Entity ${t.id} has none of the requested attributes`, 'Entity not found');
          const body = geo ? renderFeature(entity, terms(req), opts, opts.geometryProperty) : renderEntity(entity, terms(req), opts);
          if (body === null) throw notFound(`The projection leaves nothing of entity ${t.id}`, 'Entity not found');
          // entityMap=true (§19): a new map holding the entity (and the sources it came from), announced with the 200.
          if (wantsMap && emaps !== undefined && lifetime !== undefined) {
            Object.assign(headers, announce(await emaps.mapQueries.createFor(req.tenant, [{ entityId: entity.id, sources: heldBy }], lifetime), false));
          }
          return { status: 200, headers, body, context: 'object' };
        },
      },
      DELETE: {
        params: ['type', 'local'],
        offers: 'ngsi',
        async handle(req) {
          const t = target(req);
          const res = await federated(req, t, { op: 'deleteEntity', method: 'DELETE', path: `/entities/${idPath(t.id)}`, params: [], bodyIsAttributes: false }, () =>
            entities.remove(req.tenant, t),
          );
          if (res !== null) return res;
          await entities.remove(req.tenant, t);
          return { status: 204 };
        },
      },
      PATCH: {
        params: ['type', 'options', 'format', 'observedAt', 'lang', 'local'],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          const t = target(req);
          const options = parseOptionTokens(req.query, ['keyValues', 'simplified', 'normalized', 'concise']);
          const simplified = parseFormat(req.query, options) === 'keyValues';
          const observedAtRaw = req.query.get('observedAt');
          let observedAt: string | undefined;
          if (observedAtRaw !== undefined) {
            observedAt = parseDateTime(observedAtRaw) ?? undefined;
            if (observedAt === undefined) throw badRequestData(`observedAt "${observedAtRaw}" is not a DateTime`, 'Invalid observedAt');
          }
          const lang = req.query.get('lang');
          const body = req.body as JsonObject;
          const w = { op: 'mergeEntity' as const, method: 'PATCH' as const, path: `/entities/${idPath(t.id)}`, params: passOn(req, ['options', 'format', 'observedAt', 'lang']), body, bodyIsAttributes: true };
          const res = await federated(req, t, w, (b) => entities.merge(req.tenant, t, b ?? body, terms(req), { simplified, observedAt, lang }));
          if (res !== null) return res;
          await entities.merge(req.tenant, t, body, terms(req), { simplified, observedAt, lang });
          return { status: 204 };
        },
      },
      PUT: {
        params: ['type', 'local'],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          const t = target(req);
          const body = req.body as JsonObject;
          const w = { op: 'replaceEntity' as const, method: 'PUT' as const, path: `/entities/${idPath(t.id)}`, params: [], body, bodyIsAttributes: true };
          const res = await federated(req, t, w, (b) => entities.replace(req.tenant, t, b ?? body, terms(req)));
          if (res !== null) return res;
          await entities.replace(req.tenant, t, body, terms(req));
          return { status: 204 };
        },
      },
    },
    '/entities/:entityId/attrs': {
      POST: {
        params: ['type', 'options', 'local'],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          const t = target(req);
          const options = parseOptionTokens(req.query, ['noOverwrite']);
          const body = req.body as JsonObject;
          const noOverwrite = options.has('noOverwrite');
          const w = { op: 'appendAttrs' as const, method: 'POST' as const, path: `/entities/${idPath(t.id)}/attrs`, params: passOn(req, ['options']), body, bodyIsAttributes: true };
          const res = await federated(req, t, w, (b) => entities.append(req.tenant, t, b ?? body, terms(req), noOverwrite));
          if (res !== null) return res;
          return updateResultResponse(await entities.append(req.tenant, t, body, terms(req), noOverwrite));
        },
      },
      PATCH: {
        params: ['type', 'local'],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          const t = target(req);
          const body = req.body as JsonObject;
          const w = { op: 'updateAttrs' as const, method: 'PATCH' as const, path: `/entities/${idPath(t.id)}/attrs`, params: [], body, bodyIsAttributes: true };
          const res = await federated(req, t, w, (b) => entities.update(req.tenant, t, b ?? body, terms(req)));
          if (res !== null) return res;
          return updateResultResponse(await entities.update(req.tenant, t, body, terms(req)));
        },
      },
    },
    '/entities/:entityId/attrs/:attrId': {
      PATCH: {
        params: ['type', 'local'],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          const t = target(req);
          const attr = checkAttrName(req.path.attrId);
          const body = req.body as JsonObject;
          const w = { op: 'updateAttrs' as const, method: 'PATCH' as const, path: `/entities/${idPath(t.id)}/attrs/${encodeURIComponent(attr)}`, params: [], body, bodyIsAttributes: false, attrs: [terms(req).expandTerm(attr)] };
          const res = await federated(req, t, w, () => entities.partialUpdate(req.tenant, t, attr, body, terms(req)));
          if (res !== null) return res;
          await entities.partialUpdate(req.tenant, t, attr, body, terms(req));
          return { status: 204 };
        },
      },
      PUT: {
        params: ['type', 'local'],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          const t = target(req);
          const attr = checkAttrName(req.path.attrId);
          const body = req.body as JsonObject;
          const w = { op: 'replaceAttrs' as const, method: 'PUT' as const, path: `/entities/${idPath(t.id)}/attrs/${encodeURIComponent(attr)}`, params: [], body, bodyIsAttributes: false, attrs: [terms(req).expandTerm(attr)] };
          const res = await federated(req, t, w, () => entities.replaceAttr(req.tenant, t, attr, body, terms(req)));
          if (res !== null) return res;
          await entities.replaceAttr(req.tenant, t, attr, body, terms(req));
          return { status: 204 };
        },
      },
      DELETE: {
        params: ['type', 'datasetId', 'deleteAll', 'local'],
        offers: 'ngsi',
        async handle(req) {
          const t = target(req);
          const attr = checkAttrName(req.path.attrId);
          const deleteAll = req.query.bool('deleteAll');
          const datasetId = req.query.get('datasetId');
          if (datasetId !== undefined && datasetId !== '@none' && !isAbsoluteUri(datasetId)) {
            throw badRequestData(`datasetId "${datasetId}" is not a URI`, 'Invalid datasetId');
          }
          const options = { datasetId: datasetId === '@none' ? undefined : datasetId, deleteAll };
          const w = { op: 'deleteAttrs' as const, method: 'DELETE' as const, path: `/entities/${idPath(t.id)}/attrs/${encodeURIComponent(attr)}`, params: passOn(req, ['datasetId', 'deleteAll']), bodyIsAttributes: false, attrs: [terms(req).expandTerm(attr)] };
          const res = await federated(req, t, w, () => entities.deleteAttr(req.tenant, t, attr, terms(req), options));
          if (res !== null) return res;
          await entities.deleteAttr(req.tenant, t, attr, terms(req), options);
          return { status: 204 };
        },
      },
    },
  };
}
