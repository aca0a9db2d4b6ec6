// EntityMap use cases (GS CIM 009 §5.14.1–5.14.5, §5.5.9.3; guide §19): create a map from a query's matches,
// retrieve / update (expiresAt only) / delete it, page a query over a map's frozen candidates, and sweep
// expired maps. Which query a map serves (entities, temporal, federated) is the caller's: it supplies the
// matches when creating and an evaluation of candidate ids when paging.
import { randomUUID } from 'node:crypto';
import { parseDateTime } from '../core/datetime.ts';
import { NgsiError, badRequestData, notFound } from '../core/errors.ts';
import { ENTITY_MAP_ID_PREFIX, cappedExpiry, expiryFor, isPositive, renderEntityMap, type EntityMapEntry, type EntityMapHead } from '../core/entity-map/model.ts';
import type { JsonObject } from '../core/json.ts';
import type { PageRequest } from '../core/query/entity-query.ts';
import { parseDuration } from '../core/temporal/duration.ts';
import type { PeriodDuration } from '../core/temporal/model.ts';
import type { TenantId } from '../core/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import type { EntityMapStore } from '../ports/entity-map-store.ts';

export interface EntityMapServiceDeps {
  store: EntityMapStore;
  clock: Clock;
  /** Lifetime of a map whose request names none (KEND_ENTITY_MAP_LIFETIME). */
  defaultLifetime: PeriodDuration;
  /** Longest lifetime granted, on creation and PATCH (KEND_ENTITY_MAP_MAX_LIFETIME). */
  maxLifetime: PeriodDuration;
  /** Most entities one map holds (KEND_ENTITY_MAP_MAX_ENTRIES); a query matching more → 403 TooManyResults. */
  maxEntries: number;
  newId?: () => string;
}

/** One page of a query evaluated over a map's candidates. */
export interface MapPage<T> {
  items: T[];
  hasMore: boolean;
  /** All candidates still matching; only when the page asked for a count. */
  total?: number;
}

/** Candidates evaluated per round trip while paging over a map. */
const CANDIDATE_CHUNK = 200;

/** Members of an EntityMap fragment that a PATCH ignores (system-generated, §5.2.39), besides expiresAt. */
const IGNORED_MEMBERS = new Set(['id', 'type', 'entityMap', 'linkedMaps', '@context']);

const tooMany = (max: number): NgsiError =>
  new NgsiError('TooManyResults', `The query matches more than ${max} entities, the most an EntityMap holds (KEND_ENTITY_MAP_MAX_ENTRIES); narrow it`, 'Too many results for an EntityMap');

