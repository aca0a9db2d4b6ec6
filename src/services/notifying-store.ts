// Wraps the EntityStore so that every committed entity change carries the notifications it owes
// (GS CIM 009 §7.2.2; issue 5 item 4): the matcher runs inside the write's decide step, and its outbox
// entries are written in the same transaction as the change. Services stay unaware of subscriptions.
import { randomUUID } from 'node:crypto';
import type { Entity } from '../core/model/entity.ts';
import { matchChange, type Match } from '../core/subscription/matcher.ts';
import { buildNotification } from '../core/subscription/notification.ts';
import type { TenantId } from '../core/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import type { BatchItem, EntityStore, WriteDecision } from '../ports/store.ts';
import type { OutboxEntry } from '../ports/subscription-store.ts';
import type { RegisteredSubscription, SubscriptionRegistry } from './subscription-registry.ts';

export interface NotifyingStoreDeps {
  store: EntityStore;
  registry: Pick<SubscriptionRegistry, 'forTenant'>;
  clock: Clock;
  /**
   * Called after a commit that enqueued notifications, with their distinct notBefore instants (ms): wake the
   * delivery worker now, and again when a throttled one falls due.
   */
  onEnqueued(dueAtMs: readonly number[]): void;
}

/** Per-subscription throttling slots of this node: the next instant a throttled subscription may notify. */
type ThrottleSlots = Map<string, number>;

export function outboxEntriesFor(
  tenant: TenantId,
  before: Entity | null,
  after: Entity | null,
  subs: readonly RegisteredSubscription[],
  now: string,
  slots: ThrottleSlots,
): OutboxEntry[] {
  if (subs.length === 0) return [];
  const matches = matchChange({ before, after, at: now }, subs.map((s) => s.compiled), now);
  const out: OutboxEntry[] = [];
  for (const match of matches) {
    const reg = subs.find((s) => s.compiled === match.sub)!;
    out.push(entryFor(tenant, reg, [match], now, slots, (after ?? before)!.id));
  }
  return out;
}

export function entryFor(
  tenant: TenantId,
  reg: RegisteredSubscription,
  matches: Match[],
  now: string,
  slots: ThrottleSlots,
  entityId?: string,
): OutboxEntry {
  const id = `urn:ngsi-ld:Notification:${randomUUID()}`;
  const message = buildNotification(matches, reg.notifyTerms, {
    notificationId: id,
    notifiedAt: now,
    tenant,
    contextUrl: reg.contextUrl,
    context: reg.contextValue,
  });
  const entry: OutboxEntry = {
    id,
    tenant,
    subscriptionId: reg.compiled.id,
    endpoint: reg.compiled.notification.endpoint.uri,
    message: {
      body: message.body,
      headers: message.headers,
      contentType: message.contentType,
      notifierInfo: (reg.compiled.notification.endpoint.notifierInfo ?? []).map((p) => ({ key: p.key, value: p.value })),
      timeoutMs: reg.compiled.notification.endpoint.timeout ?? null,
    },
    notBefore: now,
    createdAt: now,
  };
  const throttling = reg.compiled.throttling;
  if (throttling !== undefined && entityId !== undefined) {
    // Never two notifications closer than `throttling`. A later change of the same entity while its
    // notification is still pending reuses that slot and coalesceKey: the store replaces the pending entry,
    // so the last change of a window is the one delivered, and a fast sensor never builds a backlog.
    const subKey = `${tenant}|${reg.compiled.id}`;
    const coalesceKey = `${subKey}|${entityId}`;
    const nowMs = Date.parse(now);
    const pending = slots.get(coalesceKey);
    let slot: number;
    if (pending !== undefined && pending > nowMs) slot = pending;
    else {
      slot = Math.max(nowMs, slots.get(subKey) ?? 0);
      slots.set(subKey, slot + throttling * 1000);
      slots.set(coalesceKey, slot);
    }
    entry.notBefore = new Date(slot).toISOString();
    entry.coalesceKey = coalesceKey;
    // The slots space the rows; the worker spaces the actual deliveries, whichever of them went out late.
    entry.message.minIntervalMs = Math.round(throttling * 1000);
  }
  return entry;
}

export function createNotifyingStore(deps: NotifyingStoreDeps): EntityStore {
  const { store, registry } = deps;
  const slots: ThrottleSlots = new Map();

  /** Distinct notBefore instants of the entries the matcher added (ms). */
  const dueTimes = (entries: readonly OutboxEntry[]): number[] => [...new Set(entries.map((e) => Date.parse(e.notBefore)))];

  /** Adds the matcher's outbox entries to a write decision and hands them to `sink` (for the post-commit wake-up). */
  function wrap<R>(tenant: TenantId, decide: (current: Entity | null) => WriteDecision<R>, sink: (entries: OutboxEntry[]) => void): (current: Entity | null) => WriteDecision<R> {
    return (current) => {
      const decision = decide(current);
      const subs = registry.forTenant(tenant);
      if (subs.length === 0 || (decision.put === undefined && decision.remove !== true)) {
        sink([]);
        return decision;
      }
      const after = decision.remove === true ? null : decision.put!;
      const now = after?.modifiedAt ?? deps.clock.nowIso();
      const outbox = outboxEntriesFor(tenant, current, after, subs, now, slots);
      sink(outbox);
      return outbox.length === 0 ? decision : { ...decision, outbox: [...(decision.outbox ?? []), ...outbox] };
    };
  }

  return {
    ...store,
    async writeEntity(tenant, id, decide, options) {
      // A transaction retried from the start decides again: only the last decision's entries were committed.
      let enqueued: OutboxEntry[] = [];
      const result = await store.writeEntity(tenant, id, wrap(tenant, decide, (entries) => (enqueued = entries)), options);
      if (enqueued.length > 0) deps.onEnqueued(dueTimes(enqueued));
      return result;
    },
    async writeEntities<R>(tenant: TenantId, items: readonly BatchItem<R>[], options: { createTenant: boolean }) {
      const enqueued = new Map<number, OutboxEntry[]>();
      const wrapped = items.map((item, i) => ({
        id: item.id,
        decide: wrap(tenant, item.decide, (entries) => enqueued.set(i, entries)),
      }));
      const outcomes = await store.writeEntities(tenant, wrapped, options);
      const all = [...enqueued.values()].flat();
      if (all.length > 0) deps.onEnqueued(dueTimes(all));
      return outcomes;
    },
  };
}
