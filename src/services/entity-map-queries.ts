// EntityMaps of queries (GS CIM 009 §5.5.9.3, §5.14.4, §5.14.5; guide §19): the matches of Query Entities and
// Query Temporal Evolution gathered into a new map, and those queries evaluated over a map's candidates
// (candidate set fixed, filters re-checked on each request).
import { HELD_LOCALLY, type EntityMapEntry, type EntityMapHead } from '../core/entity-map/model.ts';
import type { SourceWarning } from '../core/federation/warning.ts';
import type { Entity } from '../core/model/entity.ts';
import { matchesSelector, type EntityQuery, type EntitySelector, type PageRequest } from '../core/query/entity-query.ts';
import type { TemporalEntity } from '../core/temporal/model.ts';
import type { TenantId } from '../core/tenant.ts';
import type { EntityQueryService, QueryResult } from './entity-queries.ts';
import type { EntityMapService, MapPage } from './entity-maps.ts';
import type { Federated, FederatedPage } from './federation.ts';
import type { TemporalQueryService, TemporalRequest } from './temporal-queries.ts';
import type { PeriodDuration } from '../core/temporal/model.ts';

/**
 * The request's query run with the registered context sources taking part (Federation.query bound to the
 * request), or null from it when no source takes part.
 */
export type FederatedQuery = (page: PageRequest) => Promise<Federated<FederatedPage> | null>;

export interface EntityMapQueriesDeps {
  maps: EntityMapService;
  queries: EntityQueryService;
  temporalQueries?: TemporalQueryService;
}

const local = (entityId: string): EntityMapEntry => ({ entityId, sources: [HELD_LOCALLY] });

function selectorsHold(selectors: readonly EntitySelector[] | undefined, entity: Entity): boolean {
  return selectors === undefined || selectors.length === 0 || selectors.some((s) => matchesSelector(s, entity));
}

/** What selectors look at (id, types) of a temporal record, as an entity. */
const asEntity = (t: TemporalEntity): Entity => ({ id: t.id, types: t.types, createdAt: t.createdAt, modifiedAt: t.modifiedAt, attrs: {} });

/** The temporal request narrowed to these entity ids (the other selector members are re-checked by the caller). */
export function temporalOver(req: TemporalRequest, ids: string[]): TemporalRequest {
  return { ...req, selection: { ...req.selection, selectors: [{ ids }] } };
}

/** Items in the order of `ids` (stores answer in their own order). */
export function inOrder<T>(ids: readonly string[], items: readonly T[], idOf: (item: T) => string): T[] {
  const byId = new Map(items.map((i) => [idOf(i), i]));
  return ids.flatMap((id) => {
    const item = byId.get(id);
    return item === undefined ? [] : [item];
  });
}

