// Renders an internal Entity as NGSI-LD normalized, concise or keyValues output (GS CIM 009 §4.5, §6.3.7,
// §6.3.11), with the `lang` filter (§4.15), projection (§4.21) and the `datasetId` filter, compacted with the
// request's TermMap (§5.5.7).
import type { JsonObject, JsonValue } from '../json.ts';
import { isJsonObject } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { AttrInstance, AttrKind, AttrMap, Entity } from './entity.ts';
import type { LangPreference } from './lang.ts';
import { pickLanguage } from './lang.ts';
import type { Projection } from './projection.ts';
import { keepsAttribute, keepsMember } from './projection.ts';

export type OutputFormat = 'normalized' | 'concise' | 'keyValues';

export interface RenderOptions {
  format: OutputFormat;
  /** Show createdAt, modifiedAt and expiresAt (entity and attribute level; entity level only for keyValues). */
  sysAttrs: boolean;
  lang?: LangPreference;
  projection?: Projection;
  /** Keep only these attribute instances; `@none` denotes the default instance. */
  datasetIds?: string[];
}

/** The datasetId token that names the default instance (§4.5.5). */
export const DEFAULT_DATASET = '@none';

const GEOMETRY_TYPES: ReadonlySet<string> = new Set([
  'Point',
  'MultiPoint',
  'LineString',
  'MultiLineString',
  'Polygon',
  'MultiPolygon',
]);

/** True for a GeoJSON geometry object (the shapes NGSI-LD allows as GeoProperty values, §4.7). */
export function isGeometry(v: JsonValue | undefined): boolean {
  return isJsonObject(v) && typeof v.type === 'string' && GEOMETRY_TYPES.has(v.type) && Array.isArray(v.coordinates);
}

interface RenderContext {
  terms: TermMap;
  opts: RenderOptions;
}

/**
 * Renders `entity` in the requested format. Member order: id, type, scope, attributes in stored order, then
 * the entity's system timestamps (sysAttrs). Returns null when the projection leaves no member at all (the
 * caller answers 404 on retrieve, drops the entity from a query). The result shares value objects with the
 * entity (values are never copied): treat it as read-only.
 */
export function renderEntity(entity: Entity, terms: TermMap, opts: RenderOptions): JsonObject | null {
  const ctx: RenderContext = { terms, opts };
  const { projection } = opts;
  const out: JsonObject = {};
  if (keepsMember(projection, 'id')) out.id = entity.id;
  if (keepsMember(projection, 'type') && entity.types.length > 0) out.type = compactOneOrMany(entity.types, terms);
  if (keepsMember(projection, 'scope') && entity.scope && entity.scope.length > 0) {
    out.scope = entity.scope.length === 1 ? entity.scope[0] : [...entity.scope];
  }
  for (const [fqn, instances] of Object.entries(entity.attrs)) {
    if (!keepsAttribute(projection, fqn)) continue;
    const kept = filterDatasets(instances, opts.datasetIds);
    if (kept.length === 0) continue;
    out[terms.compactIri(fqn)] = renderAttribute(kept, ctx);
  }
  if (Object.keys(out).length === 0) return null;
  if (opts.sysAttrs) {
    out.createdAt = entity.createdAt;
    out.modifiedAt = entity.modifiedAt;
    if (entity.expiresAt !== undefined) out.expiresAt = entity.expiresAt;
  }
  return out;
}

function filterDatasets(instances: AttrInstance[], datasetIds: string[] | undefined): AttrInstance[] {
  if (!datasetIds) return instances;
  return instances.filter((inst) => datasetIds.includes(datasetKey(inst)));
}

function datasetKey(inst: AttrInstance): string {
  return inst.datasetId ?? DEFAULT_DATASET;
}

function compactOneOrMany(iris: string | string[], terms: TermMap): string | string[] {
  if (typeof iris === 'string') return terms.compactIri(iris);
  return iris.length === 1 ? terms.compactIri(iris[0]) : iris.map((iri) => terms.compactIri(iri));
}

/** One attribute (all its instances, already filtered, at least one) in the requested format. */
function renderAttribute(instances: AttrInstance[], ctx: RenderContext): JsonValue {
  if (ctx.opts.format === 'keyValues') {
    if (instances.length === 1) return simplify(instances[0], ctx);
    const dataset: JsonObject = {};
    for (const inst of instances) dataset[datasetKey(inst)] = simplify(inst, ctx);
    return { dataset };
  }
  if (instances.length === 1) return renderInstance(instances[0], ctx, true);
  return instances.map((inst) => renderInstance(inst, ctx, false));
}

function renderSubAttributes(attrs: AttrMap | undefined, ctx: RenderContext, out: JsonObject): void {
  if (!attrs) return;
  for (const [fqn, instances] of Object.entries(attrs)) {
    if (instances.length === 0) continue;
    out[ctx.terms.compactIri(fqn)] = renderAttribute(instances, ctx);
  }
}

