// Context source registration subscriptions (GS CIM 009 §5.11, §5.2.12, §5.3.2 CsourceNotification; guide
// §16.4): the Subscription payload validated as for entity subscriptions, read as a query over registrations,
// and the ContextSourceNotification a registration change (or the subscription's creation) produces.
import type { JsonObject, JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { CompiledSubscription } from '../subscription/model.ts';
import { contextLink } from '../subscription/notification.ts';
import { parseSubscription, patchSubscription, type ParseSubscriptionOptions, type SubscriptionLimits } from '../subscription/parse.ts';
import { fail, objectMember } from '../subscription/parse-util.ts';
import type { EndpointPolicy } from '../subscription/parse-notification.ts';
import { parseTemporalQuery } from '../temporal/temporal-query.ts';
import { viewOf } from './model.ts';
import { matchingInformation, type RegistrationQuery } from './query.ts';
import { renderRegistration, type RegistrationRecord } from './render.ts';

export const TRIGGER_REASONS = ['newlyMatching', 'updated', 'noLongerMatching'] as const;
export type TriggerReason = (typeof TRIGGER_REASONS)[number];

/** The core-context term of the notification type (the 1.8.1 OpenAPI spells it CsourceNotification; guide §16.4). */
export const CSOURCE_NOTIFICATION_TYPE = 'ContextSourceNotification';

export interface CompiledCsourceSubscription {
  compiled: CompiledSubscription;
  /** What a registration must match (entities, watched and notified attributes, q, csf, scopeQ, geoQ, temporalQ). */
  query: RegistrationQuery;
}

export interface ParsedCsourceSubscription extends CompiledCsourceSubscription {
  payload: JsonObject;
}

function queryOf(compiled: CompiledSubscription, payload: JsonObject): RegistrationQuery {
  const query: RegistrationQuery = { latestOnly: true };
  if (compiled.selectors !== undefined) query.selectors = compiled.selectors;
  const attrs = new Set([...(compiled.watchedAttributes ?? []), ...(compiled.notification.projection?.attrs ?? [])]);
  if (attrs.size > 0) query.attrs = [...attrs];
  if (compiled.q !== undefined) query.q = compiled.q;
  if (compiled.csf !== undefined) query.csf = compiled.csf;
  if (compiled.scopeQ !== undefined) query.scopeQ = compiled.scopeQ;
  if (compiled.geoQ !== undefined) query.geo = compiled.geoQ;
  if (payload.temporalQ !== undefined) {
    const t = objectMember(payload.temporalQ, 'temporalQ');
    const text = (k: string): string | undefined => {
      const v = t[k];
      if (v !== undefined && typeof v !== 'string') fail(`temporalQ.${k} must be a string`);
      return v as string | undefined;
    };
    const window = parseTemporalQuery({ timerel: text('timerel'), timeAt: text('timeAt'), endTimeAt: text('endTimeAt'), timeproperty: text('timeproperty') }, true).window;
    query.temporal = window;
    query.latestOnly = false;
  }
  return query;
}

function checkCsourceOnly(compiled: CompiledSubscription): void {
  if (compiled.timeInterval !== undefined) fail('timeInterval (periodic notification) is not supported for context source registration subscriptions');
}

/** Validates a CSR subscription payload (create, or a merged PATCH result) and compiles it. */
export function parseCsourceSubscription(payload: JsonObject, terms: TermMap, limits: SubscriptionLimits, now: string, options: ParseSubscriptionOptions = {}): ParsedCsourceSubscription {
  const parsed = parseSubscription(payload, terms, limits, now, options);
  checkCsourceOnly(parsed.compiled);
  return { compiled: parsed.compiled, payload: parsed.payload, query: queryOf(parsed.compiled, parsed.payload) };
}

/** PATCH (§5.11.3 with §5.5.8 semantics), as for entity subscriptions. */
export function patchCsourceSubscription(
  stored: { payload: JsonObject; terms: TermMap },
  fragment: JsonObject,
  fragmentTerms: TermMap,
  limits: SubscriptionLimits,
  now: string,
  policy: EndpointPolicy,
): ParsedCsourceSubscription {
  const parsed = patchSubscription(stored, fragment, fragmentTerms, limits, now, policy);
  checkCsourceOnly(parsed.compiled);
  return { compiled: parsed.compiled, payload: parsed.payload, query: queryOf(parsed.compiled, parsed.payload) };
}

/** Re-compiles a stored (already validated) payload, e.g. after a restart. */
export function compileStoredCsourceSubscription(payload: JsonObject, terms: TermMap, limits: SubscriptionLimits): CompiledCsourceSubscription {
  const parsed = parseCsourceSubscription(payload, terms, limits, '1970-01-01T00:00:00Z', { requireFutureExpiry: false });
  return { compiled: parsed.compiled, query: parsed.query };
}

/** The registration as it appears in a notification: only its information elements that match (guide §16.4). */
export function trimmedRegistration(record: RegistrationRecord, query: RegistrationQuery, now: string): RegistrationRecord | null {
  const keep = matchingInformation(query, viewOf(record.payload), now);
  if (keep.length === 0) return null;
  const information = Array.isArray(record.payload.information) ? record.payload.information.filter((_, i) => keep.includes(i)) : [];
  return { ...record, payload: { ...record.payload, information } };
}

/**
 * What a registration change means to one subscription: `before`/`after` are the registration's states
 * (null = absent). Null when the subscription is not concerned (it matched neither state).
 */
export function triggerOf(query: RegistrationQuery, before: RegistrationRecord | null, after: RegistrationRecord | null, now: string): { reason: TriggerReason; data: RegistrationRecord } | null {
  const was = before === null ? null : trimmedRegistration(before, query, now);
  const is = after === null ? null : trimmedRegistration(after, query, now);
  if (is !== null) return { reason: was === null ? 'newlyMatching' : 'updated', data: is };
  if (was !== null) return { reason: 'noLongerMatching', data: was };
  return null;
}

export interface CsourceNotificationOptions {
  notificationId: string;
  notifiedAt: string;
  tenant: string;
  /** Terms the registrations are compacted with (jsonldContext's, else the subscription's). */
  terms: TermMap;
  contextUrl: string;
  context: JsonValue;
}

/** The ContextSourceNotification (§5.3.2) and its headers, as buildNotification does for entity notifications. */
export function buildCsourceNotification(
  sub: CompiledSubscription,
  registrations: readonly RegistrationRecord[],
  reason: TriggerReason,
  opts: CsourceNotificationOptions,
): { body: JsonObject; headers: Record<string, string>; contentType: string } {
  const accept = sub.notification.endpoint.accept === 'application/ld+json' ? 'application/ld+json' : 'application/json';
  const data = registrations.map((r) => {
    const rendered = renderRegistration(r, opts.terms, { sysAttrs: sub.notification.sysAttrs });
    return accept === 'application/ld+json' ? { '@context': structuredClone(opts.context), ...rendered } : rendered;
  });
  const body: JsonObject = {
    id: opts.notificationId, type: CSOURCE_NOTIFICATION_TYPE, subscriptionId: sub.id, notifiedAt: opts.notifiedAt, data, triggerReason: reason,
  };
  const headers: Record<string, string> = {};
  for (const { key, value } of sub.notification.endpoint.receiverInfo) {
    if (!['content-type', 'link', 'ngsild-tenant'].includes(key.toLowerCase())) headers[key] = value;
  }
  headers['Content-Type'] = accept;
  if (accept === 'application/json') headers.Link = contextLink(opts.contextUrl);
  if (opts.tenant !== '') headers['NGSILD-Tenant'] = opts.tenant;
  return { body, headers, contentType: accept };
}
