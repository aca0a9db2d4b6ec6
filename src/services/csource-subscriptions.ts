// Context source registration subscription use cases (GS CIM 009 §5.11.2–5.11.6; guide §16.4): CRUD as for
// entity subscriptions, an initial notification with every matching registration on creation and update, and
// the notifications each registration change owes (newlyMatching / updated / noLongerMatching), written to
// the shared outbox in the registration write's transaction and delivered by the delivery worker.
import { randomUUID } from 'node:crypto';
import { alreadyExists, notFound } from '../core/errors.ts';
import type { JsonObject, JsonValue } from '../core/json.ts';
import type { RequestContext } from '../core/jsonld/term-map.ts';
import {
  buildCsourceNotification,
  parseCsourceSubscription,
  patchCsourceSubscription,
  trimmedRegistration,
  triggerOf,
  type TriggerReason,
} from '../core/registration/csource-subscription.ts';
import type { RegistrationRecord } from '../core/registration/render.ts';
import { isNotifying } from '../core/subscription/model.ts';
import type { SubscriptionLimits } from '../core/subscription/parse.ts';
import { renderSubscription } from '../core/subscription/render.ts';
import type { TenantId } from '../core/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import { CSOURCE_OUTBOX_PREFIX, type CsourceSubscriptionStore } from '../ports/csource-subscription-store.ts';
import type { OwedNotifications, RegistrationStore } from '../ports/registration-store.ts';
import type { OutboxEntry, StoredSubscription, SubscriptionStore } from '../ports/subscription-store.ts';
import type { CsourceSubscriptionRegistry, RegisteredCsourceSubscription } from './csource-subscription-registry.ts';

/** Most registrations one initial notification carries. */
const MAX_INITIAL = 10_000;

export interface CsourceSubscriptionServiceDeps {
  store: CsourceSubscriptionStore;
  registrations: Pick<RegistrationStore, 'queryRegistrations'>;
  outbox: Pick<SubscriptionStore, 'enqueue'>;
  registry: CsourceSubscriptionRegistry;
  clock: Clock;
  limits: SubscriptionLimits;
  maxConsecutiveFailures: number;
  checkEndpoint(uri: string): string | null;
  resolveContext(userContext: JsonValue | undefined): Promise<RequestContext>;
  ensureContextUrl(rc: RequestContext): Promise<string>;
  /** Called after notifications were enqueued outside a registration write (initial notifications). */
  onEnqueued(): void;
}

const emptyDelivery = () => ({ timesSent: 0, timesFailed: 0, consecutiveFailures: 0 });
const missing = (id: string) => notFound(`Subscription ${id} was not found`, 'Subscription not found');

/** One outbox entry: a ContextSourceNotification of `records` to the subscription's endpoint. */
function entryFor(sub: RegisteredCsourceSubscription, records: readonly RegistrationRecord[], reason: TriggerReason, now: string): OutboxEntry {
  const id = `urn:ngsi-ld:Notification:${randomUUID()}`;
  const message = buildCsourceNotification(sub.compiled, records, reason, {
    notificationId: id, notifiedAt: now, tenant: sub.tenant, terms: sub.notifyTerms, contextUrl: sub.contextUrl, context: sub.contextValue,
  });
  const endpoint = sub.compiled.notification.endpoint;
  const out: JsonObject = {
    body: message.body,
    headers: message.headers,
    contentType: message.contentType,
    notifierInfo: endpoint.notifierInfo.map((p) => ({ key: p.key, value: p.value })),
    timeoutMs: endpoint.timeout ?? null,
  };
  if (sub.compiled.throttling !== undefined) out.minIntervalMs = sub.compiled.throttling * 1000;
  return { id, tenant: sub.tenant, subscriptionId: CSOURCE_OUTBOX_PREFIX + sub.compiled.id, endpoint: endpoint.uri, message: out, notBefore: now, createdAt: now };
}

