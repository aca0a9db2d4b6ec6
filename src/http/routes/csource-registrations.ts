// Routes of the context source registration API (GS CIM 009 §6.8, §6.9): HTTP ↔ RegistrationService.
import { badRequestData } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import { isAbsoluteUri } from '../../core/names.ts';
import type { RegistrationService } from '../../services/registrations.ts';
import { API_ROOT } from '../app.ts';
import type { QueryLimits } from '../entity-query-params.ts';
import type { OperationRequest, RouteTable } from '../operation.ts';
import { pageLinks, parsePage, type PageLimits } from '../pagination.ts';
import { locationOf } from '../path-ids.ts';
import { parseOptionTokens } from '../read-options.ts';
import { REGISTRATION_QUERY_PARAMS, registrationQueryFromParams } from '../registration-query-params.ts';

const COLLECTION = `${API_ROOT}/csourceRegistrations`;

function registrationId(req: OperationRequest): string {
  const id = req.path.registrationId ?? '';
  if (!isAbsoluteUri(id)) throw badRequestData(`The registration id "${id}" is not an absolute URI`, 'Invalid registration id');
  return id;
}

export function csourceRegistrationRoutes(registrations: RegistrationService, limits: PageLimits & QueryLimits): RouteTable {
  const sysAttrs = (req: OperationRequest) => parseOptionTokens(req.query, ['sysAttrs']).has('sysAttrs');
  return {
    '/csourceRegistrations': {
      POST: {
        params: [],
        body: 'object',
        offers: 'ngsi',
        createsTenant: true,
        async handle(req) {
          const id = await registrations.create(req.tenant, req.body as JsonObject, req.context);
          return { status: 201, headers: { location: locationOf(COLLECTION, id) } };
        },
      },
      GET: {
        params: [...REGISTRATION_QUERY_PARAMS, 'options', 'limit', 'offset', 'count'],
        offers: 'ngsi',
        async handle(req) {
          const page = parsePage(req.query, limits);
          const query = registrationQueryFromParams(req.query, req.context.terms, limits);
          const res = await registrations.query(req.tenant, req.context, query, page, sysAttrs(req));
          const headers: Record<string, string> = {};
          if (res.total !== undefined) headers['ngsild-results-count'] = String(res.total);
          const links = pageLinks(COLLECTION, req.query, page, res.items.length, res.hasMore);
          if (links.length > 0) headers.link = links.join(', ');
          return { status: 200, headers, body: res.items as JsonValue, context: 'each' };
        },
      },
    },
    '/csourceRegistrations/:registrationId': {
      GET: {
        params: ['options'],
        offers: 'ngsi',
        async handle(req) {
          const id = registrationId(req);
          return { status: 200, body: await registrations.retrieve(req.tenant, id, req.context, sysAttrs(req)), context: 'object' };
        },
      },
      PATCH: {
        params: [],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          await registrations.update(req.tenant, registrationId(req), req.body as JsonObject, req.context);
          return { status: 204 };
        },
      },
      DELETE: {
        params: [],
        offers: 'ngsi',
        async handle(req) {
          await registrations.remove(req.tenant, registrationId(req));
          return { status: 204 };
        },
      },
    },
  };
}
