// Distributed Purge Entities (DELETE /entities; GS CIM 009 §5.6.21, §5.12; guide §7.12, §16.3; issue 7
// item 3): forwarded like the other distributed writes to the matching registrations offering purgeEntity
// (named, or through redirectionOps). Exclusive/redirect registrations hold their entities only remotely —
// local processing spares what they cover; inclusive ones are purged there and locally; auxiliary ones never
// receive writes. An exclusive/redirect registration without purgeEntity → 409 Conflict, nothing contacted.
// A source's failure makes the purge a 207 BatchOperationResult whose error entries carry registrationId:
// the guide's rule for distributed writes (Purge answers no body of its own, so the batch result of a
// multi-entity delete is the nearest spec structure). A source's 404 means it held nothing.
import type { ProblemDetails } from '../core/errors.ts';
import { withoutRemotelyHeld } from '../core/federation/merge.ts';
import { apiRoot, forwardHeaders, planSources, queryString, type SourcePlan } from '../core/federation/plan.ts';
import { checkWriteSupported } from '../core/federation/write-plan.ts';
import type { JsonObject } from '../core/json.ts';
import type { TermMap } from '../core/jsonld/term-map.ts';
import type { Entity } from '../core/model/entity.ts';
import type { EntityQuery } from '../core/query/entity-query.ts';
import type { RegistrationQuery } from '../core/registration/query.ts';
import type { ForwardOutcome } from '../ports/forwarder.ts';
import type { BatchError } from './batch.ts';
import { problemOf, sourceFailure } from './federation-batch.ts';
import type { SourceAccess } from './federation-writes.ts';
import type { ForwardContext } from './federation.ts';

/** The NGSI-LD Null URI (§4.6.2): an error entry of a purge that names no particular entity. */
const NO_ENTITY = 'urn:ngsi-ld:null';

export interface PurgeRequest {
  query: EntityQuery;
  /** drop/keep: the attribute names (FQNs) the purge removes or keeps; absent = whole entities. */
  scope: { kind: 'entities' } | { kind: 'drop'; attrs: string[] } | { kind: 'keep'; attrs: string[] };
  /** The client's URL parameters, passed on (local, attrs and drop are rewritten per source). */
  params: readonly (readonly [string, string])[];
}

export type PurgeOutcome = { status: 204 } | { status: 207; body: JsonObject };

const compactList = (terms: TermMap, iris: readonly string[]): string => iris.map((i) => terms.compactIri(i)).join(',');

/** The ids a purge selects explicitly (id=…), if it selects only by id; the error entries name them. */
function explicitIds(query: EntityQuery): string[] | undefined {
  const ids: string[] = [];
  for (const s of query.selectors ?? []) {
    if (s.ids === undefined) return undefined;
    ids.push(...s.ids);
  }
  return ids.length > 0 ? ids : undefined;
}

/** The source's problem, or null when it purged (any 2xx) or held nothing (404). */
function failureOf(plan: SourcePlan, outcome: ForwardOutcome): ProblemDetails | null {
  if (outcome.kind === 'failed') return sourceFailure(plan, outcome.reason);
  // The body of a successful purge is irrelevant: a 2xx whose body is not JSON still purged.
  if (outcome.kind === 'unusable') return outcome.status >= 200 && outcome.status < 300 ? null : sourceFailure(plan, `${outcome.reason} (HTTP ${outcome.status})`);
  if (outcome.status === 404 || (outcome.status >= 200 && outcome.status < 300 && outcome.status !== 207)) return null;
  if (outcome.status === 207) return sourceFailure(plan, 'purged only in part (HTTP 207)');
  return problemOf(plan, outcome.body, outcome.status) ?? sourceFailure(plan, `answered HTTP ${outcome.status}`);
}

/**
 * A purge with registered sources taking part. Null when none does (the caller purges locally, unchanged).
 * `local` purges local data, sparing the entities `spare` names (held by an exclusive/redirect registration).
 */
export async function federatedPurge(
  access: SourceAccess,
  ctx: ForwardContext,
  req: PurgeRequest,
  local: (spare: (e: Entity) => boolean) => Promise<void>,
): Promise<PurgeOutcome | null> {
  const { query, scope } = req;
  const regQuery: RegistrationQuery = { latestOnly: false };
  if (query.selectors !== undefined && query.selectors.length > 0) regQuery.selectors = query.selectors;
  // A source that covers none of the dropped attributes has nothing to purge.
  const attrs = query.attrs ?? (scope.kind === 'drop' ? scope.attrs : undefined);
  if (attrs !== undefined) regQuery.attrs = attrs;
  if (query.scopeQ !== undefined) regQuery.scopeQ = query.scopeQ;
  if (query.geo !== undefined) regQuery.geo = query.geo;
  const found = (await access.candidates(ctx, regQuery)).filter((c) => c.view.mode !== 'auxiliary');
  if (found.length === 0) return null;
  checkWriteSupported(found, 'purgeEntity');
  const plans = planSources(found, ['purgeEntity'], attrs, access.planOptions(ctx));
  if (plans.length === 0) return null;

  // Local first: its errors (none expected after validation) stop the purge before anything is forwarded.
  const views = plans.map((p) => p.view);
  await local((e) => withoutRemotelyHeld(e, views) === null);

  const outcomes = await Promise.all(
    plans.map((plan) => {
      const params: [string, string][] = req.params.filter(([k]) => k !== 'local' && k !== 'attrs' && k !== 'drop').map(([k, v]) => [k, v]);
      if (query.attrs !== undefined && plan.attrs !== undefined) params.push(['attrs', compactList(ctx.terms, plan.attrs)]);
      else if (query.attrs !== undefined) params.push(['attrs', compactList(ctx.terms, query.attrs)]);
      // Without attrs, plan.attrs is the part of `drop` the source covers (never empty); with attrs, drop goes whole.
      if (scope.kind === 'drop') params.push(['drop', compactList(ctx.terms, query.attrs === undefined && plan.attrs !== undefined ? plan.attrs : scope.attrs)]);
      if (plan.localOnly) params.push(['local', 'true']);
      const url = `${apiRoot(plan.endpoint)}/entities${queryString(params)}`;
      return access.send(ctx, plan, { method: 'DELETE', url, headers: forwardHeaders(plan, ctx.headers, access.brokerId), timeoutMs: plan.timeoutMs });
    }),
  );
  const errors: BatchError[] = [];
  const named = explicitIds(query) ?? [NO_ENTITY];
  plans.forEach((plan, i) => {
    const problem = failureOf(plan, outcomes[i]!);
    if (problem === null) return;
    for (const entityId of named) errors.push({ entityId, error: problem, registrationId: plan.view.id });
  });
  if (errors.length === 0) return { status: 204 };
  return { status: 207, body: { success: [], errors: errors as unknown as JsonObject[] } };
}
