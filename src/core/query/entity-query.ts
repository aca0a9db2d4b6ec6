// The entity query of Query Entities / Purge Entities / subscriptions (GS CIM 009 §5.7.2, §4.17, §4.9, §4.19,
// §4.10, §4.23): one plain-data shape every store compiles to SQL, and the in-memory reference evaluation
// that the SQL must agree with (test/property differential suites) and that subscriptions use.
import { RE2JS } from 're2js';
import { NgsiError, badRequestData } from '../errors.ts';
import type { Entity, AttrInstance } from '../model/entity.ts';
import { evaluateGeoQuery, type GeoQuery } from './geo-query.ts';
import type { QExpr } from './q-ast.ts';
import { evaluateQ } from './q-eval.ts';
import { evaluateScopeQ, type ScopeExpr } from './scope-q.ts';
import { matchesTypeExpr, type TypeExpr } from './type-expr.ts';

/** An idPattern: RE2 syntax, matched unanchored against the entity id (clients anchor with ^…$). */
export interface IdPattern {
  source: string;
}

/** One alternative of the entities to select; all present members must hold. */
export interface EntitySelector {
  type?: TypeExpr;
  ids?: string[];
  idPattern?: IdPattern;
}

/** Sort keys of `orderBy` (§4.23): entity members or a top-level attribute's default-instance value. */
export type OrderKey =
  | { kind: 'id'; desc: boolean }
  | { kind: 'createdAt'; desc: boolean }
  | { kind: 'modifiedAt'; desc: boolean }
  | { kind: 'attr'; attr: string; desc: boolean };

export interface EntityQuery {
  /** Alternatives (OR); absent or empty = every entity. */
  selectors?: EntitySelector[];
  /** The entity must have at least one of these attributes (FQNs) — the deprecated `attrs` filter. */
  attrs?: string[];
  q?: QExpr;
  scopeQ?: ScopeExpr;
  geo?: GeoQuery;
  /** Result order; ties (and absent order) fall back to insertion order, a stable total order. */
  order?: OrderKey[];
}

export interface PageRequest {
  limit: number;
  offset: number;
  /** Also return the total number of matches ignoring limit/offset. */
  count: boolean;
}

export interface QueryPage {
  entities: Entity[];
  total?: number;
}

/** Validates an idPattern once (RE2 syntax: linear-time, safe on the event loop). */
export function parseIdPattern(source: string, maxLength: number): IdPattern {
  if (source.length > maxLength) {
    throw new NgsiError('TooComplexQuery', `idPattern is longer than the limit of ${maxLength} characters`, 'Query too complex');
  }
  try {
    RE2JS.compile(source);
  } catch (e) {
    throw badRequestData(`idPattern "${source}" is not a valid regular expression: ${(e as Error).message}`, 'Invalid idPattern');
  }
  return { source };
}

const compiledPatterns = new Map<string, RE2JS>();

function idMatches(pattern: IdPattern, id: string): boolean {
  let re = compiledPatterns.get(pattern.source);
  if (re === undefined) {
    re = RE2JS.compile(pattern.source);
    if (compiledPatterns.size > 1000) compiledPatterns.clear();
    compiledPatterns.set(pattern.source, re);
  }
  return re.matcher(id).find();
}

export function matchesSelector(selector: EntitySelector, entity: Entity): boolean {
  if (selector.type !== undefined && !matchesTypeExpr(selector.type, entity.types)) return false;
  // `id` takes precedence over `idPattern` (§5.7.2, §6.23).
  if (selector.ids !== undefined) return selector.ids.includes(entity.id);
  if (selector.idPattern !== undefined) return idMatches(selector.idPattern, entity.id);
  return true;
}

/** The reference semantics of an EntityQuery on one entity. */
export function matchesEntityQuery(query: EntityQuery, entity: Entity): boolean {
  if (query.selectors !== undefined && query.selectors.length > 0 && !query.selectors.some((s) => matchesSelector(s, entity))) return false;
  if (query.attrs !== undefined && !query.attrs.some((a) => Object.hasOwn(entity.attrs, a) && entity.attrs[a]!.length > 0)) return false;
  if (query.q !== undefined && !evaluateQ(query.q, entity)) return false;
  if (query.scopeQ !== undefined && !evaluateScopeQ(query.scopeQ, entity.scope)) return false;
  if (query.geo !== undefined && !evaluateGeoQuery(query.geo, entity)) return false;
  return true;
}

/** The sort value of an attribute: its default instance's value (or object), else the first instance's. */
function attrSortValue(instances: AttrInstance[] | undefined): number | string | undefined {
  if (instances === undefined || instances.length === 0) return undefined;
  const inst = instances.find((i) => i.datasetId === undefined) ?? instances[0]!;
  const v = inst.type === 'Relationship' ? inst.object : inst.value;
  return typeof v === 'number' || typeof v === 'string' ? v : undefined;
}

/** Class order of sort values, ascending: numbers, then strings, then entities lacking the key (§4.23). */
function rank(v: number | string | undefined): number {
  return typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2;
}

function compareValues(a: number | string | undefined, b: number | string | undefined): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (a === undefined || b === undefined || a === b) return 0;
  return a < b ? -1 : 1;
}

/** Compares two entities by the order keys only (0 = tie, resolved by insertion order by the caller). */
export function compareByOrder(order: readonly OrderKey[], a: Entity, b: Entity): number {
  for (const key of order) {
    let c: number;
    switch (key.kind) {
      case 'id':
        c = compareValues(a.id, b.id);
        break;
      case 'createdAt':
        c = compareValues(a.createdAt, b.createdAt);
        break;
      case 'modifiedAt':
        c = compareValues(a.modifiedAt, b.modifiedAt);
        break;
      case 'attr': {
        const va = attrSortValue(Object.hasOwn(a.attrs, key.attr) ? a.attrs[key.attr] : undefined);
        const vb = attrSortValue(Object.hasOwn(b.attrs, key.attr) ? b.attrs[key.attr] : undefined);
        // Entities lacking the key stay last whatever the direction.
        const ra = rank(va);
        const rb = rank(vb);
        if ((ra === 2) !== (rb === 2)) return ra === 2 ? 1 : -1;
        c = compareValues(va, vb);
        break;
      }
    }
    if (c !== 0) return key.desc ? -c : c;
  }
  return 0;
}

/** The reference implementation of a query page over entities given in insertion order. */
export function referenceQuery(query: EntityQuery, entitiesInInsertionOrder: readonly Entity[], page: PageRequest): QueryPage {
  const matching = entitiesInInsertionOrder.filter((e) => matchesEntityQuery(query, e));
  const ordered = query.order && query.order.length > 0 ? [...matching].sort((a, b) => compareByOrder(query.order!, a, b)) : matching;
  const out: QueryPage = { entities: ordered.slice(page.offset, page.offset + page.limit) };
  if (page.count) out.total = matching.length;
  return out;
}
