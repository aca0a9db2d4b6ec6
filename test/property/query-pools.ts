// Value pools shared by the query generators (test/property): names, strings, numbers, temporal literals,
// scopes and geometry centres. Data and queries draw from the same pools so that filters meet the data.
import type { AttrKind } from '../../src/core/model/entity.ts';

const NS = 'https://kend.test/ns/';

/**
 * Strings that break naive SQL or JSON-path building: quotes, backslashes, NUL, unicode (astral and
 * high-BMP, whose UTF-16 and code point orders differ), JSON-path metacharacters and SQL fragments.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  "'); DROP TABLE entities;--",
  '" OR 1=1 --',
  "' OR ''='",
  '\\',
  '\\"',
  '\u0000',
  'a\u0000b',
  '$.attrs',
  '$[0]',
  'a.b',
  '[',
  ']',
  '"',
  "'",
  '%_*?',
  'é',
  '😀',
  '\uFFFD',
  '\uFF5A',
  '日本',
  'line\nbreak\ttab',
  '`;|/',
  '..',
  '$',
  '*',
];

export interface AttrSpec {
  name: string;
  kind: AttrKind;
  /** Probability that an entity has the attribute. */
  frequency: number;
}

export const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
export const OBSERVATION_SPACE = 'https://uri.etsi.org/ngsi-ld/observationSpace';

export const ATTRS: readonly AttrSpec[] = [
  { name: `${NS}temperature`, kind: 'Property', frequency: 0.7 },
  { name: `${NS}humidity`, kind: 'Property', frequency: 0.4 },
  { name: `${NS}name`, kind: 'LanguageProperty', frequency: 0.4 },
  { name: `${NS}status`, kind: 'Property', frequency: 0.5 },
  { name: `${NS}tags`, kind: 'ListProperty', frequency: 0.3 },
  { name: `${NS}address`, kind: 'Property', frequency: 0.3 },
  { name: `${NS}category`, kind: 'VocabProperty', frequency: 0.3 },
  { name: `${NS}owner`, kind: 'Relationship', frequency: 0.4 },
  { name: `${NS}links`, kind: 'ListRelationship', frequency: 0.2 },
  { name: `${NS}config`, kind: 'JsonProperty', frequency: 0.3 },
  { name: `${NS}when`, kind: 'Property', frequency: 0.3 },
  { name: LOCATION, kind: 'GeoProperty', frequency: 0.7 },
  { name: OBSERVATION_SPACE, kind: 'GeoProperty', frequency: 0.2 },
  // Names that must be quoted in JSON paths and never pasted into SQL.
  { name: `${NS}we"ird.at[tr]$'\\`, kind: 'Property', frequency: 0.3 },
  { name: `${NS}ünï😀`, kind: 'Property', frequency: 0.2 },
];

/** Sub-attribute names (FQNs); also used as attribute names no entity has. */
export const SUB_ATTRS: readonly string[] = [`${NS}accuracy`, `${NS}providedBy`, `${NS}status`, `${NS}no"te`];

export const TYPES: readonly string[] = [`${NS}Sensor`, `${NS}Room`, `${NS}Car`, `${NS}Ty"pe'; DROP`, `${NS}Typ😀`];

/** Keys of JSON objects in values, and of `[key]` paths: ordinary, numeric, prototype-ish, hostile. */
export const JSON_KEYS: readonly string[] = [
  'city',
  'zip',
  'a',
  'b',
  '0',
  '1',
  '10',
  '01',
  'a.b',
  'x"y',
  "x'y",
  '[0]',
  '$',
  '',
  'n\u0000ul',
  'ключ',
  '😀',
  '__proto__',
  'constructor',
  'length',
  '@value',
  '@type',
];

/** The keys most generated objects use, so that `[key]` paths usually find something. */
export const COMMON_KEYS: readonly string[] = ['city', 'zip', 'a', 'b', '0', '1'];

export const STRING_POOL: readonly string[] = [
  'red',
  'green',
  'Red',
  'm',
  'z',
  '',
  '30',
  'true',
  'urn:ngsi-ld:Thing:1',
  'https://kend.test/ns/commercial',
  'Lyon',
  'lyon',
  'Zürich',
  '😀 smile',
  '\uFF5Afull',
  '\uFFFD',
  'a\u0000b',
  'quote"inside',
  "it's",
  'back\\slash',
];

export const NUMBER_POOL: readonly number[] = [0, 1, -1, 2, 7, 20, 20.5, 21, 30, -40.25, 100, 1e6, -0.001, 3.14159, 1e21, 123456789.125];

/** DateTimes (with fractions of several lengths and the `,` separator), Dates and Times. */
export const DATE_TIMES: readonly string[] = [
  '2024-05-01T10:00:00Z',
  '2024-05-01T10:00:00.000Z',
  '2024-05-01T10:00:00.5Z',
  '2024-05-01T10:00:00,250Z',
  '2024-05-01T09:59:59.999999Z',
  '2023-12-31T23:59:59Z',
  '2025-01-01T00:00:00Z',
  '2024-02-29T12:00:00Z',
];
export const DATES: readonly string[] = ['2024-05-01', '2023-12-31', '2025-01-01', '2024-02-29'];
export const TIMES: readonly string[] = ['10:00:00Z', '10:00:00.5Z', '09:59:59Z', '23:59:59.999Z', '00:00:00Z'];

export const SCOPES: readonly string[] = ['/Madrid', '/Madrid/Gardens', '/Madrid/Gardens/Norte', '/Madrid/Districts', '/CompanyA', '/CompanyA/Unit_1', '/Zürich/Ost', '/Madrid/Gardens/Sur'];

/** Centres of generated geometries: mid-latitude, high latitude, the equator, near the antimeridian. */
export const CENTRES: readonly [number, number][] = [
  [-3.7, 40.4],
  [25.0, 78.2],
  [0.0, 0.0],
  [179.99, -16.5],
  [-3.69, 40.41],
];
