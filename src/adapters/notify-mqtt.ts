// MQTT notification transport (GS CIM 009 §7.2; guide §14.5): publishes {metadata, body} to the endpoint's topic
// over one reused, reconnecting client per (broker URI, protocol version, credentials).
//
// Endpoint form: mqtt[s]://[user[:password]@]host[:port]/topic[/sub...], default ports 1883 / 8883.
// notifierInfo: MQTT-Version = mqtt3.1.1 (protocol 4) | mqtt5.0 (protocol 5, default); MQTT-QoS = 0 (default) | 1 | 2.
// metadata = { 'Content-Type': message.contentType, ...message.headers } minus MQTT_DROPPED_HEADERS (HTTP framing
// and hop-by-hop headers, which mean nothing on MQTT) and minus Link when the content type is application/ld+json.
// So it carries Link (JSON), NGSILD-Tenant (non-default tenants) and every receiverInfo pair.
import net from 'node:net';
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';
import { MqttClient, type IClientOptions } from 'mqtt';
import { checkDestination, type DestinationPolicy } from '../core/destination-policy.ts';
import { DESTINATION_REFUSED, guardedLookup } from './guarded-lookup.ts';
import type { JsonObject } from '../core/json.ts';
import { deliveryFailure, notifierInfoValue, type DeliveryMessage, type DeliveryOutcome, type NotificationTransport } from '../ports/notifier.ts';

/** Header names (lower case) never copied into the MQTT metadata. */
export const MQTT_DROPPED_HEADERS: readonly string[] = [
  'content-type', // replaced by 'Content-Type' from message.contentType
  'content-length', 'host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'proxy-connection',
];

export interface MqttTransportOptions {
  policy?: DestinationPolicy;
  /** Time to wait for CONNACK on each (re)connection attempt. */
  connectTimeoutMs?: number;
  reconnectPeriodMs?: number;
  /** A client unused for this long is disconnected (it is re-created on the next notification). */
  idleCloseMs?: number;
  keepaliveSeconds?: number;
}

export interface MqttTarget {
  secure: boolean;
  host: string;
  port: number;
  username?: string;
  password?: string;
  topic: string;
}

