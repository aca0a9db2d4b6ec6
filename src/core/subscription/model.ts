// The compiled form of an NGSI-LD Subscription (GS CIM 009 §5.2.12–5.2.15; guide §14.1) and its status state
// machine (§5.2.12 `status`, guide §14.2, plus Kend's `failed` for endpoints past the failure limit).
import { compareDateTime } from '../datetime.ts';
import type { LangPreference } from '../model/lang.ts';
import type { Projection } from '../model/projection.ts';
import type { OutputFormat } from '../model/render-entity.ts';
import type { EntitySelector } from '../query/entity-query.ts';
import type { GeoQuery } from '../query/geo-query.ts';
import type { QExpr } from '../query/q-ast.ts';
import type { ScopeExpr } from '../query/scope-q.ts';

export const NOTIFICATION_TRIGGERS = [
  'entityCreated',
  'entityUpdated',
  'entityDeleted',
  'attributeCreated',
  'attributeUpdated',
  'attributeDeleted',
] as const;
export type NotificationTrigger = (typeof NOTIFICATION_TRIGGERS)[number];

/**
 * Delivery counters of a subscription (§5.2.14 notification status members) as the delivery worker keeps
 * them; structurally the port's DeliveryStatus (core may not import ports).
 */
export interface DeliveryCounters {
  timesSent: number;
  timesFailed: number;
  lastNotification?: string;
  lastSuccess?: string;
  lastFailure?: string;
  status?: 'ok' | 'failed';
  /** Consecutive failures since the last success. */
  consecutiveFailures: number;
}

/** `notificationTrigger` when the client gives none (§5.2.12). */
export const DEFAULT_TRIGGERS: readonly NotificationTrigger[] = ['attributeCreated', 'attributeUpdated'];

/** The three attribute triggers; `entityUpdated` stands for all of them (§5.2.12). */
export const ATTRIBUTE_TRIGGERS = ['attributeCreated', 'attributeUpdated', 'attributeDeleted'] as const;
export type AttributeTrigger = (typeof ATTRIBUTE_TRIGGERS)[number];

export const ENDPOINT_ACCEPTS = ['application/json', 'application/ld+json', 'application/geo+json'] as const;
export type EndpointAccept = (typeof ENDPOINT_ACCEPTS)[number];

export const MQTT_VERSIONS = ['mqtt3.1.1', 'mqtt5.0'] as const;
export type MqttVersion = (typeof MQTT_VERSIONS)[number];
export type MqttQos = 0 | 1 | 2;

export interface KeyValuePair {
  key: string;
  value: string;
}

export interface CompiledEndpoint {
  uri: string;
  /** `http` for http/https URIs, `mqtt` for mqtt/mqtts URIs. */
  protocol: 'http' | 'mqtt';
  accept: EndpointAccept;
  receiverInfo: readonly KeyValuePair[];
  notifierInfo: readonly KeyValuePair[];
  /** Milliseconds. */
  timeout?: number;
  /** Milliseconds to wait after a failure before the next attempt to this endpoint. */
  cooldown?: number;
  /** MQTT endpoints only: notifierInfo MQTT-Version / MQTT-QoS with their defaults (mqtt5.0, QoS 0) (§7.2). */
  mqtt?: { version: MqttVersion; qos: MqttQos };
}

export interface CompiledNotificationParams {
  /** `attributes` (as Projection.attrs), `pick`, `omit`; names expanded. Absent = the whole entity. */
  projection?: Projection;
  /** `simplified` is compiled to `keyValues`. */
  format: OutputFormat;
  sysAttrs: boolean;
  showChanges: boolean;
  /** The subscription's `lang` member (§4.15), applied to notification data. */
  lang?: LangPreference;
  endpoint: CompiledEndpoint;
}

/** Everything the matcher and the notifier need, names expanded to FQNs, filters parsed to ASTs. */
export interface CompiledSubscription {
  id: string;
  /** Alternatives (OR). Absent = any entity (a subscription with only `watchedAttributes`). */
  selectors?: EntitySelector[];
  /** FQNs. Absent = any attribute. */
  watchedAttributes?: ReadonlySet<string>;
  /** As given (default applied); `entityUpdated` is kept as such and read as the three attribute triggers. */
  triggers: ReadonlySet<NotificationTrigger>;
  q?: QExpr;
  scopeQ?: ScopeExpr;
  geoQ?: GeoQuery;
  /** Only meaningful for context sources; parsed for syntax, never evaluated locally. */
  csf?: QExpr;
  /** `datasetId` [1.8]: instances selected (`@none` = the default instance), for matching and for data. */
  datasetIds?: readonly string[];
  /** Seconds; a periodic subscription never matches changes. */
  timeInterval?: number;
  /** Seconds (fractions allowed). */
  throttling?: number;
  isActive: boolean;
  expiresAt?: string;
  jsonldContext?: string;
  localOnly: boolean;
  notification: CompiledNotificationParams;
}

// ---- Status state machine (guide §14.2) -----------------------------------------------------------------

export type SubscriptionStatus = 'active' | 'paused' | 'expired' | 'failed';

/**
 * The status is derived, never stored: it is a function of three facts. A state is the triple of those
 * facts; the status of each of the eight states is written down below and the compiler checks that none is
 * missing. Precedence: expiry over pausing over failure.
 */
export type ExpiryFact = 'expired' | 'live';
export type ActivityFact = 'inactive' | 'active';
export type DeliveryFact = 'failing' | 'healthy';
export type StatusState = `${ExpiryFact}/${ActivityFact}/${DeliveryFact}`;

