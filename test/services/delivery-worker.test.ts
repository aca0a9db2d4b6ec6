// Delivery worker (issue 5 items 4–6): per-endpoint isolation, backoff, maxAttempts, coalescing, per-subscription
// order, lease-based crash safety and graceful stop, over an in-memory outbox implementing the store port.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createHttpTransport } from '../../src/adapters/notify-http.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { toOutboxMessage, type DeliveryOutcome, type NotificationTransport } from '../../src/ports/notifier.ts';
import type { OutboxEntry, OutboxRow, SubscriptionStore } from '../../src/ports/subscription-store.ts';
import type { TenantId } from '../../src/core/tenant.ts';
import { createDeliveryWorker, retryDelayMs, type DeliveryWorker, type DeliveryWorkerConfig } from '../../src/services/delivery-worker.ts';

type Outbox = Pick<SubscriptionStore, 'claimDue' | 'complete' | 'retryLater' | 'recordDelivery'>;

/** The outbox contract in memory: due = notBefore ≤ now and no unexpired lease; claims in enqueue order. */
class FakeOutbox implements Outbox {
  readonly rows = new Map<string, { row: OutboxRow; seq: number; leaseOwner?: string; leaseUntil: number }>();
  readonly retries: { id: string; notBefore: string; calledAt: number }[] = [];
  readonly records: { subscriptionId: string; ok: boolean }[] = [];
  readonly completed: string[] = [];
  readonly claimed: { id: string; owner: string; at: number }[] = [];
  private seq = 0;

  enqueue(entries: readonly OutboxEntry[]): void {
    for (const e of entries) this.rows.set(e.id, { row: { ...e, attempts: 0 }, seq: this.seq++, leaseUntil: 0 });
  }
  async claimDue(owner: string, now: string, limit: number, leaseMs: number): Promise<OutboxRow[]> {
    const t = Date.parse(now);
    const due = [...this.rows.values()]
      .filter((r) => Date.parse(r.row.notBefore) <= t && r.leaseUntil <= t)
      .sort((a, b) => a.row.notBefore.localeCompare(b.row.notBefore) || a.seq - b.seq)
      .slice(0, limit);
    for (const r of due) {
      r.leaseOwner = owner;
      r.leaseUntil = t + leaseMs;
      this.claimed.push({ id: r.row.id, owner, at: t });
    }
    return due.map((r) => ({ ...r.row }));
  }
  async complete(ids: readonly string[]): Promise<void> {
    for (const id of ids) if (this.rows.delete(id)) this.completed.push(id);
  }
  async retryLater(id: string, notBefore: string): Promise<void> {
    this.retries.push({ id, notBefore, calledAt: Date.now() });
    const r = this.rows.get(id);
    if (!r) return;
    r.row.attempts++;
    r.row.notBefore = notBefore;
    r.leaseUntil = 0;
    r.leaseOwner = undefined;
  }
  async recordDelivery(_tenant: TenantId, subscriptionId: string, outcome: { ok: boolean; at: string }): Promise<void> {
    this.records.push({ subscriptionId, ok: outcome.ok });
  }
}

const T0 = Date.now() - 60_000;
let idSeq = 0;
function entry(o: { endpoint?: string; sub?: string; coalesceKey?: string; createdAtMs?: number; body?: Record<string, string | number> } = {}): OutboxEntry {
  const n = ++idSeq;
  const createdAt = new Date(o.createdAtMs ?? T0 + n).toISOString();
  const id = `urn:ngsi-ld:Notification:${String(n).padStart(8, '0')}`;
  return {
    id,
    tenant: '' as TenantId,
    subscriptionId: o.sub ?? 'urn:ngsi-ld:Subscription:s',
    endpoint: o.endpoint ?? 'http://receiver.test/n',
    message: toOutboxMessage({ body: { id, type: 'Notification', ...(o.body ?? {}) }, headers: {}, contentType: 'application/json' }),
    ...(o.coalesceKey === undefined ? {} : { coalesceKey: o.coalesceKey }),
    notBefore: createdAt,
    createdAt,
  };
}

