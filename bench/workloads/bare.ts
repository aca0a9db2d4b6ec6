// The bare-route baseline: the same load against a bare Fastify app (POST → 201, GET → small JSON).
import { stationJson } from '../lib/entities.ts';
import { JSON_ACCEPT, JSON_BODY, measured, randomInt, type Workload } from './workload.ts';

export const barePost: Workload = {
  name: 'bare-post',
  title: 'bare Fastify POST → 201',
  basis: 'none',
  target: 'bare',
  needsData: false,
  async run(ctx) {
    let n = 0;
    const m = await ctx.measure({
      method: 'POST',
      headers: JSON_BODY,
      // The same body as "create entity": Fastify parses it, then the route drops it.
      next: () => ({ path: '/bare/entities', body: stationJson(`urn:ngsi-ld:WeatherStation:b${n}`, n++) }),
    });
    return measured(m);
  },
};

export const bareGet: Workload = {
  name: 'bare-get',
  title: 'bare Fastify GET → small JSON',
  basis: 'none',
  target: 'bare',
  needsData: false,
  async run(ctx) {
    const m = await ctx.measure({ method: 'GET', headers: JSON_ACCEPT, next: () => ({ path: `/bare/entities/s${randomInt(100_000)}` }) });
    return measured(m);
  },
};
