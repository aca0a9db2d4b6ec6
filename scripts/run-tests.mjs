// Runs every test file under test/ with node:test (TypeScript via tsx) and ends with the summary line.
// Usage: node scripts/run-tests.mjs [path-filter...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = findTests('test')
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.log('no test files found');
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}
const summaryFile = join(mkdtempSync(join(tmpdir(), 'kend-test-')), 'summary.txt');
const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/summary-reporter.mjs', `--test-reporter-destination=${summaryFile}`,
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, KEND_LOG_LEVEL: process.env.KEND_LOG_LEVEL ?? 'silent' } },
);
let summary;
try {
  summary = readFileSync(summaryFile, 'utf8').trim();
} catch {
  summary = '0 passed, 1 failed, 0 skipped';
}
// The summary line must be the last line of output.
console.log(summary);
process.exit(result.status ?? 1);
