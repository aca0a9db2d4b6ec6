// The in-memory set of compiled context source registration subscriptions per tenant (GS CIM 009 §5.11), read
// synchronously inside registration writes to compute the notifications they owe. Rebuilt after a local
// change, and when the store's version counter shows another node changed one (polled).
import type { JsonValue } from '../core/json.ts';
import type { RequestContext, TermMap } from '../core/jsonld/term-map.ts';
import { compileStoredCsourceSubscription, type CompiledCsourceSubscription } from '../core/registration/csource-subscription.ts';
import type { SubscriptionLimits } from '../core/subscription/parse.ts';
import type { TenantId } from '../core/tenant.ts';
import type { CsourceSubscriptionStore } from '../ports/csource-subscription-store.ts';
import type { StoredSubscription } from '../ports/subscription-store.ts';

export interface RegisteredCsourceSubscription extends CompiledCsourceSubscription {
  tenant: TenantId;
  stored: StoredSubscription;
  /** Terms of the subscription's own @context. */
  terms: TermMap;
  /** Terms notifications are compacted with: `jsonldContext` when set, else the subscription's. */
  notifyTerms: TermMap;
  contextUrl: string;
  contextValue: JsonValue;
}

export interface CsourceSubscriptionRegistryDeps {
  store: Pick<CsourceSubscriptionStore, 'allCsourceSubscriptions' | 'csourceSubscriptionsVersion'>;
  resolveContext(userContext: JsonValue | undefined): Promise<RequestContext>;
  ensureContextUrl(rc: RequestContext): Promise<string>;
  limits: SubscriptionLimits;
  logger?: { warn(obj: object, msg: string): void };
}

export function createCsourceSubscriptionRegistry(deps: CsourceSubscriptionRegistryDeps) {
  let byTenant = new Map<string, RegisteredCsourceSubscription[]>();
  let version = -1;
  let loading: Promise<void> | null = null;

  /** Compiles one stored subscription with its own @context (and its jsonldContext for notifications). */
  async function compile(tenant: TenantId, stored: StoredSubscription): Promise<RegisteredCsourceSubscription> {
    const rc = await deps.resolveContext(stored.context === null ? undefined : stored.context);
    const compiled = compileStoredCsourceSubscription(stored.payload, rc.terms, deps.limits);
    const jsonldContext = compiled.compiled.jsonldContext;
    if (jsonldContext !== undefined) {
      const jc = await deps.resolveContext(jsonldContext);
      return { ...compiled, tenant, stored, terms: rc.terms, notifyTerms: jc.terms, contextUrl: jsonldContext, contextValue: jsonldContext };
    }
    return { ...compiled, tenant, stored, terms: rc.terms, notifyTerms: rc.terms, contextUrl: await deps.ensureContextUrl(rc), contextValue: rc.value };
  }

  async function reload(): Promise<void> {
    const v = await deps.store.csourceSubscriptionsVersion();
    const next = new Map<string, RegisteredCsourceSubscription[]>();
    for (const { tenant, sub } of await deps.store.allCsourceSubscriptions()) {
      try {
        next.set(tenant, [...(next.get(tenant) ?? []), await compile(tenant, sub)]);
      } catch (err) {
        deps.logger?.warn({ err, subscription: sub.id, tenant }, 'context source subscription could not be compiled; it will not notify');
      }
    }
    byTenant = next;
    version = v;
  }

  return {
    compile,
    /** Reloads everything (start-up, and after a local change). Concurrent calls share one reload. */
    async refresh(): Promise<void> {
      while (loading) await loading;
      loading = reload().finally(() => {
        loading = null;
      });
      await loading;
    },
    async refreshIfStale(): Promise<void> {
      if ((await deps.store.csourceSubscriptionsVersion()) !== version) await this.refresh();
    },
    forTenant(tenant: TenantId): readonly RegisteredCsourceSubscription[] {
      return byTenant.get(tenant) ?? [];
    },
  };
}

export type CsourceSubscriptionRegistry = ReturnType<typeof createCsourceSubscriptionRegistry>;
