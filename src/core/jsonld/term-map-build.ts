// Builds a fast TermMap from jsonld.js processed active contexts (GS CIM 009 §4.4, §5.5.7; JSON-LD 1.1
// IRI expansion and IRI compaction §4.1/§6.3 reduced to names: term, @vocab, compact IRI, full IRI).
import type { TermMap } from './term-map.ts';

/** The part of a jsonld.js term definition this module reads. */
export interface TermDefinitionLike {
  readonly '@id'?: string | null;
  readonly reverse?: boolean;
  /** jsonld.js's flag: the term may be used as the prefix of a compact IRI. */
  readonly _prefix?: boolean;
}

/** The part of a jsonld.js active context this module reads (the result of `jsonld.processContext`). */
export interface ActiveContextLike {
  readonly mappings: ReadonlyMap<string, TermDefinitionLike | null | undefined>;
  readonly '@vocab'?: string | null;
}

export interface TermMapOptions {
  /** Most compactions remembered; the cache is emptied when full. */
  compactionCacheSize?: number;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const GEN_DELIM_END = /[:/?#[\]@]$/;

/** JSON-LD's "shortest, then lexicographically least" order. */
function shorterOrLess(a: string, b: string): boolean {
  return a.length < b.length || (a.length === b.length && a < b);
}

/**
 * Merges `layers` (later layers win term by term; the last `@vocab` given wins) into one TermMap.
 * Passing `[userActiveContext, coreActiveContext]` gives the core context the last word (§4.2).
 */
export function buildTermMap(layers: readonly ActiveContextLike[], options: TermMapOptions = {}): TermMap {
  const cacheSize = options.compactionCacheSize ?? 10_000;
  /** Every term with a definition, including `null` ones (they still block @vocab compaction). */
  const defined = new Set<string>();
  const iriOf = new Map<string, string>();
  const prefixFlag = new Map<string, boolean>();
  let vocab: string | undefined;

  for (const layer of layers) {
    for (const [term, def] of layer.mappings) {
      defined.add(term);
      const iri = def?.['@id'];
      if (def === null || def === undefined || typeof iri !== 'string' || def.reverse === true) {
        iriOf.delete(term);
        prefixFlag.delete(term);
        continue;
      }
      iriOf.set(term, iri);
      const usableAsPrefix = def._prefix ?? (!term.includes(':') && !term.includes('/') && GEN_DELIM_END.test(iri));
      prefixFlag.set(term, usableAsPrefix && !iri.startsWith('@'));
    }
    const v = layer['@vocab'];
    if (typeof v === 'string') vocab = v;
  }

  // Inverse context: IRI → preferred term (shortest, then lexicographically least).
  const termOf = new Map<string, string>();
  for (const [term, iri] of iriOf) {
    const current = termOf.get(iri);
    if (current === undefined || shorterOrLess(term, current)) termOf.set(iri, term);
  }
  const prefixes: Array<[string, string]> = [];
  for (const [term, usable] of prefixFlag) {
    if (usable) prefixes.push([term, iriOf.get(term) as string]);
  }

  function expandTerm(name: string): string {
    const direct = iriOf.get(name);
    if (direct !== undefined) return direct;
    const colon = name.indexOf(':');
    if (colon > 0) {
      const prefix = name.slice(0, colon);
      const suffix = name.slice(colon + 1);
      if (prefix === '_' || suffix.startsWith('//')) return name;
      const prefixIri = iriOf.get(prefix);
      if (prefixIri !== undefined && !prefixIri.startsWith('@')) return prefixIri + suffix;
      if (SCHEME.test(name)) return name;
    }
    return vocab === undefined ? name : vocab + name;
  }

  function compute(iri: string): string {
    const term = termOf.get(iri);
    if (term !== undefined) return term;
    if (vocab !== undefined && iri.length > vocab.length && iri.startsWith(vocab)) {
      const suffix = iri.slice(vocab.length);
      // A term that already names this suffix (for another IRI) forbids the @vocab-relative form.
      if (!defined.has(suffix) && expandTerm(suffix) === iri) return suffix;
    }
    let choice: string | undefined;
    for (const [prefix, prefixIri] of prefixes) {
      if (iri.length <= prefixIri.length || !iri.startsWith(prefixIri)) continue;
      const curie = `${prefix}:${iri.slice(prefixIri.length)}`;
      if (defined.has(curie) && iriOf.get(curie) !== iri) continue;
      if (expandTerm(curie) !== iri) continue;
      if (choice === undefined || shorterOrLess(curie, choice)) choice = curie;
    }
    return choice ?? iri;
  }

  const compactions = new Map<string, string>();
  function compactIri(iri: string): string {
    const cached = compactions.get(iri);
    if (cached !== undefined) return cached;
    const result = compute(iri);
    if (compactions.size >= cacheSize) compactions.clear();
    compactions.set(iri, result);
    return result;
  }

  return { expandTerm, compactIri };
}
