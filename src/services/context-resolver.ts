// The @context resolver (GS CIM 009 §4.4, §5.5.7, §6.3.5; guide §4, §17): turns a request's @context into a
// cached RequestContext (term map with the core context winning), mints ImplicitlyCreated contexts for
// Link headers, and exposes the /jsonldContexts operations (§5.13, §6.29, §6.30).
import { createHash } from 'node:crypto';
import jsonld from 'jsonld';
import { NgsiError, badRequestData } from '../core/errors.ts';
import type { JsonObject, JsonValue } from '../core/json.ts';
import { CORE_SCOPED_IMPORTS } from '../core/jsonld/core-context.ts';
import type { RequestContext } from '../core/jsonld/term-map.ts';
import { buildTermMap, type ActiveContextLike } from '../core/jsonld/term-map-build.ts';
import type { KendConfig } from '../config/schema.ts';
import type { Clock } from '../ports/clock.ts';
import type { DocumentFetcher } from '../ports/context-loader.ts';
import type { EntityStore } from '../ports/store.ts';
import { CORE_LOCAL_ID, createContextDocuments } from './context-documents.ts';
import { createContextAdmin, type ContextAdmin } from './context-admin.ts';
import { assertContextValue, gatherDocuments, type Gathered } from './context-gather.ts';

/** Distinct user contexts whose RequestContext is kept. */
const MAX_REQUEST_CONTEXTS = 1000;
/** ImplicitlyCreated ids known to exist in the store, so minting costs no store round trip. */
const MAX_KNOWN_IMPLICIT = 1000;

interface RemoteDocumentLike {
  document: JsonValue;
  documentUrl: string;
  contextUrl: null;
}
interface ProcessOptions {
  documentLoader: (url: string) => Promise<RemoteDocumentLike>;
}
/** jsonld.js's `processContext`, which @types/jsonld leaves undeclared. */
interface JsonLdContextProcessor {
  processContext(active: unknown, local: JsonValue | null, options: ProcessOptions): Promise<unknown>;
}
const processor = jsonld as unknown as JsonLdContextProcessor;

export interface ContextResolverDeps {
  store: Pick<EntityStore, 'putContext' | 'getContext' | 'listContexts' | 'deleteContext'>;
  fetcher: DocumentFetcher;
  clock: Clock;
  config: Pick<
    KendConfig,
    'contextFetchTimeoutMs' | 'contextMaxBytes' | 'contextCacheTtlSeconds' | 'contextMaxDepth' | 'coreContextUrl' | 'publicUrl'
  >;
}

export interface ContextResolver extends ContextAdmin {
  /** Resolves a request's @context (undefined = core only). 400 BadRequestData / 504 LdContextNotAvailable. */
  resolve(userContext: JsonValue | undefined): Promise<RequestContext>;
  /** A single URL for a Link header: rc.url, or the served URL of an ImplicitlyCreated copy of rc.value. */
  ensureUrl(rc: RequestContext): Promise<string>;
  /** Absolute URL at which the entry `localId` is served. */
  servedUrl(localId: string): string;
}

interface Slot {
  rc: RequestContext;
  expiresAtMs: number;
  used: readonly string[];
}

/** The single URL denoting a user context, when it is one. */
function singleUrl(ctx: JsonValue): string | undefined {
  if (typeof ctx === 'string') return ctx;
  if (Array.isArray(ctx) && ctx.length === 1 && typeof ctx[0] === 'string') return ctx[0];
  return undefined;
}

function jsonLdFailure(e: unknown): NgsiError {
  if (e instanceof NgsiError) return e;
  const cause = (e as { details?: { cause?: unknown } } | null)?.details?.cause;
  if (cause instanceof NgsiError) return cause;
  const message = e instanceof Error ? e.message : String(e);
  return badRequestData(`Invalid JSON-LD @context: ${message}`);
}

