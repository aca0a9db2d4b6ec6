// Reading temporal answers of context sources (GS CIM 009 §5.7.3, §5.7.4, §6.3.10; guide §15.3, §16.3): a
// normalized EntityTemporal (each attribute an array of instances) validated with the same rules as a
// temporal create, names expanded with the request's @context. The source's own instance identity and
// timestamps are kept (they are what the window and the merge compare); anything invalid makes the whole
// payload unusable (NGSILD-Warning 111). Also the Content-Range of a source's 206. Pure.
import { NgsiError } from '../errors.ts';
import { parseDateTime } from '../datetime.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { ModelLimits } from '../model/write-ops.ts';
import { attributeFqn } from '../model/parse-attribute.ts';
import { parseTemporalEntity, temporalInstances } from '../temporal/temporal-input.ts';
import { SCOPE_ATTR, type RecordedInstance, type TemporalEntityInstances } from '../temporal/model.ts';
import type { RemoteRead } from './remote-entity.ts';

/** Members of a temporal entity that are not attributes. */
const NON_ATTRIBUTES = new Set(['@context', 'id', '@id', 'type', '@type', 'createdAt', 'modifiedAt', 'deletedAt', 'expiresAt']);

/** The raw instance objects of each attribute, in payload order (as parseTemporalEntity reads them). */
function rawInstances(body: JsonObject, terms: TermMap): Map<string, JsonValue[]> {
  const out = new Map<string, JsonValue[]>();
  for (const [k, v] of Object.entries(body)) {
    if (NON_ATTRIBUTES.has(k)) continue;
    if (k === 'scope' && (typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string')))) continue;
    const fqn = k === 'scope' ? SCOPE_ATTR : attributeFqn(k, terms, k);
    const items = Array.isArray(v) && v.every(isJsonObject) ? v : [v];
    out.set(fqn, [...(out.get(fqn) ?? []), ...items]);
  }
  return out;
}

/** The source's identity and timestamps of an instance, where it gave valid ones. */
function keepSourceMembers(inst: RecordedInstance, raw: JsonValue | undefined, index: () => string): RecordedInstance {
  const out = { ...inst };
  const src = isJsonObject(raw) ? raw : {};
  out.instanceId = typeof src.instanceId === 'string' && src.instanceId !== '' ? src.instanceId : index();
  for (const member of ['createdAt', 'modifiedAt'] as const) {
    const t = parseDateTime(src[member]);
    if (t !== null) out[member] = t;
  }
  if (out.deletedAt !== undefined) {
    const t = parseDateTime(src.deletedAt);
    if (t !== null) out.deletedAt = t;
  }
  return out;
}

function temporalEntityOf(body: JsonValue, terms: TermMap, limits: ModelLimits, now: string): TemporalEntityInstances {
  if (!isJsonObject(body)) throw new NgsiError('BadRequestData', 'a temporal entity is not a JSON object');
  const parsed = parseTemporalEntity(body, terms, limits, 'create');
  const id = parsed.id!;
  let n = 0;
  // An instance without a source instanceId gets a stable one, so the same answer merges identically.
  const fallbackId = () => `urn:ngsi-ld:remote-instance:${encodeURIComponent(id)}:${n++}`;
  const raws = rawInstances(body, terms);
  const attrs: Record<string, RecordedInstance[]> = {};
  const seen = new Map<string, number>();
  for (const { attr, instance } of temporalInstances(parsed, now, () => '')) {
    const i = seen.get(attr) ?? 0;
    seen.set(attr, i + 1);
    (attrs[attr] ??= []).push(keepSourceMembers(instance, raws.get(attr)?.[i], fallbackId));
  }
  const createdAt = parseDateTime(body.createdAt) ?? now;
  const modifiedAt = parseDateTime(body.modifiedAt) ?? now;
  const entity: TemporalEntityInstances['entity'] = { id, types: parsed.types, createdAt, modifiedAt };
  if (parsed.scope !== undefined) entity.scope = parsed.scope;
  const deletedAt = parseDateTime(body.deletedAt);
  if (deletedAt !== null) entity.deletedAt = deletedAt;
  return { entity, attrs, truncated: false };
}

function reason(e: unknown): string {
  return e instanceof NgsiError ? `unusable payload: ${e.detail}` : `unusable payload: ${e instanceof Error ? e.message : String(e)}`;
}

/** The entity of a Retrieve Temporal Evolution answer; `expectedId` must be its id. */
export function readRemoteTemporalEntity(body: JsonValue | undefined, expectedId: string, terms: TermMap, limits: ModelLimits, now: string): RemoteRead<TemporalEntityInstances> {
  try {
    if (body === undefined) return { ok: false, reason: 'unusable payload: empty answer' };
    const e = temporalEntityOf(body, terms, limits, now);
    if (e.entity.id !== expectedId) return { ok: false, reason: `unusable payload: answered entity ${e.entity.id} for ${expectedId}` };
    return { ok: true, value: e };
  } catch (e) {
    return { ok: false, reason: reason(e) };
  }
}

/** The entities of a Query Temporal Evolution answer (a JSON array). */
export function readRemoteTemporalEntities(body: JsonValue | undefined, terms: TermMap, limits: ModelLimits, now: string): RemoteRead<TemporalEntityInstances[]> {
  if (!Array.isArray(body)) return { ok: false, reason: 'unusable payload: a temporal query answer is not a JSON array' };
  try {
    return { ok: true, value: body.map((b) => temporalEntityOf(b, terms, limits, now)) };
  } catch (e) {
    return { ok: false, reason: reason(e) };
  }
}

/** An instant of a Content-Range: the text as given and its epoch milliseconds. */
export interface RangeStamp {
  ms: number;
  text: string;
}

/**
 * The end of a `Content-Range: date-time <start>-<end>/<size>` (§6.3.10): where the party cut its instances.
 * DateTimes hold '-' themselves, so the split is the one '-' with a valid DateTime on both sides. Null when
 * the header is absent or not of that form.
 */
export function contentRangeEnd(header: string | undefined): RangeStamp | null {
  if (header === undefined) return null;
  const m = /^\s*date-time\s+(.+)\/[^/]*$/.exec(header);
  if (m === null) return null;
  const range = m[1]!.trim();
  for (let i = range.indexOf('-'); i > 0; i = range.indexOf('-', i + 1)) {
    const start = parseDateTime(range.slice(0, i));
    const end = range.slice(i + 1);
    if (start !== null && parseDateTime(end) !== null) return { ms: Date.parse(end), text: end };
  }
  return null;
}
