// The SQL of the PostgreSQL store: named statements with bound parameters only, prepared once per connection.
import type { QueryConfig } from 'pg';

export type Param = string | number | boolean | null | string[];

/**
 * A named statement: pg prepares it once per pooled connection and then sends only its parameters, so
 * every tenant shares one set of plans. All values are bound parameters; no SQL is built from data.
 */
function statement(name: string, text: string): (values: Param[]) => QueryConfig<Param[]> {
  return (values) => ({ name: `kend_${name}`, text, values });
}

// created_at back as the ISO 8601 UTC millisecond string the port uses, whatever the session time zone.
const SELECT_CONTEXTS = `
  SELECT local_id, kind, url, document::text AS document,
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
  FROM contexts`;

/** Rows: `doc` is the stored JSON text, parsed by the caller (independent of pg's global type parsers). */
export const sql = {
  tenantExists: statement('tenant_exists', 'SELECT 1 FROM tenants WHERE name = $1'),
  getEntity: statement('get_entity', 'SELECT doc::text AS doc FROM entities WHERE tenant = $1 AND id = $2'),
  listEntities: statement('list_entities', 'SELECT doc::text AS doc FROM entities WHERE tenant = $1 ORDER BY seq'),
  /**
   * The current state, row-locked: a concurrent writer of the same entity waits here until we commit and
   * then reads our version (READ COMMITTED rechecks a locked row against its newest version), so no update
   * is lost. Concurrent creates of an absent id both read null; the loser's INSERT fails on entities_pkey
   * and the transaction is rerun.
   */
  lockEntity: statement(
    'lock_entity',
    `SELECT (SELECT doc::text FROM entities WHERE tenant = $1 AND id = $2 FOR UPDATE) AS doc,
            EXISTS (SELECT 1 FROM tenants WHERE name = $1) AS tenant_known`,
  ),
  /** A batch locks all its existing rows up front in id order, so two batches cannot deadlock each other. */
  lockEntities: statement(
    'lock_entities',
    `SELECT id, doc::text AS doc FROM entities WHERE tenant = $1 AND id = ANY ($2::text[])
     ORDER BY id FOR UPDATE`,
  ),
  // $1 tenant, $2 id, $3 types, $4 createdAt, $5 modifiedAt, $6 document, $7 create the tenant, $8 now.
  // Foreign keys are checked at the end of the statement, after every part of it has run.
  insertEntity: statement(
    'insert_entity',
    `WITH new_tenant AS (
       INSERT INTO tenants (name, created_at) SELECT $1, $8::timestamptz WHERE $7::boolean
       ON CONFLICT (name) DO NOTHING
     ), new_entity AS (
       INSERT INTO entities (tenant, id, types, created_at, modified_at, doc)
       VALUES ($1, $2, to_jsonb($3::text[]), $4::timestamptz, $5::timestamptz, $6::json)
     )
     INSERT INTO entity_types (tenant, id, type) SELECT $1, $2, t FROM unnest($3::text[]) AS t
     ON CONFLICT DO NOTHING`,
  ),
  // Keeps seq. Type rows: the stale ones go, the new ones come, the kept ones stay (disjoint sets).
  updateEntity: statement(
    'update_entity',
    `WITH changed AS (
       UPDATE entities SET types = to_jsonb($3::text[]), created_at = $4::timestamptz,
         modified_at = $5::timestamptz, doc = $6::json
       WHERE tenant = $1 AND id = $2
     ), stale_types AS (
       DELETE FROM entity_types WHERE tenant = $1 AND id = $2 AND type <> ALL ($3::text[])
     )
     INSERT INTO entity_types (tenant, id, type) SELECT $1, $2, t FROM unnest($3::text[]) AS t
     ON CONFLICT DO NOTHING`,
  ),
  // entity_types rows go with it (ON DELETE CASCADE).
  deleteEntity: statement('delete_entity', 'DELETE FROM entities WHERE tenant = $1 AND id = $2'),
  putContext: statement(
    'put_context',
    `INSERT INTO contexts (local_id, kind, url, document, created_at) VALUES ($1, $2, $3, $4::json, $5::timestamptz)
     ON CONFLICT (local_id) DO UPDATE SET
       kind = excluded.kind, url = excluded.url, document = excluded.document, created_at = excluded.created_at`,
  ),
  getContext: statement('get_context', `${SELECT_CONTEXTS} WHERE local_id = $1`),
  listContexts: statement('list_contexts', `${SELECT_CONTEXTS} ORDER BY created_at, local_id`),
  deleteContext: statement('delete_context', 'DELETE FROM contexts WHERE local_id = $1'),
};
