// The /jsonldContexts operations (GS CIM 009 §5.13.2–§5.13.5, §6.29, §6.30; guide §17): add a Hosted
// context, list, serve and delete/reload entries of the three kinds Hosted, Cached, ImplicitlyCreated.
import { randomUUID } from 'node:crypto';
import { NgsiError, badRequestData, notFound } from '../core/errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';
import type { Clock } from '../ports/clock.ts';
import type { ContextKind, EntityStore, StoredContext } from '../ports/store.ts';
import { CORE_LOCAL_ID, type ContextDocuments } from './context-documents.ts';
import { assertContextValue } from './context-gather.ts';

export interface ContextAdmin {
  /** POST /jsonldContexts: stores `{"@context": ...}` as a Hosted entry (URLs in it are downloaded). */
  addHosted(body: JsonValue): Promise<{ localId: string }>;
  /** GET /jsonldContexts: URL strings, or metadata objects with details=true. */
  list(params: { kind?: string; details?: string }): Promise<JsonValue>;
  /** GET /jsonldContexts/{contextId}: the stored document, or its metadata with details=true. */
  serve(contextId: string, details?: string): Promise<JsonValue>;
  /** DELETE /jsonldContexts/{contextId}[?reload=true]. */
  remove(contextId: string, reload?: string): Promise<void>;
}

export interface ContextAdminDeps {
  store: Pick<EntityStore, 'putContext' | 'getContext' | 'listContexts' | 'deleteContext'>;
  clock: Clock;
  documents: ContextDocuments;
  /** Processes a context as a request would (downloading its URLs); throws 400/504 when it is not usable. */
  validate(context: JsonValue): Promise<void>;
  /** Called after an entry was deleted or replaced, so resolved contexts built from it are dropped. */
  changed(localId?: string): void;
}

/** One entry as listed, whatever its kind. */
interface EntryView {
  url: string;
  localId: string;
  kind: ContextKind;
  createdAtMs: number;
  expiresAtMs?: number;
  document?: JsonValue;
}

const KINDS: readonly ContextKind[] = ['Hosted', 'Cached', 'ImplicitlyCreated'];

function parseFlag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw badRequestData(`${name} must be true or false, not "${value}"`);
}

export function createContextAdmin(deps: ContextAdminDeps): ContextAdmin {
  const { store, clock, documents } = deps;

  const coreView = (): EntryView => ({
    url: documents.coreUrl,
    localId: CORE_LOCAL_ID,
    kind: 'Cached',
    createdAtMs: documents.coreCreatedAtMs,
  });

  const storedView = (e: StoredContext): EntryView => ({
    url: documents.servedUrl(e.localId),
    localId: e.localId,
    kind: e.kind,
    createdAtMs: Date.parse(e.createdAt),
    document: e.document,
  });

  function cachedViews(): EntryView[] {
    return [
      coreView(),
      ...documents.cachedEntries().map((e) => ({
        url: e.url,
        localId: e.localId,
        kind: 'Cached' as const,
        createdAtMs: e.createdAtMs,
        expiresAtMs: e.expiresAtMs,
      })),
    ];
  }

  function metadata(v: EntryView): JsonObject {
    const out: JsonObject = {
      URL: v.url,
      localId: v.localId,
      kind: v.kind,
      createdAt: new Date(v.createdAtMs).toISOString(),
    };
    if (v.expiresAtMs !== undefined) out.expiresAt = new Date(v.expiresAtMs).toISOString();
    const stats = documents.statsOf(v.localId);
    if (stats !== undefined) out.lastUsage = new Date(stats.lastUsedMs).toISOString();
    out.numberOfHits = stats?.hits ?? 0;
    return out;
  }

  /** Finds an entry by localId, or a Cached one by its original URL. */
  async function find(contextId: string): Promise<EntryView | undefined> {
    if (contextId === CORE_LOCAL_ID || contextId === documents.coreUrl) return coreView();
    const cached = documents.cachedByLocalId(contextId) ?? documents.cachedByUrl(contextId);
    if (cached !== undefined) {
      return { url: cached.url, localId: cached.localId, kind: 'Cached', createdAtMs: cached.createdAtMs, expiresAtMs: cached.expiresAtMs };
    }
    const stored = await store.getContext(contextId);
    return stored === null || stored.kind === 'Cached' ? undefined : storedView(stored);
  }

  return {
    async addHosted(body) {
      if (!isJsonObject(body)) throw badRequestData('The body must be a JSON object with an @context member');
      if (!('@context' in body)) throw badRequestData('The body has no @context member');
      const context = body['@context'];
      assertContextValue(context, 'The @context member');
      await deps.validate(context);
      const localId = randomUUID();
      await store.putContext({ localId, kind: 'Hosted', document: { '@context': context }, createdAt: clock.nowIso() });
      return { localId };
    },

    async list(params) {
      const kind = params.kind;
      if (kind !== undefined && !(KINDS as readonly string[]).includes(kind)) {
        throw badRequestData(`kind must be one of ${KINDS.join(', ')}, not "${kind}"`);
      }
      const details = parseFlag('details', params.details);
      const views: EntryView[] = [];
      if (kind !== 'Cached') {
        for (const e of await store.listContexts()) {
          if (e.kind !== 'Cached' && (kind === undefined || e.kind === kind)) views.push(storedView(e));
        }
      }
      if (kind === undefined || kind === 'Cached') views.push(...cachedViews());
      return details ? views.map(metadata) : views.map((v) => v.url);
    },

    async serve(contextId, detailsParam) {
      const details = parseFlag('details', detailsParam);
      const entry = await find(contextId);
      if (entry === undefined) throw notFound(`No @context ${contextId} in the @context store`, '@context not found');
      if (details) return metadata(entry);
      if (entry.kind === 'Cached') {
        throw new NgsiError(
          'OperationNotSupported',
          `@context ${contextId} is a Cached copy of ${entry.url}; only its metadata (details=true) is served`,
        );
      }
      return entry.document ?? null;
    },

    async remove(contextId, reloadParam) {
      const reload = parseFlag('reload', reloadParam);
      const entry = await find(contextId);
      if (entry === undefined) {
        if (reload) throw badRequestData(`No @context ${contextId} to reload`);
        throw notFound(`No @context ${contextId} in the @context store`, '@context not found');
      }
      if (entry.localId === CORE_LOCAL_ID) {
        if (!reload) throw badRequestData('The core @context cannot be deleted; it can only be reloaded (reload=true)');
        documents.reloadCore();
        deps.changed();
        return;
      }
      if (entry.kind === 'Cached') {
        if (reload) await documents.refresh(entry.url);
        else documents.drop(entry.url);
        deps.changed();
        return;
      }
      if (reload) throw badRequestData(`@context ${contextId} is ${entry.kind}; only Cached contexts can be reloaded`);
      await store.deleteContext(entry.localId);
      documents.forgetStats(entry.localId);
      deps.changed(entry.localId);
    },
  };
}
