// Entity use cases (GS CIM 009 §5.6.1–5.6.6, §5.6.17–5.6.19, §5.7.1): validate first (400 beats 404),
// then one atomic read-modify-write per entity in the store.
import { alreadyExists, badRequestData, notFound } from '../core/errors.ts';
import type { JsonObject } from '../core/json.ts';
import type { TermMap } from '../core/jsonld/term-map.ts';
import type { Entity } from '../core/model/entity.ts';
import { compareDateTime } from '../core/datetime.ts';
import {
  applyAppend,
  applyDeleteAttr,
  applyDeleteScope,
  applyMerge,
  applyPartialAttr,
  applyReplace,
  applyReplaceAttr,
  applyUpdate,
  newEntity,
  parseEntity,
  parseFragment,
  parsePartialAttr,
  parseReplaceAttr,
  SCOPE_IRI,
  type ModelLimits,
  type UpdateResult,
} from '../core/model/write-ops.ts';
import { matchesTypeExpr, type TypeExpr } from '../core/query/type-expr.ts';
import type { TenantId } from '../core/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import type { EntityStore } from '../ports/store.ts';

export interface EntityServiceDeps {
  store: EntityStore;
  clock: Clock;
  limits: ModelLimits;
}

/** A selector on the stored entity: the `?type=` of single-entity operations (§5.7.1, 1.8). */
export interface EntityTarget {
  id: string;
  type?: TypeExpr;
}


/** Transient entities (§4.22) vanish once expiresAt has passed. */
function isLive(entity: Entity, nowIso: string): boolean {
  return entity.expiresAt === undefined || compareDateTime(entity.expiresAt, nowIso) > 0;
}

export function createEntityService(deps: EntityServiceDeps) {
  const { store, clock, limits } = deps;

  /** The stored entity addressed by the target, or 404 (also for a non-matching type selector). */
  function existing(current: Entity | null, target: EntityTarget, now: string): Entity {
    if (current === null || !isLive(current, now) || (target.type !== undefined && !matchesTypeExpr(target.type, current.types))) {
      throw notFound(`Entity ${target.id} was not found`, 'Entity not found');
    }
    return current;
  }

  /** Read-modify-write of an existing entity; `change` returns the new entity and a result. */
  async function modify<R>(tenant: TenantId, target: EntityTarget, change: (current: Entity, now: string) => { entity: Entity | null; result: R }): Promise<R> {
    return store.writeEntity(
      tenant,
      target.id,
      (current) => {
        const now = clock.nowIso();
        const { entity, result } = change(existing(current, target, now), now);
        return entity === null ? { remove: true, result } : { put: entity, result };
      },
      { createTenant: false },
    );
  }

  return {
    async create(tenant: TenantId, body: JsonObject, terms: TermMap): Promise<string> {
      const parsed = parseEntity(body, terms, limits, 'create');
      const id = parsed.id;
      await store.writeEntity(
        tenant,
        id,
        (current) => {
          const now = clock.nowIso();
          if (current !== null && isLive(current, now)) throw alreadyExists(`Entity ${id} already exists`, 'Entity already exists');
          return { put: newEntity(parsed, now), result: undefined };
        },
        { createTenant: true },
      );
      return id;
    },

    async retrieve(tenant: TenantId, target: EntityTarget): Promise<Entity> {
      return existing(await store.getEntity(tenant, target.id), target, clock.nowIso());
    },

    async remove(tenant: TenantId, target: EntityTarget): Promise<void> {
      await modify(tenant, target, () => ({ entity: null, result: undefined }));
    },

    async append(tenant: TenantId, target: EntityTarget, body: JsonObject, terms: TermMap, noOverwrite: boolean): Promise<UpdateResult> {
      const frag = parseFragment(body, terms, limits, 'append');
      return modify(tenant, target, (current, now) => applyAppend(current, frag, now, { noOverwrite }));
    },

    async update(tenant: TenantId, target: EntityTarget, body: JsonObject, terms: TermMap): Promise<UpdateResult> {
      const frag = parseFragment(body, terms, limits, 'update');
      return modify(tenant, target, (current, now) => applyUpdate(current, frag, now));
    },

    async partialUpdate(tenant: TenantId, target: EntityTarget, attr: string, body: JsonObject, terms: TermMap): Promise<void> {
      const attrFqn = terms.expandTerm(attr);
      if (attrFqn === SCOPE_IRI) throw badRequestData('scope cannot be updated as an attribute', 'Invalid attribute');
      const patch = parsePartialAttr(body, attrFqn, terms, limits);
      await modify(tenant, target, (current, now) => ({ entity: applyPartialAttr(current, attrFqn, patch, now), result: undefined }));
    },

    async replaceAttr(tenant: TenantId, target: EntityTarget, attr: string, body: JsonObject, terms: TermMap): Promise<void> {
      const attrFqn = terms.expandTerm(attr);
      if (attrFqn === SCOPE_IRI) throw badRequestData('scope cannot be replaced as an attribute', 'Invalid attribute');
      const parsed = parseReplaceAttr(body, attrFqn, terms, limits);
      await modify(tenant, target, (current, now) => ({ entity: applyReplaceAttr(current, attrFqn, parsed, now), result: undefined }));
    },

    async merge(
      tenant: TenantId,
      target: EntityTarget,
      body: JsonObject,
      terms: TermMap,
      options: { simplified: boolean; observedAt?: string; lang?: string },
    ): Promise<void> {
      const frag = parseFragment(body, terms, limits, options.simplified ? 'merge-simplified' : 'merge');
      await modify(tenant, target, (current, now) => {
        const merged = applyMerge(current, frag, now, { observedAt: options.observedAt, lang: options.lang });
        // A merge that sets expiresAt in the past makes the entity disappear at once (§4.22).
        return { entity: isLive(merged, now) ? merged : null, result: undefined };
      });
    },

    async replace(tenant: TenantId, target: EntityTarget, body: JsonObject, terms: TermMap): Promise<void> {
      const parsed = parseEntity(body, terms, limits, 'replace', target.id);
      await modify(tenant, target, (current, now) => ({ entity: applyReplace(current, parsed, now), result: undefined }));
    },

    async deleteAttr(
      tenant: TenantId,
      target: EntityTarget,
      attr: string,
      terms: TermMap,
      options: { datasetId?: string; deleteAll: boolean },
    ): Promise<void> {
      const attrFqn = terms.expandTerm(attr);
      await modify(tenant, target, (current) => {
        const now = clock.nowIso();
        const entity = attrFqn === SCOPE_IRI ? applyDeleteScope(current, now) : applyDeleteAttr(current, attrFqn, options, now);
        return { entity, result: undefined };
      });
    },
  };
}

export type EntityService = ReturnType<typeof createEntityService>;
