// Validation of a Subscription's `notification` member (NotificationParams, GS CIM 009 §5.2.14) and its
// `endpoint` (Endpoint §5.2.15, MQTT notifierInfo §7.2; guide §14.1, §14.5).
import { FRAMING_HEADERS, HEADER_NAME, HEADER_VALUE } from '../header-rules.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { LangPreference } from '../model/lang.ts';
import { parseProjection, type Projection } from '../model/projection.ts';
import type { OutputFormat } from '../model/render-entity.ts';
import { isAbsoluteUri } from '../names.ts';
import {
  ENDPOINT_ACCEPTS,
  MQTT_VERSIONS,
  type CompiledEndpoint,
  type CompiledNotificationParams,
  type EndpointAccept,
  type KeyValuePair,
  type MqttQos,
  type MqttVersion,
} from './model.ts';
import { fail, nameArray, objectMember, optBoolean, optPositive, stringArray } from './parse-util.ts';

const FORMATS: Readonly<Record<string, OutputFormat>> = {
  normalized: 'normalized',
  concise: 'concise',
  keyValues: 'keyValues',
  simplified: 'keyValues',
};

/** Read-only members of NotificationParams (§5.2.14): sent by a client, they are dropped, not rejected. */
export const NOTIFICATION_STATUS_MEMBERS: readonly string[] = ['status', 'timesSent', 'timesFailed', 'lastNotification', 'lastSuccess', 'lastFailure'];

const SCHEMES: Readonly<Record<string, CompiledEndpoint['protocol']>> = { http: 'http', https: 'http', mqtt: 'mqtt', mqtts: 'mqtt' };

export interface EndpointPolicy {
  /** A destination policy (allow/deny list); returns the reason of a refusal, null to accept. */
  checkEndpoint?: (uri: string) => string | null;
}

/** Validates `notification` and compiles it; `lang` is the subscription's top-level member, already parsed. */
export function parseNotificationParams(raw: JsonValue | undefined, terms: TermMap, lang: LangPreference | undefined, policy: EndpointPolicy): CompiledNotificationParams {
  if (raw === undefined || raw === null) fail('notification is mandatory');
  const n = objectMember(raw as JsonValue, 'notification');

  let format: OutputFormat = 'normalized';
  if (n.format !== undefined) {
    if (typeof n.format !== 'string' || FORMATS[n.format] === undefined) {
      fail(`notification.format ${JSON.stringify(n.format)} is not one of normalized, concise, keyValues, simplified`);
    }
    format = FORMATS[n.format as string];
  }
  const sysAttrs = optBoolean(n, 'sysAttrs', 'notification.sysAttrs') ?? false;
  const showChanges = optBoolean(n, 'showChanges', 'notification.showChanges') ?? false;
  if (showChanges && format === 'keyValues') fail(`notification.showChanges cannot be true with format ${String(n.format)}`);

  const out: CompiledNotificationParams = { format, sysAttrs, showChanges, endpoint: parseEndpoint(n.endpoint, policy) };
  const projection = parseNotificationProjection(n, terms);
  if (projection !== undefined) out.projection = projection;
  if (lang !== undefined) out.lang = lang;
  if (n.join !== undefined && (typeof n.join !== 'string' || !['flat', 'inline', '@none'].includes(n.join))) {
    fail('notification.join must be one of flat, inline, @none');
  }
  const joinLevel = optPositive(n, 'joinLevel', 'notification.joinLevel');
  if (joinLevel !== undefined && !Number.isInteger(joinLevel)) fail('notification.joinLevel must be a whole number');
  return out;
}

function parseNotificationProjection(n: JsonObject, terms: TermMap): Projection | undefined {
  const attributes = n.attributes === undefined ? undefined : nameArray(n.attributes, 'notification.attributes');
  const pick = n.pick === undefined ? undefined : projectionItems(n.pick, 'notification.pick');
  const omit = n.omit === undefined ? undefined : projectionItems(n.omit, 'notification.omit');
  if (attributes !== undefined && (pick !== undefined || omit !== undefined)) {
    fail('notification.attributes cannot be combined with notification.pick or notification.omit');
  }
  if (attributes === undefined && pick === undefined && omit === undefined) return undefined;
  return parseProjection({ attrs: attributes?.join(','), pick: pick?.join(','), omit: omit?.join(',') }, terms);
}

/** pick/omit items: each one projection item (a name; nested `rel{…}` needs join and is refused later). */
function projectionItems(v: JsonValue, label: string): string[] {
  const items = stringArray(v, label);
  for (const item of items) if (item === '' || /[,|]/.test(item)) fail(`"${item}" in ${label} is not one member name`);
  return items;
}

