// Validation of Context Source Registration payloads (GS CIM 009 §5.2.9, §5.9.2 register, §5.9.3 update with
// §5.5.8 fragment semantics; guide §16.1): every rule → 400 BadRequestData with a precise detail; a PATCH
// result is re-validated whole before anything is stored. The stored form has every name expanded.
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { NGSI_LD_NULL } from '../model/entity.ts';
import { isAbsoluteUri, isValidName } from '../names.ts';
import {
  DEFAULT_MODE,
  MODES,
  NGSI_LD_NS,
  READ_ONLY_MEMBERS,
  REGISTRATION_MEMBERS,
  REGISTRATION_TYPE,
  REGISTRATION_TYPE_IRI,
  viewOf,
  type RegistrationMode,
  type RegistrationView,
} from './model.ts';
import { isOperationOrGroup, writeOperationsIn } from './operations.ts';
import { compactInformation, parseInformation } from './parse-info.ts';
import * as m from './parse-members.ts';

export interface RegistrationLimits {
  maxIdPatternLength: number;
  maxGeometryVertices: number;
}

export interface ParseRegistrationOptions {
  /** The id of a registration whose payload has none (urn:ngsi-ld:ContextSourceRegistration:<uuid>). */
  newId?: string;
  /** `expiresAt` must lie after `now` (default true: create, and a PATCH that sets it). */
  requireFutureExpiry?: boolean;
  /** The destination policy for `endpoint`: the reason of a refusal, or null to accept. */
  checkEndpoint?: (uri: string) => string | null;
}

export interface ParsedRegistration {
  /** What to store: validated members, names expanded, read-only members dropped, `id` and `type` first. */
  payload: JsonObject;
  view: RegistrationView;
}

const ENDPOINT_SCHEMES = ['http:', 'https:'];

function isRegistrationType(v: JsonValue | undefined, terms: TermMap): boolean {
  return typeof v === 'string' && (v === REGISTRATION_TYPE || terms.expandTerm(v) === REGISTRATION_TYPE_IRI);
}

function endpoint(v: JsonValue | undefined, options: ParseRegistrationOptions): string {
  if (v === undefined || v === null) m.fail('endpoint is mandatory');
  if (!isAbsoluteUri(v)) m.fail(`endpoint ${JSON.stringify(v)} is not an absolute URI`);
  const uri = v as string;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return m.fail(`endpoint "${uri}" is not a valid URL`);
  }
  if (!ENDPOINT_SCHEMES.includes(url.protocol)) m.fail(`endpoint scheme "${url.protocol.slice(0, -1)}" is not http or https`);
  if (url.hostname === '') m.fail(`endpoint "${uri}" has no host`);
  if (url.username !== '' || url.password !== '') m.fail('endpoint must not carry credentials; use contextSourceInfo for an Authorization header');
  const refusal = options.checkEndpoint?.(uri) ?? null;
  if (refusal !== null) m.fail(`endpoint ${uri} is not an allowed destination: ${refusal}`);
  return uri;
}

function operations(v: JsonValue): string[] {
  const ops = m.stringList(v, 'operations');
  for (const op of ops) if (!isOperationOrGroup(op)) m.fail(`operations: "${op}" is neither an operation name nor an operation group (§4.20)`);
  return ops;
}

/** Mode rules (guide §16.1): exclusive needs entity ids and attribute names; auxiliary offers no writes. */
function checkMode(mode: RegistrationMode, view: RegistrationView, ops: readonly string[] | undefined): void {
  if (mode === 'auxiliary') {
    const writes = writeOperationsIn(ops);
    if (writes.length > 0) m.fail(`an auxiliary registration may only offer retrieval operations, not ${writes.join(', ')}`);
  }
  if (mode === 'exclusive') {
    view.information.forEach((info, i) => {
      if (info.entities === undefined) m.fail(`information[${i}]: an exclusive registration must name specific entities (entities with id)`);
      info.entities!.forEach((e, j) => {
        if (e.id === undefined || e.idPattern !== undefined) {
          m.fail(`information[${i}].entities[${j}]: an exclusive registration needs an entity id (no idPattern, not a type alone)`);
        }
      });
      if (info.propertyNames === undefined && info.relationshipNames === undefined) {
        m.fail(`information[${i}]: an exclusive registration must list propertyNames or relationshipNames`);
      }
    });
  }
}

