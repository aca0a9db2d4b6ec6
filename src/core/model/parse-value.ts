// Validation of single attribute members on input (GS CIM 009 §4.5.2–4.5.22, §4.6.3, §4.7, §5.2.1;
// guide §5.2, §5.4, §5.7): URIs, language maps, vocab names, JSON content, GeoJSON, DateTimes.
import { badRequestData } from '../errors.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import { isJsonObject } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { isAbsoluteUri, isValidName } from '../names.ts';
import { parseDateTime } from '../datetime.ts';
import type { AttrKind } from './entity.ts';
import { NGSI_LD_NULL } from './entity.ts';
import { LANG_STRING_IRI } from './attr-rules.ts';
import type { ValueMember } from './attr-rules.ts';
import { coerceGeometry, validateGeometry } from './geojson.ts';

/** Throws BadRequestData naming the attribute (`label` is its path as written, e.g. `temp.accuracy`). */
export function fail(label: string, msg: string): never {
  throw badRequestData(`Attribute '${label}': ${msg}`, 'Invalid attribute');
}

/** What may appear inside JSON content (Property values, list items, JsonProperty json). */
export interface ContentRules {
  /** NGSI-LD Null accepted as the value of an object key (merge only: deletes that key). */
  nullInObjects: boolean;
  /** `@context` keys refused (JSON-LD would process them); JsonProperty content is opaque and exempt. */
  refuseContext: boolean;
}

const MAX_DEPTH = 100;

/**
 * Checks the content *below* the top of a JSON value: the NGSI-LD Null only where the rules allow it (never
 * inside arrays), no embedded `@context`, bounded nesting. JSON null below the top is ordinary data.
 */
export function checkJsonContent(v: JsonValue, rules: ContentRules, label: string, member: string): void {
  const walk = (x: JsonValue, depth: number): void => {
    if (depth > MAX_DEPTH) fail(label, `'${member}' is nested more than ${MAX_DEPTH} levels deep`);
    if (Array.isArray(x)) {
      for (const item of x) {
        if (item === NGSI_LD_NULL) fail(label, `NGSI-LD Null is not allowed inside an array in '${member}'`);
        walk(item, depth + 1);
      }
    } else if (isJsonObject(x)) {
      for (const [k, item] of Object.entries(x)) {
        if (k === '@context' && rules.refuseContext) fail(label, `an embedded @context is not allowed (in '${member}')`);
        if (item === NGSI_LD_NULL && !rules.nullInObjects) fail(label, `NGSI-LD Null is not allowed inside '${member}'`);
        walk(item, depth + 1);
      }
    }
  };
  walk(v, 0);
}

/** True when `v` is the NGSI-LD Null written for the value member `member` (a deletion marker, §5.7). */
export function isDeletionValue(member: ValueMember, v: JsonValue): boolean {
  if (v === NGSI_LD_NULL) return true;
  if (member === 'languageMap') {
    return isJsonObject(v) && Object.keys(v).length === 1 && v['@none'] === NGSI_LD_NULL;
  }
  if (member === 'value' || member === 'json') return false;
  return Array.isArray(v) && v.length === 1 && v[0] === NGSI_LD_NULL;
}

/** Relationship `object`: one absolute URI or a non-empty array of them. */
export function parseRelObject(v: JsonValue, label: string): string | string[] {
  if (isAbsoluteUri(v)) return v;
  if (Array.isArray(v) && v.length > 0 && v.every((u) => isAbsoluteUri(u))) return [...(v as string[])];
  return fail(label, `'object' must be a URI or a non-empty array of URIs`);
}

/** ListRelationship `objectList`: entries are bare URIs or `{"object": URI}`; stored as URIs. */
export function parseObjectList(v: JsonValue, label: string): string[] {
  if (!Array.isArray(v)) fail(label, `'objectList' must be an array`);
  return v.map((entry, i) => {
    if (isAbsoluteUri(entry)) return entry;
    if (isJsonObject(entry) && isAbsoluteUri(entry.object)) {
      const extra = Object.keys(entry).filter((k) => k !== 'object');
      if (extra.length === 0) return entry.object;
    }
    return fail(label, `'objectList' entry ${i} must be a URI or {"object": URI}`);
  });
}

const LANG_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;

/** True for a language tag usable as a languageMap key (BCP 47 shape) or `@none`. */
export function isLanguageKey(k: string): boolean {
  return k === '@none' || LANG_TAG.test(k);
}

/**
 * LanguageProperty `languageMap`: keys are language tags or `@none`, values strings or arrays of strings.
 * With `allowNullEntries` (merge) an entry may be NGSI-LD Null, meaning "remove this language".
 */
