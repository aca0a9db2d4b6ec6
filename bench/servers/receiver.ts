// The notification receiver of the benchmark (its own process, so load generation cannot delay receipt):
// answers every POST with 200 and records, per notified entity, receipt time minus the update's sentAt.
// The harness drives it over IPC (reset, report). Prints "listening <url>".
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Samples } from '../lib/stats.ts';
import { nowMs, type ReceiverCommand, type ReceiverReport } from './receiver-protocol.ts';

let samples = new Samples();
let notifications = 0;
let malformed = 0;

function record(raw: string, receivedAt: number): void {
  try {
    const body = JSON.parse(raw) as { data?: unknown };
    if (!Array.isArray(body.data)) throw new Error('no data');
    for (const item of body.data as unknown[]) {
      const sentAt = typeof item === 'object' && item !== null ? (item as Record<string, unknown>).sentAt : undefined;
      if (typeof sentAt === 'number') samples.add(receivedAt - sentAt);
      else malformed++;
    }
  } catch {
    malformed++;
  }
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const receivedAt = nowMs();
    notifications++;
    res.writeHead(200, { 'content-length': '0' });
    res.end();
    record(Buffer.concat(chunks).toString('utf8'), receivedAt);
  });
});
server.keepAliveTimeout = 60_000;

process.on('message', (message: ReceiverCommand) => {
  if (message.cmd === 'reset') {
    samples = new Samples();
    notifications = 0;
    malformed = 0;
    process.send?.({ ok: true });
  } else if (message.cmd === 'report') {
    const report: ReceiverReport = { notifications, samples: samples.count, malformed, latencyMs: samples.summary() };
    process.send?.(report);
  }
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
// The harness going away must not leave the receiver behind.
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
