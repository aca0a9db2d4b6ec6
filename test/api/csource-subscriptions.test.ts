// API tests: the /csourceSubscriptions API and ContextSourceNotifications (GS CIM 009 §5.11, §5.3.2; guide
// §16.4; issue 7 item 2): CRUD, validation, the initial notification, and newlyMatching / updated /
// noLongerMatching notifications when matching registrations appear, change or vanish.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { API, ERR, eventually, startKend } from '../support/harness.ts';
import { startReceiver, type Received, type Receiver } from '../support/receiver.ts';

const kend = startKend();
const receivers: Receiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});
async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

const REG = 'urn:ngsi-ld:ContextSourceRegistration:';
let n = 0;
type Body = Record<string, unknown>;
const csub = (uri: string, extra: Body = {}): Body => ({
  id: `urn:ngsi-ld:Subscription:cs${++n}`,
  type: 'Subscription',
  entities: [{ type: 'WeatherObserved' }],
  notification: { endpoint: { uri, accept: 'application/json' } },
  ...extra,
});
const registration = (id: string, extra: Body = {}): Body => ({
  id: `${REG}${id}`,
  type: 'ContextSourceRegistration',
  information: [{ entities: [{ type: 'WeatherObserved' }], propertyNames: ['temperature'] }],
  endpoint: 'http://village.example:1026',
  ...extra,
});
const reasons = (all: Received[]): unknown[] => all.map((x) => x.body.triggerReason);

describe('CSR subscription API', () => {
  test('create answers 201 with Location; retrieve shows what was sent plus status, without entity triggers', async () => {
    const r = await receiver();
    const s = csub(r.url, { csf: 'village=="one"', description: 'new villages' });
    const res = await kend.post('csourceSubscriptions', s);
    assert.equal(res.status, 201, res.body);
    assert.equal(res.headers.location, `${API}/csourceSubscriptions/${String(s.id)}`);
    const got = (await kend.get(`csourceSubscriptions/${String(s.id)}`)).json<Body>();
    assert.equal(got.id, s.id);
    assert.equal(got.type, 'Subscription');
    assert.equal(got.status, 'active');
    assert.equal(got.csf, 'village=="one"');
    assert.equal(got.notificationTrigger, undefined);
    // A CSR subscription is not an entity subscription.
    assert.equal((await kend.get(`subscriptions/${String(s.id)}`)).status, 404);
  });

  test('an id is generated when absent; duplicates answer 409; invalid payloads 400', async () => {
    const r = await receiver();
    const { id: _id, ...noId } = csub(r.url);
    const created = await kend.post('csourceSubscriptions', noId);
    assert.equal(created.status, 201);
    assert.match(String(created.headers.location), /\/csourceSubscriptions\/urn:ngsi-ld:Subscription:/);
    const s = csub(r.url);
    await kend.post('csourceSubscriptions', s);
    const dup = await kend.post('csourceSubscriptions', s);
    assert.equal(dup.status, 409);
    assert.equal(dup.json<{ type: string }>().type, `${ERR}AlreadyExists`);
    const ok = 'http://127.0.0.1:9/x';
    const bad: Body[] = [
      { ...csub(ok), type: 'ContextSourceRegistration' },
      { ...csub(ok), notification: undefined },
      { ...csub(ok), watchedAttributes: [] },
      { ...csub(ok), q: '(a==1' },
      { ...csub(ok), csf: 'a==' },
      { ...csub(ok), expiresAt: '2000-01-01T00:00:00Z' },
      { ...csub(ok), temporalQ: { timerel: 'after' } },
      { ...csub(ok), temporalQ: { timeAt: '2020-01-01T00:00:00Z' } },
      { ...csub(ok), timeInterval: 60, entities: undefined, watchedAttributes: undefined },
      { ...csub(ok), notification: { endpoint: { uri: 'http://169.254.169.254/' } } },
      { ...csub(ok), geoQ: { georel: 'near;maxDistance==10', geometry: 'Point' } },
    ];
    for (const b of bad) {
      const res = await kend.post('csourceSubscriptions', b);
      assert.equal(res.status, 400, `${JSON.stringify(b)}: ${res.body}`);
      assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
    }
  });

  test('list pages with count; PATCH pauses; delete answers 204 then 404; per tenant', async () => {
    const T = { 'ngsild-tenant': 'csub-list' };
    for (let i = 0; i < 3; i++) assert.equal((await kend.post('csourceSubscriptions', csub('http://127.0.0.1:9/x'), T)).status, 201);
    const page = await kend.get('csourceSubscriptions?limit=2&count=true', T);
    assert.equal(page.headers['ngsild-results-count'], '3');
    assert.equal(page.json<unknown[]>().length, 2);
    assert.match(String(page.headers.link), /rel="next"/);
    const [first] = (await kend.get('csourceSubscriptions', T)).json<{ id: string }[]>();
    assert.equal((await kend.patch(`csourceSubscriptions/${first!.id}`, { isActive: false }, T)).status, 204);
    assert.equal((await kend.get(`csourceSubscriptions/${first!.id}`, T)).json<{ status: string }>().status, 'paused');
    assert.equal((await kend.patch(`csourceSubscriptions/${first!.id}`, { notification: null }, T)).status, 400);
    assert.equal((await kend.get(`csourceSubscriptions/${first!.id}`)).status, 404);
    assert.equal((await kend.get('csourceSubscriptions', { 'ngsild-tenant': 'csub-nobody' })).status, 404);
    assert.equal((await kend.del(`csourceSubscriptions/${first!.id}`, T)).status, 204);
    assert.equal((await kend.del(`csourceSubscriptions/${first!.id}`, T)).status, 404);
    assert.equal((await kend.get('csourceSubscriptions/notauri', T)).status, 400);
    assert.equal((await kend.del('csourceSubscriptions/')).status, 405);
  });
});

