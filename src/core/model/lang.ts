// The `lang` language filter (GS CIM 009 §4.15): language-priority lists and RFC 4647 §3.4 lookup in a languageMap.
import { badRequestData } from '../errors.ts';

/** One language range of a priority list; `tag` is lower-cased (`*` for the wildcard). */
export interface LanguageRange {
  tag: string;
  q: number;
}

/** A parsed `lang` parameter: ranges by descending weight, ties in the order the client wrote them. */
export interface LangPreference {
  ranges: readonly LanguageRange[];
}

// RFC 4647 §2.1 language-range (basic ranges are what Accept-Language and lookup use) and RFC 9110 weight.
const RANGE = /^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$/;
const WEIGHT = /^[qQ]=(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;
const OWS = /^[ \t]+|[ \t]+$/g;

/**
 * Parses a language-priority list such as `fr-CH,fr;q=0.9,*;q=0.5` (the Accept-Language syntax). An empty
 * list, an empty item, a malformed range, a weight outside 0..1 or any parameter other than `q`
 * → BadRequestData.
 */
export function parseLang(s: string): LangPreference {
  const fail = (why: string): never => {
    throw badRequestData(`Invalid lang parameter '${s}': ${why}`);
  };
  const ranges: LanguageRange[] = [];
  for (const rawItem of s.split(',')) {
    const [rawTag, ...params] = rawItem.split(';').map((part) => part.replace(OWS, ''));
    if (!rawTag) fail('empty language range');
    if (!RANGE.test(rawTag)) fail(`'${rawTag}' is not a language range`);
    let q = 1;
    if (params.length > 1) fail(`only one q weight is allowed on '${rawTag}'`);
    if (params.length === 1) {
      if (!WEIGHT.test(params[0])) fail(`'${params[0]}' is not a q weight`);
      q = Number(params[0].slice(2));
    }
    ranges.push({ tag: rawTag.toLowerCase(), q });
  }
  // Array.prototype.sort is stable, so equal weights keep the client's order.
  ranges.sort((a, b) => b.q - a.q);
  return { ranges };
}

/**
 * Chooses one entry of a languageMap for `pref` (RFC 4647 lookup, as §4.15 asks). Ranges are tried by
 * descending weight; for each, tags compare case-insensitively, a stored tag equal to the range wins, then
 * a stored tag more specific than it (`en` finds `en-US`), then the range is truncated one subtag at a
 * time (`nl-BE` finds `nl`, dropping single-character subtags left at the end). `*` takes the first entry
 * not excluded by a `q=0` range. With no match at all the first entry of the map is returned (with its
 * stored tag). Undefined only for an empty map.
 */
export function pickLanguage(
  map: Record<string, string | string[]>,
  pref: LangPreference,
): { tag: string; value: string | string[] } | undefined {
  const keys = Object.keys(map);
  if (keys.length === 0) return undefined;
  const excluded = pref.ranges.filter((r) => r.q === 0 && r.tag !== '*').map((r) => r.tag);
  const allowed = keys.filter((k) => !excluded.some((tag) => coversTag(tag, k.toLowerCase())));
  const entry = (tag: string): { tag: string; value: string | string[] } => ({ tag, value: map[tag] });

  for (const range of pref.ranges) {
    if (range.q === 0) continue;
    if (range.tag === '*') {
      if (allowed.length > 0) return entry(allowed[0]);
      continue;
    }
    const found = lookup(range.tag, allowed);
    if (found !== undefined) return entry(found);
  }
  return entry(keys[0]);
}

/** True when `range` (lower-case) equals `tag` (lower-case) or is a prefix of it ending at a subtag boundary. */
function coversTag(range: string, tag: string): boolean {
  return tag === range || tag.startsWith(`${range}-`);
}

function lookup(range: string, keys: string[]): string | undefined {
  let candidate = range;
  while (true) {
    const exact = keys.find((k) => k.toLowerCase() === candidate);
    if (exact !== undefined) return exact;
    const specific = keys.find((k) => coversTag(candidate, k.toLowerCase()));
    if (specific !== undefined) return specific;
    let cut = candidate.lastIndexOf('-');
    if (cut < 0) return undefined;
    candidate = candidate.slice(0, cut);
    // RFC 4647 §3.4: a singleton (e.g. the `x` of a private-use sequence) is removed with the subtag after it.
    cut = candidate.lastIndexOf('-');
    if (cut >= 0 && candidate.length - cut === 2) candidate = candidate.slice(0, cut);
  }
}
