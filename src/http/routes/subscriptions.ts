// Routes of the subscription API (GS CIM 009 §6.10, §6.11): HTTP ↔ SubscriptionService.
import { badRequestData } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import { isAbsoluteUri } from '../../core/names.ts';
import type { SubscriptionService } from '../../services/subscriptions.ts';
import { API_ROOT } from '../app.ts';
import type { OperationRequest, RouteTable } from '../operation.ts';
import { pageLinks, parsePage, type PageLimits } from '../pagination.ts';
import { locationOf } from '../path-ids.ts';
import { parseOptionTokens } from '../read-options.ts';

function subscriptionId(req: OperationRequest): string {
  const id = req.path.subscriptionId ?? '';
  if (!isAbsoluteUri(id)) throw badRequestData(`The subscription id "${id}" is not an absolute URI`, 'Invalid subscription id');
  return id;
}

export function subscriptionRoutes(subscriptions: SubscriptionService, limits: PageLimits): RouteTable {
  const sysAttrs = (req: OperationRequest) => parseOptionTokens(req.query, ['sysAttrs']).has('sysAttrs');
  return {
    '/subscriptions': {
      POST: {
        params: [],
        body: 'object',
        offers: 'ngsi',
        createsTenant: true,
        async handle(req) {
          const id = await subscriptions.create(req.tenant, req.body as JsonObject, req.context);
          return { status: 201, headers: { location: locationOf(`${API_ROOT}/subscriptions`, id) } };
        },
      },
      GET: {
        params: ['limit', 'offset', 'count', 'options', 'local'],
        offers: 'ngsi',
        async handle(req) {
          const page = parsePage(req.query, limits);
          const res = await subscriptions.list(req.tenant, req.context, page, sysAttrs(req));
          const headers: Record<string, string> = {};
          if (res.total !== undefined) headers['ngsild-results-count'] = String(res.total);
          const links = pageLinks(`${API_ROOT}/subscriptions`, req.query, page, res.items.length, res.hasMore);
          if (links.length > 0) headers.link = links.join(', ');
          return { status: 200, headers, body: res.items as JsonValue, context: 'each' };
        },
      },
    },
    '/subscriptions/:subscriptionId': {
      GET: {
        params: ['options'],
        offers: 'ngsi',
        async handle(req) {
          const id = subscriptionId(req);
          return { status: 200, body: await subscriptions.retrieve(req.tenant, id, req.context, sysAttrs(req)), context: 'object' };
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
