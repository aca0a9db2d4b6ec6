// Validation of the simple members of a Context Source Registration (GS CIM 009 §5.2.9, §5.2.11 TimeInterval,
// §5.2.22 KeyValuePair, §5.2.34 RegistrationManagementInfo; guide §16.1): each rule → 400 BadRequestData
// naming the member.
import { compareDateTime, parseDateTime } from '../datetime.ts';
import { badRequestData } from '../errors.ts';
import { FRAMING_HEADERS, HEADER_NAME, HEADER_VALUE } from '../header-rules.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import { validateGeometry } from '../model/geojson.ts';
import { isAbsoluteUri, isValidScope } from '../names.ts';
import { isDuration } from '../temporal/duration.ts';

export const TITLE = 'Invalid context source registration';

export function fail(detail: string): never {
  throw badRequestData(detail, TITLE);
}

export function object(v: JsonValue, label: string): JsonObject {
  if (!isJsonObject(v)) fail(`${label} must be a JSON object`);
  return v as JsonObject;
}

/** Refuses members of `obj` outside `allowed` (typos would otherwise be stored and silently ignored). */
export function onlyMembers(obj: JsonObject, allowed: readonly string[], label: string): void {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) fail(`${label} has an unknown member "${key}" (allowed: ${allowed.join(', ')})`);
}

/** A string of at least one character. */
export function nonEmptyString(v: JsonValue, label: string): string {
  if (typeof v !== 'string' || v === '') fail(`${label} must be a non-empty string`);
  return v as string;
}

/** A non-empty array of strings. */
export function stringList(v: JsonValue, label: string): string[] {
  if (!Array.isArray(v) || v.length === 0) fail(`${label} must be a non-empty array of strings`);
  const items = v as JsonValue[];
  for (const x of items) if (typeof x !== 'string') fail(`${label} must contain only strings`);
  return items as string[];
}

/** A UTC DateTime, canonical form. */
export function dateTime(v: JsonValue, label: string): string {
  const at = parseDateTime(v);
  if (at === null) fail(`${label} ${JSON.stringify(v)} is not a UTC DateTime (YYYY-MM-DDThh:mm:ss[.sss]Z)`);
  return at as string;
}

/** `expiresAt`: a DateTime, after `now` when `requireFuture`. */
export function expiresAt(v: JsonValue, now: string, requireFuture: boolean): string {
  const at = dateTime(v, 'expiresAt');
  if (requireFuture && compareDateTime(at, now) <= 0) fail(`expiresAt ${at} is not in the future`);
  return at;
}

/** TimeInterval (§5.2.11): `startAt` required, `endAt` optional and not before `startAt`. */
export function timeInterval(v: JsonValue, label: string): JsonObject {
  const o = object(v, label);
  onlyMembers(o, ['startAt', 'endAt'], label);
  if (o.startAt === undefined) fail(`${label}.startAt is mandatory`);
  const startAt = dateTime(o.startAt, `${label}.startAt`);
  const out: JsonObject = { startAt };
  if (o.endAt !== undefined) {
    const endAt = dateTime(o.endAt, `${label}.endAt`);
    if (compareDateTime(endAt, startAt) < 0) fail(`${label}.endAt ${endAt} is before its startAt ${startAt}`);
    out.endAt = endAt;
  }
  return out;
}

/** A GeoJSON geometry (location, observationSpace, operationSpace). */
export function geometry(v: JsonValue, label: string, maxVertices: number): JsonObject {
  const problem = validateGeometry(v, maxVertices);
  if (problem !== null) fail(`${label} is not a valid GeoJSON geometry: ${problem}`);
  return v as JsonObject;
}

/** `scope`: one scope or a non-empty array of scopes (§4.18). */
export function scope(v: JsonValue): JsonValue {
  const items = typeof v === 'string' ? [v] : stringList(v, 'scope');
  for (const s of items) if (!isValidScope(s)) fail(`scope "${s}" is not a valid scope (/level/level…)`);
  return v;
}

/** `datasetId`: URIs or "@none", one or an array. */
export function datasetIds(v: JsonValue): JsonValue {
  const items = typeof v === 'string' ? [v] : stringList(v, 'datasetId');
  for (const id of items) if (id !== '@none' && !isAbsoluteUri(id)) fail(`datasetId "${id}" is neither a URI nor @none`);
  return v;
}

