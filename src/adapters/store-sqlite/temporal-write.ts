// Writes WriteDecision.history (issue 6 item 1; GS CIM 009 §5.6.11–5.6.16) inside the entity write's
// transaction: the optional drop first, then the temporal entity record upserted, then the instances appended
// and their hourly rollup cells (temporal-rollup.ts) updated.
import type BetterSqlite3 from 'better-sqlite3';
import { instanceTime, instanceValues } from '../../core/temporal/instance-values.ts';
import type { HistoryDrop, HistoryInstance, HistoryWrite, RecordedInstance, TemporalEntity } from '../../core/temporal/model.ts';
import { addToDelta, createRollupWriter, type RollupDelta } from './temporal-rollup.ts';

/** The bound values of one temporal_instances row after sid: see instanceRowValues. */
export type InstanceRowValues = [string | null, string, number | null, number | null, number | null, number | null, number | null, string | null, string | null, string];

/** dataset_id, instance_id, the four times, num, text, key, doc: the columns derived from an instance. */
export function instanceRowValues(instance: RecordedInstance): InstanceRowValues {
  const v = instanceValues(instance);
  return [
    instance.datasetId ?? null,
    instance.instanceId,
    instanceTime(instance, 'observedAt'),
    instanceTime(instance, 'createdAt'),
    instanceTime(instance, 'modifiedAt'),
    instanceTime(instance, 'deletedAt'),
    v.num,
    v.text,
    v.key,
    JSON.stringify(instance),
  ];
}

const INSTANCE_COLUMNS = 'sid, dataset_id, instance_id, observed_at, created_at, modified_at, deleted_at, num, text, key, doc';
const VALUE_COLUMNS = 11;
const MAX_ROWS_PER_INSERT = 32;

/** The series of one attribute of one entity (temporal_attrs), by its key. */
export const FIND_SERIES = 'SELECT sid FROM temporal_attrs WHERE tenant = ? AND entity_id = ? AND attr = ?';

/** Union keeping order: the stored types first, then the new ones not already there. */
function unionTypes(stored: readonly string[], added: readonly string[]): string[] {
  const out = [...stored];
  for (const t of added) if (!out.includes(t)) out.push(t);
  return out;
}

/** The SQL function the record upsert calls when the stored types differ from the written ones. */
const UNION_TYPES_FN = 'kend_union_types';

export interface HistoryWriter {
  /** Writes one entity's history; must run inside the write transaction. */
  write(tenant: string, entityId: string, history: HistoryWrite): void;
  /** Call after the enclosing transaction ended (as EntityIndex.settle): series ids it created are trusted only once committed. */
  settle(committed: boolean): void;
}

/** Parses the same ISO 8601 text once per write: an entity write's instances mostly share their times. */
function timeParser(): (instance: RecordedInstance, property: 'observedAt' | 'createdAt' | 'modifiedAt' | 'deletedAt') => number | null {
  const memo = new Map<string, number | null>();
  return (instance, property) => {
    const text = instance[property];
    if (text === undefined) return null;
    let ms = memo.get(text);
    if (ms === undefined) {
      ms = instanceTime(instance, property);
      memo.set(text, ms);
    }
    return ms;
  };
}

/** Prepares the statements once; `write` must run inside the write transaction. */
/** Series ids kept in memory: those most recently read from or added to the store. */
export const SERIES_CACHE_LIMIT = 20_000;

