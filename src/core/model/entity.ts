// The internal entity model (GS CIM 009 §4.5): names are stored expanded (FQNs); values verbatim.
import type { JsonValue, JsonObject } from '../json.ts';

export const ATTRIBUTE_KINDS = [
  'Property',
  'Relationship',
  'GeoProperty',
  'LanguageProperty',
  'VocabProperty',
  'JsonProperty',
  'ListProperty',
  'ListRelationship',
] as const;
export type AttrKind = (typeof ATTRIBUTE_KINDS)[number];

/** NGSI-LD Null (§5.2.1): the deletion marker in update, merge and notification payloads. */
export const NGSI_LD_NULL = 'urn:ngsi-ld:null';

/**
 * One attribute instance (§4.5.2–4.5.5, §4.5.18–4.5.22). Exactly one value member is set, the one that
 * belongs to `type`. Sub-attribute names in `attrs` are FQNs.
 */
export interface AttrInstance {
  type: AttrKind;
  /** Property (any JSON but null) and GeoProperty (a GeoJSON geometry object). */
  value?: JsonValue;
  /** Relationship: one URI or several. */
  object?: string | string[];
  languageMap?: Record<string, string | string[]>;
  /** VocabProperty: expanded IRIs. */
  vocab?: string | string[];
  json?: JsonObject | JsonValue[];
  valueList?: JsonValue[];
  /** ListRelationship: ordered URIs. */
  objectList?: string[];
  datasetId?: string;
  observedAt?: string;
  unitCode?: string;
  /** Relationship / ListRelationship target type(s), expanded. */
  objectType?: string | string[];
  valueType?: string;
  expiresAt?: string;
  createdAt: string;
  modifiedAt: string;
  /** Sub-attributes, keyed by FQN. */
  attrs?: AttrMap;
}

/** Attribute name (FQN) → its instances; at most one instance without datasetId (the default instance). */
export type AttrMap = Record<string, AttrInstance[]>;

export interface Entity {
  id: string;
  /** Expanded type IRIs, a set kept in insertion order. */
  types: string[];
  scope?: string[];
  createdAt: string;
  modifiedAt: string;
  expiresAt?: string;
  attrs: AttrMap;
}

/** Members of an attribute instance that are not sub-attributes (§4.5.2 and following). */
export const INSTANCE_MEMBERS = new Set([
  'type',
  'value',
  'object',
  'languageMap',
  'vocab',
  'json',
  'valueList',
  'objectList',
  'datasetId',
  'observedAt',
  'unitCode',
  'objectType',
  'valueType',
  'expiresAt',
  'createdAt',
  'modifiedAt',
  'deletedAt',
  'instanceId',
  'lang',
]);

/** Entity-level members that are not attributes. */
export const ENTITY_MEMBERS = new Set([
  'id',
  'type',
  '@id',
  '@type',
  'scope',
  '@context',
  'createdAt',
  'modifiedAt',
  'deletedAt',
  'expiresAt',
]);