export function createEntityMapService(deps: EntityMapServiceDeps) {
  const { store, clock } = deps;
  const newId = deps.newId ?? (() => `${ENTITY_MAP_ID_PREFIX}${randomUUID()}`);

  async function live(tenant: TenantId, id: string): Promise<EntityMapHead> {
    const head = await store.getEntityMap(tenant, id, clock.nowIso());
    if (head === null) throw notFound(`EntityMap ${id} was not found`, 'EntityMap not found');
    return head;
  }

  return {
    /** `entityMapLifetime` (an ISO 8601 duration, > 0) or the default; invalid → 400. */
    parseLifetime(raw: string | undefined): PeriodDuration {
      if (raw === undefined) return deps.defaultLifetime;
      const d = parseDuration(raw);
      if (d === null || !isPositive(d)) throw badRequestData(`entityMapLifetime "${raw}" is not a positive ISO 8601 duration`, 'Invalid entityMapLifetime');
      return d;
    },

    /** The most entities one map holds. */
    maxEntries: deps.maxEntries,

    /**
     * Gathers a query's matches for a new map: `next(offset, limit)` returns the matches from `offset` on and
     * whether more follow. Duplicate ids (several sources) keep their first place with the sources joined.
     */
    async collect(next: (offset: number, limit: number) => Promise<{ entries: EntityMapEntry[]; more: boolean }>, chunk = 500): Promise<EntityMapEntry[]> {
      const byId = new Map<string, string[]>();
      for (let offset = 0; ; offset += chunk) {
        const part = await next(offset, chunk);
        for (const e of part.entries) {
          const known = byId.get(e.entityId);
          if (known === undefined) byId.set(e.entityId, [...e.sources]);
          else for (const s of e.sources) if (!known.includes(s)) known.push(s);
        }
        if (byId.size > deps.maxEntries) throw tooMany(deps.maxEntries);
        if (!part.more) break;
      }
      return [...byId].map(([entityId, sources]) => ({ entityId, sources }));
    },

    /** Stores a new map of `entries` (in their order) living `lifetime` (capped). */
    async create(tenant: TenantId, entries: readonly EntityMapEntry[], lifetime: PeriodDuration, linkedMaps: Record<string, string> = {}): Promise<EntityMapHead> {
      if (entries.length > deps.maxEntries) throw tooMany(deps.maxEntries);
      const nowMs = clock.nowMs();
      const head: EntityMapHead = { id: newId(), expiresAt: expiryFor(nowMs, lifetime, deps.maxLifetime), createdAt: new Date(nowMs).toISOString(), linkedMaps };
      await store.createEntityMap(tenant, head, entries);
      return head;
    },

    /** The live map, or null when unknown, expired or another tenant's (a request header naming it then makes a new one). */
    find(tenant: TenantId, id: string): Promise<EntityMapHead | null> {
      return store.getEntityMap(tenant, id, clock.nowIso());
    },

    /** GET /entityMaps/{id} (§5.14.1): the whole map; 404 when unknown, expired or another tenant's. */
    async retrieve(tenant: TenantId, id: string): Promise<JsonObject> {
      const head = await live(tenant, id);
      const entries: EntityMapEntry[] = [];
      for (let after = -1; ; ) {
        const part = await store.readEntityMapEntries(tenant, id, after, 1000);
        for (const { entityId, sources } of part) entries.push({ entityId, sources });
        if (part.length < 1000) break;
        after = part[part.length - 1]!.pos;
      }
      return renderEntityMap(head, entries);
    },

    /** PATCH /entityMaps/{id} (§5.14.2): only expiresAt changes (a DateTime, capped); output members are ignored. */
    async update(tenant: TenantId, id: string, fragment: JsonObject): Promise<void> {
      let expiresAt: string | undefined;
      for (const [k, v] of Object.entries(fragment)) {
        if (k === 'expiresAt') {
          const at = parseDateTime(v);
          if (at === null) throw badRequestData('expiresAt must be a DateTime (UTC, e.g. 2030-01-01T00:00:00Z)', 'Invalid expiresAt');
          expiresAt = at;
        } else if (!IGNORED_MEMBERS.has(k)) {
          throw badRequestData(`"${k}" is not a member of an EntityMap that can be updated; only expiresAt can`, 'Invalid EntityMap fragment');
        }
      }
      if (expiresAt === undefined) {
        await live(tenant, id);
        return;
      }
      const nowMs = clock.nowMs();
      const changed = await store.setEntityMapExpiry(tenant, id, cappedExpiry(nowMs, Date.parse(expiresAt), deps.maxLifetime), new Date(nowMs).toISOString());
      if (!changed) throw notFound(`EntityMap ${id} was not found`, 'EntityMap not found');
    },

    /** DELETE /entityMaps/{id} (§5.14.3). */
    async remove(tenant: TenantId, id: string): Promise<void> {
      if (!(await store.deleteEntityMap(tenant, id, clock.nowIso()))) throw notFound(`EntityMap ${id} was not found`, 'EntityMap not found');
    },

    /**
     * One page of a query over the map's candidates (guide §19): `evaluate` says which of some candidate ids
     * match the query now (with what it found for them). Candidates that no longer match are skipped and
     * removed from the map; the page is filled up to `limit` from the remaining ones in map order; offset
     * and total count the matching candidates. Without a count, evaluation stops after the page (+1 to know
     * whether more follow).
     */
    async page<T>(tenant: TenantId, mapId: string, page: PageRequest, evaluate: (ids: string[]) => Promise<ReadonlyMap<string, T>>): Promise<MapPage<T>> {
      const items: T[] = [];
      const gone: string[] = [];
      let total = 0;
      for (let after = -1; ; ) {
        const part = await store.readEntityMapEntries(tenant, mapId, after, CANDIDATE_CHUNK);
        if (part.length === 0) break;
        after = part[part.length - 1]!.pos;
        const found = await evaluate(part.map((e) => e.entityId));
        for (const { entityId } of part) {
          const hit = found.get(entityId);
          if (hit === undefined) {
            gone.push(entityId);
            continue;
          }
          total += 1;
          if (total > page.offset && items.length <= page.limit) items.push(hit);
        }
        if ((!page.count && items.length > page.limit) || part.length < CANDIDATE_CHUNK) break;
      }
      await store.removeEntityMapEntries(tenant, mapId, gone);
      const out: MapPage<T> = { items: items.slice(0, page.limit), hasMore: items.length > page.limit };
      if (page.count) out.total = total;
      return out;
    },

    /** Deletes expired maps (all tenants); returns how many. */
    sweep(): Promise<number> {
      return store.sweepEntityMaps(clock.nowIso());
    },
  };
}

export type EntityMapService = ReturnType<typeof createEntityMapService>;
