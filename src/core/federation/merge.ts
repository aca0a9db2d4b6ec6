// Merging distributed results (GS CIM 009 §4.3.6.3, §5.12; guide §16.3): the same entity from several sources
// becomes one entity — types and scopes united, attributes merged per datasetId, the instance with the most
// recent observedAt winning (otherwise the one already held) — and auxiliary data only fills gaps. Also what
// local data exclusive and redirect registrations take away from local processing. Pure.
import { compareDateTime } from '../datetime.ts';
import type { AttrInstance, Entity } from '../model/entity.ts';
import { matchesSelector } from '../query/entity-query.ts';
import { attributeNamesOf, type InfoView, type RegistrationView } from '../registration/model.ts';

/** Whether `incoming` replaces `held` (same attribute, same datasetId): only a strictly later observedAt does. */
function newer(incoming: AttrInstance, held: AttrInstance): boolean {
  if (incoming.observedAt === undefined) return false;
  if (held.observedAt === undefined) return true;
  return compareDateTime(incoming.observedAt, held.observedAt) > 0;
}

const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];

/**
 * `other` merged into `base` (either may come from a context source). `fillOnly` (auxiliary sources): only
 * attribute instances absent from `base` are taken.
 */
export function mergeEntity(base: Entity | null, other: Entity, fillOnly = false): Entity {
  if (base === null) return other;
  const out: Entity = { ...base, types: union(base.types, other.types), attrs: { ...base.attrs } };
  if (other.scope !== undefined) out.scope = union(base.scope ?? [], other.scope);
  for (const [name, instances] of Object.entries(other.attrs)) {
    const held = [...(out.attrs[name] ?? [])];
    for (const inst of instances) {
      const i = held.findIndex((h) => h.datasetId === inst.datasetId);
      if (i < 0) held.push(inst);
      else if (!fillOnly && newer(inst, held[i]!)) held[i] = inst;
    }
    out.attrs[name] = held;
  }
  if (compareDateTime(other.modifiedAt, out.modifiedAt) > 0) out.modifiedAt = other.modifiedAt;
  return out;
}

/** Whether an information element describes this entity (its EntityInfo list, when it has one). */
export function infoCoversEntity(info: InfoView, entity: Pick<Entity, 'id' | 'types'>): boolean {
  if (info.entities === undefined) return true;
  return info.entities.some((e) => {
    if (e.types.length > 0 && !e.types.some((t) => entity.types.includes(t))) return false;
    if (e.id !== undefined && e.id !== entity.id) return false;
    const probe: Entity = { id: entity.id, types: entity.types, createdAt: '', modifiedAt: '', attrs: {} };
    return e.idPattern === undefined || matchesSelector({ idPattern: { source: e.idPattern } }, probe);
  });
}

/**
 * The local entity as local processing may still contribute it: attributes an exclusive or redirect
 * registration covers are held remotely; a covering registration that names no attributes takes the whole
 * entity (null).
 */
export function withoutRemotelyHeld(entity: Entity, registrations: readonly RegistrationView[]): Entity | null {
  let attrs = entity.attrs;
  for (const reg of registrations) {
    if (reg.mode !== 'exclusive' && reg.mode !== 'redirect') continue;
    for (const info of reg.information) {
      if (!infoCoversEntity(info, entity)) continue;
      const names = attributeNamesOf(info);
      if (names === undefined) return null;
      attrs = Object.fromEntries(Object.entries(attrs).filter(([n]) => !names.includes(n)));
    }
  }
  return attrs === entity.attrs ? entity : { ...entity, attrs };
}
