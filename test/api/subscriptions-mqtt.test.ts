// API tests: subscriptions with MQTT endpoints (GS CIM 009 §7.2; guide §14.5; issue 5 item 3) through the HTTP
// API on both stores, delivered to the machine's Mosquitto on 127.0.0.1:1883 and read back by an MQTT client
// subscribed before the change. The {metadata, body} envelope, QoS 0/1 and MQTT 3.1.1/5 via notifierInfo.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { connectAsync, type IPublishPacket, type MqttClient } from 'mqtt';
import { ERR, eventually, startKend } from '../support/harness.ts';

const HOST = '127.0.0.1';
const PORT = 1883;

/** Null when a TCP connection to the broker opens; otherwise why the broker tests are skipped. */
async function brokerUnreachable(): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port: PORT });
    const done = (reason: string | null) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(1500, () => done(`no MQTT broker at ${HOST}:${PORT} (connect timed out)`));
    socket.once('connect', () => done(null));
    socket.once('error', (err) => done(`no MQTT broker at ${HOST}:${PORT} (${err.message})`));
  });
}

const skipReason = await brokerUnreachable();
if (skipReason !== null) console.log(`# skipping MQTT delivery tests: ${skipReason}`);
const live = { skip: skipReason ?? false };

const kend = startKend();
const ROOT = `kend-api-test/${randomUUID()}`;
const topicUri = (leaf: string, scheme = 'mqtt', port = PORT) => `${scheme}://${HOST}:${port}/${ROOT}/${leaf}`;

interface Envelope {
  metadata: Record<string, string>;
  body: { id: string; type: string; subscriptionId: string; notifiedAt: string; data: Record<string, unknown>[] };
}
interface Got {
  topic: string;
  qos: number;
  contentTypeProperty?: string;
  payload: Envelope;
}
const got: Got[] = [];
let listener: MqttClient | undefined;

before(async () => {
  if (skipReason !== null) return;
  listener = await connectAsync(`mqtt://${HOST}:${PORT}`, { protocolVersion: 5, reconnectPeriod: 0, clean: true });
  listener.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
    got.push({ topic, qos: packet.qos, contentTypeProperty: packet.properties?.contentType, payload: JSON.parse(payload.toString('utf8')) as Envelope });
  });
  // Subscribed at QoS 1, so each message arrives at the QoS it was published with (0 or 1).
  await listener.subscribeAsync(`${ROOT}/#`, { qos: 1 });
});
after(async () => {
  await listener?.endAsync();
});

/** The messages on one topic, once `count` have arrived (deadline, no fixed sleep). */
async function onTopic(leaf: string, count = 1): Promise<Got[]> {
  const topic = `${ROOT}/${leaf}`;
  return eventually(async () => {
    const mine = got.filter((g) => g.topic === topic);
    return mine.length >= count ? mine : undefined;
  }, 10_000, `${count} message(s) on ${topic}`);
}

let n = 0;
const sub = (type: string, endpoint: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: `urn:ngsi-ld:Subscription:mqtt-${++n}`,
  type: 'Subscription',
  entities: [{ type }],
  notification: { endpoint },
  ...extra,
});

