// The temporal half of the storage port (GS CIM 009 §5.6.11–5.6.16, §5.7.3–5.7.4; issue 6). Instances are
// appended by entity writes (WriteDecision.history, same transaction); these are the reads and the
// per-instance corrections. Both stores implement it; test/contract/temporal-contract.ts proves both.
import type { TenantId } from '../core/tenant.ts';
import type { PageRequest } from '../core/query/entity-query.ts';
import type {
  AggregationMethod,
  PeriodDuration,
  RecordedInstance,
  TemporalEntity,
  TemporalEntityAggregates,
  TemporalEntityInstances,
  TemporalInstanceRequest,
  TemporalSelection,
} from '../core/temporal/model.ts';

export interface TemporalPage<T> {
  entities: T[];
  /** Only when the page request asked for a count. */
  total?: number;
}

export interface AggregationRequest {
  methods: readonly AggregationMethod[];
  /** null (or zero): one bucket spanning the whole window. */
  period: PeriodDuration | null;
}

export interface TemporalStore {
  /** The temporal record of an entity (also after the entity's deletion through the core API); null when none. */
  getTemporalEntity(tenant: TenantId, id: string): Promise<TemporalEntity | null>;
  /**
   * One page of the entities that match `selection` and have at least one selected attribute instance
   * in the window, ordered by first recording (stable), with their instances: ascending by the window's time
   * property (ties by recording order); per attribute at most `instanceLimit` (the oldest, or with lastN the
   * newest min(lastN, cap) — still returned ascending); `truncated` when a cap cut some attribute.
   */
  queryTemporal(
    tenant: TenantId,
    selection: TemporalSelection,
    instances: TemporalInstanceRequest,
    page: PageRequest,
  ): Promise<TemporalPage<TemporalEntityInstances>>;
  /**
   * Aggregations per attribute and bucket, computed in SQL over the instance table (issue 6 item 3).
   * Buckets start at the window's lower bound, or without one at the oldest selected instance, and
   * run consecutively (calendar months first, then milliseconds); buckets without instances are omitted.
   * A method that does not apply to an attribute's values yields no series for it.
   */
  aggregateTemporal(
    tenant: TenantId,
    selection: TemporalSelection,
    aggregation: AggregationRequest,
    page: PageRequest,
  ): Promise<TemporalPage<TemporalEntityAggregates>>;
  /** Replaces one recorded instance, keeping its instanceId (§5.6.15); false when unknown. */
  replaceInstance(tenant: TenantId, entityId: string, attr: string, instance: RecordedInstance): Promise<boolean>;
  /** Removes one recorded instance (§5.6.16); false when unknown. */
  deleteInstance(tenant: TenantId, entityId: string, attr: string, instanceId: string): Promise<boolean>;
  /** Removes instances recorded before `beforeMs` (createdAt), for the retention job; returns how many. */
  pruneHistory(beforeMs: number): Promise<number>;
}
