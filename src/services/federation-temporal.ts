// Distributed temporal queries (GS CIM 009 §5.7.3, §5.7.4, §5.12, §6.3.10, §6.3.17; guide §15.3, §16.3;
// issue 7 item 3): Retrieve and Query Temporal Evolution of Entities served from local history plus the
// matching sources offering retrieveTemporal / queryTemporal, merged instance by instance
// (core/federation/temporal-merge.ts), then cut to the instance cap exactly as a local answer is. Sources are
// asked for the normalized representation with sysAttrs (the merge compares instance times; the client's
// format is rendered here). Aggregated queries: federation-aggregate.ts. A source that fails adds an NGSILD-Warning and contributes nothing.
import { apiRoot, forwardHeaders, planSources, queryString, type SourcePlan } from '../core/federation/plan.ts';
import { contentRangeEnd, readRemoteTemporalEntities, readRemoteTemporalEntity } from '../core/federation/remote-temporal.ts';
import { mergeTemporalParts, type TemporalPart } from '../core/federation/temporal-merge.ts';
import type { SourceWarning } from '../core/federation/warning.ts';
import type { JsonObject } from '../core/json.ts';
import type { TermMap } from '../core/jsonld/term-map.ts';
import type { PageRequest } from '../core/query/entity-query.ts';
import { mayHoldWindow, type RegistrationQuery } from '../core/registration/query.ts';
import { applyInstanceRange } from '../core/temporal/instance-range.ts';
import type { TemporalEntityInstances } from '../core/temporal/model.ts';
import type { ForwardOutcome } from '../ports/forwarder.ts';
import { readAnswers, type SourceBody } from './federation-answer.ts';
import type { SourceAccess } from './federation-writes.ts';
import type { Federated, ForwardContext } from './federation.ts';
import type { InstancesResult, TemporalRequest } from './temporal-queries.ts';

/** How the client asked: GET with parameters, or POST /temporal/entityOperations/query with a body. */
export type TemporalForm = { method: 'GET'; params: readonly (readonly [string, string])[] } | { method: 'POST'; body: JsonObject };

/** Parameters applied here over the merged answer (shaping, paging), or replaced per source (attrs). */
const LOCAL_PARAMS = new Set(['local', 'limit', 'offset', 'count', 'pick', 'omit', 'format', 'options', 'lang', 'attrs', 'csf', 'aggrMethods', 'aggrPeriodDuration', 'orderBy']);
const LOCAL_BODY_MEMBERS = new Set(['pick', 'omit', 'lang', 'attrs', '@context', 'aggrMethods', 'aggrPeriodDuration', 'aggrParams']);

/** The local part of a distributed temporal answer. */
export interface LocalTemporal {
  entities: TemporalEntityInstances[];
  total?: number;
  hasMore: boolean;
  contentRange?: string;
}

export async function sourcesFor(access: SourceAccess, ctx: ForwardContext, req: TemporalRequest, selectorIds: string[] | undefined, op: 'retrieveTemporal' | 'queryTemporal'): Promise<SourcePlan[]> {
  const regQuery: RegistrationQuery = { latestOnly: false };
  const selectors = selectorIds !== undefined ? [{ ids: selectorIds }] : req.selection.selectors;
  if (selectors !== undefined && selectors.length > 0) regQuery.selectors = selectors;
  if (req.selection.attrs !== undefined) regQuery.attrs = req.selection.attrs;
  if (req.selection.scopeQ !== undefined) regQuery.scopeQ = req.selection.scopeQ;
  if (req.filter.geo !== undefined) regQuery.geo = req.filter.geo;
  const found = (await access.candidates(ctx, regQuery)).filter((c) => mayHoldWindow(c.view, req.selection.window));
  return planSources(found, [op], req.selection.attrs, access.planOptions(ctx));
}

const compactList = (terms: TermMap, iris: readonly string[]): string => iris.map((i) => terms.compactIri(i)).join(',');

/** Parameters every forwarded temporal read carries: sysAttrs (instance times), narrowed attrs, localOnly. */
function commonParams(plan: SourcePlan, terms: TermMap): [string, string][] {
  const params: [string, string][] = [['options', 'sysAttrs']];
  if (plan.attrs !== undefined) params.push(['attrs', compactList(terms, plan.attrs)]);
  if (plan.localOnly) params.push(['local', 'true']);
  return params;
}

