// A per-tenant snapshot of compiled definitions (subscriptions, context source subscriptions) that writes
// read synchronously. Rebuilt after a local change, and when the store's version counter shows another node
// changed one (polled), so several nodes converge within one poll interval.
import type { TenantId } from '../core/tenant.ts';

export interface TenantSnapshotDeps<S, C> {
  /** The store's change counter, bumped in the transaction of every definition change. */
  version(): Promise<number>;
  all(): Promise<{ tenant: TenantId; sub: S }[]>;
  compile(tenant: TenantId, stored: S): Promise<C>;
  /** A definition that cannot be compiled (e.g. its remote @context is gone) must not stop every other one. */
  onCompileError(err: unknown, tenant: TenantId, stored: S): void;
}

export interface TenantSnapshot<C> {
  /** Reloads everything (start-up, and after a local change). Concurrent calls share one reload. */
  refresh(): Promise<void>;
  /** Reloads when another node changed a definition since the last load. */
  refreshIfStale(): Promise<void>;
  /** The current snapshot of a tenant's definitions (synchronous: used inside write transactions). */
  forTenant(tenant: TenantId): readonly C[];
}

export function createTenantSnapshot<S, C>(deps: TenantSnapshotDeps<S, C>): TenantSnapshot<C> {
  let byTenant = new Map<string, C[]>();
  let version = -1;
  let loading: Promise<void> | null = null;

  async function reload(): Promise<void> {
    const v = await deps.version();
    const next = new Map<string, C[]>();
    for (const { tenant, sub } of await deps.all()) {
      try {
        const entry = await deps.compile(tenant, sub);
        next.set(tenant, [...(next.get(tenant) ?? []), entry]);
      } catch (err) {
        deps.onCompileError(err, tenant, sub);
      }
    }
    byTenant = next;
    version = v;
  }

  const snapshot: TenantSnapshot<C> = {
    async refresh() {
      while (loading) await loading;
      loading = reload().finally(() => {
        loading = null;
      });
      await loading;
    },
    async refreshIfStale() {
      if ((await deps.version()) !== version) await snapshot.refresh();
    },
    forTenant(tenant) {
      return byTenant.get(tenant) ?? [];
    },
  };
  return snapshot;
}