/** Parses an MQTT endpoint URI; a string is the reason it is not one. */
export function parseMqttEndpoint(uri: string): MqttTarget | string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `endpoint ${uri} is not an absolute URI`;
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') return `scheme ${url.protocol} is not MQTT`;
  // '#' and '?' end the path in a URI: a topic with them (or a wildcard) would be silently cut.
  if (uri.includes('#') || url.search !== '') return `MQTT endpoint ${uri} has a query or fragment; topics cannot hold '?' or '#'`;
  const secure = url.protocol === 'mqtts:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') return `MQTT endpoint ${uri} has no host`;
  let topic: string;
  let username: string | undefined;
  let password: string | undefined;
  try {
    topic = decodeURIComponent(url.pathname.replace(/^\//, ''));
    username = url.username === '' ? undefined : decodeURIComponent(url.username);
    password = url.password === '' ? undefined : decodeURIComponent(url.password);
  } catch {
    return `MQTT endpoint ${uri} has malformed percent-encoding`;
  }
  if (topic === '') return `MQTT endpoint ${uri} names no topic`;
  if (/[+#\0]/.test(topic)) return `MQTT topic ${topic} contains a wildcard or NUL; one cannot publish to it`;
  const port = url.port === '' ? (secure ? 8883 : 1883) : Number(url.port);
  return { secure, host, port, username, password, topic };
}

/** The published payload: { metadata, body } (guide §14.5). */
export function mqttEnvelope(message: DeliveryMessage): { metadata: Record<string, string>; body: JsonObject } {
  const metadata: Record<string, string> = { 'Content-Type': message.contentType };
  const ld = message.contentType.toLowerCase().startsWith('application/ld+json');
  for (const [k, v] of Object.entries(message.headers)) {
    const lk = k.toLowerCase();
    if (MQTT_DROPPED_HEADERS.includes(lk) || (ld && lk === 'link')) continue;
    metadata[k] = v;
  }
  return { metadata, body: message.body };
}

type QoS = 0 | 1 | 2;

type Settings = { protocolVersion: 4 | 5; qos: QoS } | string;

function settingsOf(message: DeliveryMessage): Settings {
  const version = notifierInfoValue(message, 'MQTT-Version') ?? 'mqtt5.0';
  const qosText = notifierInfoValue(message, 'MQTT-QoS') ?? '0';
  const protocolVersion = version === 'mqtt3.1.1' ? 4 : version === 'mqtt5.0' ? 5 : null;
  if (protocolVersion === null) return `MQTT-Version ${version} is not mqtt3.1.1 or mqtt5.0`;
  if (qosText !== '0' && qosText !== '1' && qosText !== '2') return `MQTT-QoS ${qosText} is not 0, 1 or 2`;
  return { protocolVersion, qos: Number(qosText) as QoS };
}

interface Entry {
  client: MqttClient;
  lastError?: Error;
  idle?: NodeJS.Timeout;
}

export interface MqttTransport extends NotificationTransport {
  /** Open broker clients: one per (broker URI, protocol version, credentials). */
  clientCount(): number;
}

export function createMqttTransport(options: MqttTransportOptions = {}): MqttTransport {
  const clients = new Map<string, Entry>();
  const idleCloseMs = options.idleCloseMs ?? 300_000;
  let closed = false;

  function clientFor(target: MqttTarget, protocolVersion: 4 | 5): { key: string; entry: Entry } {
    const key = JSON.stringify([target.secure, target.host, target.port, target.username ?? null, target.password ?? null, protocolVersion]);
    const existing = clients.get(key);
    if (existing) return { key, entry: existing };
    const lookup = options.policy === undefined ? undefined : guardedLookup(options.policy);
    // Our own stream builder: the policy's lookup guard applies to every (re)connection, TCP and TLS alike.
    const build = () => {
      const base = { host: target.host, port: target.port, ...(lookup === undefined ? {} : { lookup }) };
      return target.secure
        ? tls.connect({ ...base, ...(net.isIP(target.host) === 0 ? { servername: target.host } : {}) })
        : net.connect(base);
    };
    const clientOptions: IClientOptions = {
      clientId: `kend-notifier-${randomUUID()}`,
      protocolVersion,
      clean: true,
      reconnectPeriod: options.reconnectPeriodMs ?? 1000,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      keepalive: options.keepaliveSeconds ?? 60,
      // Publishing waits for a connection instead of queueing offline: a dead broker must not grow memory.
      queueQoSZero: false,
      ...(target.username === undefined ? {} : { username: target.username }),
      ...(target.password === undefined ? {} : { password: target.password }),
    };
    const client = new MqttClient(build, clientOptions);
    const e: Entry = { client };
    client.on('error', (err: Error & { code?: unknown }) => {
      e.lastError = err;
      // A refused destination stays refused: stop reconnecting (a later notification builds a new client).
      if (err.code === DESTINATION_REFUSED) forget(key, e);
    });
    client.on('connect', () => {
      e.lastError = undefined;
    });
    clients.set(key, e);
    return { key, entry: e };
  }

  function forget(key: string, e: Entry): void {
    if (clients.get(key) === e) clients.delete(key);
    if (e.idle) clearTimeout(e.idle);
    e.client.end(true);
  }

  function touch(key: string, e: Entry): void {
    if (e.idle) clearTimeout(e.idle);
    e.idle = setTimeout(() => forget(key, e), idleCloseMs);
    e.idle.unref();
  }

  function waitConnected(entry: Entry, ms: number): Promise<DeliveryOutcome> {
    if (entry.client.connected) return Promise.resolve({ ok: true });
    const { client } = entry;
    return new Promise((resolve) => {
      const done = (o: DeliveryOutcome) => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onError);
        resolve(o);
      };
      const onConnect = () => done({ ok: true });
      // Policy refusals and broker refusals (CONNACK codes) end the wait; network errors are retried by the client.
      const onError = (err: Error & { code?: unknown }) => {
        if (err.code === DESTINATION_REFUSED) done(deliveryFailure(err.message, false));
        else if (typeof err.code === 'number') done(deliveryFailure(`MQTT broker refused the connection: ${err.message}`, true));
      };
      const timer = setTimeout(() => {
        const why = entry.lastError ? ` (${entry.lastError.message})` : '';
        done(deliveryFailure(`no MQTT connection within ${ms} ms${why}`, true));
      }, ms);
      client.on('connect', onConnect);
      client.on('error', onError);
    });
  }

  function publish(client: MqttClient, topic: string, payload: Buffer, qos: QoS, protocolVersion: 4 | 5, ms: number): Promise<DeliveryOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(deliveryFailure(`MQTT publish not acknowledged within ${ms} ms`, true)), ms);
      const opts = protocolVersion === 5 ? { qos, properties: { contentType: 'application/json' } } : { qos };
      client.publish(topic, payload, opts, (err) => {
        clearTimeout(timer);
        resolve(err ? deliveryFailure(`MQTT publish failed: ${err.message}`, true) : { ok: true });
      });
    });
  }

  return {
    clientCount: () => clients.size,
    async deliver(endpoint: string, message: DeliveryMessage, opts: { timeoutMs: number }): Promise<DeliveryOutcome> {
      if (closed) return deliveryFailure('the MQTT notifier is closed', true);
      const refusal = options.policy === undefined ? null : checkDestination(options.policy, endpoint);
      if (refusal !== null) return deliveryFailure(refusal, false);
      const target = parseMqttEndpoint(endpoint);
      if (typeof target === 'string') return deliveryFailure(target, false);
      const settings = settingsOf(message);
      if (typeof settings === 'string') return deliveryFailure(settings, false);
      const started = Date.now();
      const { key, entry } = clientFor(target, settings.protocolVersion);
      touch(key, entry);
      const connected = await waitConnected(entry, opts.timeoutMs);
      if (!connected.ok) return connected;
      const payload = Buffer.from(JSON.stringify(mqttEnvelope(message)), 'utf8');
      const left = Math.max(1, opts.timeoutMs - (Date.now() - started));
      return publish(entry.client, target.topic, payload, settings.qos, settings.protocolVersion, left);
    },
    async close(): Promise<void> {
      closed = true;
      const all = [...clients.values()];
      clients.clear();
      await Promise.all(
        all.map(async (e) => {
          if (e.idle) clearTimeout(e.idle);
          if (!e.client.connected) {
            e.client.end(true);
            return;
          }
          // Graceful DISCONNECT after in-flight acks, bounded.
          await Promise.race([e.client.endAsync(false), new Promise<void>((r) => setTimeout(r, 1000).unref())]);
          e.client.end(true);
        }),
      );
    },
  };
}
