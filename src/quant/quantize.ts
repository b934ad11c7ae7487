/**
 * Float → int8 quantization the TFLite way (docs/model-format.md §4): asymmetric activations whose zero
 * point is nudged so that 0.0 is exactly representable, symmetric per-channel weights, int32 biases at
 * scale input_scale · weight_scale, and QuantizeMultiplier for every real multiplier. Scales are float32
 * values (Math.fround), widened to double where TFLite widens them.
 */
import { HilError } from '../util/errors.js';

export interface QuantParams {
  scale: number; // a float32 value
  zeroPoint: number;
}

const QMIN = -128;
const QMAX = 127;

/** Round half away from zero (C's round / TfLiteRound). */
export function roundHalfAway(x: number): number {
  // `+ 0` turns −0 (from rounding a small negative value) into 0.
  return (x < 0 ? -Math.round(-x) : Math.round(x)) + 0;
}

/**
 * TFLite's ChooseQuantizationParams for int8: the range is widened to include 0, the scale spans it over
 * 255 steps, and the zero point is the rounded one whose error is smaller, clamped to [−128, 127].
 */
export function chooseQuantParams(rmin: number, rmax: number): QuantParams {
  if (!Number.isFinite(rmin) || !Number.isFinite(rmax) || rmin > rmax) throw new HilError(`invalid activation range [${rmin}, ${rmax}]`, 'ranges must be finite with min ≤ max');
  rmin = Math.min(rmin, 0);
  rmax = Math.max(rmax, 0);
  // A tensor that is always 0 (e.g. a pruned path) still needs a positive scale.
  if (rmax - rmin < 1e-6) rmax = rmin + 1e-6;
  const scale = Math.fround((rmax - rmin) / (QMAX - QMIN));
  const zpFromMin = QMIN - rmin / scale;
  const zpFromMax = QMAX - rmax / scale;
  const errMin = Math.abs(QMIN) + Math.abs(rmin / scale);
  const errMax = Math.abs(QMAX) + Math.abs(rmax / scale);
  const zpDouble = errMin < errMax ? zpFromMin : zpFromMax;
  const zeroPoint = zpDouble < QMIN ? QMIN : zpDouble > QMAX ? QMAX : roundHalfAway(zpDouble);
  return { scale, zeroPoint };
}

export function quantizeValue(x: number, p: QuantParams): number {
  const q = roundHalfAway(x / p.scale) + p.zeroPoint;
  return q < QMIN ? QMIN : q > QMAX ? QMAX : q;
}

export function dequantizeValue(q: number, p: QuantParams): number {
  return p.scale * (q - p.zeroPoint);
}

/** Exact frexp for a finite double x > 0: x = q · 2^e with q in [0.5, 1). */
export function frexp(x: number): [number, number] {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`frexp: ${x} is not a positive finite number`);
  const view = new DataView(new ArrayBuffer(8));
  let e = 0;
  // Subnormals: scale into the normal range first (exact: multiplication by a power of two).
  if (x < 2 ** -1022) {
    x *= 2 ** 64;
    e -= 64;
  }
  view.setFloat64(0, x);
  const biased = (view.getUint16(0) >> 4) & 0x7ff;
  e += biased - 1022;
  // Put exponent 1022 (so the value is in [0.5, 1)), keeping sign and mantissa.
  view.setUint16(0, (view.getUint16(0) & 0x800f) | (1022 << 4));
  return [view.getFloat64(0), e];
}

export interface QuantizedMultiplier {
  m: number; // int32 in [2^30, 2^31) or 0
  shift: number; // r ≈ m · 2^(shift − 31)
}

/** TFLite's QuantizeMultiplier (docs/model-format.md §4.1). */
export function quantizeMultiplier(r: number): QuantizedMultiplier {
  if (r === 0) return { m: 0, shift: 0 };
  if (!(r > 0) || !Number.isFinite(r)) throw new HilError(`cannot quantize the real multiplier ${r}`, 'scales must be positive and finite');
  const [q, e] = frexp(r);
  let shift = e;
  let m = Math.round(q * 2 ** 31);
  if (m === 2 ** 31) {
    m = 2 ** 30;
    shift += 1;
  }
  if (shift < -31) return { m: 0, shift: 0 };
  if (shift > 31) throw new HilError(`real multiplier ${r} is too large for int8 requantization (shift ${shift} > 31)`, 'check the activation ranges of the tensors involved');
  return { m, shift };
}

export interface PerChannelWeights {
  q: Int8Array; // [out][in]
  scales: Float32Array; // per output channel
}

/**
 * Symmetric per-output-channel int8 weights in [−127, 127]. `minScale[o]`, when given, floors a channel's
 * scale (the exporter uses it so that the channel's int32 bias cannot overflow); an all-zero channel gets
 * the scale of a channel whose largest weight is 1.
 */
export function quantizeWeightsPerChannel(w: Float32Array, out: number, inF: number, minScale?: Float64Array): PerChannelWeights {
  if (w.length !== out * inF) throw new HilError(`weight matrix has ${w.length} values, expected ${out}×${inF}`);
  const q = new Int8Array(out * inF);
  const scales = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    let maxAbs = 0;
    for (let i = 0; i < inF; i++) maxAbs = Math.max(maxAbs, Math.abs(w[o * inF + i]));
    let s = maxAbs > 0 ? maxAbs / 127 : 1 / 127;
    if (minScale && minScale[o] > s) s = minScale[o];
    scales[o] = s;
    const sf = scales[o];
    for (let i = 0; i < inF; i++) {
      const v = roundHalfAway(w[o * inF + i] / sf);
      q[o * inF + i] = v < -127 ? -127 : v > 127 ? 127 : v;
    }
  }
  return { q, scales };
}

/** int32 bias at scale fround(input_scale · weight_scale), as the TFLite converter computes it. */
export function quantizeBias(b: Float32Array, inputScale: number, weightScales: Float32Array): Int32Array {
  const out = new Int32Array(b.length);
  for (let o = 0; o < b.length; o++) {
    const v = roundHalfAway(b[o] / Math.fround(inputScale * weightScales[o]));
    if (v > 2147483647 || v < -2147483648) throw new HilError(`bias ${b[o]} of channel ${o} overflows int32 at its scale`, 'check the activation ranges');
    out[o] = v;
  }
  return out;
}
