// Instance pagination of temporal answers (GS CIM 009 §6.3.10; guide §15.3): a per-attribute cap on the
// instances returned; when it cuts, the answer is 206 with `Content-Range: date-time <start>-<end>/<size>`
// and every attribute keeps only its instances inside that one range, so the client can ask for the rest.
import { instanceTime } from './instance-values.ts';
import type { RecordedInstance, TemporalEntityInstances, TimeWindow } from './model.ts';

export interface InstanceRangeRequest {
  window: TimeWindow;
  lastN?: number;
  /** timeAt / endTimeAt as sent (canonical), echoed as range bounds. */
  timeAt?: string;
  endTimeAt?: string;
  /** The configured per-attribute cap. */
  cap: number;
  /**
   * Where an upstream party already cut its instances (the end of its Content-Range; distributed queries
   * merge such answers): the answer's range ends there at the latest.
   */
  cutAt?: { ms: number; text: string };
}

export interface InstanceRangeResult {
  entities: TemporalEntityInstances[];
  /** The Content-Range header value when the cap cut an attribute; absent: answer 200. */
  contentRange?: string;
}

/**
 * How many instances per attribute to ask the store for: one more than the cap, so that "more than the cap
 * exists" is known exactly for every attribute (the store's `truncated` flag is per entity).
 */
export function storeInstanceLimit(cap: number): number {
  return cap + 1;
}

interface Stamp {
  ms: number;
  text: string;
}

function stamp(inst: RecordedInstance, window: TimeWindow): Stamp | null {
  const ms = instanceTime(inst, window.property);
  return ms === null ? null : { ms, text: inst[window.property]! };
}

/**
 * Applies the cap to instances fetched with `storeInstanceLimit(cap)` (ascending per attribute). Without
 * lastN the oldest instances are kept and the range runs from timeAt (after, between) or the oldest returned
 * time to the newest returned time of the most restrictive cut attribute, size `*`. With lastN the newest
 * min(lastN, cap) are kept and the range runs from the window's upper bound (or the newest returned time)
 * down to the oldest returned time, size lastN. Nothing cut: entities unchanged, no range.
 */
export function applyInstanceRange(entities: readonly TemporalEntityInstances[], req: InstanceRangeRequest): InstanceRangeResult {
  const { cap, window } = req;
  const descending = req.lastN !== undefined;
  let bound: Stamp | null = req.cutAt ?? null;
  const capped = entities.map((e) => {
    const attrs: Record<string, RecordedInstance[]> = {};
    for (const [attr, list] of Object.entries(e.attrs)) {
      if (list.length <= cap) {
        attrs[attr] = list;
        continue;
      }
      const kept = descending ? list.slice(list.length - cap) : list.slice(0, cap);
      const edge = stamp(descending ? kept[0]! : kept[kept.length - 1]!, window);
      if (edge !== null && (bound === null || (descending ? edge.ms > bound.ms : edge.ms < bound.ms))) bound = edge;
      attrs[attr] = kept;
    }
    return { ...e, attrs };
  });
  if (bound === null) return { entities: capped.map((e) => ({ ...e, truncated: false })) };
  const limit: Stamp = bound;
  const inRange = (inst: RecordedInstance): boolean => {
    const s = stamp(inst, window);
    return s !== null && (descending ? s.ms >= limit.ms : s.ms <= limit.ms);
  };
  const trimmed = capped.map((e) => ({
    ...e,
    truncated: true,
    attrs: Object.fromEntries(Object.entries(e.attrs).map(([a, list]) => [a, list.filter(inRange)])),
  }));
  const returned = trimmed.flatMap((e) => Object.values(e.attrs).flat()).map((i) => stamp(i, window)).filter((s): s is Stamp => s !== null);
  let start: string;
  if (descending) {
    const upper = window.rel === 'between' ? req.endTimeAt : window.rel === 'before' ? req.timeAt : undefined;
    start = upper ?? returned.reduce((a, b) => (b.ms > a.ms ? b : a), limit).text;
  } else {
    const lower = window.rel === 'after' || window.rel === 'between' ? req.timeAt : undefined;
    start = lower ?? returned.reduce((a, b) => (b.ms < a.ms ? b : a), limit).text;
  }
  const size = descending ? String(req.lastN) : '*';
  return { entities: trimmed, contentRange: `date-time ${start}-${limit.text}/${size}` };
}
