// Query Entities and Purge Entities use cases (GS CIM 009 §5.7.2, §5.6.21): execute an EntityQuery against
// the store; purge re-checks every match inside its own atomic write.
import { compareDateTime } from '../core/datetime.ts';
import { badRequestData } from '../core/errors.ts';
import type { Entity } from '../core/model/entity.ts';
import { matchesEntityQuery, type EntityQuery, type PageRequest, type QueryPage } from '../core/query/entity-query.ts';
import type { TenantId } from '../core/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import type { BatchItem, EntityStore } from '../ports/store.ts';

export interface EntityQueryServiceDeps {
  store: EntityStore;
  clock: Clock;
  /** Entities purged per transaction. */
  purgeChunk?: number;
}

export interface QueryResult extends QueryPage {
  /** True when more matches follow this page. */
  hasMore: boolean;
}

/** What Purge Entities removes: whole entities, only the listed attributes, or all but the listed ones. */
export type PurgeScope = { kind: 'entities' } | { kind: 'drop'; attrs: string[] } | { kind: 'keep'; attrs: string[] };

const isLive = (e: Entity, now: string): boolean => e.expiresAt === undefined || compareDateTime(e.expiresAt, now) > 0;

export function createEntityQueryService(deps: EntityQueryServiceDeps) {
  const { store, clock } = deps;
  const chunk = deps.purgeChunk ?? 500;

  return {
    /** One page; asks the store for one extra match to know whether a next page exists. */
    async query(tenant: TenantId, query: EntityQuery, page: PageRequest): Promise<QueryResult> {
      const res = await store.queryEntities(tenant, query, { ...page, limit: page.limit + 1 });
      const hasMore = res.entities.length > page.limit;
      const now = clock.nowIso();
      const entities = res.entities.slice(0, page.limit).filter((e) => isLive(e, now));
      return res.total === undefined ? { entities, hasMore } : { entities, hasMore, total: res.total };
    },

    /** `spare`: matches left alone (distributed purge: entities an exclusive/redirect registration holds remotely). */
    async purge(tenant: TenantId, query: EntityQuery, scope: PurgeScope, spare?: (current: Entity) => boolean): Promise<void> {
      if (scope.kind !== 'entities' && scope.attrs.length === 0) throw badRequestData('drop/keep must name at least one attribute', 'Invalid purge');
      // Collect matching ids first (stable order), then remove them chunk by chunk, each element re-checked.
      const ids: string[] = [];
      for (let offset = 0; ; offset += chunk) {
        const page = await store.queryEntities(tenant, query, { limit: chunk, offset, count: false });
        ids.push(...page.entities.map((e) => e.id));
        if (page.entities.length < chunk) break;
      }
      for (let i = 0; i < ids.length; i += chunk) {
        const now = clock.nowIso();
        const items: BatchItem<void>[] = ids.slice(i, i + chunk).map((id) => ({
          id,
          decide: (current) => {
            if (current === null || !matchesEntityQuery(query, current) || spare?.(current) === true) return { result: undefined };
            if (scope.kind === 'entities') return { remove: true, result: undefined };
            const attrs = Object.fromEntries(
              Object.entries(current.attrs).filter(([name]) => (scope.kind === 'keep' ? scope.attrs.includes(name) : !scope.attrs.includes(name))),
            );
            if (Object.keys(attrs).length === Object.keys(current.attrs).length) return { result: undefined };
            return { put: { ...current, attrs, modifiedAt: now }, result: undefined };
          },
        }));
        await store.writeEntities(tenant, items, { createTenant: false });
      }
    },
  };
}

export type EntityQueryService = ReturnType<typeof createEntityQueryService>;
