// Member rules of attribute instances per kind and reserved names (GS CIM 009 §4.5.1–4.5.22 "shall never
// include", §4.5.1 reserved core terms; guide §5.1–5.2).
import type { AttrKind } from './entity.ts';
import { ATTRIBUTE_KINDS } from './entity.ts';
import type { TermMap } from '../jsonld/term-map.ts';

export const NGSI_LD_NS = 'https://uri.etsi.org/ngsi-ld/';
/** FQN of `scope` (core term, protected): an entity member, never an attribute. */
export const SCOPE_IRI = `${NGSI_LD_NS}scope`;
/** The predefined GeoProperties: whatever their form, they must be GeoProperties. */
export const GEO_ATTRIBUTE_IRIS: ReadonlySet<string> = new Set(
  ['location', 'observationSpace', 'operationSpace'].map((n) => NGSI_LD_NS + n),
);
/** The data-integrity proof Property [1.9]: its value must be an object. */
export const NGSILDPROOF_IRI = `${NGSI_LD_NS}ngsildproof`;
/** Members allowed only directly inside the `ngsildproof` Property [1.9]. */
export const PROOF_ONLY_MEMBERS: ReadonlySet<string> = new Set(['entityIdSealed', 'entityTypeSealed']);
export const LANG_STRING_IRI = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString';

export type ValueMember = 'value' | 'object' | 'languageMap' | 'vocab' | 'json' | 'valueList' | 'objectList';

/** The one member that carries the value of each kind. */
export const VALUE_MEMBER: Readonly<Record<AttrKind, ValueMember>> = {
  Property: 'value',
  GeoProperty: 'value',
  Relationship: 'object',
  LanguageProperty: 'languageMap',
  VocabProperty: 'vocab',
  JsonProperty: 'json',
  ListProperty: 'valueList',
  ListRelationship: 'objectList',
};

export const VALUE_MEMBERS: readonly ValueMember[] = ['value', 'object', 'languageMap', 'vocab', 'json', 'valueList', 'objectList'];

/** The kind a value member implies when `type` is absent (concise input, guide §5.3 rule 3). */
export const KIND_OF_MEMBER: Readonly<Record<ValueMember, AttrKind>> = {
  value: 'Property',
  object: 'Relationship',
  languageMap: 'LanguageProperty',
  vocab: 'VocabProperty',
  json: 'JsonProperty',
  valueList: 'ListProperty',
  objectList: 'ListRelationship',
};

/** Optional non-value members of an instance (user data). */
export const META_MEMBERS = ['datasetId', 'observedAt', 'unitCode', 'objectType', 'valueType', 'expiresAt'] as const;
export type MetaMember = (typeof META_MEMBERS)[number];

const UNIT_CODE_KINDS: ReadonlySet<AttrKind> = new Set(['Property', 'GeoProperty', 'ListProperty']);
const OBJECT_TYPE_KINDS: ReadonlySet<AttrKind> = new Set(['Relationship', 'ListRelationship']);

/** Whether `kind` may carry `member` (value members: only its own; kind-specific metadata). */
export function kindAllows(kind: AttrKind, member: string): boolean {
  if ((VALUE_MEMBERS as readonly string[]).includes(member)) return VALUE_MEMBER[kind] === member;
  if (member === 'unitCode') return UNIT_CODE_KINDS.has(kind);
  if (member === 'objectType') return OBJECT_TYPE_KINDS.has(kind);
  if (member === 'valueType') return !OBJECT_TYPE_KINDS.has(kind);
  return true;
}

/** Output-only members (notifications with showChanges, linked-entity retrieval, temporal, lang): refused. */
export const OUTPUT_ONLY_MEMBERS: ReadonlySet<string> = new Set([
  'previousValue',
  'previousObject',
  'previousLanguageMap',
  'previousVocab',
  'previousJson',
  'previousValueList',
  'previousObjectList',
  'entity',
  'entityList',
  'instanceId',
  'deletedAt',
  'lang',
]);

/** System members a client may send but that are ignored (§4.8). */
export const IGNORED_MEMBERS: ReadonlySet<string> = new Set(['createdAt', 'modifiedAt']);

/** Core terms that cannot name an attribute or sub-attribute, as written by the client (§4.5.1). */
export const RESERVED_ATTR_NAMES: ReadonlySet<string> = new Set([
  'id',
  'type',
  'scope',
  '@id',
  '@type',
  '@context',
  ...VALUE_MEMBERS,
  ...META_MEMBERS,
  ...IGNORED_MEMBERS,
  ...OUTPUT_ONLY_MEMBERS,
]);

/** The same reserved members by IRI, so `ngsi-ld:hasValue` or a full IRI cannot sneak past. */
export const RESERVED_ATTR_IRIS: ReadonlySet<string> = new Set([
  '@id',
  '@type',
  '@context',
  ...[
    'hasValue',
    'hasObject',
    'hasLanguageMap',
    'hasVocab',
    'hasJSON',
    'hasValueList',
    'hasObjectList',
    'datasetId',
    'observedAt',
    'unitCode',
    'hasObjectType',
    'hasValueType',
    'expiresAt',
    'createdAt',
    'modifiedAt',
    'deletedAt',
    'instanceId',
    'scope',
    'lang',
    'entity',
    'entityList',
    'hasPreviousValue',
    'hasPreviousObject',
    'hasPreviousLanguageMap',
    'hasPreviousVocab',
    'hasPreviousJson',
    'hasPreviousValueList',
    'hasPreviousObjectList',
  ].map((n) => NGSI_LD_NS + n),
]);

/** The attribute kind named by an instance `type` (short name, `ngsi-ld:` compact IRI or full IRI). */
export function kindOfType(t: string, terms: TermMap): AttrKind | undefined {
  if ((ATTRIBUTE_KINDS as readonly string[]).includes(t)) return t as AttrKind;
  const iri = terms.expandTerm(t);
  if (!iri.startsWith(NGSI_LD_NS)) return undefined;
  const local = iri.slice(NGSI_LD_NS.length);
  return (ATTRIBUTE_KINDS as readonly string[]).includes(local) ? (local as AttrKind) : undefined;
}
