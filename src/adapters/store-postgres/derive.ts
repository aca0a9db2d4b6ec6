// What the PostgreSQL store derives from an entity on every write, for queries (GS CIM 009 §4.9, §4.10,
// §4.19, §4.23): the search document `qdoc` (jsonb), the attribute-value index rows (entity_attrs) and the
// geometry rows (entity_geo). Computed here with the same core helpers as the reference evaluator, so the
// SQL compares pre-digested values; every string goes through textKey (no NUL, UTF-16 order under "C").
import type { JsonObject, JsonValue } from '../../core/json.ts';
import { isJsonObject } from '../../core/json.ts';
import { dateTimeToMillis, parseDateTime } from '../../core/datetime.ts';
import type { AttrInstance, AttrMap, Entity } from '../../core/model/entity.ts';
import { validateGeometry } from '../../core/model/geojson.ts';
import { unwrapTypedLiteral } from '../../core/query/q-compare.ts';
import { textKey } from './text-key.ts';

/**
 * Where an entity_attrs row comes from (root targets only: a top-level attribute, no sub-attribute,
 * metadata or `[..]` path): `v` the single value of a Property-like instance, `e` an element of an array
 * value, `r` a reference (Relationship object, ListRelationship objectList, VocabProperty vocab), `l` a
 * LanguageProperty string, `n` nothing comparable (the row only records the instance).
 */
export type AttrRowSource = 'v' | 'e' | 'r' | 'l' | 'n';

/** entity_attrs rows of one entity, as parallel columns (bound as arrays and unnested in SQL). */
export interface AttrColumns {
  attr: string[];
  kind: string[];
  /** True on the first row of each instance: counts instances for discovery. */
  head: boolean[];
  src: AttrRowSource[];
  num: (number | null)[];
  str: (string | null)[];
  /** DateTime keys (see dateTimeKey) as decimal text. */
  dtk: (string | null)[];
  /**
   * True on the ordered rows (src 'v' or 'l') of an attribute that has several of them in its entity
   * (instances, language strings): each bound of `a>=x;a<y` may then hold for a different value, so the
   * two-sided range driver (query-compile.ts) adds these entities whole (migration v7).
   */
  multi: boolean[];
}

/** entity_geo rows: every valid GeoJSON value of a GeoProperty instance. */
export interface GeoColumns {
  attr: string[];
  instance: number[];
  /** `{"type","coordinates"}` only, for ST_GeomFromGeoJSON. */
  geojson: string[];
}

export interface Derived {
  /** JSON text of the search document (see buildSearchDoc). */
  qdoc: string;
  attrs: AttrColumns;
  geo: GeoColumns;
}

/** Instance members addressable as q metadata (§4.9), and their key in the search document. */
export const META_KEYS = { observedAt: 'oa', createdAt: 'ca', modifiedAt: 'ma', unitCode: 'uc', datasetId: 'di' } as const;

/**
 * Microseconds since the epoch of a UTC DateTime (as compareDateTime orders them), as decimal text; null
 * when `v` is not a DateTime. Exceeds 2^53 for far dates, hence text (bound as bigint).
 */
export function dateTimeKey(v: unknown): string | null {
  const dt = parseDateTime(v);
  if (dt === null) return null;
  const frac = /\.(\d{1,6})Z$/.exec(dt)?.[1] ?? '';
  const subMillis = BigInt(Number(frac.padEnd(6, '0').slice(3)));
  return (BigInt(dateTimeToMillis(dt)) * 1000n + subMillis).toString();
}

/** Own-property assignment, safe for the key `__proto__` (the only one plain assignment mishandles). */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** The JSON value with every string and every member name replaced by its textKey. */
export function keyedJson(v: JsonValue): JsonValue {
  if (typeof v === 'string') return textKey(v);
  if (Array.isArray(v)) return v.map(keyedJson);
  if (isJsonObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) setOwn(out, textKey(k), keyedJson(x));
    return out;
  }
  return v;
}

