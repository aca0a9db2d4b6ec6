// The pure write path of entity operations (GS CIM 009 §5.6.1–5.6.5, §5.6.17–5.6.19; guide §7.1–7.11):
// parse (validate + expand, may throw 400) then apply (current entity → new entity, may throw 404/400).
//
// Every operation is split in two so that validation completes before the stored entity is looked at
// (400 wins over 404). No I/O, no clock: `now` is an ISO string from the caller. Apply functions never
// mutate their inputs; they set modifiedAt = now on the entity and on every instance they write, and keep
// the createdAt of surviving instances (also of instances replaced whole).
//
//   parseEntity(body, terms, limits, 'create' | 'replace', pathId?) → ParsedEntity
//   newEntity(parsed, now) → Entity                                              Create Entity §5.6.1
//   applyReplace(current, parsed, now) → Entity                                  Replace Entity §5.6.18
//   parseFragment(body, terms, limits, 'append' | 'update' | 'merge' | 'merge-simplified', pathId?)
//   applyAppend(current, frag, now, { noOverwrite }) → { entity, result }        Append Attributes §5.6.3
//   applyUpdate(current, frag, now) → { entity, result }                         Update Attributes §5.6.2
//   applyMerge(current, frag, now, { observedAt?, lang? }) → Entity              Merge Entity §5.6.17
//   parsePartialAttr(body, attrFqn, terms, limits) → AttrPatch
//   applyPartialAttr(current, attrFqn, patch, now) → Entity                      Partial Attr Update §5.6.4
//   parseReplaceAttr(body, attrFqn, terms, limits) → AttrDraft
//   applyReplaceAttr(current, attrFqn, draft, now) → Entity                      Replace Attribute §5.6.19
//   applyDeleteAttr(current, attrFqn, { datasetId?, deleteAll }, now) → Entity   Delete Attribute §5.6.5
//   applyDeleteScope(current, now) → Entity                                      (attrId = scope)
import { badRequestData, notFound } from '../errors.ts';
import type { JsonObject } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { isValidName } from '../names.ts';
import type { AttrInstance, Entity } from './entity.ts';
import type { AttrDraft, AttrPatch, EntityFragment, FragmentKind, ModelLimits, ParsedEntity } from './drafts.ts';
import { RESERVED_ATTR_IRIS, SCOPE_IRI, VALUE_MEMBER } from './attr-rules.ts';
import { parseAttributePatch, parseInstanceObject } from './parse-attribute.ts';
import { parseEntityBody, parseFragmentBody } from './parse-entity.ts';
import { applyFail, applyMeta, checkShape, copyValue, findInstance, materialize, materializeMap, replaceSubAttributes } from './instance-build.ts';
import { mergeEntity, type MergeOptions } from './apply-merge.ts';
import { parseGeoValue } from './parse-value.ts';

export type { AttrDraft, AttrPatch, EntityFragment, FragmentKind, ModelLimits, ParsedEntity } from './drafts.ts';
export type { MergeOptions } from './apply-merge.ts';
export { SCOPE_IRI } from './attr-rules.ts';

/** Outcome of Append / Update Attributes (§5.2.18): attribute names are FQNs. */
export interface UpdateResult {
  updated: string[];
  notUpdated: { attributeName: string; reason: string }[];
}

export interface ApplyResult {
  entity: Entity;
  result: UpdateResult;
}

// ---- Create / Replace Entity ---------------------------------------------------------------------------

/** Validates a create (id, type mandatory) or replace (type mandatory; body id, if any, = pathId) body. */
export function parseEntity(body: JsonObject, terms: TermMap, limits: ModelLimits, mode: 'create' | 'replace', pathId?: string): ParsedEntity {
  return parseEntityBody(body, terms, limits, mode, pathId);
}

/** The entity to store for Create Entity: createdAt = modifiedAt = now everywhere. */
export function newEntity(parsed: ParsedEntity, now: string): Entity {
  const e: Entity = { id: parsed.id, types: [...parsed.types], createdAt: now, modifiedAt: now, attrs: materializeMap(parsed.attrs, now, '') };
  if (parsed.scope !== undefined) e.scope = [...parsed.scope];
  if (parsed.expiresAt !== undefined) e.expiresAt = parsed.expiresAt;
  return e;
}

