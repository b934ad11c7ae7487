/**
 * `hil model init`: a deterministic, seeded float model of a named architecture. Matrices are
 * Glorot-uniform from a seeded PRNG (seedrandom); biases are 0 except the mask's, which starts at +1 so an
 * untrained model passes most of the signal (sigmoid(1) ≈ 0.73) instead of halving it. Features are
 * log2 power (0–50), not unit variance, so fc_in's Glorot limit is divided by 16 to keep its outputs in
 * the range the recurrent gates can use. Activation ranges are observed by running the float forward on a
 * seeded calibration signal (noise at three levels and a tone sweep), widened by 5 % of their span.
 */
import seedrandom from 'seedrandom';
import { ARCHS, cellGates, layerPrefix, type ArchName } from './arch.js';
import type { FloatModel, Tensor } from './floatModel.js';
import { observeRanges, type Ranges } from './forward.js';

/** Feature range fixed by the front end: log2(P + 1) of int16 audio stays below 50. */
export const FEATURE_RANGE: [number, number] = [0, 50];
export const FC_IN_GAIN = 1 / 16;
export const MASK_BIAS_INIT = 1;
/**
 * An LSTM's forget-gate bias starts at +1 (Gers et al. 2000; Jozefowicz et al. 2015): sigmoid(1) ≈ 0.73
 * keeps the cell state across frames from the start instead of halving it every frame. It sits in b_xf;
 * b_hf stays 0, so the sum the gate sees is 1.
 */
export const FORGET_BIAS_INIT = 1;
const RANGE_MARGIN = 0.05;

function glorot(rng: () => number, out: number, inF: number, gain = 1): Tensor {
  const limit = gain * Math.sqrt(6 / (inF + out));
  const data = new Float32Array(out * inF);
  for (let i = 0; i < data.length; i++) data[i] = (2 * rng() - 1) * limit;
  return { shape: [out, inF], data };
}

function constant(n: number, v: number): Tensor {
  return { shape: [n], data: new Float32Array(n).fill(v) };
}

/** Seeded calibration audio in int16 scale: white noise at rms 100, 1000 and 8000, then a tone sweep. */
export function calibrationSignal(seed: number, seconds = 2): Float64Array {
  const rng = seedrandom(`hil-calibration-${seed}`);
  const n = Math.round(16000 * seconds);
  const out = new Float64Array(n);
  const quarter = Math.floor(n / 4);
  const levels = [100, 1000, 8000];
  for (let i = 0; i < n; i++) {
    const seg = Math.floor(i / quarter);
    if (seg < 3) {
      // Sum of 4 uniforms, scaled to the wanted rms (uniform(-1,1) has rms 1/sqrt(3)).
      let s = 0;
      for (let k = 0; k < 4; k++) s += 2 * rng() - 1;
      out[i] = (s / 2) * Math.sqrt(3) * levels[seg];
    } else {
      const t = (i - 3 * quarter) / 16000;
      out[i] = 12000 * Math.sin(2 * Math.PI * (100 * t + 1800 * t * t));
    }
  }
  return out;
}

export function widen(r: [number, number], margin = RANGE_MARGIN): [number, number] {
  const pad = (r[1] - r[0]) * margin;
  return [r[0] - pad, r[1] + pad];
}

export function initFloatModel(archName: ArchName, seed: number, hop: 128 | 256 = 256): FloatModel {
  const arch = ARCHS[archName];
  const rng = seedrandom(`hil-init-${archName}-${seed}`);
  const weights: Record<string, Tensor> = {};
  weights['fc_in.w'] = glorot(rng, arch.d0, arch.nBins, FC_IN_GAIN);
  weights['fc_in.b'] = constant(arch.d0, 0);
  let inF = arch.d0;
  for (let l = 0; l < arch.layers; l++) {
    const p = layerPrefix(arch, l);
    for (const g of cellGates(arch)) {
      weights[`${p}w_x${g}`] = glorot(rng, arch.hidden, inF);
      weights[`${p}b_x${g}`] = constant(arch.hidden, arch.cell === 'lstm' && g === 'f' ? FORGET_BIAS_INIT : 0);
      weights[`${p}w_h${g}`] = glorot(rng, arch.hidden, arch.hidden);
      weights[`${p}b_h${g}`] = constant(arch.hidden, 0);
    }
    inF = arch.hidden;
  }
  weights['fc_out.w'] = glorot(rng, arch.nBins, inF);
  weights['fc_out.b'] = constant(arch.nBins, MASK_BIAS_INIT);
  const model: FloatModel = {
    format: 'hil-float-model',
    version: 1,
    arch: archName,
    hop,
    sampleRate: 16000,
    seed,
    weights,
    ranges: {},
    provenance: {
      made: 'hil model init', init: 'glorot-uniform', prng: 'seedrandom', fcInGain: FC_IN_GAIN, maskBias: MASK_BIAS_INIT,
      ...(arch.cell === 'lstm' ? { forgetBias: FORGET_BIAS_INIT } : {}),
      ranges: 'float forward on calibrationSignal(seed), widened 5%',
    },
  };
  model.ranges = calibrateRanges(model, [calibrationSignal(seed)]);
  return model;
}

/** Observed ranges (float forward) widened by the margin, with the feature range fixed by the front end. */
export function calibrateRanges(model: FloatModel, clips: ArrayLike<number>[]): Ranges {
  const observed = observeRanges(model, clips);
  const out: Ranges = {};
  for (const [name, r] of Object.entries(observed)) out[name] = widen(r);
  out.features = [...FEATURE_RANGE];
  return out;
}

/** Parameter counts per layer (weights + biases), following the weights' (possibly pruned) shapes. */
export function paramsPerLayer(model: FloatModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(model.weights)) {
    const layer = name.split('.')[0];
    out[layer] = (out[layer] ?? 0) + t.data.length;
  }
  return out;
}
