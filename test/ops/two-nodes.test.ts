// Two Kend processes on one database (SQLite file, or PostgreSQL in the second pass): concurrent writes to the
// same entities lose no update and never corrupt an entity; concurrent creates of one id give one 201, one 409.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKendProcess, type KendProcess } from '../support/process.ts';
import { TEST_STORE, testDatabaseUrl } from '../support/harness.ts';

describe('Two Kend nodes on one database', () => {
  let nodes: KendProcess[] = [];
  let drop: () => Promise<void> = async () => {};
  const dir = mkdtempSync(join(tmpdir(), 'kend-two-nodes-'));

  before(async () => {
    const db = TEST_STORE === 'postgres' ? await testDatabaseUrl() : { url: `sqlite:${join(dir, 'shared.db')}`, drop: async () => {} };
    drop = db.drop;
    // Started one after the other: the first applies the migrations, the second finds them applied.
    nodes = [await startKendProcess({ KEND_DATABASE_URL: db.url }), await startKendProcess({ KEND_DATABASE_URL: db.url })];
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (node: KendProcess, method: string, path: string, body?: unknown) =>
    fetch(`${node.baseUrl}/ngsi-ld/v1/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  test('concurrent appends of different attributes through both nodes all survive', async () => {
    const id = 'urn:ngsi-ld:Irrigation:valve1';
    assert.equal((await call(nodes[0]!, 'POST', 'entities', { id, type: 'Valve' })).status, 201);
    const writes = Array.from({ length: 60 }, (_, i) => call(nodes[i % 2]!, 'POST', `entities/${id}/attrs`, { [`a${i}`]: { type: 'Property', value: i } }));
    const statuses = (await Promise.all(writes)).map((r) => r.status);
    assert.deepEqual(statuses, Array(60).fill(204));
    for (const node of nodes) {
      const e = (await (await call(node, 'GET', `entities/${id}`)).json()) as Record<string, { value: number }>;
      for (let i = 0; i < 60; i++) assert.equal(e[`a${i}`]?.value, i, `a${i} via ${node.baseUrl}`);
    }
  });

  test('concurrent creates of one id through both nodes give exactly one 201 and one 409', async () => {
    for (let round = 0; round < 10; round++) {
      const id = `urn:ngsi-ld:Meter:race${round}`;
      const [a, b] = await Promise.all([
        call(nodes[0]!, 'POST', 'entities', { id, type: 'Meter', by: { type: 'Property', value: 'a' } }),
        call(nodes[1]!, 'POST', 'entities', { id, type: 'Meter', by: { type: 'Property', value: 'b' } }),
      ]);
      assert.deepEqual([a.status, b.status].sort(), [201, 409], `round ${round}`);
      const winner = a.status === 201 ? 'a' : 'b';
      const stored = (await (await call(nodes[1]!, 'GET', `entities/${id}`)).json()) as { by: { value: string } };
      assert.equal(stored.by.value, winner);
    }
  });
});