/** The value channel of an instance: what q compares for Property-like kinds. */
function valueOf(inst: AttrInstance): JsonValue | undefined {
  switch (inst.type) {
    case 'Property':
    case 'GeoProperty':
      return inst.value;
    case 'JsonProperty':
      return inst.json;
    case 'ListProperty':
      return inst.valueList;
    default:
      return undefined;
  }
}

function referenceOf(inst: AttrInstance): string | string[] | undefined {
  if (inst.type === 'Relationship') return inst.object;
  if (inst.type === 'ListRelationship') return inst.objectList;
  if (inst.type === 'VocabProperty') return inst.vocab;
  return undefined;
}

/** Language map with tags lower-cased (tags match case-insensitively) and each tag's strings merged. */
function languageOf(map: Record<string, string | string[]>): JsonObject {
  const out: Record<string, JsonValue[]> = {};
  for (const [tag, v] of Object.entries(map)) {
    const key = textKey(tag.toLowerCase());
    const values = (Array.isArray(v) ? v : [v]).map((x) => keyedJson(x));
    setOwn(out, key, Object.hasOwn(out, key) ? [...out[key], ...values] : values);
  }
  return out;
}

/**
 * One instance in the search document: `v` value (keyed JSON), `r` reference, `l` language strings by
 * lower-cased tag, metadata under META_KEYS, `s` sub-attributes. Exactly one channel per kind.
 */
function searchInstance(inst: AttrInstance): JsonObject {
  const out: JsonObject = {};
  const value = valueOf(inst);
  if (value !== undefined) out.v = keyedJson(value);
  const ref = referenceOf(inst);
  if (ref !== undefined) out.r = keyedJson(ref);
  if (inst.type === 'LanguageProperty' && inst.languageMap !== undefined) out.l = languageOf(inst.languageMap);
  for (const [member, key] of Object.entries(META_KEYS)) {
    const m = inst[member as keyof typeof META_KEYS];
    if (m !== undefined) out[key] = keyedJson(m);
  }
  if (inst.attrs !== undefined) out.s = searchAttrs(inst.attrs);
  return out;
}

function searchAttrs(attrs: AttrMap): JsonObject {
  const out: JsonObject = {};
  for (const [name, instances] of Object.entries(attrs)) setOwn(out, textKey(name), instances.map(searchInstance));
  return out;
}

/** The orderBy value of an attribute (entity-query.ts attrSortValue): default instance, else the first. */
function sortValue(instances: AttrInstance[]): JsonValue | undefined {
  if (instances.length === 0) return undefined;
  const inst = instances.find((i) => i.datasetId === undefined) ?? instances[0];
  const v = inst.type === 'Relationship' ? inst.object : inst.value;
  if (typeof v === 'number') return v;
  return typeof v === 'string' ? textKey(v) : undefined;
}

/**
 * The search document: `c`/`m` entity createdAt/modifiedAt keys, `s` scopes split into levels, `o` sort
 * values by attribute, `a` attributes (search instances). Member names are textKeys.
 */
export function buildSearchDoc(entity: Entity): JsonObject {
  const doc: JsonObject = { c: textKey(entity.createdAt), m: textKey(entity.modifiedAt) };
  if (entity.scope !== undefined) doc.s = entity.scope.map((sc) => sc.split('/').slice(1).map(textKey));
  const order: JsonObject = {};
  for (const [name, instances] of Object.entries(entity.attrs)) {
    const v = sortValue(instances);
    if (v !== undefined) setOwn(order, textKey(name), v);
  }
  doc.o = order;
  doc.a = searchAttrs(entity.attrs);
  return doc;
}

/** Items of one root target, each with the source it came from. */
function rootItems(inst: AttrInstance): [AttrRowSource, JsonValue][] {
  const value = valueOf(inst);
  if (value !== undefined) return Array.isArray(value) ? value.map((x) => ['e', x]) : [['v', value]];
  const ref = referenceOf(inst);
  if (ref !== undefined) return (Array.isArray(ref) ? ref : [ref]).map((x) => ['r', x]);
  if (inst.type === 'LanguageProperty' && inst.languageMap !== undefined) {
    return Object.values(inst.languageMap).flatMap((v) => (Array.isArray(v) ? v : [v])).map((x) => ['l', x]);
  }
  return [];
}

