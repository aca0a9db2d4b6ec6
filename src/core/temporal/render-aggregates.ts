// The aggregated temporal representation (GS CIM 009 §4.5.19; guide §15.4): per attribute, per method, the
// triples [result, bucketStart, bucketEnd]; and its JSON text, where numeric results of avg, min, max, sum,
// stddev and sumsq are written as decimals (`100.0`, not `100`) because typed clients tell them apart.
import type { JsonObject, JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { AttrKind } from '../model/entity.ts';
import type { Projection } from '../model/projection.ts';
import { formatInstant } from './instant.ts';
import { addEntityTimestamps, keepsTemporalAttr, renderTemporalHead } from './render-temporal.ts';
import { AGGREGATION_METHODS, type AggregateSeries, type AggregationMethod, type TemporalEntityAggregates } from './model.ts';

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
  for (const [attr, methods] of Object.entries(result.attrs)) {
    if (!keepsTemporalAttr(opts.projection, attr)) continue;
    const body: JsonObject = { type: opts.kinds?.[attr] ?? 'Property' };
    // Every method of an attribute has the same buckets (stores and the reference read them from the same
    // rows), and each end is the next start: each bound is formatted once, and the texts are shared by all
    // methods when their bounds agree (checked, not assumed). Formatting was a quarter of an hourly
    // aggregation's time over 1,000 buckets.
    let starts: string[] | null = null;
    let ends: string[] | null = null;
    let tails: string[] | null = null;
    let first: AggregateSeries | null = null;
    for (const method of AGGREGATION_METHODS) {
      const series = methods[method];
      if (series === undefined) continue;
      if (first === null || !sameBuckets(first, series)) {
        first = series;
        ({ starts, ends } = boundTexts(series));
        // The JSON text after each value (`,"start","end"]`), also shared by the methods.
        tails = starts.map((start, i) => `,"${start}","${ends![i]!}"]`);
      }
      const triples: JsonValue[] = new Array<JsonValue>(series.length);
      // The series' JSON text is written here, where the bounds are known to be formatInstant's texts (no
      // escaping needed) and the method known, and kept for stringifyAggregated: quoting 2,000 bounds per
      // method there cost more than the rest of the rendering.
      const decimal = DECIMAL_METHODS.has(method);
      // join, not +=: it makes one flat string, where += leaves a tree of thousands of pieces that the
      // WeakMap keeps past the young generation (a third of the time went to the garbage collector).
      const texts = new Array<string>(series.length);
      for (let i = 0; i < series.length; i++) {
        const value = series[i]!.value;
        triples[i] = [value, starts![i]!, ends![i]!];
        const valueText = typeof value === 'number' && decimal ? decimalText(value) : JSON.stringify(value);
        texts[i] = `[${valueText}${tails![i]!}`;
      }
      SERIES_TEXT.set(triples, `[${texts.join(',')}]`);
      body[method] = triples;
    }
    out[terms.compactIri(attr)] = body;
  }
  if (Object.keys(out).length === 0) return null;
  if (opts.sysAttrs) addEntityTimestamps(out, result.entity);
  return out;
}

/**
 * The JSON text of each series array renderAggregatedEntity built, by identity (weakly: it goes with the body).
 * Those arrays are never changed after rendering (bodies are only serialised; dispatch adds @context to the
 * entity object, a copy).
 */
const SERIES_TEXT = new WeakMap<JsonValue[], string>();

function sameBuckets(a: AggregateSeries, b: AggregateSeries): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.startMs !== b[i]!.startMs || a[i]!.endMs !== b[i]!.endMs) return false;
  return true;
}

/** The bounds of a series as text; an end equal to the next start shares its text. */
function boundTexts(series: AggregateSeries): { starts: string[]; ends: string[] } {
  const starts = new Array<string>(series.length);
  const ends = new Array<string>(series.length);
  let lastMs = Number.NaN;
  let lastText = '';
  for (let i = 0; i < series.length; i++) {
    const b = series[i]!;
    starts[i] = b.startMs === lastMs ? lastText : formatInstant(b.startMs);
    lastMs = b.endMs;
    lastText = ends[i] = formatInstant(b.endMs);
  }
  return { starts, ends };
}

/** A number as a JSON decimal: integers get `.0`; non-finite numbers are null. */
export function decimalText(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  // String(n) is JSON's text for finite numbers: a fraction or an exponent unless n is an integer, and
  // integers below 1e21 print without exponent.
  if (!Number.isInteger(n)) return String(n);
  return Math.abs(n) < 1e21 ? `${n}.0` : String(n);
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

/** A series: the text rendering wrote, else its triples with decimals where DECIMAL_METHODS want them. */
function methodText(method: string, series: JsonValue): string {
  if (Array.isArray(series)) {
    const rendered = SERIES_TEXT.get(series);
    if (rendered !== undefined) return rendered;
  }
  return DECIMAL_METHODS.has(method) ? seriesText(series) : JSON.stringify(series);
}

function attributeText(attr: JsonValue): string {
  if (attr === null || typeof attr !== 'object' || Array.isArray(attr)) return JSON.stringify(attr);
  return objectText(attr, methodText);
}

function entityText(entity: JsonValue): string {
  if (entity === null || typeof entity !== 'object' || Array.isArray(entity)) return JSON.stringify(entity);
  return objectText(entity, (k, v) => (ENTITY_MEMBERS.has(k) ? JSON.stringify(v) : attributeText(v)));
}

/** JSON text of an aggregated answer (one entity or an array of them), decimals where §4.5.19 wants them. */
export function stringifyAggregated(body: JsonValue): string {
  return Array.isArray(body) ? `[${body.map(entityText).join(',')}]` : entityText(body);
}
