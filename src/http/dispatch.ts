// The request pipeline shared by every NGSI-LD operation (GS CIM 009 §6.3), in the spec's order of checks:
// 411 → 415/406 → URL parameters → tenant existence → body syntax → @context → the operation itself.
import type { IncomingHttpHeaders } from 'node:http';
import { NgsiError, badRequestData, invalidRequest } from '../core/errors.ts';
import { isJsonObject, type JsonValue } from '../core/json.ts';
import type { RequestContext } from '../core/jsonld/term-map.ts';
import { isAbsoluteUri } from '../core/names.ts';
import { parseTenant, type TenantId } from '../core/tenant.ts';
import { contextLinkValue, contextUrlFromLink } from './link-header.ts';
import {
  GEO_JSON_TYPE,
  JSON_TYPE,
  LD_JSON_TYPE,
  MERGE_PATCH_TYPE,
  mediaTypeOf,
  selectResponseType,
  type ResponseType,
} from './media-types.ts';
import type { HttpMethod, OperationResponse, OperationSpec } from './operation.ts';
import { parseQueryString } from './query-params.ts';
import { checkAttrName, checkEntityId } from './path-ids.ts';

export interface DispatchDeps {
  resolveContext(userContext: JsonValue | undefined): Promise<RequestContext>;
  ensureContextUrl(rc: RequestContext): Promise<string>;
  tenantExists(tenant: TenantId): Promise<boolean>;
}

