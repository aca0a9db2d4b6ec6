// Merging aggregated temporal answers of several parties (GS CIM 009 §4.5.19, §5.7.3, §5.7.4, §5.12; guide
// §15.4, §16.3; issue 7 item 3). An attribute aggregated by one party only passes through: it is exact.
// When several parties hold instances of the same attribute, their buckets are combined where that is
// exact: totalCount, sum and sumsq add up, min and max take the extreme (numbers before strings, as the
// local aggregation does); avg and stddev are recomputed from each party's sum and its count of numeric
// values, which is sum/avg (the forwarded request asks for sum, avg and sumsq as helpers, stripped again
// before rendering). What cannot be combined exactly — distinctCount (values may repeat across parties),
// avg/stddev of a party whose numeric count is unknowable (avg 0), buckets whose boundaries differ (`before`
// windows start at each party's oldest instance) — keeps the value of the first party holding it (local
// data first, then sources in registration order) and is reported as a conflict (NGSILD-Warning 299). Pure.
import { dateTimeToMillis, parseDateTime } from '../datetime.ts';
import { NgsiError } from '../errors.ts';
import { isJsonObject, type JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { ATTRIBUTE_KINDS, type AttrKind } from '../model/entity.ts';
import { attributeFqn } from '../model/parse-attribute.ts';
import { isAbsoluteUri } from '../names.ts';
import { compareCodePoints } from '../temporal/reference-aggregate.ts';
import { AGGREGATION_METHODS, type AggregateSeries, type AggregationMethod, type TemporalEntityAggregates } from '../temporal/model.ts';
import type { RemoteRead } from './remote-entity.ts';

/** One party's aggregated answer: entities and, per entity, the kind of each attribute. */
export interface AggregatePart {
  entities: TemporalEntityAggregates[];
  kinds: Record<string, Record<string, AttrKind>>;
}

/** A value that could not be combined exactly: the first holder's value was kept. */
export interface AggregateConflict {
  /** Index of the part whose value was left out. */
  part: number;
  entityId: string;
  attr: string;
  method: AggregationMethod | 'buckets';
}

export interface MergedAggregates extends AggregatePart {
  conflicts: AggregateConflict[];
}

/** The methods to ask every party for: the client's plus the helpers that make avg/stddev combinable. */
export function methodsToAsk(requested: readonly AggregationMethod[]): AggregationMethod[] {
  const out = new Set(requested);
  // sum, avg and sumsq apply exactly where avg and stddev do (numeric values), so they never add a 400.
  if (out.has('avg') || out.has('stddev')) {
    out.add('sum');
    out.add('avg');
  }
  if (out.has('stddev')) out.add('sumsq');
  return AGGREGATION_METHODS.filter((m) => out.has(m));
}

/** The entity with only the requested methods (the helpers removed); attributes left empty are dropped. */
export function onlyRequested(e: TemporalEntityAggregates, requested: readonly AggregationMethod[]): TemporalEntityAggregates {
  const attrs: TemporalEntityAggregates['attrs'] = {};
  for (const [attr, methods] of Object.entries(e.attrs)) {
    const kept = Object.fromEntries(Object.entries(methods).filter(([m]) => (requested as readonly string[]).includes(m)));
    if (Object.keys(kept).length > 0) attrs[attr] = kept;
  }
  return { entity: e.entity, attrs };
}

// ---- reading a source's aggregated answer ----

const ENTITY_MEMBERS = new Set(['@context', 'id', '@id', 'type', '@type', 'createdAt', 'modifiedAt', 'deletedAt', 'scope']);
const isKind = (k: unknown): k is AttrKind => typeof k === 'string' && (ATTRIBUTE_KINDS as readonly string[]).includes(k);

function fail(reason: string): never {
  throw new TypeError(reason);
}

function seriesOf(raw: JsonValue, where: string): AggregateSeries {
  if (!Array.isArray(raw)) fail(`${where} is not an array of [value, start, end]`);
  return raw.map((triple) => {
    if (!Array.isArray(triple) || triple.length !== 3) fail(`${where} holds an entry that is not [value, start, end]`);
    const [value, start, end] = triple;
    if (value !== null && typeof value !== 'number' && typeof value !== 'string') fail(`${where} holds a value that is not a number or string`);
    const s = parseDateTime(start);
    const e = parseDateTime(end);
    if (s === null || e === null) fail(`${where} holds a bucket bound that is not a DateTime`);
    const startMs = dateTimeToMillis(s);
    const endMs = dateTimeToMillis(e);
    if (!(startMs < endMs)) fail(`${where} holds a bucket that ends before it starts`);
    return { value, startMs, endMs };
  });
}

function aggregatedEntityOf(body: JsonValue, terms: TermMap, nowIso: string): { entity: TemporalEntityAggregates; kinds: Record<string, AttrKind> } {
  if (!isJsonObject(body)) fail('an aggregated entity is not a JSON object');
  const id = body.id ?? body['@id'];
  if (typeof id !== 'string' || !isAbsoluteUri(id)) fail('an aggregated entity has no valid id');
  const rawType = body.type ?? body['@type'];
  const typeNames = typeof rawType === 'string' ? [rawType] : Array.isArray(rawType) && rawType.every((t) => typeof t === 'string') ? (rawType as string[]) : fail(`entity ${id} has no valid type`);
  if (typeNames.length === 0) fail(`entity ${id} has no type`);
  const attrs: TemporalEntityAggregates['attrs'] = {};
  const kinds: Record<string, AttrKind> = {};
  for (const [name, raw] of Object.entries(body)) {
    if (ENTITY_MEMBERS.has(name)) continue;
    if (!isJsonObject(raw)) fail(`attribute ${name} of ${id} is not an aggregated attribute object`);
    const fqn = attributeFqn(name, terms, name);
    const methods: Partial<Record<AggregationMethod, AggregateSeries>> = {};
    for (const m of AGGREGATION_METHODS) if (raw[m] !== undefined) methods[m] = seriesOf(raw[m]!, `${name}.${m} of ${id}`);
    if (Object.keys(methods).length === 0) continue;
    attrs[fqn] = methods;
    if (isKind(raw.type)) kinds[fqn] = raw.type;
  }
  const stamp = (k: 'createdAt' | 'modifiedAt'): string => parseDateTime(body[k]) ?? nowIso;
  const entity: TemporalEntityAggregates['entity'] = { id, types: typeNames.map((t) => terms.expandTerm(t)), createdAt: stamp('createdAt'), modifiedAt: stamp('modifiedAt') };
  return { entity: { entity, attrs }, kinds };
}

/** A source's aggregated answer: an array of entities (a query) or one entity (a retrieve). */
export function readRemoteAggregates(body: JsonValue | undefined, terms: TermMap, nowIso: string, one: boolean): RemoteRead<AggregatePart> {
  try {
    if (body === undefined) fail('empty answer');
    const items = one ? [body] : Array.isArray(body) ? body : fail('a query answer is not a JSON array');
    const part: AggregatePart = { entities: [], kinds: {} };
    for (const item of items) {
      const read = aggregatedEntityOf(item, terms, nowIso);
      part.entities.push(read.entity);
      part.kinds[read.entity.entity.id] = read.kinds;
    }
    return { ok: true, value: part };
  } catch (e) {
    // TypeError: a shape rule here; NgsiError: an invalid attribute name (attributeFqn).
    if (e instanceof TypeError || e instanceof NgsiError) return { ok: false, reason: `unusable payload: ${e.message}` };
    throw e;
  }
}

// ---- combining ----

type Value = number | string | null;

/** Numbers first, then strings in code-point order (the local min/max rule). */
function extreme(values: readonly Value[], sign: 1 | -1): Value {
  const nums = values.filter((v): v is number => typeof v === 'number');
  if (nums.length > 0) return sign > 0 ? Math.max(...nums) : Math.min(...nums);
  const texts = values.filter((v): v is string => typeof v === 'string');
  if (texts.length === 0) return null;
  return texts.reduce((a, b) => (sign * compareCodePoints(b, a) > 0 ? b : a));
}

const num = (v: Value | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** One party's bucket: the value of every method it reported there. */
type PartyBucket = Partial<Record<AggregationMethod, Value>>;

/** A party's count of numeric values in a bucket: 0 without numbers, sum/avg otherwise; null when unknowable. */
function numericCount(b: PartyBucket): number | null {
  const avg = num(b.avg);
  const sum = num(b.sum);
  if (b.avg === null || b.sum === null) return 0;
  if (avg === null || sum === null || avg === 0) return null;
  const n = sum / avg;
  const rounded = Math.round(n);
  return rounded >= 1 && Math.abs(n - rounded) <= 1e-6 * Math.max(1, rounded) ? rounded : null;
}

/** The combined value of `method` over the parties' buckets, or undefined when it cannot be exact. */
function combine(method: AggregationMethod, buckets: readonly PartyBucket[]): Value | undefined {
  const values = buckets.map((b) => b[method]).filter((v): v is Value => v !== undefined);
  switch (method) {
    case 'totalCount':
    case 'sum':
    case 'sumsq': {
      const nums = values.map(num).filter((v): v is number => v !== null);
      return nums.length === 0 ? null : nums.reduce((a, b) => a + b, 0);
    }
    case 'min':
      return extreme(values, -1);
    case 'max':
      return extreme(values, 1);
    case 'distinctCount':
      return undefined;
    case 'avg':
    case 'stddev': {
      let n = 0;
      let sum = 0;
      let sumsq = 0;
      for (const b of buckets) {
        const count = numericCount(b);
        if (count === null) return undefined;
        if (count === 0) continue;
        n += count;
        sum += num(b.sum)!;
        if (method === 'stddev') {
          const sq = num(b.sumsq);
          if (sq === null) return undefined;
          sumsq += sq;
        }
      }
      if (n === 0) return null;
      const mean = sum / n;
      return method === 'avg' ? mean : Math.sqrt(Math.max(0, sumsq / n - mean * mean));
    }
  }
}

const bucketKey = (startMs: number, endMs: number): string => `${startMs}/${endMs}`;

/** Per party holding the attribute: its buckets keyed by start/end, each with every method's value. */
function bucketsOf(methods: Partial<Record<AggregationMethod, AggregateSeries>>, single: boolean, span: { startMs: number; endMs: number }): Map<string, PartyBucket & { startMs: number; endMs: number }> {
  const out = new Map<string, PartyBucket & { startMs: number; endMs: number }>();
  for (const m of AGGREGATION_METHODS) {
    for (const s of methods[m] ?? []) {
      // Without a period each party has one bucket spanning its own instances: they all describe the union span.
      const [startMs, endMs] = single ? [span.startMs, span.endMs] : [s.startMs, s.endMs];
      const key = bucketKey(startMs, endMs);
      const b = out.get(key) ?? { startMs, endMs };
      b[m] = s.value;
      out.set(key, b);
    }
  }
  return out;
}

/** Whether the parties' buckets line up: any two either coincide or do not overlap. */
function aligned(parties: readonly Map<string, { startMs: number; endMs: number }>[]): boolean {
  const all = new Map<string, { startMs: number; endMs: number }>();
  for (const p of parties) for (const [k, b] of p) all.set(k, b);
  const sorted = [...all.values()].sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.startMs < sorted[i - 1]!.endMs) return false;
  return true;
}

function mergeAttribute(
  holders: readonly { part: number; methods: Partial<Record<AggregationMethod, AggregateSeries>> }[],
  requested: readonly AggregationMethod[],
  single: boolean,
  report: (part: number, method: AggregateConflict['method']) => void,
): Partial<Record<AggregationMethod, AggregateSeries>> {
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const h of holders) {
    for (const series of Object.values(h.methods)) {
      for (const s of series ?? []) {
        startMs = Math.min(startMs, s.startMs);
        endMs = Math.max(endMs, s.endMs);
      }
    }
  }
  const parties = holders.map((h) => bucketsOf(h.methods, single, { startMs, endMs }));
  // Without a period every party answers one bucket per method; more cannot be placed in the union span.
  const oneEach = !single || holders.every((h) => Object.values(h.methods).every((series) => (series?.length ?? 0) <= 1));
  if (!oneEach || !aligned(parties)) {
    for (const h of holders.slice(1)) report(h.part, 'buckets');
    return holders[0]!.methods;
  }
  const keys = [...new Set(parties.flatMap((p) => [...p.keys()]))];
  const out: Partial<Record<AggregationMethod, AggregateSeries>> = {};
  for (const method of requested) {
    const series: AggregateSeries = [];
    for (const key of keys) {
      const at = parties.map((p, i) => ({ i, b: p.get(key) })).filter((x): x is { i: number; b: PartyBucket & { startMs: number; endMs: number } } => x.b !== undefined && x.b[method] !== undefined);
      if (at.length === 0) continue;
      const { startMs: s, endMs: e } = at[0]!.b;
      let value: Value | undefined = at.length === 1 ? at[0]!.b[method] : combine(method, at.map((x) => x.b));
      if (value === undefined) {
        for (const x of at.slice(1)) report(holders[x.i]!.part, method);
        value = at[0]!.b[method]!;
      }
      series.push({ value, startMs: s, endMs: e });
    }
    // A method with no value in any bucket does not apply to the attribute (the local rule): left out.
    if (series.length > 0 && series.some((x) => x.value !== null)) out[method] = series.sort((a, b) => a.startMs - b.startMs);
  }
  return out;
}

