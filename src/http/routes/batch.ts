// Routes of the batch entity operations (GS CIM 009 §6.14–6.17, §6.31): HTTP ↔ BatchService.
import { badRequestData } from '../../core/errors.ts';
import type { JsonValue } from '../../core/json.ts';
import type { BatchResult, BatchService } from '../../services/batch.ts';
import { contextUrlFromLink } from '../link-header.ts';
import { LD_JSON_TYPE } from '../media-types.ts';
import type { OperationRequest, OperationResponse, OperationSpec, RouteTable } from '../operation.ts';
import { parseOptionTokens } from '../read-options.ts';
import type { BatchContext, BatchOperation } from '../../services/batch.ts';
import type { Federation } from '../../services/federation.ts';
import { forwardContext } from '../forwarding.ts';

function batchContext(req: OperationRequest): BatchContext {
  const perElement = req.bodyType === LD_JSON_TYPE;
  const link = req.headers.link;
  if (perElement && contextUrlFromLink(Array.isArray(link) ? link.join(', ') : link) !== undefined) {
    throw badRequestData('A Link header must not be sent with an application/ld+json body', 'Invalid @context');
  }
  return { perElement, link: req.context };
}

function partial(result: BatchResult): OperationResponse {
  return { status: 207, body: { success: result.success, errors: result.errors } as unknown as JsonValue };
}

function spec(params: string[], createsTenant: boolean, handle: (req: OperationRequest, elements: JsonValue[]) => Promise<OperationResponse>): OperationSpec {
  return {
    params: [...params, 'local'],
    body: 'array',
    bodyContext: false,
    offers: 'ngsi',
    createsTenant,
    handle: (req) => handle(req, req.body as JsonValue[]),
  };
}

export function batchRoutes(batch: BatchService, federation?: Federation): RouteTable {
  /**
   * The batch with registered sources taking part (distributed operation, §5.12), each element routed as a
   * single-entity write would be; otherwise (no federation, local=true, no matching source) purely local.
   */
  async function run(req: OperationRequest, op: BatchOperation, elements: JsonValue[], params: [string, string][], local: (elements: JsonValue[]) => Promise<BatchResult>): Promise<BatchResult> {
    const localOnly = req.query.bool('local');
    if (federation === undefined) return local(elements);
    batch.checkBatch(elements);
    const ctx = batchContext(req);
    const fw = { op, params, perElement: ctx.perElement, inspect: (e: JsonValue) => batch.inspect(op, e, ctx) };
    return (await federation.batch(forwardContext(req, localOnly), elements, fw, local)) ?? local(elements);
  }
  const passOptions = (req: OperationRequest): [string, string][] => req.query.entries.filter(([k]) => k === 'options').map(([k, v]) => [k, v]);

  return {
    '/entityOperations/create': {
      POST: spec([], true, async (req, elements) => {
        const ctx = batchContext(req);
        const result = await run(req, 'create', elements, [], (els) => batch.create(req.tenant, els, ctx));
        return result.errors.length > 0 ? partial(result) : { status: 201, body: result.success };
      }),
    },
    '/entityOperations/upsert': {
      POST: spec(['options'], true, async (req, elements) => {
        const options = parseOptionTokens(req.query, ['replace', 'update']);
        if (options.has('replace') && options.has('update')) throw badRequestData('options cannot be both replace and update', 'Invalid options');
        const ctx = batchContext(req);
        const result = await run(req, 'upsert', elements, passOptions(req), (els) => batch.upsert(req.tenant, els, ctx, options.has('update') ? 'update' : 'replace'));
        if (result.errors.length > 0) return partial(result);
        return result.created.length > 0 ? { status: 201, body: result.created } : { status: 204 };
      }),
    },
    '/entityOperations/update': {
      POST: spec(['options'], false, async (req, elements) => {
        const options = parseOptionTokens(req.query, ['noOverwrite']);
        const ctx = batchContext(req);
        const result = await run(req, 'update', elements, passOptions(req), (els) => batch.update(req.tenant, els, ctx, options.has('noOverwrite')));
        return result.errors.length > 0 ? partial(result) : { status: 204 };
      }),
    },
    '/entityOperations/merge': {
      POST: spec([], false, async (req, elements) => {
        const ctx = batchContext(req);
        const result = await run(req, 'merge', elements, [], (els) => batch.merge(req.tenant, els, ctx));
        return result.errors.length > 0 ? partial(result) : { status: 204 };
      }),
    },
    '/entityOperations/delete': {
      POST: spec([], false, async (req, elements) => {
        const result = await run(req, 'delete', elements, [], (els) => batch.remove(req.tenant, els));
        return result.errors.length > 0 ? partial(result) : { status: 204 };
      }),
    },
  };
}
