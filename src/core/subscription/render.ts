// A stored Subscription as GET /subscriptions answers it (GS CIM 009 §5.8.3, §5.8.4, §5.2.12; guide §14.1,
// §21 items 16 and 23): exactly the client's members, names re-compacted with the request's context, plus
// `status`, the defaults the broker applied, notification status members once a notification was attempted,
// and createdAt/modifiedAt only with sysAttrs. Never internal bookkeeping.
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { DEFAULT_TRIGGERS, deriveStatus, type DeliveryCounters } from './model.ts';
import { translatePayloadTerms } from './payload-terms.ts';

/** What rendering needs of a stored subscription; the store port's StoredSubscription has this shape. */
export interface SubscriptionRecord {
  id: string;
  payload: JsonObject;
  /** The @context the subscription was written with (URL string, array or object); null = core only. */
  context: JsonValue;
  createdAt: string;
  modifiedAt: string;
  delivery: DeliveryCounters;
}

export interface RenderSubscriptionOptions {
  now: string;
  sysAttrs: boolean;
  maxConsecutiveFailures: number;
  /**
   * `jsonldContext` to show when the client set none (the default the broker applies, §5.2.12): the URL of
   * the subscription's context (core URL, its own single URL, or an ImplicitlyCreated one). When absent, a
   * context that is one URL (or a one-URL array) is shown; otherwise nothing.
   */
  defaultJsonldContext?: string;
}

/** The subscription compacted with `requestTerms`; names were written with `subscriptionTerms`. */
export function renderSubscription(stored: SubscriptionRecord, subscriptionTerms: TermMap, requestTerms: TermMap, opts: RenderSubscriptionOptions): JsonObject {
  const payload = translatePayloadTerms(stored.payload, subscriptionTerms, requestTerms);
  const { id: _id, type, ...rest } = payload;
  const out: JsonObject = { id: stored.id, type: type ?? 'Subscription', ...rest };

  if (out.notificationTrigger === undefined && out.timeInterval === undefined) out.notificationTrigger = [...DEFAULT_TRIGGERS];
  if (out.jsonldContext === undefined) {
    const url = opts.defaultJsonldContext ?? singleUrl(stored.context);
    if (url !== undefined) out.jsonldContext = url;
  }
  if (isJsonObject(out.notification)) out.notification = renderNotificationParams(out.notification, stored.delivery);

  const expiresAt = typeof payload.expiresAt === 'string' ? payload.expiresAt : undefined;
  out.status = deriveStatus({ isActive: payload.isActive !== false, expiresAt }, stored.delivery, opts.now, opts.maxConsecutiveFailures);
  if (opts.sysAttrs) {
    out.createdAt = stored.createdAt;
    out.modifiedAt = stored.modifiedAt;
  }
  return out;
}

function renderNotificationParams(n: JsonObject, delivery: DeliveryCounters): JsonObject {
  const out: JsonObject = { ...n };
  if (out.format === undefined) out.format = 'normalized';
  if (isJsonObject(out.endpoint) && out.endpoint.accept === undefined) out.endpoint = { ...out.endpoint, accept: 'application/json' };
  // Status members appear only once a notification has been attempted (guide §14.1, §21 item 23).
  if (delivery.timesSent > 0 || delivery.lastNotification !== undefined) {
    if (delivery.status !== undefined) out.status = delivery.status;
    out.timesSent = delivery.timesSent;
    if (delivery.timesFailed > 0) out.timesFailed = delivery.timesFailed;
    if (delivery.lastNotification !== undefined) out.lastNotification = delivery.lastNotification;
    if (delivery.lastSuccess !== undefined) out.lastSuccess = delivery.lastSuccess;
    if (delivery.lastFailure !== undefined) out.lastFailure = delivery.lastFailure;
  }
  return out;
}

function singleUrl(context: JsonValue): string | undefined {
  if (typeof context === 'string') return context;
  if (Array.isArray(context) && context.length === 1 && typeof context[0] === 'string') return context[0];
  return undefined;
}
