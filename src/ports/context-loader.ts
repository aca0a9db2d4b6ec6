// Port for downloading remote JSON-LD @context documents (GS CIM 009 §5.5.7, §6.3.5; guide §4.4).
import type { JsonValue } from '../core/json.ts';

export interface FetchLimits {
  /** Whole download (connect, headers and body) must finish within this time. */
  timeoutMs: number;
  /** Largest body accepted; reading stops as soon as it is exceeded. */
  maxBytes: number;
}

export interface DocumentFetcher {
  /**
   * Downloads `url` and parses its body as JSON. Throws NgsiError LdContextNotAvailable (504) on a network
   * error, timeout, non-2xx status, over-size body or unsupported scheme, and BadRequestData when the body
   * is not JSON.
   */
  fetchJson(url: string, opts: FetchLimits): Promise<JsonValue>;
}
