// Validation of a registration's `information` (RegistrationInfo §5.2.10, EntityInfo §5.2.8; guide §16.1):
// a non-empty array whose elements each name entities and/or attributes; names expanded with the request's
// @context for storage.
import type { JsonObject, JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { isAbsoluteUri, isValidName } from '../names.ts';
import { parseIdPattern } from '../query/entity-query.ts';
import { fail, object, onlyMembers, stringList } from './parse-members.ts';

export interface InfoLimits {
  maxIdPatternLength: number;
}

function names(v: JsonValue, label: string, terms: TermMap): string[] {
  const items = stringList(v, label);
  for (const n of items) if (!isValidName(n)) fail(`"${n}" in ${label} is not a valid attribute name`);
  return items.map((n) => terms.expandTerm(n));
}

function entityInfo(v: JsonValue, label: string, terms: TermMap, limits: InfoLimits): JsonObject {
  const e = object(v, label);
  onlyMembers(e, ['id', 'idPattern', 'type'], label);
  if (e.type === undefined) fail(`${label}.type is mandatory`);
  const single = typeof e.type === 'string';
  const types = single ? [e.type as string] : stringList(e.type, `${label}.type`);
  for (const t of types) if (!isValidName(t)) fail(`"${t}" in ${label}.type is not a valid entity type name`);
  const expanded = types.map((t) => terms.expandTerm(t));
  const out: JsonObject = { type: single ? expanded[0]! : expanded };
  if (e.id !== undefined) {
    if (!isAbsoluteUri(e.id)) fail(`${label}.id ${JSON.stringify(e.id)} is not an absolute URI`);
    out.id = e.id;
  }
  if (e.idPattern !== undefined) {
    if (typeof e.idPattern !== 'string') fail(`${label}.idPattern must be a string`);
    parseIdPattern(e.idPattern as string, limits.maxIdPatternLength);
    out.idPattern = e.idPattern;
  }
  return out;
}

/** Validates `information` and returns it with entity types and attribute names expanded. */
export function parseInformation(v: JsonValue | undefined, terms: TermMap, limits: InfoLimits): JsonValue[] {
  if (v === undefined || v === null) fail('information is mandatory');
  if (!Array.isArray(v) || v.length === 0) fail('information must be a non-empty array of RegistrationInfo objects');
  return (v as JsonValue[]).map((item, i) => {
    const label = `information[${i}]`;
    const info = object(item, label);
    onlyMembers(info, ['entities', 'propertyNames', 'relationshipNames'], label);
    if (info.entities === undefined && info.propertyNames === undefined && info.relationshipNames === undefined) {
      fail(`${label} needs at least one of entities, propertyNames and relationshipNames`);
    }
    const out: JsonObject = {};
    if (info.entities !== undefined) {
      if (!Array.isArray(info.entities) || info.entities.length === 0) fail(`${label}.entities must be a non-empty array of EntityInfo objects`);
      out.entities = (info.entities as JsonValue[]).map((e, j) => entityInfo(e, `${label}.entities[${j}]`, terms, limits));
    }
    if (info.propertyNames !== undefined) out.propertyNames = names(info.propertyNames, `${label}.propertyNames`, terms);
    if (info.relationshipNames !== undefined) out.relationshipNames = names(info.relationshipNames, `${label}.relationshipNames`, terms);
    return out;
  });
}

/** The inverse for output: names compacted with `terms` (the shape — string or array type — is kept). */
export function compactInformation(v: JsonValue | undefined, terms: TermMap): JsonValue | undefined {
  if (!Array.isArray(v)) return v;
  const compact = (x: JsonValue): JsonValue => (typeof x === 'string' ? terms.compactIri(x) : x);
  return v.map((item) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
    const out: JsonObject = { ...item };
    if (Array.isArray(item.entities)) {
      out.entities = item.entities.map((e) => {
        if (typeof e !== 'object' || e === null || Array.isArray(e)) return e;
        const copy: JsonObject = { ...e };
        if (typeof e.type === 'string') copy.type = terms.compactIri(e.type);
        else if (Array.isArray(e.type)) copy.type = e.type.map(compact);
        return copy;
      });
    }
    for (const key of ['propertyNames', 'relationshipNames']) {
      const list = item[key];
      if (Array.isArray(list)) out[key] = list.map(compact);
    }
    return out;
  });
}
