// Notification latency: 100 subscriptions (one per station, each watching `sentAt`) to a local receiver
// process; updates at a fixed rate spread over those stations, each carrying its send time in `sentAt`;
// the receiver records receipt time − sentAt per notified entity (update sent → notification received).
import { once } from 'node:events';
import { runPaced } from '../lib/paced.ts';
import { startReceiver, type Service } from '../lib/processes.ts';
import { stationId } from '../lib/entities.ts';
import { nowMs, type ReceiverCommand, type ReceiverReport } from '../servers/receiver-protocol.ts';
import { API, JSON_BODY, measured, type Workload, type WorkloadContext } from './workload.ts';

const SUBSCRIPTION_PREFIX = 'urn:ngsi-ld:Subscription:bench-';

async function ask<T>(receiver: Service, command: ReceiverCommand): Promise<T> {
  const reply = once(receiver.child, 'message') as Promise<[T]>;
  receiver.child.send(command);
  const [message] = await reply;
  return message;
}

function updateBody(): string {
  return `{"sentAt":{"type":"Property","value":${nowMs()}}}`;
}

async function call(ctx: WorkloadContext, method: string, path: string, body?: string): Promise<number> {
  const res = await fetch(`${ctx.origin}${API}${path}`, { method, headers: body === undefined ? {} : JSON_BODY, body });
  await res.arrayBuffer();
  return res.status;
}

/** Waits until the receiver has `expected` samples, or nothing arrived for `quietMs`, or `deadlineMs` passed. */
async function drain(receiver: Service, expected: number, quietMs: number, deadlineMs: number): Promise<ReceiverReport> {
  const end = Date.now() + deadlineMs;
  let report = await ask<ReceiverReport>(receiver, { cmd: 'report' });
  let lastCount = report.samples;
  let lastChange = Date.now();
  while (report.samples < expected && Date.now() < end && Date.now() - lastChange < quietMs) {
    await new Promise((r) => setTimeout(r, 50));
    report = await ask<ReceiverReport>(receiver, { cmd: 'report' });
    if (report.samples !== lastCount) {
      lastCount = report.samples;
      lastChange = Date.now();
    }
  }
  return report;
}

export const notificationLatency: Workload = {
  name: 'notify',
  title: 'notification latency, 100 subs',
  basis: 'none',
  target: 'kend',
  needsData: true,
  async run(ctx) {
    const { notifyRate: rate, notifyEndpoints: endpoints, connections, durationS, warmupS } = ctx.options;
    const subs = Math.min(ctx.options.notifySubscriptions, ctx.datasetSize);
    const receiver = await startReceiver();
    try {
      // The watched attribute exists before the subscriptions do, so every measured update is an update.
      for (let i = 0; i < subs; i++) {
        const status = await call(ctx, 'PATCH', `/entities/${stationId(i)}/attrs`, updateBody());
        if (status !== 204) return { status: 'failed', reason: `priming PATCH answered ${status}` };
      }
      for (let i = 0; i < subs; i++) {
        const subscription = {
          id: `${SUBSCRIPTION_PREFIX}${i}`,
          type: 'Subscription',
          entities: [{ id: stationId(i), type: 'WeatherStation' }],
          watchedAttributes: ['sentAt'],
          notification: { attributes: ['sentAt'], format: 'keyValues', endpoint: { uri: `${receiver.origin}/notify/${i % endpoints}`, accept: 'application/json' } },
        };
        const status = await call(ctx, 'POST', '/subscriptions', JSON.stringify(subscription));
        if (status === 404 || status === 405 || status === 501) return { status: 'skipped', reason: `subscriptions not available (POST /subscriptions answered ${status})` };
        if (status !== 201) return { status: 'failed', reason: `POST /subscriptions answered ${status}` };
      }
      const drive = (seconds: number) =>
        runPaced({
          origin: ctx.origin,
          method: 'PATCH',
          headers: JSON_BODY,
          ratePerS: rate,
          durationS: seconds,
          connections,
          next: (seq) => ({ path: `${API}/entities/${stationId(seq % subs)}/attrs`, body: updateBody() }),
        });
      if (warmupS > 0) {
        ctx.log(`  warm-up ${warmupS} s at ${rate}/s`);
        const w = await drive(warmupS);
        await drain(receiver, w.requests - w.non2xx, 2000, 30_000);
      }
      await ask(receiver, { cmd: 'reset' });
      const m = await drive(durationS);
      const delivered = m.requests - m.non2xx;
      const report = await drain(receiver, delivered, 5000, 60_000);
      const missing = Math.max(0, delivered - report.samples);
      const { shed, ...http } = m;
      const up = http.latencyMs;
      const behind = shed > 0 ? `, ${shed.toLocaleString('en-US')} not sent (Kend fell behind: over ${Math.ceil(rate / 2)} waiting)` : '';
      return measured(
        { ...http, latencyMs: report.latencyMs },
        {
          note:
            `p = update→notification; ${m.requests.toLocaleString('en-US')} updates at ${rate}/s offered${behind}, ` +
            `${report.samples.toLocaleString('en-US')} notified, ${missing} missing; PATCH p50/p99 ${up.p50.toFixed(1)}/${up.p99.toFixed(1)} ms`,
          extra: { targetRatePerS: rate, subscriptions: subs, endpoints, updateLatencyMs: up, shed, receiver: report, missing },
        },
      );
    } finally {
      for (let i = 0; i < subs; i++) await call(ctx, 'DELETE', `/subscriptions/${SUBSCRIPTION_PREFIX}${i}`).catch(() => 0);
      await receiver.stop();
    }
  },
};
