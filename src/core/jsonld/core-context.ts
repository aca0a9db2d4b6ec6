// The NGSI-LD core @context URL variants and the bundled file serving each (GS CIM 009 §4.4, guide §4.2).
// Core contexts are never downloaded: every variant maps to a copy shipped in /contexts.

/** Every published spelling of the core context URL (unversioned, -v1.3 … -v1.9, http or https). */
export const CORE_CONTEXT_URL_PATTERN = /^https?:\/\/uri\.etsi\.org\/ngsi-ld\/v1\/ngsi-ld-core-context(-v\d+\.\d+)?\.jsonld$/;

export type BundledCoreVersion = '1.3' | '1.7' | '1.8' | '1.9';

export const BUNDLED_CORE_VERSIONS: readonly BundledCoreVersion[] = ['1.3', '1.7', '1.8', '1.9'];

/**
 * Remote contexts that bundled core contexts reference only inside scoped term definitions (1.9's
 * `ngsildproof`). Term maps never use them, so they are served as empty contexts, not downloaded.
 */
export const CORE_SCOPED_IMPORTS: ReadonlySet<string> = new Set(['https://w3id.org/security/data-integrity/v2']);

export function isCoreContextUrl(url: string): boolean {
  return CORE_CONTEXT_URL_PATTERN.test(url);
}

/**
 * The bundled version serving a core URL: 1.3, 1.7 and 1.8 have their own copy; everything else
 * (unversioned, 1.4–1.6, 1.9 and later) is served by the newest one. Term IRIs are stable across versions.
 * Undefined when `url` is not a core context URL.
 */
export function bundledCoreVersion(url: string): BundledCoreVersion | undefined {
  const m = CORE_CONTEXT_URL_PATTERN.exec(url);
  if (m === null) return undefined;
  switch (m[1]) {
    case '-v1.3':
      return '1.3';
    case '-v1.7':
      return '1.7';
    case '-v1.8':
      return '1.8';
    default:
      return '1.9';
  }
}

/** Location of the bundled copy of one core version (relative to this module; read by the service layer). */
export function bundledCoreFile(version: BundledCoreVersion): URL {
  return new URL(`../../../contexts/ngsi-ld-core-context-v${version}.jsonld`, import.meta.url);
}
