// EntityTemporal payloads (GS CIM 009 §4.5.7, §5.6.11, §5.6.12, §5.6.14; guide §15.2): each attribute an
// array of instances (or one), validated like core-API attributes (parse-attribute.ts), where an instance
// holding the NGSI-LD Null records a deletion. Also how such instances move the entity's current state:
// the latest instance of each attribute (and datasetId) is its current value (guide §15.1).
import { badRequestData } from '../errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { compareDateTime, parseDateTime } from '../datetime.ts';
import { isAbsoluteUri } from '../names.ts';
import { NGSI_LD_NULL, type AttrInstance, type Entity } from '../model/entity.ts';
import type { AttrDraft, ModelLimits } from '../model/drafts.ts';
import { attributeFqn, parseAttribute, parseInstanceObject, type AttrParseContext } from '../model/parse-attribute.ts';
import { parseScope, parseTypes } from '../model/parse-entity.ts';
import { materialize } from '../model/instance-build.ts';
import { deletionInstance } from './history.ts';
import { SCOPE_ATTR, type HistoryInstance, type RecordedInstance } from './model.ts';

/** One instance of a temporal payload, validated; `remove` drafts record a deletion. */
export interface TemporalDraft {
  draft: AttrDraft;
  /** A client-given deletedAt on a deletion instance. */
  deletedAt?: string;
}

export interface ParsedTemporalEntity {
  id?: string;
  /** Expanded types; empty when the payload has none (fragments). */
  types: string[];
  /** The scope to set, from a plain `scope` member or the latest scope instance. */
  scope?: string[];
  expiresAt?: string;
  /** Attribute FQN → instances in payload order (SCOPE_ATTR for scope instances). */
  attrs: Record<string, TemporalDraft[]>;
}

const IGNORED_TOP = new Set(['@context', 'createdAt', 'modifiedAt', 'deletedAt']);

function bad(detail: string): never {
  throw badRequestData(detail, 'Invalid temporal entity');
}

function parseInstance(fqn: string, raw: JsonValue, ctx: AttrParseContext, label: string): TemporalDraft {
  if (!isJsonObject(raw)) {
    const [draft] = parseAttribute(fqn, raw, ctx, label);
    return { draft: draft! };
  }
  // instanceId is broker-assigned (a client may send back what it read); deletedAt only marks deletions.
  const { instanceId: _id, deletedAt, ...rest } = raw;
  const draft = parseInstanceObject(fqn, rest, ctx, label);
  const out: TemporalDraft = { draft };
  if (deletedAt !== undefined) {
    const dt = parseDateTime(deletedAt);
    if (dt === null) bad(`Attribute '${label}': deletedAt ${JSON.stringify(deletedAt)} is not a UTC DateTime`);
    if (draft.remove === true) out.deletedAt = dt;
  }
  return out;
}

function parseScopeInstances(raw: JsonValue): TemporalDraft[] {
  const items = Array.isArray(raw) ? raw : [raw];
  return items.map((item) => {
    if (!isJsonObject(item) || !('value' in item)) bad('scope instances must be objects with a value');
    const value = item.value!;
    const observedAt = item.observedAt === undefined ? undefined : parseDateTime(item.observedAt);
    if (observedAt === null) bad('scope instance observedAt is not a UTC DateTime');
    if (Array.isArray(value) && value.length === 0) return { draft: { typed: true, type: 'Property', remove: true, ...(observedAt ? { observedAt } : {}) } };
    const scopes = parseScope(value, false)!;
    const draft: AttrDraft = { typed: true, type: 'Property', value: scopes.length === 1 ? scopes[0]! : scopes };
    if (observedAt) draft.observedAt = observedAt;
    return { draft };
  });
}

/**
 * Parses an EntityTemporal body: `create` (POST /temporal/entities: id and type required) or `fragment`
 * (POST …/attrs, PATCH of an instance: id and type optional; an id must equal `pathId`). NGSI-LD Null as an
 * entity-level member is refused; as an instance value it records a deletion.
 */
