/**
 * Summaries of repeated measurements: every figure the bench prints is the median of several
 * runs, with the smallest and largest run beside it.
 */

/** The runs of one measurement. */
export interface Summary {
  /** Median of the runs (mean of the two middle runs for an even count). */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Number of runs. */
  readonly n: number;
}

/**
 * The `p`-th percentile of `values` by the nearest-rank method (p95 of 20 values is the 19th).
 * @param p percentile, 0–100.
 * @throws RangeError for an empty list or `p` outside 0–100.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be 0–100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/**
 * Median, min and max of the runs.
 * @throws RangeError for an empty list.
 */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summary of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** A number with `digits` significant digits at most, without exponent notation (1234 → "1234", 0.01234 → "0.0123"). */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value.toFixed(decimals);
}

/** "median (min–max)", or the bare value for a single run. */
export function formatSummary(summary: Summary, digits = 3): string {
  const median = formatNumber(summary.median, digits);
  if (summary.n === 1 || summary.min === summary.max) return median;
  return `${median} (${formatNumber(summary.min, digits)}–${formatNumber(summary.max, digits)})`;
}

/** A plain-text table: columns padded to their widest cell, a rule under the header. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
