// The SQL of the PostgreSQL store: named statements with bound parameters only, prepared once per connection.
import type { QueryConfig } from 'pg';
import type { Derived } from './derive.ts';

export type Param = string | number | boolean | null | readonly (string | number | boolean | null)[];

/**
 * A named statement: pg prepares it once per pooled connection and then sends only its parameters, so
 * every tenant shares one set of plans. All values are bound parameters; no SQL is built from data.
 */
export function statement(name: string, text: string): (values: Param[]) => QueryConfig<Param[]> {
  return (values) => ({ name: `kend_${name}`, text, values });
}

// created_at back as the ISO 8601 UTC millisecond string the port uses, whatever the session time zone.
const SELECT_CONTEXTS = `
  SELECT local_id, kind, url, document::text AS document,
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
  FROM contexts`;

/** Removes the side rows (entity_attrs, entity_geo) of the seq in CTE `target`. */
export const CLEAR_SIDE_ROWS = `old_attrs AS (DELETE FROM entity_attrs WHERE seq IN (SELECT seq FROM target)),
     old_geo AS (DELETE FROM entity_geo WHERE seq IN (SELECT seq FROM target))`;

/** Removes the side rows of the seq in CTE `target` for the attribute keys (text[]) in parameter `attrs`. */
function CLEAR_ATTR_SIDE_ROWS(attrs: string): string {
  return `old_attrs AS (DELETE FROM entity_attrs WHERE seq IN (SELECT seq FROM target) AND attr = ANY (${attrs})),
     old_geo AS (DELETE FROM entity_geo WHERE seq IN (SELECT seq FROM target) AND attr = ANY (${attrs}))`;
}

/**
 * Inserts the side rows of the entity in CTE `target` (tenant, seq) from array parameters starting at
 * `$first`: entity_attrs columns attr, kind, head, src, num, str, dtk; entity_geo attr, instance, GeoJSON;
 * then (schema v6, `withMulti`) entity_attrs multi. The migration v2 backfill runs before v6 has added
 * that column, so it leaves it out (v6 then computes it for the rows written so far).
 * ST_IsValidDetail (not ST_IsValid) reports validity without a NOTICE.
 */
function SIDE_ROWS(first: number, withMulti = true): string {
  const p = (i: number, type: string) => `$${first + i}::${type}`;
  const multi = withMulti
    ? { column: ', multi', value: ', a.multi', param: `, ${p(10, 'boolean[]')}`, alias: ', multi' }
    : { column: '', value: '', param: '', alias: '' };
  return `new_attrs AS (
       INSERT INTO entity_attrs (tenant, seq, attr, kind, head, src, num, str, dtk${multi.column})
       SELECT t.tenant, t.seq, a.attr, a.kind, a.head, a.src::"char", a.num, a.str, a.dtk${multi.value}
       FROM target t, unnest(${p(0, 'text[]')}, ${p(1, 'text[]')}, ${p(2, 'boolean[]')}, ${p(3, 'text[]')},
         ${p(4, 'float8[]')}, ${p(5, 'text[]')}, ${p(6, 'bigint[]')}${multi.param}) AS a(attr, kind, head, src, num, str, dtk${multi.alias})
     )
     INSERT INTO entity_geo (tenant, seq, attr, instance_key, valid, geom, geog)
     SELECT t.tenant, t.seq, g.attr, g.inst, (ST_IsValidDetail(g.geom)).valid, g.geom, g.geom::geography
     FROM target t, LATERAL (
       SELECT u.attr, u.inst, ST_Force2D(ST_GeomFromGeoJSON(u.geojson)) AS geom
       FROM unnest(${p(7, 'text[]')}, ${p(8, 'int[]')}, ${p(9, 'text[]')}) AS u(attr, inst, geojson)
     ) g`;
}

/** The side-row parameters of a derived entity, in SIDE_ROWS order (`withMulti`: schema v6 on). */
export function sideRowParams(d: Derived, withMulti = true): Param[] {
  const a = d.attrs;
  const params: Param[] = [a.attr, a.kind, a.head, a.src, a.num, a.str, a.dtk, d.geo.attr, d.geo.instance, d.geo.geojson];
  if (withMulti) params.push(a.multi);
  return params;
}

