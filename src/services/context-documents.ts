// Where @context documents come from (GS CIM 009 §5.5.7, §5.13; guide §4.2, §4.4, §17): bundled core copies
// (never the network), this broker's served URLs (read from the store, no HTTP), and remote documents
// downloaded through the DocumentFetcher into in-memory "Cached" entries with a TTL and usage counters.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { NgsiError, badRequestData } from '../core/errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';
import {
  bundledCoreFile,
  bundledCoreVersion,
  isCoreContextUrl,
  type BundledCoreVersion,
} from '../core/jsonld/core-context.ts';
import type { KendConfig } from '../config/schema.ts';
import type { Clock } from '../ports/clock.ts';
import type { DocumentFetcher } from '../ports/context-loader.ts';
import type { EntityStore } from '../ports/store.ts';

/** localId under which the core context is listed as a Cached entry. */
export const CORE_LOCAL_ID = 'core';
/** Upper bound on downloaded documents kept in memory; the oldest download is dropped first. */
const MAX_CACHED_ENTRIES = 1000;
/** When a refresh fails, a stale copy keeps serving and the next attempt waits at most this long. */
const STALE_RETRY_MS = 60_000;

export interface CachedEntry {
  readonly localId: string;
  readonly url: string;
  readonly document: JsonObject;
  readonly createdAtMs: number;
  expiresAtMs: number;
}

export interface LoadedDocument {
  /** `{"@context": ...}` */
  document: JsonObject;
  /** Entry of the @context store that served it (for usage counters). */
  localId: string;
  /** When a term map built from it must be rebuilt; Infinity for stored entries. */
  expiresAtMs: number;
}

export interface UsageStats {
  hits: number;
  lastUsedMs: number;
}

export type ContextDocumentsConfig = Pick<
  KendConfig,
  'contextFetchTimeoutMs' | 'contextMaxBytes' | 'contextCacheTtlSeconds' | 'coreContextUrl' | 'publicUrl'
>;

export interface ContextDocumentsDeps {
  store: Pick<EntityStore, 'getContext'>;
  fetcher: DocumentFetcher;
  clock: Clock;
  config: ContextDocumentsConfig;
}

export interface ContextDocuments {
  readonly coreUrl: string;
  readonly coreCreatedAtMs: number;
  isCore(url: string): boolean;
  /** The bundled core document for `url`, with `@protected` removed so user contexts may shadow terms. */
  coreForProcessing(url: string): JsonObject;
  servedUrl(localId: string): string;
  /** The localId when `url` is one of this broker's served @context URLs. */
  servedLocalId(url: string): string | undefined;
  /** A non-core document by URL: stored entry, fresh cached copy, or a new download. */
  load(url: string): Promise<LoadedDocument>;
  cachedEntries(): CachedEntry[];
  cachedByUrl(url: string): CachedEntry | undefined;
  cachedByLocalId(localId: string): CachedEntry | undefined;
  /** Re-downloads a Cached entry; the old copy stays when the download fails. */
  refresh(url: string): Promise<void>;
  drop(url: string): void;
  /** "Refreshes" the core entry from the bundled files. */
  reloadCore(): void;
  touch(localIds: Iterable<string>): void;
  statsOf(localId: string): UsageStats | undefined;
  forgetStats(localId: string): void;
}

const unavailable = (url: string, why: string): NgsiError =>
  new NgsiError('LdContextNotAvailable', `@context ${url} is not available: ${why}`);

function withoutProtected(doc: JsonObject): JsonObject {
  const ctx = doc['@context'];
  if (!isJsonObject(ctx) || !('@protected' in ctx)) return doc;
  const { '@protected': _dropped, ...rest } = ctx;
  return { ...doc, '@context': rest };
}

