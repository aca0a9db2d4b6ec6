// Notification transport port (GS CIM 009 §5.3.1, §7.2; guide §14.4–14.5): deliver one rendered message to one endpoint.
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';

/** One notification ready to send; OutboxEntry.message holds exactly this, as JSON. */
export interface DeliveryMessage {
  /** The Notification body (id, type, subscriptionId, notifiedAt, data), already compacted. */
  body: JsonObject;
  /** Application headers: Link (JSON only), NGSILD-Tenant, each receiverInfo pair. Not Content-Type. */
  headers: Record<string, string>;
  /** endpoint.accept: application/json, application/ld+json or application/geo+json. */
  contentType: string;
  /** endpoint.notifierInfo: transport settings (MQTT-Version, MQTT-QoS), never sent to the receiver. */
  notifierInfo?: { key: string; value: string }[];
  /** endpoint.timeout (ms); the worker uses the smaller of it and its configured request timeout. */
  timeoutMs?: number;
  /**
   * The subscription's `throttling` (ms): the worker starts no delivery of the same subscription sooner than
   * this after the start of the previous one, however late that one went out.
   */
  minIntervalMs?: number;
}

export type DeliveryOutcome = { ok: true } | { ok: false; reason: string; retryable: boolean };

export interface NotificationTransport {
  /** Never throws: every failure is an outcome. `retryable: false` = repeating the same message cannot help. */
  deliver(endpoint: string, message: DeliveryMessage, opts: { timeoutMs: number }): Promise<DeliveryOutcome>;
  /** Releases connections; deliveries after close fail. */
  close(): Promise<void>;
}

export const deliveryFailure = (reason: string, retryable: boolean): DeliveryOutcome => ({ ok: false, reason, retryable });

/** The JSON form stored in OutboxEntry.message. */
export function toOutboxMessage(m: DeliveryMessage): JsonObject {
  const out: JsonObject = { body: m.body, headers: { ...m.headers }, contentType: m.contentType };
  if (m.notifierInfo !== undefined) out.notifierInfo = m.notifierInfo.map((p) => ({ key: p.key, value: p.value }));
  if (m.timeoutMs !== undefined) out.timeoutMs = m.timeoutMs;
  if (m.minIntervalMs !== undefined) out.minIntervalMs = m.minIntervalMs;
  return out;
}

const isPair = (v: JsonValue): v is { key: string; value: string } =>
  isJsonObject(v) && typeof v.key === 'string' && typeof v.value === 'string';

/** Reads OutboxEntry.message back; a string is the reason it is not a DeliveryMessage. */
export function parseOutboxMessage(json: JsonObject): DeliveryMessage | string {
  const { body, headers, contentType, notifierInfo, timeoutMs, minIntervalMs } = json;
  if (!isJsonObject(body)) return 'message.body is not a JSON object';
  if (contentType !== undefined && contentType !== null && typeof contentType !== 'string') return 'message.contentType is not a string';
  const hs: Record<string, string> = {};
  if (headers !== undefined && headers !== null) {
    if (!isJsonObject(headers)) return 'message.headers is not an object';
    for (const [k, v] of Object.entries(headers)) {
      if (typeof v !== 'string') return `message header ${k} is not a string`;
      hs[k] = v;
    }
  }
  // endpoint.accept defaults to application/json (§5.2.15).
  const out: DeliveryMessage = { body, headers: hs, contentType: typeof contentType === 'string' && contentType !== '' ? contentType : 'application/json' };
  if (notifierInfo !== undefined && notifierInfo !== null) {
    if (!Array.isArray(notifierInfo) || !notifierInfo.every(isPair)) return 'message.notifierInfo is not a list of {key, value} strings';
    out.notifierInfo = notifierInfo.map((p) => ({ key: p.key, value: p.value }));
  }
  // An optional hint: null, 0 or anything but a positive number means "the worker's default".
  if (typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs > 0) out.timeoutMs = timeoutMs;
  if (typeof minIntervalMs === 'number' && Number.isFinite(minIntervalMs) && minIntervalMs > 0) out.minIntervalMs = minIntervalMs;
  return out;
}

/** Case-insensitive lookup of a notifierInfo value. */
export function notifierInfoValue(m: DeliveryMessage, key: string): string | undefined {
  const k = key.toLowerCase();
  return m.notifierInfo?.find((p) => p.key.toLowerCase() === k)?.value;
}
