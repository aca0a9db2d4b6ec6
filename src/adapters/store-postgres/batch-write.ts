// Set-based writes of a batch (EntityStore.writeEntities; GS CIM 009 §5.6.7–5.6.10) for the PostgreSQL
// store: the decisions run in JavaScript in item order against the batch's own view of each entity, then
// the final states are written set-based — delete; update, types, side rows; insert, types, side rows —
// a handful of statements per batch instead of one round trip per item.
import type { PoolClient } from 'pg';
import type { Entity } from '../../core/model/entity.ts';
import { deriveEntity, type AttrColumns, type Derived, type GeoColumns } from './derive.ts';
import { CLEAR_SIDE_ROWS, statement, type Param } from './statements.ts';
import { textKey } from './text-key.ts';

/** One id of a batch: its document when the batch started (locked) and as the items so far left it. */
export interface BatchEntityState {
  start: string | null;
  doc: string | null;
  entity?: Entity;
  /** Index of the item that created it in this batch (it was absent before that item). */
  createdBy?: number;
}

/** Records a put in the batch's view of one id. */
export function recordPut(state: BatchEntityState, entity: Entity, item: number): string {
  if (state.doc === null) state.createdBy = item;
  state.doc = JSON.stringify(entity);
  state.entity = entity;
  return state.doc;
}

/** Records a remove in the batch's view of one id. */
export function recordRemove(state: BatchEntityState): void {
  state.doc = null;
  state.entity = undefined;
  state.createdBy = undefined;
}

/** Side rows of several entities (statements.ts SIDE_ROWS columns), each row tagged with its entity's seq. */
function batchSideRows(derived: readonly Derived[], seqs: readonly string[]): Param[] {
  const attrSeq: string[] = [];
  const geoSeq: string[] = [];
  const a: AttrColumns = { attr: [], kind: [], head: [], src: [], num: [], str: [], dtk: [], multi: [] };
  const g: GeoColumns = { attr: [], instance: [], geojson: [] };
  derived.forEach((d, k) => {
    for (const key of Object.keys(a) as (keyof AttrColumns)[]) (a[key] as unknown[]).push(...d.attrs[key]);
    for (const key of Object.keys(g) as (keyof GeoColumns)[]) (g[key] as unknown[]).push(...d.geo[key]);
    for (let i = 0; i < d.attrs.attr.length; i++) attrSeq.push(seqs[k]);
    for (let i = 0; i < d.geo.attr.length; i++) geoSeq.push(seqs[k]);
  });
  return [attrSeq, a.attr, a.kind, a.head, a.src, a.num, a.str, a.dtk, a.multi, geoSeq, g.attr, g.instance, g.geojson];
}

/** Entity rows zipped from three JSON arrays, each element read once (json operators re-read the text). */
const ENTITY_ROWS = 'ROWS FROM (json_array_elements($2::json), json_array_elements($3::json), jsonb_array_elements($4::jsonb))';