/** Validates a whole registration (create, or a merged PATCH result) and returns its stored form. */
export function parseRegistration(
  payload: JsonObject,
  terms: TermMap,
  limits: RegistrationLimits,
  now: string,
  options: ParseRegistrationOptions = {},
): ParsedRegistration {
  if (!isJsonObject(payload)) m.fail('A context source registration must be a JSON object');
  if (payload.type === undefined) m.fail(`type is mandatory and must be "${REGISTRATION_TYPE}"`);
  if (!isRegistrationType(payload.type, terms)) m.fail(`type must be "${REGISTRATION_TYPE}", not ${JSON.stringify(payload.type)}`);
  let id: string;
  if (payload.id !== undefined) {
    if (!isAbsoluteUri(payload.id)) m.fail(`id ${JSON.stringify(payload.id)} is not an absolute URI`);
    id = payload.id as string;
  } else {
    if (options.newId === undefined) throw new Error('parseRegistration: a payload without id needs options.newId');
    id = options.newId;
  }

  const out: JsonObject = { id, type: REGISTRATION_TYPE };
  const extras = new Map<string, string>();
  let mode: RegistrationMode = DEFAULT_MODE;
  let ops: string[] | undefined;
  for (const [key, value] of Object.entries(payload)) {
    if (READ_ONLY_MEMBERS.has(key) || key === 'id' || key === 'type') continue;
    if (!REGISTRATION_MEMBERS.has(key)) {
      const fqn = extraName(key, value, terms);
      const earlier = extras.get(fqn);
      if (earlier !== undefined) m.fail(`"${key}" and "${earlier}" name the same registration property`);
      extras.set(fqn, key);
      out[fqn] = structuredClone(value);
      continue;
    }
    if (value === null) m.fail(`${key} must not be null`);
    switch (key) {
      case 'registrationName':
      case 'description':
      case 'contextSourceAlias':
        out[key] = m.nonEmptyString(value, key);
        break;
      case 'information':
        out[key] = parseInformation(value, terms, limits);
        break;
      case 'endpoint':
        out[key] = endpoint(value, options);
        break;
      case 'mode':
        if (typeof value !== 'string' || !(MODES as readonly string[]).includes(value)) m.fail(`mode must be one of ${MODES.join(', ')}`);
        mode = value as RegistrationMode;
        out[key] = value;
        break;
      case 'operations':
        ops = operations(value);
        out[key] = ops;
        break;
      case 'datasetId':
        out[key] = m.datasetIds(value);
        break;
      case 'tenant':
        out[key] = m.tenant(value);
        break;
      case 'observationInterval':
      case 'managementInterval':
        out[key] = m.timeInterval(value, key);
        break;
      case 'location':
      case 'observationSpace':
      case 'operationSpace':
        out[key] = m.geometry(value, key, limits.maxGeometryVertices);
        break;
      case 'expiresAt':
        out[key] = m.expiresAt(value, now, options.requireFutureExpiry ?? true);
        break;
      case 'contextSourceInfo':
        out[key] = m.contextSourceInfo(value);
        break;
      case 'scope':
        out[key] = m.scope(value);
        break;
      case 'refreshRate':
        out[key] = m.duration(value, 'refreshRate');
        break;
      case 'management':
        out[key] = m.management(value);
        break;
    }
  }
  if (out.information === undefined) m.fail('information is mandatory');
  if (out.endpoint === undefined) m.fail('endpoint is mandatory');
  const view = viewOf(out);
  checkMode(mode, view, ops);
  return { payload: out, view };
}

/** An extra registration property (§5.2.9: any other member): a valid name, expanded; null is no value. */
function extraName(key: string, value: JsonValue, terms: TermMap): string {
  if (key.startsWith('@') || !isValidName(key)) m.fail(`"${key}" is not a valid registration property name`);
  const fqn = terms.expandTerm(key);
  if (fqn.startsWith(NGSI_LD_NS) && REGISTRATION_MEMBERS.has(fqn.slice(NGSI_LD_NS.length))) {
    m.fail(`"${key}" names the registration member ${fqn.slice(NGSI_LD_NS.length)}; use that name`);
  }
  if (value === null || value === NGSI_LD_NULL) m.fail(`registration property ${key} has no value`);
  return fqn;
}

/** The stored payload with every name compacted with `terms` (output, and the base a PATCH applies to). */
export function compactRegistration(payload: JsonObject, terms: TermMap): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(payload)) {
    if (key === 'information') out[key] = compactInformation(value, terms) ?? value;
    else if (REGISTRATION_MEMBERS.has(key)) out[key] = structuredClone(value);
    else out[terms.compactIri(key)] = structuredClone(value);
  }
  return out;
}

// ---- PATCH (§5.9.3, §5.5.8) ------------------------------------------------------------------------------

const MANDATORY: ReadonlySet<string> = new Set(['information', 'endpoint']);

/**
 * Update Context Source Registration in one pure step: the stored registration is written with the
 * request's terms, each top-level member of the fragment replaces the stored one wholesale, JSON null or
 * NGSI-LD Null removes an optional member (`expiresAt: null` = never expire) and is refused on a mandatory
 * one; `id` and `type` cannot change; read-only members are ignored; an empty fragment is refused. The
 * result is validated whole; `expiresAt` must be in the future only when the fragment sets it.
 */
export function patchRegistration(
  stored: JsonObject,
  fragment: JsonObject,
  terms: TermMap,
  limits: RegistrationLimits,
  now: string,
  options: ParseRegistrationOptions = {},
): ParsedRegistration {
  if (!isJsonObject(fragment)) m.fail('A registration fragment must be a JSON object');
  if (Object.keys(fragment).filter((k) => k !== '@context').length === 0) m.fail('The registration fragment is empty');
  const merged = compactRegistration(stored, terms);
  for (const [key, value] of Object.entries(fragment)) {
    if (READ_ONLY_MEMBERS.has(key)) continue;
    if (key === 'id') {
      if (value !== stored.id) m.fail(`id cannot be changed (the registration is ${String(stored.id)})`);
      continue;
    }
    if (key === 'type') {
      if (!isRegistrationType(value, terms)) m.fail(`type must be "${REGISTRATION_TYPE}", not ${JSON.stringify(value)}`);
      continue;
    }
    const removal = value === null || value === NGSI_LD_NULL;
    if (!REGISTRATION_MEMBERS.has(key) && isValidName(key)) {
      // The same property may be written with another name of the same IRI: replace it, whatever its name.
      const fqn = terms.expandTerm(key);
      for (const existing of Object.keys(merged)) {
        if (!REGISTRATION_MEMBERS.has(existing) && terms.expandTerm(existing) === fqn) delete merged[existing];
      }
    }
    if (removal) {
      if (MANDATORY.has(key)) m.fail(`${key} is mandatory and cannot be removed`);
      delete merged[key];
      continue;
    }
    merged[key] = structuredClone(value);
  }
  const setsExpiry = fragment.expiresAt !== undefined && fragment.expiresAt !== null && fragment.expiresAt !== NGSI_LD_NULL;
  return parseRegistration(merged, terms, limits, now, { ...options, requireFutureExpiry: setsExpiry });
}
