// Tenant existence (GS CIM 009 §4.14) with a per-process cache: tenants are created by a first write and
// never deleted, so a known tenant stays known; an unknown one is re-checked in the store each time.
import type { TenantId } from '../core/tenant.ts';
import type { EntityStore } from '../ports/store.ts';

export interface TenantRegistry {
  exists(tenant: TenantId): Promise<boolean>;
}

export function createTenantRegistry(store: Pick<EntityStore, 'tenantExists'>): TenantRegistry {
  const known = new Set<string>();
  return {
    async exists(tenant) {
      if (known.has(tenant)) return true;
      const found = await store.tenantExists(tenant);
      if (found) known.add(tenant);
      return found;
    },
  };
}