export function parseTemporalEntity(body: JsonObject, terms: TermMap, limits: ModelLimits, mode: 'create' | 'fragment', pathId?: string): ParsedTemporalEntity {
  if ('id' in body && '@id' in body) bad('Entity has both id and @id');
  if ('type' in body && '@type' in body) bad('Entity has both type and @type');
  const out: ParsedTemporalEntity = { types: [], attrs: {} };
  const ctx: AttrParseContext = { terms, limits, mode: 'update' };
  for (const [k, v] of Object.entries(body)) {
    if (IGNORED_TOP.has(k)) continue;
    if (v === NGSI_LD_NULL) bad(`NGSI-LD Null is not allowed as the entity member '${k}' of a temporal entity`);
    switch (k) {
      case 'id':
      case '@id':
        if (!isAbsoluteUri(v)) bad(`Entity id ${JSON.stringify(v)} is not a URI`);
        if (pathId !== undefined && v !== pathId) bad(`Entity id ${v} in the body differs from the id ${pathId} in the path`);
        out.id = v;
        break;
      case 'type':
      case '@type':
        out.types = parseTypes(v, terms);
        break;
      case 'scope':
        if (typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'))) out.scope = parseScope(v, false)!;
        else out.attrs[SCOPE_ATTR] = parseScopeInstances(v);
        break;
      case 'expiresAt': {
        const dt = parseDateTime(v);
        if (dt === null) bad(`Entity expiresAt ${JSON.stringify(v)} is not a UTC DateTime`);
        out.expiresAt = dt;
        break;
      }
      default: {
        const fqn = attributeFqn(k, terms, k);
        if (v === null) bad(`Attribute '${k}': JSON null is not a valid attribute`);
        if (Array.isArray(v) && v.length === 0) bad(`Attribute '${k}': an empty array holds no instance`);
        const items = Array.isArray(v) && v.every(isJsonObject) ? v : [v];
        out.attrs[fqn] = [...(out.attrs[fqn] ?? []), ...items.map((item, i) => parseInstance(fqn, item, ctx, items.length > 1 ? `${k}[${i}]` : k))];
      }
    }
  }
  if (mode === 'create') {
    if (out.id === undefined) bad('Entity id is missing');
    if (out.types.length === 0) bad('Entity type is missing');
  }
  return out;
}

/** The recorded instances of a parsed payload: createdAt = modifiedAt = now, a new instanceId each. */
export function temporalInstances(parsed: ParsedTemporalEntity, now: string, newInstanceId: () => string): HistoryInstance[] {
  const out: HistoryInstance[] = [];
  for (const [attr, drafts] of Object.entries(parsed.attrs)) {
    for (const { draft, deletedAt } of drafts) {
      let instance: RecordedInstance;
      if (draft.remove === true) {
        instance = { ...deletionInstance(draft.type ?? 'Property', deletedAt ?? now, newInstanceId(), draft.datasetId), createdAt: now, modifiedAt: now };
        if (attr === SCOPE_ATTR) instance.value = [];
        if (draft.observedAt !== undefined) instance.observedAt = draft.observedAt;
      } else {
        instance = { ...materialize(draft, now, attr), instanceId: newInstanceId() };
      }
      out.push({ attr, instance });
    }
  }
  return out;
}

/** Later by observedAt; an instance without observedAt is "now", later than any observed one. */
function laterOrEqual(a: RecordedInstance, b: AttrInstance): boolean {
  if (a.observedAt === undefined) return true;
  if (b.observedAt === undefined) return false;
  return compareDateTime(a.observedAt, b.observedAt) >= 0;
}

function current(inst: RecordedInstance, prev: AttrInstance | undefined): AttrInstance {
  const { instanceId: _id, deletedAt: _d, ...rest } = inst;
  return prev === undefined ? rest : { ...rest, createdAt: prev.createdAt };
}

/**
 * The entity's new current state after temporal instances were added (null: it had none and gets none).
 * For each attribute and datasetId the latest added instance (by observedAt; without observedAt it is the
 * latest) replaces the current one unless the current one was observed later; a latest instance that
 * records a deletion removes the current one. Types are added, a given scope replaces the current one.
 */
export function applyTemporal(currentEntity: Entity | null, id: string, parsed: ParsedTemporalEntity, added: readonly HistoryInstance[], now: string): Entity {
  const e: Entity = currentEntity !== null ? structuredClone(currentEntity) : { id, types: [], createdAt: now, modifiedAt: now, attrs: {} };
  for (const t of parsed.types) if (!e.types.includes(t)) e.types.push(t);
  if (parsed.scope !== undefined) e.scope = [...parsed.scope];
  if (parsed.expiresAt !== undefined) e.expiresAt = parsed.expiresAt;
  const latest = new Map<string, HistoryInstance>();
  for (const h of added) {
    const key = `${h.attr}\u0000${h.instance.datasetId ?? ''}`;
    const seen = latest.get(key);
    if (seen === undefined || laterOrEqual(h.instance, seen.instance)) latest.set(key, h);
  }
  for (const { attr, instance } of latest.values()) {
    if (attr === SCOPE_ATTR) {
      if (instance.deletedAt !== undefined) delete e.scope;
      else e.scope = typeof instance.value === 'string' ? [instance.value] : (instance.value as string[]);
      continue;
    }
    const list = e.attrs[attr] ?? [];
    const i = list.findIndex((x) => x.datasetId === instance.datasetId);
    if (i >= 0 && !laterOrEqual(instance, list[i]!)) continue;
    if (instance.deletedAt !== undefined) {
      if (i >= 0) list.splice(i, 1);
    } else if (i >= 0) list[i] = current(instance, list[i]);
    else list.push(current(instance, undefined));
    if (list.length > 0) e.attrs[attr] = list;
    else delete e.attrs[attr];
  }
  e.modifiedAt = now;
  return e;
}
