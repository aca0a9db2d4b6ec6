// HTTP(S) notification transport (GS CIM 009 §5.3.1; guide §14.4): one POST per notification over keep-alive
// connections, success = any 2xx, redirects never followed, timeouts and a destination policy enforced.
//
// Success is any 2xx: the spec text says "200 OK", but receivers commonly answer 201/202/204 and every
// broker we know accepts them. node:http with keep-alive agents is used rather than fetch because it lets us
// check every address a host name resolves to (custom `lookup`) and reuses one connection pool per origin.
import http from 'node:http';
import https from 'node:https';
import { checkDestination, type DestinationPolicy } from '../core/destination-policy.ts';
import { DestinationRefused, guardedLookup } from './guarded-lookup.ts';
import { deliveryFailure, type DeliveryMessage, type DeliveryOutcome, type NotificationTransport } from '../ports/notifier.ts';

export interface HttpTransportOptions {
  /** Destinations refused before connecting and after resolving (DNS answers included). */
  policy?: DestinationPolicy;
  /** Upper bound for establishing the TCP (and TLS) connection; the request timeout bounds the whole exchange. */
  connectTimeoutMs?: number;
  /** Parallel connections per origin. */
  maxSocketsPerOrigin?: number;
  /** Idle keep-alive connections are closed after this (below the usual 5 s server-side idle timeout). */
  idleSocketMs?: number;
  userAgent?: string;
}

/** Headers the transport owns: a message cannot set them. */
const TRANSPORT_HEADERS = new Set(['content-type', 'content-length', 'host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'proxy-connection']);

interface Attempt {
  status?: number;
  error?: Error;
  timedOut?: 'connect' | 'request';
  reusedSocket: boolean;
}

function classifyStatus(status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return { ok: true };
  if (status >= 300 && status < 400) return deliveryFailure(`HTTP ${status} (redirects are not followed)`, false);
  // 408 and 429 and 5xx are the receiver's temporary trouble; other 4xx reject this very request.
  const retryable = status >= 500 || status === 408 || status === 425 || status === 429;
  return deliveryFailure(`HTTP ${status}`, retryable);
}

export function createHttpTransport(options: HttpTransportOptions = {}): NotificationTransport {
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSocketsPerOrigin ?? 32,
    maxFreeSockets: options.maxSocketsPerOrigin ?? 32,
    timeout: options.idleSocketMs ?? 4000,
    scheduling: 'lifo' as const,
  };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const lookup = options.policy === undefined ? undefined : guardedLookup(options.policy);
  let closed = false;

  function attempt(url: URL, headers: Record<string, string | number>, payload: Buffer, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
      const secure = url.protocol === 'https:';
      let settled = false;
      let reusedSocket = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (a: Omit<Attempt, 'reusedSocket'>) => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        resolve({ ...a, reusedSocket });
      };
      let req: http.ClientRequest;
      try {
        req = (secure ? https : http).request(url, {
          method: 'POST',
          agent: secure ? agents.https : agents.http,
          headers,
          ...(lookup === undefined ? {} : { lookup }),
        });
      } catch (e) {
        finish({ error: e instanceof Error ? e : new Error(String(e)) });
        return;
      }
      const abort = (kind: 'connect' | 'request') => {
        finish({ timedOut: kind });
        req.destroy();
      };
      timers.push(setTimeout(() => abort('request'), timeoutMs));
      req.on('socket', (socket) => {
        reusedSocket = req.reusedSocket;
        if (socket.connecting) {
          const t = setTimeout(() => abort('connect'), Math.min(connectTimeoutMs, timeoutMs));
          timers.push(t);
          socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(t));
        }
      });
      req.on('error', (error) => finish({ error }));
      req.on('response', (res) => {
        res.on('error', (error) => finish({ error }));
        // Drain the body so the connection goes back to the pool.
        res.on('end', () => finish({ status: res.statusCode ?? 0 }));
        res.resume();
      });
      req.end(payload);
    });
  }

  return {
    async deliver(endpoint: string, message: DeliveryMessage, opts: { timeoutMs: number }): Promise<DeliveryOutcome> {
      if (closed) return deliveryFailure('the HTTP notifier is closed', true);
      const refusal = options.policy === undefined ? null : checkDestination(options.policy, endpoint);
      if (refusal !== null) return deliveryFailure(refusal, false);
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        return deliveryFailure(`endpoint ${endpoint} is not an absolute URI`, false);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return deliveryFailure(`scheme ${url.protocol} is not HTTP`, false);
      const payload = Buffer.from(JSON.stringify(message.body), 'utf8');
      const headers: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(message.headers)) if (!TRANSPORT_HEADERS.has(k.toLowerCase())) headers[k] = v;
      headers['Content-Type'] = message.contentType;
      headers['Content-Length'] = payload.byteLength;
      if (options.userAgent !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'user-agent')) headers['User-Agent'] = options.userAgent;

      const started = Date.now();
      let a = await attempt(url, headers, payload, opts.timeoutMs);
      // A kept-alive connection the server closed meanwhile fails before any answer: resend once on a fresh one
      // (Node's documented pattern; receivers drop repeats by the notification id anyway).
      const code = (a.error as NodeJS.ErrnoException | undefined)?.code;
      if (a.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
        const left = opts.timeoutMs - (Date.now() - started);
        if (left > 0) a = await attempt(url, headers, payload, left);
      }
      if (a.status !== undefined) return classifyStatus(a.status);
      if (a.timedOut === 'connect') return deliveryFailure(`no connection to ${url.host} within ${Math.min(connectTimeoutMs, opts.timeoutMs)} ms`, true);
      if (a.timedOut === 'request') return deliveryFailure(`no answer from ${url.host} within ${opts.timeoutMs} ms`, true);
      const err = a.error ?? new Error('unknown error');
      if (err instanceof DestinationRefused) return deliveryFailure(err.message, false);
      if (err instanceof TypeError || (err as NodeJS.ErrnoException).code === 'ERR_INVALID_CHAR' || (err as NodeJS.ErrnoException).code === 'ERR_INVALID_HTTP_TOKEN') {
        return deliveryFailure(`request not sendable: ${err.message}`, false);
      }
      const errCode = (err as NodeJS.ErrnoException).code;
      return deliveryFailure(`${errCode ?? err.name}: ${err.message}`, true);
    },
    async close(): Promise<void> {
      closed = true;
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
