// Distributed batch operations (GS CIM 009 §5.6.7–5.6.10, §5.6.20, §5.12; guide §12, §16.3; issue 7 item 3):
// each element of POST /entityOperations/{create,upsert,update,merge,delete} follows the single-entity
// write rules — attributes an exclusive/redirect registration covers go only to its source, inclusive
// sources receive what they cover while local processing still sees everything, auxiliary registrations
// never receive writes, an exclusive/redirect registration without the batch operation makes that element a
// 409 Conflict. Elements are grouped per source into one batch request of the same operation. A source's
// failure becomes error entries (with registrationId) of the elements it should have taken: a 207, never a
// failure of the whole batch. A source's 404 / ResourceNotFound means it holds nothing.
import { NgsiError, ERROR_TYPE_BASE, type ProblemDetails } from '../core/errors.ts';
import { apiRoot, forwardHeaders, planSources, queryString, type SourcePlan } from '../core/federation/plan.ts';
import { checkWriteSupported, hasAttributes, remotelyHeld, restrictBody } from '../core/federation/write-plan.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';
import type { EntitySelector } from '../core/query/entity-query.ts';
import type { OperationName } from '../core/registration/operations.ts';
import type { ForwardOutcome, ForwardRequest } from '../ports/forwarder.ts';
import type { BatchError, BatchOperation, BatchResult, InspectedElement } from './batch.ts';
import type { SourceAccess } from './federation-writes.ts';
import type { ForwardContext } from './federation.ts';

const OPERATION: Record<BatchOperation, OperationName> = {
  create: 'createBatch',
  upsert: 'upsertBatch',
  update: 'updateBatch',
  merge: 'mergeBatch',
  delete: 'deleteBatch',
};

export interface BatchForwarding {
  op: BatchOperation;
  /** URL parameters passed on (options). */
  params: [string, string][];
  /** application/ld+json batch: every element carries its @context, and so do the forwarded ones. */
  perElement: boolean;
  inspect(element: JsonValue): Promise<InspectedElement>;
}

/** One source's share of the batch: the elements (restricted to what it covers) and their ids. */
interface SourceShare {
  plan: SourcePlan;
  items: { id: string; body: JsonValue }[];
}

/** What happened to one entity at one source. */
type RemoteOutcome = { ok: true; created: boolean } | { ok: false; notFound: true } | { ok: false; notFound: false; problem: ProblemDetails };

const problem = (kind: 'InternalError' | 'BadRequestData', title: string, status: number, detail: string): ProblemDetails => ({ type: ERROR_TYPE_BASE + kind, title, status, detail });

/** A source failure as the error of each entity it should have taken (InternalError: not the client's fault). */
export const sourceFailure = (plan: SourcePlan, reason: string): ProblemDetails => problem('InternalError', 'Context source failed', 500, `context source ${plan.endpoint}: ${reason}`);

/** A ProblemDetails a source sent, if it is one; its texts are kept, the source named in the detail. */
export function problemOf(plan: SourcePlan, raw: JsonValue | undefined, status: number): ProblemDetails | null {
  if (!isJsonObject(raw) || typeof raw.type !== 'string') return null;
  const detail = typeof raw.detail === 'string' ? raw.detail : typeof raw.title === 'string' ? raw.title : `HTTP ${status}`;
  return {
    type: raw.type,
    title: typeof raw.title === 'string' ? raw.title : 'Context source error',
    status: typeof raw.status === 'number' && Number.isInteger(raw.status) && raw.status >= 400 && raw.status < 600 ? raw.status : status,
    detail: `context source ${plan.endpoint}: ${detail}`,
  };
}

const isNotFound = (p: ProblemDetails): boolean => p.status === 404 || p.type === `${ERROR_TYPE_BASE}ResourceNotFound`;

