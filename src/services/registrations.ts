// Context Source Registration use cases (GS CIM 009 §5.9.2–5.9.4 register/update/delete, §5.10.1–5.10.2
// retrieve/query; guide §16.1): validate fully before storing (nothing half-created), refuse endpoints the
// destination policy denies, check mode conflicts, treat expired registrations as gone, and write the
// notifications CSR subscriptions are owed in the same transaction as each change.
import { randomUUID } from 'node:crypto';
import { alreadyExists, notFound } from '../core/errors.ts';
import type { JsonObject } from '../core/json.ts';
import type { RequestContext } from '../core/jsonld/term-map.ts';
import { EMPTY_FORWARDING, viewOf } from '../core/registration/model.ts';
import { parseRegistration, patchRegistration, type RegistrationLimits } from '../core/registration/parse.ts';
import { isRegistrationExpired, matchesRegistration, type RegistrationQuery } from '../core/registration/query.ts';
import { renderRegistration } from '../core/registration/render.ts';
import type { TenantId } from '../core/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import type { OwedNotifications, RegistrationStore, StoredRegistration } from '../ports/registration-store.ts';
import type { EntityStore } from '../ports/store.ts';
import { checkModeConflicts } from './registration-conflicts.ts';

export interface RegistrationServiceDeps {
  store: RegistrationStore;
  /** Local data, for the exclusive/redirect conflict checks. */
  entities: Pick<EntityStore, 'getEntity' | 'queryEntities'>;
  clock: Clock;
  limits: RegistrationLimits;
  /** Destination policy: a refusal reason for a registration endpoint, or null when allowed. */
  checkEndpoint(uri: string): string | null;
  /** The notifications a change of a tenant's registration owes (CSR subscriptions), written with the change. */
  owedFor?(tenant: TenantId): OwedNotifications;
  /** Called after a change committed (its owed notifications are in the outbox): wake the delivery worker. */
  onCommitted?(): void;
}

export interface PageRequest {
  limit: number;
  offset: number;
  count: boolean;
}

const missing = (id: string) => notFound(`Registration ${id} was not found`, 'Registration not found');

export function createRegistrationService(deps: RegistrationServiceDeps) {
  const { store, clock, limits } = deps;
  const policy = { checkEndpoint: deps.checkEndpoint };
  const owed = (tenant: TenantId): OwedNotifications | undefined => deps.owedFor?.(tenant);
  const committed = (): void => deps.onCommitted?.();

  /** The registration, or null when absent or expired (an expired one is deleted on the way: it no longer exists). */
  async function live(tenant: TenantId, id: string, now: string): Promise<StoredRegistration | null> {
    const stored = await store.getRegistration(tenant, id);
    if (stored === null) return null;
    if (!isRegistrationExpired(viewOf(stored.payload), now)) return stored;
    if (await store.deleteRegistration(tenant, id, owed(tenant))) committed();
    return null;
  }

  return {
    async create(tenant: TenantId, body: JsonObject, rc: RequestContext): Promise<string> {
      const now = clock.nowIso();
      const parsed = parseRegistration(body, rc.terms, limits, now, { ...policy, newId: `urn:ngsi-ld:ContextSourceRegistration:${randomUUID()}` });
      const id = parsed.view.id;
      if ((await live(tenant, id, now)) !== null) throw alreadyExists(`Registration ${id} already exists`, 'Registration already exists');
      await checkModeConflicts({ registrations: store, entities: deps.entities }, tenant, parsed.view, now);
      const stored: StoredRegistration = { id, payload: parsed.payload, createdAt: now, modifiedAt: now, forwarding: { ...EMPTY_FORWARDING } };
      await store.createRegistration(tenant, stored, owed(tenant));
      committed();
      return id;
    },

    async retrieve(tenant: TenantId, id: string, rc: RequestContext, sysAttrs: boolean): Promise<JsonObject> {
      const stored = await live(tenant, id, clock.nowIso());
      if (stored === null) throw missing(id);
      return renderRegistration(stored, rc.terms, { sysAttrs });
    },

    /** One page of matching registrations; `query` absent lists them all. */
    async query(tenant: TenantId, rc: RequestContext, query: RegistrationQuery | undefined, page: PageRequest, sysAttrs: boolean) {
      const now = clock.nowIso();
      const matches = query === undefined ? undefined : (r: StoredRegistration) => matchesRegistration(query, viewOf(r.payload), now);
      const res = await store.queryRegistrations(tenant, { now, matches }, { ...page, limit: page.limit + 1 });
      const items = res.items.slice(0, page.limit).map((r) => renderRegistration(r, rc.terms, { sysAttrs }));
      return { items, total: res.total, hasMore: res.items.length > page.limit };
    },

    async update(tenant: TenantId, id: string, fragment: JsonObject, rc: RequestContext): Promise<void> {
      const now = clock.nowIso();
      const current = await live(tenant, id, now);
      if (current === null) throw missing(id);
      // Validated in full before the write: an invalid fragment changes nothing.
      const parsed = patchRegistration(current.payload, fragment, rc.terms, limits, now, policy);
      await checkModeConflicts({ registrations: store, entities: deps.entities }, tenant, parsed.view, now);
      const updated = await store.updateRegistration(tenant, id, (cur) => ({ ...cur, payload: parsed.payload, modifiedAt: now }), owed(tenant));
      if (updated === null) throw missing(id);
      committed();
    },

    async remove(tenant: TenantId, id: string): Promise<void> {
      const current = await live(tenant, id, clock.nowIso());
      if (current === null || !(await store.deleteRegistration(tenant, id, owed(tenant)))) throw missing(id);
      committed();
    },
  };
}

export type RegistrationService = ReturnType<typeof createRegistrationService>;
