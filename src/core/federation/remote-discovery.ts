// Reading type discovery answers of context sources (GS CIM 009 §5.7.5, §5.7.8 with details=true; guide §13,
// §16.3): an array of EntityType objects becomes discovery rows (type and attribute names, expanded with the
// request's @context; kinds and counts unknown) merged with the local ones. Anything else is unusable. Pure.
import { isJsonObject, type JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { DiscoveryRow } from '../query/discovery.ts';
import type { RemoteRead } from './remote-entity.ts';

export function readRemoteTypes(body: JsonValue | undefined, terms: TermMap): RemoteRead<DiscoveryRow[]> {
  if (!Array.isArray(body)) return { ok: false, reason: 'unusable payload: a type list with details is not a JSON array' };
  const rows: DiscoveryRow[] = [];
  for (const item of body) {
    if (!isJsonObject(item)) return { ok: false, reason: 'unusable payload: an EntityType is not a JSON object' };
    const name = typeof item.typeName === 'string' ? item.typeName : typeof item.id === 'string' ? item.id : undefined;
    if (name === undefined) return { ok: false, reason: 'unusable payload: an EntityType has neither typeName nor id' };
    const attrs = item.attributeNames ?? [];
    if (!Array.isArray(attrs) || !attrs.every((a) => typeof a === 'string')) return { ok: false, reason: 'unusable payload: attributeNames is not a list of names' };
    const type = terms.expandTerm(name);
    rows.push({ type, attr: null, kind: null, entities: 0, instances: 0 });
    for (const a of attrs as string[]) rows.push({ type, attr: terms.expandTerm(a), kind: null, entities: 0, instances: 0 });
  }
  return { ok: true, value: rows };
}

const stringList = (v: JsonValue | undefined): string[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null);
const count = (v: JsonValue | undefined): number | null => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null);

/** What a source's EntityTypeInfo (§5.2.26, GET /types/{type}) adds: its entity count and attribute kinds (FQNs). */
export interface RemoteTypeInfo {
  entityCount: number;
  attributeDetails: { attr: string; kinds: string[] }[];
}

export function readRemoteTypeInfo(body: JsonValue | undefined, terms: TermMap): RemoteRead<RemoteTypeInfo> {
  if (!isJsonObject(body)) return { ok: false, reason: 'unusable payload: an EntityTypeInfo is not a JSON object' };
  const entityCount = count(body.entityCount);
  if (entityCount === null) return { ok: false, reason: 'unusable payload: entityCount is not a non-negative integer' };
  const details = body.attributeDetails ?? [];
  if (!Array.isArray(details)) return { ok: false, reason: 'unusable payload: attributeDetails is not a list' };
  const attributeDetails: RemoteTypeInfo['attributeDetails'] = [];
  for (const d of details) {
    const name = isJsonObject(d) ? (typeof d.attributeName === 'string' ? d.attributeName : typeof d.id === 'string' ? d.id : undefined) : undefined;
    const kinds = isJsonObject(d) ? stringList(d.attributeTypes ?? []) : null;
    if (name === undefined || kinds === null) return { ok: false, reason: 'unusable payload: an attribute detail lacks attributeName or attributeTypes' };
    attributeDetails.push({ attr: terms.expandTerm(name), kinds });
  }
  return { ok: true, value: { entityCount, attributeDetails } };
}

/** What a source's Attribute (§5.2.27, GET /attributes/{attr}) adds: count, kinds and types (FQNs). */
export interface RemoteAttributeInfo {
  attributeCount: number;
  attributeTypes: string[];
  typeNames: string[];
}

export function readRemoteAttributeInfo(body: JsonValue | undefined, terms: TermMap): RemoteRead<RemoteAttributeInfo> {
  if (!isJsonObject(body)) return { ok: false, reason: 'unusable payload: an Attribute is not a JSON object' };
  const attributeCount = count(body.attributeCount ?? 0);
  const attributeTypes = stringList(body.attributeTypes ?? []);
  const typeNames = stringList(body.typeNames ?? []);
  if (attributeCount === null || attributeTypes === null || typeNames === null) {
    return { ok: false, reason: 'unusable payload: attributeCount, attributeTypes or typeNames of the wrong type' };
  }
  return { ok: true, value: { attributeCount, attributeTypes, typeNames: typeNames.map((t) => terms.expandTerm(t)) } };
}