/** Per entity id, what the source did with the elements it received. */
function readOutcome(share: SourceShare, op: BatchOperation, outcome: ForwardOutcome): Map<string, RemoteOutcome> {
  const out = new Map<string, RemoteOutcome>();
  const all = (o: RemoteOutcome): Map<string, RemoteOutcome> => {
    for (const { id } of share.items) out.set(id, o);
    return out;
  };
  const plan = share.plan;
  if (outcome.kind === 'failed') return all({ ok: false, notFound: false, problem: sourceFailure(plan, outcome.reason) });
  if (outcome.kind === 'unusable') return all({ ok: false, notFound: false, problem: sourceFailure(plan, `${outcome.reason} (HTTP ${outcome.status})`) });
  const { status, body } = outcome;
  if (status === 404) return all({ ok: false, notFound: true });
  if (status === 201 || status === 204 || status === 200) {
    const created = status === 201 && Array.isArray(body) ? new Set(body.filter((x): x is string => typeof x === 'string')) : new Set<string>();
    for (const { id } of share.items) out.set(id, { ok: true, created: op === 'create' ? status === 201 : created.has(id) });
    return out;
  }
  if (status === 207) {
    if (!isJsonObject(body) || !Array.isArray(body.success) || !Array.isArray(body.errors)) {
      return all({ ok: false, notFound: false, problem: sourceFailure(plan, 'unusable payload: a 207 answer is not a BatchOperationResult') });
    }
    for (const id of body.success) if (typeof id === 'string') out.set(id, { ok: true, created: op === 'create' });
    for (const e of body.errors) {
      if (!isJsonObject(e) || typeof e.entityId !== 'string') continue;
      const p = problemOf(plan, e.error, 500) ?? sourceFailure(plan, 'reported an error without ProblemDetails');
      out.set(e.entityId, isNotFound(p) ? { ok: false, notFound: true } : { ok: false, notFound: false, problem: p });
    }
    // Elements the source neither listed as success nor as error: it said nothing usable about them.
    for (const { id } of share.items) if (!out.has(id)) out.set(id, { ok: false, notFound: false, problem: sourceFailure(plan, `did not report on ${id}`) });
    return out;
  }
  if (status >= 200 && status < 300) return all({ ok: true, created: false });
  const p = problemOf(plan, body, status) ?? sourceFailure(plan, `answered HTTP ${status}`);
  return all(isNotFound(p) ? { ok: false, notFound: true } : { ok: false, notFound: false, problem: p });
}

function selectorOf(el: InspectedElement): EntitySelector {
  if (el.types.length === 0) return { ids: [el.id] };
  return { ids: [el.id], type: { op: 'or', items: el.types.map((name) => ({ op: 'type' as const, name })) } };
}

/** The element with only the attributes kept by `filter`; its @context kept for an ld+json batch. */
function restricted(element: JsonValue, el: InspectedElement, filter: { drop: readonly string[] } | { keep: readonly string[] }): JsonObject | null {
  if (!isJsonObject(element)) return null;
  const body = restrictBody(element, el.terms, filter);
  if ('@context' in element) body['@context'] = element['@context']!;
  return body;
}

/**
 * A batch with registered sources taking part. Null when no element has a matching source (the caller runs
 * the batch locally, unchanged). `local` runs the elements local processing keeps (never called with none).
 */
