// The in-memory set of compiled subscriptions per tenant that the matcher reads inside entity writes
// (GS CIM 009 §5.8, §7.2). Rebuilt when this node changes a subscription, and when the store's version
// counter shows another node did (polled), so several nodes converge within one poll interval.
import type { JsonValue } from '../core/json.ts';
import type { RequestContext, TermMap } from '../core/jsonld/term-map.ts';
import { compileStoredSubscription, type SubscriptionLimits } from '../core/subscription/parse.ts';
import type { CompiledSubscription } from '../core/subscription/model.ts';
import type { TenantId } from '../core/tenant.ts';
import type { StoredSubscription, SubscriptionStore } from '../ports/subscription-store.ts';

export interface RegisteredSubscription {
  tenant: TenantId;
  stored: StoredSubscription;
  compiled: CompiledSubscription;
  /** Terms of the subscription's own @context (its names were written with them). */
  terms: TermMap;
  /** Terms notifications are compacted with: `jsonldContext` when set, else the subscription's. */
  notifyTerms: TermMap;
  /** URL for the notification Link header. */
  contextUrl: string;
  /** @context value of ld+json notification data. */
  contextValue: JsonValue;
}

export interface SubscriptionRegistryDeps {
  store: Pick<SubscriptionStore, 'allSubscriptions' | 'subscriptionsVersion'>;
  resolveContext(userContext: JsonValue | undefined): Promise<RequestContext>;
  ensureContextUrl(rc: RequestContext): Promise<string>;
  limits: SubscriptionLimits;
  logger?: { warn(obj: object, msg: string): void };
}

export function createSubscriptionRegistry(deps: SubscriptionRegistryDeps) {
  let byTenant = new Map<string, RegisteredSubscription[]>();
  let version = -1;
  let loading: Promise<void> | null = null;

  async function compile(tenant: TenantId, stored: StoredSubscription): Promise<RegisteredSubscription> {
    const rc = await deps.resolveContext(stored.context === null ? undefined : stored.context);
    const compiled = compileStoredSubscription(stored.payload, rc.terms, deps.limits);
    let notifyTerms = rc.terms;
    let contextUrl: string;
    let contextValue: JsonValue = rc.value;
    if (compiled.jsonldContext !== undefined) {
      const jc = await deps.resolveContext(compiled.jsonldContext);
      notifyTerms = jc.terms;
      contextUrl = compiled.jsonldContext;
      contextValue = compiled.jsonldContext;
    } else {
      contextUrl = await deps.ensureContextUrl(rc);
    }
    return { tenant, stored, compiled, terms: rc.terms, notifyTerms, contextUrl, contextValue };
  }

  async function reload(): Promise<void> {
    const v = await deps.store.subscriptionsVersion();
    const next = new Map<string, RegisteredSubscription[]>();
    for (const { tenant, sub } of await deps.store.allSubscriptions()) {
      try {
        const entry = await compile(tenant, sub);
        next.set(tenant, [...(next.get(tenant) ?? []), entry]);
      } catch (err) {
        // A stored subscription whose remote @context is gone must not stop every other one.
        deps.logger?.warn({ err, subscription: sub.id, tenant }, 'subscription could not be compiled; it will not notify');
      }
    }
    byTenant = next;
    version = v;
  }

  return {
    /** Reloads everything (start-up, and after a local change). Concurrent calls share one reload. */
    async refresh(): Promise<void> {
      while (loading) await loading;
      loading = reload().finally(() => {
        loading = null;
      });
      await loading;
    },

    /** Reloads when another node changed a subscription since the last load. */
    async refreshIfStale(): Promise<void> {
      if ((await deps.store.subscriptionsVersion()) !== version) await this.refresh();
    },

    /** The current snapshot of a tenant's subscriptions (synchronous: used inside write transactions). */
    forTenant(tenant: TenantId): readonly RegisteredSubscription[] {
      return byTenant.get(tenant) ?? [];
    },

    find(tenant: TenantId, id: string): RegisteredSubscription | undefined {
      return byTenant.get(tenant)?.find((r) => r.compiled.id === id);
    },
  };
}

export type SubscriptionRegistry = ReturnType<typeof createSubscriptionRegistry>;
