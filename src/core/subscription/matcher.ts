// Which subscriptions an entity change notifies, and why (GS CIM 009 §5.8 / §5.2.12 notificationTrigger,
// watchedAttributes, q, geoQ, scopeQ; guide §14.3). Pure: the caller passes the tenant's subscriptions and now.
//
// Decisions:
// - Only subscriptions whose status is `active` or `failed` match (isNotifying): a failed subscription keeps
//   being matched so its endpoint can recover; `paused` and `expired` ones never match.
// - Periodic subscriptions (timeInterval) never match changes: they are served by the periodic runner with
//   matchesEntity / currentStateMatch.
// - `entityUpdated` stands for the three attribute triggers (§5.2.12), also when an entity creation creates
//   attributes or an entity deletion deletes them: creating an entity fires `attributeCreated` for each of
//   its (watched) attributes, deleting it fires `attributeDeleted` for each.
// - Changes of `type` or `scope` alone are not attribute changes and notify nobody.
// - `datasetId` restricts the instances whose changes count; `notification.attributes` (the deprecated "pick
//   and require" list) requires the entity to hold one of them, or to have just lost one.
import type { AttrInstance, Entity } from '../model/entity.ts';
import { entityMatchesAttrs } from '../model/projection.ts';
import { DEFAULT_DATASET } from '../model/render-entity.ts';
import { matchesSelector } from '../query/entity-query.ts';
import { evaluateGeoQuery } from '../query/geo-query.ts';
import { evaluateQ } from '../query/q-eval.ts';
import { evaluateScopeQ } from '../query/scope-q.ts';
import { diffAttributes, type AttributeChange, type AttributeChangeKind } from './entity-diff.ts';
import { isNotifying, type AttributeTrigger, type CompiledSubscription, type NotificationTrigger } from './model.ts';

/** A committed change of one entity: creation (before null), deletion (after null), or anything else. */
export interface EntityChange {
  before: Entity | null;
  after: Entity | null;
  /** Instant of the change; for a deletion the entity's deletedAt. Defaults to the after state's modifiedAt. */
  at?: string;
}

export interface DeletedAttribute {
  /** Attribute FQN. */
  name: string;
  /** The deleted instance as it was (its datasetId tells which instance). */
  instance: AttrInstance;
}

export interface Match {
  sub: CompiledSubscription;
  /** The subscribed triggers this change fired (`entityUpdated` when fired through it). Empty for periodic data. */
  reasons: ReadonlySet<NotificationTrigger>;
  /** FQNs of the attributes whose changes count for this subscription, in change order, once each. */
  attributesChanged: string[];
  /** Deleted instances that count (only when attribute deletions are subscribed). */
  deletedAttributes: DeletedAttribute[];
  /** The instance-level changes that count for this subscription. */
  changes: AttributeChange[];
  /** The entity the notification shows: the state after the change, the last state for a deletion. */
  entity: Entity;
  /** The state before the change (null for a creation and for periodic data). */
  previous: Entity | null;
  /** True when the change deleted the entity. */
  entityDeleted: boolean;
  /** When the change happened (deletedAt of deleted entities and attributes). */
  at?: string;
}

const TRIGGER_OF: Readonly<Record<AttributeChangeKind, AttributeTrigger>> = {
  created: 'attributeCreated',
  updated: 'attributeUpdated',
  deleted: 'attributeDeleted',
};

/** The matches of one change against the subscriptions of its tenant, in subscription order. */
export function matchChange(change: EntityChange, subs: readonly CompiledSubscription[], now: string): Match[] {
  const subject = change.after ?? change.before;
  if (subject === null) return [];
  let diff: AttributeChange[] | undefined;
  const out: Match[] = [];
  for (const sub of subs) {
    if (sub.timeInterval !== undefined || !isNotifying(sub, now)) continue;
    if (!selects(sub, subject)) continue;
    diff ??= diffAttributes(change.before, change.after);
    const match = classify(change, subject, diff, sub);
    if (match !== null && passesFilters(sub, subject, match.changes)) out.push(match);
  }
  return out;
}

