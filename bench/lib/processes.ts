// Child processes of the benchmark: Kend itself (src/main.ts, exactly as `npm start` runs it), the bare
// Fastify app and the notification receiver. Each prints the URL it listens on; we wait for that line.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Service {
  child: ChildProcess;
  pid: number;
  /** http://127.0.0.1:port */
  origin: string;
  /** performance.now() of the harness when the process was spawned. */
  spawnedAt: number;
  /** Last lines of the process's output, for error messages. */
  output(): string;
  stop(): Promise<number | null>;
}

const KEEP_OUTPUT = 64 * 1024;

/** The harness's environment without any KEND_* variable: children get Kend's defaults plus `env` only. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEND_')) clean[k] = v;
  return { ...clean, ...env };
}

function startService(name: string, args: string[], env: Record<string, string>, ready: RegExp, ipc: boolean, nodeFlags: string[] = [], deadlineMs = 60_000): Promise<Service> {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    output += d.toString();
    if (output.length > KEEP_OUTPUT) output = output.slice(-KEEP_OUTPUT);
  };
  // Always drained: a full pipe would block the child.
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return new Promise<Service>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${deadlineMs} ms:\n${output}`));
    }, deadlineMs);
    const onData = () => {
      const m = ready.exec(output);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      resolve({
        child,
        pid: child.pid!,
        origin: m[1]!,
        spawnedAt,
        output: () => output,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          const [code] = (await once(child, 'exit')) as [number | null];
          clearTimeout(killer);
          return code;
        },
      });
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${String(code)} before listening:\n${output}`));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', onExit);
  });
}

/**
 * Kend with its production defaults: only the port (any free one), the bind address and the store are set;
 * KEND_* variables of the caller's environment are not passed on. No durability, logging or limit setting
 * is changed for the benchmark. `history: false` (--history off) sets KEND_HISTORY=false, only to measure
 * what recording history costs; such a run says so in its table and JSON.
 */
export function startKend(databaseUrl: string, cpuProfDir?: string, history = true): Promise<Service> {
  const env: Record<string, string> = { KEND_PORT: '0', KEND_HOST: '127.0.0.1', KEND_DATABASE_URL: databaseUrl };
  if (!history) env.KEND_HISTORY = 'false';
  return startService(
    'Kend',
    ['src/main.ts'],
    env,
    /"address":"(http:\/\/127\.0\.0\.1:\d+)"/,
    false,
    cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`],
  );
}

export function startBare(): Promise<Service> {
  return startService('bare Fastify app', ['bench/servers/bare.ts'], {}, /listening (http:\/\/127\.0\.0\.1:\d+)/, false);
}

export function startReceiver(): Promise<Service> {
  return startService('notification receiver', ['bench/servers/receiver.ts'], {}, /listening (http:\/\/127\.0\.0\.1:\d+)/, true);
}