export interface RawRequest {
  method: HttpMethod;
  headers: IncomingHttpHeaders;
  rawQuery: string;
  path: Record<string, string>;
  rawBody: string | undefined;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

const OFFERS: Record<OperationSpec['offers'], readonly ResponseType[]> = {
  ngsi: [JSON_TYPE, LD_JSON_TYPE],
  'ngsi-geo': [JSON_TYPE, LD_JSON_TYPE, GEO_JSON_TYPE],
  json: [JSON_TYPE, LD_JSON_TYPE],
};

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function problemResponse(err: NgsiError): RawResponse {
  return {
    status: err.status,
    headers: { 'content-type': JSON_TYPE },
    body: JSON.stringify(err.toProblem()),
  };
}

/** Runs one operation; every failure becomes a ProblemDetails response. */
export async function dispatch(spec: OperationSpec, req: RawRequest, deps: DispatchDeps): Promise<RawResponse> {
  const tenantHeader = header(req.headers, 'ngsild-tenant');
  const echo: Record<string, string> = tenantHeader !== undefined ? { 'ngsild-tenant': tenantHeader } : {};
  try {
    const res = await run(spec, req, deps);
    return { ...res, headers: { ...res.headers, ...echo } };
  } catch (err) {
    if (!(err instanceof NgsiError)) throw err;
    const res = problemResponse(err);
    const extra: Record<string, string> = {};
    if (err.status === 415 && req.method === 'PATCH') {
      extra['accept-patch'] = `${JSON_TYPE}, ${LD_JSON_TYPE}, ${MERGE_PATCH_TYPE}`;
    }
    return { ...res, headers: { ...res.headers, ...extra, ...echo } };
  }
}

async function run(spec: OperationSpec, req: RawRequest, deps: DispatchDeps): Promise<RawResponse> {
  const hasBodyMethod = req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT';
  if (hasBodyMethod && req.headers['content-length'] === undefined) {
    return { status: 411, headers: {} };
  }

  // 415: body media type (a missing Content-Type is treated as JSON).
  let bodyType: string | undefined;
  if (hasBodyMethod) {
    bodyType = mediaTypeOf(header(req.headers, 'content-type')) ?? JSON_TYPE;
    const allowed = bodyType === JSON_TYPE || bodyType === LD_JSON_TYPE || (req.method === 'PATCH' && bodyType === MERGE_PATCH_TYPE);
    if (!allowed) {
      throw new NgsiError('InvalidRequest', `Content-Type "${bodyType}" is not supported here`, 'Unsupported media type', 415);
    }
  }
  // 406: response media type.
  const responseType = selectResponseType(header(req.headers, 'accept'), OFFERS[spec.offers]);
  if (responseType === undefined) {
    throw new NgsiError(
      'InvalidRequest',
      `None of the acceptable media types is available; available: ${OFFERS[spec.offers].join(', ')}`,
      'Not acceptable',
      406,
    );
  }

  // URL parameters: unknown names are InvalidRequest.
  const query = parseQueryString(req.rawQuery);
  for (const name of query.names()) {
    if (!spec.params.includes(name)) throw invalidRequest(`Unknown URL parameter "${name}"`, 'Unknown parameter');
  }

  // Path identifiers are validated before any lookup (§6.3).
  if ('entityId' in req.path) checkEntityId(req.path.entityId);
  if ('attrId' in req.path) checkAttrName(req.path.attrId);
  if ('instanceId' in req.path && !isAbsoluteUri(req.path.instanceId)) {
    throw badRequestData(`The instance id "${req.path.instanceId}" is not an absolute URI`, 'Invalid instance id');
  }

  const tenant = parseTenant(header(req.headers, 'ngsild-tenant'));
  if (!spec.createsTenant && !(await deps.tenantExists(tenant))) {
    throw new NgsiError('NonexistentTenant', `Tenant "${tenant}" does not exist`);
  }

  // Body syntax and kind.
  let body: JsonValue | undefined;
  if (spec.body !== undefined) {
    const raw = req.rawBody ?? '';
    if (raw.trim() === '') throw invalidRequest('The request body is empty', 'Empty body');
    try {
      body = JSON.parse(raw) as JsonValue;
    } catch (e) {
      throw invalidRequest(`The request body is not valid JSON: ${(e as Error).message}`, 'Invalid JSON');
    }
    if (spec.body === 'object' && !isJsonObject(body)) throw invalidRequest('The request body must be a JSON object', 'Wrong JSON kind');
    if (spec.body === 'array' && !Array.isArray(body)) throw invalidRequest('The request body must be a JSON array', 'Wrong JSON kind');
  }

  // @context: from Link for JSON, from the body for JSON-LD (§6.3.5).
  const linkUrl = contextUrlFromLink(header(req.headers, 'link'));
  let userContext: JsonValue | undefined = linkUrl;
  if (spec.body !== undefined && spec.bodyContext !== false && bodyType !== undefined) {
    if (bodyType === LD_JSON_TYPE) {
      if (linkUrl !== undefined) throw badRequestData('A Link header must not be sent with an application/ld+json body', 'Invalid @context');
      if (isJsonObject(body)) {
        if (!('@context' in body)) throw badRequestData('An application/ld+json body must carry an @context member', 'Missing @context');
        userContext = body['@context'];
      }
    } else if (isJsonObject(body) && '@context' in body) {
      throw badRequestData('An application/json body must not carry an @context member; use the Link header', 'Invalid @context');
    }
  }
  const context = await deps.resolveContext(userContext);

  const res = await spec.handle({ tenant, path: req.path, query, body, context, bodyType, responseType, headers: req.headers });
  return render(res, context, responseType, req.headers, deps);
}

async function render(
  res: OperationResponse,
  context: RequestContext,
  responseType: ResponseType,
  headers: IncomingHttpHeaders,
  deps: DispatchDeps,
): Promise<RawResponse> {
  const out: Record<string, string> = { ...res.headers };
  if (res.body === undefined) return { status: res.status, headers: out };
  const placement = res.context ?? 'none';
  if (placement === 'none') {
    out['content-type'] = JSON_TYPE;
    return { status: res.status, headers: out, body: JSON.stringify(res.body) };
  }
  out['content-type'] = responseType;
  const serialize = res.serialize ?? JSON.stringify;
  let body = res.body;
  const preferJsonBody = /(^|[,;\s])body=json\b/i.test(header(headers, 'prefer') ?? '');
  const inBody = responseType === LD_JSON_TYPE || (responseType === GEO_JSON_TYPE && !preferJsonBody);
  if (inBody) {
    const ctx = context.value;
    if (placement === 'each' && Array.isArray(body)) {
      body = body.map((e) => (isJsonObject(e) ? { ...e, '@context': ctx } : e));
    } else if (isJsonObject(body)) {
      body = { ...body, '@context': ctx };
    }
  } else {
    const url = await deps.ensureContextUrl(context);
    out.link = out.link ? `${out.link}, ${contextLinkValue(url)}` : contextLinkValue(url);
  }
  return { status: res.status, headers: out, body: serialize(body) };
}
