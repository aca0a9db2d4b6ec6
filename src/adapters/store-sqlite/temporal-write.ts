// Writes WriteDecision.history (issue 6 item 1; GS CIM 009 §5.6.11–5.6.16) inside the entity write's
// transaction: the optional drop first, then the temporal entity record upserted, then the instances appended.
import type BetterSqlite3 from 'better-sqlite3';
import { instanceTime, instanceValues } from '../../core/temporal/instance-values.ts';
import type { HistoryDrop, HistoryInstance, HistoryWrite, RecordedInstance, TemporalEntity } from '../../core/temporal/model.ts';

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

interface RecordRow {
  types: string;
}

/** Union keeping order: the stored types first, then the new ones not already there. */
function unionTypes(stored: readonly string[], added: readonly string[]): string[] {
  const out = [...stored];
  for (const t of added) if (!out.includes(t)) out.push(t);
  return out;
}

export type HistoryWriter = (tenant: string, entityId: string, history: HistoryWrite) => void;

/** Prepares the statements once; the returned function must run inside the write transaction. */
export function createHistoryWriter(db: BetterSqlite3.Database): HistoryWriter {
  const stmt = {
    getRecord: db.prepare<[string, string], RecordRow>('SELECT types FROM temporal_entities WHERE tenant = ? AND id = ?'),
    insertRecord: db.prepare<[string, string, string, string | null, string, string, string | null]>(
      'INSERT INTO temporal_entities (tenant, id, types, scope, created_at, modified_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    updateRecord: db.prepare<[string, string | null, string, string, string | null, string, string]>(
      'UPDATE temporal_entities SET types = ?, scope = ?, created_at = ?, modified_at = ?, deleted_at = ? WHERE tenant = ? AND id = ?',
    ),
    deleteRecord: db.prepare<[string, string]>('DELETE FROM temporal_entities WHERE tenant = ? AND id = ?'),
    findSeries: db.prepare<[string, string, string], number>(FIND_SERIES).pluck(),
    insertSeries: db.prepare<[string, string, string]>('INSERT INTO temporal_attrs (tenant, entity_id, attr) VALUES (?, ?, ?)'),
    dropEntity: db.prepare<[string, string]>(
      'DELETE FROM temporal_instances WHERE sid IN (SELECT sid FROM temporal_attrs WHERE tenant = ? AND entity_id = ?)',
    ),
    dropSeries: db.prepare<[string, string]>('DELETE FROM temporal_attrs WHERE tenant = ? AND entity_id = ?'),
    dropAttrAll: db.prepare<[number]>('DELETE FROM temporal_instances WHERE sid = ?'),
    dropAttrDefault: db.prepare<[number]>('DELETE FROM temporal_instances WHERE sid = ? AND dataset_id IS NULL'),
    dropAttrDataset: db.prepare<[number, string]>('DELETE FROM temporal_instances WHERE sid = ? AND dataset_id = ?'),
  };
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

  function seriesId(tenant: string, entityId: string, attr: string): number {
    return stmt.findSeries.get(tenant, entityId, attr) ?? Number(stmt.insertSeries.run(tenant, entityId, attr).lastInsertRowid);
  }

  function drop(tenant: string, entityId: string, d: HistoryDrop): void {
    if (d.kind === 'entity') {
      stmt.dropEntity.run(tenant, entityId);
      stmt.dropSeries.run(tenant, entityId);
      stmt.deleteRecord.run(tenant, entityId);
      return;
    }
    const sid = stmt.findSeries.get(tenant, entityId, d.attr);
    if (sid === undefined) return;
    if (d.all) stmt.dropAttrAll.run(sid);
    else if (d.datasetId === undefined) stmt.dropAttrDefault.run(sid);
    else stmt.dropAttrDataset.run(sid, d.datasetId);
  }

  function upsertRecord(tenant: string, e: TemporalEntity): void {
    const scope = e.scope === undefined ? null : JSON.stringify(e.scope);
    const deletedAt = e.deletedAt ?? null;
    const row = stmt.getRecord.get(tenant, e.id);
    if (row === undefined) {
      stmt.insertRecord.run(tenant, e.id, JSON.stringify(unionTypes([], e.types)), scope, e.createdAt, e.modifiedAt, deletedAt);
    } else {
      const types = unionTypes(JSON.parse(row.types) as string[], e.types);
      stmt.updateRecord.run(JSON.stringify(types), scope, e.createdAt, e.modifiedAt, deletedAt, tenant, e.id);
    }
  }

  function append(tenant: string, entityId: string, instances: readonly HistoryInstance[]): void {
    const sids = new Map<string, number>();
    for (let i = 0; i < instances.length; i += MAX_ROWS_PER_INSERT) {
      const chunk = instances.slice(i, i + MAX_ROWS_PER_INSERT);
      const values: unknown[] = [];
      for (const { attr, instance } of chunk) {
        let sid = sids.get(attr);
        if (sid === undefined) sids.set(attr, (sid = seriesId(tenant, entityId, attr)));
        values.push(sid, ...instanceRowValues(instance));
      }
      insertRows(chunk.length).run(...values);
    }
  }

  return (tenant, entityId, history) => {
    if (history.entity !== undefined && history.entity.id !== entityId) {
      throw new Error(`writeEntity: history record id '${history.entity.id}' differs from '${entityId}'`);
    }
    if (history.drop !== undefined) drop(tenant, entityId, history.drop);
    if (history.entity !== undefined) upsertRecord(tenant, history.entity);
    append(tenant, entityId, history.instances);
  };
}
