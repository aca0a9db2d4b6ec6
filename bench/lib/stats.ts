// Latency statistics over every recorded sample (exact percentiles, nearest-rank), in milliseconds.
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** Collects samples into a growable Float64Array (no per-sample allocation at 30,000 samples/s). */
export class Samples {
  private data = new Float64Array(1 << 14);
  private n = 0;

  add(value: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = value;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, mean: Number.NaN, max: Number.NaN };
    const sorted = this.data.slice(0, this.n).sort();
    const at = (p: number) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(p * this.n) - 1))]!;
    let sum = 0;
    for (const v of sorted) sum += v;
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), mean: sum / this.n, max: sorted[this.n - 1]! };
  }
}
