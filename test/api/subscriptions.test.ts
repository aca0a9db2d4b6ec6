// API tests: the /subscriptions API and notifications over HTTP (§5.8, §5.3.1, §7.2; issue 5).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { API, ERR, eventually, startKend } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const kend = startKend({ KEND_NOTIFY_DENY: '169.254.0.0/16,fe80::/10' });
const receivers: Receiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});
async function receiver(options: { status?: number; hang?: boolean } = {}): Promise<Receiver> {
  const r = await startReceiver(options);
  receivers.push(r);
  return r;
}

let n = 0;
const sub = (uri: string, extra: Record<string, unknown> = {}) => ({
  id: `urn:ngsi-ld:Subscription:s${++n}`,
  type: 'Subscription',
  entities: [{ type: 'SoilSensor' }],
  notification: { endpoint: { uri, accept: 'application/json' } },
  ...extra,
});

describe('Subscription API', () => {
  test('create answers 201 with Location; retrieve returns what was sent plus status and defaults', async () => {
    const r = await receiver();
    const s = sub(r.url, { watchedAttributes: ['moisture'], q: 'moisture<20', description: 'dry soil' });
    const res = await kend.post('subscriptions', s);
    assert.equal(res.status, 201, res.body);
    assert.equal(res.headers.location, `${API}/subscriptions/${s.id}`);
    const got = (await kend.get(`subscriptions/${s.id}`)).json<Record<string, unknown>>();
    assert.equal(got.id, s.id);
    assert.equal(got.type, 'Subscription');
    assert.equal(got.status, 'active');
    assert.deepEqual(got.watchedAttributes, ['moisture']);
    assert.equal(got.q, 'moisture<20');
    assert.deepEqual(got.notificationTrigger, ['attributeCreated', 'attributeUpdated']);
    assert.equal(got.isActive, undefined);
    assert.equal((got.notification as Record<string, unknown>).timesSent, undefined);
  });

  test('an id is generated when absent; a duplicate id answers 409', async () => {
    const r = await receiver();
    const { id: _omit, ...noId } = sub(r.url);
    const res = await kend.post('subscriptions', noId);
    assert.equal(res.status, 201);
    assert.match(String(res.headers.location), /\/subscriptions\/urn:ngsi-ld:Subscription:/);
    const s = sub(r.url);
    await kend.post('subscriptions', s);
    const dup = await kend.post('subscriptions', s);
    assert.equal(dup.status, 409);
    assert.equal(dup.json<{ type: string }>().type, `${ERR}AlreadyExists`);
  });

  test('invalid subscriptions answer 400 and nothing is created', async () => {
    const ok = 'http://127.0.0.1:9/x';
    const bad: Record<string, unknown>[] = [
      { ...sub(ok), type: 'Other' },
      { ...sub(ok), entities: [] },
      { ...sub(ok), entities: [{ id: 'urn:x:y' }] },
      { ...sub(ok), timeInterval: 10, watchedAttributes: ['a'] },
      { ...sub(ok), throttling: -1 },
      { ...sub(ok), expiresAt: '2000-01-01T00:00:00Z' },
      { ...sub(ok), q: '(a==1' },
      { ...sub(ok), notificationTrigger: ['somethingHappened'] },
      { ...sub(ok), notification: { endpoint: { uri: 'not a uri' } } },
      { ...sub(ok), notification: { endpoint: { uri: ok, accept: 'text/plain' } } },
      { ...sub(ok), notification: { endpoint: { uri: ok }, format: 'keyValues', showChanges: true } },
      { ...sub(ok), notification: { endpoint: { uri: 'http://169.254.169.254/latest/meta-data' } } },
      { ...sub(ok), notification: { endpoint: { uri: ok, receiverInfo: [{ key: 'X-A' }] } } },
      { ...sub(ok), notification: undefined },
    ];
    for (const b of bad) {
      const res = await kend.post('subscriptions', b);
      assert.equal(res.status, 400, JSON.stringify(b));
      assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
      assert.equal((await kend.get(`subscriptions/${b.id}`)).status, 404);
    }
  });

  test('list pages with count; delete answers 204 then 404; unknown ids answer 404', async () => {
    const T = { 'ngsild-tenant': 'subs-list' };
    for (let i = 0; i < 3; i++) assert.equal((await kend.post('subscriptions', sub('http://127.0.0.1:9/x'), T)).status, 201);
    const page = await kend.get('subscriptions?limit=2&count=true', T);
    assert.equal(page.headers['ngsild-results-count'], '3');
    assert.equal(page.json<unknown[]>().length, 2);
    assert.match(String(page.headers.link), /rel="next"/);
    const all = (await kend.get('subscriptions', T)).json<{ id: string }[]>();
    assert.equal((await kend.del(`subscriptions/${all[0]!.id}`, T)).status, 204);
    assert.equal((await kend.get(`subscriptions/${all[0]!.id}`, T)).status, 404);
    assert.equal((await kend.del(`subscriptions/${all[0]!.id}`, T)).status, 404);
    assert.equal((await kend.get('subscriptions/notauri', T)).status, 400);
    assert.equal((await kend.del('subscriptions/')).status, 405);
  });

  test('PATCH replaces members, pauses and resumes; invalid fragments change nothing', async () => {
    const s = sub('http://127.0.0.1:9/x');
    await kend.post('subscriptions', s);
    assert.equal((await kend.patch(`subscriptions/${s.id}`, { isActive: false })).status, 204);
    assert.equal((await kend.get(`subscriptions/${s.id}`)).json<{ status: string }>().status, 'paused');
    assert.equal((await kend.patch(`subscriptions/${s.id}`, { isActive: true, description: 'x' })).status, 204);
    const back = (await kend.get(`subscriptions/${s.id}`)).json<{ status: string; description: string }>();
    assert.equal(back.status, 'active');
    assert.equal(back.description, 'x');
    assert.equal((await kend.patch(`subscriptions/${s.id}`, { notification: null })).status, 400);
    assert.equal((await kend.patch(`subscriptions/${s.id}`, { q: '(a==1' })).status, 400);
    assert.equal((await kend.get(`subscriptions/${s.id}`)).json<{ q?: string }>().q, undefined);
    assert.equal((await kend.patch('subscriptions/urn:ngsi-ld:Subscription:none', { isActive: false })).status, 404);
  });

  test('subscriptions are per tenant', async () => {
    const s = sub('http://127.0.0.1:9/x');
    await kend.post('subscriptions', s, { 'ngsild-tenant': 'subs-a' });
    assert.equal((await kend.get(`subscriptions/${s.id}`, { 'ngsild-tenant': 'subs-a' })).status, 200);
    assert.equal((await kend.get(`subscriptions/${s.id}`)).status, 404);
    assert.equal((await kend.get('subscriptions', { 'ngsild-tenant': 'subs-none' })).json<{ type: string }>().type, `${ERR}NonexistentTenant`);
  });
});

