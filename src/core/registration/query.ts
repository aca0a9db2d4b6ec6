// Query Context Source Registrations (GS CIM 009 §5.10.2, matching §5.12; guide §16.1): which registrations
// describe sources that may hold the requested entities. A registration matches when one of its information
// elements could answer the entity part of the query (type, id, idPattern, attrs, q) and its own members pass
// csf, scopeQ, the geo-query and the temporal query. Pure; the store runs it over the tenant's registrations.
import { compareDateTime } from '../datetime.ts';
import { isJsonObject, type JsonValue } from '../json.ts';
import type { AttrInstance, Entity } from '../model/entity.ts';
import { matchesSelector, type EntitySelector } from '../query/entity-query.ts';
import { geometryDistance } from '../query/geo-distance.ts';
import type { GeoQuery, GeoRel } from '../query/geo-query.ts';
import { intersects, within } from '../query/geo-relate.ts';
import type { GeoGeometry } from '../query/geo-types.ts';
import type { QExpr, QTerm } from '../query/q-ast.ts';
import { evaluateQ } from '../query/q-eval.ts';
import { evaluateScopeQ, type ScopeExpr } from '../query/scope-q.ts';
import type { TimeWindow } from '../temporal/model.ts';
import {
  GEOMETRY_MEMBERS,
  NGSI_LD_NS,
  REGISTRATION_MEMBERS,
  attributeNamesOf,
  type EntityInfoView,
  type InfoView,
  type IntervalView,
  type RegistrationView,
} from './model.ts';

export interface RegistrationQuery {
  /** The requested entities, alternatives (OR): type expression, ids, idPattern (names expanded). */
  selectors?: EntitySelector[];
  /** Requested attributes (FQNs): an information element must be able to provide one of them. */
  attrs?: string[];
  /** Terms on registration properties test them; terms on other attributes need an element listing the attribute. */
  q?: QExpr;
  /** Context source filter: evaluated on the registration's own properties only. */
  csf?: QExpr;
  scopeQ?: ScopeExpr;
  geo?: GeoQuery;
  /** A temporal query (rel set): tested against observationInterval (observedAt) or managementInterval. */
  temporal?: TimeWindow;
  /** No temporal query but a filtering one: only registrations without time intervals match (§5.10.2). */
  latestOnly: boolean;
}

/** Scalar registration members that q and csf can name (by their core-context IRIs), besides extra properties. */
const SCALAR_MEMBERS = ['registrationName', 'description', 'endpoint', 'mode', 'tenant', 'contextSourceAlias', 'refreshRate', 'expiresAt', 'operations'];

/** The registration seen as an entity whose attributes are its properties (what q and csf evaluate). */
export function registrationAsEntity(view: RegistrationView, at: string): Entity {
  const attrs: Record<string, AttrInstance[]> = {};
  const p = view.payload;
  for (const [key, value] of Object.entries(p)) {
    if (REGISTRATION_MEMBERS.has(key)) continue;
    attrs[key] = [instanceOf(value, at)];
  }
  for (const member of SCALAR_MEMBERS) {
    const value = member === 'mode' ? view.mode : p[member];
    if (value !== undefined) attrs[NGSI_LD_NS + member] = [{ type: 'Property', value, createdAt: at, modifiedAt: at }];
  }
  return { id: view.id, types: [`${NGSI_LD_NS}ContextSourceRegistration`], createdAt: at, modifiedAt: at, attrs };
}

/** An extra property's value: an NGSI-LD Property/Relationship object is read as such, anything else as a value. */
function instanceOf(v: JsonValue, at: string): AttrInstance {
  const base = { createdAt: at, modifiedAt: at };
  if (isJsonObject(v)) {
    if (v.type === 'Relationship' && (typeof v.object === 'string' || Array.isArray(v.object))) {
      return { type: 'Relationship', object: v.object as string | string[], ...base };
    }
    if ((v.type === 'Property' || v.type === 'GeoProperty') && v.value !== undefined) return { type: v.type, value: v.value, ...base };
    if (v.type === 'LanguageProperty' && isJsonObject(v.languageMap)) {
      return { type: 'LanguageProperty', languageMap: v.languageMap as Record<string, string>, ...base };
    }
  }
  return { type: 'Property', value: v, ...base };
}

function entityInfoMatches(selector: EntitySelector, info: EntityInfoView): boolean {
  const probe = (id: string): Entity => ({ id, types: info.types, createdAt: '', modifiedAt: '', attrs: {} });
  if (selector.type !== undefined && !matchesSelector({ type: selector.type }, probe(''))) return false;
  if (selector.ids !== undefined) {
    if (info.id !== undefined) return selector.ids.includes(info.id);
    if (info.idPattern !== undefined) return selector.ids.some((id) => matchesSelector({ idPattern: { source: info.idPattern! } }, probe(id)));
    return true;
  }
  // Two patterns may or may not share an id: undecidable in general, so the source is asked.
  if (selector.idPattern !== undefined && info.id !== undefined) return matchesSelector({ idPattern: selector.idPattern }, probe(info.id));
  return true;
}

