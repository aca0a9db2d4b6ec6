// Hostile-input queries for the query differential suites: every filter (q values, [json] keys, paths,
// idPattern, ids, scopes, type names, attrs, geoproperty, orderBy) carrying quotes, NUL, unicode,
// JSON-path metacharacters and SQL fragments. Plus a printable description of a query for messages.
import { RE2JS } from 're2js';
import { formatQ } from '../../src/core/query/q-format.ts';
import type { EntityQuery } from '../../src/core/query/entity-query.ts';
import type { QPath } from '../../src/core/query/q-ast.ts';
import { ATTRS, HOSTILE_STRINGS, LOCATION } from './query-pools.ts';

/** One line describing a query: q printed with formatQ, everything else as JSON (escapes visible). */
export function describeQuery(query: EntityQuery): string {
  const { q, ...rest } = query;
  return `${q === undefined ? '' : `q=${JSON.stringify(formatQ(q))} `}${JSON.stringify(rest)}`;
}

const path = (attr: string, extra: Partial<QPath> = {}): QPath => ({ attr, sub: [], ...extra });

/** Labelled queries, each pushing one hostile string `h` through one filter. */
export function hostileQueries(knownIds: readonly string[]): [string, EntityQuery][] {
  const out: [string, EntityQuery][] = [];
  const temperature = ATTRS[0].name;
  const address = ATTRS[5].name;
  const name = ATTRS[2].name;
  const weird = ATTRS.find((a) => a.name.includes('"'))!.name;
  HOSTILE_STRINGS.forEach((h, i) => {
    const tag = `#${i} ${JSON.stringify(h)}`;
    const str = { kind: 'string' as const, value: h };
    out.push([`q value ${tag}`, { q: { type: 'compare', path: path(temperature), op: '==', value: str } }]);
    out.push([`q value != ${tag}`, { q: { type: 'compare', path: path(weird), op: '!=', value: str } }]);
    out.push([`q order ${tag}`, { q: { type: 'compare', path: path(address, { jsonPath: ['city'] }), op: '>', value: str } }]);
    out.push([`q list ${tag}`, { q: { type: 'compare', path: path(name), op: '==', value: { kind: 'list', items: [str, { kind: 'uri', value: h }] } } }]);
    out.push([`q range ${tag}`, { q: { type: 'compare', path: path(temperature), op: '!=', value: { kind: 'range', min: str, max: { kind: 'string', value: `${h}~` } } } }]);
    out.push([`q regex ${tag}`, { q: { type: 'compare', path: path(name), op: '~=', value: { kind: 'regex', pattern: RE2JS.quote(h) } } }]);
    out.push([`q json key ${tag}`, { q: { type: 'exists', path: path(address, { jsonPath: [h] }) } }]);
    out.push([`q json keys ${tag}`, { q: { type: 'compare', path: path(address, { jsonPath: [h, h] }), op: '!=', value: str } }]);
    out.push([`q lang key ${tag}`, { q: { type: 'compare', path: path(name, { jsonPath: [h] }), op: '!=', value: str } }]);
    out.push([`q attr name ${tag}`, { q: { type: 'notExists', path: path(h) } }]);
    out.push([`q sub-attribute ${tag}`, { q: { type: 'exists', path: path(temperature, { sub: [h] }) } }]);
    out.push([`id ${tag}`, { selectors: [{ ids: [h, knownIds[0] ?? 'urn:x'] }] }]);
    out.push([`idPattern quoted ${tag}`, { selectors: [{ idPattern: { source: RE2JS.quote(h) } }] }]);
    out.push([`idPattern prefix ${tag}`, { selectors: [{ idPattern: { source: `^urn:ngsi-ld:X:${RE2JS.quote(h)}` } }] }]);
    out.push([`type ${tag}`, { selectors: [{ type: { op: 'or', items: [{ op: 'type', name: h }, { op: 'type', name: `https://kend.test/ns/${h}` }] } }] }]);
    out.push([`scope ${tag}`, { scopeQ: { type: 'scope', levels: ['Madrid', h], descendants: i % 2 === 0 } }]);
    out.push([`attrs ${tag}`, { attrs: [h] }]);
    out.push([`geoproperty ${tag}`, { geo: { georel: { op: 'intersects' }, geometry: { type: 'Point', coordinates: [-3.7, 40.4] }, geoproperty: h } }]);
    out.push([`orderBy attr ${tag}`, { order: [{ kind: 'attr', attr: h, desc: i % 2 === 1 }, { kind: 'id', desc: false }] }]);
  });
  out.push(['near everything', { geo: { georel: { op: 'near', limit: 'maxDistance', metres: 3e7 }, geometry: { type: 'Point', coordinates: [0, 90] }, geoproperty: LOCATION } }]);
  out.push(['near the pole', { geo: { georel: { op: 'near', limit: 'maxDistance', metres: 2e6 }, geometry: { type: 'Point', coordinates: [120, 89.9] }, geoproperty: LOCATION } }]);
  out.push(['near the antimeridian', { geo: { georel: { op: 'near', limit: 'maxDistance', metres: 5000 }, geometry: { type: 'Point', coordinates: [-179.999, -16.5] }, geoproperty: LOCATION } }]);
  return out;
}
