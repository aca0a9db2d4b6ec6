// Output-shaping URL parameters shared by retrieve and query (GS CIM 009 §6.3.7, §6.3.11, §4.15, §4.21):
// format / options (format wins), sysAttrs, lang, pick / omit / attrs, datasetId, geometryProperty.
import { badRequestData, invalidRequest } from '../core/errors.ts';
import type { TermMap } from '../core/jsonld/term-map.ts';
import { parseLang, type LangPreference } from '../core/model/lang.ts';
import { parseProjection, type Projection } from '../core/model/projection.ts';
import { isAbsoluteUri, isValidName } from '../core/names.ts';
import type { QueryParams } from './query-params.ts';

export type Format = 'normalized' | 'concise' | 'keyValues';

const FORMATS: Record<string, Format> = {
  normalized: 'normalized',
  concise: 'concise',
  keyValues: 'keyValues',
  simplified: 'keyValues',
};

export interface ReadOptions {
  format: Format;
  sysAttrs: boolean;
  lang?: LangPreference;
  projection?: Projection;
  datasetIds?: string[];
  /** FQN of the GeoProperty used as the GeoJSON geometry. */
  geometryProperty: string;
}

/** Parses `options`: a comma list whose tokens must all be in `allowed`; unknown → InvalidRequest. */
export function parseOptionTokens(query: QueryParams, allowed: readonly string[]): Set<string> {
  const raw = query.get('options');
  const tokens = new Set<string>();
  if (raw === undefined) return tokens;
  for (const token of raw.split(',')) {
    const t = token.trim();
    if (!allowed.includes(t)) throw invalidRequest(`Unknown options value "${t}"`, 'Invalid options');
    tokens.add(t);
  }
  return tokens;
}

/** The representation asked for by `format` or, failing that, by a representation token of `options`. */
export function parseFormat(query: QueryParams, options: Set<string>): Format {
  const format = query.get('format');
  if (format !== undefined) {
    const f = FORMATS[format];
    if (f === undefined) throw invalidRequest(`Unknown format "${format}"`, 'Invalid format');
    return f;
  }
  for (const token of options) {
    const f = FORMATS[token];
    if (f !== undefined) return f;
  }
  return 'normalized';
}

export function parseReadOptions(query: QueryParams, terms: TermMap, geoResponse: boolean): ReadOptions {
  const options = parseOptionTokens(query, ['keyValues', 'concise', 'normalized', 'simplified', 'sysAttrs']);
  const format = parseFormat(query, options);
  const out: ReadOptions = {
    format,
    sysAttrs: options.has('sysAttrs'),
    geometryProperty: terms.expandTerm('location'),
  };
  const lang = query.get('lang');
  if (lang !== undefined) out.lang = parseLang(lang);
  const pick = query.get('pick');
  const omit = query.get('omit');
  const attrs = query.get('attrs');
  if (pick !== undefined || omit !== undefined || attrs !== undefined) {
    out.projection = parseProjection({ pick, omit, attrs }, terms);
  }
  const datasetId = query.get('datasetId');
  if (datasetId !== undefined) {
    const ids = datasetId.split(',').map((s) => s.trim());
    for (const id of ids) {
      if (id !== '@none' && !isAbsoluteUri(id)) throw badRequestData(`datasetId "${id}" is not a URI`, 'Invalid datasetId');
    }
    out.datasetIds = ids;
  }
  const geometryProperty = query.get('geometryProperty');
  if (geometryProperty !== undefined) {
    if (!geoResponse) {
      throw badRequestData('geometryProperty is only allowed with Accept: application/geo+json', 'Invalid geometryProperty');
    }
    if (!isValidName(geometryProperty)) throw badRequestData(`"${geometryProperty}" is not a valid attribute name`, 'Invalid geometryProperty');
    out.geometryProperty = terms.expandTerm(geometryProperty);
  }
  return out;
}
