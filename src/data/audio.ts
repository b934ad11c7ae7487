/** Sample-level helpers for corpus audio: float signals in [-1, 1), written as int16. */
import type { Rng } from './rng.js';

export type Signal = Float32Array | Float64Array;

/** Peak level of speech and noise files: −1 dBFS leaves room for resampling overshoot. */
export const PEAK_TARGET = 10 ** (-1 / 20);

/**
 * Standard deviation of the noise floor added to every written file, in int16 steps (≈ −84 dBFS).
 * TTS engines and many game sounds contain runs of exact digital zero; a frame of pure zeros makes an SNR
 * or a log-power feature divide by zero. At 2 steps a 32-sample frame is all-zero with probability < 1e-20.
 */
export const FLOOR_LSB = 2;

export function peak(x: Signal): number {
  let p = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > p) p = a;
  }
  return p;
}

export function energy(x: Signal): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) e += x[i] * x[i];
  return e;
}

export function rms(x: Signal): number {
  return x.length ? Math.sqrt(energy(x) / x.length) : 0;
}

export function scaled(x: Signal, gain: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * gain;
  return out;
}

/** Scales so the peak sits at `target`; an all-zero signal is returned unchanged. */
export function normalizePeak(x: Signal, target = PEAK_TARGET): Float64Array {
  const p = peak(x);
  return scaled(x, p > 0 ? target / p : 1);
}

/**
 * The first and one-past-last sample louder than `thresholdDb` below the peak, or null when the signal is
 * silent. TTS output is surrounded by silence of engine-dependent length; this finds the speech.
 */
export function activeRange(x: Signal, thresholdDb = -50): { start: number; end: number } | null {
  const p = peak(x);
  if (p === 0) return null;
  const thr = p * 10 ** (thresholdDb / 20);
  let start = 0;
  while (start < x.length && Math.abs(x[start]) < thr) start++;
  let end = x.length;
  while (end > start && Math.abs(x[end - 1]) < thr) end--;
  return start < end ? { start, end } : null;
}

/** `x[start, end)` with `before` and `after` zero samples around it. */
export function padded(x: Signal, start: number, end: number, before: number, after: number): Float64Array {
  const out = new Float64Array(before + (end - start) + after);
  for (let i = start; i < end; i++) out[before + i - start] = x[i];
  return out;
}

/** Adds the noise floor (seeded) and rounds to int16 with saturation. */
export function toInt16WithFloor(x: Signal, rng: Rng): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.round(x[i] * 32768 + FLOOR_LSB * rng.gaussian());
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** `length` samples of `x` from `offset`, wrapping to the start when `x` is shorter than needed. */
export function segment(x: Signal, offset: number, length: number): Float64Array {
  const out = new Float64Array(length);
  if (x.length === 0) return out;
  for (let i = 0; i < length; i++) out[i] = x[(offset + i) % x.length];
  return out;
}

export function concat(parts: Signal[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
