// Distributed single-entity writes (GS CIM 009 §5.12; guide §16.3 "Writes"; issue 7 item 3): local processing
// of what no exclusive/redirect registration holds, first (its validation errors stop the write before
// anything is forwarded), then the matching sources in parallel, each with what it covers. Failures become
// a 207 whose entries carry registrationId; a 404 from a source means it holds nothing.
import { NgsiError } from '../core/errors.ts';
import { apiRoot, forwardHeaders, planSources, queryString, type Candidate, type PlanOptions, type SourcePlan } from '../core/federation/plan.ts';
import { bodyAttributes, checkWriteSupported, hasAttributes, remotelyHeld, restrictBody } from '../core/federation/write-plan.ts';
import { isJsonObject, type JsonObject } from '../core/json.ts';
import type { ModelLimits, UpdateResult } from '../core/model/write-ops.ts';
import type { TypeExpr } from '../core/query/type-expr.ts';
import type { OperationName } from '../core/registration/operations.ts';
import type { RegistrationQuery } from '../core/registration/query.ts';
import type { ForwardMethod, ForwardOutcome, ForwardRequest } from '../ports/forwarder.ts';
import type { ForwardContext } from './federation.ts';

/** What the federation service lends to writes: matching registrations and booked sending. */
export interface SourceAccess {
  candidates(ctx: ForwardContext, query: RegistrationQuery): Promise<Candidate[]>;
  send(ctx: ForwardContext, plan: SourcePlan, request: ForwardRequest): Promise<ForwardOutcome>;
  /** Planning options for this request (now, default timeout, whether it came back around a loop). */
  planOptions(ctx: ForwardContext): PlanOptions;
  brokerId: string;
  nowIso(): string;
  limits: ModelLimits;
  /** Largest `limit` asked of a source. */
  maxRemotePage: number;
}

/** A single-entity write as forwarding sees it. */
export interface WriteRequest {
  op: OperationName;
  id: string;
  type?: TypeExpr;
  /** The client's `type` parameter, passed on. */
  typeParam?: string;
  method: ForwardMethod;
  /** Path under the source's API root, e.g. `/entities/<id>/attrs` (id percent-encoded). */
  path: string;
  /** URL parameters passed on (options, ...). */
  params: [string, string][];
  body?: JsonObject;
  /** The body is keyed by attribute names (split between sources); otherwise it is sent whole. */
  bodyIsAttributes: boolean;
  /** The attributes (FQNs) written when the body does not say (one-attribute operations). */
  attrs?: string[];
}

/** What a distributed write answers: 204, a 207 UpdateResult whose failures carry registrationId, or 404. */
export type WriteOutcome = { status: 204 } | { status: 207; body: JsonObject } | { status: 404 };

interface NotUpdated {
  attributeName: string;
  reason: string;
  registrationId?: string;
}

/**
 * A single-entity write with registered sources taking part. Null when no registration takes part (the
 * caller writes locally, unchanged). `local` gets the body local processing keeps (the whole body for
 * one-attribute writes) and returns its UpdateResult, if any.
 */
