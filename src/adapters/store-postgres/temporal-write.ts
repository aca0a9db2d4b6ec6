// Writes WriteDecision.history (issue 6 item 1; GS CIM 009 §5.6.11–5.6.16) in the entity write's transaction
// for the PostgreSQL store: drops first, then the temporal entity records upserted (types unioned, stored
// order first), then the instances appended — set-based, for one write or a whole batch alike — and their hourly
// rollup cells (temporal-rollup.ts) updated in the same statements.
import type { PoolClient, QueryConfig, QueryResult } from 'pg';
import { instanceTime, instanceValues } from '../../core/temporal/instance-values.ts';
import type { HistoryInstance, HistoryWrite, TemporalEntity } from '../../core/temporal/model.ts';
import { statement, type Param } from './statements.ts';
import { ROLLUP_APPEND_CTE, rollupSql } from './temporal-rollup.ts';
import { codePointKey, textKey } from './text-key.ts';

/** The history of one item of a write, in item order. */
export interface PendingHistory {
  id: string;
  history: HistoryWrite;
}

interface AttrDrop {
  attr: string;
  datasetId?: string;
  all: boolean;
}

/** What a sequence of history writes of one id leaves to do against the database. */
export interface FoldedHistory {
  id: string;
  /** Drop the stored record and all its instances (before anything else). */
  dropEntity: boolean;
  /** Attribute drops of stored instances (after the entity drop). */
  attrDrops: AttrDrop[];
  /** The record to upsert; undefined when none is written. */
  record?: TemporalEntity;
  /** The new instances, in item order (those dropped by a later item of the batch already removed). */
  instances: HistoryInstance[];
}

function unionTypes(stored: readonly string[], added: readonly string[]): string[] {
  const out = [...stored];
  for (const t of added) if (!out.includes(t)) out.push(t);
  return out;
}

/**
 * Folds the history writes of a batch per id, so that the set-based statements give what writing them
 * item by item gives: a drop also removes the instances earlier items of the batch appended, an entity
 * drop restarts the type union, and the last record given wins (types unioned over the items).
 */
export function foldHistories(pending: readonly PendingHistory[]): FoldedHistory[] {
  const byId = new Map<string, FoldedHistory>();
  for (const { id, history } of pending) {
    if (history.entity !== undefined && history.entity.id !== id) {
      throw new Error(`writeEntity: history record id '${history.entity.id}' differs from '${id}'`);
    }
    let f = byId.get(id);
    if (f === undefined) {
      f = { id, dropEntity: false, attrDrops: [], instances: [] };
      byId.set(id, f);
    }
    const drop = history.drop;
    if (drop?.kind === 'entity') {
      f.dropEntity = true;
      f.attrDrops = [];
      f.record = undefined;
      f.instances = [];
    } else if (drop?.kind === 'attribute') {
      const hit = (h: HistoryInstance): boolean =>
        h.attr === drop.attr && (drop.all || h.instance.datasetId === drop.datasetId);
      f.instances = f.instances.filter((h) => !hit(h));
      if (!f.dropEntity) f.attrDrops.push({ attr: drop.attr, datasetId: drop.datasetId, all: drop.all });
    }
    if (history.entity !== undefined) {
      const types = unionTypes(f.record?.types ?? [], history.entity.types);
      f.record = { ...history.entity, types };
    }
    f.instances.push(...history.instances);
  }
  return [...byId.values()];
}

/** Types on conflict: the stored ones, then the new ones not already there (in their order); usually none. */
const UNION_TYPES = `types = CASE WHEN r.types @> excluded.types THEN r.types ELSE r.types || coalesce((
           SELECT jsonb_agg(x.t ORDER BY x.n) FROM jsonb_array_elements(excluded.types) WITH ORDINALITY AS x(t, n)
           WHERE NOT r.types @> jsonb_build_array(x.t)), '[]'::jsonb) END`;

