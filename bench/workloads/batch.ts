// Batch upsert: loading the data set through the API (new entities, 1,000 per request), and the upsert
// workload (1,000 existing entities replaced per request, with changed values).
import { runLoad, type Measurement } from '../lib/cannon.ts';
import { ENTITY_TYPE, stationBatchJson } from '../lib/entities.ts';
import type { BenchOptions } from '../lib/options.ts';
import { API, JSON_ACCEPT, JSON_BODY, measured, type Outcome, type Workload } from './workload.ts';

export const BATCH_SIZE = 1000;

function batchSize(size: number): number {
  return Math.min(BATCH_SIZE, size);
}

/** Loads `options.entities` new stations with batch upserts, printing progress; checks the count after. */
export async function loadDataset(origin: string, options: BenchOptions, log: (m: string) => void): Promise<Outcome> {
  const size = options.entities;
  const per = batchSize(size);
  const requests = Math.ceil(size / per);
  let next = 0;
  let done = 0;
  let lastReport = 0;
  const started = performance.now();
  log(`loading ${size.toLocaleString('en-US')} entities through POST ${API}/entityOperations/upsert, ${per} per request`);
  const m: Measurement = await runLoad({
    origin,
    method: 'POST',
    headers: JSON_BODY,
    connections: Math.min(4, options.connections),
    amount: requests,
    timeoutS: 120,
    next: () => {
      const first = next * per;
      next++;
      return { path: `${API}/entityOperations/upsert`, body: stationBatchJson(first, Math.min(per, Math.max(1, size - first)), size) };
    },
    onResponse: () => {
      done++;
      if (done === requests || done - lastReport >= Math.max(1, Math.floor(requests / 10))) {
        lastReport = done;
        const entities = Math.min(size, done * per);
        const rate = entities / ((performance.now() - started) / 1000);
        log(`  loaded ${entities.toLocaleString('en-US')} / ${size.toLocaleString('en-US')} (${Math.round((100 * entities) / size)} %), ${Math.round(rate).toLocaleString('en-US')} entities/s`);
      }
    },
  });
  if (m.non2xx > 0 || m.errors > 0) return { status: 'failed', reason: `loading failed: status codes ${JSON.stringify(m.statusCodes)}, ${m.errors} errors` };
  const res = await fetch(`${origin}${API}/entities?type=${ENTITY_TYPE}&count=true&limit=0`, { headers: JSON_ACCEPT });
  const count = Number(res.headers.get('ngsild-results-count'));
  await res.arrayBuffer();
  if (count !== size) return { status: 'failed', reason: `loaded ${size} entities but the store counts ${count}` };
  const wallS = (performance.now() - started) / 1000;
  return measured(m, {
    entitiesPerS: size / m.durationS,
    note: `${size.toLocaleString('en-US')} new entities in ${wallS.toFixed(1)} s; count checked`,
  });
}

export const batchUpsert: Workload = {
  name: 'batch-upsert',
  title: 'batch upsert, 1,000 per request',
  basis: 'post',
  target: 'kend',
  needsData: true,
  async run(ctx) {
    const size = ctx.datasetSize;
    // A smoke run (--quick) must complete requests within its 1 s window even on a busy machine (CI runs
    // it beside other tests): 100 entities per request there; the figures of such a run are not results.
    const per = ctx.options.quick ? Math.max(1, Math.floor(batchSize(size) / 10)) : batchSize(size);
    let k = 0;
    const m = await ctx.measure({
      method: 'POST',
      headers: JSON_BODY,
      // Request k replaces the stations [k·per, k·per + per) (mod size) with values of round ⌊k·per / size⌋ + 1.
      next: () => {
        const first = (k * per) % size;
        const round = 1 + Math.floor((k * per) / size);
        k++;
        return { path: `${API}/entityOperations/upsert`, body: stationBatchJson(first, per, size, round) };
      },
      timeoutS: 120,
    });
    return measured(m, { entitiesPerS: m.rps * per, note: `existing entities replaced, ${per} per request` });
  },
};
