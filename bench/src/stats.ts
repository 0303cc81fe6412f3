/** Order statistics over small samples (no interpolation: a reported figure was observed). */

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The value at quantile q (0..1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const ordered = sorted(values);
  const rank = Math.min(ordered.length - 1, Math.max(0, Math.ceil(q * ordered.length) - 1));
  return ordered[rank] ?? Number.NaN;
}

/** The median; for an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const ordered = sorted(values);
  const mid = Math.floor(ordered.length / 2);
  const upper = ordered[mid] ?? Number.NaN;
  if (ordered.length % 2 === 1) return upper;
  return ((ordered[mid - 1] ?? upper) + upper) / 2;
}

export function spread(values: readonly number[]): { min: number; max: number } {
  if (values.length === 0) return { min: Number.NaN, max: Number.NaN };
  return { min: Math.min(...values), max: Math.max(...values) };
}