// One flat statement per step: a data-modifying CTE over large unnested arrays was an order of magnitude
// slower than the same rows inserted by plain INSERT … SELECT FROM unnest.
const batchSql = {
  createTenant: statement(
    'batch_create_tenant',
    'INSERT INTO tenants (name, created_at) VALUES ($1, $2::timestamptz) ON CONFLICT (name) DO NOTHING',
  ),
  deleteEntities: statement(
    'batch_delete_entities',
    `WITH target AS (DELETE FROM entities WHERE tenant = $1 AND id = ANY ($2::text[]) RETURNING seq), ${CLEAR_SIDE_ROWS}
     SELECT count(*) FROM target`,
  ),
  // $1 tenant, $2–$4 entity rows (entityRows), in creation order: seq follows the order of the SELECT.
  insertEntities: statement(
    'batch_insert_entities',
    `INSERT INTO entities (tenant, id, types, created_at, modified_at, doc, qdoc)
     SELECT $1, u.m ->> 'k', (u.m -> 't')::jsonb, (u.m ->> 'c')::timestamptz, (u.m ->> 'm')::timestamptz, u.d, u.q
     FROM ${ENTITY_ROWS} WITH ORDINALITY AS u(m, d, q, n)
     ORDER BY u.n
     RETURNING seq::text AS seq, id`,
  ),
  // Same parameters; seq is kept.
  updateEntities: statement(
    'batch_update_entities',
    `UPDATE entities e SET types = (u.m -> 't')::jsonb, created_at = (u.m ->> 'c')::timestamptz,
       modified_at = (u.m ->> 'm')::timestamptz, doc = u.d, qdoc = u.q
     FROM ${ENTITY_ROWS} AS u(m, d, q)
     WHERE e.tenant = $1 AND e.id = u.m ->> 'k'
     RETURNING e.seq::text AS seq, e.id`,
  ),
  // $1 tenant, $2 id keys, $3 types JSON: stale type rows go, new ones come, kept ones stay.
  replaceTypes: statement(
    'batch_replace_types',
    `WITH u AS (SELECT * FROM unnest($2::text[], $3::text[]) AS u(id, types)), stale AS (
       DELETE FROM entity_types t USING u WHERE t.tenant = $1 AND t.id = u.id AND NOT (u.types::jsonb ? t.type)
     )
     INSERT INTO entity_types (tenant, id, type) SELECT $1, u.id, jsonb_array_elements_text(u.types::jsonb) FROM u
     ON CONFLICT DO NOTHING`,
  ),
  // $1 tenant, $2 seqs whose side rows are replaced, $3… rows (batchSideRows).
  replaceSideRows: statement(
    'batch_replace_side_rows',
    `WITH old_attrs AS (DELETE FROM entity_attrs WHERE seq = ANY ($2::bigint[])),
     old_geo AS (DELETE FROM entity_geo WHERE seq = ANY ($2::bigint[])),
     new_attrs AS (
       INSERT INTO entity_attrs (tenant, seq, attr, kind, head, src, num, str, dtk, multi)
       SELECT $1, a.seq, a.attr, a.kind, a.head, a.src::"char", a.num, a.str, a.dtk, a.multi
       FROM unnest($3::bigint[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::float8[], $9::text[], $10::bigint[],
         $11::boolean[]) AS a(seq, attr, kind, head, src, num, str, dtk, multi)
     )
     INSERT INTO entity_geo (tenant, seq, attr, instance_key, valid, geom, geog)
     SELECT $1, g.seq, g.attr, g.inst, (ST_IsValidDetail(g.geom)).valid, g.geom, g.geom::geography
     FROM (
       SELECT x.seq, x.attr, x.inst, ST_Force2D(ST_GeomFromGeoJSON(x.geojson)) AS geom
       FROM unnest($12::bigint[], $13::text[], $14::int[], $15::text[]) AS x(seq, attr, inst, geojson)
     ) g`,
  ),
};

/**
 * The entity rows of a statement as three JSON arrays: `{k: id key, t: types, c, m}` per entity, the
 * documents and the search documents, spliced in as JSON text. The json type hands a document back as
 * exactly its text (\u0000 escapes included); text[] parameters cost several times more to encode.
 */
function entityRows(entities: readonly Entity[], docs: readonly string[], qdocs: readonly string[]): string[] {
  const meta = entities.map((e) => ({ k: textKey(e.id), t: e.types, c: e.createdAt, m: e.modifiedAt }));
  return [JSON.stringify(meta), `[${docs.join(',')}]`, `[${qdocs.join(',')}]`];
}

/**
 * Writes the final states of a batch whose rows this transaction has locked: removed ids are deleted
 * (with an id removed and created again, so it takes a new seq as it would item by item), changed ones
 * updated, new ones inserted in the order the items created them.
 */
export async function writeBatchStates(
  client: PoolClient,
  tenant: string,
  states: ReadonlyMap<string, BatchEntityState>,
  /** Create the tenant (it is missing and some item put an entity). */
  createTenant: boolean,
  now: string,
): Promise<void> {
  const deletes: string[] = [];
  const updates: { entity: Entity; doc: string }[] = [];
  const inserts: { entity: Entity; doc: string; order: number }[] = [];
  for (const [id, s] of states) {
    if (s.start !== null && (s.doc === null || s.createdBy !== undefined)) deletes.push(textKey(id));
    if (s.doc === null || s.entity === undefined) continue;
    if (s.createdBy !== undefined) inserts.push({ entity: s.entity, doc: s.doc, order: s.createdBy });
    else if (s.doc !== s.start) updates.push({ entity: s.entity, doc: s.doc });
  }
  if (deletes.length > 0) await client.query(batchSql.deleteEntities([tenant, deletes]));
  if (createTenant) await client.query(batchSql.createTenant([tenant, now]));
  for (const [writes, statementOf] of [
    [updates, batchSql.updateEntities],
    [inserts.sort((a, b) => a.order - b.order), batchSql.insertEntities],
  ] as const) {
    if (writes.length === 0) continue;
    const entities = writes.map((w) => w.entity);
    const derived = entities.map((e) => deriveEntity(e));
    const rows = entityRows(entities, writes.map((w) => w.doc), derived.map((d) => d.qdoc));
    const written = await client.query<{ seq: string; id: string }>(statementOf([tenant, ...rows]));
    const seqOf = new Map(written.rows.map((r) => [r.id, r.seq]));
    const keys = entities.map((e) => textKey(e.id));
    const seqs = keys.map((k) => seqOf.get(k)!);
    await client.query(batchSql.replaceTypes([tenant, keys, entities.map((e) => JSON.stringify(e.types))]));
    await client.query(batchSql.replaceSideRows([tenant, seqs, ...batchSideRows(derived, seqs)]));
  }
}
