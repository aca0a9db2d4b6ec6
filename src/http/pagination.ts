// Pagination and counting (GS CIM 009 §4.12, §5.5.9, §6.3.10, §6.3.13): limit/offset/count parsing with the
// configured maximum, and rel="prev"/"next" page links that keep the client's parameter order.
import { NgsiError, badRequestData } from '../core/errors.ts';
import type { QueryParams } from './query-params.ts';

export interface PageRequest {
  limit: number;
  offset: number;
  count: boolean;
}

export interface PageLimits {
  defaultPageSize: number;
  maxPageSize: number;
}

function nonNegativeInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw badRequestData(`${name} must be a non-negative integer, got "${raw}"`, `Invalid ${name}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw badRequestData(`${name} is too large`, `Invalid ${name}`);
  return n;
}

export function parsePage(query: QueryParams, limits: PageLimits): PageRequest {
  const countRaw = query.get('count');
  if (countRaw !== undefined && countRaw !== 'true' && countRaw !== 'false') {
    throw badRequestData('count must be true or false', 'Invalid count');
  }
  const count = countRaw === 'true';
  const limitRaw = query.get('limit');
  const limit = limitRaw === undefined ? limits.defaultPageSize : nonNegativeInt('limit', limitRaw);
  if (limit > limits.maxPageSize) {
    throw new NgsiError('TooManyResults', `limit ${limit} exceeds the maximum page size ${limits.maxPageSize}`, 'Too many results');
  }
  if (limit === 0 && !count) throw badRequestData('limit=0 is only allowed together with count=true', 'Invalid limit');
  const offsetRaw = query.get('offset');
  const offset = offsetRaw === undefined ? 0 : nonNegativeInt('offset', offsetRaw);
  return { limit, offset, count };
}

function withOffset(raw: string, offset: number): string {
  const parts = raw.split('&').filter((p) => p !== '');
  let replaced = false;
  const out = parts.map((p) => {
    if (p.split('=')[0] === 'offset') {
      replaced = true;
      return `offset=${offset}`;
    }
    return p;
  });
  if (!replaced) out.push(`offset=${offset}`);
  return out.join('&');
}

/** The page Link header values for a result page (none on an empty limit=0 page). */
export function pageLinks(path: string, query: QueryParams, page: PageRequest, returned: number, hasMore: boolean): string[] {
  if (page.limit === 0) return [];
  const links: string[] = [];
  if (page.offset > 0) {
    links.push(`<${path}?${withOffset(query.raw, Math.max(0, page.offset - page.limit))}>; rel="prev"; type="application/ld+json"`);
  }
  if (hasMore && returned > 0) {
    links.push(`<${path}?${withOffset(query.raw, page.offset + page.limit)}>; rel="next"; type="application/ld+json"`);
  }
  return links;
}
