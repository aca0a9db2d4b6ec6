// Routes of the batch entity operations (GS CIM 009 §6.14–6.17, §6.31): HTTP ↔ BatchService.
import { badRequestData } from '../../core/errors.ts';
import type { JsonValue } from '../../core/json.ts';
import type { BatchResult, BatchService } from '../../services/batch.ts';
import { contextUrlFromLink } from '../link-header.ts';
import { LD_JSON_TYPE } from '../media-types.ts';
import type { OperationRequest, OperationResponse, OperationSpec, RouteTable } from '../operation.ts';
import { parseOptionTokens } from '../read-options.ts';
import type { BatchContext } from '../../services/batch.ts';

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

export function batchRoutes(batch: BatchService): RouteTable {
  return {
    '/entityOperations/create': {
      POST: spec([], true, async (req, elements) => {
        const result = await batch.create(req.tenant, elements, batchContext(req));
        return result.errors.length > 0 ? partial(result) : { status: 201, body: result.success };
      }),
    },
    '/entityOperations/upsert': {
      POST: spec(['options'], true, async (req, elements) => {
        const options = parseOptionTokens(req.query, ['replace', 'update']);
        if (options.has('replace') && options.has('update')) throw badRequestData('options cannot be both replace and update', 'Invalid options');
        const result = await batch.upsert(req.tenant, elements, batchContext(req), options.has('update') ? 'update' : 'replace');
        if (result.errors.length > 0) return partial(result);
        return result.created.length > 0 ? { status: 201, body: result.created } : { status: 204 };
      }),
    },
    '/entityOperations/update': {
      POST: spec(['options'], false, async (req, elements) => {
        const options = parseOptionTokens(req.query, ['noOverwrite']);
        const result = await batch.update(req.tenant, elements, batchContext(req), options.has('noOverwrite'));
        return result.errors.length > 0 ? partial(result) : { status: 204 };
      }),
    },
    '/entityOperations/merge': {
      POST: spec([], false, async (req, elements) => {
        const result = await batch.merge(req.tenant, elements, batchContext(req));
        return result.errors.length > 0 ? partial(result) : { status: 204 };
      }),
    },
    '/entityOperations/delete': {
      POST: spec([], false, async (req, elements) => {
        const result = await batch.remove(req.tenant, elements);
        return result.errors.length > 0 ? partial(result) : { status: 204 };
      }),
    },
  };
}
