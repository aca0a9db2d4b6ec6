// The Context Source Registration (GS CIM 009 §5.2.9, §5.2.10 RegistrationInfo, §5.2.8 EntityInfo,
// §5.2.34 RegistrationManagementInfo; guide §16.1): member names, modes, forwarding status, and the typed
// view of a stored (validated, names expanded) registration that matching reads.
import { dateTimeToMillis } from '../datetime.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { GeoGeometry } from '../query/geo-types.ts';

export const NGSI_LD_NS = 'https://uri.etsi.org/ngsi-ld/';
export const REGISTRATION_TYPE = 'ContextSourceRegistration';
export const REGISTRATION_TYPE_IRI = `${NGSI_LD_NS}${REGISTRATION_TYPE}`;

export const MODES = ['inclusive', 'exclusive', 'redirect', 'auxiliary'] as const;
export type RegistrationMode = (typeof MODES)[number];
export const DEFAULT_MODE: RegistrationMode = 'inclusive';

/** The members the registration defines (§5.2.9); any other member is an extra registration property. */
export const REGISTRATION_MEMBERS: ReadonlySet<string> = new Set([
  'id', 'type', 'registrationName', 'description', 'information', 'datasetId', 'tenant', 'observationInterval',
  'managementInterval', 'location', 'observationSpace', 'operationSpace', 'expiresAt', 'endpoint',
  'contextSourceInfo', 'scope', 'mode', 'operations', 'refreshRate', 'management', 'contextSourceAlias',
]);

/** Maintained by the broker: a client sending them is ignored, never stored (§5.2.9, §5.2.2). */
export const READ_ONLY_MEMBERS: ReadonlySet<string> = new Set([
  '@context', 'createdAt', 'modifiedAt', 'deletedAt', 'status', 'timesSent', 'timesFailed', 'lastSuccess', 'lastFailure',
]);

/** The geometry members (§5.2.9), the GeoProperties geo-queries on registrations may name. */
export const GEOMETRY_MEMBERS = ['location', 'observationSpace', 'operationSpace'] as const;

/**
 * Forwarding status of a registration (§5.2.9 read-only members), kept by the broker as distributed
 * operations use the registration. Shown only once the registration has been used (timesSent > 0).
 */
export interface ForwardingStatus {
  timesSent: number;
  timesFailed: number;
  lastSuccess?: string;
  lastFailure?: string;
  /** Outcome of the last distributed operation. */
  status?: 'ok' | 'failed';
}

export const EMPTY_FORWARDING: Readonly<ForwardingStatus> = Object.freeze({ timesSent: 0, timesFailed: 0 });

/** One EntityInfo (§5.2.8), types expanded. */
export interface EntityInfoView {
  types: string[];
  id?: string;
  idPattern?: string;
}

/** One RegistrationInfo (§5.2.10), names expanded. Absent lists: any entity / any attribute. */
export interface InfoView {
  entities?: EntityInfoView[];
  propertyNames?: string[];
  relationshipNames?: string[];
}

/** A time interval in epoch milliseconds; `endMs` absent = open-ended. */
export interface IntervalView {
  startMs: number;
  endMs?: number;
}

/** What matching and conflict checks read of a stored registration. */
export interface RegistrationView {
  id: string;
  information: InfoView[];
  mode: RegistrationMode;
  operations?: string[];
  scope?: string[];
  geometries: Partial<Record<(typeof GEOMETRY_MEMBERS)[number], GeoGeometry>>;
  observationInterval?: IntervalView;
  managementInterval?: IntervalView;
  expiresAt?: string;
  /** The payload itself (extra properties and scalar members are read from it by q / csf). */
  payload: JsonObject;
}

const strings = (v: JsonValue | undefined): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : undefined;

function entityInfo(v: JsonValue): EntityInfoView {
  const o = isJsonObject(v) ? v : {};
  const out: EntityInfoView = { types: strings(o.type) ?? [] };
  if (typeof o.id === 'string') out.id = o.id;
  if (typeof o.idPattern === 'string') out.idPattern = o.idPattern;
  return out;
}

function interval(v: JsonValue | undefined): IntervalView | undefined {
  if (!isJsonObject(v) || typeof v.startAt !== 'string') return undefined;
  const out: IntervalView = { startMs: dateTimeToMillis(v.startAt) };
  if (typeof v.endAt === 'string') out.endMs = dateTimeToMillis(v.endAt);
  return out;
}

/** Reads a stored registration payload (validated when written; names expanded). */
export function viewOf(payload: JsonObject): RegistrationView {
  const information = (Array.isArray(payload.information) ? payload.information : []).filter(isJsonObject).map((i) => {
    const info: InfoView = {};
    if (Array.isArray(i.entities)) info.entities = i.entities.map(entityInfo);
    const props = strings(i.propertyNames);
    if (props !== undefined) info.propertyNames = props;
    const rels = strings(i.relationshipNames);
    if (rels !== undefined) info.relationshipNames = rels;
    return info;
  });
  const mode = (MODES as readonly string[]).includes(payload.mode as string) ? (payload.mode as RegistrationMode) : DEFAULT_MODE;
  const view: RegistrationView = { id: String(payload.id), information, mode, geometries: {}, payload };
  const operations = strings(payload.operations);
  if (operations !== undefined) view.operations = operations;
  const scope = strings(payload.scope);
  if (scope !== undefined) view.scope = scope;
  for (const g of GEOMETRY_MEMBERS) {
    const value = payload[g];
    if (isJsonObject(value)) view.geometries[g] = value as unknown as GeoGeometry;
  }
  const obs = interval(payload.observationInterval);
  if (obs !== undefined) view.observationInterval = obs;
  const mgmt = interval(payload.managementInterval);
  if (mgmt !== undefined) view.managementInterval = mgmt;
  if (typeof payload.expiresAt === 'string') view.expiresAt = payload.expiresAt;
  return view;
}

/** The attribute names an information element lists, or undefined when it lists none (= any attribute). */
export function attributeNamesOf(info: InfoView): string[] | undefined {
  if (info.propertyNames === undefined && info.relationshipNames === undefined) return undefined;
  return [...(info.propertyNames ?? []), ...(info.relationshipNames ?? [])];
}
