// EntityMaps live in the store (guide §19): a map made through one Kend node is served by another node on the
// same database (SQLite file, or PostgreSQL in the second pass), and still there after the first node restarts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKendProcess, type KendProcess } from '../support/process.ts';
import { TEST_STORE, testDatabaseUrl } from '../support/harness.ts';

describe('EntityMaps shared by two Kend nodes and kept across a restart', () => {
  let url = '';
  let nodes: KendProcess[] = [];
  let drop: () => Promise<void> = async () => {};
  const dir = mkdtempSync(join(tmpdir(), 'kend-emaps-nodes-'));

  before(async () => {
    const db = TEST_STORE === 'postgres' ? await testDatabaseUrl() : { url: `sqlite:${join(dir, 'shared.db')}`, drop: async () => {} };
    url = db.url;
    drop = db.drop;
    nodes = [await startKendProcess({ KEND_DATABASE_URL: url }), await startKendProcess({ KEND_DATABASE_URL: url })];
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (node: KendProcess, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${node.baseUrl}/ngsi-ld/v1/${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  test('a map made on node A pages on node B, loses a deleted entity there, and survives A’s restart', async () => {
    const plots = [1, 2, 3, 4].map((n) => ({ id: `urn:ngsi-ld:Plot:${n}`, type: 'Plot', n: { type: 'Property', value: n } }));
    assert.equal((await call(nodes[0]!, 'entityOperations/create', { method: 'POST', body: plots })).status, 201);
    const created = await call(nodes[0]!, 'entities?type=Plot&limit=2&entityMap=true');
    assert.equal(created.status, 201);
    const map = created.headers.get('ngsild-entitymap');
    assert.ok(map !== null);
    assert.equal((await call(nodes[1]!, 'entities/urn:ngsi-ld:Plot:2', { method: 'DELETE' })).status, 204);
    const page = await call(nodes[1]!, 'entities?type=Plot&limit=2&offset=1', { headers: { 'NGSILD-EntityMap': map } });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('ngsild-entitymap'), map);
    assert.deepEqual(((await page.json()) as { id: string }[]).map((e) => e.id), ['urn:ngsi-ld:Plot:3', 'urn:ngsi-ld:Plot:4']);

    await nodes[0]!.stop();
    nodes[0] = await startKendProcess({ KEND_DATABASE_URL: url });
    const kept = await call(nodes[0]!, map.replace('/ngsi-ld/v1/', ''));
    assert.equal(kept.status, 200);
    const body = (await kept.json()) as { entityMap: Record<string, string[]> };
    assert.deepEqual(Object.keys(body.entityMap), ['urn:ngsi-ld:Plot:1', 'urn:ngsi-ld:Plot:3', 'urn:ngsi-ld:Plot:4']);
  });
});
