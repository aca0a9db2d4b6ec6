// The HTTP Link header (RFC 8288) as NGSI-LD uses it: the JSON-LD context link (§6.3.5) and page links.
import { badRequestData } from '../core/errors.ts';

export const JSONLD_CONTEXT_REL = 'http://www.w3.org/ns/json-ld#context';

interface Link {
  url: string;
  params: Map<string, string>;
}

function parseLinks(header: string): Link[] {
  const links: Link[] = [];
  // Split on commas that are outside <...> and quotes.
  let depth = 0;
  let quoted = false;
  let start = 0;
  const parts: string[] = [];
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (c === '"' && depth === 0) quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && c === ',') {
      parts.push(header.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(header.slice(start));
  for (const part of parts) {
    const m = /^\s*<([^>]*)>\s*(.*)$/s.exec(part);
    if (!m) {
      if (part.trim() === '') continue;
      throw badRequestData('The Link header is malformed', 'Invalid Link header');
    }
    const params = new Map<string, string>();
    for (const p of m[2]!.split(';')) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim().replace(/^"(.*)"$/s, '$1');
      params.set(k, v);
    }
    links.push({ url: m[1]!.trim(), params });
  }
  return links;
}

/** The @context URL named by a Link header, if any; several context links → 400 BadRequestData. */
export function contextUrlFromLink(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const ctx = parseLinks(header).filter((l) => l.params.get('rel') === JSONLD_CONTEXT_REL);
  if (ctx.length > 1) throw badRequestData('The Link header names more than one JSON-LD @context', 'Invalid Link header');
  if (ctx.length === 0) return undefined;
  const url = ctx[0]!.url;
  try {
    new URL(url);
  } catch {
    throw badRequestData(`The JSON-LD @context link "${url}" is not an absolute URL`, 'Invalid Link header');
  }
  return url;
}

export function contextLinkValue(url: string): string {
  return `<${url}>; rel="${JSONLD_CONTEXT_REL}"; type="application/ld+json"`;
}