export function createHistoryWriter(db: BetterSqlite3.Database): HistoryWriter {
  db.function(UNION_TYPES_FN, { deterministic: true }, (stored: unknown, added: unknown) =>
    JSON.stringify(unionTypes(JSON.parse(String(stored)) as string[], JSON.parse(String(added)) as string[])),
  );
  const stmt = {
    // One statement instead of a read then an update: the record is touched by every entity write, and its
    // types are unioned (in SQL, rarely) only when they differ from the written ones.
    upsertRecord: db.prepare<[string, string, string, string | null, string, string, string | null]>(
      `INSERT INTO temporal_entities (tenant, id, types, scope, created_at, modified_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, id) DO UPDATE SET
         types = CASE WHEN types = excluded.types THEN types ELSE ${UNION_TYPES_FN}(types, excluded.types) END,
         scope = excluded.scope, created_at = excluded.created_at, modified_at = excluded.modified_at, deleted_at = excluded.deleted_at`,
    ),
    deleteRecord: db.prepare<[string, string]>('DELETE FROM temporal_entities WHERE tenant = ? AND id = ?'),
    findSeries: db.prepare<[string, string, string], number>(FIND_SERIES).pluck(),
    // Insert first: on a cache miss the series is usually new (a new entity or attribute), so one statement.
    insertSeries: db.prepare<[string, string, string]>('INSERT INTO temporal_attrs (tenant, entity_id, attr) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    entitySeries: db.prepare<[string, string], number>('SELECT sid FROM temporal_attrs WHERE tenant = ? AND entity_id = ?').pluck(),
    dropSeriesInstances: db.prepare<[number]>('DELETE FROM temporal_instances WHERE sid = ?'),
    dropSeriesRollups: db.prepare<[number]>('DELETE FROM temporal_rollups WHERE sid = ?'),
    dropAttrDefault: db.prepare<[number]>('DELETE FROM temporal_instances WHERE sid = ? AND dataset_id IS NULL'),
    dropAttrDataset: db.prepare<[number, string]>('DELETE FROM temporal_instances WHERE sid = ? AND dataset_id = ?'),
  };
  const rollups = createRollupWriter(db);
  // One multi-row INSERT per 32 instances: far fewer calls into SQLite than one per row.
  const inserts = new Map<number, BetterSqlite3.Statement<unknown[]>>();
  const insertRows = (rows: number): BetterSqlite3.Statement<unknown[]> => {
    let s = inserts.get(rows);
    if (s === undefined) {
      const tuple = `(${new Array(VALUE_COLUMNS).fill('?').join(', ')})`;
      s = db.prepare<unknown[]>(`INSERT INTO temporal_instances (${INSTANCE_COLUMNS}) VALUES ${new Array(rows).fill(tuple).join(', ')}`);
      inserts.set(rows, s);
    }
    return s;
  };

  // Series ids by (tenant, entity, attribute). Series rows are never deleted (a drop removes their instances
  // only, see migration v9), so a committed sid stays right for good, in this process and any other on the
  // file; one created by a transaction that then rolls back could be handed to another series, so it waits
  // in `pending` until settle(true). Saves a lookup per recorded instance (≈5 % of a batch load's time).
  // Bounded (oldest first out): unbounded, 100,000 entities of 8 attributes made a million-entry map that
  // cost ≈ 200 MB of heap and long garbage collections for everything else (benchmark peak RSS 968 MB).
  const committed = new Map<string, number>();
  const pending = new Map<string, number>();

  function seriesId(tenant: string, entityId: string, attr: string): number {
    const key = `${tenant}\u0000${entityId}\u0000${attr}`;
    let sid = committed.get(key) ?? pending.get(key);
    if (sid !== undefined) return sid;
    const inserted = stmt.insertSeries.run(tenant, entityId, attr);
    sid = inserted.changes > 0 ? Number(inserted.lastInsertRowid) : stmt.findSeries.get(tenant, entityId, attr)!;
    pending.set(key, sid);
    return sid;
  }

  function drop(tenant: string, entityId: string, d: HistoryDrop): void {
    if (d.kind === 'entity') {
      for (const sid of stmt.entitySeries.all(tenant, entityId)) {
        stmt.dropSeriesInstances.run(sid);
        stmt.dropSeriesRollups.run(sid);
      }
      stmt.deleteRecord.run(tenant, entityId);
      return;
    }
    const sid = stmt.findSeries.get(tenant, entityId, d.attr);
    if (sid === undefined) return;
    if (d.all) {
      stmt.dropSeriesInstances.run(sid);
      stmt.dropSeriesRollups.run(sid);
      return;
    }
    if (d.datasetId === undefined) stmt.dropAttrDefault.run(sid);
    else stmt.dropAttrDataset.run(sid, d.datasetId);
    // The cells summarise every datasetId: recount what is left.
    rollups.rebuild(sid);
  }

  function upsertRecord(tenant: string, e: TemporalEntity): void {
    const scope = e.scope === undefined ? null : JSON.stringify(e.scope);
    stmt.upsertRecord.run(tenant, e.id, JSON.stringify(unionTypes([], e.types)), scope, e.createdAt, e.modifiedAt, e.deletedAt ?? null);
  }

  function append(tenant: string, entityId: string, instances: readonly HistoryInstance[]): void {
    if (instances.length === 0) return;
    const time = timeParser();
    const sids = new Map<string, number>();
    const deltas = new Map<string, RollupDelta>();
    for (let i = 0; i < instances.length; i += MAX_ROWS_PER_INSERT) {
      const end = Math.min(instances.length, i + MAX_ROWS_PER_INSERT);
      const values: unknown[] = [];
      for (let k = i; k < end; k++) {
        const { attr, instance } = instances[k]!;
        let sid = sids.get(attr);
        if (sid === undefined) sids.set(attr, (sid = seriesId(tenant, entityId, attr)));
        const v = instanceValues(instance);
        const observed = time(instance, 'observedAt');
        const deleted = time(instance, 'deletedAt');
        values.push(
          sid,
          instance.datasetId ?? null,
          instance.instanceId,
          observed,
          time(instance, 'createdAt'),
          time(instance, 'modifiedAt'),
          deleted,
          v.num,
          v.text,
          v.key,
          JSON.stringify(instance),
        );
        // What the rollups count: the observedAt instances that are not deletions (as the aggregations do).
        if (observed !== null && deleted === null) addToDelta(deltas, sid, observed, v.num);
      }
      insertRows(end - i).run(...values);
    }
    rollups.apply(deltas);
  }

  return {
    write(tenant, entityId, history) {
      if (history.entity !== undefined && history.entity.id !== entityId) {
        throw new Error(`writeEntity: history record id '${history.entity.id}' differs from '${entityId}'`);
      }
      if (history.drop !== undefined) drop(tenant, entityId, history.drop);
      if (history.entity !== undefined) upsertRecord(tenant, history.entity);
      append(tenant, entityId, history.instances);
    },
    settle(ok) {
      if (ok) {
        for (const [key, sid] of pending) committed.set(key, sid);
        for (const key of committed.keys()) {
          if (committed.size <= SERIES_CACHE_LIMIT) break;
          committed.delete(key);
        }
      }
      pending.clear();
    },
  };
}
