// The instances of a temporal query page (GS CIM 009 §5.7.3–5.7.4 lastN, §6.3.10 per-attribute cap) in
// PostgreSQL: per (record, attribute) at most keep + 1 instances straight from the (tenant, entity, attr,
// time, seq) index — the oldest, or with lastN the newest — whatever the length of the series.
import type { Pool } from 'pg';
import type { PageRequest } from '../../core/query/entity-query.ts';
import type { RecordedInstance, TemporalEntityInstances, TemporalInstanceRequest, TemporalSelection } from '../../core/temporal/model.ts';
import type { TemporalPage } from '../../ports/temporal-store.ts';
import { SqlParams } from './sql-build.ts';
import { attrsOf, inReadTransaction, RECORD_COLUMNS, run, selectRecordPage, toTemporalEntity, type RecordRow } from './temporal-read.ts';
import { compileSelection, instanceCond, TIME_COLUMN } from './temporal-select.ts';
import { textFromKey } from './text-key.ts';

/** How many instances per attribute a request keeps, and whether cutting there is the cap's doing. */
function keepOf(request: TemporalInstanceRequest): { keep: number; newest: boolean; capCuts: boolean } {
  const newest = request.lastN !== undefined;
  const keep = Math.max(0, newest ? Math.min(request.lastN!, request.instanceLimit) : request.instanceLimit);
  // §6.3.10: partial only when the cap cut; lastN at or below the cap is the answer asked for.
  return { keep, newest, capCuts: request.lastN === undefined || request.lastN > request.instanceLimit };
}

/**
 * A LATERAL item `x(attr, doc, rn)` of the instances of the record `entity` (an SQL expression), per
 * attribute numbered in the kept order (ascending; with lastN descending) and cut after keep + 1 — the
 * row numbered keep + 1 only tells that more exist. Ties are broken by recording order (seq).
 */
function instancesOf(selection: TemporalSelection, params: SqlParams, entity: string, keep: number, newest: boolean): string {
  const t = `i.${TIME_COLUMN[selection.window.property]}`;
  const dir = newest ? 'DESC' : 'ASC';
  return `(SELECT a.attr, y.doc, y.rn FROM ${attrsOf(selection, params, entity, 'a')} CROSS JOIN LATERAL (
      SELECT i.doc, row_number() OVER (ORDER BY ${t} ${dir}, i.seq ${dir}) AS rn
      FROM temporal_instances i
      WHERE i.tenant = $1 AND i.entity = ${entity} AND i.attr = a.attr AND ${instanceCond(selection, params, 'i', true)}
      ORDER BY ${t} ${dir}, i.seq ${dir}
      LIMIT ${params.add(keep + 1, 'bigint')}
    ) y)`;
}

interface InstanceRow {
  attr: string | null;
  doc: string | null;
  rn: string | null;
}

/** Collects instance rows (ordered by record, attribute, rn) into the entities of the page. */
class PageBuilder {
  private readonly bySeq = new Map<string, TemporalEntityInstances>();

  constructor(private readonly keep: number, private readonly newest: boolean, private readonly capCuts: boolean) {}

  record(row: RecordRow): TemporalEntityInstances {
    let e = this.bySeq.get(row.seq);
    if (e === undefined) {
      e = { entity: toTemporalEntity(row), attrs: {}, truncated: false };
      this.bySeq.set(row.seq, e);
    }
    return e;
  }

  instance(e: TemporalEntityInstances, row: InstanceRow): void {
    if (row.attr === null || row.doc === null) return;
    if (Number(row.rn) > this.keep) {
      if (this.capCuts) e.truncated = true;
      return;
    }
    (e.attrs[textFromKey(row.attr)] ??= []).push(JSON.parse(row.doc) as RecordedInstance);
  }

  /** The entities in page order, instances ascending. */
  entities(records: readonly RecordRow[]): TemporalEntityInstances[] {
    return records.map((r) => {
      const e = this.record(r);
      if (this.newest) for (const list of Object.values(e.attrs)) list.reverse();
      return e;
    });
  }
}

/**
 * One statement when SQL decides the selection (no idPattern left to the reference evaluator): the page of
 * records and, laterally, their instances — one snapshot, one round trip, no transaction; `count(*) OVER ()`
 * counts the matches before LIMIT when asked. Otherwise (or for a count past the last page) the page is
 * selected first (selectRecordPage) and its instances read in the same read transaction.
 */
export async function queryInstances(
  pool: Pool,
  tenant: string,
  selection: TemporalSelection,
  request: TemporalInstanceRequest,
  page: PageRequest,
): Promise<TemporalPage<TemporalEntityInstances>> {
  const { keep, newest, capCuts } = keepOf(request);
  const { params, where } = compileSelection(tenant, selection);
  if (where.sure === where.maybe) {
    const total = page.count ? ', count(*) OVER () AS total' : '';
    const text = `WITH page AS MATERIALIZED (
        SELECT r.seq AS s, ${RECORD_COLUMNS}${total} FROM temporal_entities r WHERE ${where.sure}
        ORDER BY r.seq LIMIT ${params.add(page.limit, 'bigint')} OFFSET ${params.add(page.offset, 'bigint')}
      )
      SELECT page.*, x.attr, x.doc::text AS doc, x.rn::text AS rn
      FROM page LEFT JOIN LATERAL ${instancesOf(selection, params, 'page.s', keep, newest)} x ON TRUE
      ORDER BY page.s, x.attr, x.rn`;
    const { rows } = await run<RecordRow & InstanceRow & { total?: string }>(pool, { text, values: params.values });
    if (!page.count || rows.length > 0) {
      const builder = new PageBuilder(keep, newest, capCuts);
      const records: RecordRow[] = [];
      for (const row of rows) {
        if (records.length === 0 || records[records.length - 1].seq !== row.seq) records.push(row);
        builder.instance(builder.record(row), row);
      }
      const entities = builder.entities(records);
      return page.count ? { entities, total: Number(rows[0].total) } : { entities };
    }
  }
  return inReadTransaction(pool, async (client) => {
    const records = await selectRecordPage(client, tenant, selection, page);
    const builder = new PageBuilder(keep, newest, capCuts);
    if (records.rows.length > 0) {
      const p = new SqlParams();
      p.add(tenant, 'text');
      const text = `SELECT e.entity::text AS seq, x.attr, x.doc::text AS doc, x.rn::text AS rn
        FROM unnest(${p.add(records.rows.map((r) => r.seq), 'bigint[]')}) AS e(entity)
        CROSS JOIN LATERAL ${instancesOf(selection, p, 'e.entity', keep, newest)} x
        ORDER BY e.entity, x.attr, x.rn`;
      const bySeq = new Map(records.rows.map((r) => [r.seq, builder.record(r)]));
      const { rows } = await run<InstanceRow & { seq: string }>(client, { text, values: p.values });
      for (const row of rows) builder.instance(bySeq.get(row.seq)!, row);
    }
    const entities = builder.entities(records.rows);
    return records.total === undefined ? { entities } : { entities, total: records.total };
  });
}
