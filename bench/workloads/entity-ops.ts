// Single-entity workloads: create entity (unique id per request), get by id, partial attribute update.
import { ID_PREFIX, stationId, stationJson } from '../lib/entities.ts';
import { API, JSON_ACCEPT, JSON_BODY, measured, randomInt, type Workload } from './workload.ts';

export const createEntity: Workload = {
  name: 'create',
  title: 'create entity (8 attributes)',
  basis: 'post',
  target: 'kend',
  needsData: false,
  async run(ctx) {
    let n = 0;
    const m = await ctx.measure({
      method: 'POST',
      headers: JSON_BODY,
      next: () => ({ path: `${API}/entities`, body: stationJson(`${ID_PREFIX}c${n}`, n++) }),
    });
    return measured(m, { note: `${n.toLocaleString('en-US')} new entities (incl. warm-up)` });
  },
};

export const getById: Workload = {
  name: 'get',
  title: 'get entity by id',
  basis: 'get',
  target: 'kend',
  needsData: true,
  async run(ctx) {
    const size = ctx.datasetSize;
    const m = await ctx.measure({ method: 'GET', headers: JSON_ACCEPT, next: () => ({ path: `${API}/entities/${stationId(randomInt(size))}` }) });
    return measured(m, { note: 'normalized, 8 attributes' });
  },
};

export const patchAttrs: Workload = {
  name: 'patch',
  title: 'partial update (PATCH …/attrs)',
  basis: 'post',
  target: 'kend',
  needsData: true,
  async run(ctx) {
    const size = ctx.datasetSize;
    const m = await ctx.measure({
      method: 'PATCH',
      headers: JSON_BODY,
      next: () => {
        const observedAt = new Date().toISOString();
        const t = Math.round(Math.random() * 5000) / 100;
        const h = Math.round(Math.random() * 1000) / 10;
        return {
          path: `${API}/entities/${stationId(randomInt(size))}/attrs`,
          body:
            `{"temperature":{"type":"Property","value":${t},"unitCode":"CEL","observedAt":"${observedAt}"},` +
            `"humidity":{"type":"Property","value":${h},"unitCode":"P1","observedAt":"${observedAt}"}}`,
        };
      },
    });
    return measured(m, { note: '2 attributes of a random entity' });
  },
};
