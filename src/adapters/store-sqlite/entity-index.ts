// Maintains the query index tables of migration v2 (attr_values, value_paths, geo_items, geo_rtree) inside
// the write transaction that changes an entity, and backfills them for existing databases.
import type BetterSqlite3 from 'better-sqlite3';
import type { AttrInstance, Entity } from '../../core/model/entity.ts';
import { attrValueRows, type AttrValueRow } from './attr-index.ts';
import { geoRows } from './geo-index.ts';

export interface EntityIndex {
  /**
   * Writes the index rows of `entity`. With the `previous` state (the entity existed), only the rows of
   * attributes whose instances changed are replaced: a partial update rewrites one attribute's rows.
   */
  put(tenant: string, entity: Entity, previous: Entity | null): void;
  /** Call after the enclosing transaction ended: path ids created in it are trusted only once committed. */
  settle(committed: boolean): void;
}

const VALUE_COLUMNS = 15;
const MAX_ROWS_PER_INSERT = 32;

type RowValues = (string | number | null)[];

function rowValues(tenant: string, id: string, pid: number, r: AttrValueRow): RowValues {
  return [tenant, id, pid, r.tix, r.cix, r.kind, r.tgt, r.ord, r.srt, r.num, r.str, r.bool, r.dt, r.date, r.tm];
}

/** Attributes (FQNs) whose instances differ between two states of one entity: added, removed or changed. */
function changedAttributes(before: Entity, after: Entity): Set<string> {
  const out = new Set<string>();
  for (const attr of Object.keys(after.attrs)) {
    const a = after.attrs[attr];
    const b = Object.hasOwn(before.attrs, attr) ? before.attrs[attr] : undefined;
    if (a !== b && (b === undefined || JSON.stringify(a) !== JSON.stringify(b))) out.add(attr);
  }
  for (const attr of Object.keys(before.attrs)) if (!Object.hasOwn(after.attrs, attr)) out.add(attr);
  return out;
}

function hasGeo(instances: readonly AttrInstance[] | undefined): boolean {
  return instances !== undefined && instances.some((i) => i.type === 'GeoProperty');
}

export function createEntityIndex(db: BetterSqlite3.Database): EntityIndex {
  const stmt = {
    findPath: db.prepare<[string], number>('SELECT pid FROM value_paths WHERE path = ?').pluck(),
    insertPath: db.prepare<[string]>('INSERT INTO value_paths (path) VALUES (?)'),
    deleteValues: db.prepare<[string, string]>('DELETE FROM attr_values WHERE tenant = ? AND id = ?'),
    deleteAttrValues: db.prepare<[string, string, number]>('DELETE FROM attr_values WHERE tenant = ? AND id = ? AND pid = ?'),
    deleteBoxes: db.prepare<[string, string]>('DELETE FROM geo_rtree WHERE rid IN (SELECT rid FROM geo_items WHERE tenant = ? AND id = ?)'),
    deleteItems: db.prepare<[string, string]>('DELETE FROM geo_items WHERE tenant = ? AND id = ?'),
    insertBox: db.prepare<[number, number, number, number, string, string, number, string]>(
      'INSERT INTO geo_rtree (minx, maxx, miny, maxy, tenant, id, pid, geom) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertItem: db.prepare<[string, string, number | bigint]>('INSERT INTO geo_items (tenant, id, rid) VALUES (?, ?, ?)'),
  };
  // One multi-row INSERT per entity (per 32 rows): far fewer calls into SQLite than one per row.
  const inserts = new Map<number, BetterSqlite3.Statement<RowValues>>();
  const insertValues = (rows: number): BetterSqlite3.Statement<RowValues> => {
    let s = inserts.get(rows);
    if (s === undefined) {
      const tuple = `(${new Array(VALUE_COLUMNS).fill('?').join(', ')})`;
      s = db.prepare<RowValues>(
        `INSERT INTO attr_values (tenant, id, pid, tix, cix, kind, tgt, ord, srt, num, str, bool, dt, date, tm) VALUES ${new Array(rows).fill(tuple).join(', ')}`,
      );
      inserts.set(rows, s);
    }
    return s;
  };

  // Path ids never change once committed, so they are cached; ids created by a transaction that is then
  // rolled back would be reused for other paths, so they wait in `pending` until settle(true).
  const committed = new Map<string, number>();
  const pending = new Map<string, number>();
  const pathId = (path: string): number => {
    const known = committed.get(path) ?? pending.get(path);
    if (known !== undefined) return known;
    let pid = stmt.findPath.get(path);
    if (pid === undefined) pid = Number(stmt.insertPath.run(path).lastInsertRowid);
    pending.set(path, pid);
    return pid;
  };

  return {
    put(tenant, entity, previous) {
      let only: Set<string> | undefined;
      let geo = true;
      if (previous !== null) {
        only = changedAttributes(previous, entity);
        if (only.size === 0) return;
        for (const attr of only) {
          const pid = committed.get(attr) ?? pending.get(attr) ?? stmt.findPath.get(attr);
          if (pid !== undefined) stmt.deleteAttrValues.run(tenant, entity.id, pid);
        }
        geo = [...only].some((a) => hasGeo(previous.attrs[a]) || hasGeo(entity.attrs[a]));
        if (geo) {
          stmt.deleteBoxes.run(tenant, entity.id);
          stmt.deleteItems.run(tenant, entity.id);
        }
      }
      const rows = attrValueRows(entity, only);
      for (let i = 0; i < rows.length; i += MAX_ROWS_PER_INSERT) {
        const chunk = rows.slice(i, i + MAX_ROWS_PER_INSERT);
        const values: RowValues = [];
        for (const r of chunk) values.push(...rowValues(tenant, entity.id, pathId(r.attr), r));
        insertValues(chunk.length).run(...values);
      }
      if (!geo) return;
      for (const g of geoRows(entity)) {
        const { minx, maxx, miny, maxy } = g.box;
        const rid = stmt.insertBox.run(minx, maxx, miny, maxy, tenant, entity.id, pathId(g.attr), g.geom).lastInsertRowid;
        stmt.insertItem.run(tenant, entity.id, rid);
      }
    },
    settle(ok) {
      if (ok) for (const [path, pid] of pending) committed.set(path, pid);
      pending.clear();
    },
  };
}

/** Fills the index tables from entities.doc (migration v2 on a database that already holds entities). */
export function backfillEntityIndex(db: BetterSqlite3.Database): number {
  const index = createEntityIndex(db);
  // Batches by seq: better-sqlite3 allows no other statement while an iterator is open.
  const batch = db.prepare<[number], { tenant: string; doc: string; seq: number }>('SELECT tenant, doc, seq FROM entities WHERE seq > ? ORDER BY seq LIMIT 1000');
  let n = 0;
  for (let after = -Infinity; ; ) {
    const rows = batch.all(after);
    if (rows.length === 0) break;
    for (const row of rows) index.put(row.tenant, JSON.parse(row.doc) as Entity, null);
    n += rows.length;
    after = rows[rows.length - 1].seq;
  }
  index.settle(true);
  return n;
}
