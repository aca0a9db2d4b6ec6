// One element of a Notification's `data` (GS CIM 009 §5.3.1, §5.2.14 showChanges, §5.2.1 NGSI-LD Null; guide
// §14.4): the entity in the subscription's format, with previous values (showChanges) and deleted attributes
// or a deleted entity marked with NGSI-LD Null in each attribute's own kind.
import type { JsonObject, JsonValue } from '../json.ts';
import { isJsonObject } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { VALUE_MEMBER } from '../model/attr-rules.ts';
import { NGSI_LD_NULL, type AttrInstance, type AttrKind, type Entity } from '../model/entity.ts';
import { pickLanguage } from '../model/lang.ts';
import { keepsAttribute } from '../model/projection.ts';
import { DEFAULT_DATASET, isGeometry, renderEntity, type RenderOptions } from '../model/render-entity.ts';
import { datasetKey, type AttributeChange } from './entity-diff.ts';
import type { Match } from './matcher.ts';

const PREVIOUS_MEMBER: Readonly<Record<AttrKind, string>> = {
  Property: 'previousValue',
  GeoProperty: 'previousValue',
  Relationship: 'previousObject',
  LanguageProperty: 'previousLanguageMap',
  VocabProperty: 'previousVocab',
  JsonProperty: 'previousJson',
  ListProperty: 'previousValueList',
  ListRelationship: 'previousObjectList',
};

interface DataContext {
  terms: TermMap;
  opts: RenderOptions;
  showChanges: boolean;
  /** deletedAt of deleted attributes / entity. */
  at: string;
}

/** The `data` element of one match, compacted with `terms` (the subscription's or jsonldContext's terms). */
export function renderNotificationEntity(match: Match, terms: TermMap, fallbackAt: string): JsonObject {
  const { sub, entity } = match;
  const params = sub.notification;
  const opts: RenderOptions = { format: params.format, sysAttrs: params.sysAttrs };
  if (params.lang !== undefined) opts.lang = params.lang;
  if (params.projection !== undefined) opts.projection = params.projection;
  if (sub.datasetIds !== undefined) opts.datasetIds = [...sub.datasetIds];
  const ctx: DataContext = { terms, opts, showChanges: params.showChanges, at: match.at ?? fallbackAt };
  if (match.entityDeleted) return deletedEntity(match, ctx);

  const out = renderEntity(entity, terms, opts) ?? {};
  if (ctx.showChanges) {
    for (const c of match.changes) if (c.kind === 'updated') addPrevious(out, entity, c, ctx);
  }
  const deleted = new Map<string, AttrInstance[]>();
  for (const { name, instance } of match.deletedAttributes) deleted.set(name, [...(deleted.get(name) ?? []), instance]);
  for (const [name, instances] of deleted) {
    if (keepsAttribute(opts.projection, name)) markDeleted(out, entity, name, instances, ctx);
  }
  return out;
}

/** `{id, type, deletedAt}` (+ entity timestamps with sysAttrs) plus attributes marked null when asked for. */
function deletedEntity(match: Match, ctx: DataContext): JsonObject {
  const { entity } = match;
  const out: JsonObject = { id: entity.id };
  if (entity.types.length > 0) out.type = entity.types.length === 1 ? ctx.terms.compactIri(entity.types[0]) : entity.types.map((t) => ctx.terms.compactIri(t));
  out.deletedAt = ctx.at;
  if (ctx.opts.sysAttrs) {
    out.createdAt = entity.createdAt;
    out.modifiedAt = entity.modifiedAt;
  }
  // With showChanges every attribute is shown deleted with its previous value; otherwise only the (watched)
  // attributes whose deletion the subscription asked for.
  const names: [string, AttrInstance[]][] = ctx.showChanges
    ? Object.entries(entity.attrs)
    : groupByName(match.deletedAttributes.map((d) => [d.name, d.instance]));
  const empty: Entity = { ...entity, attrs: {} };
  for (const [name, instances] of names) {
    const kept = ctx.opts.datasetIds === undefined ? instances : instances.filter((i) => ctx.opts.datasetIds!.includes(datasetKey(i)));
    if (kept.length > 0 && keepsAttribute(ctx.opts.projection, name)) markDeleted(out, empty, name, kept, ctx);
  }
  return out;
}

function groupByName(pairs: [string, AttrInstance][]): [string, AttrInstance[]][] {
  const map = new Map<string, AttrInstance[]>();
  for (const [name, inst] of pairs) map.set(name, [...(map.get(name) ?? []), inst]);
  return [...map];
}

/** The surviving instances of an attribute as rendered (after the datasetId filter). */
function survivors(entity: Entity, name: string, opts: RenderOptions): AttrInstance[] {
  const all = Object.hasOwn(entity.attrs, name) ? entity.attrs[name] : [];
  return opts.datasetIds === undefined ? all : all.filter((i) => opts.datasetIds!.includes(datasetKey(i)));
}

/** A concise attribute collapsed to its bare value (or geometry) back to an instance object. */
function uncollapse(rendered: JsonValue, kind: AttrKind): JsonObject {
  if (isJsonObject(rendered) && !(kind === 'GeoProperty' && isGeometry(rendered))) return rendered;
  return { value: rendered };
}