/**
 * Replace Entity: types, scope, expiresAt and attributes all come from the body; the entity's createdAt is
 * kept, and so is the createdAt of each instance that exists before and after (same name and datasetId).
 */
export function applyReplace(current: Entity, parsed: ParsedEntity, now: string): Entity {
  if (parsed.id !== current.id) throw badRequestData(`Entity id ${parsed.id} differs from ${current.id}`, 'Invalid entity');
  const e = newEntity({ ...parsed, attrs: {} }, now);
  e.createdAt = current.createdAt;
  e.attrs = materializeMap(parsed.attrs, now, '', current.attrs);
  return e;
}

// ---- Append / Update Attributes ------------------------------------------------------------------------

/** Validates an entity fragment; `pathId`, when given, must equal a body `id`. */
export function parseFragment(body: JsonObject, terms: TermMap, limits: ModelLimits, kind: FragmentKind, pathId?: string): EntityFragment {
  return parseFragmentBody(body, terms, limits, kind, pathId);
}

/**
 * A copy of `current` that a write operation may change: the entity, its type and scope arrays and its
 * attribute map are new, the attribute instances are shared. Operations replace an attribute's list
 * (`ownList`) before changing it and never change an instance in place, so the entity read from the store
 * stays untouched and unchanged attributes keep their identity, which lets the index writer, the
 * subscription diff and history skip them without comparing contents (a deep clone of every attribute
 * was a tenth of a partial update's cost).
 */
function editable(current: Entity): Entity {
  const e: Entity = { ...current, types: [...current.types], attrs: { ...current.attrs } };
  if (current.scope !== undefined) e.scope = [...current.scope];
  return e;
}

/** The attribute's instance list of `e`, copied so that changing it leaves the list of the original. */
function ownList(e: Entity, fqn: string): AttrInstance[] {
  return [...(e.attrs[fqn] ?? [])];
}

function addTypes(e: Entity, types: readonly string[]): boolean {
  let changed = false;
  for (const t of types) {
    if (!e.types.includes(t)) {
      e.types.push(t);
      changed = true;
    }
  }
  return changed;
}

function pushOnce(list: string[], name: string): void {
  if (!list.includes(name)) list.push(name);
}

/**
 * Append Attributes: new attributes / datasetIds are added; existing instances are replaced whole (createdAt
 * kept) or, with noOverwrite, left alone and reported in notUpdated. Types are added; scope is replaced
 * (noOverwrite: the missing scopes are added); expiresAt is set (noOverwrite: only when absent).
 */
export function applyAppend(current: Entity, frag: EntityFragment, now: string, opts: { noOverwrite: boolean }): ApplyResult {
  const e = editable(current);
  const result: UpdateResult = { updated: [], notUpdated: [] };
  let changed = addTypes(e, frag.types);
  if (frag.scope) {
    e.scope = opts.noOverwrite ? [...(e.scope ?? []), ...frag.scope.filter((s) => !(e.scope ?? []).includes(s))] : [...frag.scope];
    result.updated.push(SCOPE_IRI);
    changed = true;
  }
  if (typeof frag.expiresAt === 'string' && (!opts.noOverwrite || e.expiresAt === undefined)) {
    e.expiresAt = frag.expiresAt;
    changed = true;
  }
  for (const [fqn, drafts] of Object.entries(frag.attrs)) {
    const list = ownList(e, fqn);
    for (const d of drafts) {
      const i = findInstance(list, d.datasetId);
      if (i >= 0 && opts.noOverwrite) {
        const which = d.datasetId === undefined ? '' : ` (datasetId ${d.datasetId})`;
        result.notUpdated.push({ attributeName: fqn, reason: `attribute already exists${which} and noOverwrite was requested` });
        continue;
      }
      if (i >= 0) list[i] = materialize(d, now, fqn, list[i]);
      else list.push(materialize(d, now, fqn));
      pushOnce(result.updated, fqn);
      changed = true;
    }
    if (list.length > 0) e.attrs[fqn] = list;
  }
  if (changed) e.modifiedAt = now;
  return { entity: e, result };
}