/** The languageMap entry selected by the `lang` filter, when there is one and this is a LanguageProperty. */
function chosenLanguage(inst: AttrInstance, ctx: RenderContext): { tag: string; value: string | string[] } | undefined {
  if (inst.type !== 'LanguageProperty' || !ctx.opts.lang || !inst.languageMap) return undefined;
  return pickLanguage(inst.languageMap, ctx.opts.lang);
}

/**
 * One instance as an element of an attribute array (normalized or concise, never collapsed to a bare value):
 * the temporal representation (§4.5.7) lists every instance this way.
 */
export function renderInstanceElement(inst: AttrInstance, terms: TermMap, opts: RenderOptions): JsonObject {
  return renderInstance(inst, { terms, opts }, false) as JsonObject;
}

/**
 * Normalized or concise rendering of one instance. `single` says the attribute has only this instance:
 * only then may concise output collapse it to a bare value (array elements must stay instance objects).
 */
function renderInstance(inst: AttrInstance, ctx: RenderContext, single: boolean): JsonValue {
  const { terms, opts } = ctx;
  const chosen = chosenLanguage(inst, ctx);
  const kind: AttrKind = chosen ? 'Property' : inst.type;
  const out: JsonObject = { type: kind };
  let valueKey: string;
  if (chosen) {
    valueKey = 'value';
    out.value = chosen.value;
    out.lang = chosen.tag;
  } else {
    valueKey = VALUE_MEMBER[inst.type];
    out[valueKey] = normalizedValue(inst, terms);
  }
  if (inst.datasetId !== undefined && inst.datasetId !== DEFAULT_DATASET) out.datasetId = inst.datasetId;
  if (inst.observedAt !== undefined) out.observedAt = inst.observedAt;
  if (inst.unitCode !== undefined) out.unitCode = inst.unitCode;
  if (inst.objectType !== undefined) out.objectType = compactOneOrMany(inst.objectType, terms);
  if (inst.valueType !== undefined) out.valueType = inst.valueType;
  renderSubAttributes(inst.attrs, ctx, out);
  if (opts.sysAttrs) {
    out.createdAt = inst.createdAt;
    out.modifiedAt = inst.modifiedAt;
    if (inst.expiresAt !== undefined) out.expiresAt = inst.expiresAt;
  }
  return opts.format === 'concise' ? toConcise(out, kind, valueKey, single) : out;
}

const VALUE_MEMBER: Record<AttrKind, string> = {
  Property: 'value',
  GeoProperty: 'value',
  Relationship: 'object',
  LanguageProperty: 'languageMap',
  VocabProperty: 'vocab',
  JsonProperty: 'json',
  ListProperty: 'valueList',
  ListRelationship: 'objectList',
};

/** The value member of a normalized instance (vocab IRIs compacted, objectList as `{"object": URI}` items). */
function normalizedValue(inst: AttrInstance, terms: TermMap): JsonValue {
  switch (inst.type) {
    case 'Property':
    case 'GeoProperty':
      return inst.value ?? null;
    case 'Relationship':
      return inst.object ?? null;
    case 'LanguageProperty':
      return inst.languageMap ?? {};
    case 'VocabProperty':
      return inst.vocab === undefined ? null : compactOneOrMany(inst.vocab, terms);
    case 'JsonProperty':
      return inst.json ?? null;
    case 'ListProperty':
      return inst.valueList ?? [];
    case 'ListRelationship':
      return (inst.objectList ?? []).map((object) => ({ object }));
  }
}

/**
 * Turns a normalized instance into its concise form (§4.5.x concise representations): `type` dropped where
 * a reader can infer it again; a lone Property/GeoProperty with no other member collapses to its value.
 * A Property value that is a JSON object or array keeps `{"value": ...}` (an object could be read as a
 * normalized attribute, an array as several instances), and a Property whose value is a geometry keeps its
 * `type` (it would otherwise be read back as a GeoProperty). ListRelationship items become bare URIs.
 */
function toConcise(out: JsonObject, kind: AttrKind, valueKey: string, single: boolean): JsonValue {
  const value = out[valueKey];
  const onlyValue = Object.keys(out).length === 2; // type + value member
  if (kind === 'Property') {
    if (single && onlyValue && (value === null || typeof value !== 'object')) return value;
    if (isGeometry(value)) return out;
  } else if (kind === 'GeoProperty') {
    if (single && onlyValue) return value;
  } else if (kind === 'ListRelationship' && Array.isArray(value)) {
    out.objectList = value.map((item) => (isJsonObject(item) ? item.object : item));
  }
  delete out.type;
  return out;
}

/** keyValues (simplified) value of one instance (§4.5.x simplified representations); sub-attributes vanish. */
function simplify(inst: AttrInstance, ctx: RenderContext): JsonValue {
  const chosen = chosenLanguage(inst, ctx);
  if (chosen) return chosen.value;
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
      return { vocab: inst.vocab === undefined ? null : compactOneOrMany(inst.vocab, ctx.terms) };
    case 'JsonProperty':
      return { json: inst.json ?? null };
  }
}
