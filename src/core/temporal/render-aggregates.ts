// The aggregated temporal representation (GS CIM 009 §4.5.19; guide §15.4): per attribute, per method, the
// triples [result, bucketStart, bucketEnd]; and its JSON text, where numeric results of avg, min, max, sum,
// stddev and sumsq are written as decimals (`100.0`, not `100`) because typed clients tell them apart.
import type { JsonObject, JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { AttrKind } from '../model/entity.ts';
import type { Projection } from '../model/projection.ts';
import { formatInstant } from './instant.ts';
import { addEntityTimestamps, keepsTemporalAttr, renderTemporalHead } from './render-temporal.ts';
import { AGGREGATION_METHODS, type AggregationMethod, type TemporalEntityAggregates } from './model.ts';

/** Methods whose numeric results are decimals. */
const DECIMAL_METHODS: ReadonlySet<string> = new Set<AggregationMethod>(['sum', 'avg', 'min', 'max', 'stddev', 'sumsq']);

export interface AggregateRenderOptions {
  sysAttrs: boolean;
  projection?: Projection;
  /** The kind of each attribute (from the current entity), for `type`; Property when unknown. */
  kinds?: Readonly<Record<string, AttrKind>>;
}

/** One aggregated entity; null when the projection leaves nothing. */
export function renderAggregatedEntity(result: TemporalEntityAggregates, terms: TermMap, opts: AggregateRenderOptions): JsonObject | null {
  const out = renderTemporalHead(result.entity, terms, opts.projection);
  // Bucket bounds repeat (each end is the next start, every method has the same buckets): format each once.
  // Formatting was a quarter of an hourly aggregation's time over 1,000 buckets.
  const instants = new Map<number, string>();
  const instant = (ms: number): string => {
    let text = instants.get(ms);
    if (text === undefined) instants.set(ms, (text = formatInstant(ms)));
    return text;
  };
  for (const [attr, methods] of Object.entries(result.attrs)) {
    if (!keepsTemporalAttr(opts.projection, attr)) continue;
    const body: JsonObject = { type: opts.kinds?.[attr] ?? 'Property' };
    for (const method of AGGREGATION_METHODS) {
      const series = methods[method];
      if (series === undefined) continue;
      body[method] = series.map((s) => [s.value, instant(s.startMs), instant(s.endMs)]);
    }
    out[terms.compactIri(attr)] = body;
  }
  if (Object.keys(out).length === 0) return null;
  if (opts.sysAttrs) addEntityTimestamps(out, result.entity);
  return out;
}

/** A number as a JSON decimal: integers get `.0`; non-finite numbers are null. */
export function decimalText(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  // Integers below 1e21 print without exponent or fraction (String(n) is JSON's text for finite numbers).
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return `${String(n)}.0`;
  const text = String(n);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

const ENTITY_MEMBERS: ReadonlySet<string> = new Set(['id', 'type', '@context', 'createdAt', 'modifiedAt', 'deletedAt']);

function seriesText(series: JsonValue): string {
  if (!Array.isArray(series)) return JSON.stringify(series);
  // Concatenation rather than arrays joined: a series has a triple per bucket (thousands per answer).
  let text = '[';
  for (let i = 0; i < series.length; i++) {
    const triple = series[i]!;
    if (i > 0) text += ',';
    if (!Array.isArray(triple) || typeof triple[0] !== 'number') {
      text += JSON.stringify(triple);
      continue;
    }
    text += `[${decimalText(triple[0])}`;
    for (let k = 1; k < triple.length; k++) text += `,${JSON.stringify(triple[k])}`;
    text += ']';
  }
  return `${text}]`;
}

function objectText(obj: JsonObject, member: (key: string, value: JsonValue) => string): string {
  return `{${Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}:${member(k, v)}`).join(',')}}`;
}

function attributeText(attr: JsonValue): string {
  if (attr === null || typeof attr !== 'object' || Array.isArray(attr)) return JSON.stringify(attr);
  return objectText(attr, (k, v) => (DECIMAL_METHODS.has(k) ? seriesText(v) : JSON.stringify(v)));
}

function entityText(entity: JsonValue): string {
  if (entity === null || typeof entity !== 'object' || Array.isArray(entity)) return JSON.stringify(entity);
  return objectText(entity, (k, v) => (ENTITY_MEMBERS.has(k) ? JSON.stringify(v) : attributeText(v)));
}

/** JSON text of an aggregated answer (one entity or an array of them), decimals where §4.5.19 wants them. */
export function stringifyAggregated(body: JsonValue): string {
  return Array.isArray(body) ? `[${body.map(entityText).join(',')}]` : entityText(body);
}
