// Validates a user @context and collects every remote document it needs before JSON-LD processing
// (GS CIM 009 §5.5.7; guide §4.4): no scoped contexts, absolute URLs, depth limit, loop detection.
import { badRequestData } from '../core/errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';
import type { ContextDocuments } from './context-documents.ts';

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** What one resolution collected: documents by URL, store entries used, and when the result goes stale. */
export interface Gathered {
  docs: Map<string, JsonObject>;
  used: Set<string>;
  expiresAtMs: number;
}

export interface GatherOptions {
  documents: Pick<ContextDocuments, 'isCore' | 'load'>;
  maxDepth: number;
}

/**
 * Checks the shape NGSI-LD accepts for an @context value: a URL string, a context definition object, or
 * an array of those (§5.5.7, §5.13.2). Anything else, a nested `@context` and scoped contexts → 400.
 */
export function assertContextValue(value: JsonValue, what: string): void {
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) {
    if (typeof item === 'string') continue;
    if (isJsonObject(item)) {
      assertDefinition(item, what);
      continue;
    }
    throw badRequestData(`${what} must be a URL, an object or an array of those, not ${JSON.stringify(item)}`);
  }
}

/** A context definition object: no nested `@context`, no term with its own (scoped) `@context`. */
function assertDefinition(def: JsonObject, what: string): void {
  if ('@context' in def) throw badRequestData(`${what} contains a context definition with a nested @context`);
  for (const [term, value] of Object.entries(def)) {
    if (isJsonObject(value) && '@context' in value) {
      throw badRequestData(`${what} defines term "${term}" with a scoped @context, which NGSI-LD user contexts must not use`);
    }
  }
}

function absolute(ref: string, base: string | undefined, what: string): string {
  if (SCHEME.test(ref)) return ref;
  if (base !== undefined) {
    try {
      return new URL(ref, base).href;
    } catch {
      // fall through
    }
  }
  throw badRequestData(`${what} refers to "${ref}", which is not an absolute URL`);
}

/** Walks `value` (depth-first), loading every non-core URL once into `into`. */
export async function gatherDocuments(value: JsonValue, into: Gathered, options: GatherOptions): Promise<void> {
  await walk(value, undefined, [], into, options);
}

async function walk(
  value: JsonValue,
  base: string | undefined,
  chain: readonly string[],
  into: Gathered,
  options: GatherOptions,
): Promise<void> {
  const what = base === undefined ? 'The @context' : `The @context at ${base}`;
  if (typeof value === 'string') {
    await visit(absolute(value, base, what), chain, into, options);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) await walk(item, base, chain, into, options);
    return;
  }
  if (isJsonObject(value)) {
    assertDefinition(value, what);
    const imported = value['@import'];
    if (typeof imported === 'string') await visit(absolute(imported, base, what), chain, into, options);
  }
  // null and other values inside remote documents are left to the JSON-LD processor to judge.
}

async function visit(url: string, chain: readonly string[], into: Gathered, options: GatherOptions): Promise<void> {
  if (options.documents.isCore(url)) return;
  if (chain.includes(url)) {
    throw badRequestData(`@context ${url} includes itself (${[...chain, url].join(' → ')})`);
  }
  if (into.docs.has(url)) return;
  if (chain.length >= options.maxDepth) {
    throw badRequestData(`@context ${url} is nested more than ${options.maxDepth} remote contexts deep`);
  }
  const loaded = await options.documents.load(url);
  into.docs.set(url, loaded.document);
  into.used.add(loaded.localId);
  into.expiresAtMs = Math.min(into.expiresAtMs, loaded.expiresAtMs);
  await walk(loaded.document['@context'] ?? null, url, [...chain, url], into, options);
}