const config = (over: Partial<DeliveryWorkerConfig> = {}): DeliveryWorkerConfig => ({
  batchSize: 50,
  leaseMs: 5000,
  pollIntervalMs: 20,
  perEndpointConcurrency: 4,
  requestTimeoutMs: 1000,
  retryBaseMs: 20,
  retryMaxMs: 200,
  maxAttempts: 5,
  ...over,
});

/** A transport whose behaviour each test scripts; it records every call. */
function scripted(behave: (endpoint: string, id: string, attempt: number) => Promise<DeliveryOutcome> | DeliveryOutcome) {
  type Call = { endpoint: string; id: string; timeoutMs: number; start: number; end?: number };
  const calls: Call[] = [];
  const attempts = new Map<string, number>();
  const transport: NotificationTransport = {
    async deliver(endpoint, message, opts) {
      const id = String(message.body.id);
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      const call: Call = { endpoint, id, timeoutMs: opts.timeoutMs, start: performance.now() };
      calls.push(call);
      const out = await behave(endpoint, id, n);
      call.end = performance.now();
      return out;
    },
    async close() {},
  };
  return { transport, calls };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(5);
  }
}

const workers: DeliveryWorker[] = [];
function startWorker(outbox: Outbox, transport: NotificationTransport, over: Partial<DeliveryWorkerConfig> = {}, extra: { owner?: string; random?: () => number } = {}): DeliveryWorker {
  const w = createDeliveryWorker({ outbox, transport, clock: systemClock, config: config(over), owner: extra.owner ?? 'node-1', random: extra.random ?? (() => 0) });
  workers.push(w);
  w.start();
  return w;
}
after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
});

test('retry delays double from the base, stop at the cap and lose at most a quarter to jitter', () => {
  const cfg = { retryBaseMs: 100, retryMaxMs: 1000 };
  assert.deepEqual([0, 1, 2, 3, 4, 10, 2000].map((n) => retryDelayMs(n, cfg, 0)), [100, 200, 400, 800, 1000, 1000, 1000]);
  assert.equal(retryDelayMs(1, cfg, 1), 150);
  assert.equal(retryDelayMs(9, cfg, 0.5), 875);
});

describe('retries', () => {
  test('a failing notification is retried with growing, capped backoff, then dropped after maxAttempts', async () => {
    const outbox = new FakeOutbox();
    const { transport, calls } = scripted(() => ({ ok: false, reason: 'HTTP 503', retryable: true }));
    const e = entry();
    outbox.enqueue([e]);
    startWorker(outbox, transport, { retryBaseMs: 20, retryMaxMs: 100, maxAttempts: 7 });
    await until(() => outbox.completed.includes(e.id), 5000, 'drop after maxAttempts');
    assert.equal(calls.length, 7);
    const delays = outbox.retries.map((r) => Date.parse(r.notBefore) - r.calledAt);
    const expected = [20, 40, 80, 100, 100, 100];
    assert.equal(delays.length, expected.length);
    delays.forEach((d, i) => assert.ok(d <= expected[i]! && d >= expected[i]! - 10, `retry ${i + 1}: ${d} ms, expected ${expected[i]}`));
    // Attempts are spaced at least by the delays (jitter pinned to 0).
    for (let i = 1; i < calls.length; i++) assert.ok(calls[i]!.start - calls[i - 1]!.start >= expected[i - 1]! - 5, `gap ${i}`);
    assert.deepEqual(outbox.records.map((r) => r.ok), [false, false, false, false, false, false, false]);
    assert.equal(outbox.rows.size, 0);
  });

  test('a non-retryable failure is recorded and dropped at once', async () => {
    const outbox = new FakeOutbox();
    const { transport, calls } = scripted(() => ({ ok: false, reason: 'HTTP 400', retryable: false }));
    const e = entry();
    outbox.enqueue([e]);
    startWorker(outbox, transport);
    await until(() => outbox.completed.includes(e.id));
    assert.equal(calls.length, 1);
    assert.equal(outbox.retries.length, 0);
    assert.deepEqual(outbox.records, [{ subscriptionId: e.subscriptionId, ok: false }]);
  });

  test('a notification that fails twice and then succeeds is delivered once more and recorded ok', async () => {
    const outbox = new FakeOutbox();
    const { transport, calls } = scripted((_e, _id, n) => (n < 3 ? { ok: false, reason: 'timeout', retryable: true } : { ok: true }));
    const e = entry();
    outbox.enqueue([e]);
    startWorker(outbox, transport);
    await until(() => outbox.completed.includes(e.id));
    assert.equal(calls.length, 3);
    await until(() => outbox.records.length === 3);
    assert.deepEqual(outbox.records.map((r) => r.ok), [false, false, true]);
  });
});

