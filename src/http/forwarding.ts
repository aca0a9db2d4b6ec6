// What distributed operations need of an HTTP request (GS CIM 009 §6.3.17, §6.3.18): local=true, the Via
// header, the client's @context as a Link, the other headers for contextSourceInfo `urn:ngsi-ld:request`;
// and the NGSILD-Warning header of a partial answer.
import type { IncomingHttpHeaders } from 'node:http';
import { warningHeader, type SourceWarning } from '../core/federation/warning.ts';
import type { ForwardContext } from '../services/federation.ts';
import { contextLinkValue } from './link-header.ts';
import type { OperationRequest } from './operation.ts';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function forwardContext(req: OperationRequest, local: boolean): ForwardContext {
  const via = header(req.headers, 'via');
  const rawLink = header(req.headers, 'link');
  const link = rawLink ?? (!req.context.isCoreOnly && req.context.url !== undefined ? contextLinkValue(req.context.url) : undefined);
  return {
    tenant: req.tenant,
    terms: req.context.terms,
    local,
    headers: {
      ...(via !== undefined ? { via } : {}),
      ...(link !== undefined ? { link } : {}),
      get: (name) => header(req.headers, name),
    },
  };
}

/** `{ 'ngsild-warning': ... }` when sources failed, else nothing. */
export function warningHeaders(warnings: readonly SourceWarning[]): Record<string, string> {
  const value = warningHeader(warnings);
  return value === undefined ? {} : { 'ngsild-warning': value };
}
