// Entity projection parameters pick / omit / attrs (GS CIM 009 §4.21, §5.7.1.4, §6.3.x): parsing and selection.
import { badRequestData } from '../errors.ts';
import type { TermMap } from '../jsonld/term-map.ts';
import { isValidName } from '../names.ts';
import type { Entity } from './entity.ts';
import { SCOPE_IRI } from './attr-rules.ts';

/** Entity members that pick/omit can name besides attributes (§4.21). */
export type EntityMember = 'id' | 'type' | 'scope';
const ENTITY_MEMBER_NAMES: ReadonlySet<string> = new Set<EntityMember>(['id', 'type', 'scope']);

/** One pick or omit list: entity members by name, attributes by FQN. */
export interface ProjectionList {
  members: ReadonlySet<EntityMember>;
  attrs: ReadonlySet<string>;
}

/**
 * A parsed projection. Every field absent = no projection. `pick` keeps only its members (id and type are not
 * kept implicitly), `omit` drops its members, `attrs` keeps id/type/scope and only the listed attributes (FQNs)
 * and, on top, requires the entity to hold at least one of them (see `entityMatchesAttrs`).
 */
export interface Projection {
  pick?: ProjectionList;
  omit?: ProjectionList;
  attrs?: ReadonlySet<string>;
}

export interface ProjectionParams {
  pick?: string;
  omit?: string;
  attrs?: string;
}

/** A node of the projection grammar: `name` or `name{list}` (the nested form needs linked-entity retrieval). */
interface ProjectionItem {
  name: string;
  nested?: ProjectionItem[];
}

/**
 * Parses `pick`, `omit` and `attrs` URL parameters (lists separated by `,` or `|`). Names are expanded with
 * `terms`; `id`, `type`, `scope` stay entity members in pick/omit. Throws BadRequestData on grammar errors,
 * invalid names, a member both picked and omitted, pick/omit combined with attrs, and nested projections
 * (`rel{a}`), which require `join` (not supported yet).
 */
export function parseProjection(params: ProjectionParams, terms: TermMap): Projection {
  const { pick, omit, attrs } = params;
  if (attrs !== undefined && (pick !== undefined || omit !== undefined)) {
    throw badRequestData('The attrs parameter cannot be combined with pick or omit');
  }
  const projection: Projection = {};
  if (pick !== undefined) projection.pick = toList(parseList(pick, 'pick'), terms, 'pick');
  if (omit !== undefined) projection.omit = toList(parseList(omit, 'omit'), terms, 'omit');
  if (attrs !== undefined) {
    const items = parseList(attrs, 'attrs');
    rejectNested(items, 'attrs');
    projection.attrs = new Set(items.map((item) => terms.expandTerm(item.name)));
  }
  if (projection.pick && projection.omit) {
    for (const m of projection.pick.members) {
      if (projection.omit.members.has(m)) throw badRequestData(`Member '${m}' appears in both pick and omit`);
    }
    for (const a of projection.pick.attrs) {
      if (projection.omit.attrs.has(a)) throw badRequestData(`Attribute '${a}' appears in both pick and omit`);
    }
  }
  return projection;
}

/** True when the projection keeps the entity member `id`, `type` or `scope`. */
export function keepsMember(projection: Projection | undefined, member: EntityMember): boolean {
  if (!projection) return true;
  if (projection.pick && !projection.pick.members.has(member)) return false;
  // `attrs` keeps id and type; scope is not an attribute, so it stays only when asked for by name.
  if (projection.attrs && member === 'scope' && !projection.attrs.has(SCOPE_IRI)) return false;
  return !projection.omit?.members.has(member);
}

/** True when the projection keeps the attribute with this FQN. */
export function keepsAttribute(projection: Projection | undefined, fqn: string): boolean {
  if (!projection) return true;
  if (projection.pick && !projection.pick.attrs.has(fqn)) return false;
  if (projection.omit?.attrs.has(fqn)) return false;
  return !projection.attrs || projection.attrs.has(fqn);
}

/**
 * The `attrs` condition (§5.7.1.4, §5.7.2.4): with `attrs`, the entity must hold at least one of the listed
 * attributes. Always true without `attrs`. Retrieve answers 404 when false; query drops the entity.
 */
export function entityMatchesAttrs(entity: Entity, projection: Projection | undefined): boolean {
  const wanted = projection?.attrs;
  if (!wanted) return true;
  for (const fqn of wanted) {
    const instances = entity.attrs[fqn];
    if (instances && instances.length > 0) return true;
  }
  return false;
}

function toList(items: ProjectionItem[], terms: TermMap, param: string): ProjectionList {
  rejectNested(items, param);
  const members = new Set<EntityMember>();
  const attrs = new Set<string>();
  for (const { name } of items) {
    if (ENTITY_MEMBER_NAMES.has(name)) members.add(name as EntityMember);
    else attrs.add(terms.expandTerm(name));
  }
  return { members, attrs };
}

function rejectNested(items: ProjectionItem[], param: string): void {
  const nested = items.find((item) => item.nested !== undefined);
  if (nested) {
    throw badRequestData(
      `Nested projection '${nested.name}{...}' in ${param} requires join (linked entity retrieval)`,
    );
  }
}

/** Recursive-descent parser of `list := item (sep item)*`, `item := name ('{' list '}')?`, `sep := ',' | '|'`. */
function parseList(text: string, param: string): ProjectionItem[] {
  let pos = 0;
  const fail = (why: string): never => {
    throw badRequestData(`Invalid ${param} parameter '${text}': ${why}`);
  };
  const isDelimiter = (c: string): boolean => c === ',' || c === '|' || c === '{' || c === '}';

  const list = (depth: number): ProjectionItem[] => {
    const items: ProjectionItem[] = [];
    while (true) {
      items.push(item(depth));
      const c = text[pos];
      if (c === ',' || c === '|') {
        pos += 1;
        continue;
      }
      return items;
    }
  };
  const item = (depth: number): ProjectionItem => {
    const start = pos;
    while (pos < text.length && !isDelimiter(text[pos])) pos += 1;
    const name = text.slice(start, pos);
    if (name.length === 0) {
      if (text[pos] === '{') fail(`a brace must follow a name (position ${pos + 1})`);
      if (text[pos] === '}' && depth > 0) fail(`empty group or item (position ${pos + 1})`);
      fail(`empty item (position ${pos + 1})`);
    }
    if (!isValidName(name)) fail(`'${name}' is not a valid name`);
    if (text[pos] !== '{') return { name };
    pos += 1;
    if (text[pos] === '}') fail(`empty group '${name}{}'`);
    const nested = list(depth + 1);
    if (text[pos] !== '}') fail(`unclosed brace after '${name}'`);
    pos += 1;
    return { name, nested };
  };

  const items = list(0);
  if (pos < text.length) fail(`unexpected '${text[pos]}' (position ${pos + 1})`);
  return items;
}