test('the message’s endpoint timeout bounds an attempt; null, absent or larger values leave the configured one', async () => {
  const outbox = new FakeOutbox();
  const { transport, calls } = scripted(() => ({ ok: true }));
  const [a, b, c] = [entry({ sub: 'urn:ngsi-ld:Subscription:ta' }), entry({ sub: 'urn:ngsi-ld:Subscription:tb' }), entry({ sub: 'urn:ngsi-ld:Subscription:tc' })];
  a.message = { ...a.message, timeoutMs: 250 };
  b.message = { ...b.message, timeoutMs: null, notifierInfo: [] };
  c.message = { ...c.message, timeoutMs: 60_000 };
  outbox.enqueue([a, b, c]);
  startWorker(outbox, transport, { requestTimeoutMs: 1000 });
  await until(() => outbox.rows.size === 0);
  const byId = new Map(calls.map((x) => [x.id, x.timeoutMs]));
  assert.deepEqual([byId.get(a.id), byId.get(b.id), byId.get(c.id)], [250, 1000, 1000]);
});

test('an outbox message that is not a delivery message is recorded as failed and dropped, not retried', async () => {
  const outbox = new FakeOutbox();
  const { transport, calls } = scripted(() => ({ ok: true }));
  const e = entry();
  e.message = { headers: {} };
  outbox.enqueue([e]);
  startWorker(outbox, transport);
  await until(() => outbox.completed.includes(e.id));
  assert.equal(calls.length, 0);
  assert.deepEqual(outbox.records, [{ subscriptionId: e.subscriptionId, ok: false }]);
});

test('rows sharing a coalesceKey: only the newest is delivered, the older are completed as superseded', async () => {
  const outbox = new FakeOutbox();
  const { transport, calls } = scripted(() => ({ ok: true }));
  const old1 = entry({ coalesceKey: 'sub|E1' });
  const other = entry({ coalesceKey: 'sub|E2' });
  const old2 = entry({ coalesceKey: 'sub|E1' });
  const newest = entry({ coalesceKey: 'sub|E1' });
  // Enqueued out of creation order: "newest" means the latest createdAt, not the last claimed.
  outbox.enqueue([old1, newest, other, old2]);
  startWorker(outbox, transport);
  await until(() => outbox.rows.size === 0);
  assert.deepEqual(calls.map((c) => c.id).sort(), [other.id, newest.id].sort());
  assert.deepEqual(new Set(outbox.completed), new Set([old1.id, old2.id, other.id, newest.id]));
  await until(() => outbox.records.length === 2);
});

