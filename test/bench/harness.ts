/**
 * The benchmark harness: each benchmark returns figures; `npm run bench [-- NAME...]` prints a table and writes
 * bench-results.json. Targets are ratios against a baseline measured in the same run, never timed test asserts.
 */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note: string;
}

export interface Benchmark {
  /** Prefix shared by its figures, e.g. 'mavlink' or 'sitl'; `npm run bench -- mavlink` selects it. */
  readonly name: string;
  readonly figures: readonly string[];
  run(): Promise<Figure[]>;
}

/** Percentile of a numeric sample (nearest rank). */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Best-of-N wall time of fn in milliseconds (the least disturbed run on a shared machine). */
export async function bestOf(n: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    Number.isFinite(f.value) ? String(+f.value.toPrecision(4)) : String(f.value),
    f.unit,
    f.note,
  ]);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length), ['figure', 'value', 'unit'][c].length));
  const line = (r: string[]) =>
    `${r[0].padEnd(widths[0])}  ${r[1].padStart(widths[1])}  ${r[2].padEnd(widths[2])}  ${r[3]}`;
  return [line(['figure', 'value', 'unit', 'note']), ...rows.map(line)].join('\n');
}