export function createContextDocuments(deps: ContextDocumentsDeps): ContextDocuments {
  const { store, fetcher, clock, config } = deps;
  const base = config.publicUrl.replace(/\/+$/, '');
  const servedPrefix = `${base}/ngsi-ld/v1/jsonldContexts/`;
  const ttlMs = config.contextCacheTtlSeconds * 1000;
  const limits = { timeoutMs: config.contextFetchTimeoutMs, maxBytes: config.contextMaxBytes };
  const coreFiles = new Map<BundledCoreVersion, JsonObject>();
  const cached = new Map<string, CachedEntry>();
  const inflight = new Map<string, Promise<CachedEntry>>();
  const stats = new Map<string, UsageStats>();
  let coreCreatedAtMs = clock.nowMs();

  const isCore = (url: string): boolean => url === config.coreContextUrl || isCoreContextUrl(url);

  function coreForProcessing(url: string): JsonObject {
    const version = bundledCoreVersion(url) ?? '1.9';
    let doc = coreFiles.get(version);
    if (doc === undefined) {
      const parsed = JSON.parse(readFileSync(bundledCoreFile(version), 'utf8')) as JsonValue;
      if (!isJsonObject(parsed)) throw new Error(`bundled core context ${version} is not a JSON object`);
      doc = withoutProtected(parsed);
      coreFiles.set(version, doc);
    }
    return doc;
  }

  function servedLocalId(url: string): string | undefined {
    if (!url.startsWith(servedPrefix)) return undefined;
    const rest = url.slice(servedPrefix.length);
    if (rest === '' || rest.includes('/') || rest.includes('?') || rest.includes('#')) return undefined;
    try {
      return decodeURIComponent(rest);
    } catch {
      return undefined;
    }
  }

  async function downloadDocument(url: string): Promise<JsonObject> {
    const body = await fetcher.fetchJson(url, limits);
    if (!isJsonObject(body) || !('@context' in body)) {
      throw badRequestData(`The document at ${url} is not a JSON-LD context: it has no @context member`);
    }
    return { '@context': body['@context'] };
  }

  /** Downloads `url` into the cache (one download at a time per URL); replaces the entry only on success. */
  function download(url: string): Promise<CachedEntry> {
    const running = inflight.get(url);
    if (running !== undefined) return running;
    const p = (async (): Promise<CachedEntry> => {
      const document = await downloadDocument(url);
      const now = clock.nowMs();
      const entry: CachedEntry = {
        localId: cached.get(url)?.localId ?? randomUUID(),
        url,
        document,
        createdAtMs: now,
        expiresAtMs: now + ttlMs,
      };
      cached.delete(url);
      cached.set(url, entry);
      if (cached.size > MAX_CACHED_ENTRIES) {
        const oldest = cached.keys().next().value;
        if (oldest !== undefined) drop(oldest);
      }
      return entry;
    })();
    inflight.set(url, p);
    const clear = (): void => {
      inflight.delete(url);
    };
    p.then(clear, clear);
    return p;
  }

  const view = (e: CachedEntry): LoadedDocument => ({
    document: e.document,
    localId: e.localId,
    expiresAtMs: e.expiresAtMs,
  });

  async function load(url: string): Promise<LoadedDocument> {
    const localId = servedLocalId(url);
    if (localId !== undefined) {
      const entry = await store.getContext(localId);
      if (entry === null || entry.kind === 'Cached' || !isJsonObject(entry.document)) {
        throw unavailable(url, 'no such context is hosted by this broker');
      }
      return { document: entry.document, localId, expiresAtMs: Number.POSITIVE_INFINITY };
    }
    const entry = cached.get(url);
    const now = clock.nowMs();
    if (entry !== undefined && entry.expiresAtMs > now) return view(entry);
    try {
      return view(await download(url));
    } catch (e) {
      // Stale-if-error: an outage of the context server does not fail every request using the context.
      if (entry !== undefined && cached.get(url) === entry && e instanceof NgsiError && e.kind === 'LdContextNotAvailable') {
        entry.expiresAtMs = now + Math.min(ttlMs, STALE_RETRY_MS);
        return view(entry);
      }
      throw e;
    }
  }

  function drop(url: string): void {
    const entry = cached.get(url);
    if (entry === undefined) return;
    cached.delete(url);
    stats.delete(entry.localId);
  }

  return {
    coreUrl: config.coreContextUrl,
    get coreCreatedAtMs() {
      return coreCreatedAtMs;
    },
    isCore,
    coreForProcessing,
    servedUrl: (localId) => servedPrefix + encodeURIComponent(localId),
    servedLocalId,
    load,
    cachedEntries: () => [...cached.values()],
    cachedByUrl: (url) => cached.get(url),
    cachedByLocalId: (localId) => [...cached.values()].find((e) => e.localId === localId),
    async refresh(url) {
      await download(url);
    },
    drop,
    reloadCore() {
      coreFiles.clear();
      coreForProcessing(config.coreContextUrl);
      coreCreatedAtMs = clock.nowMs();
    },
    touch(localIds) {
      const now = clock.nowMs();
      for (const id of localIds) {
        const s = stats.get(id);
        if (s === undefined) stats.set(id, { hits: 1, lastUsedMs: now });
        else {
          s.hits += 1;
          s.lastUsedMs = now;
        }
      }
    },
    statsOf: (localId) => stats.get(localId),
    forgetStats(localId) {
      stats.delete(localId);
    },
  };
}
