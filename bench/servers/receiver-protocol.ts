// Messages between the benchmark harness and the notification receiver process (Node IPC channel).
import type { LatencySummary } from '../lib/stats.ts';

export type ReceiverCommand = { cmd: 'reset' } | { cmd: 'report' };

export interface ReceiverReport {
  /** Notification requests received. */
  notifications: number;
  /** Entities carrying a numeric sentAt across those notifications (one latency sample each). */
  samples: number;
  /** Notifications whose body was not the expected JSON. */
  malformed: number;
  /** Notification latency: receipt time minus the sentAt carried in the updated value. */
  latencyMs: LatencySummary;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
