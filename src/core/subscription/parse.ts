// Validation and compilation of Subscription payloads (GS CIM 009 §5.2.12, §5.8.1 create, §5.8.2 update with
// §5.5.8 fragment semantics; guide §14.1): every rule → 400 BadRequestData with a precise detail, nothing
// half-done — a PATCH result is re-validated whole before anything is stored.
import { compareDateTime, parseDateTime } from '../datetime.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { NGSI_LD_NULL } from '../model/entity.ts';
import { parseLang } from '../model/lang.ts';
import { isAbsoluteUri } from '../names.ts';
import { parseIdPattern, type EntitySelector } from '../query/entity-query.ts';
import { parseGeoQuery, type GeoQuery } from '../query/geo-query.ts';
import { parseQ } from '../query/q-parse.ts';
import { parseScopeQ } from '../query/scope-q.ts';
import { parseTypeExpr } from '../query/type-expr.ts';
import { DEFAULT_TRIGGERS, NOTIFICATION_TRIGGERS, type CompiledSubscription, type NotificationTrigger } from './model.ts';
import { NOTIFICATION_STATUS_MEMBERS, parseNotificationParams, type EndpointPolicy } from './parse-notification.ts';
import { fail, listOrText, nameArray, objectMember, optBoolean, optPositive, optString, stringArray } from './parse-util.ts';
import { translatePayloadTerms } from './payload-terms.ts';

export interface SubscriptionLimits {
  maxQueryLength: number;
  maxIdPatternLength: number;
  maxGeometryVertices: number;
}

export interface ParseSubscriptionOptions extends EndpointPolicy {
  /** The id to give a subscription whose payload has none (urn:ngsi-ld:Subscription:<uuid>, minted by the caller). */
  newId?: string;
  /**
   * `expiresAt` must lie after `now` (default true: create, and a PATCH that sets it). False when re-compiling
   * a stored subscription or when a PATCH leaves `expiresAt` alone, so an expired one stays patchable.
   */
  requireFutureExpiry?: boolean;
}

export interface ParsedSubscription {
  compiled: CompiledSubscription;
  /** What to store: the client's members minus read-only ones and `@context`, with `id` first. */
  payload: JsonObject;
}

/** Top-level members the broker maintains; a client sending them is silently ignored (§5.2.12). */
const READ_ONLY_MEMBERS: readonly string[] = ['@context', 'status', 'createdAt', 'modifiedAt', 'deletedAt', ...NOTIFICATION_STATUS_MEMBERS.filter((m) => m !== 'status')];

const SUBSCRIPTION_TYPES: ReadonlySet<string> = new Set(['Subscription', 'https://uri.etsi.org/ngsi-ld/Subscription']);

