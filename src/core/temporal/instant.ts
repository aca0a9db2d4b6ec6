// Instants as the temporal API prints them (guide §5.4): UTC, and no zero fraction padded on (`…:00Z`, not
// `…:00.000Z`), because clients compare bucket bounds and Content-Range times literally.

/** Epoch milliseconds → `YYYY-MM-DDThh:mm:ss[.mmm]Z`, the fraction only when it is not zero. */
export function formatInstant(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
