// Attribute-level difference between two states of an entity (GS CIM 009 §5.8 notification triggers; guide
// §14.3 rule 3): which attribute instances were created, updated or deleted. "Updated" means a user-visible
// change: system timestamps (createdAt, modifiedAt) are ignored, everything else — value, observedAt,
// unitCode, sub-attributes… — counts. Re-sending an identical value with an identical observedAt is no change.
import type { AttrInstance, AttrMap, Entity } from '../model/entity.ts';
import { DEFAULT_DATASET } from '../model/render-entity.ts';

export type AttributeChangeKind = 'created' | 'updated' | 'deleted';

/** One attribute instance that changed; instances are told apart by datasetId (§4.5.5). */
export interface AttributeChange {
  /** Attribute FQN. */
  attr: string;
  /** The instance's datasetId; undefined for the default instance. */
  datasetId?: string;
  kind: AttributeChangeKind;
  /** The instance before the change (updated, deleted). */
  before?: AttrInstance;
  /** The instance after the change (created, updated). */
  after?: AttrInstance;
}

/** The datasetId key of an instance: `@none` for the default instance (as in the datasetId filter). */
export function datasetKey(inst: AttrInstance): string {
  return inst.datasetId ?? DEFAULT_DATASET;
}

/** Every instance-level change from `before` to `after` (null = the entity does not exist on that side). */
export function diffAttributes(before: Entity | null, after: Entity | null): AttributeChange[] {
  const prev = before?.attrs ?? {};
  const next = after?.attrs ?? {};
  const changes: AttributeChange[] = [];
  for (const attr of Object.keys(next)) {
    const old = Object.hasOwn(prev, attr) ? prev[attr] : [];
    // Write operations share the lists of attributes they did not touch (write-ops.ts `editable`).
    if (old === next[attr]) continue;
    for (const inst of next[attr]) {
      const match = old.find((o) => datasetKey(o) === datasetKey(inst));
      const datasetId = inst.datasetId === DEFAULT_DATASET ? undefined : inst.datasetId;
      if (match === undefined) changes.push(withDataset({ attr, kind: 'created', after: inst }, datasetId));
      else if (match !== inst && !sameInstance(match, inst)) changes.push(withDataset({ attr, kind: 'updated', before: match, after: inst }, datasetId));
    }
  }
  for (const attr of Object.keys(prev)) {
    const now = Object.hasOwn(next, attr) ? next[attr] : [];
    for (const inst of prev[attr]) {
      if (now.some((n) => datasetKey(n) === datasetKey(inst))) continue;
      const datasetId = inst.datasetId === DEFAULT_DATASET ? undefined : inst.datasetId;
      changes.push(withDataset({ attr, kind: 'deleted', before: inst }, datasetId));
    }
  }
  return changes;
}

function withDataset(change: AttributeChange, datasetId: string | undefined): AttributeChange {
  if (datasetId !== undefined) change.datasetId = datasetId;
  return change;
}

/** Members compared between two instances: all but the system timestamps (and `attrs`, compared by name). */
const COMPARED: readonly (keyof AttrInstance)[] = [
  'type', 'value', 'object', 'languageMap', 'vocab', 'json', 'valueList', 'objectList',
  'datasetId', 'observedAt', 'unitCode', 'objectType', 'valueType', 'expiresAt',
];

/** True when two instances differ only in createdAt/modifiedAt (at any depth). */
export function sameInstance(a: AttrInstance, b: AttrInstance): boolean {
  for (const m of COMPARED) if (!jsonEqual(a[m], b[m])) return false;
  return sameAttrMap(a.attrs, b.attrs);
}

function sameAttrMap(a: AttrMap | undefined, b: AttrMap | undefined): boolean {
  const present = (m: AttrMap | undefined): string[] => Object.keys(m ?? {}).filter((k) => (m![k]?.length ?? 0) > 0);
  const ka = present(a);
  const kb = present(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    const ia = a![k];
    const ib = b?.[k];
    if (ib === undefined || ia.length !== ib.length) return false;
    for (const inst of ia) {
      const other = ib.find((o) => datasetKey(o) === datasetKey(inst));
      if (other === undefined || !sameInstance(inst, other)) return false;
    }
  }
  return true;
}

/** Deep JSON equality; object member order is irrelevant, array order is not. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  const ka = Object.keys(oa).filter((k) => oa[k] !== undefined);
  const kb = Object.keys(ob).filter((k) => ob[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(ob, k) && jsonEqual(oa[k], ob[k]));
}
