// Merge Entity (GS CIM 009 §5.6.17, §5.5.12; guide §7.8): RFC 7396 over the normalized entity with names
// expanded — into attributes, sub-attributes and JSON-object values at any depth — where NGSI-LD Null
// deletes and untouched members survive. Also the keyValues variant, which fits each value to the kind of
// the existing attribute.
import type { JsonValue } from '../json.ts';
import { isJsonObject } from '../json.ts';
import type { AttrInstance, AttrKind, AttrMap, Entity } from './entity.ts';
import type { AttrDraft, DraftMap, EntityFragment, ModelLimits } from './drafts.ts';
import { VALUE_MEMBER, kindAllows } from './attr-rules.ts';
import {
  applyFail,
  applyMeta,
  checkShape,
  copyValue,
  findInstance,
  hasValue,
  materialize,
  mergeLanguageMap,
  mergePatch,
} from './instance-build.ts';
import { parseGeoValue, parseLanguageMap, parseObjectList, parseRelObject } from './parse-value.ts';

export interface MergeOptions {
  /** `observedAt` request parameter: set on merged instances that had one, unless the fragment sends one. */
  observedAt?: string;
  /** `lang` request parameter: a plain string sent for a LanguageProperty replaces that language's entry. */
  lang?: string;
}

interface MergeCtx {
  now: string;
  opts: MergeOptions;
  limits: ModelLimits;
}

/** Applies a merge fragment to `current`; returns a new entity (inputs are not mutated). */
export function mergeEntity(current: Entity, frag: EntityFragment, now: string, opts: MergeOptions): Entity {
  const e = structuredClone(current);
  for (const t of frag.types) if (!e.types.includes(t)) e.types.push(t);
  if (frag.scope === null) delete e.scope;
  else if (frag.scope !== undefined) e.scope = [...frag.scope];
  if (frag.expiresAt === null) delete e.expiresAt;
  else if (frag.expiresAt !== undefined) e.expiresAt = frag.expiresAt;
  mergeAttrMap(e.attrs, frag.attrs, { now, opts, limits: frag.limits }, '');
  e.modifiedAt = now;
  return e;
}

function mergeAttrMap(target: AttrMap, drafts: DraftMap, ctx: MergeCtx, prefix: string): void {
  for (const [fqn, list] of Object.entries(drafts)) {
    const label = prefix + fqn;
    const instances = target[fqn] ?? [];
    for (const d of list) {
      const i = findInstance(instances, d.datasetId);
      if (d.remove === true) {
        if (i >= 0) instances.splice(i, 1);
      } else if (i < 0) {
        instances.push(materialize(d, ctx.now, label));
      } else {
        const eff = d.asPatch ?? d;
        instances[i] = eff.simplified === true ? mergeSimplified(instances[i], eff, ctx, label) : mergeInstance(instances[i], eff, ctx, label);
      }
    }
    if (instances.length > 0) target[fqn] = instances;
    else delete target[fqn];
  }
}

/** Same value member: the kind is kept unless the client wrote a different `type`. */
function keepsKind(old: AttrKind, d: AttrDraft): boolean {
  if (d.type === undefined || d.type === old) return true;
  return !d.typed && VALUE_MEMBER[d.type] === VALUE_MEMBER[old];
}

function mergeInstance(old: AttrInstance, d: AttrDraft, ctx: MergeCtx, label: string): AttrInstance {
  let inst: AttrInstance;
  if (ctx.opts.lang !== undefined && old.type === 'LanguageProperty' && typeof d.bare === 'string') {
    inst = structuredClone(old);
    inst.languageMap = { ...old.languageMap, [ctx.opts.lang]: d.bare };
  } else if (!hasValue(d)) {
    if (d.typed && d.type !== old.type) applyFail(label, `cannot change a ${old.type} into a ${d.type} without a value`);
    inst = structuredClone(old);
  } else if (keepsKind(old.type, d)) {
    inst = structuredClone(old);
    mergeValue(inst, old, d, ctx, label);
  } else {
    inst = changeKind(old, d.type as AttrKind);
    copyValue(inst, d);
  }
  applyMeta(inst, d);
  if (d.attrs !== undefined) {
    const attrs = inst.attrs ?? {};
    mergeAttrMap(attrs, d.attrs, ctx, `${label}.`);
    if (Object.keys(attrs).length > 0) inst.attrs = attrs;
    else delete inst.attrs;
  }
  return finish(inst, old, d, ctx, label);
}