/** The entity selectors of a subscription (absent = every entity). */
function selects(sub: CompiledSubscription, entity: Entity): boolean {
  return sub.selectors === undefined || sub.selectors.some((s) => matchesSelector(s, entity));
}

/** True when the entity is one the subscription is about: selectors, q, geoQ and scopeQ (periodic runs). */
export function matchesEntity(sub: CompiledSubscription, entity: Entity): boolean {
  return selects(sub, entity) && passesFilters(sub, entity, []);
}

/** A match carrying the current state of an entity, no change (periodic notifications). */
export function currentStateMatch(sub: CompiledSubscription, entity: Entity): Match {
  return { sub, reasons: new Set(), attributesChanged: [], deletedAttributes: [], changes: [], entity, previous: null, entityDeleted: false };
}

function passesFilters(sub: CompiledSubscription, entity: Entity, changes: readonly AttributeChange[]): boolean {
  const projection = sub.notification.projection;
  if (projection?.attrs !== undefined && !entityMatchesAttrs(entity, projection)) {
    if (!changes.some((c) => c.kind === 'deleted' && projection.attrs!.has(c.attr))) return false;
  }
  if (sub.q !== undefined && !evaluateQ(sub.q, entity)) return false;
  if (sub.scopeQ !== undefined && !evaluateScopeQ(sub.scopeQ, entity.scope)) return false;
  if (sub.geoQ !== undefined && !evaluateGeoQuery(sub.geoQ, entity)) return false;
  return true;
}

function wantsAttribute(sub: CompiledSubscription, trigger: AttributeTrigger): boolean {
  return sub.triggers.has(trigger) || sub.triggers.has('entityUpdated');
}

function hasWatched(sub: CompiledSubscription, entity: Entity): boolean {
  const watched = sub.watchedAttributes;
  if (watched === undefined) return true;
  for (const name of watched) if ((entity.attrs[name]?.length ?? 0) > 0) return true;
  return false;
}

/** The triggers fired for this subscription and the changes that count; null when nothing fires. */
function classify(change: EntityChange, subject: Entity, diff: readonly AttributeChange[], sub: CompiledSubscription): Match | null {
  const reasons = new Set<NotificationTrigger>();
  const created = change.before === null;
  const deleted = change.after === null;
  if (created && sub.triggers.has('entityCreated') && hasWatched(sub, subject)) reasons.add('entityCreated');
  if (deleted && sub.triggers.has('entityDeleted') && hasWatched(sub, subject)) reasons.add('entityDeleted');

  const counted: AttributeChange[] = [];
  for (const c of diff) {
    if (sub.watchedAttributes !== undefined && !sub.watchedAttributes.has(c.attr)) continue;
    if (sub.datasetIds !== undefined && !sub.datasetIds.includes(c.datasetId ?? DEFAULT_DATASET)) continue;
    const trigger = TRIGGER_OF[c.kind];
    if (!wantsAttribute(sub, trigger)) continue;
    counted.push(c);
    if (sub.triggers.has(trigger)) reasons.add(trigger);
    if (sub.triggers.has('entityUpdated')) reasons.add('entityUpdated');
  }
  if (reasons.size === 0) return null;

  const attributesChanged = [...new Set(counted.map((c) => c.attr))];
  const deletedAttributes = counted.filter((c) => c.kind === 'deleted').map((c) => ({ name: c.attr, instance: c.before! }));
  const match: Match = {
    sub,
    reasons,
    attributesChanged,
    deletedAttributes,
    changes: counted,
    entity: subject,
    previous: change.before,
    entityDeleted: deleted,
  };
  const at = change.at ?? change.after?.modifiedAt;
  if (at !== undefined) match.at = at;
  return match;
}
