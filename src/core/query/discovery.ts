// Type and attribute discovery (GS CIM 009 §5.7.5–5.7.10): the usage rows every store computes in SQL, and
// their reference computation from entities.
import type { AttrKind, Entity } from '../model/entity.ts';

/**
 * One row per (entity type, attribute, attribute kind) in use: how many entities of that type hold that
 * attribute with that kind, and how many instances they hold. Plus one row per type with `attr` null:
 * the number of entities of the type.
 */
export interface DiscoveryRow {
  type: string;
  attr: string | null;
  kind: AttrKind | null;
  entities: number;
  instances: number;
}

const key = (r: Pick<DiscoveryRow, 'type' | 'attr' | 'kind'>): string => JSON.stringify([r.type, r.attr, r.kind]);

/** The reference computation; rows sorted by type, attr (null first), kind. */
export function summarizeEntities(entities: readonly Entity[]): DiscoveryRow[] {
  const rows = new Map<string, DiscoveryRow>();
  const bump = (type: string, attr: string | null, kind: AttrKind | null, instances: number) => {
    const k = key({ type, attr, kind });
    const row = rows.get(k) ?? { type, attr, kind, entities: 0, instances: 0 };
    row.entities += 1;
    row.instances += instances;
    rows.set(k, row);
  };
  for (const e of entities) {
    for (const type of new Set(e.types)) {
      bump(type, null, null, 0);
      for (const [attr, instances] of Object.entries(e.attrs)) {
        const byKind = new Map<AttrKind, number>();
        for (const i of instances) byKind.set(i.type, (byKind.get(i.type) ?? 0) + 1);
        for (const [kind, n] of byKind) bump(type, attr, kind, n);
      }
    }
  }
  return sortDiscoveryRows([...rows.values()]);
}

export function sortDiscoveryRows(rows: DiscoveryRow[]): DiscoveryRow[] {
  const cmp = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);
  return rows.sort((a, b) => cmp(a.type, b.type) || cmp(a.attr, b.attr) || cmp(a.kind, b.kind));
}
