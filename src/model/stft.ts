/**
 * The float STFT front end and overlap-add back end of the streaming model (docs/model-format.md §1),
 * shared by training (features and targets) and float inference. Framing is the device's: frame t is the
 * n_fft samples ending at sample (t+1)·hop, with zeros before the start (the zeroed `inbuf`); samples
 * are in int16 scale (x·32768); the forward FFT is unscaled; features are log2(|X|² + 1). Reconstruction
 * places frame t's windowed inverse FFT at the same position, so the result is time-aligned with the
 * input (the device's output is this delayed by n_fft − hop samples).
 */
import { createRequire } from 'node:module';
import { sqrtHann } from '../engine/windows.js';

interface FftJs {
  realTransform(out: Float64Array, data: Float64Array): void;
  inverseTransform(out: Float64Array, data: Float64Array): void;
}
const FFT = createRequire(import.meta.url)('fft.js') as new (size: number) => FftJs;

export const N_FFT = 512;
export const N_BINS = N_FFT / 2 + 1;

/**
 * Synthesis window in float: sqrt-Hann · 2·hop/n_fft, so analysis·synthesis windows overlap-add to 1 (the
 * analysis window is sqrtHann itself). synthesisWindowQ15 in src/engine/windows.ts is this rounded to Q15.
 */
export function synthesisWindowFloat(nFft: number, hop: number): Float64Array {
  const w = sqrtHann(nFft);
  for (let n = 0; n < nFft; n++) w[n] *= (2 * hop) / nFft;
  return w;
}

export interface Spectrum {
  frames: number;
  /** Real and imaginary parts, frame-major: [frames][N_BINS]. */
  re: Float32Array;
  im: Float32Array;
}

/**
 * STFT frames of `length` samples: one per hop, the last partial hop zero-padded. The device is fed
 * n_fft/hop − 1 flush frames more (deviceFrameCount in src/engine/framing.ts); callers that want its
 * output pad the input by n_fft − hop samples first (train.ts `enhance`).
 */
export function stftFrameCount(length: number, hop: number): number {
  return Math.ceil(length / hop);
}

const plans = new Map<number, FftJs>();
function plan(n: number): FftJs {
  let p = plans.get(n);
  if (!p) plans.set(n, (p = new FFT(n)));
  return p;
}

/** STFT of int16-scale samples, framed as the device frames them. */
export function stft(samples: ArrayLike<number>, hop: number, nFft = N_FFT): Spectrum {
  const frames = stftFrameCount(samples.length, hop);
  const nBins = nFft / 2 + 1;
  const win = sqrtHann(nFft);
  const re = new Float32Array(frames * nBins);
  const im = new Float32Array(frames * nBins);
  const buf = new Float64Array(nFft);
  const out = new Float64Array(2 * nFft);
  const fft = plan(nFft);
  for (let t = 0; t < frames; t++) {
    const start = (t + 1) * hop - nFft;
    for (let n = 0; n < nFft; n++) {
      const i = start + n;
      buf[n] = i >= 0 && i < samples.length ? samples[i] * win[n] : 0;
    }
    fft.realTransform(out, buf);
    for (let k = 0; k < nBins; k++) {
      re[t * nBins + k] = out[2 * k];
      im[t * nBins + k] = out[2 * k + 1];
    }
  }
  return { frames, re, im };
}

/** log2(|X|² + 1) per bin: the network's input. */
export function logPowerFeatures(spec: Spectrum): Float32Array {
  const f = new Float32Array(spec.re.length);
  for (let i = 0; i < f.length; i++) f[i] = Math.log2(spec.re[i] * spec.re[i] + spec.im[i] * spec.im[i] + 1);
  return f;
}

/**
 * Inverse STFT with a real gain per bin (the mask; phase stays the noisy one), overlap-added with the
 * synthesis window, time-aligned with the input. `mask` is [frames][N_BINS] or omitted for identity.
 */
export function istft(spec: Spectrum, hop: number, length: number, mask?: ArrayLike<number>, nFft = N_FFT): Float64Array {
  const nBins = nFft / 2 + 1;
  const win = synthesisWindowFloat(nFft, hop);
  const y = new Float64Array(length);
  const full = new Float64Array(2 * nFft);
  const out = new Float64Array(2 * nFft);
  const fft = plan(nFft);
  for (let t = 0; t < spec.frames; t++) {
    for (let k = 0; k < nBins; k++) {
      const g = mask ? mask[t * nBins + k] : 1;
      const r = spec.re[t * nBins + k] * g;
      const i = spec.im[t * nBins + k] * g;
      full[2 * k] = r;
      full[2 * k + 1] = i;
      if (k > 0 && k < nBins - 1) {
        full[2 * (nFft - k)] = r;
        full[2 * (nFft - k) + 1] = -i;
      }
    }
    fft.inverseTransform(out, full);
    const start = (t + 1) * hop - nFft;
    for (let n = 0; n < nFft; n++) {
      const idx = start + n;
      if (idx >= 0 && idx < length) y[idx] += out[2 * n] * win[n];
    }
  }
  return y;
}
