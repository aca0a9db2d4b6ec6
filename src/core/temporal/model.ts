// The temporal model (GS CIM 009 §4.5.6–4.5.9, §5.6.11–5.6.16, §5.7.3–5.7.4, §6.3.10): attribute instances
// recorded over time, the time window of a temporal query and the aggregation request. Plain data shared
// by the services, the temporal renderer and both stores.
import type { AttrInstance } from '../model/entity.ts';
import type { EntitySelector } from '../query/entity-query.ts';
import type { ScopeExpr } from '../query/scope-q.ts';

/** The attribute name under which scope changes are recorded (§4.18: scope is recorded like a Property). */
export const SCOPE_ATTR = 'https://uri.etsi.org/ngsi-ld/scope';

/** One recorded attribute instance: its content as written, plus its identity and deletion marker. */
export type RecordedInstance = AttrInstance & {
  /** `urn:ngsi-ld:<uuid>`, unique per instance; kept when the instance is corrected (PATCH). */
  instanceId: string;
  /** Set on the instance that records a deletion (value `urn:ngsi-ld:null` in its own kind). */
  deletedAt?: string;
};

/** One row of the instance log: which attribute of which entity, and the instance. */
export interface HistoryInstance {
  /** Attribute FQN (or SCOPE_ATTR). */
  attr: string;
  instance: RecordedInstance;
}

/** The entity-level record of the temporal store: survives deletion of the entity (§7.10). */
export interface TemporalEntity {
  id: string;
  /** Expanded types, the union of every type the entity has had. */
  types: string[];
  scope?: string[];
  createdAt: string;
  modifiedAt: string;
  /** When the entity was deleted through the core API; absent while it exists. */
  deletedAt?: string;
}

/** Which recorded attributes a history drop removes (Delete Temporal Attribute, §5.6.14). */
export type HistoryDrop =
  | { kind: 'entity' }
  | { kind: 'attribute'; attr: string; /** absent: the default instance only */ datasetId?: string; all: boolean };

/**
 * What one entity write does to the temporal store, in the same transaction as the write: optional drop
 * first, then the entity record upserted (types unioned with those stored; scope and deletedAt as given),
 * then the instances appended.
 */
export interface HistoryWrite {
  drop?: HistoryDrop;
  /** Absent together with a drop of kind 'entity': the record is deleted. */
  entity?: TemporalEntity;
  instances: readonly HistoryInstance[];
}

export const TIME_PROPERTIES = ['observedAt', 'createdAt', 'modifiedAt', 'deletedAt'] as const;
export type TimeProperty = (typeof TIME_PROPERTIES)[number];
export type TimeRel = 'before' | 'after' | 'between';

/**
 * The time window of a temporal query, already validated. `before`: t < timeAt; `after`: t ≥ timeAt;
 * `between`: timeAt ≤ t < endTimeAt. Times are instants in epoch milliseconds; instances lacking
 * `property` never match.
 */
export interface TimeWindow {
  property: TimeProperty;
  rel?: TimeRel;
  /** Inclusive lower bound (after, between). */
  fromMs?: number;
  /** Exclusive upper bound (before, between). */
  toMs?: number;
}

/** The entities and attributes a temporal query selects. */
export interface TemporalSelection {
  /** Alternatives (OR) on id, idPattern and type, evaluated on the temporal entity record; absent = all. */
  selectors?: EntitySelector[];
  /** Attribute FQNs to return; absent = all. An entity is listed only when it has a selected attribute. */
  attrs?: string[];
  /** Only instances of these datasetIds ('@none' = the default instance); absent = all. */
  datasetIds?: string[];
  scopeQ?: ScopeExpr;
  window: TimeWindow;
}

export interface TemporalInstanceRequest {
  /** Per attribute, keep the n most recent instances within the window (§5.7.3 lastN). */
  lastN?: number;
  /** Per-attribute cap (§6.3.10): more instances than this make the answer partial. */
  instanceLimit: number;
}

/** One entity of a temporal answer: instances per attribute (ascending by the window's time property). */
export interface TemporalEntityInstances {
  entity: TemporalEntity;
  attrs: Record<string, RecordedInstance[]>;
  /** True when some attribute had more instances in the window than the cap allowed (§6.3.10). */
  truncated: boolean;
}

export const AGGREGATION_METHODS = ['totalCount', 'distinctCount', 'sum', 'avg', 'min', 'max', 'stddev', 'sumsq'] as const;
export type AggregationMethod = (typeof AGGREGATION_METHODS)[number];

/** An ISO 8601 duration split into calendar months and exact milliseconds (P1M ≠ P30D). */
export interface PeriodDuration {
  months: number;
  ms: number;
}

/** One bucket: [start, end) in epoch ms. */
export interface Bucket {
  startMs: number;
  endMs: number;
}

/** A method's results for one attribute: one entry per bucket that holds an instance. */
export type AggregateSeries = { value: number | string | null; startMs: number; endMs: number }[];

export interface TemporalEntityAggregates {
  entity: TemporalEntity;
  /** Attribute FQN → method → series. */
  attrs: Record<string, Partial<Record<AggregationMethod, AggregateSeries>>>;
}
