// The values a store keeps beside each recorded instance so that aggregations run in SQL (issue 6 item 3):
// one numeric view, one text view and a distinctness key, derived here once for both stores (§4.5.19 rules).
import type { JsonValue } from '../json.ts';
import type { RecordedInstance } from './model.ts';

export interface InstanceValues {
  /** sum, avg, stddev, sumsq, min, max: numbers; booleans as 1/0; arrays by their length. */
  num: number | null;
  /** min and max of strings (code-point order) and of date/time values (ISO 8601 text). */
  text: string | null;
  /** totalCount counts instances with a key; distinctCount counts distinct keys. Deletions have none. */
  key: string | null;
}

const NONE: InstanceValues = { num: null, text: null, key: null };

/** JSON text with object members sorted: equal values get equal keys whatever their member order. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function propertyValues(value: JsonValue): InstanceValues {
  const key = canonicalJson(value);
  if (typeof value === 'number') return { num: value, text: null, key };
  if (typeof value === 'boolean') return { num: value ? 1 : 0, text: null, key };
  if (typeof value === 'string') return { num: null, text: value, key };
  if (Array.isArray(value)) return { num: value.length, text: null, key };
  // A typed literal such as {"@type":"DateTime","@value":"…"} aggregates by its text (min/max).
  if (value !== null && typeof value === 'object' && typeof value['@value'] === 'string') {
    return { num: null, text: value['@value'], key };
  }
  return { num: null, text: null, key };
}

export function instanceValues(instance: RecordedInstance): InstanceValues {
  if (instance.deletedAt !== undefined) return NONE;
  switch (instance.type) {
    case 'Property':
      return instance.value === undefined ? NONE : propertyValues(instance.value);
    case 'Relationship':
      return instance.object === undefined ? NONE : { num: null, text: null, key: canonicalJson(instance.object) };
    case 'ListProperty':
      return instance.valueList === undefined ? NONE : { num: instance.valueList.length, text: null, key: canonicalJson(instance.valueList) };
    case 'ListRelationship':
      return instance.objectList === undefined ? NONE : { num: null, text: null, key: canonicalJson(instance.objectList) };
    case 'GeoProperty':
      return instance.value === undefined ? NONE : { num: null, text: null, key: canonicalJson(instance.value) };
    case 'LanguageProperty':
      return instance.languageMap === undefined ? NONE : { num: null, text: null, key: canonicalJson(instance.languageMap) };
    case 'VocabProperty':
      return instance.vocab === undefined ? NONE : { num: null, text: null, key: canonicalJson(instance.vocab) };
    case 'JsonProperty':
      return instance.json === undefined ? NONE : { num: null, text: null, key: canonicalJson(instance.json) };
  }
}

/** The instance's time for a time property, in epoch ms; null when it lacks it. */
export function instanceTime(instance: RecordedInstance, property: 'observedAt' | 'createdAt' | 'modifiedAt' | 'deletedAt'): number | null {
  const text = instance[property];
  if (text === undefined) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}
