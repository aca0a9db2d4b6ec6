// Summarises a V8 CPU profile (from `npm run bench -- --cpu-prof DIR`): self time by area (Kend module,
// dependency, Node internals, GC, idle) and the functions with the most self time.
// Usage: node --import tsx bench/profile-top.ts DIR/CPU.…cpuprofile [top=25] [from-to]
// from-to (seconds since the profile started, e.g. 41.2-53.9) keeps only that window: the JSON result gives
// each workload's `window` in seconds since Kend was spawned, which is when its profile starts (± start-up).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function area(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const src = /\/(src\/[^?]+)/.exec(url);
  return src ? src[1]!.replace(/\/[^/]+$/, '/') : url;
}

const [path, topArg, windowArg] = process.argv.slice(2);
if (path === undefined) {
  process.stderr.write('usage: node --import tsx bench/profile-top.ts <file.cpuprofile> [top] [from-to]\n');
  process.exit(2);
}
const [fromS, toS] = windowArg === undefined ? [0, Infinity] : windowArg.split('-').map(Number);
const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
let atUs = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  atUs += delta;
  if (atUs / 1e6 >= fromS! && atUs / 1e6 <= toS!) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
});
let total = 0;
for (const us of selfUs.values()) total += us;

const areas = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const a = area(url, functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
  const key = `${functionName || '(anonymous)'}  ${url.replace(/^.*?\/(src|node_modules)\//, '$1/')}:${lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
const top = Number(topArg ?? 25);
process.stdout.write(`total sampled ${(total / 1e6).toFixed(1)} s\n\nself time by area:\n`);
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${a}\n`);
process.stdout.write(`\nfunctions with most self time:\n`);
for (const [f, us] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${f}\n`);