/**
 * Entity ids are stored as their textKey (text-key.ts): identical for ordinary ids, and PostgreSQL text
 * can then hold every JavaScript string (U+0000 included) with "C" order equal to UTF-16 order.
 * Rows: `doc` is the stored JSON text, parsed by the caller (independent of pg's global type parsers). */
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
  // $1 tenant, $2 id key, $3 types, $4 createdAt, $5 modifiedAt, $6 document, $7 create the tenant, $8 now,
  // $9 search document, $10… side rows (SIDE_ROWS). Foreign keys are checked at the end of the
  // statement, after every part of it has run. Side rows of the new seq are cleared first in case a seq
  // was ever reused (a sequence reset after a TRUNCATE).
  insertEntity: statement(
    'insert_entity',
    `WITH new_tenant AS (
       INSERT INTO tenants (name, created_at) SELECT $1, $8::timestamptz WHERE $7::boolean
       ON CONFLICT (name) DO NOTHING
     ), target AS (
       INSERT INTO entities (tenant, id, types, created_at, modified_at, doc, qdoc)
       VALUES ($1, $2, to_jsonb($3::text[]), $4::timestamptz, $5::timestamptz, $6::json, $9::jsonb)
       RETURNING tenant, seq
     ), new_types AS (
       INSERT INTO entity_types (tenant, id, type) SELECT $1, $2, t FROM unnest($3::text[]) AS t
       ON CONFLICT DO NOTHING
     ), ${CLEAR_SIDE_ROWS}, ${SIDE_ROWS(10)}`,
  ),
  // Keeps seq. Type rows: the stale ones go, the new ones come, the kept ones stay (disjoint sets). Side
  // rows: those of the attributes in $8 (keys of the attributes that changed, derive.ts changedAttrs) are
  // replaced by the rows from $9 on, which hold those attributes only; the rest stay as they are (a
  // partial update rewrites a few index rows, not every row of the entity, and no geometry it left alone).
  // Every part of a statement sees the same snapshot, so the deletes miss the inserts.
  updateEntity: statement(
    'update_entity',
    `WITH target AS (
       UPDATE entities SET types = to_jsonb($3::text[]), created_at = $4::timestamptz,
         modified_at = $5::timestamptz, doc = $6::json, qdoc = $7::jsonb
       WHERE tenant = $1 AND id = $2
       RETURNING tenant, seq
     ), stale_types AS (
       DELETE FROM entity_types WHERE tenant = $1 AND id = $2 AND type <> ALL ($3::text[])
     ), new_types AS (
       INSERT INTO entity_types (tenant, id, type) SELECT $1, $2, t FROM unnest($3::text[]) AS t
       ON CONFLICT DO NOTHING
     ), ${CLEAR_ATTR_SIDE_ROWS('$8::text[]')}, ${SIDE_ROWS(9)}`,
  ),
  // entity_types rows go with it (ON DELETE CASCADE); side rows in the same statement.
  deleteEntity: statement(
    'delete_entity',
    `WITH target AS (DELETE FROM entities WHERE tenant = $1 AND id = $2 RETURNING seq), ${CLEAR_SIDE_ROWS}
     SELECT count(*) FROM target`,
  ),
  // Migration v2: $1 seq, $2 search document, $3 id key, $4… side rows. An id whose key differs from it
  // (characters ≥ U+D800 or U+0001) is rewritten in entities and entity_types together; foreign keys are
  // checked at the end of the statement.
  backfillEntity: statement(
    'backfill_entity',
    `WITH target AS (
       UPDATE entities SET qdoc = $2::jsonb, id = $3::text WHERE seq = $1::bigint RETURNING tenant, seq
     ), old_types AS (
       DELETE FROM entity_types t USING entities e
       WHERE e.seq = $1::bigint AND t.tenant = e.tenant AND t.id = e.id AND t.id <> $3::text
       RETURNING t.tenant, t.type
     ), new_types AS (
       INSERT INTO entity_types (tenant, id, type) SELECT tenant, $3::text, type FROM old_types
     ), ${CLEAR_SIDE_ROWS}, ${SIDE_ROWS(4, false)}`,
  ),
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
