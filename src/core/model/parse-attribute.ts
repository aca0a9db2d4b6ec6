// Parses one attribute of an NGSI-LD input payload — normalized or concise, all 8 kinds, multi-instance,
// sub-attributes at any depth — into validated drafts (GS CIM 009 §4.5, §5.2, §5.5.4; guide §5.1–5.7).
//
// Concise classifier (guide §5.3): an array of instance-looking objects is a multi-attribute; an object
// with `type` = a kind is normalized, with `type` = a geometry name and `coordinates` a GeoProperty, with
// any other `type` ambiguous (400); an object without `type` takes its kind from its value member; an
// object with neither is a Property value — except that an object carrying only instance metadata
// (`observedAt`, `unitCode`, `datasetId`, ...) is a patch in merge and 400 elsewhere (decision: such a
// payload is far more likely a forgotten `value` than a Property whose value has those keys). In merge,
// an untyped object without value member is a patch of the existing instance (its keys sub-attributes,
// as RFC 7396 over the normalized form implies) and a concise Property value when nothing exists yet.
import { NgsiError } from '../errors.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import { isJsonObject } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { isValidName } from '../names.ts';
import type { AttrKind } from './entity.ts';
import { NGSI_LD_NULL } from './entity.ts';
import type { AttrDraft, DraftMap, ModelLimits } from './drafts.ts';
import type { ValueMember } from './attr-rules.ts';
import {
  GEO_ATTRIBUTE_IRIS,
  IGNORED_MEMBERS,
  KIND_OF_MEMBER,
  META_MEMBERS,
  NGSILDPROOF_IRI,
  OUTPUT_ONLY_MEMBERS,
  PROOF_ONLY_MEMBERS,
  RESERVED_ATTR_IRIS,
  RESERVED_ATTR_NAMES,
  VALUE_MEMBER,
  VALUE_MEMBERS,
  kindAllows,
  kindOfType,
} from './attr-rules.ts';
import { GEOMETRY_TYPES, isGeometryLike } from './geojson.ts';
import {
  checkJsonContent,
  fail,
  isDeletionValue,
  looksLikeVocab,
  parseDatasetId,
  parseDateTimeMember,
  parseGeoValue,
  parseJsonMember,
  parseLanguageMap,
  parseObjectList,
  parseObjectType,
  parseRelObject,
  parseUnitCode,
  parseValueType,
  parseVocab,
} from './parse-value.ts';

/** Which operation the payload belongs to; decides where NGSI-LD Null and valueless instances may appear. */
export type ParseMode = 'create' | 'replace' | 'append' | 'update' | 'merge' | 'partial';

export interface AttrParseContext {
  terms: TermMap;
  limits: ModelLimits;
  mode: ParseMode;
}

/** NGSI-LD Null accepted as a whole-instance deletion marker (§5.7). */
const deletes = (mode: ParseMode): boolean => mode === 'update' || mode === 'merge';
/** Instances without a value member accepted: they patch an existing instance. */
const patches = (mode: ParseMode): boolean => mode === 'merge' || mode === 'partial';
/** Sub-attributes of a partial update are replaced whole (or deleted), like in Update Attributes. */
const subMode = (mode: ParseMode): ParseMode => (mode === 'partial' ? 'update' : mode);

/**
 * Validates an attribute or sub-attribute name as written and expands it. Reserved core terms (by short name
 * or by IRI) are refused; `entityIdSealed`/`entityTypeSealed` only directly inside `ngsildproof`.
 */
export function attributeFqn(name: string, terms: TermMap, label: string, parentFqn?: string): string {
  if (RESERVED_ATTR_NAMES.has(name)) fail(label, `'${name}' is a reserved core term and cannot name an attribute`);
  if (!isValidName(name)) fail(label, `'${name}' is not a valid attribute name`);
  if (PROOF_ONLY_MEMBERS.has(name) && parentFqn !== NGSILDPROOF_IRI) fail(label, `'${name}' is allowed only inside ngsildproof`);
  const fqn = terms.expandTerm(name);
  if (RESERVED_ATTR_IRIS.has(fqn)) fail(label, `'${name}' expands to the reserved core IRI ${fqn}`);
  return fqn;
}