/** `tenant`: sent as the NGSILD-Tenant header of forwarded requests, so a safe header value. */
export function tenant(v: JsonValue): string {
  const t = nonEmptyString(v, 'tenant');
  if (t.length > 255 || t.trim() !== t || !HEADER_VALUE.test(t) || t.includes(',')) fail(`tenant ${JSON.stringify(t)} is not a usable tenant name`);
  return t;
}

/** An ISO 8601 duration (cacheDuration, refreshRate). */
export function duration(v: JsonValue, label: string): string {
  if (typeof v !== 'string' || v === '0' || !isDuration(v)) fail(`${label} ${JSON.stringify(v)} is not an ISO 8601 duration (e.g. PT10M)`);
  return v as string;
}

/** A finite number greater than 0 (milliseconds for timeout and cooldown). */
export function positive(v: JsonValue, label: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`${label} must be a number greater than 0 (got ${JSON.stringify(v)})`);
  return v as number;
}

/** `management` (§5.2.34). */
export function management(v: JsonValue): JsonObject {
  const m = object(v, 'management');
  onlyMembers(m, ['localOnly', 'cacheDuration', 'timeout', 'cooldown'], 'management');
  if (m.localOnly !== undefined && typeof m.localOnly !== 'boolean') fail('management.localOnly must be true or false');
  if (m.cacheDuration !== undefined) duration(m.cacheDuration, 'management.cacheDuration');
  if (m.timeout !== undefined) positive(m.timeout, 'management.timeout');
  if (m.cooldown !== undefined) positive(m.cooldown, 'management.cooldown');
  return m;
}

/** contextSourceInfo keys that say how to talk to the source rather than naming a header (guide §16.1). */
const SPECIAL_KEYS: ReadonlySet<string> = new Set(['accept', 'contentType', 'jsonldContext', 'ngsildConformance']);
const SOURCE_MEDIA_TYPES = ['application/json', 'application/ld+json'];
/** Headers Kend sets itself on forwarded requests: a registration cannot override them (guide §16.1). */
const RESERVED_HEADERS: ReadonlySet<string> = new Set(['ngsild-tenant', 'via', 'link', 'content-type', 'accept']);

/** `contextSourceInfo` (§5.2.22 pairs): special keys checked for their meaning, other keys as headers. */
export function contextSourceInfo(v: JsonValue): JsonValue {
  if (!Array.isArray(v)) fail('contextSourceInfo must be an array of {"key", "value"} objects');
  (v as JsonValue[]).forEach((item, i) => {
    const label = `contextSourceInfo[${i}]`;
    const pair = object(item, label);
    onlyMembers(pair, ['key', 'value'], label);
    if (typeof pair.key !== 'string' || pair.key === '') fail(`${label}.key must be a non-empty string`);
    if (typeof pair.value !== 'string') fail(`${label}.value must be a string`);
    const key = pair.key as string;
    const value = pair.value as string;
    if (SPECIAL_KEYS.has(key)) {
      if (key === 'jsonldContext' && !isAbsoluteUri(value)) fail(`${label}: jsonldContext "${value}" is not an absolute URI`);
      if (key === 'contentType' && !SOURCE_MEDIA_TYPES.includes(value)) fail(`${label}: contentType must be one of ${SOURCE_MEDIA_TYPES.join(', ')}`);
      if (key === 'accept' && ![...SOURCE_MEDIA_TYPES, 'application/geo+json'].includes(value)) {
        fail(`${label}: accept must be one of ${SOURCE_MEDIA_TYPES.join(', ')}, application/geo+json`);
      }
      return;
    }
    if (!HEADER_NAME.test(key)) fail(`${label}.key "${key}" is not a valid header name`);
    const lower = key.toLowerCase();
    if (FRAMING_HEADERS.has(lower) || RESERVED_HEADERS.has(lower)) fail(`${label}.key "${key}" is set by the broker and cannot be given (the keys accept, contentType and jsonldContext say how to talk to the source)`);
    if (!HEADER_VALUE.test(value)) fail(`${label}.value of "${key}" contains control characters`);
  });
  return v;
}
