// Notification destination policy (issue 5 item 7): default refusals, allow and deny lists, IP forms and the
// resolved-address check used at delivery time.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkDestination, checkResolvedAddress, parseDestinationPolicy, parseIp } from '../../src/core/destination-policy.ts';

const open = parseDestinationPolicy('', '');

describe('default policy', () => {
  test('ordinary http, https, mqtt and mqtts endpoints are allowed, loopback included', () => {
    for (const uri of ['http://example.org/notify', 'https://10.0.0.5:8443/x', 'mqtt://broker.local/topic/a', 'mqtts://u:p@[2001:db8::1]:8883/t', 'http://127.0.0.1:3000/']) {
      assert.equal(checkDestination(open, uri), null, uri);
    }
  });

  test('link-local and cloud metadata destinations are refused in every spelling', () => {
    for (const uri of [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.1.2/',
      'http://[fe80::1]/',
      'http://[febf::1]/',
      'http://[fd00:ec2::254]/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://METADATA.google.internal./x',
      'http://metadata/x',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://2852039166/',
      'http://0xA9FEA9FE/',
      'http://0251.0376.0251.0376/',
      'mqtt://2852039166/topic',
      'mqtt://169.254.169.254/topic',
      'mqtts://metadata/topic',
    ]) {
      const reason = checkDestination(open, uri);
      assert.ok(reason !== null && /refused/.test(reason), `${uri}: ${reason}`);
    }
  });

  test('unparsable URIs, unsupported schemes and hosts with escapes are refused', () => {
    for (const uri of ['not a uri', '/relative/path', 'ftp://example.org/x', 'file:///etc/passwd', 'mqtt://%6detadata/t', 'mqtt:///topic']) {
      assert.notEqual(checkDestination(open, uri), null, uri);
    }
  });
});

describe('configured lists', () => {
  test('a deny list adds CIDRs, addresses and host names (with subdomain wildcards)', () => {
    const p = parseDestinationPolicy('', '10.0.0.0/8, 192.168.1.7, internal.example, *.corp.example, 2001:db8::/32');
    assert.match(checkDestination(p, 'http://10.20.30.40/')!, /refused/);
    assert.match(checkDestination(p, 'http://192.168.1.7:8080/')!, /refused/);
    assert.equal(checkDestination(p, 'http://192.168.1.8/'), null);
    assert.match(checkDestination(p, 'http://internal.example/')!, /refused/);
    assert.equal(checkDestination(p, 'http://sub.internal.example/'), null);
    assert.match(checkDestination(p, 'mqtt://a.b.corp.example/t')!, /refused/);
    assert.match(checkDestination(p, 'http://[2001:db8:1::5]/')!, /refused/);
    assert.match(checkDestination(p, 'http://169.254.169.254/')!, /refused/, 'the defaults stay');
  });

  test('an allow list must match, and deny wins over allow', () => {
    const p = parseDestinationPolicy('receiver.example, 192.168.0.0/16', '192.168.66.0/24');
    assert.equal(checkDestination(p, 'https://receiver.example/n'), null);
    assert.equal(checkDestination(p, 'http://192.168.3.4/'), null);
    assert.match(checkDestination(p, 'http://10.1.1.1/')!, /not in the allowed/);
    assert.match(checkDestination(p, 'http://192.168.66.1/')!, /refused/);
    // A name outside the allowed names may resolve into an allowed range: decided at delivery time.
    assert.equal(checkDestination(p, 'http://other.example/'), null);
    assert.equal(checkResolvedAddress(p, '192.168.9.9', 'other.example'), null);
    assert.match(checkResolvedAddress(p, '8.8.8.8', 'other.example')!, /not in the allowed/);
    assert.equal(checkResolvedAddress(p, '8.8.8.8', 'receiver.example'), null);
  });

  test('an allow list of names only refuses other names at subscription time', () => {
    const p = parseDestinationPolicy('*.example.org', '');
    assert.equal(checkDestination(p, 'http://a.example.org/'), null);
    assert.match(checkDestination(p, 'http://example.com/')!, /not in the allowed/);
  });

  test('malformed entries are rejected naming the entry', () => {
    assert.throws(() => parseDestinationPolicy('10.0.0.0/33', ''), /10\.0\.0\.0\/33/);
    assert.throws(() => parseDestinationPolicy('', 'exa mple'), /exa mple/);
    assert.throws(() => parseDestinationPolicy('', 'host.example/8'), /host\.example\/8/);
  });
});

describe('resolved addresses', () => {
  test('a name resolving into a denied range is refused (localhost with 127.0.0.0/8 denied)', () => {
    const p = parseDestinationPolicy('', '127.0.0.0/8, ::1/128');
    assert.equal(checkDestination(p, 'http://localhost:9999/'), null, 'the name itself is not denied');
    assert.match(checkResolvedAddress(p, '127.0.0.1', 'localhost')!, /refused/);
    assert.match(checkResolvedAddress(p, '::1', 'localhost')!, /refused/);
    assert.match(checkResolvedAddress(open, '169.254.169.254', 'evil.example')!, /refused/);
    assert.match(checkResolvedAddress(open, '::ffff:169.254.169.254')!, /refused/);
    assert.equal(checkResolvedAddress(open, '93.184.216.34', 'example.com'), null);
  });
});

test('IP parsing accepts the forms URL parsers and resolvers accept and nothing else', () => {
  assert.deepEqual(parseIp('1.2.3.4'), { v6: false, value: 0x01020304n });
  assert.deepEqual(parseIp('1.2.772'), { v6: false, value: 0x01020304n });
  assert.deepEqual(parseIp('::ffff:1.2.3.4'), { v6: false, value: 0x01020304n });
  assert.deepEqual(parseIp('[::1]'), { v6: true, value: 1n });
  assert.deepEqual(parseIp('fe80::1%eth0'), { v6: true, value: (0xfe80n << 112n) + 1n });
  for (const bad of ['1.2.3.256', '1.2.3.4.5', 'example', '1::2::3', '1:2:3:4:5:6:7:8:9', '1.2.3.4::', '']) assert.equal(parseIp(bad), null, bad);
});