interface Collected {
  parts: TemporalPart[];
  warnings: SourceWarning[];
  hasMore: boolean;
  /** Sum of the sources' NGSILD-Results-Count over new ids (a best effort, as for entity queries). */
  counts: number[];
}

/** Turns the sources' answers into merge parts and warnings. */
function collect(
  plans: readonly SourcePlan[],
  outcomes: readonly ForwardOutcome[],
  read: (plan: SourcePlan, body: SourceBody) => ReturnType<typeof readRemoteTemporalEntities>,
): Collected {
  const out: Collected = { parts: [], warnings: [], hasMore: false, counts: [] };
  out.warnings = readAnswers(
    plans,
    outcomes,
    (a, plan) => read(plan, a),
    (entities, plan, a) => {
      const part: TemporalPart = { entities, fillOnly: plan.view.mode === 'auxiliary' };
      const cut = a.status === 206 ? contentRangeEnd(a.headers['content-range']) : null;
      if (cut !== null) part.cutAt = cut;
      out.parts.push(part);
      const count = Number(a.headers['ngsild-results-count']);
      if (Number.isFinite(count)) out.counts.push(count);
    },
  );
  return out;
}

export interface TemporalFederationOptions {
  /** The per-attribute instance cap (KEND_TEMPORAL_INSTANCE_LIMIT). */
  instanceLimit: number;
}

function rangeRequest(req: TemporalRequest, cap: number) {
  return {
    window: req.selection.window,
    cap,
    ...(req.lastN !== undefined ? { lastN: req.lastN } : {}),
    ...(req.timeAt !== undefined ? { timeAt: req.timeAt } : {}),
    ...(req.endTimeAt !== undefined ? { endTimeAt: req.endTimeAt } : {}),
  };
}

/**
 * Query Temporal Evolution of Entities over local history and matching sources. Null when no source takes
 * part (the caller answers locally, unchanged). Paging as for entity queries: every party is asked for the
 * first offset+limit entities, the merged list (local order, then new ids in source order) is cut to the page.
 */
export async function federatedTemporalQuery(
  access: SourceAccess,
  ctx: ForwardContext,
  req: TemporalRequest,
  page: PageRequest,
  form: TemporalForm,
  opts: TemporalFederationOptions,
  local: (page: PageRequest) => Promise<LocalTemporal>,
): Promise<Federated<InstancesResult> | null> {
  const plans = await sourcesFor(access, ctx, req, undefined, 'queryTemporal');
  if (plans.length === 0) return null;
  const window = page.offset + page.limit;
  const remoteLimit = Math.min(window + 1, access.maxRemotePage);
  const [own, ...outcomes] = await Promise.all([
    local({ limit: window, offset: 0, count: page.count }),
    ...plans.map((plan) => {
      const headers = forwardHeaders(plan, ctx.headers, access.brokerId);
      const paging: [string, string][] = [['limit', String(remoteLimit)], ...commonParams(plan, ctx.terms)];
      if (page.count) paging.push(['count', 'true']);
      if (form.method === 'GET') {
        const params: [string, string][] = form.params.filter(([k]) => !LOCAL_PARAMS.has(k)).map(([k, v]) => [k, v]);
        const url = `${apiRoot(plan.endpoint)}/temporal/entities${queryString([...params, ...paging])}`;
        return access.send(ctx, plan, { method: 'GET', url, headers, timeoutMs: plan.timeoutMs });
      }
      const body: JsonObject = Object.fromEntries(Object.entries(form.body).filter(([k]) => !LOCAL_BODY_MEMBERS.has(k)));
      if (plan.attrs !== undefined) body.attrs = plan.attrs.map((a) => ctx.terms.compactIri(a));
      const url = `${apiRoot(plan.endpoint)}/temporal/entityOperations/query${queryString(paging.filter(([k]) => k !== 'attrs'))}`;
      return access.send(ctx, plan, { method: 'POST', url, headers, body, timeoutMs: plan.timeoutMs });
    }),
  ]);
  const now = access.nowIso();
  const remote = collect(plans, outcomes, (_plan, a) => readRemoteTemporalEntities(a.body, ctx.terms, access.limits, now));
  const ownPart: TemporalPart = { entities: own.entities };
  const ownCut = contentRangeEnd(own.contentRange);
  if (ownCut !== null) ownPart.cutAt = ownCut;
  const merged = mergeTemporalParts([ownPart, ...remote.parts], { timeProperty: req.selection.window.property, ...(req.lastN !== undefined ? { lastN: req.lastN } : {}) });
  const localIds = new Set(own.entities.map((e) => e.entity.id));
  const added = merged.entities.filter((e) => !localIds.has(e.entity.id)).length;
  const hasMore = own.hasMore || merged.entities.length > window || remote.parts.some((p) => p.entities.length > window);
  const ranged = applyInstanceRange(merged.entities.slice(page.offset, window), { ...rangeRequest(req, opts.instanceLimit), ...(merged.cutAt !== undefined ? { cutAt: merged.cutAt } : {}) });
  const value: InstancesResult = { entities: ranged.entities, hasMore };
  if (ranged.contentRange !== undefined) value.contentRange = ranged.contentRange;
  if (own.total !== undefined) value.total = Math.max(own.total + added, merged.entities.length, ...remote.counts);
  return { value, warnings: remote.warnings };
}

