// Routes of EntityMaps (GS CIM 009 §5.14, §6.34; guide §19): GET / PATCH / DELETE /entityMaps/{id} (and the
// 1.8.1 singular /entityMap/{id}), and GET /entityMaps?<query> / GET /temporal/entityMaps?<query>, which run
// a query and answer 201 with the new map.
import { badRequestData } from '../../core/errors.ts';
import type { JsonObject } from '../../core/json.ts';
import { isAbsoluteUri } from '../../core/names.ts';
import type { EntityQueryService } from '../../services/entity-queries.ts';
import type { Federation } from '../../services/federation.ts';
import type { FederatedQuery } from '../../services/entity-map-queries.ts';
import { announce } from '../entity-map-header.ts';
import { entityQueryFromParams, type QueryLimits } from '../entity-query-params.ts';
import { forwardContext, warningHeaders } from '../forwarding.ts';
import type { OperationRequest, OperationSpec, RouteTable } from '../operation.ts';
import { TEMPORAL_PARAMS, temporalQueryFromParams } from '../temporal-params.ts';
import type { EntityMapping } from './query.ts';

const SELECTION = ['type', 'id', 'idPattern', 'attrs', 'q', 'scopeQ', 'georel', 'geometry', 'coordinates', 'geoproperty', 'csf', 'local', 'expandValues', 'jsonKeys', 'orderBy', 'collation'];

function mapIdOf(req: OperationRequest): string {
  const id = req.path.entityMapId;
  if (id === undefined || !isAbsoluteUri(id)) throw badRequestData(`The EntityMap id "${id ?? ''}" is not an absolute URI`, 'Invalid EntityMap id');
  return id;
}

export function entityMapRoutes(emaps: EntityMapping, queries: EntityQueryService, limits: QueryLimits, options: { federation?: Federation; temporal: boolean }): RouteTable {
  const { maps, mapQueries } = emaps;
  const item: Record<'GET' | 'PATCH' | 'DELETE', OperationSpec> = {
    GET: {
      params: [],
      offers: 'ngsi',
      async handle(req) {
        return { status: 200, body: await maps.retrieve(req.tenant, mapIdOf(req)), context: 'object' };
      },
    },
    PATCH: {
      params: [],
      body: 'object',
      offers: 'ngsi',
      async handle(req) {
        await maps.update(req.tenant, mapIdOf(req), req.body as JsonObject);
        return { status: 204 };
      },
    },
    DELETE: {
      params: [],
      offers: 'ngsi',
      async handle(req) {
        await maps.remove(req.tenant, mapIdOf(req));
        return { status: 204 };
      },
    },
  };

  const routes: RouteTable = {
    '/entityMaps': {
      GET: {
        params: [...SELECTION, 'entityMapLifetime'],
        offers: 'ngsi',
        async handle(req) {
          const query = entityQueryFromParams(req.query, req.context.terms, limits);
          const lifetime = maps.parseLifetime(req.query.get('entityMapLifetime'));
          const federation = options.federation;
          const local = req.query.bool('local');
          const federated: FederatedQuery | undefined =
            federation === undefined
              ? undefined
              : (p) => federation.query(forwardContext(req, local), query, p, { method: 'GET', params: req.query.entries }, (lp) => queries.query(req.tenant, query, lp));
          const { head, warnings } = await mapQueries.createForEntities(req.tenant, query, lifetime, federated);
          return { status: 201, headers: { ...warningHeaders(warnings), ...announce(head, true) }, body: await maps.retrieve(req.tenant, head.id), context: 'object' };
        },
      },
    },
    '/entityMaps/:entityMapId': item,
    '/entityMap/:entityMapId': item,
  };
  if (options.temporal) {
    routes['/temporal/entityMaps'] = {
      GET: {
        params: [...SELECTION.filter((p) => p !== 'orderBy' && p !== 'collation'), ...TEMPORAL_PARAMS, 'datasetId', 'entityMapLifetime'],
        offers: 'ngsi',
        async handle(req) {
          const parsed = temporalQueryFromParams(req.query, req.context.terms, limits);
          const head = await mapQueries.createForTemporal(req.tenant, parsed.request, maps.parseLifetime(req.query.get('entityMapLifetime')));
          return { status: 201, headers: announce(head, true), body: await maps.retrieve(req.tenant, head.id), context: 'object' };
        },
      },
    };
  }
  return routes;
}