export async function federatedWrite(
  access: SourceAccess,
  ctx: ForwardContext,
  w: WriteRequest,
  local: (body: JsonObject | undefined) => Promise<UpdateResult | void>,
): Promise<WriteOutcome | null> {
  const attrs = w.attrs ?? (w.body !== undefined && w.bodyIsAttributes ? bodyAttributes(w.body, ctx.terms) : undefined);
  const selector = w.type === undefined ? { ids: [w.id] } : { ids: [w.id], type: w.type };
  const found = (await access.candidates(ctx, { selectors: [selector], ...(attrs !== undefined && attrs.length > 0 ? { attrs } : {}), latestOnly: false })).filter(
    (c) => c.view.mode !== 'auxiliary',
  );
  if (found.length === 0) return null;
  checkWriteSupported(found, w.op);
  const plans = planSources(found, [w.op], attrs !== undefined && attrs.length > 0 ? attrs : undefined, access.planOptions(ctx));
  if (plans.length === 0) return null;

  const held = remotelyHeld(plans);
  let localBody = w.body;
  let runLocal = held !== 'none';
  if (held !== 'none' && held.attrs.length > 0) {
    if (w.bodyIsAttributes && w.body !== undefined) {
      localBody = restrictBody(w.body, ctx.terms, { drop: held.attrs });
      runLocal = hasAttributes(localBody) || (attrs ?? []).length === 0;
    } else if (attrs !== undefined && attrs.every((a) => held.attrs.includes(a))) runLocal = false;
  }
  const updated: string[] = [];
  const notUpdated: NotUpdated[] = [];
  let succeeded = false;
  if (runLocal) {
    try {
      const result = await local(localBody);
      succeeded = true;
      if (result !== undefined) {
        updated.push(...result.updated);
        notUpdated.push(...result.notUpdated);
      } else if (attrs !== undefined) updated.push(...attrs.filter((a) => held === 'none' || !held.attrs.includes(a)));
    } catch (e) {
      if (!(e instanceof NgsiError && e.kind === 'ResourceNotFound')) throw e;
    }
  }

  const sends = plans.map(async (plan) => {
    let body: JsonObject | undefined;
    if (w.body !== undefined) {
      body = w.bodyIsAttributes ? restrictBody(w.body, ctx.terms, plan.attrs === undefined ? { drop: [] } : { keep: plan.attrs }) : w.body;
      if (w.bodyIsAttributes && (attrs ?? []).length > 0 && !hasAttributes(body)) return;
    }
    const sentAttrs = plan.attrs ?? attrs ?? [];
    const params: [string, string][] = [...w.params];
    if (w.typeParam !== undefined) params.push(['type', w.typeParam]);
    if (plan.localOnly) params.push(['local', 'true']);
    const request: ForwardRequest = { method: w.method, url: `${apiRoot(plan.endpoint)}${w.path}${queryString(params)}`, headers: forwardHeaders(plan, ctx.headers, access.brokerId), timeoutMs: plan.timeoutMs };
    if (body !== undefined) request.body = body;
    const outcome = await access.send(ctx, plan, request);
    const failed = (reason: string): void => {
      const names = sentAttrs.length > 0 ? sentAttrs : [w.id];
      for (const a of names) notUpdated.push({ attributeName: a, reason: `context source ${plan.endpoint}: ${reason}`, registrationId: plan.view.id });
    };
    if (outcome.kind === 'failed') return failed(outcome.reason);
    if (outcome.kind === 'unusable') return failed(`${outcome.reason} (HTTP ${outcome.status})`);
    if (outcome.status === 404) return;
    if (outcome.status < 200 || outcome.status >= 300) {
      const detail = isJsonObject(outcome.body) && typeof outcome.body.detail === 'string' ? `: ${outcome.body.detail}` : '';
      return failed(`answered HTTP ${outcome.status}${detail}`);
    }
    succeeded = true;
    const result = outcome.body;
    if (outcome.status === 207 && isJsonObject(result) && Array.isArray(result.notUpdated)) {
      for (const u of Array.isArray(result.updated) ? result.updated : []) if (typeof u === 'string') updated.push(ctx.terms.expandTerm(u));
      for (const nu of result.notUpdated) {
        if (!isJsonObject(nu)) continue;
        const name = typeof nu.attributeName === 'string' ? ctx.terms.expandTerm(nu.attributeName) : w.id;
        notUpdated.push({ attributeName: name, reason: `context source ${plan.endpoint}: ${typeof nu.reason === 'string' ? nu.reason : 'not updated'}`, registrationId: plan.view.id });
      }
      return;
    }
    updated.push(...sentAttrs);
  });
  await Promise.all(sends);
  if (!succeeded && notUpdated.length === 0) return { status: 404 };
  if (notUpdated.length === 0) return { status: 204 };
  return { status: 207, body: { updated: [...new Set(updated)], notUpdated: notUpdated as unknown as JsonObject[] } };
}
