// Temporal consumption use cases (GS CIM 009 §5.7.3, §5.7.4, §4.5.19, §6.3.10; guide §15.3–15.4): retrieve
// and query the temporal evolution of entities, plain or aggregated (aggregation runs in the store's SQL),
// with entity paging, the per-attribute instance cap (206 + Content-Range) and q / geo-queries evaluated
// over the instances inside the window.
import { NgsiError, badRequestData, notFound } from '../core/errors.ts';
import type { AttrKind } from '../core/model/entity.ts';
import type { PageRequest } from '../core/query/entity-query.ts';
import { bucketsFor } from '../core/temporal/buckets.ts';
import { applyInstanceRange, storeInstanceLimit } from '../core/temporal/instance-range.ts';
import { filterAttrs, matchesInstanceFilter, type InstanceFilter } from '../core/temporal/instance-filter.ts';
import type {
  AggregationMethod,
  TemporalEntity,
  TemporalEntityAggregates,
  TemporalEntityInstances,
  TemporalSelection,
} from '../core/temporal/model.ts';
import type { TenantId } from '../core/tenant.ts';
import type { AggregationRequest, TemporalStore } from '../ports/temporal-store.ts';

export interface TemporalQueryServiceDeps {
  temporal: TemporalStore;
  /** The per-attribute instance cap (KEND_TEMPORAL_INSTANCE_LIMIT). */
  instanceLimit: number;
  /** Entities examined per store call while a q / geo filter scans (default 100). */
  scanChunk?: number;
}

export interface TemporalRequest {
  selection: TemporalSelection;
  filter: InstanceFilter;
  lastN?: number;
  timeAt?: string;
  endTimeAt?: string;
}

export interface TemporalPageResult<T> {
  entities: T[];
  total?: number;
  hasMore: boolean;
}

export interface InstancesResult extends TemporalPageResult<TemporalEntityInstances> {
  /** Set when the instance cap cut an attribute: answer 206 with this Content-Range. */
  contentRange?: string;
}

export interface AggregatesResult extends TemporalPageResult<TemporalEntityAggregates> {
  /** Entity id → attribute → kind (of its latest instance), for the `type` of aggregated attributes. */
  kinds: Record<string, Record<string, AttrKind>>;
}

const hasFilter = (f: InstanceFilter): boolean => f.q !== undefined || f.geo !== undefined;

function only(e: TemporalEntityInstances, attrs: readonly string[] | undefined): TemporalEntityInstances | null {
  if (attrs === undefined) return e;
  const kept = Object.fromEntries(Object.entries(e.attrs).filter(([a]) => attrs.includes(a)));
  return Object.values(kept).some((l) => l.length > 0) ? { ...e, attrs: kept } : null;
}

