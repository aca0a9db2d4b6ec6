// Storage port of EntityMaps (GS CIM 009 §5.14, §5.2.39; guide §19): maps persist in the store so that they
// survive a restart and several nodes on one database share them. Implemented by the SQLite and PostgreSQL
// adapters, proved by one contract suite (test/contract/entity-map-contract.ts).
import type { EntityMapEntry, EntityMapHead } from '../core/entity-map/model.ts';
import type { TenantId } from '../core/tenant.ts';

/** An entry with its position: positions increase in map order and never change (removal leaves a gap). */
export interface PositionedEntry extends EntityMapEntry {
  pos: number;
}

export interface EntityMapStore {
  /** Stores a new map with its entries in the given order (ids are unique: the service makes them so). */
  createEntityMap(tenant: TenantId, head: EntityMapHead, entries: readonly EntityMapEntry[]): Promise<void>;
  /** The map, or null when absent, of another tenant, or expired at `now` (expiresAt ≤ now). */
  getEntityMap(tenant: TenantId, id: string, now: string): Promise<EntityMapHead | null>;
  /** Up to `limit` entries with pos > `afterPos` (start with -1), in map order. */
  readEntityMapEntries(tenant: TenantId, id: string, afterPos: number, limit: number): Promise<PositionedEntry[]>;
  /** Removes the listed entity ids from the map (candidates that no longer match); unknown ids are ignored. */
  removeEntityMapEntries(tenant: TenantId, id: string, entityIds: readonly string[]): Promise<void>;
  /** Sets the expiry of a live map; false when absent or expired at `now`. */
  setEntityMapExpiry(tenant: TenantId, id: string, expiresAt: string, now: string): Promise<boolean>;
  /** Deletes a live map and its entries; false when absent or expired at `now`. */
  deleteEntityMap(tenant: TenantId, id: string, now: string): Promise<boolean>;
  /** Deletes every map (all tenants) expired at `now`, with its entries; returns how many maps. */
  sweepEntityMaps(now: string): Promise<number>;
}