export function createCsourceSubscriptionService(deps: CsourceSubscriptionServiceDeps) {
  const { store, clock, limits, registry } = deps;
  const policy = { checkEndpoint: deps.checkEndpoint };
  const contextOf = (rc: RequestContext): JsonValue => (rc.isCoreOnly ? null : rc.value);

  /** The initial notification (guide §16.4): every registration matching now, unless there is none or the subscription is paused. */
  async function sendInitial(tenant: TenantId, stored: StoredSubscription): Promise<void> {
    const sub = await registry.compile(tenant, stored);
    const now = clock.nowIso();
    if (!isNotifying(sub.compiled, now)) return;
    const { items } = await deps.registrations.queryRegistrations(
      tenant,
      { now, matches: (r) => trimmedRegistration(r, sub.query, now) !== null },
      { limit: MAX_INITIAL, offset: 0, count: false },
    );
    const records = items.map((r) => trimmedRegistration(r, sub.query, now)!);
    if (records.length === 0) return;
    await deps.outbox.enqueue([entryFor(sub, records, 'newlyMatching', now)]);
    deps.onEnqueued();
  }

  async function render(stored: StoredSubscription, request: RequestContext, sysAttrs: boolean): Promise<JsonObject> {
    const own = await deps.resolveContext(stored.context === null ? undefined : stored.context);
    const out = renderSubscription(stored, own.terms, request.terms, {
      now: clock.nowIso(), sysAttrs, maxConsecutiveFailures: deps.maxConsecutiveFailures, defaultJsonldContext: await deps.ensureContextUrl(own),
    });
    // Entity notification triggers mean nothing here: shown only when the client gave them.
    if (stored.payload.notificationTrigger === undefined) delete out.notificationTrigger;
    return out;
  }

  return {
    /** The notifications a change of one of `tenant`'s registrations owes, for the registration store. */
    owedFor(tenant: TenantId): OwedNotifications {
      return (before, after) => {
        const now = clock.nowIso();
        const out: OutboxEntry[] = [];
        for (const sub of registry.forTenant(tenant)) {
          if (!isNotifying(sub.compiled, now)) continue;
          const trigger = triggerOf(sub.query, before, after, now);
          if (trigger !== null) out.push(entryFor(sub, [trigger.data], trigger.reason, now));
        }
        return out;
      };
    },

    async create(tenant: TenantId, body: JsonObject, rc: RequestContext): Promise<string> {
      const now = clock.nowIso();
      const parsed = parseCsourceSubscription(body, rc.terms, limits, now, { ...policy, newId: `urn:ngsi-ld:Subscription:${randomUUID()}` });
      const id = parsed.compiled.id;
      if (await store.getCsourceSubscription(tenant, id)) throw alreadyExists(`Subscription ${id} already exists`, 'Subscription already exists');
      const stored: StoredSubscription = { id, payload: parsed.payload, context: contextOf(rc), createdAt: now, modifiedAt: now, delivery: emptyDelivery() };
      await store.createCsourceSubscription(tenant, stored);
      await registry.refresh();
      await sendInitial(tenant, stored);
      return id;
    },

    async retrieve(tenant: TenantId, id: string, rc: RequestContext, sysAttrs: boolean): Promise<JsonObject> {
      const stored = await store.getCsourceSubscription(tenant, id);
      if (stored === null) throw missing(id);
      return render(stored, rc, sysAttrs);
    },

    async list(tenant: TenantId, rc: RequestContext, page: { limit: number; offset: number; count: boolean }, sysAttrs: boolean) {
      const res = await store.listCsourceSubscriptions(tenant, { ...page, limit: page.limit + 1 });
      const items = await Promise.all(res.items.slice(0, page.limit).map((s) => render(s, rc, sysAttrs)));
      return { items, total: res.total, hasMore: res.items.length > page.limit };
    },

    async update(tenant: TenantId, id: string, fragment: JsonObject, rc: RequestContext): Promise<void> {
      const current = await store.getCsourceSubscription(tenant, id);
      if (current === null) throw missing(id);
      const own = await deps.resolveContext(current.context === null ? undefined : current.context);
      const now = clock.nowIso();
      const parsed = patchCsourceSubscription({ payload: current.payload, terms: own.terms }, fragment, rc.terms, limits, now, policy);
      const updated = await store.updateCsourceSubscription(tenant, id, (cur) => {
        const next: StoredSubscription = { ...cur, payload: parsed.payload, modifiedAt: now };
        if (fragment.isActive === true) next.delivery = { ...cur.delivery, consecutiveFailures: 0 };
        return next;
      });
      if (updated === null) throw missing(id);
      await registry.refresh();
      await sendInitial(tenant, updated);
    },

    async remove(tenant: TenantId, id: string): Promise<void> {
      if (!(await store.deleteCsourceSubscription(tenant, id))) throw missing(id);
      await registry.refresh();
    },
  };
}

export type CsourceSubscriptionService = ReturnType<typeof createCsourceSubscriptionService>;
