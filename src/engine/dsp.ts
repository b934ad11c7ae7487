/** The fixed-point FFT and log2q of docs/model-format.md §2–3, bit-exact with firmware/core/dsp.c. */
import { LOG2_TAB, TW_COS, TW_N, TW_SIN } from './tables.js';

export const FFT_N = TW_N;
const LOG2N = Math.log2(FFT_N);

const BITREV = (() => {
  const t = new Uint16Array(FFT_N);
  for (let i = 0; i < FFT_N; i++) {
    let r = 0;
    for (let b = 0, v = i; b < LOG2N; b++, v >>= 1) r = (r << 1) | (v & 1);
    t[i] = r;
  }
  return t;
})();

/**
 * In-place radix-2 DIT FFT of size 512 on int32 arrays. Forward is unscaled; inverse halves every stage
 * (so it divides by N). Products reach 2^40 at most: exact in doubles.
 */
export function fft(re: Int32Array, im: Int32Array, inverse: boolean): void {
  const n = FFT_N;
  for (let i = 0; i < n; i++) {
    const j = BITREV[i];
    if (i < j) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  const dir = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const step = n / len;
    for (let s = 0; s < n; s += len) {
      for (let j = 0; j < half; j++) {
        const wr = TW_COS[j * step];
        const wi = dir * TW_SIN[j * step];
        const a = s + j;
        const b = a + half;
        const rb = re[b], ib = im[b], ra = re[a], ia = im[a];
        const tr = Math.floor((rb * wr - ib * wi + 16384) / 32768);
        const ti = Math.floor((rb * wi + ib * wr + 16384) / 32768);
        if (inverse) {
          re[b] = Math.floor((ra - tr + 1) / 2);
          im[b] = Math.floor((ia - ti + 1) / 2);
          re[a] = Math.floor((ra + tr + 1) / 2);
          im[a] = Math.floor((ia + ti + 1) / 2);
        } else {
          re[b] = ra - tr;
          im[b] = ia - ti;
          re[a] = ra + tr;
          im[a] = ia + ti;
        }
      }
    }
  }
}

/** log2(v) in Q10 for an integer 1 ≤ v < 2^53 (§3). */
export function log2q(v: number): number {
  let e: number;
  if (v >= 4294967296) e = 63 - Math.clz32(Math.floor(v / 4294967296));
  else e = 31 - Math.clz32(v);
  const m = e <= 30 ? v * 2 ** (30 - e) : Math.floor(v / 2 ** (e - 30));
  const f = m - 1073741824;
  const i = f >>> 24;
  const r = f & 0xffffff;
  const lo = LOG2_TAB[i];
  return 1024 * e + lo + (((LOG2_TAB[i + 1] - lo) * r) >> 24);
}
