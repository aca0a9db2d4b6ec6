// Time source, injected so the domain stays deterministic in tests.
export interface Clock {
  /** Current instant as an ISO 8601 UTC string with millisecond precision. */
  nowIso(): string;
  nowMs(): number;
}

export const systemClock: Clock = {
  nowIso: () => new Date().toISOString(),
  nowMs: () => Date.now(),
};
