// Routes of the context source registration subscription API (GS CIM 009 §5.11, §6.12, §6.13): HTTP ↔
// CsourceSubscriptionService.
import { badRequestData } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import { isAbsoluteUri } from '../../core/names.ts';
import type { CsourceSubscriptionService } from '../../services/csource-subscriptions.ts';
import { API_ROOT } from '../app.ts';
import type { OperationRequest, RouteTable } from '../operation.ts';
import { pageLinks, parsePage, type PageLimits } from '../pagination.ts';
import { locationOf } from '../path-ids.ts';
import { parseOptionTokens } from '../read-options.ts';

const COLLECTION = `${API_ROOT}/csourceSubscriptions`;

function subscriptionId(req: OperationRequest): string {
  const id = req.path.subscriptionId ?? '';
  if (!isAbsoluteUri(id)) throw badRequestData(`The subscription id "${id}" is not an absolute URI`, 'Invalid subscription id');
  return id;
}

export function csourceSubscriptionRoutes(subscriptions: CsourceSubscriptionService, limits: PageLimits): RouteTable {
  const sysAttrs = (req: OperationRequest) => parseOptionTokens(req.query, ['sysAttrs']).has('sysAttrs');
  return {
    '/csourceSubscriptions': {
      POST: {
        params: [],
        body: 'object',
        offers: 'ngsi',
        createsTenant: true,
        async handle(req) {
          const id = await subscriptions.create(req.tenant, req.body as JsonObject, req.context);
          return { status: 201, headers: { location: locationOf(COLLECTION, id) } };
        },
      },
      GET: {
        params: ['limit', 'offset', 'count', 'options'],
        offers: 'ngsi',
        async handle(req) {
          const page = parsePage(req.query, limits);
          const res = await subscriptions.list(req.tenant, req.context, page, sysAttrs(req));
          const headers: Record<string, string> = {};
          if (res.total !== undefined) headers['ngsild-results-count'] = String(res.total);
          const links = pageLinks(COLLECTION, req.query, page, res.items.length, res.hasMore);
          if (links.length > 0) headers.link = links.join(', ');
          return { status: 200, headers, body: res.items as JsonValue, context: 'each' };
        },
      },
    },
    '/csourceSubscriptions/:subscriptionId': {
      GET: {
        params: ['options'],
        offers: 'ngsi',
        async handle(req) {
          return { status: 200, body: await subscriptions.retrieve(req.tenant, subscriptionId(req), req.context, sysAttrs(req)), context: 'object' };
        },
      },
      PATCH: {
        params: [],
        body: 'object',
        offers: 'ngsi',
        async handle(req) {
          await subscriptions.update(req.tenant, subscriptionId(req), req.body as JsonObject, req.context);
          return { status: 204 };
        },
      },
      DELETE: {
        params: [],
        offers: 'ngsi',
        async handle(req) {
          await subscriptions.remove(req.tenant, subscriptionId(req));
          return { status: 204 };
        },
      },
    },
  };
}
