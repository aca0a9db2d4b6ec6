// The PostgreSQL TemporalStore (GS CIM 009 §5.6.11–5.6.16, §5.7.3–5.7.4, §4.5.19; issue 6): reads,
// aggregations and per-instance corrections of the history that entity writes append (temporal-write.ts).
// Corrections, removals and retention recount the hourly rollup cells they touch (temporal-rollup.ts) in their
// transaction.
import type { Pool, PoolClient } from 'pg';
import { instanceTime, instanceValues } from '../../core/temporal/instance-values.ts';
import type { RecordedInstance } from '../../core/temporal/model.ts';
import type { TemporalStore } from '../../ports/temporal-store.ts';
import { statement } from './statements.ts';
import { inTransaction } from './transaction.ts';
import { aggregateRecords } from './temporal-aggregate.ts';
import { queryInstances } from './temporal-instances.ts';
import { hourOf, hourSql, recountCells } from './temporal-rollup.ts';
import { inReadTransaction, RECORD_COLUMNS, selectRecordPage, toTemporalEntity, type RecordRow } from './temporal-read.ts';
import { codePointKey, textKey } from './text-key.ts';

/** Instances the retention job deletes per statement: short transactions, bounded locks and WAL bursts. */
export const PRUNE_BATCH = 10_000;

const temporalSql = {
  getRecord: statement('temporal_get_record', `SELECT ${RECORD_COLUMNS} FROM temporal_entities r WHERE r.tenant = $1 AND r.id = $2`),
  // $1 tenant, $2 entity id key: the record's seq, its row locked for the rollup recount (temporal-rollup.ts).
  lockRecord: statement('temporal_lock_record', 'SELECT seq::text AS seq FROM temporal_entities WHERE tenant = $1 AND id = $2 FOR NO KEY UPDATE'),
  // $1 tenant, $2 entity seq, $3 attribute key, $4 instanceId key, $5… the instance's columns. The seq
  // (recording order) and the instanceId stay. Returns the observedAt before and after (the cells to recount).
  replaceInstance: statement(
    'temporal_replace_instance',
    `UPDATE temporal_instances i SET dataset_id = $5, observed_at = $6::bigint, created_at = $7::bigint,
       modified_at = $8::bigint, deleted_at = $9::bigint, num = $10::float8, text = $11, key = $12, doc = $13::json
     FROM (SELECT observed_at FROM temporal_instances WHERE tenant = $1 AND instance_id = $4) o
     WHERE i.tenant = $1 AND i.entity = $2::bigint AND i.attr = $3 AND i.instance_id = $4
     RETURNING o.observed_at::float8 AS before, i.observed_at::float8 AS after`,
  ),
  deleteInstance: statement(
    'temporal_delete_instance',
    `DELETE FROM temporal_instances i
     WHERE i.tenant = $1 AND i.entity = $2::bigint AND i.attr = $3 AND i.instance_id = $4
     RETURNING i.observed_at::float8 AS before`,
  ),
  // Across tenants (the retention period is the deployment's): $1 recorded before (epoch ms), $2 batch size.
  // Returns the rollup cells of the removed counted observedAt instances (hour NULL for the others) and how
  // many went from each.
  prune: statement(
    'temporal_prune',
    `WITH del AS (
       DELETE FROM temporal_instances
       WHERE ctid = ANY (ARRAY(SELECT ctid FROM temporal_instances WHERE created_at < $1::bigint LIMIT $2::bigint))
       RETURNING tenant, entity, attr, CASE WHEN counted THEN observed_at END AS t
     )
     SELECT tenant, entity::text AS entity, attr, ${hourSql('t')}::float8 AS hour, count(*)::int AS n
     FROM del GROUP BY 1, 2, 3, 4`,
  ),
};

interface PrunedCell {
  tenant: string;
  entity: string;
  attr: string;
  hour: number | null;
  n: number;
}

const keyOrNull = (s: string | null | undefined): string | null => (s === undefined || s === null ? null : textKey(s));

/** The locked record's seq, or null when the entity has no history. */
async function lockRecord(client: PoolClient, tenant: string, entityId: string): Promise<string | null> {
  const { rows } = await client.query<{ seq: string }>(temporalSql.lockRecord([tenant, textKey(entityId)]));
  return rows[0]?.seq ?? null;
}

/** The rollup cells of an instance's observedAt before and after a change (none without observedAt). */
function cellsOf(tenant: string, entity: string, attr: string, ...times: (number | null)[]): { tenant: string; entity: string; attr: string; hour: number }[] {
  return times.filter((t): t is number => t !== null).map((t) => ({ tenant, entity, attr, hour: hourOf(t) }));
}

export function createPostgresTemporalStore(pool: Pool): TemporalStore {
  return {
    async getTemporalEntity(tenant, id) {
      const { rows } = await pool.query<RecordRow>(temporalSql.getRecord([tenant, textKey(id)]));
      return rows.length === 0 ? null : toTemporalEntity(rows[0]);
    },

    queryTemporal(tenant, selection, request, page) {
      return queryInstances(pool, tenant, selection, request, page);
    },

    aggregateTemporal(tenant, selection, aggregation, page) {
      return inReadTransaction(pool, async (client) => {
        const records = await selectRecordPage(client, tenant, selection, page);
        const entities = await aggregateRecords(client, tenant, selection, records.rows, aggregation);
        return records.total === undefined ? { entities } : { entities, total: records.total };
      });
    },

    async replaceInstance(tenant, entityId, attr, instance: RecordedInstance) {
      const v = instanceValues(instance);
      return inTransaction(pool, async (client) => {
        const entity = await lockRecord(client, tenant, entityId);
        if (entity === null) return false;
        const { rows } = await client.query<{ before: number | null; after: number | null }>(
          temporalSql.replaceInstance([
          tenant,
          entity,
          textKey(attr),
          textKey(instance.instanceId),
          keyOrNull(instance.datasetId),
          instanceTime(instance, 'observedAt'),
          instanceTime(instance, 'createdAt'),
          instanceTime(instance, 'modifiedAt'),
          instanceTime(instance, 'deletedAt'),
          v.num,
          v.text === null ? null : codePointKey(v.text),
          keyOrNull(v.key),
          JSON.stringify(instance),
          ]),
        );
        if (rows.length === 0) return false;
        await recountCells(client, cellsOf(tenant, entity, textKey(attr), rows[0].before, rows[0].after));
        return true;
      });
    },

    async deleteInstance(tenant, entityId, attr, instanceId) {
      return inTransaction(pool, async (client) => {
        const entity = await lockRecord(client, tenant, entityId);
        if (entity === null) return false;
        const { rows } = await client.query<{ before: number | null }>(
          temporalSql.deleteInstance([tenant, entity, textKey(attr), textKey(instanceId)]),
        );
        if (rows.length === 0) return false;
        await recountCells(client, cellsOf(tenant, entity, textKey(attr), rows[0].before));
        return true;
      });
    },

    async pruneHistory(beforeMs) {
      let total = 0;
      for (;;) {
        // One batch and the recount of the cells it touched commit together (recountCells locks their records).
        const removed = await inTransaction(pool, async (client) => {
          const { rows } = await client.query<PrunedCell>(temporalSql.prune([beforeMs, PRUNE_BATCH]));
          const cells = rows.filter((r): r is PrunedCell & { hour: number } => r.hour !== null);
          await recountCells(client, cells);
          return rows.reduce((n, r) => n + r.n, 0);
        });
        total += removed;
        if (removed < PRUNE_BATCH) return total;
      }
    },
  };
}
