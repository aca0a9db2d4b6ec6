// Content negotiation (GS CIM 009 §6.3.4, §6.3.6; RFC 9110 §12.5.1): request media types and Accept.
export const JSON_TYPE = 'application/json';
export const LD_JSON_TYPE = 'application/ld+json';
export const GEO_JSON_TYPE = 'application/geo+json';
export const MERGE_PATCH_TYPE = 'application/merge-patch+json';

export type ResponseType = typeof JSON_TYPE | typeof LD_JSON_TYPE | typeof GEO_JSON_TYPE;

/** The type/subtype of a Content-Type header, lower-cased, parameters dropped; undefined when absent. */
export function mediaTypeOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return header.split(';')[0]!.trim().toLowerCase();
}

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const out: Range[] = [];
  for (const item of header.split(',')) {
    const [range, ...params] = item.split(';').map((s) => s.trim());
    if (!range) continue;
    const [type, subtype] = range.toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k?.toLowerCase() === 'q' && v !== undefined) {
        const n = Number(v);
        if (Number.isFinite(n) && n >= 0 && n <= 1) q = n;
      }
    }
    out.push({ type, subtype, q });
  }
  return out;
}

/**
 * Picks the response type: each offered type gets the weight of the most specific matching range;
 * ties are broken by the order of `offered` (json, ld+json, geo+json), never the client's order.
 * Returns undefined when nothing acceptable is offered (→ 406).
 */
export function selectResponseType(accept: string | undefined, offered: readonly ResponseType[]): ResponseType | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0];
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return offered[0];
  let best: ResponseType | undefined;
  let bestQ = 0;
  for (const candidate of offered) {
    const [ct, cs] = candidate.split('/') as [string, string];
    let specificity = -1;
    let q = 0;
    for (const r of ranges) {
      let s = -1;
      if (r.type === ct && r.subtype === cs) s = 2;
      else if (r.type === ct && r.subtype === '*') s = 1;
      else if (r.type === '*' && r.subtype === '*') s = 0;
      if (s > specificity) {
        specificity = s;
        q = r.q;
      }
    }
    if (specificity >= 0 && q > bestQ) {
      best = candidate;
      bestQ = q;
    }
  }
  return best;
}