/** Adds the showChanges `previous…` member to the rendered instance of an updated attribute instance. */
function addPrevious(out: JsonObject, entity: Entity, c: AttributeChange, ctx: DataContext): void {
  if (c.before === undefined || c.after === undefined || !keepsAttribute(ctx.opts.projection, c.attr)) return;
  const key = ctx.terms.compactIri(c.attr);
  const rendered = out[key];
  if (rendered === undefined) return;
  let target: JsonObject | undefined;
  if (survivors(entity, c.attr, ctx.opts).length === 1) {
    target = uncollapse(rendered, c.after.type);
    out[key] = target;
  } else if (Array.isArray(rendered)) {
    const wanted = c.datasetId;
    const found = rendered.find((el) => isJsonObject(el) && (el.datasetId === undefined ? wanted === undefined : el.datasetId === wanted));
    target = isJsonObject(found) ? found : undefined;
  }
  if (target === undefined) return;
  if ('lang' in target && c.before.type === 'LanguageProperty' && ctx.opts.lang !== undefined) {
    // Under the lang filter a LanguageProperty is shown as a Property: its previous value is the same language pick.
    const chosen = pickLanguage(c.before.languageMap ?? {}, ctx.opts.lang);
    if (chosen !== undefined) target.previousValue = chosen.value;
    return;
  }
  target[PREVIOUS_MEMBER[c.before.type]] = previousValue(c.before, ctx);
}

/** Adds the deleted instances of one attribute, marked null, next to its surviving instances. */
function markDeleted(out: JsonObject, entity: Entity, name: string, deleted: AttrInstance[], ctx: DataContext): void {
  const key = ctx.terms.compactIri(name);
  const alive = survivors(entity, name, ctx.opts);
  const existing = out[key];
  if (ctx.opts.format === 'keyValues') {
    if (alive.length === 0 && deleted.length === 1) {
      out[key] = NGSI_LD_NULL;
      return;
    }
    const dataset: JsonObject = {};
    if (existing !== undefined) {
      if (alive.length === 1) dataset[datasetKey(alive[0])] = existing;
      else if (isJsonObject(existing) && isJsonObject(existing.dataset)) Object.assign(dataset, existing.dataset);
    }
    for (const inst of deleted) dataset[datasetKey(inst)] = NGSI_LD_NULL;
    out[key] = { dataset };
    return;
  }
  const marked = deleted.map((inst) => nullInstance(inst, ctx));
  if (alive.length === 0 && marked.length === 1) {
    const only = marked[0];
    // Concise: a lone deleted Property with no other member collapses to the bare marker, like any Property.
    out[key] = ctx.opts.format === 'concise' && Object.keys(only).length === 1 && only.value === NGSI_LD_NULL ? NGSI_LD_NULL : only;
    return;
  }
  const kept: JsonValue[] = existing === undefined ? [] : alive.length === 1 ? [uncollapse(existing, alive[0].type)] : Array.isArray(existing) ? existing : [existing];
  out[key] = [...kept, ...marked];
}

/** A deleted instance in its own kind with NGSI-LD Null as value (normalized or concise). */
function nullInstance(inst: AttrInstance, ctx: DataContext): JsonObject {
  const concise = ctx.opts.format === 'concise';
  const out: JsonObject = { type: inst.type };
  out[VALUE_MEMBER[inst.type]] = nullValue(inst.type, concise);
  if (inst.datasetId !== undefined && inst.datasetId !== DEFAULT_DATASET) out.datasetId = inst.datasetId;
  if (ctx.showChanges) out[PREVIOUS_MEMBER[inst.type]] = previousValue(inst, ctx);
  if (ctx.opts.sysAttrs) out.deletedAt = ctx.at;
  // Concise drops `type` where a reader infers it back; a null GeoProperty value cannot tell its kind.
  if (concise && inst.type !== 'GeoProperty') delete out.type;
  return out;
}

function nullValue(kind: AttrKind, concise: boolean): JsonValue {
  switch (kind) {
    case 'LanguageProperty':
      return { '@none': NGSI_LD_NULL };
    case 'ListProperty':
      return [NGSI_LD_NULL];
    case 'ListRelationship':
      return concise ? [NGSI_LD_NULL] : [{ object: NGSI_LD_NULL }];
    default:
      return NGSI_LD_NULL;
  }
}

/** The value member of the previous instance, shaped like the current format shows values. */
function previousValue(inst: AttrInstance, ctx: DataContext): JsonValue {
  const compact = (v: string | string[]): string | string[] => (typeof v === 'string' ? ctx.terms.compactIri(v) : v.map((x) => ctx.terms.compactIri(x)));
  switch (inst.type) {
    case 'Property':
    case 'GeoProperty':
      return inst.value ?? null;
    case 'Relationship':
      return inst.object ?? null;
    case 'LanguageProperty':
      return inst.languageMap ?? {};
    case 'VocabProperty':
      return inst.vocab === undefined ? null : compact(inst.vocab);
    case 'JsonProperty':
      return inst.json ?? null;
    case 'ListProperty':
      return inst.valueList ?? [];
    case 'ListRelationship':
      return ctx.opts.format === 'concise' ? (inst.objectList ?? []) : (inst.objectList ?? []).map((object) => ({ object }));
  }
}
