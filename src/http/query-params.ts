// URL query parsing for NGSI-LD (GS CIM 009 §6.3): percent-decoding without turning "+" into a space
// (fatal for regexes and scopeQ), parameters kept in the order the client sent them (page links, §11).
import { badRequestData, invalidRequest } from '../core/errors.ts';

export class QueryParams {
  private readonly map = new Map<string, string>();

  constructor(
    /** The raw query string (without "?"), used to build pagination links. */
    readonly raw: string,
    readonly entries: readonly (readonly [string, string])[],
  ) {
    for (const [k, v] of entries) this.map.set(k, v);
  }

  get(name: string): string | undefined {
    return this.map.get(name);
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  /** A `true`/`false` parameter; absent = false; any other value → 400 BadRequestData. */
  bool(name: string): boolean {
    const v = this.map.get(name);
    if (v === undefined || v === 'false') return false;
    if (v === 'true') return true;
    throw badRequestData(`${name} must be true or false`, `Invalid ${name}`);
  }

  names(): string[] {
    return [...this.map.keys()];
  }
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalidRequest(`The URL query component "${part.slice(0, 100)}" is not valid percent-encoding`);
  }
}

export function parseQueryString(raw: string): QueryParams {
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  if (raw.length > 0) {
    for (const part of raw.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const name = decode(eq < 0 ? part : part.slice(0, eq));
      const value = eq < 0 ? '' : decode(part.slice(eq + 1));
      if (seen.has(name)) throw invalidRequest(`The URL parameter "${name}" is given more than once`);
      seen.add(name);
      entries.push([name, value]);
    }
  }
  return new QueryParams(raw, entries);
}
