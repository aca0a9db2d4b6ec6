// Building stored attribute instances from drafts, and the helpers every write operation shares: datasetId
// lookup (§4.5.5), createdAt preservation (§4.8), RFC 7396 merge of JSON values with NGSI-LD Null (§5.5.12).
import { badRequestData } from '../errors.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import { isJsonObject } from '../json.ts';
import type { AttrInstance, AttrMap } from './entity.ts';
import { NGSI_LD_NULL } from './entity.ts';
import type { AttrDraft, DraftMap } from './drafts.ts';
import { LANG_STRING_IRI, VALUE_MEMBER, VALUE_MEMBERS, kindAllows } from './attr-rules.ts';

export function applyFail(label: string, msg: string): never {
  throw badRequestData(`Attribute '${label}': ${msg}`, 'Invalid attribute');
}

/**
 * RFC 7396 JSON Merge Patch where the NGSI-LD Null (not JSON null, which is data) deletes a key. A
 * non-object patch replaces the target; merging into a non-object starts from `{}`, which also strips
 * markers from values that create something new.
 */
export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return structuredClone(patch);
  const out: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === NGSI_LD_NULL) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Index of the instance with this datasetId (undefined: the default instance), or -1. */
export function findInstance(list: readonly AttrInstance[] | undefined, datasetId: string | undefined): number {
  return list === undefined ? -1 : list.findIndex((i) => i.datasetId === datasetId);
}

/** A language map with the entries sent as NGSI-LD Null removed from `base`. */
export function mergeLanguageMap(
  base: Record<string, string | string[]> | undefined,
  patch: Record<string, string | string[]>,
): Record<string, string | string[]> {
  const out = { ...(base ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === NGSI_LD_NULL) delete out[k];
    else out[k] = structuredClone(v);
  }
  return out;
}

/** Copies the value member of the draft's kind onto `inst` (markers stripped, values cloned). */
export function copyValue(inst: AttrInstance, d: AttrDraft): void {
  if (d.value !== undefined) inst.value = mergePatch(undefined, d.value);
  if (d.object !== undefined) inst.object = structuredClone(d.object);
  if (d.languageMap !== undefined) inst.languageMap = mergeLanguageMap(undefined, d.languageMap);
  if (d.vocab !== undefined) inst.vocab = structuredClone(d.vocab);
  if (d.json !== undefined) inst.json = mergePatch(undefined, d.json) as JsonObject | JsonValue[];
  if (d.valueList !== undefined) inst.valueList = structuredClone(d.valueList);
  if (d.objectList !== undefined) inst.objectList = [...d.objectList];
}

/** Sets the optional members the draft carries and removes the ones it sends as NGSI-LD Null. */
export function applyMeta(inst: AttrInstance, d: AttrDraft): void {
  if (d.datasetId !== undefined) inst.datasetId = d.datasetId;
  if (d.observedAt !== undefined) inst.observedAt = d.observedAt;
  if (d.unitCode !== undefined) inst.unitCode = d.unitCode;
  if (d.objectType !== undefined) inst.objectType = structuredClone(d.objectType);
  if (d.valueType !== undefined) inst.valueType = d.valueType;
  if (d.expiresAt !== undefined) inst.expiresAt = d.expiresAt;
  for (const m of d.unset ?? []) {
    if (m === 'observedAt' || m === 'unitCode' || m === 'objectType' || m === 'valueType' || m === 'expiresAt') delete inst[m];
  }
}

/** True when the draft carries the value member of its kind. */
export function hasValue(d: AttrDraft): boolean {
  return d.type !== undefined && d[VALUE_MEMBER[d.type]] !== undefined;
}

/**
 * A new stored instance from a complete draft. With `prev` (the instance it replaces) the createdAt of the
 * instance, and of sub-attribute instances that survive by name and datasetId, is kept.
 */
export function materialize(d: AttrDraft, now: string, label: string, prev?: AttrInstance): AttrInstance {
  if (d.type === undefined || !hasValue(d)) applyFail(label, 'cannot be created without a value');
  const inst: AttrInstance = { type: d.type, createdAt: prev?.createdAt ?? now, modifiedAt: now };
  copyValue(inst, d);
  applyMeta(inst, d);
  if (d.attrs !== undefined) {
    const attrs = materializeMap(d.attrs, now, label, prev?.attrs);
    if (Object.keys(attrs).length > 0) inst.attrs = attrs;
  }
  return inst;
}

/** Stored instances for a whole draft map; deletion drafts are skipped. */
export function materializeMap(drafts: DraftMap, now: string, label: string, prev?: AttrMap): AttrMap {
  const out: AttrMap = {};
  for (const [fqn, list] of Object.entries(drafts)) {
    const before = prev?.[fqn];
    const instances = list
      .filter((d) => d.remove !== true)
      .map((d) => {
        const i = findInstance(before, d.datasetId);
        return materialize(d, now, `${label}.${fqn}`, i >= 0 ? before?.[i] : undefined);
      });
    if (instances.length > 0) out[fqn] = instances;
  }
  return out;
}

/** Re-checks kind rules on an instance produced by patching (merge, partial update). */
export function checkShape(inst: AttrInstance, label: string): void {
  const own = VALUE_MEMBER[inst.type];
  for (const m of VALUE_MEMBERS) {
    if (m !== own && inst[m] !== undefined) applyFail(label, `a ${inst.type} cannot have '${m}'`);
  }
  if (inst[own] === undefined) applyFail(label, `a ${inst.type} must have '${own}'`);
  for (const m of ['unitCode', 'objectType', 'valueType'] as const) {
    if (inst[m] !== undefined && !kindAllows(inst.type, m)) applyFail(label, `a ${inst.type} cannot have '${m}'`);
  }
  if (inst.type === 'LanguageProperty' && inst.valueType !== undefined && ![LANG_STRING_IRI, 'langString', 'rdf:langString'].includes(inst.valueType)) {
    applyFail(label, 'the valueType of a LanguageProperty must be langString');
  }
}

/** Replaces, adds or (for deletion drafts) removes sub-attribute instances wholesale, keeping createdAt. */
export function replaceSubAttributes(inst: AttrInstance, drafts: DraftMap, now: string, label: string): void {
  const attrs: AttrMap = inst.attrs ?? {};
  for (const [fqn, list] of Object.entries(drafts)) {
    const instances = attrs[fqn] ?? [];
    for (const d of list) {
      const i = findInstance(instances, d.datasetId);
      if (d.remove === true) {
        if (i >= 0) instances.splice(i, 1);
      } else if (i >= 0) {
        instances[i] = materialize(d, now, `${label}.${fqn}`, instances[i]);
      } else {
        instances.push(materialize(d, now, `${label}.${fqn}`));
      }
    }
    if (instances.length > 0) attrs[fqn] = instances;
    else delete attrs[fqn];
  }
  if (Object.keys(attrs).length > 0) inst.attrs = attrs;
  else delete inst.attrs;
}
