// The HTTP adapter: builds the Fastify app for the NGSI-LD API from route tables (GS CIM 009 §6).
// Thin by design: every request goes through dispatch(); route files only map HTTP to services.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { NgsiError, badRequestData, notFound } from '../core/errors.ts';
import { dispatch, problemResponse, type DispatchDeps, type RawResponse } from './dispatch.ts';
import type { HttpMethod, RouteTable } from './operation.ts';

export const API_ROOT = '/ngsi-ld/v1';
const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export interface AppOptions {
  maxBodyBytes: number;
  logger: Logger;
  routes: RouteTable[];
  deps: DispatchDeps;
}

function send(reply: FastifyReply, res: RawResponse): FastifyReply {
  reply.code(res.status);
  for (const [k, v] of Object.entries(res.headers)) reply.header(k, v);
  // A Buffer keeps Fastify from appending "; charset=utf-8": clients compare Content-Type literally.
  return res.body === undefined ? reply.send() : reply.send(Buffer.from(res.body, 'utf8'));
}

function tenantEcho(req: FastifyRequest): Record<string, string> {
  const t = req.headers['ngsild-tenant'];
  return typeof t === 'string' ? { 'ngsild-tenant': t } : {};
}

export function createApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // No log line per request: at thousands of requests/s it costs more than it tells.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxBodyBytes,
    routerOptions: {
      ignoreTrailingSlash: true,
      maxParamLength: 2048,
      // Keep the raw query: NGSI-LD decodes it itself ("+" is not a space, parameter order matters).
      querystringParser: (s: string) => ({ raw: s }),
    },
    return503OnClosing: true,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  // Several route files may serve one path with different methods (e.g. /entities): merge them first.
  const merged: RouteTable = {};
  for (const table of options.routes) {
    for (const [path, ops] of Object.entries(table)) {
      for (const method of METHODS) {
        if (ops[method] === undefined) continue;
        if (merged[path]?.[method] !== undefined) throw new Error(`Two routes for ${method} ${path}`);
        merged[path] = { ...merged[path], [method]: ops[method] };
      }
    }
  }
  {
    for (const [path, ops] of Object.entries(merged)) {
      const allow = METHODS.filter((m) => ops[m] !== undefined);
      app.route({
        method: METHODS,
        url: API_ROOT + path,
        handler: async (req, reply) => {
          const spec = ops[req.method as HttpMethod];
          if (spec === undefined) {
            reply.header('allow', allow.join(', '));
            const err = new NgsiError('InvalidRequest', `${req.method} is not allowed on ${req.url.split('?')[0]}`, 'Method not allowed', 405);
            return send(reply, { ...problemResponse(err), headers: { ...problemResponse(err).headers, ...tenantEcho(req) } });
          }
          const res = await dispatch(
            spec,
            {
              method: req.method as HttpMethod,
              headers: req.headers,
              rawQuery: (req.query as { raw: string }).raw,
              path: req.params as Record<string, string>,
              rawBody: typeof req.body === 'string' ? req.body : undefined,
            },
            options.deps,
          );
          return send(reply, res);
        },
      });
    }
  }

  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    // An empty entity id segment ("/entities//attrs") is a bad request, not an unknown resource (§6.3).
    const err = /^\/ngsi-ld\/v1\/(temporal\/)?entities\/\//.test(path)
      ? badRequestData('The entity id in the path is empty', 'Missing entity id')
      : notFound(`No resource at ${path}`, 'Unknown path');
    const res = problemResponse(err);
    return send(reply, { ...res, headers: { ...res.headers, ...tenantEcho(req) } });
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, req, reply) => {
    let err: NgsiError;
    if (error instanceof NgsiError) err = error;
    else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      err = new NgsiError('InvalidRequest', `The request body exceeds the limit of ${options.maxBodyBytes} bytes`, 'Request entity too large', 413);
    } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      err = new NgsiError('InvalidRequest', error.message, 'Invalid request', error.statusCode);
    } else {
      req.log.error({ err: error }, 'unexpected error');
      err = new NgsiError('InternalError', 'The request could not be completed because of an internal error');
    }
    const res = problemResponse(err);
    return send(reply, { ...res, headers: { ...res.headers, ...tenantEcho(req) } });
  });

  return app;
}