/** The client's members as they will be stored: read-only members and `@context` dropped (also inside notification). */
function storable(payload: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(payload)) {
    if (READ_ONLY_MEMBERS.includes(key)) continue;
    if (key === 'notification' && isJsonObject(value)) {
      const n: JsonObject = {};
      for (const [k, v] of Object.entries(value)) if (!NOTIFICATION_STATUS_MEMBERS.includes(k)) n[k] = structuredClone(v);
      out[key] = n;
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out;
}

/** Validates a Subscription payload (create, or a merged PATCH result) and compiles it. */
export function parseSubscription(
  payload: JsonObject,
  terms: TermMap,
  limits: SubscriptionLimits,
  now: string,
  options: ParseSubscriptionOptions = {},
): ParsedSubscription {
  if (!isJsonObject(payload)) fail('A subscription must be a JSON object');
  const body = storable(payload);
  if (Object.keys(body).length === 0) fail('The subscription is empty: type, notification and entities or watchedAttributes are needed');
  if (body.type === undefined) fail('type is mandatory and must be "Subscription"');
  if (typeof body.type !== 'string' || !SUBSCRIPTION_TYPES.has(body.type)) fail(`type must be "Subscription", not ${JSON.stringify(body.type)}`);

  let id: string;
  if (body.id !== undefined) {
    if (!isAbsoluteUri(body.id)) fail(`id ${JSON.stringify(body.id)} is not an absolute URI`);
    id = body.id as string;
  } else {
    if (options.newId === undefined) throw new Error('parseSubscription: a payload without id needs options.newId');
    id = options.newId;
  }
  optString(body, 'subscriptionName', 'subscriptionName');
  optString(body, 'description', 'description');
  const expand = (n: string): string => terms.expandTerm(n);

  const selectors = body.entities === undefined ? undefined : parseSelectors(body.entities, expand, limits);
  const watched = body.watchedAttributes === undefined ? undefined : nameArray(body.watchedAttributes, 'watchedAttributes');
  if (selectors === undefined && watched === undefined) fail('A subscription needs entities or watchedAttributes (or both)');
  const triggers = parseTriggers(body.notificationTrigger);

  const timeInterval = optPositive(body, 'timeInterval', 'timeInterval');
  const throttling = optPositive(body, 'throttling', 'throttling');
  if (timeInterval !== undefined && watched !== undefined) fail('timeInterval cannot be combined with watchedAttributes');
  if (timeInterval !== undefined && throttling !== undefined) fail('timeInterval cannot be combined with throttling');

  const expandValues = body.expandValues === undefined ? undefined : listOrText(body.expandValues, 'expandValues');
  if (body.jsonKeys !== undefined) listOrText(body.jsonKeys, 'jsonKeys');
  const qText = optString(body, 'q', 'q');
  const q = qText === undefined ? undefined : parseQ(qText, terms, { maxLength: limits.maxQueryLength }, { expandValues });
  const csfText = optString(body, 'csf', 'csf');
  const csf = csfText === undefined ? undefined : parseQ(csfText, terms, { maxLength: limits.maxQueryLength });
  const scopeText = optString(body, 'scopeQ', 'scopeQ');
  const scopeQ = scopeText === undefined ? undefined : parseScopeQ(scopeText, { maxLength: limits.maxQueryLength });
  const geoQ = body.geoQ === undefined ? undefined : parseSubscriptionGeoQ(body.geoQ, terms, limits);
  const langText = optString(body, 'lang', 'lang');
  const lang = langText === undefined ? undefined : parseLang(langText);
  const datasetIds = body.datasetId === undefined ? undefined : parseDatasetIds(body.datasetId);

  const isActive = optBoolean(body, 'isActive', 'isActive') ?? true;
  const expiresAt = parseExpiresAt(body.expiresAt, now, options.requireFutureExpiry ?? true);
  const jsonldContext = optString(body, 'jsonldContext', 'jsonldContext');
  if (jsonldContext !== undefined && !isAbsoluteUri(jsonldContext)) fail(`jsonldContext "${jsonldContext}" is not an absolute URI`);
  const localOnly = optBoolean(body, 'localOnly', 'localOnly') ?? false;
  if (body.temporalQ !== undefined) objectMember(body.temporalQ, 'temporalQ');

  const notification = parseNotificationParams(body.notification, terms, lang, options);

  const compiled: CompiledSubscription = { id, triggers, isActive, localOnly, notification };
  if (selectors !== undefined) compiled.selectors = selectors;
  if (watched !== undefined) compiled.watchedAttributes = new Set(watched.map(expand));
  if (q !== undefined) compiled.q = q;
  if (csf !== undefined) compiled.csf = csf;
  if (scopeQ !== undefined) compiled.scopeQ = scopeQ;
  if (geoQ !== undefined) compiled.geoQ = geoQ;
  if (datasetIds !== undefined) compiled.datasetIds = datasetIds;
  if (timeInterval !== undefined) compiled.timeInterval = timeInterval;
  if (throttling !== undefined) compiled.throttling = throttling;
  if (expiresAt !== undefined) compiled.expiresAt = expiresAt;
  if (jsonldContext !== undefined) compiled.jsonldContext = jsonldContext;

  const { id: _id, type, ...rest } = body;
  return { compiled, payload: { id, type, ...rest } };
}

/** Re-compiles a stored (already validated) payload, e.g. after a restart: an expired one stays loadable. */
export function compileStoredSubscription(payload: JsonObject, terms: TermMap, limits: SubscriptionLimits): CompiledSubscription {
  return parseSubscription(payload, terms, limits, '1970-01-01T00:00:00Z', { requireFutureExpiry: false }).compiled;
}

function parseSelectors(v: JsonValue, expand: (n: string) => string, limits: SubscriptionLimits): EntitySelector[] {
  if (!Array.isArray(v)) fail('entities must be an array of entity selectors');
  const items = v as JsonValue[];
  if (items.length === 0) fail('entities must not be an empty array');
  return items.map((item, i) => {
    const label = `entities[${i}]`;
    const sel = objectMember(item, label);
    if (sel.type === undefined) fail(`${label} has no type (type is mandatory in an entity selector)`);
    if (typeof sel.type !== 'string') fail(`${label}.type must be a string`);
    const out: EntitySelector = { type: parseTypeExpr(sel.type as string, expand) };
    if (sel.id !== undefined) {
      if (!isAbsoluteUri(sel.id)) fail(`${label}.id ${JSON.stringify(sel.id)} is not an absolute URI`);
      out.ids = [sel.id as string];
    }
    if (sel.idPattern !== undefined) {
      if (typeof sel.idPattern !== 'string') fail(`${label}.idPattern must be a string`);
      const pattern = parseIdPattern(sel.idPattern as string, limits.maxIdPatternLength);
      // `id` takes precedence over `idPattern` (§5.2.33); the pattern is still validated.
      if (out.ids === undefined) out.idPattern = pattern;
    }
    return out;
  });
}

function parseTriggers(v: JsonValue | undefined): ReadonlySet<NotificationTrigger> {
  if (v === undefined) return new Set(DEFAULT_TRIGGERS);
  const items = stringArray(v, 'notificationTrigger');
  for (const t of items) {
    if (!(NOTIFICATION_TRIGGERS as readonly string[]).includes(t)) fail(`notificationTrigger "${t}" is not one of ${NOTIFICATION_TRIGGERS.join(', ')}`);
  }
  return new Set(items as NotificationTrigger[]);
}

function parseSubscriptionGeoQ(v: JsonValue, terms: TermMap, limits: SubscriptionLimits): GeoQuery {
  const g = objectMember(v, 'geoQ');
  const missing = ['georel', 'geometry', 'coordinates'].filter((k) => g[k] === undefined);
  if (missing.length > 0) fail(`geoQ needs georel, geometry and coordinates (missing: ${missing.join(', ')})`);
  const georel = optString(g, 'georel', 'geoQ.georel');
  const geometry = optString(g, 'geometry', 'geoQ.geometry');
  const geoproperty = optString(g, 'geoproperty', 'geoQ.geoproperty');
  if (typeof g.coordinates !== 'string' && !Array.isArray(g.coordinates)) fail('geoQ.coordinates must be an array or a string');
  return parseGeoQuery({ georel, geometry, coordinates: g.coordinates, geoproperty }, terms, limits)!;
}

function parseDatasetIds(v: JsonValue): string[] {
  const ids = listOrText(v, 'datasetId');
  for (const id of ids) if (id !== '@none' && !isAbsoluteUri(id)) fail(`datasetId "${id}" is neither a URI nor @none`);
  return ids;
}

function parseExpiresAt(v: JsonValue | undefined, now: string, requireFuture: boolean): string | undefined {
  if (v === undefined) return undefined;
  const at = parseDateTime(v);
  if (at === null) return fail(`expiresAt ${JSON.stringify(v)} is not a UTC DateTime (YYYY-MM-DDThh:mm:ss[.sss]Z)`);
  if (requireFuture && compareDateTime(at, now) <= 0) fail(`expiresAt ${at} is not in the future`);
  return at;
}

// ---- PATCH (§5.8.2, §5.5.8) ------------------------------------------------------------------------------

const MANDATORY_MEMBERS: ReadonlySet<string> = new Set(['notification']);

/**
 * Applies a Subscription fragment to the stored payload (§5.5.8): each top-level member replaces the stored
 * one wholesale (a `notification` fragment replaces the whole notification, endpoint included); JSON null or
 * NGSI-LD Null removes an optional member and is refused on a mandatory one; `id` and `type` cannot change;
 * read-only members and `@context` are ignored; an empty fragment is refused. Re-validate the result with
 * parseSubscription (patchSubscription does both).
 */
export function applySubscriptionPatch(storedPayload: JsonObject, fragment: JsonObject): JsonObject {
  if (!isJsonObject(fragment)) fail('A subscription fragment must be a JSON object');
  if (Object.keys(fragment).filter((k) => k !== '@context').length === 0) fail('The subscription fragment is empty');
  const merged = structuredClone(storedPayload);
  for (const [key, value] of Object.entries(fragment)) {
    if (READ_ONLY_MEMBERS.includes(key)) continue;
    const removal = value === null || value === NGSI_LD_NULL;
    if (key === 'id') {
      if (value !== storedPayload.id) fail(`id cannot be changed (the subscription is ${String(storedPayload.id)})`);
      continue;
    }
    if (key === 'type') {
      if (typeof value !== 'string' || !SUBSCRIPTION_TYPES.has(value)) fail(`type must be "Subscription", not ${JSON.stringify(value)}`);
      continue;
    }
    if (removal) {
      if (MANDATORY_MEMBERS.has(key)) fail(`${key} is mandatory and cannot be removed`);
      delete merged[key];
      continue;
    }
    merged[key] = structuredClone(value);
  }
  return storable(merged);
}

/**
 * PATCH in one pure step: the fragment, written with the request's terms, is brought into the stored
 * subscription's context (which does not change: notifications keep being compacted as before), applied, and
 * the whole result re-validated. `expiresAt` must be in the future only when the fragment sets it.
 */
export function patchSubscription(
  stored: { payload: JsonObject; terms: TermMap },
  fragment: JsonObject,
  fragmentTerms: TermMap,
  limits: SubscriptionLimits,
  now: string,
  options: EndpointPolicy = {},
): ParsedSubscription {
  if (!isJsonObject(fragment)) fail('A subscription fragment must be a JSON object');
  const translated = translatePayloadTerms(fragment, fragmentTerms, stored.terms, { rewriteQ: { maxLength: limits.maxQueryLength } });
  const merged = applySubscriptionPatch(stored.payload, translated);
  const setsExpiry = fragment.expiresAt !== undefined && fragment.expiresAt !== null && fragment.expiresAt !== NGSI_LD_NULL;
  return parseSubscription(merged, stored.terms, limits, now, { ...options, requireFutureExpiry: setsExpiry });
}
