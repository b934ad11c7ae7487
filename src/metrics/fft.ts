/**
 * The few FFT operations the metrics need, on fft.js. fft.js ships no type declarations, so it is loaded
 * through createRequire with the small interface below instead of an ambient module declaration that
 * every other module would see.
 */
import { createRequire } from 'node:module';

interface FftJs {
  realTransform(out: Float64Array, data: Float64Array): void;
  completeSpectrum(spectrum: Float64Array): void;
  inverseTransform(out: Float64Array, data: Float64Array): void;
}

const FFT = createRequire(import.meta.url)('fft.js') as new (size: number) => FftJs;

/** Smallest power of two ≥ n (and ≥ 2, fft.js's minimum). */
export function nextPow2(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

/** A transform size with its fft.js plan (twiddle tables are built once per size and reused). */
export class Fft {
  private readonly plan: FftJs;
  private readonly buf: Float64Array;

  constructor(readonly size: number) {
    this.plan = new FFT(size);
    this.buf = new Float64Array(size);
  }

  /** Full complex spectrum (interleaved re, im) of x zero-padded to `size`. */
  forward(x: Float64Array): Float64Array {
    if (x.length > this.size) throw new Error(`Fft.forward: ${x.length} samples do not fit size ${this.size}`);
    this.buf.fill(0);
    this.buf.set(x);
    const out = new Float64Array(2 * this.size);
    this.plan.realTransform(out, this.buf);
    this.plan.completeSpectrum(out);
    return out;
  }

  /** Real part of the inverse transform (scaled by 1/size), first `count` samples. */
  inverseReal(spectrum: Float64Array, count: number): Float64Array {
    const out = new Float64Array(2 * this.size);
    this.plan.inverseTransform(out, spectrum);
    const re = new Float64Array(count);
    for (let i = 0; i < count; i++) re[i] = out[2 * i];
    return re;
  }
}

/** conj(a) · b, element-wise on interleaved spectra: the spectrum of the cross-correlation Σ a[n]·b[n+m]. */
export function conjMul(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k += 2) {
    const ar = a[k], ai = a[k + 1], br = b[k], bi = b[k + 1];
    out[k] = ar * br + ai * bi;
    out[k + 1] = ar * bi - ai * br;
  }
  return out;
}

/** a · b, element-wise on interleaved spectra: the spectrum of the (circular) convolution. */
export function mul(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k += 2) {
    const ar = a[k], ai = a[k + 1], br = b[k], bi = b[k + 1];
    out[k] = ar * br - ai * bi;
    out[k + 1] = ar * bi + ai * br;
  }
  return out;
}
