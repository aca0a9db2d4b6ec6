// API tests: periodic (timeInterval), throttled and expiring subscriptions (GS CIM 009 §5.2.12, §5.8; guide
// §14.1–14.3; issue 5 item 6), through the HTTP API on both stores. Waits are deadlines on observable
// events (receiver.waitFor, eventually); the only waits for time to pass are where time passing is the behaviour.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, eventually, startKend } from '../support/harness.ts';
import { startReceiver, type Received, type Receiver } from '../support/receiver.ts';

// Periodic subscriptions are served by a poller ticking every KEND_NOTIFY_POLL_MS: a short tick keeps a 1 s
// period within a few tens of ms. (The throttling tests do not depend on it.)
const POLL_MS = 25;
const kend = startKend({ KEND_NOTIFY_POLL_MS: String(POLL_MS) });
const receivers: Receiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});
async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

let n = 0;
const sub = (uri: string, type: string, extra: Record<string, unknown> = {}) => ({
  id: `urn:ngsi-ld:Subscription:timing-${++n}`,
  type: 'Subscription',
  entities: [{ type }],
  notification: { endpoint: { uri, accept: 'application/json' } },
  ...extra,
});

const ms = (iso: string): number => Date.parse(iso);
const valueOf = (note: Received, entity: string, attr: string): unknown =>
  (note.body.data.find((d) => d.id === entity)?.[attr] as { value?: unknown } | undefined)?.value;
const ofSub = (all: Received[], id: string): Received[] => all.filter((x) => x.body.subscriptionId === id);

/**
 * Asserts that no notification was sent sooner than `minMs` after the previous one: by notifiedAt (stamped when
 * the delivery starts), and at the receiver, where a notification may not arrive sooner than `minMs` after
 * the previous one was sent. (Arrival-to-arrival gaps are not the broker's to keep: a delivery slowed down in
 * transit shortens the gap to the next one, and bounding that would bound latency.) `slack` only absorbs
 * what each check cannot pin to the millisecond.
 */
function assertSpacing(notes: Received[], minMs: number, slack: { notifiedAt: number; arrival: number }): void {
  for (const x of notes) assert.ok(ms(x.body.notifiedAt) <= x.at + 1, `notifiedAt ${x.body.notifiedAt} lies after the arrival at ${new Date(x.at).toISOString()}`);
  for (let i = 1; i < notes.length; i++) {
    const sentGap = ms(notes[i]!.body.notifiedAt) - ms(notes[i - 1]!.body.notifiedAt);
    const arrivalAfterSent = notes[i]!.at - ms(notes[i - 1]!.body.notifiedAt);
    const where = `notifications ${i - 1}→${i}: notifiedAt ${notes.map((x) => x.body.notifiedAt).join(', ')}; arrivals ${notes.map((x) => new Date(x.at).toISOString()).join(', ')}`;
    assert.ok(sentGap >= minMs - slack.notifiedAt, `sent ${sentGap} ms apart < ${minMs} ms (${where})`);
    assert.ok(arrivalAfterSent >= minMs - slack.arrival, `arrived ${arrivalAfterSent} ms after the previous one was sent < ${minMs} ms (${where})`);
  }
}

