// Query Entities workloads over the loaded data set: type + q (a narrow numeric band), geo near 1 km,
// and a paged full scan with limit/offset (the pagination Kend has).
import { AREA, ENTITY_TYPE, TEMPERATURE } from '../lib/entities.ts';
import { API, JSON_ACCEPT, measured, type Workload } from './workload.ts';

/** Matches wanted per q request (before the page limit of 20 applies). */
const Q_MATCHES = 100;
const SCAN_PAGE = 1000;

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

export const typeAndQ: Workload = {
  name: 'query-q',
  title: 'query type + q',
  basis: 'get',
  target: 'kend',
  needsData: true,
  async run(ctx) {
    const size = ctx.datasetSize;
    const span = TEMPERATURE.max - TEMPERATURE.min;
    // temperature is uniform, so a band of this width matches ≈ Q_MATCHES entities.
    const width = round(Math.min(span / 2, (span * Q_MATCHES) / size), 2);
    const m = await ctx.measure({
      method: 'GET',
      headers: JSON_ACCEPT,
      next: () => {
        const lo = round(TEMPERATURE.min + Math.random() * (span - width), 2);
        const q = encodeURIComponent(`temperature>=${lo};temperature<${round(lo + width, 2)}`);
        return { path: `${API}/entities?type=${ENTITY_TYPE}&q=${q}` };
      },
    });
    return measured(m, { note: `q=temperature>=x;temperature<x+${width}: ≈${Q_MATCHES} of ${size.toLocaleString('en-US')} match, first 20 returned` });
  },
};

export const geoNear: Workload = {
  name: 'geo-near',
  title: 'query geo near 1 km',
  basis: 'get',
  target: 'kend',
  needsData: true,
  async run(ctx) {
    const size = ctx.datasetSize;
    // Stations are uniform over AREA; ≈ π km² of it lies within 1 km of a point well inside.
    const kmX = (AREA.east - AREA.west) * 111.32 * Math.cos((((AREA.north + AREA.south) / 2) * Math.PI) / 180);
    const kmY = (AREA.north - AREA.south) * 110.57;
    const expected = Math.round((size * Math.PI) / (kmX * kmY));
    const georel = encodeURIComponent('near;maxDistance==1000');
    const m = await ctx.measure({
      method: 'GET',
      headers: JSON_ACCEPT,
      next: () => {
        const lon = round(AREA.west + 0.02 + Math.random() * (AREA.east - AREA.west - 0.04), 6);
        const lat = round(AREA.south + 0.02 + Math.random() * (AREA.north - AREA.south - 0.04), 6);
        return { path: `${API}/entities?type=${ENTITY_TYPE}&georel=${georel}&geometry=Point&coordinates=${encodeURIComponent(`[${lon},${lat}]`)}` };
      },
    });
    return measured(m, { note: `≈${expected} of ${size.toLocaleString('en-US')} within 1 km, first 20 returned` });
  },
};

export const pagedScan: Workload = {
  name: 'scan',
  title: `paged full scan (limit=${SCAN_PAGE})`,
  basis: 'get',
  target: 'kend',
  needsData: true,
  async run(ctx) {
    const size = ctx.datasetSize;
    const page = Math.min(SCAN_PAGE, size);
    const pages = Math.ceil(size / page);
    let k = 0;
    const m = await ctx.measure({
      method: 'GET',
      headers: JSON_ACCEPT,
      // Pages are requested round robin, so every offset from 0 to the last page is measured equally.
      next: () => ({ path: `${API}/entities?type=${ENTITY_TYPE}&limit=${page}&offset=${(k++ % pages) * page}` }),
    });
    return measured(m, { entitiesPerS: m.rps * (size / pages), note: `offsets 0…${((pages - 1) * page).toLocaleString('en-US')} round robin` });
  },
};
