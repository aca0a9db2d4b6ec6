// Smoke run of the benchmark harness (bench/run.ts --quick on SQLite, as a subprocess): every workload
// yields a row and Kend answers every request with 2xx. No timing is asserted.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Report } from '../../bench/lib/report.ts';
import { WORKLOAD_NAMES } from '../../bench/workloads/names.ts';

const outDir = mkdtempSync(join(tmpdir(), 'kend-bench-smoke-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

test('a quick benchmark run on SQLite reports every workload with no non-2xx answer', { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--store', 'sqlite', '--out', outDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, `bench exited with ${String(code)}\n${stdout}\n${stderr}`);

  const files = readdirSync(outDir).filter((f) => f.endsWith('-sqlite-quick.json'));
  assert.equal(files.length, 1, `one JSON result expected in ${outDir}, found ${files.join(', ')}`);
  const report = JSON.parse(readFileSync(join(outDir, files[0]!), 'utf8')) as Report;

  for (const name of ['load', ...WORKLOAD_NAMES]) {
    const row = report.rows.find((r) => r.workload === name);
    assert.ok(row !== undefined, `no row for ${name}`);
    assert.ok(stdout.includes(`| ${row.title} |`), `the printed table has no row "${row.title}"`);
    if (name === 'temporal' && row.status === 'skipped') {
      assert.equal(row.reason, 'temporal API not available');
      continue;
    }
    assert.equal(row.status, 'measured', `${name}: ${row.status} ${row.reason ?? ''}`);
    assert.ok((row.requests ?? 0) > 0, `${name}: no request completed`);
    assert.equal(row.non2xx, 0, `${name}: non-2xx answers ${JSON.stringify(row.statusCodes)}`);
    assert.equal(row.errors, 0, `${name}: connection errors or timeouts`);
  }
  const notify = report.rows.find((r) => r.workload === 'notify');
  assert.equal(notify?.extra?.missing, 0, 'every update was notified');
});
