// Distributed aggregated temporal queries (format=aggregatedValues on GET /temporal/entities[/{id}] and POST
// /temporal/entityOperations/query; GS CIM 009 §4.5.19, §5.7.3, §5.7.4, §5.12; guide §15.4, §16.3; issue 7
// item 3): local history and the sources offering retrieveTemporal / queryTemporal each aggregate their own
// instances with the client's window, period and methods (plus the helpers sum, avg, sumsq that make avg
// and stddev combinable), and the answers are merged per entity and attribute by
// core/federation/aggregate-merge.ts. A value several parties hold that cannot be combined exactly keeps
// the first holder's and adds an NGSILD-Warning 299 naming the source left out. Failing sources: warnings,
// as for every distributed read.
import { methodsToAsk, mergeAggregateParts, onlyRequested, readRemoteAggregates, type AggregatePart, type MergedAggregates } from '../core/federation/aggregate-merge.ts';
import { apiRoot, forwardHeaders, queryString, type SourcePlan } from '../core/federation/plan.ts';
import type { SourceWarning } from '../core/federation/warning.ts';
import { isJsonObject, type JsonObject } from '../core/json.ts';
import type { TermMap } from '../core/jsonld/term-map.ts';
import type { AttrKind } from '../core/model/entity.ts';
import type { PageRequest } from '../core/query/entity-query.ts';
import { isZeroPeriod } from '../core/temporal/buckets.ts';
import type { AggregationMethod, PeriodDuration, TemporalEntityAggregates } from '../core/temporal/model.ts';
import type { ForwardOutcome } from '../ports/forwarder.ts';
import { readAnswers, sourceWarning } from './federation-answer.ts';
import { sourcesFor, type TemporalForm } from './federation-temporal.ts';
import type { SourceAccess } from './federation-writes.ts';
import type { Federated, ForwardContext } from './federation.ts';
import type { TemporalRequest } from './temporal-queries.ts';

/** What the client asked to aggregate. */
export interface AggregateAsk {
  methods: readonly AggregationMethod[];
  period: PeriodDuration | null;
}

export interface AggregatesPage {
  entities: TemporalEntityAggregates[];
  kinds: Record<string, Record<string, AttrKind>>;
  total?: number;
  hasMore: boolean;
}

/** Parameters applied here or rewritten per source; everything else (selection, window, q, geo) travels. */
const LOCAL_PARAMS = new Set(['local', 'limit', 'offset', 'count', 'pick', 'omit', 'format', 'options', 'lang', 'attrs', 'csf', 'aggrMethods', 'orderBy']);
const LOCAL_BODY_MEMBERS = new Set(['pick', 'omit', 'lang', 'attrs', '@context', 'aggrMethods', 'aggrParams']);

const compactList = (terms: TermMap, iris: readonly string[]): string => iris.map((i) => terms.compactIri(i)).join(',');

/** Parameters of every forwarded aggregated read: the representation, the methods to ask, attrs, localOnly. */
function aggregateParams(plan: SourcePlan, terms: TermMap, asked: readonly AggregationMethod[]): [string, string][] {
  // sysAttrs: the entity timestamps of an entity only a source holds.
  const params: [string, string][] = [['format', 'aggregatedValues'], ['options', 'sysAttrs'], ['aggrMethods', asked.join(',')]];
  if (plan.attrs !== undefined) params.push(['attrs', compactList(terms, plan.attrs)]);
  if (plan.localOnly) params.push(['local', 'true']);
  return params;
}

