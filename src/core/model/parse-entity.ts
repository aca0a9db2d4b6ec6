// Parses a whole NGSI-LD entity or entity fragment (create, replace, append, update, merge) into drafts
// (GS CIM 009 §4.5.1, §4.18 scope, §4.22 expiresAt, §5.2.4, §5.6; guide §5.1, §7.1–7.9).
// The top-level `@context` was checked by the HTTP layer and is ignored here; client-sent createdAt,
// modifiedAt and deletedAt are ignored (§4.8).
import { badRequestData } from '../errors.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { isAbsoluteUri, isValidName, isValidScope } from '../names.ts';
import { parseDateTime } from '../datetime.ts';
import { NGSI_LD_NULL } from './entity.ts';
import type { DraftMap, EntityFragment, FragmentKind, ModelLimits, ParsedEntity } from './drafts.ts';
import type { ParseMode } from './parse-attribute.ts';
import { addDrafts, attributeFqn, parseAttribute, parseSimplified } from './parse-attribute.ts';

const IGNORED_TOP = new Set(['@context', 'createdAt', 'modifiedAt', 'deletedAt']);

interface TopLevel {
  id?: string;
  types?: string[];
  scope?: string[] | null;
  expiresAt?: string | null;
  attrs: DraftMap;
}

function bad(detail: string): never {
  throw badRequestData(detail, 'Invalid entity');
}

function parseId(v: JsonValue, pathId: string | undefined): string {
  if (!isAbsoluteUri(v)) bad(`Entity id ${JSON.stringify(v)} is not a URI`);
  if (pathId !== undefined && v !== pathId) bad(`Entity id ${v} in the body differs from the id ${pathId} in the path`);
  return v;
}

/** Entity `type`: a name or a non-empty array of names; expanded, deduplicated. */
export function parseTypes(v: JsonValue, terms: TermMap): string[] {
  const names = Array.isArray(v) ? v : [v];
  if (names.length === 0) bad('Entity type must not be an empty array');
  const out: string[] = [];
  for (const n of names) {
    if (!isValidName(n)) bad(`Entity type ${JSON.stringify(n)} is not a valid type name`);
    const iri = terms.expandTerm(n);
    if (!out.includes(iri)) out.push(iri);
  }
  return out;
}

/** Entity `scope` (§4.18): a scope path or a non-empty array of them; NGSI-LD Null where allowed. */
export function parseScope(v: JsonValue, allowNull: boolean): string[] | null {
  if (v === NGSI_LD_NULL) {
    if (!allowNull) bad('NGSI-LD Null is not allowed for scope here');
    return null;
  }
  const scopes = Array.isArray(v) ? v : [v];
  if (scopes.length === 0) bad('scope must not be an empty array');
  const out: string[] = [];
  for (const s of scopes) {
    if (!isValidScope(s)) bad(`scope ${JSON.stringify(s)} is not a valid scope (e.g. /Madrid/Gardens)`);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

function parseTop(
  body: JsonObject,
  terms: TermMap,
  limits: ModelLimits,
  mode: ParseMode,
  simplified: boolean,
  pathId: string | undefined,
): TopLevel {
  if ('id' in body && '@id' in body) bad('Entity has both id and @id');
  if ('type' in body && '@type' in body) bad('Entity has both type and @type');
  const nullable = mode === 'update' || mode === 'merge';
  const out: TopLevel = { attrs: {} };
  const ctx = { terms, limits, mode };
  for (const [k, v] of Object.entries(body)) {
    if (IGNORED_TOP.has(k)) continue;
    switch (k) {
      case 'id':
      case '@id':
        out.id = parseId(v, pathId);
        break;
      case 'type':
      case '@type':
        out.types = parseTypes(v, terms);
        break;
      case 'scope':
        out.scope = parseScope(v, nullable);
        break;
      case 'expiresAt':
        if (v === NGSI_LD_NULL && nullable) {
          out.expiresAt = null;
        } else {
          const dt = parseDateTime(v);
          if (dt === null) bad(`Entity expiresAt ${JSON.stringify(v)} is not a UTC DateTime`);
          out.expiresAt = dt;
        }
        break;
      default: {
        const fqn = attributeFqn(k, terms, k);
        const drafts = simplified ? [parseSimplified(fqn, v, ctx, k)] : parseAttribute(fqn, v, ctx, k);
        addDrafts(out.attrs, fqn, drafts, k);
      }
    }
  }
  return out;
}

/**
 * A complete entity for Create Entity (§5.6.1; `id` and `type` mandatory) or Replace Entity (§5.6.18; `type`
 * mandatory, `id` optional but equal to `pathId` when present). NGSI-LD Null is refused anywhere.
 */
export function parseEntityBody(
  body: JsonObject,
  terms: TermMap,
  limits: ModelLimits,
  mode: 'create' | 'replace',
  pathId?: string,
): ParsedEntity {
  const top = parseTop(body, terms, limits, mode, false, pathId);
  const id = top.id ?? pathId;
  if (id === undefined) bad('Entity id is missing');
  if (top.types === undefined) bad('Entity type is missing');
  const parsed: ParsedEntity = { id, types: top.types, attrs: top.attrs };
  if (top.scope) parsed.scope = top.scope;
  if (typeof top.expiresAt === 'string') parsed.expiresAt = top.expiresAt;
  return parsed;
}

/**
 * An entity fragment for Append (§5.6.3), Update (§5.6.2) or Merge (§5.6.17; `merge-simplified` for
 * options=keyValues). `id` and `type` are optional; an `id` must equal `pathId` when one is given.
 */
export function parseFragmentBody(
  body: JsonObject,
  terms: TermMap,
  limits: ModelLimits,
  kind: FragmentKind,
  pathId?: string,
): EntityFragment {
  const mode: ParseMode = kind === 'merge-simplified' ? 'merge' : kind;
  const top = parseTop(body, terms, limits, mode, kind === 'merge-simplified', pathId);
  const frag: EntityFragment = { kind, types: top.types ?? [], attrs: top.attrs, limits };
  if (top.id !== undefined) frag.id = top.id;
  if (top.scope !== undefined) frag.scope = top.scope;
  if (top.expiresAt !== undefined) frag.expiresAt = top.expiresAt;
  return frag;
}
