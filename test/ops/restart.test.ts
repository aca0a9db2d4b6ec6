// Operational tests on the real process: durability across restart, SIGTERM shutdown, invalid configuration.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKendToExit, startKendProcess } from '../support/process.ts';
import { TEST_STORE, testDatabaseUrl } from '../support/harness.ts';

describe('Kend process', () => {
  test('an entity written before a stop is read back identical after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kend-restart-'));
    try {
      const db = TEST_STORE === 'postgres' ? await testDatabaseUrl() : { url: `sqlite:${join(dir, 'nested', 'kend.db')}`, drop: async () => {} };
      after(() => db.drop());
      const env = { KEND_DATABASE_URL: db.url };
      const entity = {
        id: 'urn:ngsi-ld:SoilSensor:parcel7',
        type: 'SoilSensor',
        moisture: { type: 'Property', value: 23.4, unitCode: 'P1', observedAt: '2026-11-29T06:00:00Z' },
        name: { type: 'LanguageProperty', languageMap: { az: 'Torpaq', en: 'Soil' } },
        location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [46.65, 39.1] } },
      };
      const first = await startKendProcess(env);
      const created = await fetch(`${first.baseUrl}/ngsi-ld/v1/entities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(entity),
      });
      assert.equal(created.status, 201);
      const before = await (await fetch(`${first.baseUrl}/ngsi-ld/v1/entities/${entity.id}?options=sysAttrs`)).text();
      const hosted = await fetch(`${first.baseUrl}/ngsi-ld/v1/jsonldContexts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ '@context': { moisture: 'https://agri.example/moisture' } }),
      });
      assert.equal(hosted.status, 201);
      const hostedPath = hosted.headers.get('location')!;
      assert.equal(await first.stop('SIGTERM'), 0, 'SIGTERM ends the process cleanly');

      const second = await startKendProcess(env);
      try {
        const after = await fetch(`${second.baseUrl}/ngsi-ld/v1/entities/${entity.id}?options=sysAttrs`);
        assert.equal(after.status, 200);
        assert.equal(await after.text(), before);
        const plain = await (await fetch(`${second.baseUrl}/ngsi-ld/v1/entities/${entity.id}`)).json();
        assert.deepEqual(plain, entity);
        const ctx = await fetch(`${second.baseUrl}${hostedPath}`);
        assert.equal(ctx.status, 200, 'a Hosted @context survives the restart');
        assert.deepEqual(await ctx.json(), { '@context': { moisture: 'https://agri.example/moisture' } });
      } finally {
        assert.equal(await second.stop('SIGTERM'), 0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('invalid configuration exits non-zero naming the variable', async () => {
    for (const [name, value] of [
      ['KEND_PORT', 'abc'],
      ['KEND_PORT', '70000'],
      ['KEND_LOG_LEVEL', 'loud'],
      ['KEND_DATABASE_URL', 'mysql://x'],
      ['KEND_MAX_BODY_BYTES', '-1'],
    ] as const) {
      const { code, output } = await runKendToExit({ [name]: value });
      assert.notEqual(code, 0, `${name}=${value}`);
      assert.match(output, new RegExp(name), output);
    }
  });

  test('--print-config prints the effective configuration with secrets masked', async () => {
    const { code, output } = await runKendToExit({ KEND_DATABASE_URL: 'postgres://kend:s3cret@127.0.0.1/kend' }, ['--print-config']);
    assert.equal(code, 0);
    assert.match(output, /"KEND_PORT": 0/);
    assert.ok(!output.includes('s3cret'));
  });
});