export function createEntityMapQueries(deps: EntityMapQueriesDeps) {
  const { maps, queries } = deps;

  /** The query's matches, local or (when sources take part) merged with theirs in one window. */
  async function entityMatches(tenant: TenantId, query: EntityQuery, federated: FederatedQuery | undefined): Promise<{ entries: EntityMapEntry[]; warnings: SourceWarning[] }> {
    if (federated !== undefined) {
      // Sources cannot be paged consistently with local data (federation.ts): one window holding the whole map.
      const res = await federated({ limit: maps.maxEntries + 1, offset: 0, count: false });
      if (res !== null) {
        // Ids are unique in a merged answer; more than maxEntries of them is refused by maps.create.
        const entries = res.value.entities.map((e): EntityMapEntry => ({ entityId: e.id, sources: [...(res.value.heldBy?.get(e.id) ?? [HELD_LOCALLY])] }));
        return { entries, warnings: res.warnings };
      }
    }
    const entries = await maps.collect(async (offset, limit) => {
      const page = await queries.query(tenant, query, { offset, limit, count: false });
      return { entries: page.entities.map((e) => local(e.id)), more: page.hasMore };
    });
    return { entries, warnings: [] };
  }

  return {
    /** A new map of the matches of Query Entities (§5.14.4, or entityMap=true on GET /entities). */
    async createForEntities(tenant: TenantId, query: EntityQuery, lifetime: PeriodDuration, federated?: FederatedQuery): Promise<{ head: EntityMapHead; warnings: SourceWarning[] }> {
      const { entries, warnings } = await entityMatches(tenant, query, federated);
      return { head: await maps.create(tenant, entries, lifetime), warnings };
    },

    /** A new map of the given entities (entityMap=true on a single-entity retrieve). */
    async createFor(tenant: TenantId, entries: readonly EntityMapEntry[], lifetime: PeriodDuration): Promise<EntityMapHead> {
      return maps.create(tenant, entries, lifetime);
    },

    /**
     * One page of Query Entities over the map's candidates. Locally the candidates are evaluated in chunks (the
     * query narrowed to their ids, the selectors re-checked here); with sources taking part, the federated
     * query is run once and the candidates looked up in its answer.
     */
    async pageEntities(tenant: TenantId, mapId: string, query: EntityQuery, page: PageRequest, federated?: FederatedQuery): Promise<{ result: QueryResult; warnings: SourceWarning[] }> {
      // The candidates' order is the map's: a sort order of this request does not apply.
      const { selectors, order: _order, ...filters } = query;
      let warnings: SourceWarning[] = [];
      let remote: ReadonlyMap<string, Entity> | null | undefined;
      const evaluate = async (ids: string[]): Promise<ReadonlyMap<string, Entity>> => {
        if (federated !== undefined && remote === undefined) {
          const res = await federated({ limit: maps.maxEntries, offset: 0, count: false });
          remote = res === null ? null : new Map(res.value.entities.map((e) => [e.id, e]));
          if (res !== null) warnings = res.warnings;
        }
        if (remote !== null && remote !== undefined) {
          const all = remote;
          return new Map(ids.flatMap((id) => (all.has(id) ? [[id, all.get(id)!] as const] : [])));
        }
        const res = await queries.query(tenant, { ...filters, selectors: [{ ids }] }, { limit: ids.length, offset: 0, count: false });
        return new Map(res.entities.filter((e) => selectorsHold(selectors, e)).map((e) => [e.id, e]));
      };
      const p = await maps.page(tenant, mapId, page, evaluate);
      const result: QueryResult = { entities: p.items, hasMore: p.hasMore };
      if (p.total !== undefined) result.total = p.total;
      return { result, warnings };
    },

    /** A new map of the matches of Query Temporal Evolution (§5.14.5, or entityMap=true on GET /temporal/entities). */
    async createForTemporal(tenant: TenantId, req: TemporalRequest, lifetime: PeriodDuration): Promise<EntityMapHead> {
      const temporal = deps.temporalQueries!;
      // Membership only: without an instance filter one instance per attribute tells as much as all of them.
      const light: TemporalRequest = req.filter.q === undefined && req.filter.geo === undefined ? { ...req, lastN: 1 } : req;
      const entries = await maps.collect(async (offset, limit) => {
        const page = await temporal.query(tenant, light, { offset, limit, count: false });
        return { entries: page.entities.map((e) => local(e.entity.id)), more: page.hasMore };
      });
      return maps.create(tenant, entries, lifetime);
    },

    /** Which of the map's candidates are on this page of a temporal query (the caller then reads the page). */
    async pageTemporalIds(tenant: TenantId, mapId: string, req: TemporalRequest, page: PageRequest): Promise<MapPage<string>> {
      const temporal = deps.temporalQueries!;
      const selectors = req.selection.selectors;
      const light: TemporalRequest = req.filter.q === undefined && req.filter.geo === undefined ? { ...req, lastN: 1 } : req;
      return maps.page(tenant, mapId, page, async (ids) => {
        const res = await temporal.query(tenant, temporalOver(light, ids), { limit: ids.length, offset: 0, count: false });
        return new Map(res.entities.filter((e) => selectorsHold(selectors, asEntity(e.entity))).map((e) => [e.entity.id, e.entity.id]));
      });
    },
  };
}

export type EntityMapQueries = ReturnType<typeof createEntityMapQueries>;