describe('Notifications over HTTP', () => {
  test('a matching change is notified with the Notification body, Link header, and counters update', async () => {
    const r = await receiver();
    const s = sub(`${r.url}/notify`, { watchedAttributes: ['moisture'], q: 'moisture<20', notification: { endpoint: { uri: `${r.url}/notify`, accept: 'application/json', receiverInfo: [{ key: 'X-Village', value: 'Aghali' }] } } });
    assert.equal((await kend.post('subscriptions', s)).status, 201);
    await kend.post('entities', { id: 'urn:ngsi-ld:SoilSensor:n1', type: 'SoilSensor', moisture: 30 });
    await kend.patch('entities/urn:ngsi-ld:SoilSensor:n1/attrs', { moisture: 12 });
    const [note] = await r.waitFor((all) => all.length >= 1);
    assert.equal(note!.body.type, 'Notification');
    assert.match(note!.body.id, /^urn:ngsi-ld:Notification:/);
    assert.equal(note!.body.subscriptionId, s.id);
    assert.deepEqual(note!.body.data.map((d) => d.id), ['urn:ngsi-ld:SoilSensor:n1']);
    assert.deepEqual(note!.body.data[0]!.moisture, { type: 'Property', value: 12 });
    assert.equal(note!.headers['content-type'], 'application/json');
    assert.match(String(note!.headers.link), /rel="http:\/\/www\.w3\.org\/ns\/json-ld#context"/);
    assert.equal(note!.headers['x-village'], 'Aghali');
    // Counters are visible on GET.
    type Status = { notification: { timesSent?: number; lastSuccess?: string; status?: string } };
    const status = await eventually(async () => {
      const seen = (await kend.get(`subscriptions/${s.id}`)).json<Status>();
      return seen.notification.timesSent === 1 ? seen : undefined;
    }, 5000, 'timesSent 1');
    assert.equal(status.notification.status, 'ok');
    assert.ok(status.notification.lastSuccess);
  });

  test('no notification for an unwatched attribute, an unchanged value, or a paused subscription', async () => {
    const r = await receiver();
    const s = sub(r.url, { watchedAttributes: ['moisture'] });
    await kend.post('subscriptions', s);
    await kend.post('entities', { id: 'urn:ngsi-ld:SoilSensor:n2', type: 'SoilSensor', moisture: 1, other: 1 });
    await r.waitFor((all) => all.length === 1);
    await kend.patch('entities/urn:ngsi-ld:SoilSensor:n2/attrs', { other: 2 });
    await kend.patch('entities/urn:ngsi-ld:SoilSensor:n2/attrs', { moisture: 1 });
    await kend.patch(`subscriptions/${s.id}`, { isActive: false });
    await kend.patch('entities/urn:ngsi-ld:SoilSensor:n2/attrs', { moisture: 5 });
    await kend.patch(`subscriptions/${s.id}`, { isActive: true });
    await kend.patch('entities/urn:ngsi-ld:SoilSensor:n2/attrs', { moisture: 6 });
    const all = await r.waitFor((xs) => xs.length >= 2);
    assert.equal(all.length, 2);
    assert.deepEqual(all.map((x) => (x.body.data[0]!.moisture as { value: number }).value), [1, 6]);
  });

  test('entityDeleted notifications carry id, type and deletedAt only', async () => {
    const r = await receiver();
    await kend.post('subscriptions', sub(r.url, { notificationTrigger: ['entityDeleted'] }));
    await kend.post('entities', { id: 'urn:ngsi-ld:SoilSensor:n3', type: 'SoilSensor', moisture: 1 });
    await kend.del('entities/urn:ngsi-ld:SoilSensor:n3');
    const [note] = await r.waitFor((all) => all.length >= 1);
    assert.deepEqual(Object.keys(note!.body.data[0]!).sort(), ['deletedAt', 'id', 'type']);
  });

  test('application/ld+json endpoints get @context in each data element and no Link header; tenant header is sent', async () => {
    const r = await receiver();
    const T = { 'ngsild-tenant': 'notify-t' };
    const s = sub(r.url, { notification: { endpoint: { uri: r.url, accept: 'application/ld+json' } } });
    await kend.post('subscriptions', s, T);
    await kend.post('entities', { id: 'urn:ngsi-ld:SoilSensor:n4', type: 'SoilSensor', moisture: 1 }, T);
    const [note] = await r.waitFor((all) => all.length >= 1);
    assert.equal(note!.headers['content-type'], 'application/ld+json');
    assert.equal(note!.headers.link, undefined);
    assert.ok(note!.body.data[0]!['@context']);
    assert.equal(note!.headers['ngsild-tenant'], 'notify-t');
  });

  test('a change in one tenant never notifies a subscription of another tenant', async () => {
    const r = await receiver();
    const A = { 'ngsild-tenant': 'notify-a' };
    const B = { 'ngsild-tenant': 'notify-b' };
    const s = sub(r.url, { entities: [{ type: 'Valve' }] });
    assert.equal((await kend.post('subscriptions', s, A)).status, 201);
    // The same id and type in the default tenant and in tenant B: neither may reach tenant A's subscription.
    await kend.post('entities', { id: 'urn:ngsi-ld:Valve:x', type: 'Valve', open: false });
    await kend.post('entities', { id: 'urn:ngsi-ld:Valve:x', type: 'Valve', open: false }, B);
    await kend.patch('entities/urn:ngsi-ld:Valve:x/attrs', { open: true }, B);
    await kend.post('entities', { id: 'urn:ngsi-ld:Valve:x', type: 'Valve', open: 'a' }, A);
    // Tenant A's own change is notified; the writes of the other tenants came first, so had they been
    // notified they would be in the list by the time A's notification arrives.
    const all = await r.waitFor((xs) => xs.some((x) => x.headers['ngsild-tenant'] === 'notify-a'));
    assert.equal(all.length, 1);
    assert.equal(all[0]!.headers['ngsild-tenant'], 'notify-a');
    assert.deepEqual(all[0]!.body.data[0]!.open, { type: 'Property', value: 'a' });
    // timesSent is recorded after the receiver answered: poll for it.
    const sent = await eventually(async () => (await kend.get(`subscriptions/${s.id}`, A)).json<{ notification: { timesSent?: number } }>().notification.timesSent, 5000, 'timesSent');
    assert.equal(sent, 1);
  });

  test('a dead endpoint does not delay a healthy one: healthy notifications arrive within 100 ms of the change', async () => {
    const dead = await receiver({ hang: true });
    const healthy = await receiver();
    await kend.post('subscriptions', sub(dead.url, { entities: [{ type: 'Pump' }] }));
    await kend.post('subscriptions', sub(healthy.url, { entities: [{ type: 'Pump' }] }));
    // Warm up: the dead endpoint is already failing.
    await kend.post('entities', { id: 'urn:ngsi-ld:Pump:warm', type: 'Pump', rate: 0 });
    await healthy.waitFor((all) => all.length >= 1);
    const sentAt: number[] = [];
    for (let i = 1; i <= 20; i++) {
      sentAt.push(Date.now());
      assert.equal((await kend.patch('entities/urn:ngsi-ld:Pump:warm/attrs', { rate: i })).status, 204);
    }
    const all = await healthy.waitFor((xs) => xs.length >= 21);
    const latencies = all.slice(1, 21).map((x, i) => x.at - sentAt[i]!);
    assert.ok(Math.max(...latencies) < 100, `latencies ${latencies.join(', ')} ms`);
  });
});