describe('throttling', () => {
  /** Records when each delivery started and the notifiedAt it carried. */
  function stamped() {
    const sent: { id: string; start: number; notifiedAt: number }[] = [];
    const transport: NotificationTransport = {
      async deliver(_endpoint, message) {
        sent.push({ id: String(message.body.id), start: Date.now(), notifiedAt: Date.parse(String(message.body.notifiedAt)) });
        return { ok: true };
      },
      async close() {},
    };
    return { transport, sent };
  }

  test('a throttled subscription’s deliveries start minIntervalMs apart even when both are due, and notifiedAt is the start', async () => {
    const outbox = new FakeOutbox();
    const { transport, sent } = stamped();
    const throttled = [entry({ sub: 'urn:ngsi-ld:Subscription:th' }), entry({ sub: 'urn:ngsi-ld:Subscription:th' })];
    for (const e of throttled) e.message = { ...e.message, minIntervalMs: 150 };
    const free = entry({ sub: 'urn:ngsi-ld:Subscription:free' });
    outbox.enqueue([...throttled, free]);
    startWorker(outbox, transport);
    await until(() => outbox.rows.size === 0);
    const [a, b] = throttled.map((e) => sent.find((x) => x.id === e.id)!);
    assert.ok(b!.notifiedAt - a!.notifiedAt >= 150, `notifiedAt ${b!.notifiedAt - a!.notifiedAt} ms apart`);
    // The gate runs from the first delivery's issue time (its notifiedAt); the transport stamps its own start
    // a tick or a millisecond later, so the second's actual start is measured from the first's notifiedAt
    // (measuring from the first's transport stamp failed once at 149 ms: a clock-tick race, not an early send).
    assert.ok(b!.start - a!.notifiedAt >= 150, `second start ${b!.start - a!.notifiedAt} ms after the first was issued`);
    for (const x of sent) assert.ok(x.notifiedAt <= x.start, 'notifiedAt is stamped when the delivery starts');
    // Another subscription of the same endpoint is not held back by the gate.
    assert.ok(sent.findIndex((x) => x.id === free.id) < sent.findIndex((x) => x.id === throttled[1]!.id));
  });

  test('kick(at) claims a row that falls due at that instant without waiting for the poll', async () => {
    const outbox = new FakeOutbox();
    const { transport, sent } = stamped();
    // The next poll after the start-up claim is a minute away: only the kick can deliver within the deadline.
    const w = startWorker(outbox, transport, { pollIntervalMs: 60_000 });
    const dueAt = Date.now() + 100;
    const e = entry({ createdAtMs: Date.now() });
    e.notBefore = new Date(dueAt).toISOString();
    outbox.enqueue([e]);
    w.kick(dueAt);
    await until(() => sent.length === 1, 5000, 'delivered at its notBefore');
    assert.ok(sent[0]!.start >= dueAt, 'not before notBefore');
  });
});

test('within one endpoint a subscription’s notifications are delivered in order, one at a time, across retries', async () => {
  const outbox = new FakeOutbox();
  const failOnce = new Set<string>();
  const { transport, calls } = scripted(async (_e, id, n) => {
    await sleep(Math.floor(Math.random() * 8));
    if (failOnce.has(id) && n === 1) return { ok: false, reason: 'HTTP 502', retryable: true };
    return { ok: true };
  });
  const subs = ['urn:ngsi-ld:Subscription:A', 'urn:ngsi-ld:Subscription:B', 'urn:ngsi-ld:Subscription:C'];
  const bySub = new Map<string, string[]>(subs.map((s) => [s, []]));
  const entries: OutboxEntry[] = [];
  for (let i = 0; i < 12; i++) {
    for (const s of subs) {
      const e = entry({ sub: s });
      bySub.get(s)!.push(e.id);
      entries.push(e);
    }
  }
  failOnce.add(bySub.get(subs[0]!)![3]!);
  failOnce.add(bySub.get(subs[1]!)![7]!);
  outbox.enqueue(entries);
  startWorker(outbox, transport, { perEndpointConcurrency: 4, retryBaseMs: 15 });
  await until(() => outbox.rows.size === 0, 5000, 'all delivered');
  assert.equal(calls.length, entries.length + failOnce.size, 'each failed notification was attempted once more');
  const subOf = new Map(entries.map((e) => [e.id, e.subscriptionId]));
  for (const s of subs) {
    const mine = calls.filter((c) => subOf.get(c.id) === s);
    const delivered = mine.filter((c, i) => mine.findIndex((x) => x.id === c.id) !== i || !failOnce.has(c.id));
    assert.deepEqual(delivered.map((c) => c.id), bySub.get(s), `order of ${s}`);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.start >= mine[i - 1]!.end!, `${s}: call ${i} overlaps the previous one`);
  }
  // The subscriptions did run in parallel with each other.
  const overlaps = calls.some((c, i) => calls.some((d, j) => i !== j && subOf.get(c.id) !== subOf.get(d.id) && d.start < c.end! && c.start < d.end!));
  assert.ok(overlaps, 'different subscriptions were delivered concurrently');
});

