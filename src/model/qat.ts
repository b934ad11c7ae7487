/**
 * Int8 quantization as training simulates it: the range→(scale, zero point) mapping for activations,
 * per-channel symmetric weights, the activations whose quantization is fixed by the blob format, and the
 * EMA range observer. The mapping must be the exporter's (src/export/quantize.ts); until that module
 * lands it lives in `quantParamsForRange` / `weightScales` below, the only two places to switch over.
 */
import type { Arch } from './arch.js';
import { activationNames } from './arch.js';

export const QMIN = -128;
export const QMAX = 127;
/** Symmetric weights use ±127 so that negation is exact (TFLite's convention). */
export const WEIGHT_QMAX = 127;

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * TFLite's ChooseQuantizationParams for int8: the range is widened to contain 0, scale = (max − min)/255
 * as a float32, and the zero point is the rounded candidate (from min or from max) with the smaller error.
 */
export function quantParamsForRange(min: number, max: number): QuantParams {
  const lo = Math.min(0, min);
  let hi = Math.max(0, max);
  if (hi - lo < 1e-6) hi = lo + 1e-6;
  const scale = Math.fround((hi - lo) / (QMAX - QMIN));
  const fromMin = QMIN - lo / scale;
  const fromMax = QMAX - hi / scale;
  const zp = Math.abs(QMIN) + Math.abs(lo / scale) < Math.abs(QMAX) + Math.abs(hi / scale) ? fromMin : fromMax;
  return { scale, zeroPoint: zp < QMIN ? QMIN : zp > QMAX ? QMAX : roundHalfAway(zp) };
}

/** Per-output-row symmetric scales of a row-major [out][in] matrix: max|w| / 127 (1/127 for an all-zero row). */
export function weightScales(data: Float32Array, rows: number, cols: number): Float32Array {
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(data[r * cols + c]));
    scales[r] = Math.fround(m > 0 ? m / WEIGHT_QMAX : 1 / WEIGHT_QMAX);
  }
  return scales;
}

/** The int8 value grid a weight matrix is snapped to in training (and by the exporter). */
export function fakeQuantWeightsJs(data: Float32Array, rows: number, cols: number): Float32Array {
  const s = weightScales(data, rows, cols);
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const q = Math.max(-WEIGHT_QMAX, Math.min(WEIGHT_QMAX, roundHalfAway(data[r * cols + c] / s[r])));
      out[r * cols + c] = q * s[r];
    }
  }
  return out;
}

/**
 * Activations whose int8 quantization the format fixes (docs/model-format.md §1, §9; arch.ts): logistic
 * outputs (scale 1/256, zp −128) and the tanh-range GRU state (scale 1/128, zp 0; h' shares h's).
 */
export function fixedQuant(name: string): QuantParams | undefined {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  if (name === 'mask' || leaf === 'z' || leaf === 'r') return { scale: 1 / 256, zeroPoint: -128 };
  if (leaf === 'n' || leaf === 'h' || leaf === 'h_next') return { scale: 1 / 128, zeroPoint: 0 };
  return undefined;
}

/** The real range a fixed quantization represents, for reporting it next to observed ranges. */
export function rangeOf(p: QuantParams): [number, number] {
  return [(QMIN - p.zeroPoint) * p.scale, (QMAX - p.zeroPoint) * p.scale];
}

/** Names whose range is learned from data (everything not fixed). */
export function observedActivationNames(arch: Arch): string[] {
  return activationNames(arch).filter((n) => !fixedQuant(n));
}

/**
 * Exponential moving average of per-tensor min/max (TensorFlow's QAT observer). The first observation
 * initialises; `frozen` stops updates once training has settled so the last epochs adapt to fixed grids.
 */
export class RangeObserver {
  readonly ranges: Record<string, [number, number]> = {};
  frozen = false;

  constructor(readonly decay = 0.99) {}

  observe(name: string, min: number, max: number): void {
    if (this.frozen || !Number.isFinite(min) || !Number.isFinite(max)) return;
    const r = this.ranges[name];
    if (!r) this.ranges[name] = [min, max];
    else {
      r[0] = this.decay * r[0] + (1 - this.decay) * min;
      r[1] = this.decay * r[1] + (1 - this.decay) * max;
    }
  }

  /** Quantization of an activation for fake-quant, or undefined while it has no observed range yet. */
  params(name: string): QuantParams | undefined {
    const fixed = fixedQuant(name);
    if (fixed) return fixed;
    const r = this.ranges[name];
    return r ? quantParamsForRange(r[0], r[1]) : undefined;
  }

  toJSON(): { ranges: Record<string, [number, number]>; frozen: boolean; decay: number } {
    return { ranges: this.ranges, frozen: this.frozen, decay: this.decay };
  }

  static fromJSON(j: { ranges: Record<string, [number, number]>; frozen: boolean; decay: number }): RangeObserver {
    const o = new RangeObserver(j.decay);
    for (const [k, v] of Object.entries(j.ranges)) o.ranges[k] = [v[0], v[1]];
    o.frozen = j.frozen;
    return o;
  }
}
