// Routes of the entity API (GS CIM 009 §6.4–6.7): HTTP ↔ EntityService, nothing else.
import { badRequestData } from '../../core/errors.ts';
import type { JsonObject } from '../../core/json.ts';
import type { TermMap } from '../../core/jsonld/term-map.ts';
import { entityMatchesAttrs } from '../../core/model/projection.ts';
import { renderEntity } from '../../core/model/render-entity.ts';
import { renderFeature } from '../../core/model/render-geojson.ts';
import { isAbsoluteUri } from '../../core/names.ts';
import { notFound } from '../../core/errors.ts';
import { parseTypeExpr } from '../../core/query/type-expr.ts';
import { parseDateTime } from '../../core/datetime.ts';
import type { EntityService, EntityTarget } from '../../services/entities.ts';
import { GEO_JSON_TYPE } from '../media-types.ts';
import type { OperationRequest, OperationResponse, RouteTable } from '../operation.ts';
import { checkAttrName, checkEntityId, locationOf } from '../path-ids.ts';
import { parseFormat, parseOptionTokens, parseReadOptions } from '../read-options.ts';
import { API_ROOT } from '../app.ts';

function target(req: OperationRequest): EntityTarget {
  const id = checkEntityId(req.path.entityId);
  const type = req.query.get('type');
  return type === undefined ? { id } : { id, type: parseTypeExpr(type, (n) => req.context.terms.expandTerm(n)) };
}

function updateResultResponse(result: { updated: string[]; notUpdated: unknown[] }): OperationResponse {
  if (result.notUpdated.length === 0) return { status: 204 };
  return { status: 207, body: result as unknown as JsonObject };
}

const emptyId = async (): Promise<OperationResponse> => {
  throw badRequestData('The entity id in the path is empty', 'Missing entity id');
};

export function entityRoutes(entities: EntityService): RouteTable {
  const terms = (req: OperationRequest): TermMap => req.context.terms;
  return {
    '/entities': {
      POST: {
        params: [],
        body: 'object',
        offers: 'ngsi',
        createsTenant: true,
        async handle(req) {
          const id = await entities.create(req.tenant, req.body as JsonObject, terms(req));
          return { status: 201, headers: { location: locationOf(`${API_ROOT}/entities`, id) } };
        },
      },
      PUT: { params: [], offers: 'ngsi', body: 'any', handle: emptyId },
      PATCH: { params: [], offers: 'ngsi', body: 'any', handle: emptyId },
    },
    '/entities/:entityId': {
      GET: {
        params: ['type', 'attrs', 'pick', 'omit', 'format', 'options', 'lang', 'geometryProperty', 'datasetId', 'local'],
        offers: 'ngsi-geo',
        async handle(req) {
          const t = target(req);
          const geo = req.responseType === GEO_JSON_TYPE;
          const opts = parseReadOptions(req.query, terms(req), geo);
          req.query.bool('local');
          const entity = await entities.retrieve(req.tenant, t);
          if (!entityMatchesAttrs(entity, opts.projection)) throw notFound(`Entity ${t.id} has none of the requested attributes`, 'Entity not found');
          const body = geo ? renderFeature(entity, terms(req), opts, opts.geometryProperty) : renderEntity(entity, terms(req), opts);
          if (body === null) throw notFound(`The projection leaves nothing of entity ${t.id}`, 'Entity not found');
          return { status: 200, body, context: 'object' };
        },
      },
      DELETE: {
        params: ['type', 'local'],
        offers: 'ngsi',
        async handle(req) {
          await entities.remove(req.tenant, target(req));
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
          await entities.merge(req.tenant, t, req.body as JsonObject, terms(req), { simplified, observedAt, lang });
          return { status: 204 };
        },
      },
      PUT: {
        params: ['type', 'local'],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          await entities.replace(req.tenant, target(req), req.body as JsonObject, terms(req));
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
          return updateResultResponse(await entities.append(req.tenant, t, req.body as JsonObject, terms(req), options.has('noOverwrite')));
        },
      },
      PATCH: {
        params: ['type', 'local'],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          return updateResultResponse(await entities.update(req.tenant, target(req), req.body as JsonObject, terms(req)));
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
          await entities.partialUpdate(req.tenant, t, attr, req.body as JsonObject, terms(req));
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
          await entities.replaceAttr(req.tenant, t, attr, req.body as JsonObject, terms(req));
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
          await entities.deleteAttr(req.tenant, t, attr, terms(req), { datasetId: datasetId === '@none' ? undefined : datasetId, deleteAll });
          return { status: 204 };
        },
      },
    },
  };
}
