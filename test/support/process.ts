// Runs the real Kend entry point (src/main.ts) as a child process for operational tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface KendProcess {
  child: ChildProcess;
  baseUrl: string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts Kend on a free loopback port and resolves once it listens (deadline, not a sleep). */
export async function startKendProcess(env: Record<string, string>, deadlineMs = 20_000): Promise<KendProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, KEND_PORT: '0', KEND_HOST: '127.0.0.1', KEND_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Kend did not start within ${deadlineMs} ms:\n${output}`)), deadlineMs);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Kend exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    child,
    baseUrl,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

/** Runs Kend to completion (for start-up failures) and returns its exit code and output. */
export async function runKendToExit(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    env: { ...process.env, KEND_PORT: '0', KEND_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}