describe('MQTT notifications', () => {
  test('a change is published as {metadata, body}: the Notification, Content-Type, Link and receiverInfo; QoS 0 and MQTT 5 by default', live, async () => {
    const s = sub('Beehive', { uri: topicUri('default'), accept: 'application/json', receiverInfo: [{ key: 'X-Village', value: 'Aghali' }, { key: 'X-Apiary', value: 'north' }] });
    assert.equal((await kend.post('subscriptions', s)).status, 201);
    assert.equal((await kend.post('entities', { id: 'urn:ngsi-ld:Beehive:b1', type: 'Beehive', weight: 31.5 })).status, 201);
    const [m] = await onTopic('default');
    assert.deepEqual(Object.keys(m!.payload).sort(), ['body', 'metadata']);
    const { metadata, body } = m!.payload;
    assert.equal(metadata['Content-Type'], 'application/json');
    assert.match(metadata.Link ?? '', /^<[^>]+>; rel="http:\/\/www\.w3\.org\/ns\/json-ld#context"; type="application\/ld\+json"$/);
    assert.equal(metadata['X-Village'], 'Aghali');
    assert.equal(metadata['X-Apiary'], 'north');
    assert.equal(metadata['NGSILD-Tenant'], undefined, 'default tenant: no tenant header');
    assert.equal(body.type, 'Notification');
    assert.match(body.id, /^urn:ngsi-ld:Notification:/);
    assert.equal(body.subscriptionId, s.id);
    assert.ok(Number.isFinite(Date.parse(body.notifiedAt)));
    assert.deepEqual(body.data, [{ id: 'urn:ngsi-ld:Beehive:b1', type: 'Beehive', weight: { type: 'Property', value: 31.5 } }]);
    assert.equal(m!.qos, 0);
    // Only an MQTT 5 publisher can set the content-type property; Kend does so (the default version is mqtt5.0).
    assert.equal(m!.contentTypeProperty, 'application/json');
    type Status = { notification: { timesSent?: number; status?: string; lastSuccess?: string } };
    const status = await eventually(async () => {
      const seen = (await kend.get(`subscriptions/${s.id}`)).json<Status>();
      return seen.notification.timesSent === 1 && seen.notification.lastSuccess !== undefined ? seen : undefined;
    }, 5000, 'timesSent 1');
    assert.equal(status.notification.status, 'ok');
  });

  test('notifierInfo MQTT-QoS 0 and 1 over MQTT-Version mqtt3.1.1 and mqtt5.0', live, async () => {
    const cases = [
      { leaf: 'v311-q0', version: 'mqtt3.1.1', qos: 0 },
      { leaf: 'v311-q1', version: 'mqtt3.1.1', qos: 1 },
      { leaf: 'v5-q0', version: 'mqtt5.0', qos: 0 },
      { leaf: 'v5-q1', version: 'mqtt5.0', qos: 1 },
    ];
    for (const c of cases) {
      const notifierInfo = [{ key: 'MQTT-Version', value: c.version }, { key: 'MQTT-QoS', value: String(c.qos) }];
      const s = sub('Weir', { uri: topicUri(c.leaf), accept: 'application/json', notifierInfo, receiverInfo: [{ key: 'X-Case', value: c.leaf }] });
      assert.equal((await kend.post('subscriptions', s)).status, 201, c.leaf);
      const back = (await kend.get(`subscriptions/${s.id}`)).json<{ notification: { endpoint: { notifierInfo: unknown } } }>();
      assert.deepEqual(back.notification.endpoint.notifierInfo, notifierInfo);
    }
    assert.equal((await kend.post('entities', { id: 'urn:ngsi-ld:Weir:w1', type: 'Weir', flow: 2 })).status, 201);
    for (const c of cases) {
      const [m] = await onTopic(c.leaf);
      assert.equal(m!.qos, c.qos, `${c.leaf}: QoS`);
      assert.equal(m!.contentTypeProperty, c.version === 'mqtt5.0' ? 'application/json' : undefined, `${c.leaf}: protocol version`);
      assert.equal(m!.payload.metadata['X-Case'], c.leaf);
      assert.equal(m!.payload.metadata['Content-Type'], 'application/json');
      assert.deepEqual(m!.payload.body.data.map((d) => d.id), ['urn:ngsi-ld:Weir:w1']);
    }
    // Later changes keep flowing over the reused connections.
    assert.equal((await kend.patch('entities/urn:ngsi-ld:Weir:w1/attrs', { flow: 3 })).status, 204);
    for (const c of cases) {
      const all = await onTopic(c.leaf, 2);
      assert.deepEqual(all.map((m) => (m.payload.body.data[0]!.flow as { value: number }).value), [2, 3], c.leaf);
    }
  });

  test('application/ld+json endpoints: metadata without Link, @context in each data element; a tenant’s notifications carry NGSILD-Tenant', live, async () => {
    const T = { 'ngsild-tenant': 'mqtt-village' };
    const s = sub('Beehive', { uri: topicUri('ld'), accept: 'application/ld+json', receiverInfo: [{ key: 'X-Village', value: 'Lahij' }] });
    assert.equal((await kend.post('subscriptions', s, T)).status, 201);
    assert.equal((await kend.post('entities', { id: 'urn:ngsi-ld:Beehive:b2', type: 'Beehive', weight: 12 }, T)).status, 201);
    const [m] = await onTopic('ld');
    assert.equal(m!.payload.metadata['Content-Type'], 'application/ld+json');
    assert.equal(m!.payload.metadata.Link, undefined);
    assert.equal(m!.payload.metadata['NGSILD-Tenant'], 'mqtt-village');
    assert.equal(m!.payload.metadata['X-Village'], 'Lahij');
    assert.ok(m!.payload.body.data[0]!['@context']);
    // The default tenant's entity of the same type went to the default-tenant subscription only.
    assert.ok(got.filter((g) => g.topic === `${ROOT}/default`).every((g) => g.payload.body.data.every((d) => d.id !== 'urn:ngsi-ld:Beehive:b2')));
  });
});

describe('MQTT endpoints at subscription time (no broker needed)', () => {
  test('mqtts:// endpoints are accepted with the default or an explicit port', async () => {
    // TLS cannot be exercised against the local broker (no TLS listener); creating and reading back is what the API promises.
    for (const uri of [`mqtts://${HOST}/${ROOT}/secure`, topicUri('secure', 'mqtts', 8883)]) {
      const s = sub('Beehive', { uri, notifierInfo: [{ key: 'MQTT-QoS', value: '1' }] }, { isActive: false });
      const res = await kend.post('subscriptions', s);
      assert.equal(res.status, 201, `${uri}: ${res.body}`);
      assert.equal((await kend.get(`subscriptions/${s.id}`)).json<{ notification: { endpoint: { uri: string } } }>().notification.endpoint.uri, uri);
    }
  });

  test('MQTT endpoints without a topic, with wildcards, or with unknown MQTT-Version / MQTT-QoS answer 400 and create nothing', async () => {
    const bad = [
      { uri: `mqtt://${HOST}:${PORT}/` },
      { uri: `mqtt://${HOST}:${PORT}/${ROOT}/+/x` },
      { uri: `mqtt://${HOST}:${PORT}/${ROOT}/%23` },
      { uri: topicUri('x'), notifierInfo: [{ key: 'MQTT-QoS', value: '3' }] },
      { uri: topicUri('x'), notifierInfo: [{ key: 'MQTT-Version', value: 'mqtt4' }] },
      { uri: topicUri('x'), notifierInfo: [{ key: 'MQTT-QoS' }] },
    ];
    for (const endpoint of bad) {
      const s = sub('Beehive', endpoint);
      const res = await kend.post('subscriptions', s);
      assert.equal(res.status, 400, JSON.stringify(endpoint));
      assert.equal(res.json<{ type: string }>().type, `${ERR}BadRequestData`);
      assert.equal((await kend.get(`subscriptions/${s.id}`)).status, 404);
    }
  });
});