export function createContextResolver(deps: ContextResolverDeps): ContextResolver {
  const { store, clock, config } = deps;
  const documents = createContextDocuments(deps);
  const coreUrl = config.coreContextUrl;

  function loaderFor(docs: ReadonlyMap<string, JsonObject>): ProcessOptions['documentLoader'] {
    return async (url) => {
      let document: JsonObject | undefined;
      if (documents.isCore(url)) document = documents.coreForProcessing(url);
      else document = docs.get(url) ?? (CORE_SCOPED_IMPORTS.has(url) ? { '@context': {} } : undefined);
      if (document === undefined) throw new NgsiError('LdContextNotAvailable', `@context ${url} was not loaded`);
      // jsonld.js rewrites relative URLs inside documents in place: hand it a copy.
      return { document: structuredClone(document), documentUrl: url, contextUrl: null };
    };
  }

  /** Core processed once: `base` lets user contexts use core prefixes; `active` is laid over every result. */
  const coreReady = (async () => {
    const loader = loaderFor(new Map());
    const initial = await processor.processContext(null, null, { documentLoader: loader });
    const active = await processor.processContext(initial, coreUrl, { documentLoader: loader });
    const rc: RequestContext = {
      terms: buildTermMap([active as ActiveContextLike]),
      value: coreUrl,
      url: coreUrl,
      isCoreOnly: true,
    };
    return { active: active as ActiveContextLike, base: active, rc };
  })();
  coreReady.catch(() => undefined);

  const slots = new Map<string, Slot>();
  const building = new Map<string, Promise<Slot>>();
  let generation = 0;
  const coreOnlyUse = [CORE_LOCAL_ID];

  async function build(userContext: JsonValue): Promise<Slot> {
    assertContextValue(userContext, 'The @context');
    const core = await coreReady;
    const gathered: Gathered = { docs: new Map(), used: new Set([CORE_LOCAL_ID]), expiresAtMs: Number.POSITIVE_INFINITY };
    await gatherDocuments(userContext, gathered, { documents, maxDepth: config.contextMaxDepth });
    let active: unknown;
    try {
      active = await processor.processContext(core.base, userContext, { documentLoader: loaderFor(gathered.docs) });
    } catch (e) {
      throw jsonLdFailure(e);
    }
    const rc: RequestContext = {
      terms: buildTermMap([active as ActiveContextLike, core.active]),
      value: userContext,
      url: singleUrl(userContext),
      isCoreOnly: false,
    };
    return { rc, expiresAtMs: gathered.expiresAtMs, used: [...gathered.used] };
  }

  /** One build per distinct context at a time; results kept in an LRU-ish bounded Map. */
  function slotFor(key: string, userContext: JsonValue): Promise<Slot> {
    const running = building.get(key);
    if (running !== undefined) return running;
    const startedIn = generation;
    const p = build(userContext).then((slot) => {
      if (startedIn === generation) {
        slots.set(key, slot);
        if (slots.size > MAX_REQUEST_CONTEXTS) {
          const oldest = slots.keys().next().value;
          if (oldest !== undefined) slots.delete(oldest);
        }
      }
      return slot;
    });
    building.set(key, p);
    const clear = (): void => {
      if (building.get(key) === p) building.delete(key);
    };
    p.then(clear, clear);
    return p;
  }

  function invalidate(): void {
    generation += 1;
    slots.clear();
    building.clear();
  }

  async function resolve(userContext: JsonValue | undefined): Promise<RequestContext> {
    if (userContext === undefined) {
      const core = await coreReady;
      documents.touch(coreOnlyUse);
      return core.rc;
    }
    const key = JSON.stringify(userContext);
    const slot = slots.get(key);
    if (slot !== undefined && slot.expiresAtMs > clock.nowMs()) {
      slots.delete(key);
      slots.set(key, slot);
      documents.touch(slot.used);
      return slot.rc;
    }
    if (slot !== undefined) slots.delete(key);
    const fresh = await slotFor(key, userContext);
    documents.touch(fresh.used);
    return fresh.rc;
  }

  const knownImplicit = new Set<string>();

  async function ensureUrl(rc: RequestContext): Promise<string> {
    if (rc.url !== undefined) return rc.url;
    const document: JsonObject = { '@context': rc.value };
    // Same content, same entry: the id is derived from the document, so restarts reuse it too.
    const localId = `implicit-${createHash('sha256').update(JSON.stringify(document)).digest('hex').slice(0, 32)}`;
    if (!knownImplicit.has(localId)) {
      const existing = await store.getContext(localId);
      if (existing === null) {
        await store.putContext({ localId, kind: 'ImplicitlyCreated', document, createdAt: clock.nowIso() });
      }
      if (knownImplicit.size >= MAX_KNOWN_IMPLICIT) knownImplicit.clear();
      knownImplicit.add(localId);
    }
    return documents.servedUrl(localId);
  }

  const admin = createContextAdmin({
    store,
    clock,
    documents,
    validate: async (ctx) => {
      await slotFor(JSON.stringify(ctx), ctx);
    },
    changed: (localId) => {
      if (localId !== undefined) knownImplicit.delete(localId);
      invalidate();
    },
  });

  return { ...admin, resolve, ensureUrl, servedUrl: documents.servedUrl };
}
