// Runs compiled entity queries (GS CIM 009 §5.7.2) and the discovery summary (§5.7.5–5.7.10) on a pg Pool.
// Exact queries are one statement. Inexact ones (regex SQL cannot decide, invalid geometries) first try
// one bounded statement; when an undecided row falls inside the page (or the count is asked and some row
// is undecided) the candidates — only those SQL could not rule out — stream through a cursor, and the
// reference evaluator decides each undecided row. Rows are never all loaded at once.
import type { Pool, PoolClient } from 'pg';
import type { Entity } from '../../core/model/entity.ts';
import { matchesEntityQuery, type EntityQuery, type PageRequest, type QueryPage } from '../../core/query/entity-query.ts';
import { sortDiscoveryRows, type DiscoveryRow } from '../../core/query/discovery.ts';
import type { AttrKind } from '../../core/model/entity.ts';
import { candidatesStatement, compileEntityQuery, countStatement, isExactQuery, pageStatement, type CompiledQuery } from './query-compile.ts';
import type { SqlStatement } from './sql-build.ts';
import { textFromKey } from './text-key.ts';

/** Rows fetched per round trip when streaming candidates. */
export const CURSOR_BATCH = 500;

const parse = (doc: string): Entity => JSON.parse(doc) as Entity;

/** pg's QueryConfig values are `any[]`; ours are typed. */
function run<R extends object>(db: Pool | PoolClient, s: SqlStatement) {
  return db.query<R>({ text: s.text, values: s.values as unknown[] });
}

async function exactPage(pool: Pool, c: CompiledQuery, page: PageRequest): Promise<QueryPage> {
  const s = pageStatement(c, page);
  if (!page.count) {
    const { rows } = await run<{ doc: string }>(pool, s);
    return { entities: rows.map((r) => parse(r.doc)) };
  }
  const { rows } = await run<{ total: string; docs: string | null }>(pool, s);
  const docs = rows[0].docs === null ? [] : (JSON.parse(rows[0].docs) as Entity[]);
  return { entities: docs, total: Number(rows[0].total) };
}

/** Streams every candidate through a cursor, deciding undecided rows with the reference evaluator. */
async function streamPage(pool: Pool, c: CompiledQuery, query: EntityQuery, page: PageRequest): Promise<QueryPage> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const s = candidatesStatement(c);
    await client.query({ text: `DECLARE kend_candidates NO SCROLL CURSOR FOR ${s.text}`, values: s.values as unknown[] });
    const entities: Entity[] = [];
    let matched = 0;
    const end = page.offset + page.limit;
    for (;;) {
      const { rows } = await client.query<{ doc: string; sure: boolean }>(`FETCH ${CURSOR_BATCH} FROM kend_candidates`);
      for (const row of rows) {
        if (!page.count && matched >= end) break;
        let entity: Entity | undefined;
        if (!row.sure) {
          entity = parse(row.doc);
          if (!matchesEntityQuery(query, entity)) continue;
        }
        if (matched >= page.offset && matched < end) entities.push(entity ?? parse(row.doc));
        matched += 1;
      }
      if (rows.length < CURSOR_BATCH || (!page.count && matched >= end)) break;
    }
    await client.query('COMMIT');
    return page.count ? { entities, total: matched } : { entities };
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/** Inexact query: one bounded attempt, the cursor only when an undecided row matters. */
async function inexactPage(pool: Pool, c: CompiledQuery, query: EntityQuery, page: PageRequest): Promise<QueryPage> {
  const window = await run<{ doc: string; sure: boolean }>(pool, candidatesStatement(c, page.offset + page.limit));
  if (window.rows.every((r) => r.sure)) {
    const entities = window.rows.slice(page.offset).map((r) => parse(r.doc));
    if (!page.count) return { entities };
    const { rows } = await run<{ sure: string; maybe: string }>(pool, countStatement(c));
    if (rows[0].sure === rows[0].maybe) return { entities, total: Number(rows[0].maybe) };
  }
  return streamPage(pool, c, query, page);
}

/** One page of the tenant's entities matching `query` (EntityStore.queryEntities). */
export async function queryPage(pool: Pool, tenant: string, query: EntityQuery, page: PageRequest): Promise<QueryPage> {
  const c = compileEntityQuery(tenant, query);
  return isExactQuery(c) ? exactPage(pool, c, page) : inexactPage(pool, c, query, page);
}

/**
 * discovery.ts summarizeEntities in SQL: per (type, attribute, kind) the entities and instances, per type
 * the entities. Instances are the head rows of entity_attrs; attribute names come back from textKeys.
 */
export const DISCOVERY_SQL = `
  SELECT t.type, a.attr, a.kind, count(DISTINCT a.seq) AS entities, count(*) FILTER (WHERE a.head) AS instances
  FROM entity_types t
  JOIN entities e ON e.tenant = t.tenant AND e.id = t.id
  JOIN entity_attrs a ON a.tenant = e.tenant AND a.seq = e.seq
  WHERE t.tenant = $1
  GROUP BY t.type, a.attr, a.kind
  UNION ALL
  SELECT t.type, NULL, NULL, count(*), 0 FROM entity_types t WHERE t.tenant = $1 GROUP BY t.type`;

export async function discoverRows(pool: Pool, tenant: string): Promise<DiscoveryRow[]> {
  const { rows } = await pool.query<{ type: string; attr: string | null; kind: string | null; entities: string; instances: string }>(
    DISCOVERY_SQL,
    [tenant],
  );
  return sortDiscoveryRows(
    rows.map((r) => ({
      type: r.type,
      attr: r.attr === null ? null : textFromKey(r.attr),
      kind: r.kind as AttrKind | null,
      entities: Number(r.entities),
      instances: Number(r.instances),
    })),
  );
}
