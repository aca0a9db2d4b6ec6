// MQTT notification transport (guide §14.5) against the machine's Mosquitto on 127.0.0.1:1883: envelope,
// QoS 0/1/2, MQTT 3.1.1 and 5, endpoint parsing, failures and destination refusals.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { createMqttTransport, mqttEnvelope, parseMqttEndpoint } from '../../src/adapters/notify-mqtt.ts';
import { parseDestinationPolicy } from '../../src/core/destination-policy.ts';
import type { DeliveryMessage } from '../../src/ports/notifier.ts';

const BROKER = 'mqtt://127.0.0.1:1883';

async function brokerReachable(): Promise<string | null> {
  try {
    const c = await connectAsync(BROKER, { connectTimeout: 1500, reconnectPeriod: 0 });
    await c.endAsync();
    return null;
  } catch (e) {
    return `Mosquitto not reachable at ${BROKER}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

const skipReason = await brokerReachable();
if (skipReason !== null) console.log(`# skipping MQTT broker tests: ${skipReason}`);

async function until<T>(probe: () => T | undefined, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

const message = (notifierInfo?: { key: string; value: string }[], extra: Partial<DeliveryMessage> = {}): DeliveryMessage => ({
  body: { id: `urn:ngsi-ld:Notification:${randomUUID()}`, type: 'Notification', subscriptionId: 'urn:ngsi-ld:Subscription:m', notifiedAt: '2024-05-01T10:00:00.000Z', data: [{ id: 'urn:ngsi-ld:Sensor:1', type: 'Sensor' }] },
  headers: { Link: '<https://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"', 'NGSILD-Tenant': 'village', 'X-Key': 'v', 'Content-Length': '9' },
  contentType: 'application/json',
  ...(notifierInfo === undefined ? {} : { notifierInfo }),
  ...extra,
});

describe('endpoint parsing and envelope (no broker needed)', () => {
  test('mqtt and mqtts URIs give host, default port, credentials and topic', () => {
    assert.deepEqual(parseMqttEndpoint('mqtt://broker.example/a/b'), { secure: false, host: 'broker.example', port: 1883, username: undefined, password: undefined, topic: 'a/b' });
    assert.deepEqual(parseMqttEndpoint('mqtts://u%40x:p%3Aw@broker.example:9000/t'), { secure: true, host: 'broker.example', port: 9000, username: 'u@x', password: 'p:w', topic: 't' });
    assert.equal((parseMqttEndpoint('mqtts://[::1]/t') as { port: number }).port, 8883);
    assert.equal(typeof parseMqttEndpoint('mqtt://broker.example/'), 'string');
    assert.equal(typeof parseMqttEndpoint('mqtt://broker.example/a/#'), 'string');
    assert.equal(typeof parseMqttEndpoint('http://broker.example/a'), 'string');
  });

  test('metadata holds Content-Type, Link for JSON and the application headers, not HTTP framing ones', () => {
    const m = message();
    assert.deepEqual(mqttEnvelope(m), {
      metadata: { 'Content-Type': 'application/json', Link: m.headers.Link!, 'NGSILD-Tenant': 'village', 'X-Key': 'v' },
      body: m.body,
    });
    assert.deepEqual(mqttEnvelope({ ...m, contentType: 'application/ld+json' }).metadata, { 'Content-Type': 'application/ld+json', 'NGSILD-Tenant': 'village', 'X-Key': 'v' });
  });
});

// Each test skips on its own (with the reason), so the runner's summary counts them as skipped.
const live = { skip: skipReason ?? false };

describe('against Mosquitto', () => {
  let sub: MqttClient | undefined;
  const got = new Map<string, { payload: string; qos: number }[]>();
  const transport = createMqttTransport({ connectTimeoutMs: 1000, reconnectPeriodMs: 200 });
  const base = `kend-test/${randomUUID()}`;

  before(async () => {
    if (skipReason !== null) return;
    sub = await connectAsync(BROKER, { protocolVersion: 5, reconnectPeriod: 0 });
    sub.on('message', (topic, payload, packet) => {
      const list = got.get(topic) ?? [];
      list.push({ payload: payload.toString('utf8'), qos: packet.qos });
      got.set(topic, list);
    });
    await sub.subscribeAsync(`${base}/#`, { qos: 2 });
  });
  after(async () => {
    await transport.close();
    await sub?.endAsync();
  });

  const cases: { name: string; info?: { key: string; value: string }[]; qos: number }[] = [
    { name: 'QoS 0 over MQTT 5 (the defaults)', qos: 0 },
    { name: 'QoS 1 over MQTT 5', info: [{ key: 'MQTT-QoS', value: '1' }], qos: 1 },
    { name: 'QoS 0 over MQTT 3.1.1', info: [{ key: 'MQTT-Version', value: 'mqtt3.1.1' }], qos: 0 },
    { name: 'QoS 1 over MQTT 3.1.1', info: [{ key: 'MQTT-Version', value: 'mqtt3.1.1' }, { key: 'MQTT-QoS', value: '1' }], qos: 1 },
    { name: 'QoS 2 over MQTT 5', info: [{ key: 'MQTT-Version', value: 'mqtt5.0' }, { key: 'MQTT-QoS', value: '2' }], qos: 2 },
  ];
  for (const c of cases) {
    test(`${c.name}: the envelope arrives on the endpoint topic`, live, async () => {
      const topic = `${base}/${randomUUID()}/sub`;
      const m = message(c.info);
      assert.deepEqual(await transport.deliver(`mqtt://127.0.0.1:1883/${topic}`, m, { timeoutMs: 3000 }), { ok: true });
      const [received] = await until(() => got.get(topic));
      assert.equal(received!.qos, c.qos);
      assert.deepEqual(JSON.parse(received!.payload), {
        metadata: { 'Content-Type': 'application/json', Link: m.headers.Link, 'NGSILD-Tenant': 'village', 'X-Key': 'v' },
        body: m.body,
      });
    });
  }

  test('many notifications to one broker share the client and all arrive', live, async () => {
    const topic = `${base}/${randomUUID()}`;
    const outs = await Promise.all(Array.from({ length: 50 }, () => transport.deliver(`mqtt://127.0.0.1/${topic}`, message([{ key: 'MQTT-QoS', value: '1' }]), { timeoutMs: 3000 })));
    assert.ok(outs.every((o) => o.ok));
    await until(() => ((got.get(topic)?.length ?? 0) >= 50 ? true : undefined));
  });

  test('one client per broker and protocol version, whatever the topic', live, async () => {
    const t = createMqttTransport();
    try {
      for (const topic of ['a', 'b/c', 'd']) assert.deepEqual(await t.deliver(`mqtt://127.0.0.1:1883/${base}/${topic}`, message(), { timeoutMs: 3000 }), { ok: true });
      assert.equal(t.clientCount(), 1);
      assert.deepEqual(await t.deliver(`mqtt://127.0.0.1/${base}/e`, message(), { timeoutMs: 3000 }), { ok: true });
      assert.equal(t.clientCount(), 1, 'the default port is the same broker');
      assert.deepEqual(await t.deliver(`mqtt://127.0.0.1/${base}/f`, message([{ key: 'MQTT-Version', value: 'mqtt3.1.1' }]), { timeoutMs: 3000 }), { ok: true });
      assert.equal(t.clientCount(), 2);
    } finally {
      await t.close();
    }
  });

  test('invalid notifierInfo values and topics are final failures', async () => {
    const badQos = await transport.deliver(`mqtt://127.0.0.1/${base}/x`, message([{ key: 'MQTT-QoS', value: '3' }]), { timeoutMs: 1000 });
    assert.equal(!badQos.ok && !badQos.retryable, true);
    const badVersion = await transport.deliver(`mqtt://127.0.0.1/${base}/x`, message([{ key: 'MQTT-Version', value: 'mqtt3.1' }]), { timeoutMs: 1000 });
    assert.equal(!badVersion.ok && !badVersion.retryable, true);
    const wildcard = await transport.deliver(`mqtt://127.0.0.1/${base}/+`, message(), { timeoutMs: 1000 });
    assert.equal(!wildcard.ok && !wildcard.retryable, true);
  });
});

test('an unreachable broker is a retryable failure within the timeout', async () => {
  const t = createMqttTransport({ connectTimeoutMs: 200, reconnectPeriodMs: 100 });
  const started = Date.now();
  const out = await t.deliver('mqtt://127.0.0.1:1/kend-test/none', message(), { timeoutMs: 400 });
  const took = Date.now() - started;
  await t.close();
  assert.equal(out.ok, false);
  assert.equal(!out.ok && out.retryable, true);
  assert.ok(took < 1500, `took ${took} ms`);
});

test('a broker host resolving into a denied range is refused', async () => {
  const t = createMqttTransport({ policy: parseDestinationPolicy('', '127.0.0.0/8, ::1/128'), connectTimeoutMs: 500 });
  const literal = await t.deliver('mqtt://127.0.0.1:1883/kend-test/x', message(), { timeoutMs: 1000 });
  assert.equal(!literal.ok && !literal.retryable, true);
  const named = await t.deliver('mqtt://localhost:1883/kend-test/x', message(), { timeoutMs: 1000 });
  assert.equal(t.clientCount(), 0, 'the refused client does not keep reconnecting');
  await t.close();
  assert.equal(named.ok, false);
  assert.match(!named.ok ? named.reason : '', /localhost.*refused/);
  assert.equal(!named.ok && named.retryable, false);
});
