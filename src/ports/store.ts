// The storage port: the few operations services need. Implemented by the SQLite adapter (embedded
// default) and, later, PostgreSQL; one contract suite (test/contract) proves every implementation.
import type { Entity } from '../core/model/entity.ts';
import type { TenantId } from '../core/tenant.ts';
import type { JsonValue } from '../core/json.ts';
import type { OutboxEntry } from './subscription-store.ts';
import type { HistoryWrite } from '../core/temporal/model.ts';
import type { NgsiError } from '../core/errors.ts';
import type { DiscoveryRow } from '../core/query/discovery.ts';
import type { EntityQuery, PageRequest, QueryPage } from '../core/query/entity-query.ts';

/**
 * What a write function decides after seeing the current state of one entity. Returning neither `put`
 * nor `remove` writes nothing. Throwing (e.g. an NgsiError) aborts the transaction: nothing is written.
 */
export interface WriteDecision<R> {
  put?: Entity;
  remove?: boolean;
  /** Notifications owed because of this change: written to the durable outbox in the same transaction. */
  outbox?: readonly OutboxEntry[];
  /** What the temporal store records of this change: written in the same transaction (issue 6). */
  history?: HistoryWrite;
  result: R;
}

export interface BatchItem<R> {
  id: string;
  decide: (current: Entity | null) => WriteDecision<R>;
}

export type BatchOutcome<R> = { ok: true; result: R } | { ok: false; error: NgsiError };

export interface WriteOptions {
  /** Create the tenant if it does not exist (creating operations, §4.14); otherwise NonexistentTenant. */
  createTenant: boolean;
}

export type ContextKind = 'Hosted' | 'Cached' | 'ImplicitlyCreated';

/** One entry of the @context store (§5.13). Cached entries are kept in memory only. */
export interface StoredContext {
  localId: string;
  kind: ContextKind;
  /** The original URL for Cached entries; for others the serving URL is derived from localId. */
  url?: string;
  /** The whole document as stored: `{"@context": ...}`. */
  document: JsonValue;
  createdAt: string;
}

export interface EntityStore {
  /** True when the tenant exists; the default tenant always exists. */
  tenantExists(tenant: TenantId): Promise<boolean>;
  /** Reads one entity; null when absent. */
  getEntity(tenant: TenantId, id: string): Promise<Entity | null>;
  /**
   * Atomic read-modify-write of one entity: `decide` runs inside the transaction with the current state
   * (null when absent), and its decision is committed durably before the promise resolves. Concurrent
   * writers of one entity are serialised, so no update is lost. Throws NgsiError NonexistentTenant when
   * the tenant does not exist and `createTenant` is false.
   */
  writeEntity<R>(
    tenant: TenantId,
    id: string,
    decide: (current: Entity | null) => WriteDecision<R>,
    options: WriteOptions,
  ): Promise<R>;
  /**
   * Several read-modify-writes in one transaction (batch operations, §5.6.7–5.6.10): items run in order and
   * each sees the writes of the items before it (the same id may appear twice). An NgsiError thrown by one
   * item's `decide` fails only that item (nothing of it is written); any other error aborts the whole
   * batch. One commit — one fsync — for the batch. Tenant rules as in writeEntity; the tenant is created
   * only when some item puts an entity.
   */
  writeEntities<R>(tenant: TenantId, items: readonly BatchItem<R>[], options: WriteOptions): Promise<BatchOutcome<R>[]>;
  /**
   * One page of the entities of a tenant matching `query` (§5.7.2), in the query's order with insertion
   * order breaking ties — a stable total order, so paging a result that is not being written returns every
   * match exactly once. Compiled to SQL with bound parameters; must agree with `referenceQuery` (core).
   * `total` only when `page.count`. An unknown tenant yields an empty page.
   */
  queryEntities(tenant: TenantId, query: EntityQuery, page: PageRequest): Promise<QueryPage>;
  /** Type/attribute usage of a tenant for /types and /attributes (§5.7.5–5.7.10), sorted as sortDiscoveryRows. */
  discover(tenant: TenantId): Promise<DiscoveryRow[]>;
  /** All entities of a tenant in insertion order (stable across updates); [] for an unknown tenant. */
  listEntities(tenant: TenantId): Promise<Entity[]>;

  /** @context store (§5.13): Hosted and ImplicitlyCreated entries persist; global, not per tenant. */
  putContext(entry: StoredContext): Promise<void>;
  getContext(localId: string): Promise<StoredContext | null>;
  listContexts(): Promise<StoredContext[]>;
  deleteContext(localId: string): Promise<boolean>;

  close(): Promise<void>;
}