const INSTANCE_COLUMNS =
  'tenant, entity, attr, dataset_id, instance_id, observed_at, created_at, modified_at, deleted_at, num, text, key, doc';

/** What the rollup CTE (ROLLUP_APPEND_CTE) reads of the inserted instances. */
const RETURNING_FOR_ROLLUP = 'RETURNING tenant, entity, attr, observed_at, num, counted';

/**
 * Instance rows `x(m, d, n)`: a jsonb array of rows (instanceRow; parsed once — keys only, so jsonb takes
 * them) zipped with a json array of the documents (json: each document's exact text), numbered `n`; with
 * `ids`, also `x.id`, the entity's id key of each row, from a text[] parameter.
 */
function INSTANCE_ROWS(ids: number | null, rows: number, docs: number): string {
  const id = ids === null ? '' : `unnest($${ids}::text[]), `;
  return `ROWS FROM (${id}jsonb_array_elements($${rows}::jsonb), json_array_elements($${docs}::json))
       WITH ORDINALITY AS x(${ids === null ? '' : 'id, '}m, d, n)`;
}

/** The instance columns after (tenant, entity) from `x` (see instanceRow). */
const INSTANCE_VALUES = `x.m ->> 0, x.m ->> 1, x.m ->> 2, (x.m ->> 3)::bigint, (x.m ->> 4)::bigint, (x.m ->> 5)::bigint,
       (x.m ->> 6)::bigint, (x.m ->> 7)::float8, x.m ->> 8, x.m ->> 9, x.d`;

const historySql = {
  createTenant: statement(
    'history_create_tenant',
    'INSERT INTO tenants (name, created_at) VALUES ($1, $2::timestamptz) ON CONFLICT (name) DO NOTHING',
  ),
  // $1 tenant, $2 id keys: the records, every instance of them and their rollup cells.
  dropEntities: statement(
    'history_drop_entities',
    `WITH gone AS (DELETE FROM temporal_entities WHERE tenant = $1 AND id = ANY ($2::text[]) RETURNING seq),
     cells AS (DELETE FROM temporal_rollups WHERE tenant = $1 AND entity IN (SELECT seq FROM gone))
     DELETE FROM temporal_instances WHERE tenant = $1 AND entity IN (SELECT seq FROM gone)`,
  ),
  // $1 tenant, then one row per drop: $2 id keys, $3 attribute keys, $4 datasetId keys (NULL: the default
  // instance), $5 all datasetIds.
  dropAttrs: statement(
    'history_drop_attrs',
    `DELETE FROM temporal_instances i
     USING unnest($2::text[], $3::text[], $4::text[], $5::boolean[]) AS d(id, attr, ds, every), temporal_entities r
     WHERE r.tenant = $1 AND r.id = d.id AND i.tenant = $1 AND i.entity = r.seq AND i.attr = d.attr
       AND (d.every OR i.dataset_id IS NOT DISTINCT FROM d.ds)`,
  ),
  // One record and its instances, the common case (one entity write): $1 tenant, $2 id key, $3 types (jsonb
  // array of keys), $4 scope (jsonb or NULL), $5 createdAt, $6 modifiedAt, $7 deletedAt, $8 instance rows
  // (INSTANCE_ROWS), $9 their documents. The seq comes from the upsert; no join, no lookup. Returns `n`, the
  // instances inserted, whose cells `roll` updated.
  upsertOneAppend: statement(
    'history_upsert_one_append',
    `WITH rec AS (
       INSERT INTO temporal_entities AS r (tenant, id, types, scope, created_at, modified_at, deleted_at)
       VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7)
       ON CONFLICT (tenant, id) DO UPDATE SET ${UNION_TYPES},
         scope = excluded.scope, created_at = excluded.created_at, modified_at = excluded.modified_at,
         deleted_at = excluded.deleted_at
       RETURNING r.seq
     ), ins AS (
       INSERT INTO temporal_instances (${INSTANCE_COLUMNS})
       SELECT $1, rec.seq, ${INSTANCE_VALUES}
       FROM rec, ${INSTANCE_ROWS(null, 8, 9)}
       ORDER BY x.n
       ${RETURNING_FOR_ROLLUP}
     ), ${ROLLUP_APPEND_CTE}
     SELECT count(*)::int AS n FROM ins`,
  ),
  // Several records (a batch): $1 tenant; $2 records (jsonb array of {k, t, s?, c, m, d?}, keys, in item
  // order); $3 id keys of instances whose record is not in $2; $4 the entity id key of each instance, $5
  // instance rows, $6 their documents (INSTANCE_ROWS). Instances find their seq by id; the records looked up
  // are locked as the upserted ones are, for their rollup cells (temporal-rollup.ts). Returns `n`.
  upsertManyAppend: statement(
    'history_upsert_many_append',
    `WITH rec AS (
       INSERT INTO temporal_entities AS r (tenant, id, types, scope, created_at, modified_at, deleted_at)
       SELECT $1, u.m ->> 'k', u.m -> 't', u.m -> 's', u.m ->> 'c', u.m ->> 'm', u.m ->> 'd'
       FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS u(m, n)
       ORDER BY u.n
       ON CONFLICT (tenant, id) DO UPDATE SET ${UNION_TYPES},
         scope = excluded.scope, created_at = excluded.created_at, modified_at = excluded.modified_at,
         deleted_at = excluded.deleted_at
       RETURNING r.id, r.seq
     ), looked AS (
       SELECT id, seq FROM temporal_entities WHERE tenant = $1 AND id = ANY ($3::text[]) ORDER BY id FOR NO KEY UPDATE
     ), known AS (
       SELECT id, seq FROM rec
       UNION ALL
       SELECT id, seq FROM looked
     ), ins AS (
       INSERT INTO temporal_instances (${INSTANCE_COLUMNS})
       SELECT $1, k.seq, ${INSTANCE_VALUES}
       FROM ${INSTANCE_ROWS(4, 5, 6)} JOIN known k ON k.id = x.id
       ORDER BY x.n
       ${RETURNING_FOR_ROLLUP}
     ), ${ROLLUP_APPEND_CTE}
     SELECT count(*)::int AS n FROM ins`,
  ),
};

