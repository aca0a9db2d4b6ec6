// SQLite EntityMapStore (GS CIM 009 §5.14; guide §19): EntityMaps per tenant on the store's file, created by
// migration v8; expired maps are invisible at once and deleted by the service's periodic sweep.
import type BetterSqlite3 from 'better-sqlite3';
import type { EntityMapEntry, EntityMapHead } from '../../core/entity-map/model.ts';
import type { TenantId } from '../../core/tenant.ts';
import type { EntityMapStore, PositionedEntry } from '../../ports/entity-map-store.ts';

/**
 * Schema (migration v8; released: never edit, add a migration). Notes:
 * - No foreign key to `tenants`: a map is only created by a request the tenant check let through, and the
 *   sweep removes it whatever happens to the tenant.
 * - `expires_at` is canonical ISO text (text order = time order); maps_expires lets the sweep find them.
 * - Entries are rows keyed by position, so removing candidates that no longer match is a DELETE, never a
 *   read-modify-write of the whole map (two nodes paging one map lose nothing); `sources` is a JSON array.
 */
export const SQLITE_ENTITY_MAP_DDL = `
  CREATE TABLE entity_maps (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    linked_maps TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
  ) WITHOUT ROWID;

  CREATE INDEX entity_maps_expires ON entity_maps (expires_at);

  CREATE TABLE entity_map_entries (
    tenant TEXT NOT NULL,
    map_id TEXT NOT NULL,
    pos INTEGER NOT NULL,
    entity_id TEXT NOT NULL,
    sources TEXT NOT NULL,
    PRIMARY KEY (tenant, map_id, pos),
    FOREIGN KEY (tenant, map_id) REFERENCES entity_maps (tenant, id) ON DELETE CASCADE
  ) WITHOUT ROWID;

  CREATE INDEX entity_map_entries_entity ON entity_map_entries (tenant, map_id, entity_id);
`;

interface HeadRow {
  id: string;
  expires_at: string;
  created_at: string;
  linked_maps: string;
}

interface EntryRow {
  pos: number;
  entity_id: string;
  sources: string;
}

export function createSqliteEntityMapStore(db: BetterSqlite3.Database): EntityMapStore {
  const stmt = {
    insertHead: db.prepare<[string, string, string, string, string]>(
      'INSERT INTO entity_maps (tenant, id, expires_at, created_at, linked_maps) VALUES (?, ?, ?, ?, ?)',
    ),
    insertEntry: db.prepare<[string, string, number, string, string]>(
      'INSERT INTO entity_map_entries (tenant, map_id, pos, entity_id, sources) VALUES (?, ?, ?, ?, ?)',
    ),
    get: db.prepare<[string, string, string], HeadRow>(
      'SELECT id, expires_at, created_at, linked_maps FROM entity_maps WHERE tenant = ? AND id = ? AND expires_at > ?',
    ),
    entries: db.prepare<[string, string, number, number], EntryRow>(
      'SELECT pos, entity_id, sources FROM entity_map_entries WHERE tenant = ? AND map_id = ? AND pos > ? ORDER BY pos LIMIT ?',
    ),
    removeEntry: db.prepare<[string, string, string]>('DELETE FROM entity_map_entries WHERE tenant = ? AND map_id = ? AND entity_id = ?'),
    setExpiry: db.prepare<[string, string, string, string]>('UPDATE entity_maps SET expires_at = ? WHERE tenant = ? AND id = ? AND expires_at > ?'),
    delete: db.prepare<[string, string, string]>('DELETE FROM entity_maps WHERE tenant = ? AND id = ? AND expires_at > ?'),
    // An expired map is already gone for clients (404); its rows go here, with their entries (ON DELETE CASCADE).
    sweep: db.prepare<[string]>('DELETE FROM entity_maps WHERE expires_at <= ?'),
  };

  const createTx = db.transaction((tenant: TenantId, head: EntityMapHead, entries: readonly EntityMapEntry[]) => {
    stmt.insertHead.run(tenant, head.id, head.expiresAt, head.createdAt, JSON.stringify(head.linkedMaps));
    entries.forEach((e, pos) => stmt.insertEntry.run(tenant, head.id, pos, e.entityId, JSON.stringify(e.sources)));
  });

  const removeTx = db.transaction((tenant: TenantId, id: string, entityIds: readonly string[]) => {
    for (const entityId of entityIds) stmt.removeEntry.run(tenant, id, entityId);
  });

  return {
    async createEntityMap(tenant, head, entries) {
      createTx.immediate(tenant, head, entries);
    },
    async getEntityMap(tenant, id, now) {
      const row = stmt.get.get(tenant, id, now);
      if (row === undefined) return null;
      return { id: row.id, expiresAt: row.expires_at, createdAt: row.created_at, linkedMaps: JSON.parse(row.linked_maps) as Record<string, string> };
    },
    async readEntityMapEntries(tenant, id, afterPos, limit) {
      return stmt.entries.all(tenant, id, afterPos, limit).map((r): PositionedEntry => ({ pos: r.pos, entityId: r.entity_id, sources: JSON.parse(r.sources) as string[] }));
    },
    async removeEntityMapEntries(tenant, id, entityIds) {
      if (entityIds.length > 0) removeTx.immediate(tenant, id, entityIds);
    },
    async setEntityMapExpiry(tenant, id, expiresAt, now) {
      return stmt.setExpiry.run(expiresAt, tenant, id, now).changes > 0;
    },
    async deleteEntityMap(tenant, id, now) {
      return stmt.delete.run(tenant, id, now).changes > 0;
    },
    async sweepEntityMaps(now) {
      return stmt.sweep.run(now).changes;
    },
  };
}