/** The conflicts of the merge as one warning per source whose values were left out. */
function conflictWarnings(merged: MergedAggregates, partPlans: readonly (SourcePlan | null)[]): SourceWarning[] {
  const byPart = new Map<number, MergedAggregates['conflicts']>();
  for (const c of merged.conflicts) byPart.set(c.part, [...(byPart.get(c.part) ?? []), c]);
  const out: SourceWarning[] = [];
  for (const [part, list] of byPart) {
    const plan = partPlans[part];
    if (plan === null || plan === undefined) continue;
    const first = list[0]!;
    const what = first.method === 'buckets' ? 'buckets with other boundaries' : first.method;
    out.push(
      sourceWarning(
        plan,
        299,
        `${list.length} aggregated value(s) also held by another party cannot be combined exactly and this source's were left out (e.g. ${what} of ${first.attr} of ${first.entityId})`,
      ),
    );
  }
  return out;
}

/** Reads the sources' answers into merge parts (in plan order) and warnings. */
function collect(plans: readonly SourcePlan[], outcomes: readonly ForwardOutcome[], terms: TermMap, nowIso: string, one: boolean) {
  const parts: AggregatePart[] = [];
  const partPlans: SourcePlan[] = [];
  const counts: number[] = [];
  const warnings = readAnswers(
    plans,
    outcomes,
    (a) => readRemoteAggregates(a.body, terms, nowIso, one),
    (part, plan, a) => {
      parts.push(part);
      partPlans.push(plan);
      const count = Number(a.headers['ngsild-results-count']);
      if (Number.isFinite(count)) counts.push(count);
    },
  );
  return { parts, partPlans, warnings, counts };
}

const single = (ask: AggregateAsk): boolean => ask.period === null || isZeroPeriod(ask.period);

/** The client's aggrPeriodDuration as sent (GET parameter, body member or aggrParams member). */
function rawPeriod(form: TemporalForm | { method: 'GET'; params: readonly (readonly [string, string])[] }): string | undefined {
  if (form.method === 'GET') return form.params.find(([k]) => k === 'aggrPeriodDuration')?.[1];
  const direct = form.body.aggrPeriodDuration;
  if (typeof direct === 'string') return direct;
  const nested = isJsonObject(form.body.aggrParams) ? form.body.aggrParams.aggrPeriodDuration : undefined;
  return typeof nested === 'string' ? nested : undefined;
}

/**
 * Aggregated Query Temporal Evolution of Entities over local history and matching sources. Null when no
 * source takes part. Paging as for temporal queries: every party is asked for the first offset+limit
 * entities, the merged list (local order, then new ids in source order) is cut to the page.
 */
export async function federatedAggregateQuery(
  access: SourceAccess,
  ctx: ForwardContext,
  req: TemporalRequest,
  page: PageRequest,
  form: TemporalForm,
  ask: AggregateAsk,
  local: (page: PageRequest, methods: readonly AggregationMethod[]) => Promise<AggregatesPage>,
): Promise<Federated<AggregatesPage> | null> {
  const plans = await sourcesFor(access, ctx, req, undefined, 'queryTemporal');
  if (plans.length === 0) return null;
  const asked = methodsToAsk(ask.methods);
  const window = page.offset + page.limit;
  const remoteLimit = Math.min(window + 1, access.maxRemotePage);
  const period = rawPeriod(form);
  const [own, ...outcomes] = await Promise.all([
    local({ limit: window, offset: 0, count: page.count }, asked),
    ...plans.map((plan) => {
      const headers = forwardHeaders(plan, ctx.headers, access.brokerId);
      const paging: [string, string][] = [['limit', String(remoteLimit)]];
      if (page.count) paging.push(['count', 'true']);
      if (form.method === 'GET') {
        const params: [string, string][] = form.params.filter(([k]) => !LOCAL_PARAMS.has(k)).map(([k, v]) => [k, v]);
        const url = `${apiRoot(plan.endpoint)}/temporal/entities${queryString([...params, ...aggregateParams(plan, ctx.terms, asked), ...paging])}`;
        return access.send(ctx, plan, { method: 'GET', url, headers, timeoutMs: plan.timeoutMs });
      }
      const body: JsonObject = Object.fromEntries(Object.entries(form.body).filter(([k]) => !LOCAL_BODY_MEMBERS.has(k)));
      body.aggrMethods = [...asked];
      if (period !== undefined) body.aggrPeriodDuration = period;
      if (plan.attrs !== undefined) body.attrs = plan.attrs.map((a) => ctx.terms.compactIri(a));
      const params: [string, string][] = [['format', 'aggregatedValues'], ['options', 'sysAttrs'], ...paging];
      if (plan.localOnly) params.push(['local', 'true']);
      const url = `${apiRoot(plan.endpoint)}/temporal/entityOperations/query${queryString(params)}`;
      return access.send(ctx, plan, { method: 'POST', url, headers, body, timeoutMs: plan.timeoutMs });
    }),
  ]);
  const remote = collect(plans, outcomes, ctx.terms, access.nowIso(), false);
  const merged = mergeAggregateParts([{ entities: own.entities, kinds: own.kinds }, ...remote.parts], asked, single(ask));
  const localIds = new Set(own.entities.map((e) => e.entity.id));
  const added = merged.entities.filter((e) => !localIds.has(e.entity.id)).length;
  const hasMore = own.hasMore || merged.entities.length > window || remote.parts.some((p) => p.entities.length > window);
  const value: AggregatesPage = { entities: merged.entities.slice(page.offset, window).map((e) => onlyRequested(e, ask.methods)), kinds: merged.kinds, hasMore };
  if (own.total !== undefined) value.total = Math.max(own.total + added, merged.entities.length, ...remote.counts);
  return { value, warnings: [...remote.warnings, ...conflictWarnings(merged, [null, ...remote.partPlans])] };
}