export const STATUS_OF_STATE: { readonly [S in StatusState]: SubscriptionStatus } = {
  'expired/inactive/failing': 'expired',
  'expired/inactive/healthy': 'expired',
  'expired/active/failing': 'expired',
  'expired/active/healthy': 'expired',
  'live/inactive/failing': 'paused',
  'live/inactive/healthy': 'paused',
  'live/active/failing': 'failed',
  'live/active/healthy': 'active',
};

/**
 * What moves a subscription between states:
 * - `pause` / `resume`: PATCH `isActive: false` / `true`;
 * - `expire`: the clock reaches `expiresAt`; `renew`: PATCH with a new future `expiresAt` or `expiresAt: null`;
 * - `failureLimitReached`: the delivery worker records the N-th consecutive failure;
 *   `deliverySucceeded`: a delivery succeeds (the consecutive-failure count restarts at 0).
 * Resuming does not clear a failure streak: a `failed` subscription keeps being matched and retried, and its
 * next success makes it `active` again.
 */
export type StatusEvent = 'pause' | 'resume' | 'expire' | 'renew' | 'failureLimitReached' | 'deliverySucceeded';

export const STATUS_TRANSITIONS: { readonly [S in StatusState]: { readonly [E in StatusEvent]: StatusState } } = {
  'expired/inactive/failing': {
    pause: 'expired/inactive/failing', resume: 'expired/active/failing', expire: 'expired/inactive/failing',
    renew: 'live/inactive/failing', failureLimitReached: 'expired/inactive/failing', deliverySucceeded: 'expired/inactive/healthy',
  },
  'expired/inactive/healthy': {
    pause: 'expired/inactive/healthy', resume: 'expired/active/healthy', expire: 'expired/inactive/healthy',
    renew: 'live/inactive/healthy', failureLimitReached: 'expired/inactive/failing', deliverySucceeded: 'expired/inactive/healthy',
  },
  'expired/active/failing': {
    pause: 'expired/inactive/failing', resume: 'expired/active/failing', expire: 'expired/active/failing',
    renew: 'live/active/failing', failureLimitReached: 'expired/active/failing', deliverySucceeded: 'expired/active/healthy',
  },
  'expired/active/healthy': {
    pause: 'expired/inactive/healthy', resume: 'expired/active/healthy', expire: 'expired/active/healthy',
    renew: 'live/active/healthy', failureLimitReached: 'expired/active/failing', deliverySucceeded: 'expired/active/healthy',
  },
  'live/inactive/failing': {
    pause: 'live/inactive/failing', resume: 'live/active/failing', expire: 'expired/inactive/failing',
    renew: 'live/inactive/failing', failureLimitReached: 'live/inactive/failing', deliverySucceeded: 'live/inactive/healthy',
  },
  'live/inactive/healthy': {
    pause: 'live/inactive/healthy', resume: 'live/active/healthy', expire: 'expired/inactive/healthy',
    renew: 'live/inactive/healthy', failureLimitReached: 'live/inactive/failing', deliverySucceeded: 'live/inactive/healthy',
  },
  'live/active/failing': {
    pause: 'live/inactive/failing', resume: 'live/active/failing', expire: 'expired/active/failing',
    renew: 'live/active/failing', failureLimitReached: 'live/active/failing', deliverySucceeded: 'live/active/healthy',
  },
  'live/active/healthy': {
    pause: 'live/inactive/healthy', resume: 'live/active/healthy', expire: 'expired/active/healthy',
    renew: 'live/active/healthy', failureLimitReached: 'live/active/failing', deliverySucceeded: 'live/active/healthy',
  },
};

/** The members of a subscription that its status depends on. */
export interface StatusInputs {
  isActive: boolean;
  expiresAt?: string;
}

/** True when `expiresAt` is set and not after `now`. */
export function isExpired(sub: StatusInputs, now: string): boolean {
  return sub.expiresAt !== undefined && compareDateTime(sub.expiresAt, now) <= 0;
}

/**
 * The state of a subscription. `maxConsecutiveFailures` below 1 disables the `failed` state (a limit of 0
 * would otherwise make every subscription failed).
 */
export function statusState(sub: StatusInputs, delivery: Pick<DeliveryCounters, 'consecutiveFailures'>, now: string, maxConsecutiveFailures: number): StatusState {
  const expiry: ExpiryFact = isExpired(sub, now) ? 'expired' : 'live';
  const activity: ActivityFact = sub.isActive ? 'active' : 'inactive';
  const failing = maxConsecutiveFailures >= 1 && delivery.consecutiveFailures >= maxConsecutiveFailures;
  return `${expiry}/${activity}/${failing ? 'failing' : 'healthy'}`;
}

/** expired when expiresAt ≤ now; else paused when isActive is false; else failed past the failure limit; else active. */
export function deriveStatus(sub: StatusInputs, delivery: Pick<DeliveryCounters, 'consecutiveFailures'>, now: string, maxConsecutiveFailures: number): SubscriptionStatus {
  return STATUS_OF_STATE[statusState(sub, delivery, now, maxConsecutiveFailures)];
}

/**
 * True when changes may produce notifications for this subscription: `active` and `failed` ones (a failed
 * subscription keeps being matched so that its endpoint can recover and the failure streak end); `paused` and
 * `expired` ones do not. Delivery state is not needed to decide this.
 */
export function isNotifying(sub: StatusInputs, now: string): boolean {
  return sub.isActive && !isExpired(sub, now);
}
