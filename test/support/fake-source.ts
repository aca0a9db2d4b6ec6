// A scriptable context source on 127.0.0.1 for distributed-operation tests: records every request (method,
// path, query, headers, body) and answers with what the test's handler says — including slowly, with
// malformed JSON, or not at all.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SourceRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SourceAnswer {
  status?: number;
  /** JSON-serialised unless `raw` is given. */
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** Answer after this many milliseconds. */
  delayMs?: number;
}

export interface FakeSource {
  url: string;
  requests: SourceRequest[];
  close(): Promise<void>;
}

export async function startFakeSource(handler: (req: SourceRequest) => SourceAnswer): Promise<FakeSource> {
  const requests: SourceRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const r: SourceRequest = { method: req.method ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, body };
      requests.push(r);
      const a = handler(r);
      const send = () => {
        open.delete(res);
        const text = a.raw ?? (a.json === undefined ? '' : JSON.stringify(a.json));
        res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
        res.end(text);
      };
      open.add(res);
      if (a.delayMs === undefined) send();
      else {
        const t = setTimeout(() => {
          timers.delete(t);
          send();
        }, a.delayMs);
        timers.add(t);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
