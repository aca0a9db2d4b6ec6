// Delivery worker (issue 5 items 4–6; guide §14.4): drains the durable notification outbox with one queue per
// endpoint — its own concurrency budget, retry timer and circuit — so a dead or slow endpoint delays nobody else.
//
// Per endpoint: rows wait in creation order; at most `perEndpointConcurrency` are in flight, one per subscription
// (a subscription's later notification never overtakes an earlier one, also across retries: a released row
// holds its subscription's later rows back until it is claimed again). After a retryable failure the endpoint
// pauses (exponential backoff, capped, jittered) and then sends a single probe until one delivery succeeds.
// A failed row goes back to the store with `retryLater` (base × 2^attempts, capped, jittered); after
// `maxAttempts` attempts, or on a non-retryable failure, it is dropped. Rows sharing a coalesceKey supersede
// older ones still waiting. Claimed rows that are never settled (crash, stop, overflow) come back after the lease.
//
// Throttling (issue 5 item 6): a message with minIntervalMs holds its subscription's next delivery until that
// long after the start of this one, and rows enqueued with a future notBefore are claimed when they fall due
// (kick(at)), not at the next poll. `notifiedAt` is stamped when the delivery starts (§5.3.1: the instant the
// notification is issued), so a notification held back by throttling or a retry never shows a stale time.
import type { Clock } from '../ports/clock.ts';
import type { OutboxRow, SubscriptionStore } from '../ports/subscription-store.ts';
import { deliveryFailure, parseOutboxMessage, type DeliveryMessage, type DeliveryOutcome, type NotificationTransport } from '../ports/notifier.ts';
import { createWakeSchedule } from './wake-schedule.ts';

export interface DeliveryWorkerConfig {
  batchSize: number;
  leaseMs: number;
  pollIntervalMs: number;
  perEndpointConcurrency: number;
  requestTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  /** Rows kept in memory per endpoint; the newest beyond it are left to their lease (default max(1000, batchSize)). */
  maxQueuedPerEndpoint?: number;
  /** Bound on waiting for in-flight deliveries at stop (default requestTimeoutMs + 1000). */
  stopTimeoutMs?: number;
}

export interface WorkerLogger {
  warn(obj: object, msg: string): void;
}

export interface DeliveryWorkerDeps {
  outbox: Pick<SubscriptionStore, 'claimDue' | 'complete' | 'retryLater' | 'recordDelivery'>;
  transport: NotificationTransport;
  clock: Clock;
  logger?: WorkerLogger;
  config: DeliveryWorkerConfig;
  /** Lease owner name, unique per process. */
  owner: string;
  /** Jitter source in [0, 1); tests pin it. */
  random?: () => number;
}

export interface DeliveryWorker {
  start(): void;
  /** Stops claiming, waits (bounded) for in-flight deliveries and pending store writes. */
  stop(): Promise<void>;
  /**
   * Call after a commit that enqueued entries: claims now instead of at the next poll, or at `atMs` when given
   * and in the future (the notBefore of a throttled entry).
   */
  kick(atMs?: number): void;
}

/** Share of a retry delay removed at random, so failing endpoints do not retry in lockstep. */
export const RETRY_JITTER = 0.25;

/** Delay before the next attempt after `previousAttempts` earlier failed ones: base × 2^n, capped, minus jitter. */
export function retryDelayMs(previousAttempts: number, cfg: { retryBaseMs: number; retryMaxMs: number }, random: number): number {
  const raw = Math.min(cfg.retryMaxMs, cfg.retryBaseMs * 2 ** Math.min(previousAttempts, 52));
  return Math.round(raw * (1 - RETRY_JITTER * random));
}

interface Item {
  row: OutboxRow;
  /** The row's message, or why it is not one. */
  message: DeliveryMessage | string;
  /** Claim order: the tie-break after createdAt (the store returns rows in enqueue order). */
  ord: number;
}

interface Hold {
  id: string;
  createdAt: string;
  ord: number;
  until: number;
}

interface EndpointQueue {
  endpoint: string;
  pending: Item[];
  coalesce: Map<string, Item>;
  inFlight: number;
  busySubs: Set<string>;
  holds: Map<string, Hold>;
  /** Throttled subscriptions: the earliest start of their next delivery. */
  gates: Map<string, number>;
  failures: number;
  pausedUntil: number;
  timer?: NodeJS.Timeout;
  timerAt?: number;
}