/** Sources that ordering comparisons (`<`, `>=`, …) read: values and language strings, not array elements. */
export const ORDERED_SOURCES: readonly AttrRowSource[] = ['v', 'l'];

/** Sets `multi` on the ordered rows from `first` on (one attribute's rows) when there are several. */
function markMulti(c: AttrColumns, first: number): void {
  let ordered = 0;
  for (let i = first; i < c.src.length; i++) if (ORDERED_SOURCES.includes(c.src[i])) ordered += 1;
  if (ordered < 2) return;
  for (let i = first; i < c.src.length; i++) if (ORDERED_SOURCES.includes(c.src[i])) c.multi[i] = true;
}

/** The attribute names whose side rows may differ between two versions of an entity (added, removed, changed). */
export function changedAttrs(before: Entity, after: Entity): string[] {
  const out: string[] = [];
  for (const name of Object.keys(before.attrs)) {
    // Equal JSON text derives equal rows (derivation reads nothing else); unequal text is merely rewritten.
    if (!Object.hasOwn(after.attrs, name) || JSON.stringify(before.attrs[name]) !== JSON.stringify(after.attrs[name])) out.push(name);
  }
  for (const name of Object.keys(after.attrs)) if (!Object.hasOwn(before.attrs, name)) out.push(name);
  return out;
}

/** Whether an attribute's side rows are derived: all of them, or those named in `only`. */
function wanted(name: string, only: ReadonlySet<string> | undefined): boolean {
  return only === undefined || only.has(name);
}

function attrColumns(entity: Entity, only?: ReadonlySet<string>): AttrColumns {
  const c: AttrColumns = { attr: [], kind: [], head: [], src: [], num: [], str: [], dtk: [], multi: [] };
  const push = (attr: string, kind: string, head: boolean, src: AttrRowSource, item: JsonValue | undefined) => {
    const u = item === undefined ? undefined : unwrapTypedLiteral(item);
    c.attr.push(attr);
    c.kind.push(kind);
    c.head.push(head);
    c.src.push(src);
    c.num.push(typeof u === 'number' ? u : null);
    c.str.push(typeof u === 'string' ? textKey(u) : null);
    c.dtk.push(dateTimeKey(u));
    c.multi.push(false);
  };
  for (const [name, instances] of Object.entries(entity.attrs)) {
    if (!wanted(name, only)) continue;
    const attr = textKey(name);
    const first = c.attr.length;
    for (const inst of instances) {
      const items = rootItems(inst);
      if (items.length === 0) push(attr, inst.type, true, 'n', undefined);
      items.forEach(([src, item], i) => push(attr, inst.type, i === 0, src, item));
    }
    markMulti(c, first);
  }
  return c;
}

/** Generous: stored geometries were validated on write; this only re-checks their shape. */
const STORED_VERTEX_BOUND = Number.MAX_SAFE_INTEGER;

function geoColumns(entity: Entity, only?: ReadonlySet<string>): GeoColumns {
  const g: GeoColumns = { attr: [], instance: [], geojson: [] };
  for (const [name, instances] of Object.entries(entity.attrs)) {
    if (!wanted(name, only)) continue;
    instances.forEach((inst, i) => {
      if (inst.type !== 'GeoProperty' || validateGeometry(inst.value, STORED_VERTEX_BOUND) !== null) return;
      const v = inst.value as JsonObject;
      g.attr.push(textKey(name));
      g.instance.push(i);
      g.geojson.push(JSON.stringify({ type: v.type, coordinates: v.coordinates }));
    });
  }
  return g;
}

/**
 * Everything the store writes beside the document for one entity; with `only`, the side rows of those
 * attributes alone (the search document is always whole).
 */
export function deriveEntity(entity: Entity, only?: ReadonlySet<string>): Derived {
  return {
    qdoc: JSON.stringify(buildSearchDoc(entity)),
    attrs: attrColumns(entity, only),
    geo: geoColumns(entity, only),
  };
}
