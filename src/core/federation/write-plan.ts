// Distributed writes (GS CIM 009 §5.12 distributed update operations; guide §16.3 "Writes"): which part of
// a write each matching context source receives and what local processing keeps. Attributes covered by an
// exclusive or redirect registration go only to its source; inclusive sources receive what they cover and
// local processing still sees everything; auxiliary registrations never receive writes. An exclusive or
// redirect registration that does not offer the operation makes the write a 409 Conflict. Pure.
import { NgsiError } from '../errors.ts';
import type { JsonObject } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { expandOperations, type OperationName } from '../registration/operations.ts';
import type { Candidate, SourcePlan } from './plan.ts';

/** Entity members of a write body that are not attributes. */
const NON_ATTRIBUTES = new Set(['id', 'type', 'scope', '@context']);

/** The attribute names (FQNs) a write body touches. */
export function bodyAttributes(body: JsonObject, terms: TermMap): string[] {
  return Object.keys(body).filter((k) => !NON_ATTRIBUTES.has(k)).map((k) => terms.expandTerm(k));
}

/** 409 Conflict when an exclusive or redirect registration matching the write does not offer it (§5.12). */
export function checkWriteSupported(candidates: readonly Candidate[], op: OperationName): void {
  for (const c of candidates) {
    if (c.view.mode !== 'exclusive' && c.view.mode !== 'redirect') continue;
    if (!expandOperations(c.view.operations).has(op)) {
      throw new NgsiError('Conflict', `Registration ${c.view.id} (${c.view.mode}) covers this data but does not offer ${op}`, 'Operation not supported by the context source');
    }
  }
}

/**
 * What local processing keeps: 'all' (nothing held remotely), 'none' (a covering exclusive/redirect
 * registration names no attributes: the whole entity is remote), or the attributes (FQNs) held remotely.
 */
export function remotelyHeld(plans: readonly SourcePlan[]): 'none' | { attrs: string[] } {
  const attrs: string[] = [];
  for (const p of plans) {
    if (p.view.mode !== 'exclusive' && p.view.mode !== 'redirect') continue;
    if (p.attrs === undefined) return 'none';
    attrs.push(...p.attrs);
  }
  return { attrs };
}

/** The body without (`drop`) or with only (`keep`) the given attributes; entity members other than @context kept. */
export function restrictBody(body: JsonObject, terms: TermMap, filter: { drop: readonly string[] } | { keep: readonly string[] }): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === '@context') continue;
    if (NON_ATTRIBUTES.has(k)) {
      out[k] = v;
      continue;
    }
    const fqn = terms.expandTerm(k);
    const listed = 'drop' in filter ? !filter.drop.includes(fqn) : filter.keep.includes(fqn);
    if (listed) out[k] = v;
  }
  return out;
}

/** Whether a body restricted for a source still has attributes to write. */
export const hasAttributes = (body: JsonObject): boolean => Object.keys(body).some((k) => !NON_ATTRIBUTES.has(k));