/** Rejects two instances with one datasetId, or two default instances, in one attribute of one payload. */
export function checkDatasets(drafts: readonly AttrDraft[], label: string): void {
  const seen = new Set<string>();
  for (const d of drafts) {
    const key = d.datasetId ?? '@none';
    if (seen.has(key)) {
      fail(label, d.datasetId === undefined ? 'more than one default instance (no datasetId or "@none")' : `two instances with datasetId ${key}`);
    }
    seen.add(key);
  }
}

/** Adds drafts for `fqn` to a map (an attribute may be written twice, e.g. as term and as IRI). */
export function addDrafts(map: DraftMap, fqn: string, drafts: AttrDraft[], label: string): void {
  const all = [...(map[fqn] ?? []), ...drafts];
  checkDatasets(all, label);
  map[fqn] = all;
}

function looksLikeInstance(el: JsonValue, terms: TermMap): boolean {
  if (!isJsonObject(el)) return false;
  if (typeof el.type === 'string' && kindOfType(el.type, terms) !== undefined) return true;
  return VALUE_MEMBERS.some((m) => m in el) || 'datasetId' in el;
}

/** Parses the value of one attribute member of an entity (or of an instance, for sub-attributes). */
export function parseAttribute(fqn: string, raw: JsonValue, ctx: AttrParseContext, label: string): AttrDraft[] {
  if (raw === null) fail(label, 'JSON null is not a valid attribute value');
  if (Array.isArray(raw) && raw.length > 0 && raw.every((el) => looksLikeInstance(el, ctx.terms))) {
    const drafts = raw.map((el) => parseInstanceObject(fqn, el as JsonObject, ctx, label));
    checkDatasets(drafts, label);
    return drafts;
  }
  if (isJsonObject(raw)) return [parseInstanceObject(fqn, raw, ctx, label)];
  return [parseBare(fqn, raw, ctx, label)];
}

/** A concise scalar or array: a Property (or, for location & co., a GeoJSON string). */
function parseBare(fqn: string, raw: JsonValue, ctx: AttrParseContext, label: string): AttrDraft {
  if (raw === NGSI_LD_NULL) {
    if (!deletes(ctx.mode)) fail(label, 'NGSI-LD Null is only allowed in update and merge operations');
    return { typed: false, remove: true };
  }
  if (GEO_ATTRIBUTE_IRIS.has(fqn)) {
    if (typeof raw !== 'string') fail(label, 'must be a GeoProperty');
    return { type: 'GeoProperty', typed: false, value: parseGeoValue(raw, ctx.limits.maxGeometryVertices, label) };
  }
  if (fqn === NGSILDPROOF_IRI) fail(label, 'the value of ngsildproof must be an object');
  checkJsonContent(raw, { nullInObjects: ctx.mode === 'merge', refuseContext: true }, label, 'value');
  return { type: 'Property', typed: false, value: structuredClone(raw), bare: structuredClone(raw) };
}

/** An object written for an attribute: normalized, concise with a value member, concise geometry, or a value. */
export function parseInstanceObject(fqn: string, obj: JsonObject, ctx: AttrParseContext, label: string): AttrDraft {
  if ('@context' in obj) fail(label, 'an embedded @context is not allowed below the top level');
  const t = obj.type;
  if (t !== undefined) {
    if (typeof t !== 'string') fail(label, `'type' must be a string`);
    const kind = kindOfType(t, ctx.terms);
    if (kind !== undefined) return parseMembers(fqn, obj, kind, true, ctx, label);
    if (t === 'GeometryCollection') fail(label, 'GeometryCollection is not supported');
    if (GEOMETRY_TYPES.has(t) && 'coordinates' in obj) {
      return { type: 'GeoProperty', typed: false, value: parseGeoValue(obj, ctx.limits.maxGeometryVertices, label) };
    }
    fail(label, `type '${t}' is not an attribute type (Property, Relationship, GeoProperty, LanguageProperty, VocabProperty, JsonProperty, ListProperty, ListRelationship)`);
  }
  const kind = inferKind(fqn, obj, label);
  if (kind !== undefined) return parseMembers(fqn, obj, kind, false, ctx, label);
  if (META_MEMBERS.some((m) => m in obj)) {
    if (patches(ctx.mode)) return parseMembers(fqn, obj, undefined, false, ctx, label);
    fail(label, 'has no value member (value, object, languageMap, vocab, json, valueList or objectList)');
  }
  if (ctx.mode === 'merge') {
    // RFC 7396 over the normalized entity: for an existing instance the keys are sub-attributes; for a new
    // one the object is a concise Property value. Keep both readings when both are valid.
    if (GEO_ATTRIBUTE_IRIS.has(fqn)) return parseMembers(fqn, obj, undefined, false, ctx, label);
    const asPatch = parseOrUndefined(() => parseMembers(fqn, obj, undefined, false, ctx, label));
    const draft = objectValue(fqn, obj, ctx, label);
    if (asPatch !== undefined) draft.asPatch = asPatch;
    return draft;
  }
  return objectValue(fqn, obj, ctx, label);
}

