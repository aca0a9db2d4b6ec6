// In-memory evaluator of q ASTs on an entity (GS CIM 009 §4.9; guide §8.2 path resolution, §8.3 comparison
// semantics). Shared by queries, subscriptions and temporal filtering; SQL compilers must agree with it.
import { RE2JS } from 're2js';
import type { JsonValue } from '../json.ts';
import { isJsonObject } from '../json.ts';
import type { AttrInstance, Entity } from '../model/entity.ts';
import type { QCompare, QExpr, QList, QLiteral, QPath, QRange, QRegex } from './q-ast.ts';
import { equalsOperand, satisfiesOrder, unwrapTypedLiteral } from './q-compare.ts';

/**
 * What a path designates in one attribute instance (§8.2).
 * - `value`: a Property/GeoProperty value, a JsonProperty `json`, a ListProperty `valueList`, a value
 *   reached by `[a.b]`, or a metadata member — all operators apply.
 * - `reference`: a Relationship `object`, a ListRelationship `objectList`, a VocabProperty `vocab` — only
 *   `==` and `!=` apply; any other operator never matches.
 * - `language`: the strings of a LanguageProperty (all languages, or the one named by `[tag]`) — each is an
 *   alternative: `==`, `>`… and `~=` match when some alternative does; `!=` and `!~=` when none does.
 */
interface Target {
  source: 'value' | 'reference' | 'language';
  value: JsonValue;
}

/** True when `entity` satisfies `expr`. */
export function evaluateQ(expr: QExpr, entity: Entity): boolean {
  switch (expr.type) {
    case 'and':
      return expr.items.every((e) => evaluateQ(e, entity));
    case 'or':
      return expr.items.some((e) => evaluateQ(e, entity));
    case 'exists':
      return targets(expr.path, entity).length > 0;
    case 'notExists':
      return targets(expr.path, entity).length === 0;
    case 'compare':
      // Multi-instance attributes (and several sub-attribute instances): any instance matching suffices,
      // for every operator including `!=` (§4.9 / guide §8.2, applied literally).
      return targets(expr.path, entity).some((t) => matches(t, expr));
  }
}

/** Own members only: keys such as `constructor` or `__proto__` never reach the prototype. */
function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The instances reached by `attr(.sub)*`: every instance at each level (multi-instance sub-attributes too). */
function instances(path: QPath, entity: Entity): AttrInstance[] {
  let level = own(entity.attrs, path.attr) ?? [];
  for (const name of path.sub) level = level.flatMap((i) => own(i.attrs, name) ?? []);
  return level;
}

function targets(path: QPath, entity: Entity): Target[] {
  const out: Target[] = [];
  for (const inst of instances(path, entity)) {
    const t = targetOf(inst, path);
    if (t !== undefined) out.push(t);
  }
  return out;
}

function targetOf(inst: AttrInstance, path: QPath): Target | undefined {
  if (path.meta !== undefined) {
    const m = inst[path.meta];
    return m === undefined ? undefined : { source: 'value', value: m };
  }
  const keys = path.jsonPath;
  switch (inst.type) {
    case 'Property':
    case 'GeoProperty':
      return valueTarget(inst.value, keys);
    case 'JsonProperty':
      return valueTarget(inst.json, keys);
    case 'ListProperty':
      return valueTarget(inst.valueList, keys);
    case 'Relationship':
      return referenceTarget(inst.object, keys);
    case 'ListRelationship':
      return referenceTarget(inst.objectList, keys);
    case 'VocabProperty':
      return referenceTarget(inst.vocab, keys);
    case 'LanguageProperty':
      return languageTarget(inst.languageMap, keys);
  }
}

function valueTarget(v: JsonValue | undefined, keys: string[] | undefined): Target | undefined {
  let cur = v;
  for (const k of keys ?? []) {
    if (cur === undefined) break;
    cur = member(cur, k);
  }
  return cur === undefined ? undefined : { source: 'value', value: cur };
}

/** `[..]` has no meaning on a reference: such a path designates nothing (so the term does not match). */
function referenceTarget(v: string | string[] | undefined, keys: string[] | undefined): Target | undefined {
  return v === undefined || keys !== undefined ? undefined : { source: 'reference', value: v };
}

/**
 * No bracket or `[*]`: every language; `[tag]`: that language, tags compared case-insensitively (BCP 47
 * tags are case-insensitive); longer bracket paths designate nothing. An absent tag is no target, so
 * `name[de]!="x"` does not match an entity without German text.
 */
function languageTarget(map: Record<string, string | string[]> | undefined, keys: string[] | undefined): Target | undefined {
  if (map === undefined) return undefined;
  if (keys !== undefined && keys.length !== 1) return undefined;
  const tag = keys?.[0];
  const values: string[] = [];
  for (const [k, v] of Object.entries(map)) {
    if (tag === undefined || tag === '*' || k.toLowerCase() === tag.toLowerCase()) values.push(...(Array.isArray(v) ? v : [v]));
  }
  return values.length === 0 ? undefined : { source: 'language', value: values };
}

/**
 * ECMAScript member access restricted to data: an object's own member, or an array element by canonical
 * index (`[0]`). `length`, prototype members and members of strings/numbers are undefined.
 */
function member(v: JsonValue, key: string): JsonValue | undefined {
  if (Array.isArray(v)) return /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < v.length ? v[Number(key)] : undefined;
  if (isJsonObject(v)) return own(v, key);
  return undefined;
}

function matches(t: Target, term: QCompare): boolean {
  switch (term.op) {
    case '==':
      return equalRule(t, term.value);
    case '!=':
      // Negation of the `==` rule, on an element that exists: an array matches only if every element
      // differs; values of another type differ, so they match.
      return !equalRule(t, term.value);
    case '>':
    case '>=':
    case '<':
    case '<=': {
      const { op, value } = term;
      if (t.source === 'reference') return false;
      if (t.source === 'language') return alternatives(t).some((a) => satisfiesOrder(a, op, value));
      // Ordering applies to single values only: an array target never matches.
      return !Array.isArray(t.value) && satisfiesOrder(t.value, op, value);
    }
    case '~=':
    case '!~=': {
      if (t.source === 'reference') return false;
      const re = compiled(term.value);
      const found = (s: JsonValue): boolean => typeof s === 'string' && re.test(s);
      if (t.source === 'language') {
        const hit = alternatives(t).some(found);
        return term.op === '~=' ? hit : !hit;
      }
      // A target that is not a string (after unwrapping a typed literal) matches neither operator.
      const v = unwrapTypedLiteral(t.value);
      if (typeof v !== 'string') return false;
      return term.op === '~=' ? found(v) : !found(v);
    }
  }
}

/** `==` on a target: an array (value or reference) or a set of language alternatives contains a match. */
function equalRule(t: Target, operand: QLiteral | QList | QRange): boolean {
  if (Array.isArray(t.value)) return t.value.some((e) => equalsOperand(e, operand));
  return equalsOperand(t.value, operand);
}

function alternatives(t: Target): JsonValue[] {
  return Array.isArray(t.value) ? t.value : [t.value];
}

// A memo from the (immutable) AST node to its compiled pattern, so a subscription's regex compiles once.
// Not observable state: entries depend only on their key and disappear with the AST.
const regexCache = new WeakMap<QRegex, RE2JS>();

/** Linear-time matching (re2js): `^(a+)+$` on any input cannot stall the event loop. Unanchored search. */
function compiled(r: QRegex): RE2JS {
  let re = regexCache.get(r);
  if (re === undefined) {
    re = RE2JS.compile(r.pattern);
    regexCache.set(r, re);
  }
  return re;
}
