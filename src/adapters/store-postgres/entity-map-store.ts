// PostgreSQL EntityMapStore (GS CIM 009 §5.14; guide §19): EntityMaps per tenant shared by every node on the
// database, created by the EntityMap migration; expired maps are invisible at once and deleted by the sweep.
import type { Pool, QueryConfig } from 'pg';
import type { EntityMapEntry, EntityMapHead } from '../../core/entity-map/model.ts';
import type { EntityMapStore, PositionedEntry } from '../../ports/entity-map-store.ts';
import { textFromKey, textKey } from './text-key.ts';
import { inTransaction } from './transaction.ts';

/**
 * Schema of the EntityMap migration (released: never edit, add a migration). Notes:
 * - Ids are COLLATE "C" text holding textKey(id), as elsewhere (PostgreSQL text cannot hold U+0000).
 * - No foreign key to `tenants`: a map is only created by a request the tenant check let through, and the
 *   sweep removes it whatever happens to the tenant.
 * - Entries are rows keyed by position, so removing candidates that no longer match is a DELETE, never a
 *   read-modify-write of the whole map (two nodes paging one map lose nothing); `sources` is a JSON array.
 * - Self-contained (no reference to other migrations' objects), so renumbering it is a one-line change.
 */
export const POSTGRES_ENTITY_MAP_DDL = `
  CREATE TABLE entity_maps (
    tenant text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    linked_maps json NOT NULL,
    CONSTRAINT entity_maps_pkey PRIMARY KEY (tenant, id)
  );

  CREATE INDEX entity_maps_expires ON entity_maps (expires_at);

  CREATE TABLE entity_map_entries (
    tenant text COLLATE "C" NOT NULL,
    map_id text COLLATE "C" NOT NULL,
    pos integer NOT NULL,
    entity_id text COLLATE "C" NOT NULL,
    sources json NOT NULL,
    PRIMARY KEY (tenant, map_id, pos),
    FOREIGN KEY (tenant, map_id) REFERENCES entity_maps (tenant, id) ON DELETE CASCADE
  );

  CREATE INDEX entity_map_entries_entity ON entity_map_entries (tenant, map_id, entity_id);
`;

/** Entries inserted per statement (array parameters), to bound one message's size. */
const INSERT_CHUNK = 10_000;

type Param = string | number | null | readonly (string | number)[];

function statement(name: string, text: string): (values: Param[]) => QueryConfig<Param[]> {
  return (values) => ({ name: `kend_emap_${name}`, text, values });
}

const ts = (col: string): string => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const sql = {
  insertHead: statement(
    'insert_head',
    'INSERT INTO entity_maps (tenant, id, expires_at, created_at, linked_maps) VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5::json)',
  ),
  insertEntries: statement(
    'insert_entries',
    `INSERT INTO entity_map_entries (tenant, map_id, pos, entity_id, sources)
     SELECT $1, $2, u.pos, u.entity_id, u.sources::json FROM unnest($3::int[], $4::text[], $5::text[]) AS u(pos, entity_id, sources)`,
  ),
  get: statement(
    'get',
    `SELECT id, ${ts('expires_at')} AS expires_at, ${ts('created_at')} AS created_at, linked_maps::text AS linked_maps
     FROM entity_maps WHERE tenant = $1 AND id = $2 AND expires_at > $3::timestamptz`,
  ),
  entries: statement(
    'entries',
    `SELECT pos, entity_id, sources::text AS sources FROM entity_map_entries
     WHERE tenant = $1 AND map_id = $2 AND pos > $3 ORDER BY pos LIMIT $4`,
  ),
  removeEntries: statement('remove_entries', 'DELETE FROM entity_map_entries WHERE tenant = $1 AND map_id = $2 AND entity_id = ANY($3::text[])'),
  setExpiry: statement('set_expiry', 'UPDATE entity_maps SET expires_at = $3::timestamptz WHERE tenant = $1 AND id = $2 AND expires_at > $4::timestamptz'),
  delete: statement('delete', 'DELETE FROM entity_maps WHERE tenant = $1 AND id = $2 AND expires_at > $3::timestamptz'),
  sweep: statement('sweep', 'DELETE FROM entity_maps WHERE expires_at <= $1::timestamptz'),
};

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

/** The store over a migrated database. The pool stays the caller's to end. */
export function createPostgresEntityMapStore(pool: Pool): EntityMapStore {
  return {
    async createEntityMap(tenant, head: EntityMapHead, entries: readonly EntityMapEntry[]) {
      await inTransaction(pool, async (client) => {
        await client.query(sql.insertHead([tenant, textKey(head.id), head.expiresAt, head.createdAt, JSON.stringify(head.linkedMaps)]));
        for (let start = 0; start < entries.length; start += INSERT_CHUNK) {
          const part = entries.slice(start, start + INSERT_CHUNK);
          await client.query(
            sql.insertEntries([tenant, textKey(head.id), part.map((_, i) => start + i), part.map((e) => textKey(e.entityId)), part.map((e) => JSON.stringify(e.sources))]),
          );
        }
      });
    },
    async getEntityMap(tenant, id, now) {
      const { rows } = await pool.query<HeadRow>(sql.get([tenant, textKey(id), now]));
      const row = rows[0];
      if (row === undefined) return null;
      return { id: textFromKey(row.id), expiresAt: row.expires_at, createdAt: row.created_at, linkedMaps: JSON.parse(row.linked_maps) as Record<string, string> };
    },
    async readEntityMapEntries(tenant, id, afterPos, limit) {
      const { rows } = await pool.query<EntryRow>(sql.entries([tenant, textKey(id), afterPos, limit]));
      return rows.map((r): PositionedEntry => ({ pos: r.pos, entityId: textFromKey(r.entity_id), sources: JSON.parse(r.sources) as string[] }));
    },
    async removeEntityMapEntries(tenant, id, entityIds) {
      if (entityIds.length > 0) await pool.query(sql.removeEntries([tenant, textKey(id), entityIds.map(textKey)]));
    },
    async setEntityMapExpiry(tenant, id, expiresAt, now) {
      return ((await pool.query(sql.setExpiry([tenant, textKey(id), expiresAt, now]))).rowCount ?? 0) > 0;
    },
    async deleteEntityMap(tenant, id, now) {
      return ((await pool.query(sql.delete([tenant, textKey(id), now]))).rowCount ?? 0) > 0;
    },
    async sweepEntityMaps(now) {
      return (await pool.query(sql.sweep([now]))).rowCount ?? 0;
    },
  };
}