export function parseEndpoint(raw: JsonValue | undefined, policy: EndpointPolicy): CompiledEndpoint {
  if (raw === undefined || raw === null) fail('notification.endpoint is mandatory');
  const e = objectMember(raw as JsonValue, 'notification.endpoint');
  if (e.uri === undefined) fail('notification.endpoint.uri is mandatory');
  const uri = e.uri;
  if (typeof uri !== 'string' || !isAbsoluteUri(uri)) fail(`notification.endpoint.uri ${JSON.stringify(uri)} is not an absolute URI`);
  const protocol = checkUri(uri as string);

  let accept: EndpointAccept = 'application/json';
  if (e.accept !== undefined) {
    if (typeof e.accept !== 'string' || !(ENDPOINT_ACCEPTS as readonly string[]).includes(e.accept)) {
      fail(`notification.endpoint.accept ${JSON.stringify(e.accept)} is not one of ${ENDPOINT_ACCEPTS.join(', ')}`);
    }
    accept = e.accept as EndpointAccept;
  }
  const receiverInfo = keyValues(e.receiverInfo, 'notification.endpoint.receiverInfo');
  for (const { key, value } of receiverInfo) {
    if (!HEADER_NAME.test(key)) fail(`notification.endpoint.receiverInfo key "${key}" is not a valid header name`);
    if (FRAMING_HEADERS.has(key.toLowerCase())) fail(`notification.endpoint.receiverInfo key "${key}" is reserved for the transport`);
    if (!HEADER_VALUE.test(value)) fail(`notification.endpoint.receiverInfo value of "${key}" contains control characters`);
  }
  const notifierInfo = keyValues(e.notifierInfo, 'notification.endpoint.notifierInfo');
  const mqtt = mqttSettings(notifierInfo);

  const out: CompiledEndpoint = { uri: uri as string, protocol, accept, receiverInfo, notifierInfo };
  const timeout = optPositive(e, 'timeout', 'notification.endpoint.timeout');
  if (timeout !== undefined) out.timeout = timeout;
  const cooldown = optPositive(e, 'cooldown', 'notification.endpoint.cooldown');
  if (cooldown !== undefined) out.cooldown = cooldown;
  if (protocol === 'mqtt') out.mqtt = mqtt;

  const refusal = policy.checkEndpoint?.(uri as string) ?? null;
  if (refusal !== null) fail(`notification.endpoint.uri ${uri as string} is not an allowed destination: ${refusal}`);
  return out;
}

/** Scheme http/https/mqtt/mqtts with a host; an MQTT URI also needs a topic without wildcards (§7.2). */
function checkUri(uri: string): CompiledEndpoint['protocol'] {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return fail(`notification.endpoint.uri "${uri}" is not a valid URL`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const protocol = SCHEMES[scheme];
  if (protocol === undefined) fail(`notification.endpoint.uri scheme "${scheme}" is not one of http, https, mqtt, mqtts`);
  if (url.hostname === '') fail(`notification.endpoint.uri "${uri}" has no host`);
  if (protocol === 'mqtt') {
    const topic = url.pathname.replace(/^\//, '');
    if (topic === '') fail(`notification.endpoint.uri "${uri}" has no MQTT topic (mqtt://host[:port]/topic)`);
    let decoded: string;
    try {
      decoded = decodeURIComponent(topic);
    } catch {
      return fail(`notification.endpoint.uri "${uri}" has a malformed percent-encoding in its MQTT topic`);
    }
    if (/[+#]/.test(decoded) || uri.includes('#')) fail(`notification.endpoint.uri "${uri}": an MQTT topic to publish to cannot hold the wildcards + or #`);
  }
  return protocol;
}

function keyValues(v: JsonValue | undefined, label: string): KeyValuePair[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`${label} must be an array of {"key", "value"} objects`);
  return (v as JsonValue[]).map((item, i) => {
    const pair = objectMember(item, `${label}[${i}]`);
    if (typeof pair.key !== 'string' || pair.key === '') fail(`${label}[${i}].key must be a non-empty string`);
    if (typeof pair.value !== 'string') fail(`${label}[${i}].value must be a string`);
    return { key: pair.key as string, value: pair.value as string };
  });
}

/** notifierInfo MQTT-Version (mqtt3.1.1 | mqtt5.0, default mqtt5.0) and MQTT-QoS (0 | 1 | 2, default 0). */
function mqttSettings(notifierInfo: readonly KeyValuePair[]): { version: MqttVersion; qos: MqttQos } {
  let version: MqttVersion = 'mqtt5.0';
  let qos: MqttQos = 0;
  for (const { key, value } of notifierInfo) {
    const k = key.toLowerCase();
    if (k === 'mqtt-version') {
      if (!(MQTT_VERSIONS as readonly string[]).includes(value)) fail(`notifierInfo MQTT-Version "${value}" is not one of ${MQTT_VERSIONS.join(', ')}`);
      version = value as MqttVersion;
    } else if (k === 'mqtt-qos') {
      if (!['0', '1', '2'].includes(value)) fail(`notifierInfo MQTT-QoS "${value}" is not one of 0, 1, 2`);
      qos = Number(value) as MqttQos;
    }
  }
  return { version, qos };
}