test('after a failure an endpoint sends one probe at a time, and full concurrency returns with the first success', async () => {
  const outbox = new FakeOutbox();
  let healthyFrom = Number.POSITIVE_INFINITY;
  let current = 0;
  const concurrencyWhileFailing: number[] = [];
  const concurrencyAfter: number[] = [];
  let failedOnce = false;
  const { transport } = scripted(async () => {
    current++;
    (failedOnce && performance.now() < healthyFrom ? concurrencyWhileFailing : failedOnce ? concurrencyAfter : []).push(current);
    await sleep(15);
    current--;
    if (performance.now() < healthyFrom) {
      failedOnce = true;
      return { ok: false, reason: 'HTTP 503', retryable: true };
    }
    return { ok: true };
  });
  healthyFrom = performance.now() + 250;
  outbox.enqueue(Array.from({ length: 40 }, (_, i) => entry({ sub: `urn:ngsi-ld:Subscription:p${i}` })));
  startWorker(outbox, transport, { perEndpointConcurrency: 4, retryBaseMs: 10, retryMaxMs: 40, maxAttempts: 100 });
  await until(() => outbox.rows.size === 0, 5000, 'all delivered once the endpoint recovers');
  assert.ok(concurrencyWhileFailing.length >= 2, 'probes were sent while failing');
  assert.equal(Math.max(...concurrencyWhileFailing), 1, 'one probe at a time while failing');
  assert.ok(Math.max(...concurrencyAfter) > 1, 'parallel again after recovery');
});

test('rows beyond the per-endpoint memory bound are left to their lease and still delivered in order', async () => {
  const outbox = new FakeOutbox();
  const { transport, calls } = scripted(() => ({ ok: true }));
  const entries = Array.from({ length: 20 }, () => entry({ sub: 'urn:ngsi-ld:Subscription:bounded' }));
  outbox.enqueue(entries);
  startWorker(outbox, transport, { maxQueuedPerEndpoint: 5, batchSize: 20, leaseMs: 150 });
  await until(() => outbox.rows.size === 0, 5000, 'all delivered');
  assert.deepEqual(calls.map((c) => c.id), entries.map((e) => e.id));
});

test('a claimed row never completed (crashed owner) is claimed again after its lease, not before', async () => {
  const outbox = new FakeOutbox();
  const hang = scripted(() => new Promise<DeliveryOutcome>(() => undefined));
  const e = entry();
  outbox.enqueue([e]);
  const crashed = createDeliveryWorker({ outbox, transport: hang.transport, clock: systemClock, config: config({ leaseMs: 300, stopTimeoutMs: 1 }), owner: 'crashed' });
  crashed.start();
  await until(() => hang.calls.length === 1);
  const claimedAt = outbox.claimed[0]!.at;
  await crashed.stop(); // gives up at once: the attempt never settles, as after kill -9
  const ok = scripted(() => ({ ok: true }));
  startWorker(outbox, ok.transport, { leaseMs: 300 }, { owner: 'survivor' });
  await until(() => outbox.completed.includes(e.id), 3000, 'redelivery after the lease');
  const reclaim = outbox.claimed.find((c) => c.owner === 'survivor')!;
  assert.ok(reclaim.at - claimedAt >= 300, `re-claimed ${reclaim.at - claimedAt} ms after the first claim`);
  assert.equal(ok.calls.length, 1);
});

test('stop waits for in-flight deliveries and their outbox writes', async () => {
  const outbox = new FakeOutbox();
  const { transport, calls } = scripted(async () => {
    await sleep(80);
    return { ok: true };
  });
  const e = entry();
  outbox.enqueue([e]);
  const w = createDeliveryWorker({ outbox, transport, clock: systemClock, config: config(), owner: 'stopper' });
  w.start();
  await until(() => calls.length === 1);
  await w.stop();
  assert.deepEqual(outbox.completed, [e.id]);
  assert.deepEqual(outbox.records, [{ subscriptionId: e.subscriptionId, ok: true }]);
});