function objectValue(fqn: string, obj: JsonObject, ctx: AttrParseContext, label: string): AttrDraft {
  if (GEO_ATTRIBUTE_IRIS.has(fqn)) fail(label, 'must be a GeoProperty');
  checkJsonContent(obj, { nullInObjects: ctx.mode === 'merge', refuseContext: true }, label, 'value');
  return { type: 'Property', typed: false, value: structuredClone(obj), bare: structuredClone(obj) };
}

function parseOrUndefined(fn: () => AttrDraft): AttrDraft | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NgsiError) return undefined;
    throw e;
  }
}

/** The kind implied by the value member of an untyped object, or undefined when it has none. */
export function inferKind(fqn: string, obj: JsonObject, label: string): AttrKind | undefined {
  const present = VALUE_MEMBERS.filter((m) => m in obj);
  if (present.length > 1) fail(label, `conflicting value members: ${present.join(', ')}`);
  if (present.length === 0) return undefined;
  const m = present[0];
  if (m === 'value' && (GEO_ATTRIBUTE_IRIS.has(fqn) || isGeometryLike(obj.value))) return 'GeoProperty';
  return KIND_OF_MEMBER[m];
}

/**
 * Validates the members of one instance of the given kind (undefined: a valueless patch). Every member that
 * is not an instance member is a sub-attribute.
 */
export function parseMembers(
  fqn: string,
  obj: JsonObject,
  kind: AttrKind | undefined,
  typed: boolean,
  ctx: AttrParseContext,
  label: string,
): AttrDraft {
  if (GEO_ATTRIBUTE_IRIS.has(fqn) && kind !== undefined && kind !== 'GeoProperty') fail(label, 'must be a GeoProperty');
  const draft: AttrDraft = { typed };
  if (kind !== undefined) draft.type = kind;
  const own = kind === undefined ? undefined : VALUE_MEMBER[kind];
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'type' || IGNORED_MEMBERS.has(k)) continue;
    if ((VALUE_MEMBERS as readonly string[]).includes(k)) {
      if (k !== own) fail(label, `a ${kind ?? 'patch without a value'} cannot have '${k}'`);
      parseValueMember(draft, fqn, k as ValueMember, v, ctx, label);
    } else if ((META_MEMBERS as readonly string[]).includes(k)) {
      parseMeta(draft, k, v, kind, ctx, label);
    } else if (k === '@context') {
      fail(label, 'an embedded @context is not allowed below the top level');
    } else if (OUTPUT_ONLY_MEMBERS.has(k)) {
      fail(label, `'${k}' is an output-only member and cannot be written`);
    } else {
      const subLabel = `${label}.${k}`;
      const subFqn = attributeFqn(k, ctx.terms, subLabel, fqn);
      const subCtx = { ...ctx, mode: subMode(ctx.mode) };
      addDrafts((draft.attrs ??= {}), subFqn, parseAttribute(subFqn, v, subCtx, subLabel), subLabel);
    }
  }
  if (own !== undefined && !(own in obj) && !patches(ctx.mode)) fail(label, `a ${kind} must have '${own}'`);
  return draft;
}

