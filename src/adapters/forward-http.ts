// HTTP client of distributed operations (GS CIM 009 §5.12, §6.3.17; guide §16.3): node:http with keep-alive,
// the destination policy checked before connecting and on every address a host name resolves to, one timeout
// over the whole exchange, the answer read with a size cap, redirects never followed. Every failure becomes
// a ForwardOutcome: a misbehaving source can make an answer partial, never crash or stall it.
import http from 'node:http';
import https from 'node:https';
import { checkDestination, type DestinationPolicy } from '../core/destination-policy.ts';
import { DestinationRefused, guardedLookup } from './guarded-lookup.ts';
import type { JsonValue } from '../core/json.ts';
import type { ForwardOutcome, ForwardRequest, Forwarder } from '../ports/forwarder.ts';

export interface HttpForwarderOptions {
  policy?: DestinationPolicy;
  /** Largest answer body read; a larger one is `unusable`. */
  maxBytes: number;
  maxSocketsPerOrigin?: number;
}

function describe(err: Error): string {
  if (err instanceof DestinationRefused) return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined ? `${code}: ${err.message}` : err.message;
}

export function createHttpForwarder(options: HttpForwarderOptions): Forwarder {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSocketsPerOrigin ?? 32, timeout: 4000, scheduling: 'lifo' as const };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const lookup = options.policy === undefined ? undefined : guardedLookup(options.policy);
  let closed = false;

  function exchange(url: URL, request: ForwardRequest): Promise<ForwardOutcome> {
    return new Promise((resolve) => {
      const secure = url.protocol === 'https:';
      const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body), 'utf8');
      const headers: Record<string, string | number> = { ...request.headers };
      if (payload !== undefined) {
        headers['content-type'] = request.contentType ?? 'application/json';
        headers['content-length'] = payload.byteLength;
      }
      let settled = false;
      let req: http.ClientRequest | undefined;
      const finish = (outcome: ForwardOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        finish({ kind: 'failed', reason: `no complete answer from ${url.host} within ${request.timeoutMs} ms` });
        req?.destroy();
      }, request.timeoutMs);
      try {
        req = (secure ? https : http).request(url, {
          method: request.method,
          agent: secure ? agents.https : agents.http,
          headers,
          ...(lookup === undefined ? {} : { lookup }),
        });
      } catch (e) {
        finish({ kind: 'failed', reason: `request not sendable: ${e instanceof Error ? e.message : String(e)}` });
        return;
      }
      const r = req;
      r.on('error', (err) => finish({ kind: 'failed', reason: describe(err) }));
      r.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (c: Buffer) => {
          total += c.byteLength;
          if (total > options.maxBytes) {
            finish({ kind: 'unusable', status, reason: `answer larger than ${options.maxBytes} bytes` });
            r.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => finish({ kind: 'failed', reason: describe(err) }));
        res.on('end', () => {
          const responseHeaders: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') responseHeaders[k] = v;
          const text = Buffer.concat(chunks).toString('utf8');
          if (text.trim() === '') return finish({ kind: 'answered', status, headers: responseHeaders, body: undefined });
          try {
            finish({ kind: 'answered', status, headers: responseHeaders, body: JSON.parse(text) as JsonValue });
          } catch {
            finish({ kind: 'unusable', status, reason: 'answer is not valid JSON' });
          }
        });
      });
      r.end(payload);
    });
  }

  return {
    async send(request: ForwardRequest): Promise<ForwardOutcome> {
      if (closed) return { kind: 'failed', reason: 'the forwarder is closed' };
      const refusal = options.policy === undefined ? null : checkDestination(options.policy, request.url);
      if (refusal !== null) return { kind: 'failed', reason: refusal };
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return { kind: 'failed', reason: `${request.url} is not an absolute URL` };
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return { kind: 'failed', reason: `scheme ${url.protocol} is not HTTP` };
      return exchange(url, request);
    },
    async close(): Promise<void> {
      closed = true;
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
