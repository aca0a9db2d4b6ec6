// Renders temporal entities (GS CIM 009 §4.5.7 normalized/concise, §4.5.8 simplified "temporalValues";
// guide §15.4): every attribute as the array of its instances (with instanceId, and deletedAt on deletion
// instances), or as value/time pairs per kind; names compacted with the request's @context (§5.5.7).
import type { JsonObject, JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { AttrKind } from '../model/entity.ts';
import type { LangPreference } from '../model/lang.ts';
import { keepsAttribute, keepsMember, type Projection } from '../model/projection.ts';
import { renderInstanceElement } from '../model/render-entity.ts';
import { SCOPE_ATTR, type RecordedInstance, type TemporalEntity, type TimeProperty } from './model.ts';

export interface TemporalRenderOptions {
  format: 'normalized' | 'concise' | 'temporalValues';
  /** createdAt / modifiedAt (entity and instances), deletedAt of a deleted entity. */
  sysAttrs: boolean;
  lang?: LangPreference;
  projection?: Projection;
  /** The time axis of the query: the time of each temporalValues pair. */
  timeProperty: TimeProperty;
}

export function compactTypes(types: readonly string[], terms: TermMap): string | string[] {
  return types.length === 1 ? terms.compactIri(types[0]!) : types.map((t) => terms.compactIri(t));
}

/** The id, type and (with sysAttrs) timestamps of a temporal entity, as far as the projection keeps them. */
export function renderTemporalHead(entity: TemporalEntity, terms: TermMap, projection: Projection | undefined): JsonObject {
  const out: JsonObject = {};
  if (keepsMember(projection, 'id')) out.id = entity.id;
  if (keepsMember(projection, 'type') && entity.types.length > 0) out.type = compactTypes(entity.types, terms);
  return out;
}

export function addEntityTimestamps(out: JsonObject, entity: TemporalEntity): void {
  out.createdAt = entity.createdAt;
  out.modifiedAt = entity.modifiedAt;
  if (entity.deletedAt !== undefined) out.deletedAt = entity.deletedAt;
}

/** Whether the projection keeps a recorded attribute (scope is an entity member of pick/omit). */
export function keepsTemporalAttr(projection: Projection | undefined, attr: string): boolean {
  return attr === SCOPE_ATTR ? keepsMember(projection, 'scope') : keepsAttribute(projection, attr);
}

const PAIRS_MEMBER: Record<AttrKind, string> = {
  Property: 'values',
  GeoProperty: 'values',
  Relationship: 'objects',
  ListProperty: 'valueLists',
  ListRelationship: 'objectLists',
  LanguageProperty: 'languageMaps',
  VocabProperty: 'vocabs',
  JsonProperty: 'jsons',
};

function compactVocab(v: string | string[], terms: TermMap): string | string[] {
  return typeof v === 'string' ? terms.compactIri(v) : v.map((x) => terms.compactIri(x));
}

/** The first element of a temporalValues pair: bare for the value kinds, wrapped for the others (§4.5.8). */
function pairValue(inst: RecordedInstance, terms: TermMap): JsonValue {
  switch (inst.type) {
    case 'Property':
    case 'GeoProperty':
      return inst.value ?? null;
    case 'Relationship':
      return inst.object ?? null;
    case 'ListProperty':
      return inst.valueList ?? [];
    case 'ListRelationship':
      return inst.objectList ?? [];
    case 'LanguageProperty':
      return { languageMap: inst.languageMap ?? {} };
    case 'VocabProperty':
      return { vocab: inst.vocab === undefined ? null : compactVocab(inst.vocab, terms) };
    case 'JsonProperty':
      return { json: inst.json ?? null };
  }
}

function renderPairs(instances: readonly RecordedInstance[], terms: TermMap, timeProperty: TimeProperty): JsonValue {
  const groups = new Map<string, JsonObject>();
  for (const inst of instances) {
    const key = `${inst.datasetId ?? ''}\u0000${inst.type}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { type: inst.type, [PAIRS_MEMBER[inst.type]]: [] };
      if (inst.datasetId !== undefined) group.datasetId = inst.datasetId;
      groups.set(key, group);
    }
    (group[PAIRS_MEMBER[inst.type]] as JsonValue[]).push([pairValue(inst, terms), inst[timeProperty] ?? null]);
  }
  const all = [...groups.values()];
  if (all.length === 0) return { type: 'Property', values: [] };
  return all.length === 1 ? all[0]! : all;
}

function renderInstances(instances: readonly RecordedInstance[], terms: TermMap, opts: TemporalRenderOptions): JsonValue {
  const format = opts.format === 'concise' ? 'concise' : 'normalized';
  return instances.map((inst) => {
    const out = renderInstanceElement(inst, terms, { format, sysAttrs: opts.sysAttrs, lang: opts.lang });
    out.instanceId = inst.instanceId;
    if (inst.deletedAt !== undefined) out.deletedAt = inst.deletedAt;
    return out;
  });
}

/**
 * One temporal entity: id, type, then each recorded attribute (an attribute left with no instance in the
 * answer's range is `[]`), then entity timestamps with sysAttrs. Null when the projection leaves nothing.
 */
export function renderTemporalEntity(
  entity: TemporalEntity,
  attrs: Readonly<Record<string, readonly RecordedInstance[]>>,
  terms: TermMap,
  opts: TemporalRenderOptions,
): JsonObject | null {
  const out = renderTemporalHead(entity, terms, opts.projection);
  for (const [attr, instances] of Object.entries(attrs)) {
    if (!keepsTemporalAttr(opts.projection, attr)) continue;
    out[terms.compactIri(attr)] = opts.format === 'temporalValues' ? renderPairs(instances, terms, opts.timeProperty) : renderInstances(instances, terms, opts);
  }
  if (Object.keys(out).length === 0) return null;
  if (opts.sysAttrs) addEntityTimestamps(out, entity);
  return out;
}
