// q and geo-queries on the temporal API (GS CIM 009 §5.7.4; guide §15.3): an entity is kept when the
// instances it has inside the time window satisfy the filter, each attribute read as a multi-instance
// attribute (a term matches when any instance matches, §4.9). Deletion instances carry no value and never
// qualify an entity. The evaluator is the one of Query Entities (q-eval.ts, geo-query.ts).
import type { AttrInstance, AttrMap, Entity } from '../model/entity.ts';
import { evaluateGeoQuery, type GeoQuery } from '../query/geo-query.ts';
import type { QExpr } from '../query/q-ast.ts';
import { evaluateQ } from '../query/q-eval.ts';
import type { RecordedInstance, TemporalEntity } from './model.ts';

export interface InstanceFilter {
  q?: QExpr;
  geo?: GeoQuery;
}

/** The attributes a filter reads (FQNs): they must be fetched to evaluate it. */
export function filterAttrs(filter: InstanceFilter): string[] {
  const out = new Set<string>();
  const walk = (e: QExpr): void => {
    if (e.type === 'and' || e.type === 'or') e.items.forEach(walk);
    else out.add(e.path.attr);
  };
  if (filter.q !== undefined) walk(filter.q);
  if (filter.geo !== undefined) out.add(filter.geo.geoproperty);
  return [...out];
}

/** The entity as the filter sees it: every in-window, non-deletion instance as one instance of its attribute. */
export function instancesAsEntity(entity: TemporalEntity, attrs: Readonly<Record<string, readonly RecordedInstance[]>>): Entity {
  const map: AttrMap = {};
  for (const [attr, list] of Object.entries(attrs)) {
    const kept: AttrInstance[] = list.filter((i) => i.deletedAt === undefined).map(({ instanceId: _id, ...rest }) => rest);
    if (kept.length > 0) map[attr] = kept;
  }
  const out: Entity = { id: entity.id, types: entity.types, createdAt: entity.createdAt, modifiedAt: entity.modifiedAt, attrs: map };
  if (entity.scope !== undefined) out.scope = entity.scope;
  return out;
}

export function matchesInstanceFilter(filter: InstanceFilter, entity: TemporalEntity, attrs: Readonly<Record<string, readonly RecordedInstance[]>>): boolean {
  const e = instancesAsEntity(entity, attrs);
  if (filter.q !== undefined && !evaluateQ(filter.q, e)) return false;
  if (filter.geo !== undefined && !evaluateGeoQuery(filter.geo, e)) return false;
  return true;
}
