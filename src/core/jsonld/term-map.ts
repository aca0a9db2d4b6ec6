// A resolved JSON-LD context reduced to what NGSI-LD needs (GS CIM 009 §4.4, §5.5.7): term expansion
// and IRI compaction that cost microseconds. Built once per distinct @context and cached.
import type { JsonValue } from '../json.ts';

export interface TermMap {
  /** Expands a type or attribute name (term, compact IRI `p:s`, or absolute IRI) to its IRI. */
  expandTerm(name: string): string;
  /** Compacts an IRI back to the shortest name the context allows, or returns it whole. */
  compactIri(iri: string): string;
}

/** The @context of one request, resolved. */
export interface RequestContext {
  terms: TermMap;
  /** The @context value as the client expressed it (URL string, array or object), for ld+json bodies. */
  value: JsonValue;
  /**
   * A single URL that denotes this context, for a `Link` header. Undefined when the context was inline or
   * several URLs and no ImplicitlyCreated entry has been minted for it yet.
   */
  url?: string;
  /** True when no user context was given (the core context alone). */
  isCoreOnly: boolean;
}
