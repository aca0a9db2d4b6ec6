// Subscription use cases (GS CIM 009 §5.8.1–5.8.5): validate fully before storing (nothing half-created),
// keep the @context a subscription was written with, and refresh the matcher's registry after each change.
import { randomUUID } from 'node:crypto';
import { alreadyExists, notFound } from '../core/errors.ts';
import type { JsonObject, JsonValue } from '../core/json.ts';
import type { RequestContext } from '../core/jsonld/term-map.ts';
import { parseSubscription, patchSubscription, type SubscriptionLimits } from '../core/subscription/parse.ts';
import { renderSubscription } from '../core/subscription/render.ts';
import type { TenantId } from '../core/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import type { StoredSubscription, SubscriptionStore } from '../ports/subscription-store.ts';
import type { SubscriptionRegistry } from './subscription-registry.ts';

export interface SubscriptionServiceDeps {
  store: SubscriptionStore;
  registry: Pick<SubscriptionRegistry, 'refresh'>;
  clock: Clock;
  limits: SubscriptionLimits;
  maxConsecutiveFailures: number;
  /** Destination policy: a refusal reason for a notification endpoint, or null when allowed. */
  checkEndpoint(uri: string): string | null;
  resolveContext(userContext: JsonValue | undefined): Promise<RequestContext>;
  ensureContextUrl(rc: RequestContext): Promise<string>;
}

const emptyDelivery = () => ({ timesSent: 0, timesFailed: 0, consecutiveFailures: 0 });

export function createSubscriptionService(deps: SubscriptionServiceDeps) {
  const { store, clock, limits } = deps;
  const policy = { checkEndpoint: deps.checkEndpoint };

  /** The stored context value of a request: null for the core context alone. */
  const contextOf = (rc: RequestContext): JsonValue => (rc.isCoreOnly ? null : rc.value);

  function nextPeriodic(interval: number | undefined, now: string): string | undefined {
    return interval === undefined ? undefined : new Date(Date.parse(now) + interval * 1000).toISOString();
  }

  async function render(stored: StoredSubscription, request: RequestContext, sysAttrs: boolean): Promise<JsonObject> {
    const own = await deps.resolveContext(stored.context === null ? undefined : stored.context);
    return renderSubscription(stored, own.terms, request.terms, {
      now: clock.nowIso(),
      sysAttrs,
      maxConsecutiveFailures: deps.maxConsecutiveFailures,
      defaultJsonldContext: await deps.ensureContextUrl(own),
    });
  }

  return {
    async create(tenant: TenantId, body: JsonObject, rc: RequestContext): Promise<string> {
      const now = clock.nowIso();
      const parsed = parseSubscription(body, rc.terms, limits, now, { ...policy, newId: `urn:ngsi-ld:Subscription:${randomUUID()}` });
      const id = parsed.compiled.id;
      const stored: StoredSubscription = { id, payload: parsed.payload, context: contextOf(rc), createdAt: now, modifiedAt: now, delivery: emptyDelivery() };
      const next = nextPeriodic(parsed.compiled.timeInterval, now);
      if (next !== undefined) stored.nextPeriodicAt = next;
      if (await store.getSubscription(tenant, id)) throw alreadyExists(`Subscription ${id} already exists`, 'Subscription already exists');
      await store.createSubscription(tenant, stored);
      await deps.registry.refresh();
      return id;
    },

    async retrieve(tenant: TenantId, id: string, rc: RequestContext, sysAttrs: boolean): Promise<JsonObject> {
      const stored = await store.getSubscription(tenant, id);
      if (stored === null) throw notFound(`Subscription ${id} was not found`, 'Subscription not found');
      return render(stored, rc, sysAttrs);
    },

    async list(tenant: TenantId, rc: RequestContext, page: { limit: number; offset: number; count: boolean }, sysAttrs: boolean) {
      const res = await store.listSubscriptions(tenant, { ...page, limit: page.limit + 1 });
      const items = await Promise.all(res.items.slice(0, page.limit).map((s) => render(s, rc, sysAttrs)));
      return { items, total: res.total, hasMore: res.items.length > page.limit };
    },

    async update(tenant: TenantId, id: string, fragment: JsonObject, rc: RequestContext): Promise<void> {
      const current = await store.getSubscription(tenant, id);
      if (current === null) throw notFound(`Subscription ${id} was not found`, 'Subscription not found');
      const own = await deps.resolveContext(current.context === null ? undefined : current.context);
      const now = clock.nowIso();
      // Validated in full before the write: an invalid fragment changes nothing.
      const parsed = patchSubscription({ payload: current.payload, terms: own.terms }, fragment, rc.terms, limits, now, policy);
      const updated = await store.updateSubscription(tenant, id, (cur) => {
        const next: StoredSubscription = { ...cur, payload: parsed.payload, modifiedAt: now };
        const periodic = nextPeriodic(parsed.compiled.timeInterval, now);
        if (periodic === undefined) delete next.nextPeriodicAt;
        else if (parsed.compiled.timeInterval !== undefined && cur.nextPeriodicAt === undefined) next.nextPeriodicAt = periodic;
        // A subscription revived (isActive true / new expiry) starts with a clean failure streak.
        if (fragment.isActive === true) next.delivery = { ...cur.delivery, consecutiveFailures: 0 };
        return next;
      });
      if (updated === null) throw notFound(`Subscription ${id} was not found`, 'Subscription not found');
      await deps.registry.refresh();
    },

    async remove(tenant: TenantId, id: string): Promise<void> {
      if (!(await store.deleteSubscription(tenant, id))) throw notFound(`Subscription ${id} was not found`, 'Subscription not found');
      await deps.registry.refresh();
    },
  };
}

export type SubscriptionService = ReturnType<typeof createSubscriptionService>;