function listsAttribute(info: InfoView, attr: string): boolean {
  return attributeNamesOf(info)?.includes(attr) ?? false;
}

/** q on one information element: registration properties are tested; other attributes must be listed. */
function qMatches(expr: QExpr, info: InfoView, asEntity: Entity): boolean {
  switch (expr.type) {
    case 'and':
      return expr.items.every((e) => qMatches(e, info, asEntity));
    case 'or':
      return expr.items.some((e) => qMatches(e, info, asEntity));
    default:
      return termMatches(expr, info, asEntity);
  }
}

function termMatches(term: QTerm, info: InfoView, asEntity: Entity): boolean {
  if (Object.hasOwn(asEntity.attrs, term.path.attr)) return evaluateQ(term, asEntity);
  if (term.type === 'notExists') return true;
  return listsAttribute(info, term.path.attr);
}

function infoMatches(query: RegistrationQuery, info: InfoView, asEntity: Entity): boolean {
  const selectors = query.selectors;
  if (selectors !== undefined && info.entities !== undefined && !selectors.some((s) => info.entities!.some((e) => entityInfoMatches(s, e)))) return false;
  if (query.attrs !== undefined) {
    const names = attributeNamesOf(info);
    if (names !== undefined && !query.attrs.some((a) => names.includes(a))) return false;
  }
  return query.q === undefined || qMatches(query.q, info, asEntity);
}

/**
 * A registration's geometry may hold entities standing in `rel` to the reference: for every relation but
 * `disjoint` and `near;minDistance` the geometry must reach the reference (intersect it, or lie within the
 * distance); `disjoint` needs some part outside it; `near;minDistance` cannot be excluded.
 */
export function geometryMayMatch(rel: GeoRel, geometry: GeoGeometry, reference: GeoGeometry): boolean {
  if (rel.op === 'near') return rel.limit === 'minDistance' || geometryDistance(geometry, reference) <= rel.metres;
  if (rel.op === 'disjoint') return !within(geometry, reference);
  return intersects(geometry, reference);
}

function geoMatches(geo: GeoQuery, view: RegistrationView): boolean {
  const member = GEOMETRY_MEMBERS.find((g) => NGSI_LD_NS + g === geo.geoproperty);
  const geometry = member === undefined ? undefined : view.geometries[member];
  // A registration that declares no such geometry does not restrict where its entities are.
  return geometry === undefined || geometryMayMatch(geo.georel, geometry, geo.geometry);
}

/** Overlap of an interval with a temporal-query window (before: t < to; after: t ≥ from; between both). */
function overlaps(interval: IntervalView, window: TimeWindow): boolean {
  if (window.toMs !== undefined && !(interval.startMs < window.toMs)) return false;
  if (window.fromMs !== undefined && interval.endMs !== undefined && !(interval.endMs >= window.fromMs)) return false;
  return true;
}

/**
 * Whether a source may hold instances inside a temporal query's window (distributed temporal queries): a
 * registration without the matching interval does not restrict when its data was observed or managed.
 */
export function mayHoldWindow(view: RegistrationView, window: TimeWindow): boolean {
  if (window.rel === undefined) return true;
  const interval = window.property === 'observedAt' ? view.observationInterval : view.managementInterval;
  return interval === undefined || overlaps(interval, window);
}

function temporalMatches(query: RegistrationQuery, view: RegistrationView): boolean {
  const window = query.temporal;
  if (window?.rel === undefined) return !query.latestOnly || (view.observationInterval === undefined && view.managementInterval === undefined);
  const interval = window.property === 'observedAt' ? view.observationInterval : view.managementInterval;
  return interval !== undefined && overlaps(interval, window);
}

export function isRegistrationExpired(view: Pick<RegistrationView, 'expiresAt'>, now: string): boolean {
  return view.expiresAt !== undefined && compareDateTime(view.expiresAt, now) <= 0;
}

/**
 * The positions of the registration's information elements that could answer the query, [] when the
 * registration does not match (expired, or its own members fail csf, scopeQ, geo or the temporal query).
 */
export function matchingInformation(query: RegistrationQuery, view: RegistrationView, now: string): number[] {
  if (isRegistrationExpired(view, now)) return [];
  if (!temporalMatches(query, view)) return [];
  if (query.scopeQ !== undefined && view.scope !== undefined && !evaluateScopeQ(query.scopeQ, view.scope)) return [];
  if (query.geo !== undefined && !geoMatches(query.geo, view)) return [];
  const asEntity = registrationAsEntity(view, now);
  if (query.csf !== undefined && !evaluateQ(query.csf, asEntity)) return [];
  return view.information.flatMap((info, i) => (infoMatches(query, info, asEntity) ? [i] : []));
}

/** The reference semantics of Query Context Source Registrations on one registration. */
export function matchesRegistration(query: RegistrationQuery, view: RegistrationView, now: string): boolean {
  return matchingInformation(query, view, now).length > 0;
}
