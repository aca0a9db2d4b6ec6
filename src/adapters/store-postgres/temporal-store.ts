// The PostgreSQL TemporalStore (GS CIM 009 §5.6.11–5.6.16, §5.7.3–5.7.4, §4.5.19; issue 6): reads,
// aggregations and per-instance corrections of the history that entity writes append (temporal-write.ts).
import type { Pool } from 'pg';
import { instanceTime, instanceValues } from '../../core/temporal/instance-values.ts';
import type { RecordedInstance } from '../../core/temporal/model.ts';
import type { TemporalStore } from '../../ports/temporal-store.ts';
import { statement } from './statements.ts';
import { aggregateRecords } from './temporal-aggregate.ts';
import { queryInstances } from './temporal-instances.ts';
import { inReadTransaction, RECORD_COLUMNS, selectRecordPage, toTemporalEntity, type RecordRow } from './temporal-read.ts';
import { codePointKey, textKey } from './text-key.ts';

/** Instances the retention job deletes per statement: short transactions, bounded locks and WAL bursts. */
export const PRUNE_BATCH = 10_000;

const temporalSql = {
  getRecord: statement('temporal_get_record', `SELECT ${RECORD_COLUMNS} FROM temporal_entities r WHERE r.tenant = $1 AND r.id = $2`),
  // $1 tenant, $2 entity id key, $3 attribute key, $4 instanceId key, $5… the instance's columns. The seq
  // (recording order) and the instanceId stay.
  replaceInstance: statement(
    'temporal_replace_instance',
    `UPDATE temporal_instances i SET dataset_id = $5, observed_at = $6::bigint, created_at = $7::bigint,
       modified_at = $8::bigint, deleted_at = $9::bigint, num = $10::float8, text = $11, key = $12, doc = $13::json
     FROM temporal_entities r
     WHERE r.tenant = $1 AND r.id = $2 AND i.tenant = $1 AND i.entity = r.seq AND i.attr = $3 AND i.instance_id = $4`,
  ),
  deleteInstance: statement(
    'temporal_delete_instance',
    `DELETE FROM temporal_instances i USING temporal_entities r
     WHERE r.tenant = $1 AND r.id = $2 AND i.tenant = $1 AND i.entity = r.seq AND i.attr = $3 AND i.instance_id = $4`,
  ),
  // Across tenants (the retention period is the deployment's): $1 recorded before (epoch ms), $2 batch size.
  prune: statement(
    'temporal_prune',
    `DELETE FROM temporal_instances
     WHERE ctid = ANY (ARRAY(SELECT ctid FROM temporal_instances WHERE created_at < $1::bigint LIMIT $2::bigint))`,
  ),
};

const keyOrNull = (s: string | null | undefined): string | null => (s === undefined || s === null ? null : textKey(s));

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
      const { rowCount } = await pool.query(
        temporalSql.replaceInstance([
          tenant,
          textKey(entityId),
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
      return (rowCount ?? 0) > 0;
    },

    async deleteInstance(tenant, entityId, attr, instanceId) {
      const { rowCount } = await pool.query(
        temporalSql.deleteInstance([tenant, textKey(entityId), textKey(attr), textKey(instanceId)]),
      );
      return (rowCount ?? 0) > 0;
    },

    async pruneHistory(beforeMs) {
      let total = 0;
      for (;;) {
        const { rowCount } = await pool.query(temporalSql.prune([beforeMs, PRUNE_BATCH]));
        total += rowCount ?? 0;
        if ((rowCount ?? 0) < PRUNE_BATCH) return total;
      }
    },
  };
}
