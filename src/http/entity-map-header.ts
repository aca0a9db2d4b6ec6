// The NGSILD-EntityMap header and the entityMap / entityMapLifetime parameters of query and retrieve
// requests (GS CIM 009 §6.3, §5.5.9.3; guide §19): what a request asks of EntityMaps, and how a map is named.
import type { EntityMapHead } from '../core/entity-map/model.ts';
import type { PeriodDuration } from '../core/temporal/model.ts';
import type { EntityMapService } from '../services/entity-maps.ts';
import { API_ROOT } from './app.ts';
import type { OperationRequest } from './operation.ts';
import { locationOf } from './path-ids.ts';

export const ENTITY_MAP_HEADER = 'ngsild-entitymap';

/** URL parameters that create a map on the query and retrieve operations. */
export const ENTITY_MAP_PARAMS = ['entityMap', 'entityMapLifetime'];

/** What a request asks: nothing, a new map (entityMap=true, or a header naming no live map), or paging over a live map. */
export type MapIntent = { kind: 'none' } | { kind: 'create'; lifetime: PeriodDuration } | { kind: 'use'; head: EntityMapHead };

export const NO_MAP: MapIntent = { kind: 'none' };

/** The path of a map resource, as announced in NGSILD-EntityMap (and Location). */
export function entityMapPath(id: string): string {
  return locationOf(`${API_ROOT}/entityMaps`, id);
}

/**
 * The map id a header value names: a URL or path ending in /entityMaps/{id} (or the 1.8.1 /entityMap/{id}),
 * or the bare id. Undefined when the value names nothing usable (the request then gets a new map).
 */
export function mapIdOf(value: string): string | undefined {
  const v = value.trim();
  const m = /\/entityMaps?\/([^/?#]+)\/?(?:[?#].*)?$/.exec(v);
  if (m === null) return v === '' ? undefined : v;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/** Reads the request's EntityMap parameters and header (invalid entityMap / entityMapLifetime → 400). */
export async function mapIntent(req: OperationRequest, maps: EntityMapService): Promise<MapIntent> {
  const wanted = req.query.bool('entityMap');
  const lifetime = maps.parseLifetime(req.query.get('entityMapLifetime'));
  const raw = req.headers[ENTITY_MAP_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value !== undefined) {
    const id = mapIdOf(value);
    const head = id === undefined ? null : await maps.find(req.tenant, id);
    return head === null ? { kind: 'create', lifetime } : { kind: 'use', head };
  }
  return wanted ? { kind: 'create', lifetime } : NO_MAP;
}

/** The headers announcing a map; a new one is also the created resource (Location on a 201). */
export function announce(head: EntityMapHead, created: boolean): Record<string, string> {
  const path = entityMapPath(head.id);
  return created ? { [ENTITY_MAP_HEADER]: path, location: path } : { [ENTITY_MAP_HEADER]: path };
}
