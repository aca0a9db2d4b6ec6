// Batch entity operations (GS CIM 009 §5.6.7–5.6.10, §5.6.20; guide §12): each element validated on its
// own (a bad element never fails the batch), all valid elements written in one transaction in array
// order, each element atomic, one shared modifiedAt.
import { NgsiError, alreadyExists, badRequestData, notFound } from '../core/errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';
import type { RequestContext, TermMap } from '../core/jsonld/term-map.ts';
import type { Entity } from '../core/model/entity.ts';
import {
  applyAppend,
  applyMerge,
  applyReplace,
  newEntity,
  parseEntity,
  parseFragment,
  type EntityFragment,
  type ModelLimits,
  type ParsedEntity,
} from '../core/model/write-ops.ts';
import { compareDateTime } from '../core/datetime.ts';
import { isAbsoluteUri } from '../core/names.ts';
import type { TenantId } from '../core/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import type { BatchItem, EntityStore } from '../ports/store.ts';

export interface BatchError {
  entityId: string;
  error: { type: string; title: string; status: number; detail: string };
  /** The context source registration whose source reported the error (distributed operations, §5.12). */
  registrationId?: string;
}

export type BatchOperation = 'create' | 'upsert' | 'update' | 'merge' | 'delete';

/** One valid batch element as forwarding sees it: the entity, the attributes (FQNs) it writes, its terms. */
export interface InspectedElement {
  id: string;
  types: string[];
  attrs: string[];
  terms: TermMap;
}

export interface BatchResult {
  success: string[];
  errors: BatchError[];
  /** Ids created by this batch (create, upsert), each once, in order. */
  created: string[];
}

export interface BatchServiceDeps {
  store: EntityStore;
  clock: Clock;
  limits: ModelLimits;
  maxBatchSize: number;
  resolveContext(userContext: JsonValue | undefined): Promise<RequestContext>;
}

/** How the batch body carried its @context: one Link context for all, or one per element (ld+json). */
export interface BatchContext {
  perElement: boolean;
  link: RequestContext;
}

type Outcome = 'created' | 'updated' | 'deleted';

const isLive = (e: Entity | null, now: string): e is Entity => e !== null && (e.expiresAt === undefined || compareDateTime(e.expiresAt, now) > 0);

function idOf(element: JsonValue): string {
  if (isJsonObject(element)) {
    const id = element.id ?? element['@id'];
    return typeof id === 'string' ? id : '';
  }
  return typeof element === 'string' ? element : '';
}

