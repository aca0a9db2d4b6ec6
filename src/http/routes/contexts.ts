// Routes of the @context store (GS CIM 009 §5.13, §6.29, §6.30): HTTP ↔ ContextResolver.
import type { ContextResolver } from '../../services/context-resolver.ts';
import type { RouteTable } from '../operation.ts';
import { API_ROOT } from '../app.ts';

export function contextRoutes(contexts: ContextResolver): RouteTable {
  return {
    '/jsonldContexts': {
      POST: {
        params: [],
        body: 'any',
        bodyContext: false,
        offers: 'json',
        createsTenant: true,
        async handle(req) {
          const { localId } = await contexts.addHosted(req.body!);
          return { status: 201, headers: { location: `${API_ROOT}/jsonldContexts/${encodeURIComponent(localId)}` } };
        },
      },
      GET: {
        params: ['kind', 'details'],
        offers: 'json',
        createsTenant: true,
        async handle(req) {
          return { status: 200, body: await contexts.list({ kind: req.query.get('kind'), details: req.query.get('details') }) };
        },
      },
    },
    '/jsonldContexts/:contextId': {
      GET: {
        params: ['details'],
        offers: 'json',
        createsTenant: true,
        async handle(req) {
          return { status: 200, body: await contexts.serve(req.path.contextId!, req.query.get('details')) };
        },
      },
      DELETE: {
        params: ['reload'],
        offers: 'json',
        createsTenant: true,
        async handle(req) {
          await contexts.remove(req.path.contextId!, req.query.get('reload'));
          return { status: 204 };
        },
      },
    },
  };
}
