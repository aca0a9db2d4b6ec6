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
import { createTenantSnapshot } from './tenant-snapshot.ts';

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

  const snapshot = createTenantSnapshot<StoredSubscription, RegisteredCsourceSubscription>({
    version: () => deps.store.csourceSubscriptionsVersion(),
    all: () => deps.store.allCsourceSubscriptions(),
    compile,
    onCompileError: (err, tenant, sub) =>
      deps.logger?.warn({ err, subscription: sub.id, tenant }, 'context source subscription could not be compiled; it will not notify'),
  });

  return { compile, ...snapshot };
}

export type CsourceSubscriptionRegistry = ReturnType<typeof createCsourceSubscriptionRegistry>;
