// Identifier and name grammar (GS CIM 009 §4.6.2, §4.5.1): entity ids are absolute URIs; attribute and
// type names are terms (letter then letters/digits/_), compact IRIs, or absolute IRIs.

// RFC 3986 scheme, then no whitespace, controls, invisible/bidi marks, or the characters <>"{}|\^`.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+$/u;

/** True for an absolute URI usable as an entity, subscription, dataset or instance id. */
export function isAbsoluteUri(s: unknown): s is string {
  return typeof s === 'string' && s.length <= 2048 && s.isWellFormed() && ABSOLUTE_URI.test(s) && s !== 'urn:ngsi-ld:null';
}

const TERM = /^[\p{L}][\p{L}\p{N}_]*$/u;
const COMPACT = /^[\p{L}][\p{L}\p{N}_.-]*:[\p{L}\p{N}_][\p{L}\p{N}_./#-]*$/u;

/**
 * True for a valid attribute or type name: a term, a `prefix:term` compact IRI, or an absolute IRI.
 * Names starting with `@` and names with spaces, brackets or other punctuation are refused.
 */
export function isValidName(s: unknown): s is string {
  if (typeof s !== 'string' || s.length === 0 || s.length > 1024) return false;
  if (TERM.test(s)) return true;
  if (COMPACT.test(s)) return true;
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s) && isAbsoluteUri(s) && !/[()]/.test(s);
}

const SCOPE = /^(?:\/[\p{L}][\p{L}\p{N}_]*)+$/u;

/**
 * True for a scope path (§4.18): `/level(/level)*`, each level a letter followed by letters, digits or `_`
 * (so no empty level, no `-`, no trailing `/`). E.g. `/Madrid/Gardens/ParqueNorte`.
 */
export function isValidScope(s: unknown): s is string {
  return typeof s === 'string' && s.length <= 1024 && SCOPE.test(s);
}