/**
 * Retrieve Temporal Evolution of an Entity over local history and matching sources. Null when no source
 * takes part; the value is null when nobody holds the entity (404, with the warnings).
 */
export async function federatedTemporalRetrieve(
  access: SourceAccess,
  ctx: ForwardContext,
  id: string,
  req: TemporalRequest,
  params: readonly (readonly [string, string])[],
  opts: TemporalFederationOptions,
  local: () => Promise<(LocalTemporal & { entity: TemporalEntityInstances }) | null>,
): Promise<Federated<{ entity: TemporalEntityInstances | null; contentRange?: string }> | null> {
  const plans = await sourcesFor(access, ctx, req, [id], 'retrieveTemporal');
  if (plans.length === 0) return null;
  const [own, ...outcomes] = await Promise.all([
    local(),
    ...plans.map((plan) => {
      const forwarded: [string, string][] = [...params.filter(([k]) => !LOCAL_PARAMS.has(k)).map(([k, v]): [string, string] => [k, v]), ...commonParams(plan, ctx.terms)];
      const url = `${apiRoot(plan.endpoint)}/temporal/entities/${encodeURIComponent(id).replace(/%3A/gi, ':')}${queryString(forwarded)}`;
      return access.send(ctx, plan, { method: 'GET', url, headers: forwardHeaders(plan, ctx.headers, access.brokerId), timeoutMs: plan.timeoutMs });
    }),
  ]);
  const now = access.nowIso();
  const remote = collect(plans, outcomes, (_plan, a) => {
    const one = readRemoteTemporalEntity(a.body, id, ctx.terms, access.limits, now);
    return one.ok ? { ok: true, value: [one.value] } : one;
  });
  const parts: TemporalPart[] = [...remote.parts];
  if (own !== null) {
    const ownPart: TemporalPart = { entities: [own.entity] };
    const ownCut = contentRangeEnd(own.contentRange);
    if (ownCut !== null) ownPart.cutAt = ownCut;
    parts.unshift(ownPart);
  }
  const merged = mergeTemporalParts(parts, { timeProperty: req.selection.window.property, ...(req.lastN !== undefined ? { lastN: req.lastN } : {}) });
  const entity = merged.entities[0];
  if (entity === undefined) return { value: { entity: null }, warnings: remote.warnings };
  const ranged = applyInstanceRange([entity], { ...rangeRequest(req, opts.instanceLimit), ...(merged.cutAt !== undefined ? { cutAt: merged.cutAt } : {}) });
  const value: { entity: TemporalEntityInstances; contentRange?: string } = { entity: ranged.entities[0]! };
  if (ranged.contentRange !== undefined) value.contentRange = ranged.contentRange;
  return { value, warnings: remote.warnings };
}