/**
 * Update Attributes (1.9.1): each instance in the fragment replaces the matching one whole (createdAt kept)
 * or, if missing, is appended; NGSI-LD Null deletes the instance (a missing one is reported). Types are
 * added; scope is replaced only when the entity has one, otherwise reported in notUpdated.
 */
export function applyUpdate(current: Entity, frag: EntityFragment, now: string): ApplyResult {
  const e = editable(current);
  const result: UpdateResult = { updated: [], notUpdated: [] };
  let changed = addTypes(e, frag.types);
  if (frag.scope !== undefined) {
    if (e.scope !== undefined && e.scope.length > 0) {
      if (frag.scope === null) delete e.scope;
      else e.scope = [...frag.scope];
      result.updated.push(SCOPE_IRI);
      changed = true;
    } else {
      result.notUpdated.push({ attributeName: SCOPE_IRI, reason: 'the entity has no scope; Update Attributes does not add one' });
    }
  }
  if (frag.expiresAt !== undefined) {
    if (frag.expiresAt === null) delete e.expiresAt;
    else e.expiresAt = frag.expiresAt;
    changed = true;
  }
  for (const [fqn, drafts] of Object.entries(frag.attrs)) {
    const list = ownList(e, fqn);
    for (const d of drafts) {
      const i = findInstance(list, d.datasetId);
      if (d.remove === true) {
        if (i < 0) {
          const which = d.datasetId === undefined ? 'no default instance' : `no instance with datasetId ${d.datasetId}`;
          result.notUpdated.push({ attributeName: fqn, reason: `cannot delete: the attribute has ${which}` });
          continue;
        }
        list.splice(i, 1);
      } else if (i >= 0) {
        list[i] = materialize(d, now, fqn, list[i]);
      } else {
        list.push(materialize(d, now, fqn));
      }
      pushOnce(result.updated, fqn);
      changed = true;
    }
    if (list.length > 0) e.attrs[fqn] = list;
    else delete e.attrs[fqn];
  }
  if (changed) e.modifiedAt = now;
  return { entity: e, result };
}

// ---- Merge Entity ----------------------------------------------------------------------------------------

/** Merge Entity (RFC 7396 semantics, NGSI-LD Null deletes); see apply-merge.ts. */
export function applyMerge(current: Entity, frag: EntityFragment, now: string, opts: MergeOptions = {}): Entity {
  return mergeEntity(current, frag, now, opts);
}

// ---- Attribute-level operations ------------------------------------------------------------------------

/** Path attribute names: `scope` and reserved core members are not attributes. */
function checkPathAttr(attrFqn: string, terms: TermMap): string {
  const label = terms.compactIri(attrFqn);
  if (attrFqn === SCOPE_IRI) applyFail(label, 'scope is not an attribute and cannot be written this way');
  if (!isValidName(attrFqn) || RESERVED_ATTR_IRIS.has(attrFqn)) applyFail(label, 'is not a valid attribute name');
  return label;
}

function withoutContext(body: JsonObject): JsonObject {
  const { ['@context']: _ignored, ...rest } = body;
  return rest;
}

/** Validates a Partial Attribute Update body: a non-empty fragment of one instance. */
export function parsePartialAttr(body: JsonObject, attrFqn: string, terms: TermMap, limits: ModelLimits): AttrPatch {
  const label = checkPathAttr(attrFqn, terms);
  const rest = withoutContext(body);
  if (Object.keys(rest).length === 0) applyFail(label, 'an empty fragment updates nothing');
  const draft = parseAttributePatch(attrFqn, rest, { terms, limits, mode: 'partial' }, label);
  const { type: _t, typed: _typed, datasetId: _ds, ...changes } = draft;
  if (Object.values(changes).every((v) => v === undefined)) applyFail(label, 'the fragment holds no member to update');
  return { draft, limits };
}

function findTarget(current: Entity, attrFqn: string, datasetId: string | undefined): { list: AttrInstance[]; index: number } {
  const list = current.attrs[attrFqn];
  if (list === undefined) throw notFound(`Attribute ${attrFqn} was not found in entity ${current.id}`, 'Attribute not found');
  const index = findInstance(list, datasetId);
  if (index < 0) {
    const which = datasetId === undefined ? 'has no default instance' : `has no instance with datasetId ${datasetId}`;
    throw notFound(`Attribute ${attrFqn} of entity ${current.id} ${which}`, 'Attribute not found');
  }
  return { list, index };
}

