// Distributed operations (GS CIM 009 §4.3.6, §5.12, §6.3.17, §6.3.18; guide §16.3; issue 7 item 3):
// Retrieve Entity, Query Entities and type/attribute lists served from local data plus the registered context
// sources that match the request, merged by the core's rules; single-entity writes in federation-writes.ts.
// Nothing is forwarded when the request says local=true, when it already passed through this broker (Via),
// or when no registration matches: then the answer is exactly the local one. A source that fails, is slow
// or answers badly adds an NGSILD-Warning and contributes nothing.
import type { Entity } from '../core/model/entity.ts';
import type { JsonObject, JsonValue } from '../core/json.ts';
import { federatedBatch, type BatchForwarding } from './federation-batch.ts';
import type { BatchResult } from './batch.ts';
import type { TermMap } from '../core/jsonld/term-map.ts';
import type { ModelLimits } from '../core/model/write-ops.ts';
import { mergeEntity, withoutRemotelyHeld } from '../core/federation/merge.ts';
import { apiRoot, forwardHeaders, planSources, queryString, viaContains, type Candidate, type IncomingHeaders, type PlanOptions, type SourcePlan } from '../core/federation/plan.ts';
import { readRemoteEntities, readRemoteEntity, type RemoteRead } from '../core/federation/remote-entity.ts';
import { readRemoteTypes } from '../core/federation/remote-discovery.ts';
import type { DiscoveryRow } from '../core/query/discovery.ts';
import type { SourceWarning } from '../core/federation/warning.ts';
import { badRequestData } from '../core/errors.ts';
import { HELD_LOCALLY } from '../core/entity-map/model.ts';
import type { UpdateResult } from '../core/model/write-ops.ts';
import { federatedWrite, type SourceAccess, type WriteOutcome, type WriteRequest } from './federation-writes.ts';
import { readAnswers } from './federation-answer.ts';
import { federatedAggregateQuery, federatedAggregateRetrieve, type AggregateAsk, type AggregatesPage } from './federation-aggregate.ts';
import type { AggregationMethod, TemporalEntityAggregates } from '../core/temporal/model.ts';
import type { AttrKind } from '../core/model/entity.ts';
import { federatedPurge, type PurgeOutcome, type PurgeRequest } from './federation-purge.ts';
import { federatedTemporalQuery, federatedTemporalRetrieve, type LocalTemporal, type TemporalForm } from './federation-temporal.ts';
import type { TemporalEntityInstances } from '../core/temporal/model.ts';
import type { TemporalRequest } from './temporal-queries.ts';
import type { EntityQuery, PageRequest } from '../core/query/entity-query.ts';
import type { TypeExpr } from '../core/query/type-expr.ts';
import { viewOf, type RegistrationView } from '../core/registration/model.ts';
import type { OperationName } from '../core/registration/operations.ts';
import { matchingInformation, type RegistrationQuery } from '../core/registration/query.ts';
import type { TenantId } from '../core/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import type { ForwardOutcome, ForwardRequest, Forwarder } from '../ports/forwarder.ts';
import type { RegistrationStore, StoredRegistration } from '../ports/registration-store.ts';

export interface FederationDeps {
  registrations: RegistrationStore;
  forwarder: Forwarder;
  clock: Clock;
  limits: ModelLimits;
  /** This broker's pseudonym in Via headers. */
  brokerId: string;
  defaultTimeoutMs: number;
  /** Largest `limit` asked of a source (brokers refuse larger pages). */
  maxRemotePage: number;
  /**
   * How long a registrations version read stays trusted: reads do not query the store for it more often.
   * Changes made through this node call `invalidate()` and count at once; other nodes' within this time.
   */
  versionTtlMs: number;
  /** The per-attribute instance cap of temporal answers (KEND_TEMPORAL_INSTANCE_LIMIT). */
  temporalInstanceLimit?: number;
  logger?: { warn(obj: object, msg: string): void };
}

/** The request as forwarding sees it. */
export interface ForwardContext {
  tenant: TenantId;
  terms: TermMap;
  /** local=true: no forwarding (§6.3.18). */
  local: boolean;
  headers: IncomingHeaders;
}

export interface Federated<T> {
  value: T;
  warnings: SourceWarning[];
}

/** How the client asked: GET /entities with parameters, or POST /entityOperations/query with a Query body. */
export type QueryForm = { method: 'GET'; params: readonly (readonly [string, string])[] } | { method: 'POST'; body: JsonObject };

export interface FederatedPage {
  entities: Entity[];
  hasMore: boolean;
  total?: number;
  /** Entity id → who holds it: registration ids, "@none" for local data (for EntityMaps, §5.2.39). */
  heldBy?: ReadonlyMap<string, readonly string[]>;
}

