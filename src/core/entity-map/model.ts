// EntityMap (GS CIM 009 §5.2.39, §5.14, §5.5.9.3; guide §19): the frozen set of entity ids a query matched,
// with the registrations holding each one ("@none" = held locally); its rendering and its lifetime rules.
import type { JsonObject } from '../json.ts';
import { addPeriods } from '../temporal/buckets.ts';
import type { PeriodDuration } from '../temporal/model.ts';

/** The source of a locally held entity in `entityMap` (§5.2.39). */
export const HELD_LOCALLY = '@none';

/** Prefix of the ids Kend gives its maps. */
export const ENTITY_MAP_ID_PREFIX = 'urn:ngsi-ld:EntityMap:';

/** One candidate of a map, in the map's order. */
export interface EntityMapEntry {
  entityId: string;
  /** Registration ids holding the entity, or [HELD_LOCALLY]; never empty. */
  sources: string[];
}

/** The resource without its entries (which are paged from the store). */
export interface EntityMapHead {
  id: string;
  /** Canonical UTC instant with milliseconds (`toISOString`): text order is time order in both stores. */
  expiresAt: string;
  createdAt: string;
  /** Registration id → the EntityMap id that registration's source used (§5.2.39 linkedMaps). */
  linkedMaps: Record<string, string>;
}

/** The EntityMap as served by GET /entityMaps/{id}. */
export function renderEntityMap(head: EntityMapHead, entries: readonly EntityMapEntry[]): JsonObject {
  // A JSON object keeps insertion order for non-integer keys; entity ids are URIs, never integer-like.
  const entityMap: JsonObject = {};
  for (const e of entries) entityMap[e.entityId] = [...e.sources];
  return { id: head.id, type: 'EntityMap', expiresAt: head.expiresAt, entityMap, linkedMaps: { ...head.linkedMaps } };
}

/** True for a duration that lasts at all (a map expired at birth is refused). */
export function isPositive(d: PeriodDuration): boolean {
  return d.months > 0 || d.ms > 0;
}

/**
 * The expiry of a map created at `nowMs` asking for `requested` (or the default): never later than
 * `nowMs + max`, as the broker may shorten an extreme lifetime (§19).
 */
export function expiryFor(nowMs: number, requested: PeriodDuration, max: PeriodDuration): string {
  return new Date(Math.min(addPeriods(nowMs, requested, 1), addPeriods(nowMs, max, 1))).toISOString();
}

/** A client-chosen expiry (PATCH), capped at `nowMs + max`; canonical form. */
export function cappedExpiry(nowMs: number, requestedMs: number, max: PeriodDuration): string {
  return new Date(Math.min(requestedMs, addPeriods(nowMs, max, 1))).toISOString();
}
