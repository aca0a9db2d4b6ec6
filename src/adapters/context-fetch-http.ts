// DocumentFetcher over Node's global fetch: timeout, streaming size cap, http(s) only (GS CIM 009 §6.3.5).
import { NgsiError, badRequestData } from '../core/errors.ts';
import type { JsonValue } from '../core/json.ts';
import type { DocumentFetcher, FetchLimits } from '../ports/context-loader.ts';

const unavailable = (url: string, why: string): NgsiError =>
  new NgsiError('LdContextNotAvailable', `@context ${url} could not be downloaded: ${why}`);

/** Reads the body chunk by chunk and gives up as soon as it grows past `maxBytes`. */
async function readCapped(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw unavailable(url, `document larger than ${maxBytes} bytes`);
  }
  if (res.body === null) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw unavailable(url, `document larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
  }
  return String(e);
}

export function createHttpDocumentFetcher(): DocumentFetcher {
  return {
    async fetchJson(url: string, opts: FetchLimits): Promise<JsonValue> {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw unavailable(url, 'not an absolute URL');
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        throw unavailable(url, `unsupported scheme ${parsed.protocol}`);
      }
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
      let bytes: Uint8Array;
      try {
        const res = await fetch(parsed, {
          signal: controller.signal,
          redirect: 'follow',
          headers: { accept: 'application/ld+json, application/json;q=0.9, */*;q=0.1' },
        });
        if (!res.ok) {
          await res.body?.cancel().catch(() => undefined);
          throw unavailable(url, `HTTP status ${res.status}`);
        }
        bytes = await readCapped(res, url, opts.maxBytes);
      } catch (e) {
        if (e instanceof NgsiError) throw e;
        if (controller.signal.aborted) throw unavailable(url, `no complete answer within ${opts.timeoutMs} ms`);
        throw unavailable(url, describe(e));
      } finally {
        clearTimeout(timer);
      }
      try {
        return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as JsonValue;
      } catch {
        throw badRequestData(`The document at ${url} is not valid JSON, so it is not a JSON-LD @context`);
      }
    },
  };
}
