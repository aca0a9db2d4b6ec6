// The dependency rule of DESIGN.md, checked over the import graph: core imports only core; ports only core;
// adapters, services and http import core + ports (adapters also their own folder); only main.ts picks adapters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(path: string): string {
  const rel = relative(SRC, path);
  return rel === 'main.ts' ? 'main' : rel.split('/')[0]!;
}

const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  ports: ['core', 'ports'],
  adapters: ['core', 'ports', 'adapters'],
  services: ['core', 'ports', 'services'],
  http: ['core', 'ports', 'services', 'http'],
  config: ['config'],
  main: ['core', 'ports', 'adapters', 'services', 'http', 'config'],
};

test('every import in src/ follows the dependency rule', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const from = layerOf(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^\s*(import type|import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = layerOf(resolve(dirname(file), m[2]!));
      // The frozen config's *type* may describe a factory's options outside core and ports.
      const typeOnlyConfig = m[1] === 'import type' && target === 'config' && !['core', 'ports'].includes(from);
      if (!typeOnlyConfig && !(ALLOWED[from] ?? []).includes(target)) violations.push(`${relative(SRC, file)} (${from}) imports ${m[2]} (${target})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the core imports no Node I/O module and no framework', () => {
  const offenders: string[] = [];
  for (const file of files(join(SRC, 'core'))) {
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/from\s+'([^.'][^']*)'/g)) {
      const mod = m[1]!;
      if (/^(node:)?(fs|net|http|https|child_process|dgram|dns|tls)(\/|$)/.test(mod) || /^(fastify|better-sqlite3|pg|mqtt|pino)/.test(mod)) {
        offenders.push(`${relative(SRC, file)} imports ${mod}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});