/**
 * Aggregated Retrieve Temporal Evolution of an Entity over local history and matching sources. Null when no
 * source takes part; the value is null when nobody holds the entity (404, with the warnings).
 */
export async function federatedAggregateRetrieve(
  access: SourceAccess,
  ctx: ForwardContext,
  id: string,
  req: TemporalRequest,
  params: readonly (readonly [string, string])[],
  ask: AggregateAsk,
  local: (methods: readonly AggregationMethod[]) => Promise<{ entity: TemporalEntityAggregates; kinds: Record<string, AttrKind> } | null>,
): Promise<Federated<{ entity: TemporalEntityAggregates; kinds: Record<string, AttrKind> } | null> | null> {
  const plans = await sourcesFor(access, ctx, req, [id], 'retrieveTemporal');
  if (plans.length === 0) return null;
  const asked = methodsToAsk(ask.methods);
  const [own, ...outcomes] = await Promise.all([
    local(asked),
    ...plans.map((plan) => {
      const forwarded: [string, string][] = [...params.filter(([k]) => !LOCAL_PARAMS.has(k)).map(([k, v]): [string, string] => [k, v]), ...aggregateParams(plan, ctx.terms, asked)];
      const url = `${apiRoot(plan.endpoint)}/temporal/entities/${encodeURIComponent(id).replace(/%3A/gi, ':')}${queryString(forwarded)}`;
      return access.send(ctx, plan, { method: 'GET', url, headers: forwardHeaders(plan, ctx.headers, access.brokerId), timeoutMs: plan.timeoutMs });
    }),
  ]);
  const remote = collect(plans, outcomes, ctx.terms, access.nowIso(), true);
  // A source answering for another id said nothing about this one.
  const parts = remote.parts.map((p) => ({ ...p, entities: p.entities.filter((e) => e.entity.id === id) }));
  const all: AggregatePart[] = own === null ? parts : [{ entities: [own.entity], kinds: { [id]: own.kinds } }, ...parts];
  const merged = mergeAggregateParts(all, asked, single(ask));
  const warnings = [...remote.warnings, ...conflictWarnings(merged, own === null ? remote.partPlans : [null, ...remote.partPlans])];
  const entity = merged.entities[0];
  if (entity === undefined) return { value: null, warnings };
  return { value: { entity: onlyRequested(entity, ask.methods), kinds: merged.kinds[id] ?? {} }, warnings };
}