describe('isolation between endpoints (real HTTP)', () => {
  test('with one endpoint that never answers, every notification to a healthy one arrives within 100 ms', async () => {
    const sockets = new Set<Socket>();
    const track = (s: Server) => s.on('connection', (c: Socket) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
    let deadHits = 0;
    const dead = createServer(() => {
      deadHits++; // holds the connection: never answers
    });
    const arrivals = new Map<string, number>();
    const healthy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        arrivals.set(String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id), performance.now());
        res.writeHead(204).end();
      });
    });
    track(dead);
    track(healthy);
    await Promise.all([dead, healthy].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    const deadUri = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/n`;
    const healthyUri = `http://127.0.0.1:${(healthy.address() as AddressInfo).port}/n`;
    const transport = createHttpTransport();
    const warm = createServer((_req, res) => res.writeHead(204).end());
    track(warm);
    await new Promise<void>((r) => warm.listen(0, '127.0.0.1', r));
    const warmUri = `http://127.0.0.1:${(warm.address() as AddressInfo).port}/`;
    const outbox = new FakeOutbox();
    const w = startWorker(outbox, transport, { pollIntervalMs: 1000, requestTimeoutMs: 300, retryBaseMs: 50, retryMaxMs: 200, maxAttempts: 1000, perEndpointConcurrency: 4 }, { random: Math.random });
    const enqueuedAt = new Map<string, number>();
    let deadEnqueued = 0;
    const enqueueDead = (i: number) => {
      outbox.enqueue([entry({ endpoint: deadUri, sub: `urn:ngsi-ld:Subscription:dead${i % 3}`, createdAtMs: Date.now() })]);
      deadEnqueued++;
    };
    try {
      // Phase 1: the dead endpoint starts failing and retrying, while a third endpoint warms the process up
      // (lazy-loaded code, JIT) so the measurement below is steady state, not start-up.
      for (let i = 0; i < 15; i++) {
        enqueueDead(i);
        outbox.enqueue([entry({ endpoint: warmUri, sub: 'urn:ngsi-ld:Subscription:warm', createdAtMs: Date.now() })]);
        w.kick();
        await sleep(20);
      }
      await until(() => outbox.retries.length >= 1 && ![...outbox.rows.values()].some((r) => r.row.endpoint === warmUri), 3000, 'dead endpoint retrying');
      // Phase 2, measured: healthy notifications interleaved with more for the dead endpoint.
      for (let i = 0; i < 60; i++) {
        enqueueDead(i);
        const h = entry({ endpoint: healthyUri, sub: `urn:ngsi-ld:Subscription:ok${i % 3}`, createdAtMs: Date.now() });
        outbox.enqueue([h]);
        enqueuedAt.set(h.id, performance.now());
        w.kick();
        await sleep(20);
      }
      await until(() => arrivals.size === enqueuedAt.size, 3000, 'every healthy notification delivered');
      const latencies = [...enqueuedAt].map(([id, t]) => arrivals.get(id)! - t);
      const worst = Math.max(...latencies);
      if (process.env.KEND_TEST_VERBOSE) console.log(`healthy latencies: max ${worst.toFixed(1)} ms, dead attempts ${deadHits}`, latencies.map((l) => Math.round(l)).join(" "));
      assert.ok(worst < 100, `slowest healthy delivery took ${worst.toFixed(1)} ms`);
      // Meanwhile the dead endpoint was being tried and retried, and nothing of it was lost.
      assert.ok(deadHits >= 2, `dead endpoint attempts: ${deadHits}`);
      assert.ok(outbox.retries.length >= 2, 'the dead endpoint’s notifications were scheduled for retry');
      const deadLeft = [...outbox.rows.values()].filter((r) => r.row.endpoint === deadUri).length;
      assert.equal(deadLeft, deadEnqueued, 'every notification of the dead endpoint is still pending');
    } finally {
      await w.stop();
      await transport.close();
      for (const s of sockets) s.destroy();
      await Promise.all([dead, healthy, warm].map((s) => new Promise((r) => s.close(r))));
    }
  });
});
