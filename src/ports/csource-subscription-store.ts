// Storage port of context source registration subscriptions (GS CIM 009 §5.11; issue 7 item 2): the same
// stored form as entity subscriptions, kept apart from them (they match registrations, not entities). Their
// notifications go through the shared outbox. Implemented by the SQLite and PostgreSQL adapters.
import type { TenantId } from '../core/tenant.ts';
import type { StoredSubscription } from './subscription-store.ts';

/**
 * Outbox rows of CSR subscriptions carry this prefix before the subscription id, so delivery outcomes are
 * recorded on the right kind of subscription (and an entity subscription with the same id is never touched).
 */
export const CSOURCE_OUTBOX_PREFIX = 'csourceSubscription|';

export interface CsourceSubscriptionStore {
  /** AlreadyExists (409) when the id is taken in the tenant; creates the tenant (a creating operation). */
  createCsourceSubscription(tenant: TenantId, sub: StoredSubscription): Promise<void>;
  getCsourceSubscription(tenant: TenantId, id: string): Promise<StoredSubscription | null>;
  /** Creation order, with total when asked. */
  listCsourceSubscriptions(tenant: TenantId, page: { limit: number; offset: number; count: boolean }): Promise<{ items: StoredSubscription[]; total?: number }>;
  /** Atomic read-modify-write; `change` returning null writes nothing. Null when absent. */
  updateCsourceSubscription(tenant: TenantId, id: string, change: (current: StoredSubscription) => StoredSubscription | null): Promise<StoredSubscription | null>;
  /** True when it existed; its pending outbox rows go with it. */
  deleteCsourceSubscription(tenant: TenantId, id: string): Promise<boolean>;
  /** Every CSR subscription of every tenant, for the in-memory matcher. */
  allCsourceSubscriptions(): Promise<{ tenant: TenantId; sub: StoredSubscription }[]>;
  /** Increases on every create/update/delete, by any node. */
  csourceSubscriptionsVersion(): Promise<number>;
  /** Records the outcome of a delivery attempt on the subscription's status (not a definition change). */
  recordCsourceDelivery(tenant: TenantId, id: string, outcome: { ok: boolean; at: string }): Promise<void>;
}
