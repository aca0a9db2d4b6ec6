// Storage port of Context Source Registrations (GS CIM 009 §5.9, §5.10; issue 7). Implemented by the SQLite
// and PostgreSQL adapters, proved by one contract suite (test/contract/registration-contract.ts).
import type { JsonObject } from '../core/json.ts';
import type { ForwardingStatus } from '../core/registration/model.ts';
import type { TenantId } from '../core/tenant.ts';
import type { OutboxEntry } from './subscription-store.ts';

/**
 * A stored registration: the validated payload (names expanded) and server-kept state. The payload's
 * `expiresAt` (a DateTime string) is the registration's expiry: stores index it to skip expired rows.
 */
export interface StoredRegistration {
  id: string;
  payload: JsonObject;
  createdAt: string;
  modifiedAt: string;
  forwarding: ForwardingStatus;
}

/** The expiry of a stored registration (its payload's expiresAt), if any. */
export function expiryOf(registration: StoredRegistration): string | undefined {
  const at = registration.payload.expiresAt;
  return typeof at === 'string' ? at : undefined;
}

export interface RegistrationFilter {
  /** Registrations whose expiresAt is not after `now` are left out (they no longer exist, guide §16.1). */
  now: string;
  /** The query, evaluated on each live registration (core matchesRegistration); absent = every one. */
  matches?: (registration: StoredRegistration) => boolean;
}

export interface RegistrationPage {
  items: StoredRegistration[];
  /** Matches ignoring limit/offset; only when asked. */
  total?: number;
}

/**
 * The notifications a registration change owes (context source registration subscriptions, §5.11): called
 * inside the change's transaction with the states before and after it (null = absent), its entries written
 * to the notification outbox in that transaction. Synchronous and without effects of its own.
 */
export type OwedNotifications = (before: StoredRegistration | null, after: StoredRegistration | null) => readonly OutboxEntry[];

export interface RegistrationStore {
  /** AlreadyExists (409) when the id is taken in the tenant; creates the tenant (a creating operation). */
  createRegistration(tenant: TenantId, registration: StoredRegistration, owed?: OwedNotifications): Promise<void>;
  /** Null when absent (expired ones are returned: the caller decides, and may delete them). */
  getRegistration(tenant: TenantId, id: string): Promise<StoredRegistration | null>;
  /**
   * One page of the tenant's live registrations passing the filter, in creation order (a stable order: an
   * update keeps a registration's place). Read from one snapshot.
   */
  queryRegistrations(tenant: TenantId, filter: RegistrationFilter, page: { limit: number; offset: number; count: boolean }): Promise<RegistrationPage>;
  /** Atomic read-modify-write; `change` returning null writes nothing. Null when absent. */
  updateRegistration(
    tenant: TenantId,
    id: string,
    change: (current: StoredRegistration) => StoredRegistration | null,
    owed?: OwedNotifications,
  ): Promise<StoredRegistration | null>;
  /** True when it existed. */
  deleteRegistration(tenant: TenantId, id: string, owed?: OwedNotifications): Promise<boolean>;
  /** Counts one distributed operation sent with the registration (§5.2.9 status members); not a definition change. */
  recordForwarding(tenant: TenantId, id: string, outcome: { ok: boolean; at: string }): Promise<void>;
  /** Increases on every create/update/delete, by any node: a cheap validity check for caches of registrations. */
  registrationsVersion(): Promise<number>;
}