export function parseLanguageMap(v: JsonValue, label: string, allowNullEntries: boolean): Record<string, string | string[]> {
  if (!isJsonObject(v)) fail(label, `'languageMap' must be an object of language tag → string`);
  const out: Record<string, string | string[]> = {};
  for (const [k, s] of Object.entries(v)) {
    if (!isLanguageKey(k)) fail(label, `'${k}' is not a language tag`);
    if (s === NGSI_LD_NULL && !allowNullEntries) fail(label, `NGSI-LD Null is not allowed in 'languageMap' here`);
    if (typeof s === 'string') out[k] = s;
    else if (Array.isArray(s) && s.every((x) => typeof x === 'string' && x !== NGSI_LD_NULL)) out[k] = [...(s as string[])];
    else fail(label, `languageMap entry '${k}' must be a string or an array of strings`);
  }
  return out;
}

/** VocabProperty `vocab`: a name or a non-empty array of names, each expanded to an IRI. */
export function parseVocab(v: JsonValue, terms: TermMap, label: string): string | string[] {
  const one = (x: JsonValue): string => {
    if (typeof x !== 'string' || x === NGSI_LD_NULL || !(isValidName(x) || isAbsoluteUri(x))) {
      return fail(label, `'vocab' must hold names or IRIs`);
    }
    return terms.expandTerm(x);
  };
  if (Array.isArray(v)) {
    if (v.length === 0) fail(label, `'vocab' must not be an empty array`);
    return v.map(one);
  }
  return one(v);
}

/** True when `v` can be read as vocab names (used to pre-expand keyValues merge values). */
export function looksLikeVocab(v: JsonValue): boolean {
  const ok = (x: JsonValue): boolean => typeof x === 'string' && x !== NGSI_LD_NULL && (isValidName(x) || isAbsoluteUri(x));
  return Array.isArray(v) ? v.length > 0 && v.every(ok) : ok(v);
}

/** JsonProperty `json`: a JSON object or array, stored verbatim (never expanded). */
export function parseJsonMember(v: JsonValue, label: string, nullInObjects: boolean): JsonObject | JsonValue[] {
  if (!isJsonObject(v) && !Array.isArray(v)) fail(label, `'json' must be a JSON object or array`);
  checkJsonContent(v, { nullInObjects, refuseContext: false }, label, 'json');
  return structuredClone(v);
}

/** GeoProperty `value`: a GeoJSON geometry (object, or a string holding one, §4.7.2). */
export function parseGeoValue(v: JsonValue, maxVertices: number, label: string): JsonObject {
  const g = coerceGeometry(v);
  const problem = validateGeometry(g, maxVertices);
  if (problem !== null) fail(label, `GeoProperty value is not a valid GeoJSON geometry (${problem})`);
  checkJsonContent(g, { nullInObjects: false, refuseContext: true }, label, 'value');
  return structuredClone(g as JsonObject);
}

/** `datasetId`: a URI; `@none` denotes the default instance (returned as undefined). Never nullable. */
export function parseDatasetId(v: JsonValue, label: string): string | undefined {
  if (v === '@none') return undefined;
  if (v === NGSI_LD_NULL) fail(label, `a datasetId cannot be removed (NGSI-LD Null is not allowed)`);
  if (!isAbsoluteUri(v)) fail(label, `datasetId must be a URI`);
  return v;
}

/** `observedAt` / `expiresAt`: a UTC DateTime string. */
export function parseDateTimeMember(v: JsonValue, label: string, member: string): string {
  const dt = parseDateTime(v);
  if (dt === null) fail(label, `'${member}' must be a UTC DateTime (YYYY-MM-DDThh:mm:ss[.ffffff]Z)`);
  return dt;
}

/** `unitCode`: a non-empty string (a UN/CEFACT code). */
export function parseUnitCode(v: JsonValue, label: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(label, `'unitCode' must be a non-empty string`);
  return v;
}

/** `objectType` [1.8]: a type name or a non-empty array of them, expanded. */
export function parseObjectType(v: JsonValue, terms: TermMap, label: string): string | string[] {
  const one = (x: JsonValue): string => {
    if (!isValidName(x)) return fail(label, `'objectType' must hold type names`);
    return terms.expandTerm(x);
  };
  if (Array.isArray(v)) {
    if (v.length === 0) fail(label, `'objectType' must not be an empty array`);
    return v.map(one);
  }
  return one(v);
}

/** `valueType` [1.9]: a name, stored as written; on a LanguageProperty it must be `langString`. */
export function parseValueType(v: JsonValue, kind: AttrKind | undefined, label: string): string {
  if (!isValidName(v)) fail(label, `'valueType' must be a type name`);
  if (kind === 'LanguageProperty' && v !== 'langString' && v !== LANG_STRING_IRI && v !== 'rdf:langString') {
    fail(label, `the valueType of a LanguageProperty must be langString`);
  }
  return v;
}