/**
 * The parties' answers merged per entity (order: local first, then new ids in part order) and attribute.
 * `requested`: the methods every party was asked for (helpers included); `single`: no aggregation period.
 */
export function mergeAggregateParts(parts: readonly AggregatePart[], requested: readonly AggregationMethod[], single: boolean): MergedAggregates {
  const order: string[] = [];
  const byId = new Map<string, { part: number; e: TemporalEntityAggregates }[]>();
  parts.forEach((p, part) => {
    for (const e of p.entities) {
      const id = e.entity.id;
      if (!byId.has(id)) {
        byId.set(id, []);
        order.push(id);
      }
      byId.get(id)!.push({ part, e });
    }
  });
  const out: MergedAggregates = { entities: [], kinds: {}, conflicts: [] };
  for (const id of order) {
    const holders = byId.get(id)!;
    const first = holders[0]!.e.entity;
    const entity = { ...first, types: [...new Set(holders.flatMap((h) => h.e.entity.types))] };
    const attrs: TemporalEntityAggregates['attrs'] = {};
    const kinds: Record<string, AttrKind> = {};
    const names = [...new Set(holders.flatMap((h) => Object.keys(h.e.attrs)))];
    for (const attr of names) {
      const withAttr = holders.filter((h) => h.e.attrs[attr] !== undefined).map((h) => ({ part: h.part, methods: h.e.attrs[attr]! }));
      attrs[attr] =
        withAttr.length === 1
          ? withAttr[0]!.methods
          : mergeAttribute(withAttr, requested, single, (part, method) => out.conflicts.push({ part, entityId: id, attr, method }));
      const kind = withAttr.map((h) => parts[h.part]!.kinds[id]?.[attr]).find((k) => k !== undefined);
      if (kind !== undefined) kinds[attr] = kind;
    }
    out.entities.push({ entity, attrs });
    out.kinds[id] = kinds;
  }
  return out;
}
