// Runs one load with autocannon (programmatic API) over loopback and measures it: every response's
// latency is recorded (exact p50/p95/p99; autocannon's own histogram has no p95), status codes counted.
import autocannon, { type AutocannonRequest } from 'autocannon';
import { Samples, type LatencySummary } from './stats.ts';

export type Method = 'GET' | 'POST' | 'PATCH';

export interface Measurement {
  /** Completed responses (any status). */
  requests: number;
  durationS: number;
  rps: number;
  latencyMs: LatencySummary;
  non2xx: number;
  /** Connection errors and timeouts (requests without a response). */
  errors: number;
  statusCodes: Record<string, number>;
}

export interface NextRequest {
  path: string;
  body?: string;
}

export interface LoadSpec {
  /** http://127.0.0.1:port */
  origin: string;
  method: Method;
  headers?: Record<string, string>;
  /** Produces each request (called once per request sent, so ids and bodies can be unique). */
  next: () => NextRequest;
  connections: number;
  /** Run for this many seconds… */
  durationS?: number;
  /** …or send exactly this many requests. */
  amount?: number;
  /** Seconds a request may wait for its response. */
  timeoutS?: number;
  /** With `amount`: stop (abandoning what is in flight) if the run takes longer than this. */
  maxDurationS?: number;
  /** Called once per response, e.g. for progress. */
  onResponse?: (status: number) => void;
}

/** What runs have measured so far: several runs can add up into one measurement. */
export class Tally {
  private readonly samples = new Samples();
  private readonly statusCodes: Record<string, number> = {};
  private non2xx = 0;
  private errors = 0;
  private durationS = 0;

  record(status: number, latencyMs: number): void {
    this.samples.add(latencyMs);
    this.statusCodes[status] = (this.statusCodes[status] ?? 0) + 1;
    if (status < 200 || status > 299) this.non2xx++;
  }

  addRun(durationS: number, errors: number): void {
    this.durationS += durationS;
    this.errors += errors;
  }

  get seconds(): number {
    return this.durationS;
  }

  measurement(): Measurement {
    const n = this.samples.count;
    return {
      requests: n,
      durationS: this.durationS,
      rps: this.durationS > 0 ? n / this.durationS : 0,
      latencyMs: this.samples.summary(),
      non2xx: this.non2xx,
      errors: this.errors,
      statusCodes: { ...this.statusCodes },
    };
  }
}

/** Runs one load; its responses are added to `tally` (a fresh one by default), whose measurement is returned. */
export async function runLoad(spec: LoadSpec, tally = new Tally()): Promise<Measurement> {
  // setupRequest runs for every request built, the first of each connection included, so every next()
  // result is sent (with `amount`, exactly `amount` of them).
  const request: AutocannonRequest = {
    method: spec.method,
    path: '/',
    headers: spec.headers ?? {},
    setupRequest: (req) => {
      const n = spec.next();
      return { ...req, path: n.path, body: n.body };
    },
  };
  const started = performance.now();
  let lastResponseAt = started;
  const instance = autocannon({
    url: spec.origin,
    connections: spec.amount !== undefined ? Math.min(spec.connections, spec.amount) : spec.connections,
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.durationS ?? 10 }),
    timeout: spec.timeoutS ?? 30,
    // autocannon notices that a run is over only at its next sample (default every 1,000 ms): short runs
    // would each idle up to a second.
    sampleInt: 20,
    requests: [request],
  });
  const guard =
    spec.amount !== undefined && spec.maxDurationS !== undefined ? setTimeout(() => instance.stop(), spec.maxDurationS * 1000) : undefined;
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTimeMs: number) => {
    lastResponseAt = performance.now();
    tally.record(status, responseTimeMs);
    spec.onResponse?.(status);
  });
  const result = await instance;
  clearTimeout(guard);
  // autocannon notices the end of an `amount` run only at its next sample: time such a run to its last
  // response instead.
  tally.addRun(spec.amount !== undefined || result.duration <= 0 ? (lastResponseAt - started) / 1000 : result.duration, result.errors);
  return tally.measurement();
}
