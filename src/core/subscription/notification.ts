// The Notification message of a match (GS CIM 009 §5.3.1 Notification, §6.3.x / §7.1 HTTP binding headers,
// §7.2 MQTT binding envelope; guide §14.4, §14.5): body, headers and content type, ready for the outbox.
import type { JsonObject, JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import type { Entity } from '../model/entity.ts';
import { renderFeatureCollection } from '../model/render-geojson.ts';
import type { Match } from './matcher.ts';
import type { EndpointAccept } from './model.ts';
import { renderNotificationEntity } from './notification-data.ts';

export interface NotificationOptions {
  /** urn:ngsi-ld:Notification:<uuid>, minted by the caller: receivers drop repeats by it. */
  notificationId: string;
  notifiedAt: string;
  /** '' is the default tenant (no NGSILD-Tenant header). */
  tenant: string;
  /**
   * The URL for the Link header: jsonldContext, else the subscription's single context URL, else an
   * ImplicitlyCreated URL — resolved by the caller.
   */
  contextUrl: string;
  /** The `@context` value of ld+json data elements; `contextUrl` when absent. */
  context?: JsonValue;
  /** GeoProperty shown as the Feature geometry for application/geo+json endpoints; `location` when absent. */
  geometryProperty?: string;
}

export interface NotificationMessage {
  body: JsonObject;
  /** HTTP headers (MQTT: metadata): Content-Type, Link, NGSILD-Tenant and each receiverInfo pair. */
  headers: Record<string, string>;
  contentType: EndpointAccept;
}

export const JSONLD_CONTEXT_REL = 'http://www.w3.org/ns/json-ld#context';

/** Headers only the broker sets; a receiverInfo pair with one of these names is overridden. */
const BROKER_HEADERS: ReadonlySet<string> = new Set(['content-type', 'link', 'ngsild-tenant']);

/** The Link header value naming a JSON-LD @context (§6.3.5). */
export function contextLink(url: string): string {
  return `<${url}>; rel="${JSONLD_CONTEXT_REL}"; type="application/ld+json"`;
}

/**
 * Builds `{id, type: "Notification", subscriptionId, notifiedAt, data}` for one match, or for several matches
 * of the same subscription (periodic notifications, coalesced throttled changes). `terms` compact the data:
 * the subscription's terms, or those of its jsonldContext. application/json (and geo+json) bodies carry no
 * @context, the context goes to one Link header; application/ld+json puts `@context` in each data element.
 * With application/geo+json `data` is a FeatureCollection.
 */
export function buildNotification(matches: Match | readonly Match[], terms: TermMap, opts: NotificationOptions): NotificationMessage {
  const list: readonly Match[] = Array.isArray(matches) ? matches : [matches as Match];
  if (list.length === 0) throw new Error('buildNotification needs at least one match');
  const sub = list[0].sub;
  const { endpoint } = sub.notification;
  const accept = endpoint.accept;
  const elements = list.map((m) => renderNotificationEntity(m, terms, opts.notifiedAt));

  let data: JsonValue;
  if (accept === 'application/geo+json') {
    const geoFqn = opts.geometryProperty ?? terms.expandTerm('location');
    data = renderFeatureCollection(elements.map((el, i) => toFeature(el, list[i].entityDeleted ? null : list[i].entity, geoFqn)));
  } else if (accept === 'application/ld+json') {
    const context = opts.context ?? opts.contextUrl;
    data = elements.map((el) => ({ '@context': structuredClone(context), ...el }));
  } else {
    data = elements;
  }
  const body: JsonObject = { id: opts.notificationId, type: 'Notification', subscriptionId: sub.id, notifiedAt: opts.notifiedAt, data };

  const headers: Record<string, string> = {};
  for (const { key, value } of endpoint.receiverInfo) {
    if (!BROKER_HEADERS.has(key.toLowerCase())) headers[key] = value;
  }
  headers['Content-Type'] = accept;
  if (accept !== 'application/ld+json') headers.Link = contextLink(opts.contextUrl);
  if (opts.tenant !== '') headers['NGSILD-Tenant'] = opts.tenant;
  return { body, headers, contentType: accept };
}

/**
 * The MQTT payload (§7.2): `{"metadata": {...}, "body": <Notification>}`, metadata holding Content-Type, Link
 * (JSON content types), NGSILD-Tenant (non-default tenant) and every receiverInfo pair.
 */
export function mqttEnvelope(message: NotificationMessage): JsonObject {
  const metadata: JsonObject = { 'Content-Type': message.contentType };
  if (message.headers.Link !== undefined) metadata.Link = message.headers.Link;
  for (const [key, value] of Object.entries(message.headers)) {
    if (key !== 'Content-Type' && key !== 'Link') metadata[key] = value;
  }
  return { metadata, body: message.body };
}

/** A data element as a GeoJSON Feature: geometry from the entity's GeoProperty default instance, or null. */
function toFeature(element: JsonObject, entity: Entity | null, geoFqn: string): JsonObject {
  const feature: JsonObject = {};
  if (element.id !== undefined) feature.id = element.id;
  feature.type = 'Feature';
  const geo = entity === null ? undefined : entity.attrs[geoFqn]?.find((i) => i.datasetId === undefined || i.datasetId === '@none');
  feature.geometry = geo !== undefined && geo.type === 'GeoProperty' && geo.value !== undefined ? geo.value : null;
  const properties: JsonObject = {};
  for (const [key, value] of Object.entries(element)) if (key !== 'id') properties[key] = value;
  feature.properties = properties;
  return feature;
}