export async function federatedBatch(
  access: SourceAccess,
  ctx: ForwardContext,
  elements: readonly JsonValue[],
  fw: BatchForwarding,
  local: (elements: JsonValue[]) => Promise<BatchResult>,
): Promise<BatchResult | null> {
  const op = OPERATION[fw.op];
  const localElements: JsonValue[] = [];
  const shares = new Map<string, SourceShare>();
  const conflicts: BatchError[] = [];
  /** Ids sent to some source, and whether local processing also takes them. */
  const forwarded = new Map<string, { local: boolean }>();
  for (const element of elements) {
    let el: InspectedElement;
    try {
      el = await fw.inspect(element);
    } catch (e) {
      if (!(e instanceof NgsiError)) throw e;
      localElements.push(element); // local processing reports the validation error
      continue;
    }
    const found = (await access.candidates(ctx, { selectors: [selectorOf(el)], ...(el.attrs.length > 0 ? { attrs: el.attrs } : {}), latestOnly: false })).filter((c) => c.view.mode !== 'auxiliary');
    let plans: SourcePlan[];
    try {
      // 409 Conflict (exclusive/redirect without the operation) or 508 Loop Detected: that element only.
      checkWriteSupported(found, op);
      plans = found.length === 0 ? [] : planSources(found, [op], el.attrs.length > 0 ? el.attrs : undefined, access.planOptions(ctx));
    } catch (e) {
      if (!(e instanceof NgsiError)) throw e;
      conflicts.push({ entityId: el.id, error: e.toProblem() });
      continue;
    }
    if (plans.length === 0) {
      localElements.push(element);
      continue;
    }
    const held = remotelyHeld(plans);
    let runLocal = held !== 'none';
    let localElement: JsonValue = element;
    if (held !== 'none' && held.attrs.length > 0 && fw.op !== 'delete') {
      const kept = restricted(element, el, { drop: held.attrs });
      if (kept !== null) {
        localElement = kept;
        runLocal = hasAttributes(kept) || el.attrs.length === 0;
      }
    }
    let sent = false;
    for (const plan of plans) {
      let body: JsonValue = element;
      if (fw.op !== 'delete') {
        const part = restricted(element, el, plan.attrs === undefined ? { drop: [] } : { keep: plan.attrs });
        if (part === null || (el.attrs.length > 0 && !hasAttributes(part))) continue;
        body = part;
      }
      const share = shares.get(plan.view.id) ?? { plan, items: [] };
      share.items.push({ id: el.id, body });
      shares.set(plan.view.id, share);
      sent = true;
    }
    if (runLocal || !sent) localElements.push(localElement);
    if (sent) forwarded.set(el.id, { local: runLocal || (forwarded.get(el.id)?.local ?? false) });
  }
  if (shares.size === 0 && conflicts.length === 0) return null;

  const [own, ...answers] = await Promise.all([
    localElements.length > 0 ? local(localElements) : Promise.resolve<BatchResult>({ success: [], errors: [], created: [] }),
    ...[...shares.values()].map(async (share) => {
      const params: [string, string][] = [...fw.params];
      if (share.plan.localOnly) params.push(['local', 'true']);
      const headers = forwardHeaders(share.plan, ctx.headers, access.brokerId);
      if (fw.perElement) delete headers.link;
      const request: ForwardRequest = {
        method: 'POST',
        url: `${apiRoot(share.plan.endpoint)}/entityOperations/${fw.op}${queryString(params)}`,
        headers,
        body: share.items.map((i) => i.body),
        timeoutMs: share.plan.timeoutMs,
      };
      if (fw.perElement) request.contentType = 'application/ld+json';
      return readOutcome(share, fw.op, await access.send(ctx, share.plan, request));
    }),
  ]);

  // Per entity id: did any party write it; the remote errors to report.
  const remoteOk = new Set<string>();
  const created = new Set(own.created);
  const remoteErrors: BatchError[] = [];
  const notFoundOnly = new Set<string>();
  [...shares.values()].forEach((share, i) => {
    for (const [id, o] of answers[i]!) {
      if (o.ok) {
        remoteOk.add(id);
        if (o.created) created.add(id);
      } else if (o.notFound) notFoundOnly.add(id);
      else remoteErrors.push({ entityId: id, error: o.problem, registrationId: share.plan.view.id });
    }
  });
  const localOk = new Set(own.success);
  const result: BatchResult = { success: [...own.success], errors: [], created: [] };
  for (const e of own.errors) {
    // Not found locally is "nothing here" when a source wrote the entity (as for single-entity writes).
    if (e.error.status === 404 && remoteOk.has(e.entityId)) continue;
    result.errors.push(e);
  }
  for (const id of forwarded.keys()) {
    if (remoteOk.has(id) && !localOk.has(id)) result.success.push(id);
    const handledLocally = forwarded.get(id)!.local;
    if (!remoteOk.has(id) && !handledLocally && notFoundOnly.has(id) && !remoteErrors.some((e) => e.entityId === id)) {
      result.errors.push({ entityId: id, error: new NgsiError('ResourceNotFound', `Entity ${id} was not found`, 'Entity not found').toProblem() });
    }
  }
  result.errors.push(...conflicts, ...remoteErrors);
  result.created = [...created];
  return result;
}