/** The members of `old` that survive a kind change (value members and kind-specific metadata do not). */
function changeKind(old: AttrInstance, kind: AttrKind): AttrInstance {
  const inst: AttrInstance = { type: kind, createdAt: old.createdAt, modifiedAt: old.modifiedAt };
  if (old.datasetId !== undefined) inst.datasetId = old.datasetId;
  if (old.observedAt !== undefined) inst.observedAt = old.observedAt;
  if (old.expiresAt !== undefined) inst.expiresAt = old.expiresAt;
  for (const m of ['unitCode', 'objectType', 'valueType'] as const) {
    const v = old[m];
    if (v !== undefined && kindAllows(kind, m)) inst[m] = structuredClone(v) as string;
  }
  if (old.attrs !== undefined) inst.attrs = structuredClone(old.attrs);
  return inst;
}

function mergeValue(inst: AttrInstance, old: AttrInstance, d: AttrDraft, ctx: MergeCtx, label: string): void {
  if (d.typed && d.type !== undefined) inst.type = d.type;
  switch (VALUE_MEMBER[inst.type]) {
    case 'value':
      if (inst.type === 'GeoProperty') {
        inst.value = parseGeoValue(d.value as JsonValue, ctx.limits.maxGeometryVertices, label);
      } else {
        inst.value = isJsonObject(old.value) ? mergePatch(old.value, d.value as JsonValue) : mergePatch(undefined, d.value as JsonValue);
      }
      return;
    case 'json':
      inst.json = mergeJson(old.json, d.json as JsonValue);
      return;
    case 'languageMap':
      inst.languageMap = mergeLanguageMap(old.languageMap, d.languageMap ?? {});
      return;
    default:
      copyValue(inst, d);
  }
}

function mergeJson(old: JsonValue | undefined, patch: JsonValue): AttrInstance['json'] {
  return (isJsonObject(old) ? mergePatch(old, patch) : mergePatch(undefined, patch)) as AttrInstance['json'];
}

/** The `observedAt` option, the kind checks, and the timestamps common to both merge flavours. */
function finish(inst: AttrInstance, old: AttrInstance, d: AttrDraft, ctx: MergeCtx, label: string): AttrInstance {
  const { observedAt } = ctx.opts;
  if (observedAt !== undefined && old.observedAt !== undefined && d.observedAt === undefined && !(d.unset ?? []).includes('observedAt')) {
    inst.observedAt = observedAt;
  }
  checkShape(inst, label);
  inst.createdAt = old.createdAt;
  inst.modifiedAt = ctx.now;
  return inst;
}

/** keyValues merge: the bare value becomes the value member of the existing attribute's kind. */
function mergeSimplified(old: AttrInstance, d: AttrDraft, ctx: MergeCtx, label: string): AttrInstance {
  const raw = d.bare as JsonValue;
  const inst = structuredClone(old);
  switch (old.type) {
    case 'Property':
      inst.value = isJsonObject(old.value) ? mergePatch(old.value, raw) : mergePatch(undefined, raw);
      break;
    case 'GeoProperty':
      inst.value = parseGeoValue(raw, ctx.limits.maxGeometryVertices, label);
      break;
    case 'Relationship':
      inst.object = parseRelObject(raw, label);
      break;
    case 'ListRelationship':
      inst.objectList = parseObjectList(raw, label);
      break;
    case 'LanguageProperty':
      if (typeof raw === 'string') inst.languageMap = { ...old.languageMap, [ctx.opts.lang ?? '@none']: raw };
      else if (isJsonObject(raw)) inst.languageMap = mergeLanguageMap(old.languageMap, parseLanguageMap(raw, label, true));
      else applyFail(label, 'a LanguageProperty takes a string or a language map');
      break;
    case 'VocabProperty':
      if (d.bareVocab === undefined) applyFail(label, 'a VocabProperty takes a name or a list of names');
      inst.vocab = structuredClone(d.bareVocab);
      break;
    case 'JsonProperty':
      if (!isJsonObject(raw) && !Array.isArray(raw)) applyFail(label, 'a JsonProperty takes a JSON object or array');
      inst.json = mergeJson(old.json, raw);
      break;
    case 'ListProperty':
      if (!Array.isArray(raw)) applyFail(label, 'a ListProperty takes an array');
      inst.valueList = structuredClone(raw);
      break;
  }
  return finish(inst, old, d, ctx, label);
}
