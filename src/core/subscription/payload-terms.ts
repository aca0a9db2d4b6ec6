// Re-expressing the names of a Subscription payload in another @context (GS CIM 009 §5.5.7, §5.2.12; guide
// §14.1): expand each term-bearing member with one TermMap and compact it with another. Used to render a
// stored subscription with the request's context and to bring a PATCH fragment into the stored context.
import { badRequestData } from '../errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { isValidName } from '../names.ts';
import { formatQ } from '../query/q-format.ts';
import type { QExpr } from '../query/q-ast.ts';
import { parseQ, type QParseLimits } from '../query/q-parse.ts';
import { jsonEqual } from './entity-diff.ts';

/** Entity members that pick/omit name directly; they are not terms. */
const ENTITY_MEMBERS: ReadonlySet<string> = new Set(['id', 'type', 'scope']);

export interface TermTranslationOptions {
  /**
   * Rewrite `q` and `csf` with the target names (parsed with `from`, printed with `to`). Off when rendering:
   * q is shown as the client wrote it. Invalid q text is left as it is (validation reports it later); a q whose names the
   * target context can only write as absolute IRIs (not q syntax) → 400.
   */
  rewriteQ?: QParseLimits;
}

/**
 * A deep copy of `payload` with the names it holds — entity selector types (type expressions keep their
 * operators), `watchedAttributes`, `notification.attributes` / `pick` / `omit`, `geoQ.geoproperty`,
 * `expandValues`, `jsonKeys` — expanded with `from` and compacted with `to`. Anything that is not a valid
 * name is kept verbatim so that validation still sees it.
 */
export function translatePayloadTerms(payload: JsonObject, from: TermMap, to: TermMap, options: TermTranslationOptions = {}): JsonObject {
  const out = structuredClone(payload);
  const name = (n: string): string => (isValidName(n) ? to.compactIri(from.expandTerm(n)) : n);
  const names = (v: JsonValue | undefined, keepMembers: boolean): JsonValue | undefined => {
    const one = (x: JsonValue): JsonValue => (typeof x === 'string' && !(keepMembers && ENTITY_MEMBERS.has(x)) ? name(x) : x);
    if (Array.isArray(v)) return v.map(one);
    if (typeof v === 'string') return v.split(',').map((x) => one(x.trim())).join(',');
    return v;
  };
  const set = (obj: JsonObject, key: string, v: JsonValue | undefined): void => {
    if (v !== undefined) obj[key] = v;
  };

  if (Array.isArray(out.entities)) {
    for (const sel of out.entities) {
      if (isJsonObject(sel) && typeof sel.type === 'string') sel.type = translateTypeExpr(sel.type, name);
    }
  }
  if (Array.isArray(out.watchedAttributes)) set(out, 'watchedAttributes', names(out.watchedAttributes, false));
  for (const key of ['expandValues', 'jsonKeys']) set(out, key, names(out[key], false));
  if (isJsonObject(out.geoQ) && typeof out.geoQ.geoproperty === 'string') out.geoQ.geoproperty = name(out.geoQ.geoproperty);
  if (isJsonObject(out.notification)) {
    const n = out.notification;
    if (Array.isArray(n.attributes)) set(n, 'attributes', names(n.attributes, false));
    if (Array.isArray(n.pick)) set(n, 'pick', names(n.pick, true));
    if (Array.isArray(n.omit)) set(n, 'omit', names(n.omit, true));
  }
  if (options.rewriteQ !== undefined && from !== to) {
    for (const key of ['q', 'csf']) {
      const text = out[key];
      if (typeof text !== 'string') continue;
      let expr: QExpr;
      try {
        expr = parseQ(text, from, options.rewriteQ);
      } catch {
        continue; // Left unchanged: parseSubscription reports the syntax error with its position.
      }
      const rewritten = formatQ(expr, (iri) => to.compactIri(iri));
      if (!sameMeaning(rewritten, expr, to, options.rewriteQ)) {
        throw badRequestData(`${key} names an attribute that the subscription's @context cannot express in q syntax; write it with the subscription's own @context`, 'Invalid subscription');
      }
      out[key] = rewritten;
    }
  }
  return out;
}

function sameMeaning(text: string, expr: QExpr, terms: TermMap, limits: QParseLimits): boolean {
  try {
    return jsonEqual(parseQ(text, terms, limits), expr);
  } catch {
    return false;
  }
}

/** Maps every name of a type selection expression (§4.17), keeping `,` `|` `;` `(` `)` and `*` in place. */
export function translateTypeExpr(expr: string, name: (n: string) => string): string {
  return expr
    .split(/([|,;()])/)
    .map((part) => {
      const trimmed = part.trim();
      if (trimmed === '' || trimmed === '*' || /^[|,;()]$/.test(trimmed)) return part;
      return part.replace(trimmed, () => name(trimmed));
    })
    .join('');
}
