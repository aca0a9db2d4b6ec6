// Parsed, validated write payloads before they meet the stored entity (GS CIM 009 §5.6; guide §5, §7).
// A draft is an attribute instance without system timestamps, plus what the fragment asks to delete.
import type { JsonValue } from '../json.ts';
import type { AttrInstance, AttrKind } from './entity.ts';

/** Named limits the model enforces (config-driven). */
export interface ModelLimits {
  /** Most positions accepted in one GeoJSON geometry. */
  maxGeometryVertices: number;
}

type InstanceMembers = Omit<AttrInstance, 'type' | 'createdAt' | 'modifiedAt' | 'attrs'>;

/** One attribute instance of an input payload, validated and with names expanded. */
export interface AttrDraft extends InstanceMembers {
  /** The kind; absent only for merge / partial-update fragments that carry no value member. */
  type?: AttrKind;
  /** True when the client wrote `type` (normalized form); false when it was inferred (concise form). */
  typed: boolean;
  /** NGSI-LD Null was sent for this instance: delete it (update, merge, sub-attributes of partial update). */
  remove?: boolean;
  /**
   * The bare value when the attribute was sent without an object wrapper (concise scalar/array, or any
   * value of a keyValues merge): lets merge apply the `lang` option and keep the kind of existing attributes.
   */
  bare?: JsonValue;
  /** Set for keyValues merges: `bare` is the whole attribute, to be fitted to the existing kind. */
  simplified?: boolean;
  /** `bare` expanded as vocab IRIs, when it is a name or a list of names (keyValues merge into a VocabProperty). */
  bareVocab?: string | string[];
  /** Optional members sent as NGSI-LD Null (merge, partial update): removed from the instance. */
  unset?: string[];
  /** Sub-attributes, by FQN. */
  attrs?: DraftMap;
  /**
   * Merge only: an untyped object without value member is a Property value when the attribute is new, and
   * this patch (its keys read as sub-attributes) when the instance exists.
   */
  asPatch?: AttrDraft;
}

/** Attribute FQN → drafts (at most one per datasetId; the default instance has no datasetId). */
export type DraftMap = Record<string, AttrDraft[]>;

/** A complete entity of a create or replace payload. */
export interface ParsedEntity {
  id: string;
  /** Expanded type IRIs, deduplicated, in order of appearance. */
  types: string[];
  scope?: string[];
  expiresAt?: string;
  attrs: DraftMap;
}

export type FragmentKind = 'append' | 'update' | 'merge' | 'merge-simplified';

/** An entity fragment of an append, update or merge payload. */
export interface EntityFragment {
  kind: FragmentKind;
  /** The `id` of the body, if it had one (already checked against the path id). */
  id?: string;
  /** Types to add (expanded). */
  types: string[];
  /** Absent: not sent; null: NGSI-LD Null (remove the scope). */
  scope?: string[] | null;
  /** Absent: not sent; null: NGSI-LD Null (remove expiresAt). */
  expiresAt?: string | null;
  attrs: DraftMap;
  /** Needed when a keyValues merge value is fitted to a GeoProperty at apply time. */
  limits: ModelLimits;
}

/** The body of a Partial Attribute Update (§5.6.4), validated. */
export interface AttrPatch {
  draft: AttrDraft;
  /** Needed when a `value` is fitted to an existing GeoProperty at apply time. */
  limits: ModelLimits;
}
