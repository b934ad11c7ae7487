/**
 * Int8 quantization as training simulates it: the range→(scale, zero point) mapping for activations,
 * per-channel symmetric weights, the activations whose quantization is fixed by the blob format, and the
 * EMA range observer. The mappings are the exporter's (src/export/quantize.ts), so that what training
 * simulates is what the blob computes.
 */
import { chooseQuantParams, quantizeWeightsPerChannel, type QuantParams } from '../quant/quantize.js';
import type { Arch } from './arch.js';
import { activationNames, rangeSource } from './arch.js';

export type { QuantParams };

/** The exporter's range → (scale, zero point) mapping (TFLite's ChooseQuantizationParams). */
export function quantParamsForRange(min: number, max: number): QuantParams {
  return chooseQuantParams(min, max);
}

/** Per-output-row symmetric scales of a row-major [out][in] matrix, as the exporter picks them. */
export function weightScales(data: Float32Array, rows: number, cols: number): Float32Array {
  return quantizeWeightsPerChannel(data, rows, cols).scales;
}

/** The int8 value grid a weight matrix is snapped to in training (and by the exporter). */
export function fakeQuantWeightsJs(data: Float32Array, rows: number, cols: number): Float32Array {
  const { q, scales } = quantizeWeightsPerChannel(data, rows, cols);
  return Float32Array.from(q, (v, i) => v * scales[Math.floor(i / cols)]);
}

/**
 * Activations whose int8 quantization the format fixes (docs/model-format.md §1, §9; arch.ts): logistic
 * outputs (GRU z, r; LSTM i, f, o; the mask: scale 1/256, zp −128) and tanh-range ones (GRU n; LSTM g and
 * tanh(c'); the state h and h' of both cells: scale 1/128, zp 0).
 */
export function fixedQuant(name: string): QuantParams | undefined {
  const dot = name.lastIndexOf('.');
  const leaf = name.slice(dot + 1);
  const lstm = name.startsWith('lstm');
  if (name === 'mask' || (dot > 0 && (lstm ? ['i', 'f', 'o'] : ['z', 'r']).includes(leaf))) return { scale: 1 / 256, zeroPoint: -128 };
  if (dot > 0 && (lstm ? ['g', 'tanh_c', 'h', 'h_next'] : ['n', 'h', 'h_next']).includes(leaf)) return { scale: 1 / 128, zeroPoint: 0 };
  return undefined;
}

/**
 * Names whose range is learned from data (everything not fixed). An LSTM's cell state `c` is not among
 * them: it is quantized with its `c_next`'s range (arch.rangeSource).
 */
export function observedActivationNames(arch: Arch): string[] {
  return activationNames(arch).filter((n) => !fixedQuant(n) && rangeSource(n) === n);
}

/**
 * Exponential moving average of per-tensor min/max (TensorFlow's QAT observer). The first observation
 * initialises; `frozen` stops updates once training has settled so the last epochs adapt to fixed grids.
 */
export class RangeObserver {
  readonly ranges: Record<string, [number, number]> = {};
  frozen = false;

  /** 0.9 per observation (observations are every few steps): ranges follow a network that is still learning. */
  constructor(readonly decay = 0.9) {}

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
    const r = this.ranges[rangeSource(name)];
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