const before = (a: { createdAt: string; ord: number }, b: { createdAt: string; ord: number }): boolean =>
  a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.ord < b.ord);
const keyOf = (i: Item) => ({ createdAt: i.row.createdAt, ord: i.ord });
const subKey = (row: OutboxRow): string => `${row.tenant}\u0000${row.subscriptionId}`;
const MAX_CLAIM_ROUNDS = 20;

export function createDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const { outbox, transport, clock, config: cfg, owner } = deps;
  const random = deps.random ?? Math.random;
  const maxQueued = Math.max(1, cfg.maxQueuedPerEndpoint ?? Math.max(1000, cfg.batchSize));
  const queues = new Map<string, EndpointQueue>();
  /** Ids of rows in memory (waiting or in flight), so a re-claim of our own row is not taken twice. */
  const held = new Set<string>();
  const background = new Set<Promise<unknown>>();
  const recordChains = new Map<string, Promise<void>>();
  let toComplete: string[] = [];
  let flushing = false;
  let running = false;
  let pumping: Promise<void> | null = null;
  let again = false;
  let kickScheduled = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let ordSeq = 0;
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];

  const warn = (obj: object, msg: string) => deps.logger?.warn(obj, msg);
  const track = <T>(p: Promise<T>): void => {
    background.add(p);
    void p.finally(() => background.delete(p));
  };

  function completeLater(id: string): void {
    toComplete.push(id);
    if (flushing) return;
    flushing = true;
    // Group commit: every id settled while one complete() runs goes into the next call.
    track(
      (async () => {
        while (toComplete.length > 0) {
          const ids = toComplete;
          toComplete = [];
          await outbox.complete(ids).catch((err: unknown) => warn({ err, count: ids.length }, 'outbox complete failed; the rows come back after their lease'));
        }
        flushing = false;
      })(),
    );
  }

  function record(row: OutboxRow, ok: boolean, at: string): void {
    // Chained per subscription so the store sees outcomes in the order they happened.
    const key = subKey(row);
    const prev = recordChains.get(key) ?? Promise.resolve();
    const next = prev
      .then(() => outbox.recordDelivery(row.tenant, row.subscriptionId, { ok, at }))
      .catch((err: unknown) => warn({ err, subscriptionId: row.subscriptionId }, 'recording a delivery outcome failed'));
    recordChains.set(key, next);
    track(next.finally(() => recordChains.get(key) === next && recordChains.delete(key)));
  }

  function queueFor(endpoint: string): EndpointQueue {
    let q = queues.get(endpoint);
    if (!q) {
      q = { endpoint, pending: [], coalesce: new Map(), inFlight: 0, busySubs: new Set(), holds: new Map(), gates: new Map(), failures: 0, pausedUntil: 0 };
      queues.set(endpoint, q);
    }
    return q;
  }

  function dropIfIdle(q: EndpointQueue): void {
    // A live gate keeps the queue: dropping it would let the subscription's next row go out too early.
    if (q.pending.length === 0 && q.inFlight === 0 && q.holds.size === 0 && q.gates.size === 0 && q.timer === undefined && q.pausedUntil <= clock.nowMs()) {
      queues.delete(q.endpoint);
    }
  }

  function removePending(q: EndpointQueue, item: Item): void {
    const i = q.pending.indexOf(item);
    if (i >= 0) q.pending.splice(i, 1);
    const k = item.row.coalesceKey;
    if (k !== undefined && q.coalesce.get(k) === item) q.coalesce.delete(k);
  }

  function supersede(item: Item): void {
    held.delete(item.row.id);
    completeLater(item.row.id);
  }

  function accept(row: OutboxRow): EndpointQueue | null {
    if (held.has(row.id)) return null;
    const q = queueFor(row.endpoint);
    const sk = subKey(row);
    const hold = q.holds.get(sk);
    let ord: number;
    if (hold !== undefined && hold.id === row.id) {
      q.holds.delete(sk);
      ord = hold.ord;
    } else ord = ++ordSeq;
    const item: Item = { row, message: parseOutboxMessage(row.message), ord };
    const ck = row.coalesceKey;
    if (ck !== undefined) {
      const other = q.coalesce.get(ck);
      if (other !== undefined) {
        if (before(keyOf(item), keyOf(other))) {
          supersede(item);
          return q;
        }
        removePending(q, other);
        supersede(other);
      }
      q.coalesce.set(ck, item);
    }
    held.add(row.id);
    let i = q.pending.length;
    while (i > 0 && before(keyOf(item), keyOf(q.pending[i - 1]!))) i--;
    q.pending.splice(i, 0, item);
    while (q.pending.length > maxQueued) {
      // Leave the newest to their lease: they come back later, after the older ones of their subscription.
      const tail = q.pending[q.pending.length - 1]!;
      removePending(q, tail);
      held.delete(tail.row.id);
    }
    return q;
  }

  function schedule(q: EndpointQueue, at: number): void {
    if (!running) return;
    if (q.timer !== undefined && q.timerAt !== undefined && q.timerAt <= at) return;
    if (q.timer !== undefined) clearTimeout(q.timer);
    q.timerAt = at;
    q.timer = setTimeout(() => {
      q.timer = undefined;
      q.timerAt = undefined;
      if (!running) return;
      dispatch(q);
      void pump();
    }, Math.max(0, at - clock.nowMs()));
    q.timer.unref();
  }

  function dispatch(q: EndpointQueue): void {
    if (!running) return;
    const now = clock.nowMs();
    if (now < q.pausedUntil) {
      schedule(q, q.pausedUntil);
      return;
    }
    for (const [sk, h] of q.holds) if (h.until <= now) q.holds.delete(sk);
    for (const [sk, until] of q.gates) if (until <= now) q.gates.delete(sk);
    // Half-open circuit: after failures, one probe at a time until a delivery succeeds.
    const limit = q.failures > 0 ? 1 : Math.max(1, cfg.perEndpointConcurrency);
    const seen = new Set<string>();
    let gatedUntil = Number.POSITIVE_INFINITY;
    for (let i = 0; i < q.pending.length && q.inFlight < limit; ) {
      const item = q.pending[i]!;
      const sk = subKey(item.row);
      const hold = q.holds.get(sk);
      const gate = q.gates.get(sk);
      if (gate !== undefined && !seen.has(sk) && !q.busySubs.has(sk)) gatedUntil = Math.min(gatedUntil, gate);
      const blocked = seen.has(sk) || q.busySubs.has(sk) || gate !== undefined || (hold !== undefined && before({ createdAt: hold.createdAt, ord: hold.ord }, keyOf(item)));
      seen.add(sk);
      if (blocked) {
        i++;
        continue;
      }
      removePending(q, item);
      q.inFlight++;
      inFlight++;
      q.busySubs.add(sk);
      const minInterval = typeof item.message === 'string' ? undefined : item.message.minIntervalMs;
      if (minInterval !== undefined) q.gates.set(sk, now + minInterval);
      void run(q, item, now);
    }
    if (gatedUntil !== Number.POSITIVE_INFINITY) schedule(q, gatedUntil);
    dropIfIdle(q);
  }

  async function attempt(item: Item, startedAtMs: number): Promise<DeliveryOutcome> {
    const { row, message } = item;
    if (typeof message === 'string') return deliveryFailure(`unusable outbox message: ${message}`, false);
    const timeoutMs = Math.min(cfg.requestTimeoutMs, message.timeoutMs ?? Number.POSITIVE_INFINITY);
    const body = { ...message.body, notifiedAt: new Date(startedAtMs).toISOString() };
    try {
      return await transport.deliver(row.endpoint, { ...message, body }, { timeoutMs });
    } catch (err) {
      return deliveryFailure(`transport error: ${err instanceof Error ? err.message : String(err)}`, true);
    }
  }

  async function settle(q: EndpointQueue, item: Item, outcome: DeliveryOutcome): Promise<void> {
    const { row } = item;
    const now = clock.nowMs();
    const at = clock.nowIso();
    if (outcome.ok) {
      q.failures = 0;
      q.pausedUntil = 0;
      completeLater(row.id);
      record(row, true, at);
      return;
    }
    record(row, false, at);
    if (outcome.retryable) {
      // The endpoint is in trouble: pause it (dispatch re-arms the timer), then probe.
      q.failures++;
      q.pausedUntil = Math.max(q.pausedUntil, now + retryDelayMs(q.failures - 1, cfg, random()));
    }
    const attempts = row.attempts + 1;
    if (!outcome.retryable || attempts >= cfg.maxAttempts) {
      warn({ endpoint: row.endpoint, subscriptionId: row.subscriptionId, notificationId: row.id, attempts, reason: outcome.reason }, 'notification dropped');
      completeLater(row.id);
      return;
    }
    const retryAt = now + retryDelayMs(row.attempts, cfg, random());
    q.holds.set(subKey(row), { id: row.id, createdAt: row.createdAt, ord: item.ord, until: retryAt + cfg.leaseMs });
    schedule(q, Math.min(q.pausedUntil, retryAt));
    try {
      await outbox.retryLater(row.id, new Date(retryAt).toISOString());
    } catch (err) {
      warn({ err, notificationId: row.id }, 'outbox retryLater failed; the row comes back after its lease');
    }
  }

  async function run(q: EndpointQueue, item: Item, startedAtMs: number): Promise<void> {
    try {
      await settle(q, item, await attempt(item, startedAtMs));
    } catch (err) {
      warn({ err, notificationId: item.row.id }, 'settling a delivery failed');
    } finally {
      q.inFlight--;
      inFlight--;
      q.busySubs.delete(subKey(item.row));
      held.delete(item.row.id);
      if (inFlight === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
      if (running) dispatch(q);
    }
  }

  function schedulePoll(delayMs: number): void {
    if (!running) return;
    if (pollTimer !== undefined) clearTimeout(pollTimer);
    pollTimer = setTimeout(() => {
      pollTimer = undefined;
      void pump();
    }, delayMs);
    pollTimer.unref();
  }

  async function claimLoop(): Promise<boolean> {
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const rows = await outbox.claimDue(owner, clock.nowIso(), cfg.batchSize, cfg.leaseMs, maxQueued);
      if (!running) return false;
      const touched = new Set<EndpointQueue>();
      for (const row of rows) {
        const q = accept(row);
        if (q) touched.add(q);
      }
      for (const q of touched) dispatch(q);
      if (rows.length < cfg.batchSize) return false;
    }
    return true;
  }

  const wakes = createWakeSchedule(() => clock.nowMs(), () => void pump());

  function pump(): Promise<void> {
    if (!running) return Promise.resolve();
    if (pumping) {
      again = true;
      return pumping;
    }
    if (pollTimer !== undefined) clearTimeout(pollTimer);
    pollTimer = undefined;
    pumping = (async () => {
      // `more`: the claim rounds ran out while batches were still full, so claim again right away.
      let more = false;
      try {
        do {
          again = false;
          more = await claimLoop();
        } while (again && !more && running);
      } catch (err) {
        warn({ err }, 'claiming due notifications failed');
      } finally {
        pumping = null;
        for (const q of [...queues.values()]) dispatch(q);
        schedulePoll(more ? 0 : cfg.pollIntervalMs);
      }
    })();
    return pumping;
  }

  return {
    start(): void {
      if (running) return;
      running = true;
      void pump();
    },
    kick(atMs?: number): void {
      if (!running) return;
      if (atMs !== undefined && atMs > clock.nowMs()) {
        wakes.add(atMs);
        return;
      }
      if (kickScheduled) return;
      kickScheduled = true;
      // setImmediate: the committing request answers first, and a burst of kicks costs one claim.
      setImmediate(() => {
        kickScheduled = false;
        void pump();
      });
    },
    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      if (pollTimer !== undefined) clearTimeout(pollTimer);
      pollTimer = undefined;
      wakes.clear();
      for (const q of queues.values()) if (q.timer !== undefined) clearTimeout(q.timer);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((r) => (timer = setTimeout(r, cfg.stopTimeoutMs ?? cfg.requestTimeoutMs + 1000)));
      const idle = inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r));
      await Promise.race([Promise.all([pumping, idle]).then(() => Promise.allSettled([...background])), deadline]);
      clearTimeout(timer);
      // Rows still waiting in memory keep their lease; another owner (or this one after restart) takes them later.
      queues.clear();
      held.clear();
    },
  };
}