export function createBatchService(deps: BatchServiceDeps) {
  const { store, clock, limits } = deps;

  function checkShape(elements: JsonValue[]): void {
    if (elements.length === 0) throw badRequestData('The batch is empty', 'Empty batch');
    if (elements.length > deps.maxBatchSize) {
      throw badRequestData(`The batch has ${elements.length} elements; the maximum is ${deps.maxBatchSize} (KEND_MAX_BATCH_SIZE)`, 'Batch too large');
    }
  }

  /** The terms for one element: its own @context (ld+json) or the Link context; misuse fails that element. */
  async function termsFor(element: JsonObject, ctx: BatchContext): Promise<TermMap> {
    if (ctx.perElement) {
      if (!('@context' in element)) throw badRequestData('An application/ld+json batch element must carry an @context member', 'Missing @context');
      return (await deps.resolveContext(element['@context'])).terms;
    }
    if ('@context' in element) throw badRequestData('An application/json batch element must not carry an @context member', 'Invalid @context');
    return ctx.link.terms;
  }

  /**
   * Validates every element (parse), then writes the valid ones in one transaction. `parse` turns an
   * element into a decide function; its NgsiError becomes that element's error entry.
   */
  async function run(
    tenant: TenantId,
    elements: JsonValue[],
    createTenant: boolean,
    parse: (element: JsonValue, now: string) => Promise<{ id: string; decide: BatchItem<Outcome>['decide'] }>,
  ): Promise<BatchResult> {
    checkShape(elements);
    for (const e of elements) if (e === null) throw badRequestData('A batch element is null', 'Invalid batch element');
    const now = clock.nowIso();
    const slots: ({ ok: true; index: number; id: string } | { ok: false; id: string; error: NgsiError })[] = [];
    const items: BatchItem<Outcome>[] = [];
    for (const element of elements) {
      try {
        const item = await parse(element, now);
        slots.push({ ok: true, index: items.length, id: item.id });
        items.push(item);
      } catch (error) {
        if (!(error instanceof NgsiError)) throw error;
        slots.push({ ok: false, id: idOf(element), error });
      }
    }
    const outcomes = items.length > 0 ? await store.writeEntities(tenant, items, { createTenant }) : [];
    const result: BatchResult = { success: [], errors: [], created: [] };
    for (const slot of slots) {
      const outcome = slot.ok ? outcomes[slot.index]! : ({ ok: false, error: slot.error } as const);
      if (outcome.ok) {
        result.success.push(slot.id);
        if (outcome.result === 'created' && !result.created.includes(slot.id)) result.created.push(slot.id);
      } else {
        result.errors.push({ entityId: slot.id, error: outcome.error.toProblem() });
      }
    }
    return result;
  }

  async function parseEntityElement(element: JsonValue, ctx: BatchContext): Promise<{ parsed: ParsedEntity; terms: TermMap; body: JsonObject }> {
    if (!isJsonObject(element)) throw badRequestData('A batch element must be a JSON object', 'Invalid batch element');
    const terms = await termsFor(element, ctx);
    return { parsed: parseEntity(element, terms, limits, 'create'), terms, body: element };
  }

  async function parseFragmentElement(element: JsonValue, ctx: BatchContext, kind: 'append' | 'merge'): Promise<{ id: string; frag: EntityFragment; terms: TermMap }> {
    if (!isJsonObject(element)) throw badRequestData('A batch element must be a JSON object', 'Invalid batch element');
    const id = element.id ?? element['@id'];
    if (!isAbsoluteUri(id)) throw badRequestData('A batch element needs an "id" that is an absolute URI', 'Invalid entity id');
    const terms = await termsFor(element, ctx);
    return { id, frag: parseFragment(element, terms, limits, kind), terms };
  }

  const missing = (id: string): NgsiError => notFound(`Entity ${id} was not found`, 'Entity not found');

  return {
    /** The whole-request checks (empty, too large, null element): 400, nothing written. */
    checkBatch(elements: JsonValue[]): void {
      checkShape(elements);
      for (const e of elements) if (e === null) throw badRequestData('A batch element is null', 'Invalid batch element');
    },

    /**
     * One element validated as `op` would validate it, without writing (distributed batches decide per
     * element where it goes; an invalid one is left to local processing, which reports it). Throws NgsiError.
     */
    async inspect(op: BatchOperation, element: JsonValue, ctx: BatchContext): Promise<InspectedElement> {
      if (op === 'delete') {
        if (!isAbsoluteUri(element)) throw badRequestData('Batch delete takes an array of entity ids (absolute URIs)', 'Invalid entity id');
        return { id: element, types: [], attrs: [], terms: ctx.link.terms };
      }
      if (op === 'create' || op === 'upsert') {
        const { parsed, terms } = await parseEntityElement(element, ctx);
        return { id: parsed.id, types: parsed.types, attrs: Object.keys(parsed.attrs), terms };
      }
      const { id, frag, terms } = await parseFragmentElement(element, ctx, op === 'merge' ? 'merge' : 'append');
      return { id, types: frag.types, attrs: Object.keys(frag.attrs), terms };
    },

    create(tenant: TenantId, elements: JsonValue[], ctx: BatchContext): Promise<BatchResult> {
      return run(tenant, elements, true, async (element, now) => {
        const { parsed } = await parseEntityElement(element, ctx);
        return {
          id: parsed.id,
          decide: (current) => {
            if (isLive(current, now)) throw alreadyExists(`Entity ${parsed.id} already exists`, 'Entity already exists');
            return { put: newEntity(parsed, now), result: 'created' };
          },
        };
      });
    },

    upsert(tenant: TenantId, elements: JsonValue[], ctx: BatchContext, mode: 'replace' | 'update'): Promise<BatchResult> {
      return run(tenant, elements, true, async (element, now) => {
        const { parsed, terms, body } = await parseEntityElement(element, ctx);
        const frag = mode === 'update' ? parseFragment(body, terms, limits, 'append') : undefined;
        return {
          id: parsed.id,
          decide: (current) => {
            if (!isLive(current, now)) return { put: newEntity(parsed, now), result: 'created' };
            const entity = frag !== undefined ? applyAppend(current, frag, now, { noOverwrite: false }).entity : applyReplace(current, parsed, now);
            return { put: entity, result: 'updated' };
          },
        };
      });
    },

    update(tenant: TenantId, elements: JsonValue[], ctx: BatchContext, noOverwrite: boolean): Promise<BatchResult> {
      return run(tenant, elements, false, async (element, now) => {
        const { id, frag } = await parseFragmentElement(element, ctx, 'append');
        return {
          id,
          decide: (current) => {
            if (!isLive(current, now)) throw missing(id);
            const { entity, result } = applyAppend(current, frag, now, { noOverwrite });
            if (result.notUpdated.length > 0) {
              const names = result.notUpdated.map((n) => n.attributeName).join(', ');
              throw badRequestData(`Attributes not updated (noOverwrite): ${names}`, 'Attributes not updated');
            }
            return { put: entity, result: 'updated' };
          },
        };
      });
    },

    merge(tenant: TenantId, elements: JsonValue[], ctx: BatchContext): Promise<BatchResult> {
      return run(tenant, elements, false, async (element, now) => {
        const { id, frag } = await parseFragmentElement(element, ctx, 'merge');
        return {
          id,
          decide: (current) => {
            if (!isLive(current, now)) throw missing(id);
            const merged = applyMerge(current, frag, now);
            return isLive(merged, now) ? { put: merged, result: 'updated' } : { remove: true, result: 'deleted' };
          },
        };
      });
    },

    remove(tenant: TenantId, elements: JsonValue[]): Promise<BatchResult> {
      return run(tenant, elements, false, async (element, now) => {
        if (!isAbsoluteUri(element)) throw badRequestData('Batch delete takes an array of entity ids (absolute URIs)', 'Invalid entity id');
        const id = element;
        return {
          id,
          decide: (current) => {
            if (!isLive(current, now)) throw missing(id);
            return { remove: true, result: 'deleted' };
          },
        };
      });
    },
  };
}

export type BatchService = ReturnType<typeof createBatchService>;