function withInstance(current: Entity, attrFqn: string, index: number, inst: AttrInstance, now: string): Entity {
  const e = editable(current);
  const list = ownList(e, attrFqn);
  list[index] = inst;
  e.attrs[attrFqn] = list;
  e.modifiedAt = now;
  return e;
}

/**
 * Partial Attribute Update: only the members present change (value member replaced whole, metadata set
 * or removed by NGSI-LD Null, sub-attributes replaced whole or removed). The kind cannot change.
 */
export function applyPartialAttr(current: Entity, attrFqn: string, patch: AttrPatch, now: string): Entity {
  const d = patch.draft;
  const { index, list } = findTarget(current, attrFqn, d.datasetId);
  const old = list[index];
  if (d.type !== undefined && (d.typed ? d.type !== old.type : VALUE_MEMBER[d.type] !== VALUE_MEMBER[old.type])) {
    applyFail(attrFqn, `a partial update cannot change a ${old.type} into a ${d.type}`);
  }
  const inst = structuredClone(old);
  const member = VALUE_MEMBER[old.type];
  if (member === 'value' && d.value !== undefined) {
    inst.value = old.type === 'GeoProperty' ? parseGeoValue(d.value, patch.limits.maxGeometryVertices, attrFqn) : structuredClone(d.value);
  } else if (d[member] !== undefined) {
    copyValue(inst, d);
  }
  applyMeta(inst, d);
  if (d.attrs !== undefined) replaceSubAttributes(inst, d.attrs, now, attrFqn);
  checkShape(inst, attrFqn);
  inst.modifiedAt = now;
  return withInstance(current, attrFqn, index, inst, now);
}

/** Validates a Replace Attribute body: one complete instance (normalized or concise). */
export function parseReplaceAttr(body: JsonObject, attrFqn: string, terms: TermMap, limits: ModelLimits): AttrDraft {
  const label = checkPathAttr(attrFqn, terms);
  const rest = withoutContext(body);
  if (Object.keys(rest).length === 0) applyFail(label, 'an empty body is not an attribute');
  return parseInstanceObject(attrFqn, rest, { terms, limits, mode: 'replace' }, label);
}

/** Replace Attribute: the addressed instance (default or the draft's datasetId) replaced whole; createdAt kept. */
export function applyReplaceAttr(current: Entity, attrFqn: string, draft: AttrDraft, now: string): Entity {
  const { index, list } = findTarget(current, attrFqn, draft.datasetId);
  return withInstance(current, attrFqn, index, materialize(draft, now, attrFqn, list[index]), now);
}

/**
 * Delete Attribute: the default instance, or the one with `datasetId` (`@none` = default), or every instance
 * with `deleteAll`. 404 when there is nothing to delete.
 */
export function applyDeleteAttr(current: Entity, attrFqn: string, opts: { datasetId?: string; deleteAll: boolean }, now: string): Entity {
  const datasetId = opts.datasetId === '@none' ? undefined : opts.datasetId;
  const e = editable(current);
  if (opts.deleteAll) {
    if (e.attrs[attrFqn] === undefined) throw notFound(`Attribute ${attrFqn} was not found in entity ${current.id}`, 'Attribute not found');
    delete e.attrs[attrFqn];
  } else {
    const { index } = findTarget(current, attrFqn, datasetId);
    const list = ownList(e, attrFqn);
    list.splice(index, 1);
    if (list.length === 0) delete e.attrs[attrFqn];
    else e.attrs[attrFqn] = list;
  }
  e.modifiedAt = now;
  return e;
}

/** Delete Attribute with attrId = scope: removes the entity's scope; 404 when it has none. */
export function applyDeleteScope(current: Entity, now: string): Entity {
  if (current.scope === undefined || current.scope.length === 0) throw notFound(`Entity ${current.id} has no scope`, 'Attribute not found');
  const e = editable(current);
  delete e.scope;
  e.modifiedAt = now;
  return e;
}
