// Temporal aggregation: one entity with `temporalInstances` temperature instances (one per 36 s, so 100 per
// hour), loaded through the temporal API 1,000 per request; then avg/min/max per hour (PT1H) over all of
// them. Skips itself while the temporal API (issue 6) does not exist.
import { runLoad } from '../lib/cannon.ts';
import { ENTITY_TYPE, ID_PREFIX, TEMPERATURE, unitHash } from '../lib/entities.ts';
import { API, JSON_ACCEPT, JSON_BODY, measured, type Workload } from './workload.ts';

const ENTITY_ID = `${ID_PREFIX}temporal-1`;
const STEP_MS = 36_000;
const CHUNK = 1000;
const START_MS = Date.UTC(2026, 0, 1);
const UNAVAILABLE = new Set([404, 405, 501]);

function instances(first: number, count: number): string {
  const parts: string[] = [];
  for (let k = first; k < first + count; k++) {
    const value = Math.round((TEMPERATURE.min + (TEMPERATURE.max - TEMPERATURE.min) * unitHash(k, 7)) * 100) / 100;
    parts.push(`{"type":"Property","value":${value},"unitCode":"CEL","observedAt":"${new Date(START_MS + k * STEP_MS).toISOString()}"}`);
  }
  return `[${parts.join(',')}]`;
}

export const temporalAggregation: Workload = {
  name: 'temporal',
  title: 'temporal aggregation avg/min/max PT1H',
  basis: 'get',
  target: 'kend',
  needsData: false,
  async run(ctx) {
    const probe = await fetch(`${ctx.origin}${API}/temporal/entities?type=${ENTITY_TYPE}`, { headers: JSON_ACCEPT });
    await probe.arrayBuffer();
    if (UNAVAILABLE.has(probe.status)) return { status: 'skipped', reason: 'temporal API not available' };

    const total = ctx.options.temporalInstances;
    ctx.log(`  loading ${total.toLocaleString('en-US')} instances of ${ENTITY_ID}`);
    const created = await fetch(`${ctx.origin}${API}/temporal/entities`, {
      method: 'POST',
      headers: JSON_BODY,
      body: `{"id":"${ENTITY_ID}","type":"${ENTITY_TYPE}","temperature":${instances(0, Math.min(CHUNK, total))}}`,
    });
    await created.arrayBuffer();
    if (UNAVAILABLE.has(created.status)) return { status: 'skipped', reason: 'temporal API not available' };
    if (created.status !== 201 && created.status !== 204) return { status: 'failed', reason: `POST /temporal/entities answered ${created.status}` };
    const appends = Math.ceil(total / CHUNK) - 1;
    if (appends > 0) {
      let k = 1;
      const load = await runLoad({
        origin: ctx.origin,
        method: 'POST',
        headers: JSON_BODY,
        connections: 2,
        amount: appends,
        timeoutS: 120,
        next: () => {
          const first = Math.min(k++, appends) * CHUNK;
          return { path: `${API}/temporal/entities/${ENTITY_ID}/attrs`, body: `{"temperature":${instances(first, Math.min(CHUNK, total - first))}}` };
        },
      });
      if (load.non2xx > 0 || load.errors > 0) return { status: 'failed', reason: `appending instances: status codes ${JSON.stringify(load.statusCodes)}, ${load.errors} errors` };
    }

    const end = new Date(START_MS + total * STEP_MS + 3_600_000).toISOString();
    const path =
      `${API}/temporal/entities/${ENTITY_ID}?attrs=temperature&options=aggregatedValues&aggrMethods=avg,min,max&aggrPeriodDuration=PT1H` +
      `&timerel=between&timeAt=${new Date(START_MS).toISOString()}&endTimeAt=${end}`;
    const check = await fetch(`${ctx.origin}${path}`, { headers: JSON_ACCEPT });
    const bytes = (await check.arrayBuffer()).byteLength;
    if (check.status < 200 || check.status > 299) return { status: 'failed', reason: `aggregation query answered ${check.status}` };
    const m = await ctx.measure({ method: 'GET', headers: JSON_ACCEPT, next: () => ({ path }) });
    const buckets = Math.ceil((total * STEP_MS) / 3_600_000);
    return measured(m, { note: `${total.toLocaleString('en-US')} instances, ${buckets} hourly buckets, ${bytes.toLocaleString('en-US')} B response` });
  },
};