export function createTemporalQueryService(deps: TemporalQueryServiceDeps) {
  const { temporal } = deps;
  const chunk = deps.scanChunk ?? 100;
  const instanceRequest = (req: TemporalRequest) => ({ instanceLimit: storeInstanceLimit(deps.instanceLimit), ...(req.lastN !== undefined ? { lastN: req.lastN } : {}) });

  /** Entities whose in-window instances satisfy q / geo, paged here (the store has no q on instances). */
  async function scan(tenant: TenantId, req: TemporalRequest, page: PageRequest): Promise<TemporalPageResult<TemporalEntityInstances>> {
    const requested = req.selection.attrs;
    const selection = requested === undefined ? req.selection : { ...req.selection, attrs: [...new Set([...requested, ...filterAttrs(req.filter)])] };
    const matches: TemporalEntityInstances[] = [];
    let total = 0;
    for (let offset = 0; ; offset += chunk) {
      const part = await temporal.queryTemporal(tenant, selection, instanceRequest(req), { limit: chunk, offset, count: false });
      for (const e of part.entities) {
        if (!matchesInstanceFilter(req.filter, e.entity, e.attrs)) continue;
        const kept = only(e, requested);
        if (kept === null) continue;
        total += 1;
        if (total > page.offset && matches.length <= page.limit) matches.push(kept);
      }
      if (part.entities.length < chunk || (!page.count && matches.length > page.limit)) break;
    }
    const out: TemporalPageResult<TemporalEntityInstances> = { entities: matches.slice(0, page.limit), hasMore: matches.length > page.limit };
    if (page.count) out.total = total;
    return out;
  }

  async function instancesPage(tenant: TenantId, req: TemporalRequest, page: PageRequest): Promise<TemporalPageResult<TemporalEntityInstances>> {
    if (hasFilter(req.filter)) return scan(tenant, req, page);
    const res = await temporal.queryTemporal(tenant, req.selection, instanceRequest(req), { ...page, limit: page.limit + 1 });
    const out: TemporalPageResult<TemporalEntityInstances> = { entities: res.entities.slice(0, page.limit), hasMore: res.entities.length > page.limit };
    if (res.total !== undefined) out.total = res.total;
    return out;
  }

  function withRange(req: TemporalRequest, res: TemporalPageResult<TemporalEntityInstances>): InstancesResult {
    const cut = applyInstanceRange(res.entities, {
      window: req.selection.window,
      cap: deps.instanceLimit,
      ...(req.lastN !== undefined ? { lastN: req.lastN } : {}),
      ...(req.timeAt !== undefined ? { timeAt: req.timeAt } : {}),
      ...(req.endTimeAt !== undefined ? { endTimeAt: req.endTimeAt } : {}),
    });
    return { ...res, entities: cut.entities, ...(cut.contentRange !== undefined ? { contentRange: cut.contentRange } : {}) };
  }

  // Existence and latest-kind probes use the modifiedAt window: every instance has modifiedAt and both stores
  // index it per series, so the probe reads one index entry; a createdAt window sorts the whole series.

  /** The kind of each attribute's latest recorded instance, for the listed entities. */
  async function kindsOf(tenant: TenantId, ids: string[], attrs: string[] | undefined): Promise<AggregatesResult['kinds']> {
    if (ids.length === 0) return {};
    const res = await temporal.queryTemporal(
      tenant,
      { selectors: [{ ids }], ...(attrs !== undefined ? { attrs } : {}), window: { property: 'modifiedAt' } },
      { lastN: 1, instanceLimit: 1 },
      { limit: ids.length, offset: 0, count: false },
    );
    const out: AggregatesResult['kinds'] = {};
    for (const e of res.entities) {
      out[e.entity.id] = Object.fromEntries(Object.entries(e.attrs).filter(([, l]) => l.length > 0).map(([a, l]) => [a, l[l.length - 1]!.type]));
    }
    return out;
  }

  function checkBuckets(req: TemporalRequest, aggregation: AggregationRequest): void {
    const { fromMs, toMs } = req.selection.window;
    if (fromMs === undefined || toMs === undefined) return;
    try {
      bucketsFor(fromMs, toMs, aggregation.period);
    } catch (e) {
      if (e instanceof RangeError) throw badRequestData(`aggrPeriodDuration splits the window into too many buckets (${e.message})`, 'Invalid aggrPeriodDuration');
      throw e;
    }
  }

  /** A method asked for an attribute named in `attrs` that yields nothing for it cannot apply: 400 (§4.5.19). */
  function checkApplicable(entities: readonly TemporalEntityAggregates[], attrs: string[] | undefined, methods: readonly AggregationMethod[]): void {
    if (attrs === undefined) return;
    for (const e of entities) {
      for (const attr of attrs) {
        const series = e.attrs[attr];
        if (series === undefined) continue;
        const missing = methods.filter((m) => series[m] === undefined);
        if (missing.length > 0) {
          throw new NgsiError('InvalidRequest', `Aggregation method ${missing.join(', ')} cannot apply to attribute ${attr} of entity ${e.entity.id}`, 'Aggregation not applicable');
        }
      }
    }
  }

  async function aggregates(tenant: TenantId, req: TemporalRequest, aggregation: AggregationRequest, page: PageRequest): Promise<TemporalPageResult<TemporalEntityAggregates>> {
    checkBuckets(req, aggregation);
    try {
      if (hasFilter(req.filter)) {
        const matched = await scan(tenant, req, page);
        const ids = matched.entities.map((e) => e.entity.id);
        if (ids.length === 0) return { ...matched, entities: [] };
        const res = await temporal.aggregateTemporal(tenant, { ...req.selection, selectors: [{ ids }] }, aggregation, { limit: ids.length, offset: 0, count: false });
        return { ...matched, entities: res.entities };
      }
      const res = await temporal.aggregateTemporal(tenant, req.selection, aggregation, { ...page, limit: page.limit + 1 });
      const out: TemporalPageResult<TemporalEntityAggregates> = { entities: res.entities.slice(0, page.limit), hasMore: res.entities.length > page.limit };
      if (res.total !== undefined) out.total = res.total;
      return out;
    } catch (e) {
      if (e instanceof RangeError) throw badRequestData(`aggrPeriodDuration splits the window into too many buckets (${e.message})`, 'Invalid aggrPeriodDuration');
      throw e;
    }
  }

  /** The record of one entity, or 404. */
  async function recordOf(tenant: TenantId, id: string): Promise<TemporalEntity> {
    const record = await temporal.getTemporalEntity(tenant, id);
    if (record === null) throw notFound(`Entity ${id} has no temporal representation`, 'Entity not found');
    return record;
  }

  const neverHad = (id: string): NgsiError => notFound(`Entity ${id} never had any of the requested attributes`, 'Attribute not found');

  /** The record of one entity, or 404; with `attrs`, also 404 when it never had any of them. */
  async function existing(tenant: TenantId, id: string, attrs: string[] | undefined): Promise<TemporalEntity> {
    const record = await recordOf(tenant, id);
    if (attrs !== undefined) {
      const ever = await temporal.queryTemporal(tenant, { selectors: [{ ids: [id] }], attrs, window: { property: 'modifiedAt' } }, { instanceLimit: 1 }, { limit: 1, offset: 0, count: false });
      if (ever.entities.length === 0) throw neverHad(id);
    }
    return record;
  }

  const one = (id: string, selection: TemporalSelection): TemporalSelection => ({ ...selection, selectors: [{ ids: [id] }] });
  const firstPage: PageRequest = { limit: 1, offset: 0, count: false };

  return {
    async query(tenant: TenantId, req: TemporalRequest, page: PageRequest): Promise<InstancesResult> {
      return withRange(req, await instancesPage(tenant, req, page));
    },

    async aggregate(tenant: TenantId, req: TemporalRequest, aggregation: AggregationRequest, page: PageRequest): Promise<AggregatesResult> {
      const res = await aggregates(tenant, req, aggregation, page);
      checkApplicable(res.entities, req.selection.attrs, aggregation.methods);
      return { ...res, kinds: await kindsOf(tenant, res.entities.map((e) => e.entity.id), req.selection.attrs) };
    },

    /** GET /temporal/entities/{id}: the entity with its in-window instances (none: id and type only). */
    async retrieve(tenant: TenantId, id: string, req: TemporalRequest): Promise<InstancesResult & { entity: TemporalEntityInstances }> {
      const record = await existing(tenant, id, req.selection.attrs);
      const res = await instancesPage(tenant, { ...req, selection: one(id, req.selection) }, firstPage);
      const found = withRange(req, res);
      const entity = found.entities[0] ?? { entity: record, attrs: {}, truncated: false };
      return { ...found, entity };
    },

    async retrieveAggregated(tenant: TenantId, id: string, req: TemporalRequest, aggregation: AggregationRequest): Promise<{ entity: TemporalEntityAggregates; kinds: Record<string, AttrKind> }> {
      const record = await recordOf(tenant, id);
      // The kinds' read (the latest instance of each attribute, same selection as existing's check) also
      // tells whether the entity ever had one of `attrs`: one store read fewer per request than existing().
      const kinds = await kindsOf(tenant, [id], req.selection.attrs);
      if (req.selection.attrs !== undefined && kinds[id] === undefined) throw neverHad(id);
      const res = await aggregates(tenant, { ...req, selection: one(id, req.selection) }, aggregation, firstPage);
      checkApplicable(res.entities, req.selection.attrs, aggregation.methods);
      const entity = res.entities[0] ?? { entity: record, attrs: {} };
      return { entity, kinds: kinds[id] ?? {} };
    },
  };
}

export type TemporalQueryService = ReturnType<typeof createTemporalQueryService>;
