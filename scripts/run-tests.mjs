// Runs the test suites with node:test (TypeScript via tsx) and ends with one summary line
// "N passed, N failed, N skipped" over all passes:
//   pass 1: every test file, API suites on SQLite;
//   pass 2: the HTTP API and operational suites again on PostgreSQL (KEND_TEST_STORE=postgres). When no
//           PostgreSQL is reachable, each of those files counts as skipped and the reason is printed.
// Usage: node scripts/run-tests.mjs [path-filter...]
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

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
const bothStores = files.filter((f) => f.startsWith(join('test', 'api')) || f.startsWith(join('test', 'ops')));

const totals = { passed: 0, failed: 0, skipped: 0 };
let exitCode = 0;

function runPass(label, passFiles, env) {
  if (passFiles.length === 0) return;
  console.log(`\n=== ${label}: ${passFiles.length} files ===`);
  const summaryFile = join(mkdtempSync(join(tmpdir(), 'kend-test-')), 'summary.txt');
  const result = spawnSync(
    process.execPath,
    [
      '--import', 'tsx',
      '--test',
      '--test-concurrency=2',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=./scripts/summary-reporter.mjs', `--test-reporter-destination=${summaryFile}`,
      ...passFiles,
    ],
    { stdio: 'inherit', env: { ...process.env, KEND_LOG_LEVEL: process.env.KEND_LOG_LEVEL ?? 'silent', ...env } },
  );
  if (result.status !== 0) exitCode = result.status ?? 1;
  let line;
  try {
    line = readFileSync(summaryFile, 'utf8').trim();
  } catch {
    line = '';
  }
  const m = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(line);
  if (!m) {
    totals.failed += 1;
    exitCode = exitCode || 1;
    console.log(`${label}: no summary from the test runner`);
    return;
  }
  totals.passed += Number(m[1]);
  totals.failed += Number(m[2]);
  totals.skipped += Number(m[3]);
  console.log(`${label}: ${line}`);
}

if (files.length === 0) {
  console.log('no test files found');
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

runPass('SQLite (all suites)', files, {});

if (bothStores.length > 0 && process.env.KEND_TEST_SKIP_POSTGRES !== '1') {
  const probe = spawnSync(
    process.execPath,
    ['--import', 'tsx', '-e', "import('./test/support/postgres.ts').then(async (m) => { const r = await m.postgresAvailable(); console.log(JSON.stringify(r)); })"],
    { encoding: 'utf8' },
  );
  let availability = { ok: false, reason: `probe failed: ${probe.stderr}` };
  try {
    availability = JSON.parse(probe.stdout.trim().split('\n').pop());
  } catch {
    /* keep the failure reason */
  }
  if (availability.ok) runPass('PostgreSQL (API and operational suites)', bothStores, { KEND_TEST_STORE: 'postgres' });
  else {
    console.log(`\nPostgreSQL pass skipped (${bothStores.length} files): ${availability.reason}`);
    totals.skipped += bothStores.length;
  }
}

// The summary line must be the last line of output.
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? exitCode || 1 : exitCode);
