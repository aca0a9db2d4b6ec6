// The in-memory set of compiled subscriptions per tenant that the matcher reads inside entity writes
// (GS CIM 009 §5.8, §7.2). Rebuilt when this node changes a subscription, and when the store's version
// counter shows another node did (polled), so several nodes converge within one poll interval.
import type { JsonValue } from '../core/json.ts';
import type { RequestContext, TermMap } from '../core/jsonld/term-map.ts';
import { compileStoredSubscription, type SubscriptionLimits } from '../core/subscription/parse.ts';
import type { CompiledSubscription } from '../core/subscription/model.ts';
import type { TenantId } from '../core/tenant.ts';
import type { StoredSubscription, SubscriptionStore } from '../ports/subscription-store.ts';
import { createTenantSnapshot } from './tenant-snapshot.ts';

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

  const snapshot = createTenantSnapshot<StoredSubscription, RegisteredSubscription>({
    version: () => deps.store.subscriptionsVersion(),
    all: () => deps.store.allSubscriptions(),
    compile,
    onCompileError: (err, tenant, sub) =>
      deps.logger?.warn({ err, subscription: sub.id, tenant }, 'subscription could not be compiled; it will not notify'),
  });

  return {
    ...snapshot,

    find(tenant: TenantId, id: string): RegisteredSubscription | undefined {
      return snapshot.forTenant(tenant).find((r) => r.compiled.id === id);
    },
  };
}

export type SubscriptionRegistry = ReturnType<typeof createSubscriptionRegistry>;
