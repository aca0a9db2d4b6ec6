// Reading entities a context source returned (GS CIM 009 §5.12; guide §16.3): a normalized NGSI-LD entity
// validated with the same rules as a local create, names expanded with the request's @context; anything
// else makes the source's payload unusable (NGSILD-Warning 111) and none of it is merged. Remote data whose
// expiresAt has passed is dropped. Pure.
import { compareDateTime } from '../datetime.ts';
import { NgsiError } from '../errors.ts';
import { isJsonObject, type JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { Entity } from '../model/entity.ts';
import { newEntity, parseEntity, type ModelLimits } from '../model/write-ops.ts';

export type RemoteRead<T> = { ok: true; value: T } | { ok: false; reason: string };

function entityOf(body: JsonValue, terms: TermMap, limits: ModelLimits, now: string): Entity {
  if (!isJsonObject(body)) throw new NgsiError('BadRequestData', 'an entity is not a JSON object');
  const { '@context': _ctx, ...rest } = body;
  const entity = newEntity(parseEntity(rest, terms, limits, 'create'), now);
  return entity;
}

const live = (e: Entity, now: string): boolean => e.expiresAt === undefined || compareDateTime(e.expiresAt, now) > 0;

function reason(e: unknown): string {
  return e instanceof NgsiError ? `unusable payload: ${e.detail}` : `unusable payload: ${e instanceof Error ? e.message : String(e)}`;
}

/** The entity of a Retrieve Entity answer; `expectedId` must be its id. Null when it has expired. */
export function readRemoteEntity(body: JsonValue | undefined, expectedId: string, terms: TermMap, limits: ModelLimits, now: string): RemoteRead<Entity | null> {
  try {
    if (body === undefined) return { ok: false, reason: 'unusable payload: empty answer' };
    const e = entityOf(body, terms, limits, now);
    if (e.id !== expectedId) return { ok: false, reason: `unusable payload: answered entity ${e.id} for ${expectedId}` };
    return { ok: true, value: live(e, now) ? e : null };
  } catch (e) {
    return { ok: false, reason: reason(e) };
  }
}

/** The entities of a Query Entities answer (a JSON array of entities). */
export function readRemoteEntities(body: JsonValue | undefined, terms: TermMap, limits: ModelLimits, now: string): RemoteRead<Entity[]> {
  if (!Array.isArray(body)) return { ok: false, reason: 'unusable payload: a query answer is not a JSON array' };
  try {
    return { ok: true, value: body.map((b) => entityOf(b, terms, limits, now)).filter((e) => live(e, now)) };
  } catch (e) {
    return { ok: false, reason: reason(e) };
  }
}