describe('ContextSourceNotifications', () => {
  test('initial notification with the matching registrations, then newlyMatching, updated and noLongerMatching', async () => {
    const T = { 'ngsild-tenant': 'csub-flow' };
    await kend.post('csourceRegistrations', registration('f1', { village: 'one' }), T);
    await kend.post('csourceRegistrations', registration('f2', { information: [{ entities: [{ type: 'SoilSensor' }] }] }), T);
    const r = await receiver();
    const s = csub(r.url, { notification: { endpoint: { uri: r.url, accept: 'application/json', receiverInfo: [{ key: 'X-Region', value: 'Sheki' }] } } });
    assert.equal((await kend.post('csourceSubscriptions', s, T)).status, 201);
    const [initial] = await r.waitFor((all) => all.length >= 1);
    assert.equal(initial!.body.type, 'ContextSourceNotification');
    assert.equal(initial!.body.subscriptionId, s.id);
    assert.equal(initial!.body.triggerReason, 'newlyMatching');
    assert.match(initial!.body.id, /^urn:ngsi-ld:Notification:/);
    assert.deepEqual(initial!.body.data.map((d) => d.id), [`${REG}f1`]);
    assert.equal(initial!.body.data[0]!.village, 'one');
    assert.equal(initial!.headers['ngsild-tenant'], 'csub-flow');
    assert.equal(initial!.headers['x-region'], 'Sheki');
    assert.match(String(initial!.headers.link), /json-ld#context/);

    assert.equal((await kend.post('csourceRegistrations', registration('f3'), T)).status, 201);
    assert.equal((await kend.patch(`csourceRegistrations/${REG}f3`, { description: 'renamed' }, T)).status, 204);
    assert.equal((await kend.patch(`csourceRegistrations/${REG}f3`, { information: [{ entities: [{ type: 'Valve' }] }] }, T)).status, 204);
    assert.equal((await kend.patch(`csourceRegistrations/${REG}f2`, { information: [{ entities: [{ type: 'WeatherObserved' }] }] }, T)).status, 204);
    assert.equal((await kend.del(`csourceRegistrations/${REG}f1`, T)).status, 204);
    // A registration that never matched produces nothing.
    assert.equal((await kend.post('csourceRegistrations', registration('f4', { information: [{ entities: [{ type: 'Lamp' }] }] }), T)).status, 201);
    const all = await r.waitFor((xs) => xs.length >= 6);
    const seen = all.slice(1).map((x) => [x.body.triggerReason, x.body.data[0]!.id]);
    assert.deepEqual(seen, [
      ['newlyMatching', `${REG}f3`],
      ['updated', `${REG}f3`],
      ['noLongerMatching', `${REG}f3`],
      ['newlyMatching', `${REG}f2`],
      ['noLongerMatching', `${REG}f1`],
    ]);
    assert.equal(all[2]!.body.data[0]!.description, 'renamed');
    // noLongerMatching carries the registration as it matched before the change.
    assert.deepEqual(all[3]!.body.data[0]!.information, [{ entities: [{ type: 'WeatherObserved' }], propertyNames: ['temperature'] }]);
    type Status = { notification: { timesSent?: number; status?: string; lastSuccess?: string } };
    const status = await eventually(async () => {
      const got = (await kend.get(`csourceSubscriptions/${String(s.id)}`, T)).json<Status>();
      return got.notification.timesSent === 6 ? got : undefined;
    }, 5000, 'timesSent 6');
    assert.equal(status.notification.status, 'ok');
    assert.ok(status.notification.lastSuccess);
  });

  test('each registration is trimmed to its matching information elements; watched attributes, csf and geoQ select', async () => {
    const T = { 'ngsild-tenant': 'csub-trim' };
    const r = await receiver();
    const s = csub(r.url, {
      watchedAttributes: ['humidity'],
      csf: 'village=="two"',
      geoQ: { georel: 'near;maxDistance==5000', geometry: 'Point', coordinates: [47.17, 41.19] },
    });
    await kend.post('csourceSubscriptions', s, T);
    const base = { village: 'two', location: { type: 'Point', coordinates: [47.18, 41.19] } };
    const info = [{ entities: [{ type: 'WeatherObserved' }], propertyNames: ['humidity'] }, { entities: [{ type: 'SoilSensor' }] }, { entities: [{ type: 'WeatherObserved' }], propertyNames: ['wind'] }];
    await kend.post('csourceRegistrations', registration('t-far', { ...base, information: info, location: { type: 'Point', coordinates: [49, 40] } }), T);
    await kend.post('csourceRegistrations', registration('t-other', { ...base, village: 'three', information: info }), T);
    await kend.post('csourceRegistrations', registration('t-wind', { ...base, information: [info[2]] }), T);
    await kend.post('csourceRegistrations', registration('t-ok', { ...base, information: info }), T);
    const [note] = await r.waitFor((xs) => xs.length >= 1);
    assert.deepEqual(note!.body.data.map((d) => d.id), [`${REG}t-ok`]);
    assert.deepEqual(note!.body.data[0]!.information, [info[0]]);
    // A later matching registration is the marker: had a non-matching one been notified, it would have
    // reached this endpoint before the marker's notification.
    await kend.post('csourceRegistrations', registration('t-ok2', { ...base, information: info }), T);
    await r.waitFor((xs) => xs.length >= 2);
    assert.deepEqual(r.received.map((x) => x.body.data.map((d) => d.id)), [[`${REG}t-ok`], [`${REG}t-ok2`]]);
  });

  test('a paused subscription is not notified; an ld+json endpoint gets @context in each registration', async () => {
    const T = { 'ngsild-tenant': 'csub-pause' };
    const paused = await receiver();
    const ld = await receiver();
    const pausedSub = csub(paused.url, { isActive: false });
    await kend.post('csourceSubscriptions', pausedSub, T);
    await kend.post('csourceSubscriptions', csub(ld.url, { notification: { endpoint: { uri: ld.url, accept: 'application/ld+json' } } }), T);
    await kend.post('csourceRegistrations', registration('p1'), T);
    const [note] = await ld.waitFor((xs) => xs.length >= 1);
    assert.equal(note!.headers['content-type'], 'application/ld+json');
    assert.equal(note!.headers.link, undefined);
    assert.ok(note!.body.data.every((d) => d['@context'] !== undefined));
    // Marker: an active subscription to the paused one's endpoint, created afterwards. Its first notification
    // arrives there; anything the paused subscription had sent would have been queued for that endpoint first.
    const marker = csub(paused.url);
    await kend.post('csourceSubscriptions', marker, T);
    await paused.waitFor((xs) => xs.length >= 1);
    assert.deepEqual(paused.received.map((x) => x.body.subscriptionId), [marker.id]);
    assert.notEqual(marker.id, pausedSub.id);
    assert.deepEqual(reasons(ld.received), ['newlyMatching']);
  });

  test('temporalQ selects registrations by their time intervals; without it only latest-information ones', async () => {
    const T = { 'ngsild-tenant': 'csub-time' };
    const latest = await receiver();
    const history = await receiver();
    await kend.post('csourceSubscriptions', csub(latest.url), T);
    await kend.post('csourceSubscriptions', csub(history.url, { temporalQ: { timerel: 'before', timeAt: '2021-01-01T00:00:00Z' } }), T);
    await kend.post('csourceRegistrations', registration('h1', { observationInterval: { startAt: '2020-01-01T00:00:00Z' } }), T);
    await kend.post('csourceRegistrations', registration('l1'), T);
    await latest.waitFor((xs) => xs.length >= 1);
    await history.waitFor((xs) => xs.length >= 1);
    // Markers: one more registration of each kind; each endpoint's list must end with its own marker only.
    await kend.post('csourceRegistrations', registration('h2', { observationInterval: { startAt: '2019-01-01T00:00:00Z' } }), T);
    await kend.post('csourceRegistrations', registration('l2'), T);
    await latest.waitFor((xs) => xs.length >= 2);
    await history.waitFor((xs) => xs.length >= 2);
    assert.deepEqual(latest.received.map((x) => x.body.data[0]!.id), [`${REG}l1`, `${REG}l2`]);
    assert.deepEqual(history.received.map((x) => x.body.data[0]!.id), [`${REG}h1`, `${REG}h2`]);
  });
});
