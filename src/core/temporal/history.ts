// What the temporal store records of a change made through the core API (GS CIM 009 §4.5.6, §5.6; guide
// §15.1): new and rewritten attribute instances, deletions as instances holding the NGSI-LD Null in their own
// kind with deletedAt, scope changes as `scope` instances, and the entity record (deletedAt on deletion).
import type { JsonValue } from '../json.ts';
import { NGSI_LD_NULL, type AttrInstance, type AttrKind, type Entity } from '../model/entity.ts';
import { diffAttributes, jsonEqual } from '../subscription/entity-diff.ts';
import { SCOPE_ATTR, type HistoryInstance, type HistoryWrite, type RecordedInstance, type TemporalEntity } from './model.ts';

/** The NGSI-LD Null in the value member of `kind` (§5.2.1; as notifications show deletions). */
export function deletionInstance(kind: AttrKind, at: string, instanceId: string, datasetId?: string): RecordedInstance {
  const inst: RecordedInstance = { type: kind, createdAt: at, modifiedAt: at, deletedAt: at, instanceId };
  switch (kind) {
    case 'Property':
    case 'GeoProperty':
      inst.value = NGSI_LD_NULL;
      break;
    case 'Relationship':
      inst.object = NGSI_LD_NULL;
      break;
    case 'LanguageProperty':
      inst.languageMap = { '@none': NGSI_LD_NULL };
      break;
    case 'VocabProperty':
      inst.vocab = NGSI_LD_NULL;
      break;
    case 'JsonProperty':
      // The marker itself, as in a merge fragment; `json` is typed for real content only.
      (inst as { json?: JsonValue }).json = NGSI_LD_NULL;
      break;
    case 'ListProperty':
      inst.valueList = [NGSI_LD_NULL];
      break;
    case 'ListRelationship':
      inst.objectList = [NGSI_LD_NULL];
      break;
  }
  if (datasetId !== undefined) inst.datasetId = datasetId;
  return inst;
}

/** The entity-level record of the temporal store for an entity state. */
export function temporalRecord(entity: Entity, deletedAt?: string): TemporalEntity {
  const rec: TemporalEntity = { id: entity.id, types: [...entity.types], createdAt: entity.createdAt, modifiedAt: deletedAt ?? entity.modifiedAt };
  if (entity.scope !== undefined && entity.scope.length > 0) rec.scope = [...entity.scope];
  if (deletedAt !== undefined) rec.deletedAt = deletedAt;
  return rec;
}

/**
 * The instance as recorded. A shallow copy: its nested values are shared with the entity state, which write
 * operations never mutate (they build a new state, cloning what they change — write-ops.ts), and the store
 * serialises both in the write. A deep clone here cost ≈ 4 % of a batch load (issue 6 item 5).
 */
function recorded(inst: AttrInstance, instanceId: string): RecordedInstance {
  return { ...inst, instanceId };
}

/** Scope changes (§4.18) recorded as Property instances observed at the change; removal as `[]` with deletedAt. */
export function scopeChange(before: string[] | undefined, after: string[] | undefined, now: string, newInstanceId: () => string): HistoryInstance | null {
  const b = before ?? [];
  const a = after ?? [];
  if (jsonEqual(b, a)) return null;
  if (a.length === 0) {
    return { attr: SCOPE_ATTR, instance: { type: 'Property', value: [], createdAt: now, modifiedAt: now, deletedAt: now, instanceId: newInstanceId() } };
  }
  const value = a.length === 1 ? a[0]! : [...a];
  return { attr: SCOPE_ATTR, instance: { type: 'Property', value, observedAt: now, createdAt: now, modifiedAt: now, instanceId: newInstanceId() } };
}

/**
 * The history of one committed change from `before` to `after` (null: the entity does not exist on that
 * side); null when there is nothing to record (no entity on either side). An instance is recorded when it
 * is new, when its content changed, or when the write rewrote it (its modifiedAt moved: a meter reporting
 * the same reading again is a data point); instances the write left alone are not recorded again, so an
 * expiresAt-only merge records no instance. A deleted entity keeps its record, with deletedAt, and every
 * attribute it had gets a deletion instance.
 */
export function historyOf(before: Entity | null, after: Entity | null, now: string, newInstanceId: () => string): HistoryWrite | null {
  if (after === null && before === null) return null;
  const instances: HistoryInstance[] = [];
  for (const change of diffAttributes(before, after)) {
    if (change.kind === 'deleted') {
      instances.push({ attr: change.attr, instance: deletionInstance(change.before!.type, now, newInstanceId(), change.datasetId) });
    } else {
      instances.push({ attr: change.attr, instance: recorded(change.after!, newInstanceId()) });
    }
  }
  if (before !== null && after !== null) {
    // diffAttributes ignores timestamps: a rewrite with identical content still moved modifiedAt.
    for (const [attr, list] of Object.entries(after.attrs)) {
      const prev = Object.hasOwn(before.attrs, attr) ? before.attrs[attr]! : [];
      for (const inst of list) {
        const old = prev.find((p) => p.datasetId === inst.datasetId);
        if (old !== undefined && old.modifiedAt !== inst.modifiedAt && !instances.some((h) => h.attr === attr && h.instance.datasetId === inst.datasetId)) {
          instances.push({ attr, instance: recorded(inst, newInstanceId()) });
        }
      }
    }
  }
  const scope = scopeChange(before?.scope, after?.scope, now, newInstanceId);
  if (scope !== null) instances.push(scope);
  const entity = after !== null ? temporalRecord(after) : temporalRecord(before!, now);
  return { entity, instances };
}
