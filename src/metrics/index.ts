/**
 * Scoring one enhanced signal against its clean reference. docs/metrics.md defines both figures and the
 * conventions (zero-mean SI-SDR, BSS Eval v3 SDR with a 512-tap distortion filter).
 */
import { sdr } from './sdr.js';
import { sisdr } from './sisdr.js';
import { checkPair, DEFAULT_NAMES, type PairNames } from './validate.js';

export interface PairScore {
  /** BSS Eval v3 SDR in dB (mir_eval.separation.bss_eval_sources). */
  sdr: number;
  /** Zero-mean SI-SDR in dB (Le Roux et al. 2019). */
  sisdr: number;
}

/**
 * Scores `estimate` against `reference`: mono, same sample rate, time-aligned, equal length, finite.
 * Throws HilError for unequal lengths, a silent reference and non-finite samples, and SilentEstimateError
 * (a HilError) for an estimate with no energy; `names` (e.g. file paths) go into those messages.
 */
export function scorePair(reference: Float64Array, estimate: Float64Array, names: PairNames = DEFAULT_NAMES): PairScore {
  checkPair(reference, estimate, names);
  return { sdr: sdr(reference, estimate, names), sisdr: sisdr(reference, estimate, names) };
}

export { sdr, sdrDecompose, BSS_EVAL_FILTER_TAPS } from './sdr.js';
export { sisdr } from './sisdr.js';
export { SilentEstimateError, type PairNames } from './validate.js';
