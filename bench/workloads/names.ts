// Names of the benchmark workloads, in the order they run (the --only filter takes these).
export const WORKLOAD_NAMES = [
  'bare-post',
  'bare-get',
  'get',
  'query-q',
  'geo-near',
  'scan',
  'patch',
  'batch-upsert',
  'create',
  'notify',
  'temporal',
] as const;

export type WorkloadName = (typeof WORKLOAD_NAMES)[number];
