// Mode conflicts between registrations (GS CIM 009 §4.3.6, §5.9.2; guide §16.1): an exclusive registration
// conflicts with another exclusive or a redirect one covering the same entity and attributes; a redirect one
// conflicts with an exclusive one it overlaps. Overlapping redirect (or inclusive, auxiliary) ones are fine.
// Pure; the service adds the checks against locally stored entities.
import { matchesSelector } from '../query/entity-query.ts';
import { attributeNamesOf, type EntityInfoView, type InfoView, type RegistrationView } from './model.ts';

function idMatches(info: EntityInfoView, id: string): boolean {
  if (info.id !== undefined) return info.id === id;
  if (info.idPattern !== undefined) return matchesSelector({ idPattern: { source: info.idPattern } }, { id, types: [], createdAt: '', modifiedAt: '', attrs: {} });
  return true;
}

/** Two EntityInfos may describe a common entity: a shared type and compatible ids (two patterns may always meet). */
export function entityInfosOverlap(a: EntityInfoView, b: EntityInfoView): boolean {
  if (!a.types.some((t) => b.types.includes(t))) return false;
  if (a.id !== undefined) return idMatches(b, a.id);
  if (b.id !== undefined) return idMatches(a, b.id);
  return true;
}

/** Two information elements may describe a common attribute of a common entity. */
export function infosOverlap(a: InfoView, b: InfoView): boolean {
  if (a.entities !== undefined && b.entities !== undefined && !a.entities.some((x) => b.entities!.some((y) => entityInfosOverlap(x, y)))) return false;
  const an = attributeNamesOf(a);
  const bn = attributeNamesOf(b);
  return an === undefined || bn === undefined || an.some((n) => bn.includes(n));
}

/** True when the modes of the two registrations exclude each other where they overlap. */
function modesConflict(a: RegistrationView, b: RegistrationView): boolean {
  if (a.mode === 'exclusive') return b.mode === 'exclusive' || b.mode === 'redirect';
  if (a.mode === 'redirect') return b.mode === 'exclusive';
  return false;
}

/** The first registration among `others` that `candidate` conflicts with, if any (itself excluded by id). */
export function findModeConflict(candidate: RegistrationView, others: readonly RegistrationView[]): RegistrationView | undefined {
  return others.find(
    (o) => o.id !== candidate.id && modesConflict(candidate, o) && candidate.information.some((a) => o.information.some((b) => infosOverlap(a, b))),
  );
}
