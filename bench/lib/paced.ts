// A fixed-rate HTTP load: requests are started evenly over time (checked every millisecond), on a keep-alive
// pool of `connections` sockets; a request that finds every socket busy waits in the pool, and that wait
// counts in its latency. Used where a constant arrival rate matters (notification latency): autocannon's
// overallRate is a per-second quota each connection sends back to back at the start of every second, which
// turns 2,000/s into bursts. When the server falls behind, at most `maxOutstanding` requests wait: the
// ones due beyond that are not sent (counted as shed), so an overloaded run still ends on time.
import { Agent, request } from 'node:http';
import type { Measurement, Method, NextRequest } from './cannon.ts';
import { Samples } from './stats.ts';

export interface PacedSpec {
  origin: string;
  method: Method;
  headers: Record<string, string>;
  ratePerS: number;
  durationS: number;
  connections: number;
  /** Builds request `seq` at the moment it is sent. */
  next: (seq: number) => NextRequest;
  timeoutMs?: number;
  /** Requests sent but not answered yet, at most (default: half a second's worth). */
  maxOutstanding?: number;
}

export interface PacedMeasurement extends Measurement {
  /** Requests due that were not sent because maxOutstanding were already waiting. */
  shed: number;
}

export async function runPaced(spec: PacedSpec): Promise<PacedMeasurement> {
  const url = new URL(spec.origin);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const total = Math.round(spec.ratePerS * spec.durationS);
  const samples = new Samples();
  const statusCodes: Record<string, number> = {};
  let non2xx = 0;
  let errors = 0;
  const maxOutstanding = spec.maxOutstanding ?? Math.max(spec.connections, Math.ceil(spec.ratePerS / 2));
  let sent = 0;
  let shed = 0;
  let finished = 0;
  const t0 = performance.now();
  let lastDone = t0;

  await new Promise<void>((resolve) => {
    const settle = () => {
      finished++;
      lastDone = performance.now();
      if (finished + shed === total) resolve();
    };
    const send = () => {
      const seq = sent++;
      const started = performance.now();
      const { path, body } = spec.next(seq);
      const payload = body === undefined ? undefined : Buffer.from(body);
      // A request settles once: an error after its response ended must not count it twice.
      let settled = false;
      const once = (record: () => void) => {
        if (settled) return;
        settled = true;
        record();
        settle();
      };
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: spec.method,
          path,
          headers: payload === undefined ? spec.headers : { ...spec.headers, 'content-length': String(payload.length) },
          timeout: spec.timeoutMs ?? 30_000,
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            once(() => {
              samples.add(performance.now() - started);
              const status = res.statusCode ?? 0;
              statusCodes[status] = (statusCodes[status] ?? 0) + 1;
              if (status < 200 || status > 299) non2xx++;
            }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => once(() => errors++));
      req.end(payload);
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * spec.ratePerS));
      while (sent + shed < due) {
        if (sent - finished >= maxOutstanding) shed++;
        else send();
      }
      if (sent + shed < total) setTimeout(tick, 1);
      else if (finished + shed === total) resolve();
    };
    if (total === 0) resolve();
    else tick();
  });
  agent.destroy();
  const durationS = (lastDone - t0) / 1000;
  return { requests: samples.count, durationS, rps: samples.count / durationS, latencyMs: samples.summary(), non2xx, errors, statusCodes, shed };
}
