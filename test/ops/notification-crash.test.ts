// Fault test (issue 5 item 4): 1,000 notifications pending for a slow endpoint, `kill -9` the process,
// restart: every notification is delivered at least once (duplicates allowed, each carries an id).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKendProcess } from '../support/process.ts';
import { TEST_STORE, testDatabaseUrl } from '../support/harness.ts';


describe('Durable notifications across kill -9', () => {
  test('1,000 notifications owed to a slow endpoint are all delivered after a crash and restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kend-crash-'));
    const db = TEST_STORE === 'postgres' ? await testDatabaseUrl() : { url: `sqlite:${join(dir, 'kend.db')}`, drop: async () => {} };
    after(async () => {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    // The receiver is slow (each answer takes 2 s) until `slow` is switched off.
    let slow = true;
    const seen = new Map<string, number>(); // value → deliveries
    const ids = new Set<string>();
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const answer = () => {
          try {
            const note = JSON.parse(raw) as { id: string; data: { counter?: { value: number } }[] };
            ids.add(note.id);
            for (const d of note.data) if (d.counter) seen.set(String(d.counter.value), (seen.get(String(d.counter.value)) ?? 0) + 1);
          } catch {
            /* ignore */
          }
          res.writeHead(200);
          res.end();
        };
        if (slow) setTimeout(answer, 2000).unref();
        else answer();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => {
      server.closeAllConnections();
      server.close();
    });
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
    const env = { KEND_DATABASE_URL: db.url, KEND_NOTIFY_LEASE_MS: '1500', KEND_NOTIFY_POLL_MS: '100', KEND_NOTIFY_TIMEOUT_MS: '30000' };

    const first = await startKendProcess(env);
    const call = (base: string, method: string, path: string, body?: unknown) =>
      fetch(`${base}/ngsi-ld/v1/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.equal(
      (await call(first.baseUrl, 'POST', 'subscriptions', {
        type: 'Subscription',
        entities: [{ type: 'Counter' }],
        notification: { endpoint: { uri: endpoint } },
      })).status,
      201,
    );
    // 1,000 changes: 10 batches of 100 new entities, each entity one notification.
    for (let b = 0; b < 10; b++) {
      const batch = Array.from({ length: 100 }, (_, i) => ({ id: `urn:ngsi-ld:Counter:${b * 100 + i}`, type: 'Counter', counter: b * 100 + i }));
      assert.equal((await call(first.baseUrl, 'POST', 'entityOperations/create', batch)).status, 201);
    }
    assert.ok(seen.size < 1000, 'the slow endpoint has not received everything before the crash');
    assert.equal(await first.stop('SIGKILL'), null);

    slow = false;
    const second = await startKendProcess(env);
    try {
      const deadline = Date.now() + 60_000;
      while (seen.size < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const missing = Array.from({ length: 1000 }, (_, i) => String(i)).filter((v) => !seen.has(v));
      assert.deepEqual(missing, [], `${missing.length} notifications never delivered`);
      assert.ok(ids.size >= 1000, 'each notification carries its own id');
    } finally {
      await second.stop();
    }
  });
});
