/**
 * Confidence intervals for a sweep's comparisons. Clip scores are neither normal nor many (a few dozen
 * clips), so intervals come from the percentile bootstrap, seeded so that a report is reproducible. The
 * difference between a compressed model and dense-int8 is *paired*: both ran the same clips, so each
 * resample draws clips, not two independent sets of scores, and the clip-to-clip spread that both share
 * cancels. A difference is "resolved" when its interval excludes zero.
 */
import seedrandom from 'seedrandom';

export interface Interval {
  mean: number;
  /** 95 % percentile-bootstrap bounds. */
  lo: number;
  hi: number;
  n: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: string;
  /** Two-sided coverage, 0.95 by default. */
  level?: number;
}

const DEFAULTS = { resamples: 10_000, seed: 'hil-report', level: 0.95 };

function meanOf(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s / values.length;
}

/** The mean of `values` and its bootstrap interval. One value gives a zero-width interval; none gives NaN. */
export function meanInterval(values: readonly number[], options: BootstrapOptions = {}): Interval {
  const { resamples, seed, level } = { ...DEFAULTS, ...options };
  const n = values.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n };
  const m = meanOf(values);
  if (n === 1) return { mean: m, lo: m, hi: m, n };
  const rng = seedrandom(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rng() * n)]!;
    means[r] = s / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  // Nearest-rank percentiles of the resampled means.
  const at = (p: number) => means[Math.min(resamples - 1, Math.max(0, Math.ceil(p * resamples) - 1))]!;
  return { mean: m, lo: at(tail), hi: at(1 - tail), n };
}

/**
 * The paired difference `b − a` over the clips both have (matched by key), with its interval. Clips only
 * one side has are left out and counted, so a partial run cannot pass for a comparison on equal terms.
 */
export function pairedDifference(
  a: ReadonlyMap<string, number>,
  b: ReadonlyMap<string, number>,
  options: BootstrapOptions = {},
): Interval & { unmatched: number; resolved: boolean } {
  const diffs: number[] = [];
  for (const [key, va] of a) {
    const vb = b.get(key);
    if (vb !== undefined && Number.isFinite(va) && Number.isFinite(vb)) diffs.push(vb - va);
  }
  const unmatched = a.size + b.size - 2 * diffs.length;
  const ci = meanInterval(diffs, options);
  return { ...ci, unmatched, resolved: ci.n > 1 && (ci.lo > 0 || ci.hi < 0) };
}
