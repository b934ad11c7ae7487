/**
 * SDR as defined by BSS Eval v3 (Vincent, Gribonval, Févotte 2006) and computed by
 * mir_eval.separation.bss_eval_sources, for one source. docs/metrics.md states the definition; the test
 * suite checks agreement with mir_eval to 0.01 dB.
 *
 * With a single reference s (N samples) and estimate ŝ, the "allowed distortion" is any 512-tap FIR filter
 * applied to s. The target is the least-squares projection of ŝ onto the span of s delayed by 0..511
 * samples, both seen on N + 511 samples (ŝ zero-padded, as mir_eval does), and everything else is error:
 *
 *   s_target = Σ_k c[k]·s[n−k],   c = argmin ‖ŝ − Σ_k c[k]·s[·−k]‖²
 *   SDR = 10·log10(‖s_target‖² / ‖ŝ − s_target‖²)
 *
 * The normal equations G·c = d use G[i][j] = r_ss(|i−j|) (the reference's autocorrelation: a Toeplitz
 * Gram matrix) and d[k] = Σ_n s[n]·ŝ[n+k], both from FFTs of size ≥ N + 511, so there is no circular
 * wrap-around. mir_eval solves with LU (LAPACK gesv); so do we, falling back to a least-squares solution
 * where mir_eval falls back to lstsq.
 *
 * SIR and SAR: with one source the interference projection equals the distortion projection, so
 * e_interf = 0 exactly, SIR = +∞ and SAR = SDR. They carry no information and are not reported.
 */
import { LuDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { Fft, conjMul, mul, nextPow2 } from './fft.js';
import { checkPair, DEFAULT_NAMES, type PairNames } from './validate.js';

/** The distortion filter length of BSS Eval v3's bss_eval_sources (mir_eval's `flen`). */
export const BSS_EVAL_FILTER_TAPS = 512;

export interface SdrDecomposition {
  /** The filtered reference: the part of the estimate that counts as the source (N + 511 samples). */
  target: Float64Array;
  /** Estimate (zero-padded to N + 511) minus target. */
  error: Float64Array;
  /** The distortion filter c (512 taps). */
  filter: Float64Array;
  sdr: number;
}

/** The full decomposition; `sdr()` is the usual entry point. */
export function sdrDecompose(reference: Float64Array, estimate: Float64Array, names: PairNames = DEFAULT_NAMES): SdrDecomposition {
  checkPair(reference, estimate, names);
  const taps = BSS_EVAL_FILTER_TAPS;
  const n = reference.length;
  const span = n + taps - 1;
  const fft = new Fft(nextPow2(span));

  const refSpec = fft.forward(reference);
  const estSpec = fft.forward(estimate);
  const autocorr = fft.inverseReal(conjMul(refSpec, refSpec), taps);
  const crosscorr = fft.inverseReal(conjMul(refSpec, estSpec), taps);

  const filter = solveToeplitzSystem(autocorr, crosscorr);
  const target = fft.inverseReal(mul(fft.forward(filter), refSpec), span);

  const error = new Float64Array(span);
  let targetEnergy = 0;
  let errorEnergy = 0;
  for (let i = 0; i < span; i++) {
    error[i] = (i < n ? estimate[i] : 0) - target[i];
    targetEnergy += target[i] * target[i];
    errorEnergy += error[i] * error[i];
  }
  return { target, error, filter, sdr: ratioDb(targetEnergy, errorEnergy) };
}

/** BSS Eval v3 SDR in dB of `estimate` against `reference` (equal lengths, same sample rate). */
export function sdr(reference: Float64Array, estimate: Float64Array, names: PairNames = DEFAULT_NAMES): number {
  return sdrDecompose(reference, estimate, names).sdr;
}

/** Solves G·c = d for the symmetric Toeplitz G whose first column is `col`. */
function solveToeplitzSystem(col: Float64Array, rhs: Float64Array): Float64Array {
  const m = col.length;
  const g = new Matrix(m, m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) g.set(i, j, col[Math.abs(i - j)]);
  const d = Matrix.columnVector(Array.from(rhs));
  const lu = new LuDecomposition(g);
  // An exactly singular G needs a reference that is zero after floating-point underflow; mir_eval then
  // takes numpy's minimum-norm least-squares solution, which the SVD solve also gives.
  const c = lu.isSingular() ? new SingularValueDecomposition(g).solve(d) : lu.solve(d);
  return Float64Array.from(c.getColumn(0));
}

/** 10·log10(num/den), +∞ for a zero denominator as mir_eval's _safe_db. */
export function ratioDb(num: number, den: number): number {
  if (den === 0) return Infinity;
  return 10 * Math.log10(num / den);
}
