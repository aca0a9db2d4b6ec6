// The typed boundary between the HTTP dispatcher and the thin route files: what an operation declares
// and what it receives and returns. Route files build these; no HTTP framework types leak past here.
import type { IncomingHttpHeaders } from 'node:http';
import type { JsonValue } from '../core/json.ts';
import type { RequestContext } from '../core/jsonld/term-map.ts';
import type { TenantId } from '../core/tenant.ts';
import type { QueryParams } from './query-params.ts';
import type { ResponseType } from './media-types.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface OperationRequest {
  tenant: TenantId;
  /** Path parameters, percent-decoded. */
  path: Record<string, string>;
  query: QueryParams;
  /** Parsed JSON body (checked against the declared kind), undefined for bodiless operations. */
  body: JsonValue | undefined;
  /** The request's resolved @context (core only when none was given). */
  context: RequestContext;
  /** Media type of the request body (json, ld+json or merge-patch+json). */
  bodyType: string | undefined;
  responseType: ResponseType;
  headers: IncomingHttpHeaders;
}

/** Where the request's @context goes in a response body (§6.3.5). */
export type ContextPlacement = 'none' | 'object' | 'each' | 'feature-collection';

export interface OperationResponse {
  status: number;
  headers?: Record<string, string>;
  body?: JsonValue;
  /** 'none' for bodies that are not NGSI-LD data (207 results, plain JSON): always application/json. */
  context?: ContextPlacement;
  /** Writes the final body (after @context placement) as JSON text; default JSON.stringify. */
  serialize?: (body: JsonValue) => string;
}

export interface OperationSpec {
  /** The URL parameters this operation accepts; any other → 400 InvalidRequest (§6.3.20). */
  params: readonly string[];
  /** The JSON kind the body must have; absent = the operation takes no body. */
  body?: 'object' | 'array' | 'any';
  /** Whether the body may carry an @context (NGSI-LD payloads) or is plain JSON (e.g. /jsonldContexts). */
  bodyContext?: boolean;
  /** Response media types offered; geo+json only on retrieve and query (§6.3.6). */
  offers: 'ngsi' | 'ngsi-geo' | 'json';
  /** Creating operations make a new tenant (§4.14); all others answer NonexistentTenant first. */
  createsTenant?: boolean;
  handle(req: OperationRequest): Promise<OperationResponse>;
}

export type RouteTable = Record<string, Partial<Record<HttpMethod, OperationSpec>>>;