/** Books `source` as a holder of entity `id`. */
function hold(heldBy: Map<string, string[]>, id: string, source: string): void {
  const list = heldBy.get(id);
  if (list === undefined) heldBy.set(id, [source]);
  else if (!list.includes(source)) list.push(source);
}

/** Parameters that shape or page the answer: applied here over the merged result, never forwarded. */
const LOCAL_PARAMS = new Set(['local', 'limit', 'offset', 'count', 'pick', 'omit', 'format', 'options', 'lang', 'geometryProperty', 'csf', 'orderBy', 'collation', 'expandValues', 'jsonKeys', 'attrs']);
const LOCAL_BODY_MEMBERS = new Set(['pick', 'omit', 'lang', 'attrs', '@context']);

export function createFederation(deps: FederationDeps) {
  const { registrations, forwarder, clock } = deps;
  /** Per tenant: the live registrations as of a registrations version (any node's change bumps it). */
  let recording: Promise<void> = Promise.resolve();
  const cache = new Map<TenantId, { version: number; items: { stored: StoredRegistration; view: RegistrationView }[] }>();

  let known: { version: number; atMs: number } | undefined;

  async function currentVersion(): Promise<number> {
    const nowMs = clock.nowMs();
    if (known !== undefined && nowMs - known.atMs < deps.versionTtlMs) return known.version;
    const version = await registrations.registrationsVersion();
    known = { version, atMs: nowMs };
    return version;
  }

  async function registered(tenant: TenantId): Promise<{ stored: StoredRegistration; view: RegistrationView }[]> {
    const version = await currentVersion();
    const hit = cache.get(tenant);
    if (hit !== undefined && hit.version === version) return hit.items;
    const page = await registrations.queryRegistrations(tenant, { now: clock.nowIso() }, { limit: 100_000, offset: 0, count: false });
    const items = page.items.map((stored) => ({ stored, view: viewOf(stored.payload) }));
    cache.set(tenant, { version, items });
    return items;
  }

  /** Registrations matching the request, [] when forwarding is off for it. */
  async function candidates(ctx: ForwardContext, query: RegistrationQuery): Promise<Candidate[]> {
    // A looping request still sees its matches: planSources decides between local-only and 508.
    if (ctx.local) return [];
    const now = clock.nowIso();
    const out: Candidate[] = [];
    for (const { stored, view } of await registered(ctx.tenant)) {
      const infos = matchingInformation(query, view, now);
      if (infos.length > 0) out.push({ view, forwarding: stored.forwarding, infos });
    }
    return out;
  }

  /** Sends one request and books the outcome on the registration (a 404 is a normal "nothing here"). */
  async function send(ctx: ForwardContext, plan: SourcePlan, request: ForwardRequest): Promise<ForwardOutcome> {
    let outcome: ForwardOutcome;
    try {
      outcome = await forwarder.send(request);
    } catch (e) {
      outcome = { kind: 'failed', reason: e instanceof Error ? e.message : String(e) };
    }
    const ok = outcome.kind === 'answered' && ((outcome.status >= 200 && outcome.status < 300) || outcome.status === 404);
    const at = clock.nowIso();
    // Booked in the background (the answer does not wait for it), one after the other in outcome order.
    recording = recording
      .then(() => registrations.recordForwarding(ctx.tenant, plan.view.id, { ok, at }))
      .catch((err: unknown) => deps.logger?.warn({ err }, 'recording a forwarding outcome failed'));
    const cached = cache.get(ctx.tenant)?.items.find((i) => i.stored.id === plan.view.id);
    if (cached !== undefined) {
      const f = cached.stored.forwarding;
      cached.stored.forwarding = ok ? { ...f, timesSent: f.timesSent + 1, lastSuccess: at, status: 'ok' } : { ...f, timesSent: f.timesSent + 1, timesFailed: f.timesFailed + 1, lastFailure: at, status: 'failed' };
    }
    return outcome;
  }

  function planOptions(ctx: ForwardContext): PlanOptions {
    return { nowMs: clock.nowMs(), defaultTimeoutMs: deps.defaultTimeoutMs, looping: viaContains(ctx.headers.via, deps.brokerId) };
  }

  const access: SourceAccess = {
    candidates,
    send,
    brokerId: deps.brokerId,
    planOptions,
    nowIso: () => clock.nowIso(),
    limits: deps.limits,
    maxRemotePage: deps.maxRemotePage,
  };

  const temporalOptions = { instanceLimit: deps.temporalInstanceLimit ?? 1000 };

  const compactList = (terms: TermMap, iris: readonly string[]): string => iris.map((i) => terms.compactIri(i)).join(',');


  return {
    /** A registration changed through this node: the next request reads the registrations again. */
    invalidate(): void {
      known = undefined;
    },

    /** A single-entity write (§5.12): see federatedWrite. Null when no registration takes part. */
    write(ctx: ForwardContext, w: WriteRequest, local: (body: JsonObject | undefined) => Promise<UpdateResult | void>): Promise<WriteOutcome | null> {
      return federatedWrite(access, ctx, w, local);
    },

    /** Purge Entities (§5.6.21): see federatedPurge. Null when no source takes part. */
    purge(ctx: ForwardContext, req: PurgeRequest, local: (spare: (e: Entity) => boolean) => Promise<void>): Promise<PurgeOutcome | null> {
      return federatedPurge(access, ctx, req, local);
    },

    /** A batch entity operation (§5.6.7–5.6.10, §5.6.20): see federatedBatch. Null when no source takes part. */
    async batch(ctx: ForwardContext, elements: readonly JsonValue[], fw: BatchForwarding, local: (elements: JsonValue[]) => Promise<BatchResult>): Promise<BatchResult | null> {
      // Without any registration in the tenant the elements are not inspected twice: the batch is plain local.
      if (ctx.local || (await registered(ctx.tenant)).length === 0) return null;
      return federatedBatch(access, ctx, elements, fw, local);
    },

    /** Query Temporal Evolution of Entities (§5.7.4): see federatedTemporalQuery. Null when no source takes part. */
    temporalQuery(ctx: ForwardContext, req: TemporalRequest, page: PageRequest, form: TemporalForm, local: (page: PageRequest) => Promise<LocalTemporal>) {
      return federatedTemporalQuery(access, ctx, req, page, form, temporalOptions, local);
    },

    /** Retrieve Temporal Evolution of an Entity (§5.7.3): see federatedTemporalRetrieve. Null when no source takes part. */
    temporalRetrieve(
      ctx: ForwardContext,
      id: string,
      req: TemporalRequest,
      params: readonly (readonly [string, string])[],
      local: () => Promise<(LocalTemporal & { entity: TemporalEntityInstances }) | null>,
    ) {
      return federatedTemporalRetrieve(access, ctx, id, req, params, temporalOptions, local);
    },

    /** Aggregated Query Temporal Evolution of Entities: see federatedAggregateQuery. Null when no source takes part. */
    aggregateQuery(
      ctx: ForwardContext,
      req: TemporalRequest,
      page: PageRequest,
      form: TemporalForm,
      ask: AggregateAsk,
      local: (page: PageRequest, methods: readonly AggregationMethod[]) => Promise<AggregatesPage>,
    ) {
      return federatedAggregateQuery(access, ctx, req, page, form, ask, local);
    },

    /** Aggregated Retrieve Temporal Evolution of an Entity: see federatedAggregateRetrieve. Null when no source takes part. */
    aggregateRetrieve(
      ctx: ForwardContext,
      id: string,
      req: TemporalRequest,
      params: readonly (readonly [string, string])[],
      ask: AggregateAsk,
      local: (methods: readonly AggregationMethod[]) => Promise<{ entity: TemporalEntityAggregates; kinds: Record<string, AttrKind> } | null>,
    ) {
      return federatedAggregateRetrieve(access, ctx, id, req, params, ask, local);
    },

    /**
     * Type and attribute lists (§5.7.5–5.7.8): the rows the sources offering `op` contribute, read from their
     * `GET /types?details=true`. Null when no source takes part.
     */
    async discoveryRows(ctx: ForwardContext, op: 'retrieveEntityTypes' | 'retrieveAttrTypes'): Promise<Federated<DiscoveryRow[]> | null> {
      const found = await candidates(ctx, { latestOnly: false });
      const plans = planSources(found, [op], undefined, planOptions(ctx));
      if (plans.length === 0) return null;
      const answers = await Promise.all(
        plans.map((plan) => {
          const params: [string, string][] = [['details', 'true']];
          if (plan.localOnly) params.push(['local', 'true']);
          const url = `${apiRoot(plan.endpoint)}/types${queryString(params)}`;
          return send(ctx, plan, { method: 'GET', url, headers: forwardHeaders(plan, ctx.headers, deps.brokerId), timeoutMs: plan.timeoutMs });
        }),
      );
      const rows: DiscoveryRow[] = [];
      const warnings = readAnswers(plans, answers, (a) => readRemoteTypes(a.body, ctx.terms), (read) => rows.push(...read));
      return { value: rows, warnings };
    },

    /**
     * Type or attribute details (§5.7.7 retrieveEntityTypeInfo, §5.7.10 retrieveAttrTypeInfo): what each
     * source offering the operation answers for `GET /types/{name}` or `GET /attributes/{name}`, read by
     * `read`. Null when no source takes part.
     */
    async details<T>(
      ctx: ForwardContext,
      what: { op: 'retrieveEntityTypeInfo'; type: string } | { op: 'retrieveAttrTypeInfo'; attr: string },
      read: (body: JsonValue | undefined) => RemoteRead<T>,
    ): Promise<Federated<T[]> | null> {
      const regQuery: RegistrationQuery =
        what.op === 'retrieveEntityTypeInfo' ? { selectors: [{ type: { op: 'type', name: what.type } }], latestOnly: false } : { attrs: [what.attr], latestOnly: false };
      const found = await candidates(ctx, regQuery);
      const plans = planSources(found, [what.op], what.op === 'retrieveAttrTypeInfo' ? [what.attr] : undefined, planOptions(ctx));
      if (plans.length === 0) return null;
      const path = what.op === 'retrieveEntityTypeInfo' ? `/types/${encodeURIComponent(ctx.terms.compactIri(what.type))}` : `/attributes/${encodeURIComponent(ctx.terms.compactIri(what.attr))}`;
      const answers = await Promise.all(
        plans.map((plan) => {
          const url = `${apiRoot(plan.endpoint)}${path}${queryString(plan.localOnly ? [['local', 'true']] : [])}`;
          return send(ctx, plan, { method: 'GET', url, headers: forwardHeaders(plan, ctx.headers, deps.brokerId), timeoutMs: plan.timeoutMs });
        }),
      );
      const value: T[] = [];
      const warnings = readAnswers(plans, answers, (a) => read(a.body), (v) => value.push(v));
      return { value, warnings };
    },

    /** Retrieve Entity (§5.7.1) over local data and matching sources; `local` reads the local entity or null. */
    async retrieve(
      ctx: ForwardContext,
      target: { id: string; type?: TypeExpr; typeParam?: string },
      attrs: string[] | undefined,
      local: () => Promise<Entity | null>,
    ): Promise<(Federated<Entity | null> & { heldBy: string[] }) | null> {
      const selector = target.type === undefined ? { ids: [target.id] } : { ids: [target.id], type: target.type };
      const found = await candidates(ctx, { selectors: [selector], ...(attrs !== undefined ? { attrs } : {}), latestOnly: false });
      const plans = planSources(found, ['retrieveEntity'] satisfies OperationName[], attrs, planOptions(ctx));
      if (plans.length === 0) return null;
      const [own, ...answers] = await Promise.all([
        local(),
        ...plans.map((plan) => {
          const params: [string, string][] = [];
          if (plan.attrs !== undefined) params.push(['attrs', compactList(ctx.terms, plan.attrs)]);
          if (target.typeParam !== undefined) params.push(['type', target.typeParam]);
          if (plan.localOnly) params.push(['local', 'true']);
          const url = `${apiRoot(plan.endpoint)}/entities/${encodeURIComponent(target.id).replace(/%3A/gi, ':')}${queryString(params)}`;
          return send(ctx, plan, { method: 'GET', url, headers: forwardHeaders(plan, ctx.headers, deps.brokerId), timeoutMs: plan.timeoutMs });
        }),
      ]);
      const views = plans.map((p) => p.view);
      let merged = own === null ? null : withoutRemotelyHeld(own, views);
      const heldBy: string[] = merged === null ? [] : [HELD_LOCALLY];
      const auxiliary: Entity[] = [];
      const now = clock.nowIso();
      const warnings = readAnswers(
        plans,
        answers,
        (a) => readRemoteEntity(a.body, target.id, ctx.terms, deps.limits, now),
        (entity, plan) => {
          if (entity === null) return;
          if (!heldBy.includes(plan.view.id)) heldBy.push(plan.view.id);
          if (plan.view.mode === 'auxiliary') auxiliary.push(entity);
          else merged = mergeEntity(merged, entity);
        },
      );
      for (const e of auxiliary) merged = mergeEntity(merged, e, true);
      return { value: merged, warnings, heldBy };
    },

    /**
     * Query Entities (§5.7.2) over local data and matching sources. Null when no source takes part (the
     * caller answers locally, unchanged). Paging: each party is asked for the first offset+limit matches,
     * the merged list (local order first, then new ids in source order) is cut to the page.
     */
    async query(
      ctx: ForwardContext,
      query: EntityQuery,
      page: PageRequest,
      form: QueryForm,
      local: (page: PageRequest) => Promise<FederatedPage>,
    ): Promise<Federated<FederatedPage> | null> {
      const regQuery: RegistrationQuery = { latestOnly: false };
      if (query.selectors !== undefined && query.selectors.length > 0) regQuery.selectors = query.selectors;
      if (query.attrs !== undefined) regQuery.attrs = query.attrs;
      // q is not matched against registrations here: its terms name entity attributes, which a source whose
      // registration lists no attribute names may hold all of; the source evaluates q itself.
      if (query.scopeQ !== undefined) regQuery.scopeQ = query.scopeQ;
      if (query.geo !== undefined) regQuery.geo = query.geo;
      const found = await candidates(ctx, regQuery);
      const ops: OperationName[] = form.method === 'GET' ? ['queryEntity', 'queryBatch'] : ['queryBatch', 'queryEntity'];
      const plans = planSources(found, ops, query.attrs, planOptions(ctx));
      if (plans.length === 0) return null;
      // Sources cannot be asked to sort consistently with local data (guide §16.3: orderBy with distributed execution → 400).
      if (query.order !== undefined && query.order.length > 0) {
        throw badRequestData('orderBy cannot be used with a query that registered context sources take part in; add local=true to sort local data', 'Invalid orderBy');
      }
      const window = page.offset + page.limit;
      const remoteLimit = Math.min(window + 1, deps.maxRemotePage);
      const [own, ...answers] = await Promise.all([
        local({ limit: window, offset: 0, count: page.count }),
        ...plans.map((plan) => {
          const headers = forwardHeaders(plan, ctx.headers, deps.brokerId);
          const paging: [string, string][] = [['limit', String(remoteLimit)]];
          if (page.count) paging.push(['count', 'true']);
          if (plan.localOnly) paging.push(['local', 'true']);
          if (form.method === 'GET') {
            const params: [string, string][] = form.params.filter(([k]) => !LOCAL_PARAMS.has(k)).map(([k, v]) => [k, v]);
            if (plan.attrs !== undefined) params.push(['attrs', compactList(ctx.terms, plan.attrs)]);
            const url = `${apiRoot(plan.endpoint)}/entities${queryString([...params, ...paging])}`;
            return send(ctx, plan, { method: 'GET', url, headers, timeoutMs: plan.timeoutMs });
          }
          const body: JsonObject = Object.fromEntries(Object.entries(form.body).filter(([k]) => !LOCAL_BODY_MEMBERS.has(k)));
          if (plan.attrs !== undefined) body.attrs = plan.attrs.map((a) => ctx.terms.compactIri(a));
          const url = `${apiRoot(plan.endpoint)}/entityOperations/query${queryString(paging)}`;
          return send(ctx, plan, { method: 'POST', url, headers, body, timeoutMs: plan.timeoutMs });
        }),
      ]);
      const views = plans.map((p) => p.view);
      const byId = new Map<string, Entity>();
      const heldBy = new Map<string, string[]>();
      for (const e of own.entities) {
        const kept = withoutRemotelyHeld(e, views);
        if (kept === null) continue;
        byId.set(e.id, kept);
        hold(heldBy, e.id, HELD_LOCALLY);
      }
      const auxiliary: Entity[] = [];
      let hasMore = own.hasMore;
      let total = own.total;
      const now = clock.nowIso();
      const warnings = readAnswers(
        plans,
        answers,
        (a) => readRemoteEntities(a.body, ctx.terms, deps.limits, now),
        (entities, plan, a) => {
          if (entities.length > window) hasMore = true;
          const count = Number(a.headers['ngsild-results-count']);
          let added = 0;
          for (const e of entities) {
            hold(heldBy, e.id, plan.view.id);
            if (plan.view.mode === 'auxiliary') {
              auxiliary.push(e);
              continue;
            }
            if (!byId.has(e.id)) added++;
            byId.set(e.id, mergeEntity(byId.get(e.id) ?? null, e));
          }
          // Counts from several parties overlap when they hold the same entity: the page's overlap is removed, a best effort.
          if (total !== undefined && Number.isFinite(count)) total += Math.max(added, count - (entities.length - added));
        },
      );
      for (const e of auxiliary) byId.set(e.id, mergeEntity(byId.get(e.id) ?? null, e, true));
      const all = [...byId.values()];
      if (all.length > window) hasMore = true;
      const value: FederatedPage = { entities: all.slice(page.offset, window), hasMore, heldBy };
      if (total !== undefined) value.total = Math.max(total, all.length);
      return { value, warnings };
    },
  };
}

export type Federation = ReturnType<typeof createFederation>;
