// Mode conflicts of a registration being created or updated (GS CIM 009 §4.3.6, §5.9.2, §5.9.3; guide §16.1):
// an exclusive registration may not overlap another exclusive or a redirect one, nor attributes stored
// locally for its entities; a redirect one may not overlap an exclusive one, nor matching local entities.
// Answer 409 Conflict. Checked before the write; two nodes registering at the same instant are not
// serialised against each other.
import { NgsiError } from '../core/errors.ts';
import type { Entity } from '../core/model/entity.ts';
import type { EntitySelector } from '../core/query/entity-query.ts';
import { findModeConflict } from '../core/registration/conflicts.ts';
import { attributeNamesOf, viewOf, type EntityInfoView, type InfoView, type RegistrationView } from '../core/registration/model.ts';
import type { TenantId } from '../core/tenant.ts';
import type { RegistrationStore } from '../ports/registration-store.ts';
import type { EntityStore } from '../ports/store.ts';

/** Most exclusive/redirect registrations of a tenant read for one check. */
const MAX_CHECKED = 100_000;

export interface ConflictDeps {
  registrations: Pick<RegistrationStore, 'queryRegistrations'>;
  entities: Pick<EntityStore, 'getEntity' | 'queryEntities'>;
}

function conflict(detail: string): NgsiError {
  return new NgsiError('Conflict', detail, 'Registration conflict');
}

function holdsAny(entity: Entity, info: EntityInfoView, attrs: readonly string[] | undefined): boolean {
  if (!entity.types.some((t) => info.types.includes(t))) return false;
  return attrs === undefined || attrs.some((a) => Object.hasOwn(entity.attrs, a) && entity.attrs[a]!.length > 0);
}

function selectorOf(info: EntityInfoView): EntitySelector {
  const sel: EntitySelector = {
    type: info.types.length === 1 ? { op: 'type', name: info.types[0]! } : { op: 'or', items: info.types.map((name) => ({ op: 'type', name })) },
  };
  if (info.id !== undefined) sel.ids = [info.id];
  else if (info.idPattern !== undefined) sel.idPattern = { source: info.idPattern };
  return sel;
}

async function localConflict(deps: ConflictDeps, tenant: TenantId, reg: RegistrationView, info: InfoView): Promise<string | undefined> {
  const attrs = attributeNamesOf(info);
  if (reg.mode === 'exclusive') {
    for (const e of info.entities ?? []) {
      const entity = e.id === undefined ? null : await deps.entities.getEntity(tenant, e.id);
      if (entity !== null && holdsAny(entity, e, attrs)) return `entity ${e.id} holds attributes this exclusive registration claims`;
    }
    return undefined;
  }
  const query = { ...(info.entities !== undefined ? { selectors: info.entities.map(selectorOf) } : {}), ...(attrs !== undefined ? { attrs } : {}) };
  const page = await deps.entities.queryEntities(tenant, query, { limit: 1, offset: 0, count: false });
  return page.entities.length > 0 ? `entity ${page.entities[0]!.id} is stored locally and matches this redirect registration` : undefined;
}

/** Throws 409 Conflict when `reg` (exclusive or redirect) clashes with a registration or local data. */
export async function checkModeConflicts(deps: ConflictDeps, tenant: TenantId, reg: RegistrationView, now: string): Promise<void> {
  if (reg.mode !== 'exclusive' && reg.mode !== 'redirect') return;
  const { items } = await deps.registrations.queryRegistrations(
    tenant,
    { now, matches: (r) => r.id !== reg.id && (r.payload.mode === 'exclusive' || r.payload.mode === 'redirect') },
    { limit: MAX_CHECKED, offset: 0, count: false },
  );
  const clash = findModeConflict(reg, items.map((r) => viewOf(r.payload)));
  if (clash !== undefined) throw conflict(`This ${reg.mode} registration overlaps the ${clash.mode} registration ${clash.id}`);
  for (const info of reg.information) {
    const why = await localConflict(deps, tenant, reg, info);
    if (why !== undefined) throw conflict(why);
  }
}
