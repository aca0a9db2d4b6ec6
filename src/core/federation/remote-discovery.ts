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