describe('periodic subscriptions (timeInterval)', () => {
  // A tick may run up to one poll interval (plus its own queries) after a period is due, so two sends can be
  // that much less than a period apart; an on-change notification would follow the change within a few ms,
  // far below this.
  const PERIOD_SLACK = POLL_MS + 100;

  test('the current state is sent every interval, the first one interval after creation; changes trigger nothing', async () => {
    const r = await receiver();
    assert.equal((await kend.post('entities', { id: 'urn:ngsi-ld:Silo:p1', type: 'Silo', level: 10 })).status, 201);
    const s = sub(r.url, 'Silo', { timeInterval: 1 });
    // Nothing matches this one: it must never send (§5.8, guide §14.3). Same endpoint, so its notifications
    // would queue with the others and be seen before the later ones.
    const empty = sub(r.url, 'NoSuchType', { timeInterval: 1 });
    const createdAt = Date.now();
    assert.equal((await kend.post('subscriptions', s)).status, 201);
    assert.equal((await kend.post('subscriptions', empty)).status, 201);
    const got = await kend.get(`subscriptions/${s.id}`);
    assert.equal(got.json<{ timeInterval: number }>().timeInterval, 1);
    assert.equal(got.json<{ notificationTrigger?: unknown }>().notificationTrigger, undefined);

    const [first] = await r.waitFor((all) => ofSub(all, s.id).length >= 1, 5000);
    assert.ok(ms(first!.body.notifiedAt) >= createdAt + 1000 - PERIOD_SLACK, `first periodic notification at ${first!.body.notifiedAt}, created at ${new Date(createdAt).toISOString()}`);
    assert.equal(first!.body.type, 'Notification');
    assert.deepEqual(first!.body.data.map((d) => d.id), ['urn:ngsi-ld:Silo:p1']);

    // Changes right after a periodic notification: an on-change notification would arrive at once, well
    // inside the period, and break the spacing checked below.
    const changeStarted = Date.now();
    assert.equal((await kend.patch('entities/urn:ngsi-ld:Silo:p1/attrs', { level: 20 })).status, 204);
    assert.equal((await kend.post('entities', { id: 'urn:ngsi-ld:Silo:p2', type: 'Silo', level: 5 })).status, 201);

    const all = await r.waitFor((xs) => ofSub(xs, s.id).length >= 4, 10_000);
    const notes = ofSub(all, s.id);
    assert.deepEqual(ofSub(all, empty.id), [], 'a periodic subscription matching nothing sent a notification');
    assert.equal(notes.length, all.length);
    assertSpacing(notes, 1000, { notifiedAt: PERIOD_SLACK, arrival: PERIOD_SLACK });
    // Each notification carries the state at its time: the old value up to the change, the new one after.
    const levels = notes.map((x) => valueOf(x, 'urn:ngsi-ld:Silo:p1', 'level'));
    const firstNew = levels.indexOf(20);
    assert.ok(firstNew >= 1, `levels ${levels.join(', ')}`);
    assert.deepEqual(levels, [...Array<number>(firstNew).fill(10), ...Array<number>(levels.length - firstNew).fill(20)]);
    assert.ok(ms(notes[firstNew]!.body.notifiedAt) >= changeStarted);
    // Periodic notifications carry every matching entity, also one created after the subscription.
    assert.deepEqual(notes.at(-1)!.body.data.map((d) => d.id).sort(), ['urn:ngsi-ld:Silo:p1', 'urn:ngsi-ld:Silo:p2']);
    assert.equal(valueOf(notes.at(-1)!, 'urn:ngsi-ld:Silo:p2', 'level'), 5);
    await kend.del(`subscriptions/${s.id}`);
    await kend.del(`subscriptions/${empty.id}`);
  });

  test('timeInterval must be a positive number and excludes throttling and watchedAttributes', async () => {
    const uri = 'http://127.0.0.1:9/x';
    for (const extra of [{ timeInterval: 0 }, { timeInterval: -1 }, { timeInterval: '1' }, { timeInterval: 1, throttling: 1 }, { timeInterval: 1, watchedAttributes: ['level'] }]) {
      const s = sub(uri, 'Silo', extra);
      const res = await kend.post('subscriptions', s);
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
      assert.equal((await kend.get(`subscriptions/${s.id}`)).status, 404);
    }
  });
});

describe('throttled subscriptions', () => {
  // Receiver and broker share the clock; the slack covers millisecond rounding and timer granularity only.
  const ARRIVAL_SLACK_MS = 2;
  const level = (note: Received, id: string) => valueOf(note, id, 'level') as number;

  test('rapid updates: never two notifications closer than throttling, and the last change of each window is delivered', async () => {
    const r = await receiver();
    const s = sub(r.url, 'Tank', { throttling: 1 });
    assert.equal((await kend.post('subscriptions', s)).status, 201);
    const E = 'urn:ngsi-ld:Tank:t1';
    assert.equal((await kend.post('entities', { id: E, type: 'Tank', level: 0 })).status, 201);
    for (let i = 1; i <= 5; i++) assert.equal((await kend.patch(`entities/${E}/attrs`, { level: i })).status, 204);
    // Orion-LD bug #1650: the last change inside a window was lost. Here it must arrive.
    await r.waitFor((all) => all.some((x) => level(x, E) === 5), 10_000);
    // A second burst, after the first window: its last value arrives too, and the spacing still holds.
    for (let i = 6; i <= 8; i++) assert.equal((await kend.patch(`entities/${E}/attrs`, { level: i })).status, 204);
    const all = await r.waitFor((xs) => xs.some((x) => level(x, E) === 8), 10_000);
    assertSpacing(all, 1000, { notifiedAt: 0, arrival: ARRIVAL_SLACK_MS });
    const levels = all.map((x) => level(x, E));
    assert.equal(levels.at(-1), 8, `levels ${levels.join(', ')}`);
    assert.ok(levels.includes(5), `levels ${levels.join(', ')}`);
    // Coalesced, never reordered: values only grow, and the bursts collapsed into few notifications.
    assert.deepEqual([...levels].sort((a, b) => a - b), levels);
    assert.ok(levels.length <= 4, `levels ${levels.join(', ')}`);
  });

  test('throttling applies per subscription across entities, and the last change of every entity is delivered', async () => {
    const r = await receiver();
    const s = sub(r.url, 'Pond', { throttling: 0.5 });
    assert.equal((await kend.post('subscriptions', s)).status, 201);
    const A = 'urn:ngsi-ld:Pond:a';
    const B = 'urn:ngsi-ld:Pond:b';
    assert.equal((await kend.post('entities', { id: A, type: 'Pond', level: 0 })).status, 201);
    assert.equal((await kend.post('entities', { id: B, type: 'Pond', level: 0 })).status, 201);
    for (let i = 1; i <= 4; i++) {
      assert.equal((await kend.patch(`entities/${A}/attrs`, { level: i })).status, 204);
      assert.equal((await kend.patch(`entities/${B}/attrs`, { level: 10 * i })).status, 204);
    }
    const last = (all: Received[], id: string) => all.filter((x) => x.body.data.some((d) => d.id === id)).at(-1);
    const all = await r.waitFor((xs) => {
      const a = last(xs, A);
      const b = last(xs, B);
      return a !== undefined && b !== undefined && level(a, A) === 4 && level(b, B) === 40;
    }, 10_000);
    assertSpacing(all, 500, { notifiedAt: 0, arrival: ARRIVAL_SLACK_MS });
  });

  test('throttling must be a positive number', async () => {
    for (const throttling of [0, -1, 'fast']) {
      const s = sub('http://127.0.0.1:9/x', 'Tank', { throttling });
      assert.equal((await kend.post('subscriptions', s)).status, 400, String(throttling));
      assert.equal((await kend.get(`subscriptions/${s.id}`)).status, 404);
    }
  });
});