function parseValueMember(draft: AttrDraft, fqn: string, member: ValueMember, v: JsonValue, ctx: AttrParseContext, label: string): void {
  if (v === null) fail(label, `JSON null is not a valid '${member}' (use NGSI-LD Null "urn:ngsi-ld:null" to delete)`);
  if (isDeletionValue(member, v)) {
    if (ctx.mode === 'partial') fail(label, 'an attribute cannot be deleted by a partial attribute update');
    if (!deletes(ctx.mode)) fail(label, 'NGSI-LD Null is only allowed in update and merge operations');
    draft.remove = true;
    return;
  }
  const merge = ctx.mode === 'merge';
  switch (member) {
    case 'value':
      if (draft.type === 'GeoProperty') {
        draft.value = parseGeoValue(v, ctx.limits.maxGeometryVertices, label);
      } else {
        if (fqn === NGSILDPROOF_IRI && !isJsonObject(v)) fail(label, 'the value of ngsildproof must be an object');
        checkJsonContent(v, { nullInObjects: merge, refuseContext: true }, label, 'value');
        draft.value = structuredClone(v);
      }
      return;
    case 'object':
      draft.object = parseRelObject(v, label);
      return;
    case 'languageMap':
      draft.languageMap = parseLanguageMap(v, label, merge);
      return;
    case 'vocab':
      draft.vocab = parseVocab(v, ctx.terms, label);
      return;
    case 'json':
      draft.json = parseJsonMember(v, label, merge);
      return;
    case 'valueList':
      if (!Array.isArray(v)) fail(label, `'valueList' must be an array`);
      checkJsonContent(v, { nullInObjects: merge, refuseContext: true }, label, 'valueList');
      draft.valueList = structuredClone(v);
      return;
    case 'objectList':
      draft.objectList = parseObjectList(v, label);
      return;
  }
}

function parseMeta(draft: AttrDraft, k: string, v: JsonValue, kind: AttrKind | undefined, ctx: AttrParseContext, label: string): void {
  if (kind !== undefined && !kindAllows(kind, k)) fail(label, `a ${kind} cannot have '${k}'`);
  if (k === 'datasetId') {
    const ds = parseDatasetId(v, label);
    if (ds !== undefined) draft.datasetId = ds;
    return;
  }
  if (v === NGSI_LD_NULL) {
    if (!patches(ctx.mode)) fail(label, `NGSI-LD Null is not allowed for '${k}' here`);
    (draft.unset ??= []).push(k);
    return;
  }
  switch (k) {
    case 'observedAt':
    case 'expiresAt':
      draft[k] = parseDateTimeMember(v, label, k);
      return;
    case 'unitCode':
      draft.unitCode = parseUnitCode(v, label);
      return;
    case 'objectType':
      draft.objectType = parseObjectType(v, ctx.terms, label);
      return;
    case 'valueType':
      draft.valueType = parseValueType(v, kind, label);
      return;
  }
}

/**
 * The body of a Partial Attribute Update (§5.6.4): one instance fragment whose `type`, if any, must be a
 * kind; only the members present will change. NGSI-LD Null may delete sub-attributes, not the attribute.
 */
export function parseAttributePatch(fqn: string, body: JsonObject, ctx: AttrParseContext, label: string): AttrDraft {
  let kind: AttrKind | undefined;
  let typed = false;
  if (body.type !== undefined) {
    if (typeof body.type !== 'string') fail(label, `'type' must be a string`);
    kind = kindOfType(body.type, ctx.terms);
    if (kind === undefined) fail(label, `type '${body.type}' is not an attribute type`);
    typed = true;
  } else {
    kind = inferKind(fqn, body, label);
  }
  return parseMembers(fqn, body, kind, typed, { ...ctx, mode: 'partial' }, label);
}

/**
 * One attribute of a keyValues merge (§5.6.17 with options=keyValues): the value is kept bare so apply can
 * fit it to the kind of an existing attribute; new attributes become Properties (GeoProperties for
 * geometries and for location & co.).
 */
export function parseSimplified(fqn: string, raw: JsonValue, ctx: AttrParseContext, label: string): AttrDraft {
  if (raw === null) fail(label, 'JSON null is not a valid attribute value');
  if (raw === NGSI_LD_NULL) return { typed: false, simplified: true, remove: true };
  checkJsonContent(raw, { nullInObjects: true, refuseContext: true }, label, 'value');
  const draft: AttrDraft = { typed: false, simplified: true, bare: structuredClone(raw) };
  if (GEO_ATTRIBUTE_IRIS.has(fqn) || isGeometryLike(raw)) {
    draft.type = 'GeoProperty';
    draft.value = parseGeoValue(raw, ctx.limits.maxGeometryVertices, label);
  } else {
    if (fqn === NGSILDPROOF_IRI && !isJsonObject(raw)) fail(label, 'the value of ngsildproof must be an object');
    draft.type = 'Property';
    draft.value = structuredClone(raw);
  }
  if (looksLikeVocab(raw)) draft.bareVocab = Array.isArray(raw) ? raw.map((x) => ctx.terms.expandTerm(x as string)) : ctx.terms.expandTerm(raw as string);
  return draft;
}
