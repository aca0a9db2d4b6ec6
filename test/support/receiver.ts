// A local notification receiver on 127.0.0.1 for subscription tests: records every POST with its headers,
// and waits for notifications with a deadline (never a fixed sleep).
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: { id: string; type: string; subscriptionId: string; notifiedAt: string; data: Record<string, unknown>[] } & Record<string, unknown>;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves once `predicate` holds over the received list, or rejects after `deadlineMs`. */
  waitFor(predicate: (all: Received[]) => boolean, deadlineMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(options: { status?: number; hang?: boolean } = {}): Promise<Receiver> {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (options.hang) {
        hanging.push(res);
        return;
      }
      try {
        received.push({ at: Date.now(), path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) as Received['body'] });
      } catch {
        /* not JSON: ignore */
      }
      res.writeHead(options.status ?? 200);
      res.end();
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    waitFor(predicate, deadlineMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(received)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(received);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver ${url}: condition not met within ${deadlineMs} ms; received ${received.length}`));
        }, deadlineMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