describe('expiring subscriptions (expiresAt)', () => {
  type Sub = { status: string; notification: { timesSent?: number } };

  test('a change before expiresAt is notified; after it nothing is, the status is expired, and a new expiresAt revives it', async () => {
    const r = await receiver();
    const expiresAt = new Date(Date.now() + 2500).toISOString();
    const s = sub(r.url, 'Gate', { expiresAt });
    // Same endpoint, never expires: its notification after the expired one's change proves that change sent nothing.
    const witness = sub(r.url, 'Witness');
    assert.equal((await kend.post('subscriptions', s)).status, 201);
    assert.equal((await kend.post('subscriptions', witness)).status, 201);
    const fresh = (await kend.get(`subscriptions/${s.id}`)).json<Sub & { expiresAt: string }>();
    assert.equal(fresh.status, 'active');
    assert.equal(fresh.expiresAt, expiresAt);

    const G = 'urn:ngsi-ld:Gate:g1';
    assert.equal((await kend.post('entities', { id: G, type: 'Gate', open: false })).status, 201);
    assert.ok(Date.now() < ms(expiresAt), 'the machine was too slow: the change came after expiresAt');
    await r.waitFor((all) => ofSub(all, s.id).length === 1);

    // Expiry is the behaviour under test: wait (bounded) until the API reports it.
    await eventually(async () => ((await kend.get(`subscriptions/${s.id}`)).json<Sub>().status === 'expired' ? true : undefined), 10_000, 'status expired');
    assert.ok(Date.now() >= ms(expiresAt));
    assert.equal((await kend.patch(`entities/${G}/attrs`, { open: true })).status, 204);
    assert.equal((await kend.post('entities', { id: 'urn:ngsi-ld:Witness:w1', type: 'Witness', seen: true })).status, 201);
    const all = await r.waitFor((xs) => ofSub(xs, witness.id).length === 1);
    assert.deepEqual(ofSub(all, s.id).map((x) => valueOf(x, G, 'open')), [false]);
    const expired = (await kend.get(`subscriptions/${s.id}`)).json<Sub>();
    assert.equal(expired.status, 'expired');
    assert.equal(expired.notification.timesSent, 1);
    // Still listed while expired (guide §14.2).
    assert.ok((await kend.get('subscriptions?limit=1000')).json<{ id: string }[]>().some((x) => x.id === s.id));

    // A new future expiresAt revives it (guide §14.1 PATCH).
    assert.equal((await kend.patch(`subscriptions/${s.id}`, { expiresAt: new Date(Date.now() + 3_600_000).toISOString() })).status, 204);
    assert.equal((await kend.get(`subscriptions/${s.id}`)).json<Sub>().status, 'active');
    assert.equal((await kend.patch(`entities/${G}/attrs`, { open: 'half' })).status, 204);
    const later = await r.waitFor((xs) => ofSub(xs, s.id).length === 2);
    assert.deepEqual(ofSub(later, s.id).map((x) => valueOf(x, G, 'open')), [false, 'half']);
  });

  test('expiresAt in the past answers 400 BadRequestData, on create and on PATCH, and changes nothing', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    const s = sub('http://127.0.0.1:9/x', 'Gate', { expiresAt: past });
    const res = await kend.post('subscriptions', s);
    assert.equal(res.status, 400);
    assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
    assert.equal((await kend.get(`subscriptions/${s.id}`)).status, 404);
    const ok = sub('http://127.0.0.1:9/x', 'Gate');
    assert.equal((await kend.post('subscriptions', ok)).status, 201);
    const patch = await kend.patch(`subscriptions/${ok.id}`, { expiresAt: past });
    assert.equal(patch.status, 400);
    assert.equal(patch.json<{ type: string }>().type, `${ERR}BadRequestData`);
    const got = (await kend.get(`subscriptions/${ok.id}`)).json<{ status: string; expiresAt?: string }>();
    assert.equal(got.status, 'active');
    assert.equal(got.expiresAt, undefined);
  });
});
