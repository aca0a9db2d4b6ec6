// Outbound port of distributed operations (GS CIM 009 §4.3.6, §5.12; guide §16.3): one HTTP request to a
// registered context source, answered with a classified outcome — never a thrown error, never a hang.
import type { JsonValue } from '../core/json.ts';

export type ForwardMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface ForwardRequest {
  method: ForwardMethod;
  /** Absolute URL, query string included. */
  url: string;
  headers: Record<string, string>;
  /** Sent as JSON when present. */
  body?: JsonValue;
  /** Content-Type of the body (default application/json; application/ld+json when elements carry @context). */
  contentType?: string;
  /** Bound on the whole exchange (connect, send, full answer read). */
  timeoutMs: number;
}

/**
 * What a source did with the request:
 * - `answered`: an HTTP status with a body that is JSON (or empty: `body` undefined);
 * - `unusable`: it answered, but the body is not JSON or larger than accepted (never merged, warning 111);
 * - `failed`: no answer (refused by the destination policy, unreachable, timed out, connection broken).
 */
export type ForwardOutcome =
  | { kind: 'answered'; status: number; headers: Record<string, string>; body: JsonValue | undefined }
  | { kind: 'unusable'; status: number; reason: string }
  | { kind: 'failed'; reason: string };

export interface Forwarder {
  send(request: ForwardRequest): Promise<ForwardOutcome>;
  close(): Promise<void>;
}