const keyOrNull = (s: string | undefined): string | null => (s === undefined ? null : textKey(s));

function recordJson(e: TemporalEntity): Record<string, unknown> {
  const out: Record<string, unknown> = { k: textKey(e.id), t: e.types.map(textKey), c: textKey(e.createdAt), m: textKey(e.modifiedAt) };
  if (e.scope !== undefined) out.s = e.scope.map(textKey);
  if (e.deletedAt !== undefined) out.d = textKey(e.deletedAt);
  return out;
}

const jsonOrNull = (v: readonly string[] | undefined): string | null => (v === undefined ? null : JSON.stringify(v.map(textKey)));

/** The row of one instance: the columns after (tenant, entity), doc aside (see INSTANCE_VALUES). */
function instanceRow(h: HistoryInstance): unknown[] {
  const i = h.instance;
  const v = instanceValues(i);
  return [
    textKey(h.attr),
    keyOrNull(i.datasetId),
    textKey(i.instanceId),
    instanceTime(i, 'observedAt'),
    instanceTime(i, 'createdAt'),
    instanceTime(i, 'modifiedAt'),
    instanceTime(i, 'deletedAt'),
    v.num,
    v.text === null ? null : codePointKey(v.text),
    v.key === null ? null : textKey(v.key),
  ];
}

/**
 * The statements that write the histories of one write (or of a batch, in item order), in order.
 * `createTenant`: the tenant is missing and must exist before a record refers to it (a history-only write
 * on a new tenant; an entity put has already created it). `expected`: how many instances the last
 * statement must report (`n`) — fewer mean instances whose entity has no record, a programming error that
 * must abort the transaction (see checkAppended); undefined when the last statement upserts the only record
 * itself, so that every instance has it. `appended`: the instances appended.
 */
