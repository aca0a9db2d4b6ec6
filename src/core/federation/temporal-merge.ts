// Merging distributed temporal answers (GS CIM 009 §5.7.3, §5.7.4, §6.3.10; guide §15.3, §16.3): the temporal
// evolution of one entity from several parties (local history and context sources) becomes one — types
// united, the instances of each attribute combined (the same instanceId once), ordered on the query's time
// axis. Each party may have cut its instances (instance cap, 206 + Content-Range): the merged answer then
// ends where the most restrictive party stopped, so a client paging on by Content-Range misses nothing;
// lastN is applied again over the combined instances. Auxiliary sources only add attributes absent
// elsewhere. Pure.
import { compareDateTime } from '../datetime.ts';
import { instanceTime } from '../temporal/instance-values.ts';
import type { RecordedInstance, TemporalEntityInstances, TimeProperty } from '../temporal/model.ts';
import type { RangeStamp } from './remote-temporal.ts';

/** One party's answer: its entities and, when it cut its instances, where (its Content-Range end). */
export interface TemporalPart {
  entities: readonly TemporalEntityInstances[];
  cutAt?: RangeStamp;
  /** Auxiliary source: contributes only attributes no other party has. */
  fillOnly?: boolean;
}

export interface TemporalMergeRequest {
  timeProperty: TimeProperty;
  lastN?: number;
}

export interface TemporalMerged {
  /** Entities in first-seen order (parties in the order given). */
  entities: TemporalEntityInstances[];
  /** The most restrictive cut of the parties, to pass on to the instance range (applyInstanceRange). */
  cutAt?: RangeStamp;
}

const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];

function mergeRecord(base: TemporalEntityInstances, other: TemporalEntityInstances, fillOnly: boolean): TemporalEntityInstances {
  const entity = { ...base.entity, types: union(base.entity.types, other.entity.types) };
  if (other.entity.scope !== undefined) entity.scope = union(base.entity.scope ?? [], other.entity.scope);
  if (compareDateTime(other.entity.createdAt, entity.createdAt) < 0) entity.createdAt = other.entity.createdAt;
  if (compareDateTime(other.entity.modifiedAt, entity.modifiedAt) > 0) entity.modifiedAt = other.entity.modifiedAt;
  const attrs: Record<string, RecordedInstance[]> = { ...base.attrs };
  for (const [name, list] of Object.entries(other.attrs)) {
    const held = attrs[name];
    if (held === undefined) attrs[name] = [...list];
    else if (!fillOnly) {
      const ids = new Set(held.map((i) => i.instanceId));
      attrs[name] = [...held, ...list.filter((i) => !ids.has(i.instanceId))];
    }
  }
  return { entity, attrs, truncated: base.truncated || other.truncated };
}

/**
 * The parties' entities merged by id; each attribute's instances ascending on the time axis (instances
 * without that time last, as the stores never return them), cut at the most restrictive party cut, then
 * reduced to the newest lastN.
 */
export function mergeTemporalParts(parts: readonly TemporalPart[], req: TemporalMergeRequest): TemporalMerged {
  const descending = req.lastN !== undefined;
  let cutAt: RangeStamp | undefined;
  for (const p of parts) {
    if (p.cutAt === undefined) continue;
    if (cutAt === undefined || (descending ? p.cutAt.ms > cutAt.ms : p.cutAt.ms < cutAt.ms)) cutAt = p.cutAt;
  }
  const byId = new Map<string, TemporalEntityInstances>();
  for (const fillOnly of [false, true]) {
    for (const p of parts) {
      if ((p.fillOnly === true) !== fillOnly) continue;
      for (const e of p.entities) {
        const held = byId.get(e.entity.id);
        byId.set(e.entity.id, held === undefined ? e : mergeRecord(held, e, fillOnly));
      }
    }
  }
  const time = (i: RecordedInstance): number => instanceTime(i, req.timeProperty) ?? Number.POSITIVE_INFINITY;
  const inCut = (i: RecordedInstance): boolean => cutAt === undefined || (descending ? time(i) >= cutAt.ms : time(i) <= cutAt.ms);
  const entities = [...byId.values()].map((e) => {
    const attrs: Record<string, RecordedInstance[]> = {};
    for (const [name, list] of Object.entries(e.attrs)) {
      let sorted = [...list].sort((a, b) => (time(a) === time(b) ? 0 : time(a) < time(b) ? -1 : 1)).filter(inCut);
      if (req.lastN !== undefined && sorted.length > req.lastN) sorted = sorted.slice(sorted.length - req.lastN);
      attrs[name] = sorted;
    }
    return { ...e, attrs };
  });
  return cutAt === undefined ? { entities } : { entities, cutAt };
}
