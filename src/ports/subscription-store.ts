// Storage port of subscriptions and their durable notification outbox (GS CIM 009 §5.8; issue 5).
// Implemented by the SQLite and PostgreSQL adapters, proved by one contract suite.
import type { JsonObject, JsonValue } from '../core/json.ts';
import type { TenantId } from '../core/tenant.ts';

/** Delivery status members of a subscription's `notification` (§5.2.14), kept by the delivery worker. */
export interface DeliveryStatus {
  timesSent: number;
  timesFailed: number;
  lastNotification?: string;
  lastSuccess?: string;
  lastFailure?: string;
  /** Outcome of the last attempt. */
  status?: 'ok' | 'failed';
  /** Consecutive failures since the last success; past the configured maximum the subscription is `failed`. */
  consecutiveFailures: number;
}

/**
 * A stored subscription: the validated payload as the client expressed it (after PATCH merges), the
 * @context it was written with (re-resolved when loading), and server-kept state.
 */
export interface StoredSubscription {
  id: string;
  payload: JsonObject;
  /** The request's @context value (URL string, array or object); null = core context only. */
  context: JsonValue;
  createdAt: string;
  modifiedAt: string;
  delivery: DeliveryStatus;
  /** Next due time of a periodic (timeInterval) subscription; claimed atomically by one node. */
  nextPeriodicAt?: string;
}

/** One notification owed to an endpoint, written in the same transaction as the change that caused it. */
export interface OutboxEntry {
  /** The Notification id (urn:ngsi-ld:Notification:<uuid>): receivers drop repeats by it. */
  id: string;
  tenant: TenantId;
  subscriptionId: string;
  /** Delivery queue key: the endpoint URI (one queue, one concurrency budget per endpoint). */
  endpoint: string;
  /** Everything needed to deliver without re-reading the subscription: rendered body and headers. */
  message: JsonObject;
  /** Coalescing key for throttled subscriptions (e.g. subscription + entity id); later entries supersede. */
  coalesceKey?: string;
  /** Earliest delivery time (throttling); ISO instant. */
  notBefore: string;
  createdAt: string;
}

export interface OutboxRow extends OutboxEntry {
  attempts: number;
}

export interface SubscriptionStore {
  /** AlreadyExists (409) when the id is taken in the tenant; creates the tenant (a creating operation). */
  createSubscription(tenant: TenantId, sub: StoredSubscription): Promise<void>;
  getSubscription(tenant: TenantId, id: string): Promise<StoredSubscription | null>;
  /** Stable order (creation), with total when asked. */
  listSubscriptions(tenant: TenantId, page: { limit: number; offset: number; count: boolean }): Promise<{ items: StoredSubscription[]; total?: number }>;
  /** Atomic read-modify-write; `change` returning null deletes nothing and writes nothing. Null when absent. */
  updateSubscription(tenant: TenantId, id: string, change: (current: StoredSubscription) => StoredSubscription | null): Promise<StoredSubscription | null>;
  /** True when it existed. Pending outbox entries of the subscription are dropped with it. */
  deleteSubscription(tenant: TenantId, id: string): Promise<boolean>;
  /** Every subscription of every tenant, for the in-memory matcher. */
  allSubscriptions(): Promise<{ tenant: TenantId; sub: StoredSubscription }[]>;
  /** Increases on every create/update/delete, by any node: a cheap cache-validity check. */
  subscriptionsVersion(): Promise<number>;

  /**
   * Adds entries outside an entity write (periodic notifications). Entry writing — here and inside entity
   * writes — coalesces: an entry whose coalesceKey equals that of a pending, unclaimed entry replaces that
   * entry's id and message but keeps its notBefore (the last change inside a throttling window wins).
   */
  enqueue(entries: readonly OutboxEntry[]): Promise<void>;
  /**
   * Claims up to `limit` due entries (notBefore ≤ now, not leased by a live owner) for `owner` for `leaseMs`,
   * oldest first, with at most `perEndpoint` live leases per endpoint (counting leases already held), so one
   * endpoint's backlog cannot crowd out the others. A crashed owner's lease expires and the entries are
   * claimed again.
   */
  claimDue(owner: string, now: string, limit: number, leaseMs: number, perEndpoint: number): Promise<OutboxRow[]>;
  /** Hands claimed entries back without counting an attempt (graceful stop). */
  release(owner: string, ids: readonly string[]): Promise<void>;
  /** Delivered (or superseded, or given up): remove. */
  complete(ids: readonly string[]): Promise<void>;
  /** Failed attempt: release the lease, set the next attempt time, count the attempt. */
  retryLater(id: string, notBefore: string): Promise<void>;
  /** Records the outcome of a delivery attempt on the subscription's status. */
  recordDelivery(tenant: TenantId, subscriptionId: string, outcome: { ok: boolean; at: string }): Promise<void>;
  /** Atomically moves nextPeriodicAt forward for due periodic subscriptions and returns them (one node wins). */
  claimPeriodic(now: string, limit: number): Promise<{ tenant: TenantId; sub: StoredSubscription }[]>;
}