export interface HistoryPlan {
  steps: QueryConfig<Param[]>[];
  expected?: number;
  appended: number;
}

export function planHistories(tenant: string, pending: readonly PendingHistory[], createTenant: boolean, now: string): HistoryPlan {
  const steps: QueryConfig<Param[]>[] = [];
  if (pending.length === 0) return { steps, appended: 0 };
  const folded = foldHistories(pending);
  const entityDrops = folded.filter((f) => f.dropEntity).map((f) => textKey(f.id));
  if (entityDrops.length > 0) steps.push(historySql.dropEntities([tenant, entityDrops]));
  const attrDrops = folded.flatMap((f) => f.attrDrops.map((d) => ({ id: textKey(f.id), ...d })));
  if (attrDrops.length > 0) {
    // The cells summarise every datasetId: the dropped series are recounted, their records locked first.
    const ids = [...new Set(attrDrops.map((d) => d.id))];
    steps.push(rollupSql.lockRecordsById([tenant, ids]));
    steps.push(
      historySql.dropAttrs([
        tenant,
        attrDrops.map((d) => d.id),
        attrDrops.map((d) => textKey(d.attr)),
        attrDrops.map((d) => keyOrNull(d.datasetId)),
        attrDrops.map((d) => d.all),
      ]),
    );
    steps.push(rollupSql.recountSeries([tenant, attrDrops.map((d) => d.id), attrDrops.map((d) => textKey(d.attr))]));
  }
  const records = folded.filter((f) => f.record !== undefined);
  const appended = folded.filter((f) => f.instances.length > 0);
  if (records.length === 0 && appended.length === 0) return { steps, appended: 0 };
  if (createTenant && records.length > 0) steps.push(historySql.createTenant([tenant, now]));
  const ids: string[] = [];
  const rows: unknown[][] = [];
  const docs: string[] = [];
  for (const f of appended) {
    const idKey = textKey(f.id);
    for (const h of f.instances) {
      ids.push(idKey);
      rows.push(instanceRow(h));
      docs.push(JSON.stringify(h.instance));
    }
  }
  const rowsJson = JSON.stringify(rows);
  const docsJson = `[${docs.join(',')}]`;
  if (records.length === 1 && appended.every((f) => f === records[0])) {
    const e = records[0].record!;
    steps.push(
      historySql.upsertOneAppend([
        tenant,
        textKey(e.id),
        JSON.stringify(e.types.map(textKey)),
        jsonOrNull(e.scope),
        textKey(e.createdAt),
        textKey(e.modifiedAt),
        keyOrNull(e.deletedAt),
        rowsJson,
        docsJson,
      ]),
    );
    return { steps, appended: rows.length };
  }
  const lookups = appended.filter((f) => f.record === undefined).map((f) => textKey(f.id));
  const recordsJson = JSON.stringify(records.map((f) => recordJson(f.record!)));
  steps.push(historySql.upsertManyAppend([tenant, recordsJson, lookups, ids, rowsJson, docsJson]));
  return { steps, expected: rows.length, appended: rows.length };
}

/** Throws (aborting the transaction) when the plan's last statement appended fewer instances than it must. */
export function checkAppended(plan: HistoryPlan, last: QueryResult | undefined): void {
  if (plan.expected === undefined) return;
  const written = (last?.rows[0] as { n?: number } | undefined)?.n ?? 0;
  if (written !== plan.expected) {
    throw new Error(`history: ${plan.expected - written} instance(s) recorded for an entity without a temporal record`);
  }
}

/** Writes the histories on the transaction's connection (planHistories); returns the instances appended. */
export async function writeHistories(
  client: PoolClient,
  tenant: string,
  pending: readonly PendingHistory[],
  createTenant: boolean,
  now: string,
): Promise<number> {
  const plan = planHistories(tenant, pending, createTenant, now);
  let last: QueryResult | undefined;
  for (const step of plan.steps) last = await client.query(step);
  checkAppended(plan, last);
  return plan.appended;
}
