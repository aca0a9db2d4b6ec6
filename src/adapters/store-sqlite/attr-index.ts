// Rows of the attribute value index (table attr_values, migration v2): what a q path naming a top-level
// attribute designates in each instance (GS CIM 009 §4.9; guide §8.2, mirrored from core q-eval.ts), split
// into typed comparison candidates (value-keys.ts), plus the orderBy sort value and the attribute kind
// for discovery (§5.7.5–5.7.10).
import type { JsonValue } from '../../core/json.ts';
import type { AttrInstance, Entity } from '../../core/model/entity.ts';
import { candidateColumns, type CandidateColumns } from './value-keys.ts';

/**
 * How a target's candidates may be compared (the `ord` column):
 * - 0: `==`/`!=` only — an array value (elements are the candidates) or a reference (object, objectList,
 *   vocab); ordering and regex never match.
 * - 1: a single value — every operator.
 * - 2: the alternatives of a LanguageProperty — every operator; `!~=` means "no alternative matches".
 */
export type CompareMode = 0 | 1 | 2;

/**
 * One row per comparison candidate of an instance's target; an instance whose target has no candidate
 * (an empty array) or that has no target at all (a LanguageProperty without text) still gets one row,
 * with `cix` -1, so that every instance is represented: the row with `cix <= 0` is the instance's
 * representative (existence, `!=`, discovery counts).
 */
export interface AttrValueRow extends CandidateColumns {
  attr: string;
  /** Instance position within the attribute. */
  tix: number;
  /** Candidate position within the target, -1 for the representative row of a candidate-less instance. */
  cix: number;
  kind: string;
  /** 1 when the instance has a target (the q path designates something), else 0. */
  tgt: 0 | 1;
  ord: CompareMode;
  /** 1 on the row holding the attribute's orderBy sort value (entity-query.ts attrSortValue). */
  srt: 0 | 1;
}

interface Target {
  ord: CompareMode;
  candidates: JsonValue[];
}

function valueTarget(v: JsonValue | undefined): Target | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? { ord: 0, candidates: v } : { ord: 1, candidates: [v] };
}

function referenceTarget(v: string | string[] | undefined): Target | undefined {
  if (v === undefined) return undefined;
  return { ord: 0, candidates: Array.isArray(v) ? v : [v] };
}

/** The target of a path `attr` (no sub-attribute, metadata or bracket) in one instance, as q-eval.ts. */
export function instanceTarget(inst: AttrInstance): Target | undefined {
  switch (inst.type) {
    case 'Property':
    case 'GeoProperty':
      return valueTarget(inst.value);
    case 'JsonProperty':
      return valueTarget(inst.json);
    case 'ListProperty':
      return valueTarget(inst.valueList);
    case 'Relationship':
      return referenceTarget(inst.object);
    case 'ListRelationship':
      return referenceTarget(inst.objectList);
    case 'VocabProperty':
      return referenceTarget(inst.vocab);
    case 'LanguageProperty': {
      if (inst.languageMap === undefined) return undefined;
      const values = Object.values(inst.languageMap).flatMap((v) => (Array.isArray(v) ? v : [v]));
      return values.length === 0 ? undefined : { ord: 2, candidates: values };
    }
    default:
      return undefined;
  }
}

/** The instance whose value sorts the entity (default instance, else the first), if it is sortable. */
function sortInstance(instances: readonly AttrInstance[]): number {
  const i = instances.findIndex((x) => x.datasetId === undefined);
  const at = i >= 0 ? i : 0;
  const inst = instances[at];
  const v = inst.type === 'Relationship' ? inst.object : inst.value;
  if (typeof v !== 'number' && typeof v !== 'string') return -1;
  // The row must hold exactly that raw value: the single candidate of a Property/GeoProperty value or
  // of a Relationship object.
  return inst.type === 'Relationship' || inst.type === 'Property' || inst.type === 'GeoProperty' ? at : -1;
}

const EMPTY: CandidateColumns = { num: null, str: null, bool: null, dt: null, date: null, tm: null };

/** All index rows of an entity. */
export function attrValueRows(entity: Entity, only?: ReadonlySet<string>): AttrValueRow[] {
  const rows: AttrValueRow[] = [];
  for (const attr of Object.keys(entity.attrs)) {
    if (only !== undefined && !only.has(attr)) continue;
    const instances = entity.attrs[attr];
    if (!Array.isArray(instances) || instances.length === 0) continue;
    const sortTix = sortInstance(instances);
    instances.forEach((inst, tix) => {
      const target = instanceTarget(inst);
      const kind = inst.type;
      if (target === undefined || target.candidates.length === 0) {
        rows.push({ attr, tix, cix: -1, kind, tgt: target === undefined ? 0 : 1, ord: target?.ord ?? 0, srt: 0, ...EMPTY });
        return;
      }
      target.candidates.forEach((c, cix) => {
        const srt = tix === sortTix && cix === 0 ? 1 : 0;
        rows.push({ attr, tix, cix, kind, tgt: 1, ord: target.ord, srt, ...candidateColumns(c) });
      });
    });
  }
  return rows;
}
