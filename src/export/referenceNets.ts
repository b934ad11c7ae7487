/**
 * The per-op work (docs/model-format.md §8) of networks described by their layers rather than by a blob,
 * lowered with §9's rules: an FC per dense layer (its LOGISTIC/TANH a LUT op after it, ReLU fused), and a
 * GRU as GRU_STEPS, the table lower.ts itself lowers from. Weights are dense (§6 encoding 0: one MAC and
 * one weight byte per weight). Used to check the cost model against published figures of networks that
 * are not hil blobs (scripts/bench-cost-model.ts).
 */
import type { OpWork } from '../engine/costModel.js';
import { HilError } from '../util/errors.js';
import { GRU_STEPS } from './lower.js';

export type LoweredOpKind = 'FC' | 'ADD' | 'SUB' | 'MUL' | 'LUT';

export interface LoweredOp extends OpWork {
  name: string;
  op: LoweredOpKind;
  /** An FC's weight matrix is outFeatures × inFeatures; 0 for element-wise ops. */
  inFeatures: number;
  outFeatures: number;
}

function checkSize(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new HilError(`${what} must be a positive integer, got ${n}`, 'fix the layer list');
}

function fcOp(name: string, inF: number, outF: number): LoweredOp {
  checkSize(`${name}: inputs`, inF);
  checkSize(`${name}: outputs`, outF);
  return { name, op: 'FC', isFc: true, macs: inF * outF, weightBytes: inF * outF, elements: 0, inFeatures: inF, outFeatures: outF };
}

function eltOp(name: string, op: Exclude<LoweredOpKind, 'FC'>, n: number): LoweredOp {
  // §8: MUL counts one MAC per element; ADD, SUB and LUT none.
  return { name, op, isFc: false, macs: op === 'MUL' ? n : 0, weightBytes: 0, elements: n, inFeatures: 0, outFeatures: 0 };
}

export type Activation = 'none' | 'relu' | 'logistic' | 'tanh';

/** A dense layer: FC, plus a LUT op for LOGISTIC or TANH (ReLU is the FC's fused clamp). */
export function denseLayer(name: string, inF: number, outF: number, activation: Activation): LoweredOp[] {
  const ops = [fcOp(`${name}.fc`, inF, outF)];
  if (activation === 'logistic' || activation === 'tanh') ops.push(eltOp(`${name}.${activation}`, 'LUT', outF));
  return ops;
}

/** One GRU layer of `hidden` units reading `inF` inputs, op for op as lower.ts emits it. */
export function gruLayer(name: string, inF: number, hidden: number): LoweredOp[] {
  checkSize(`${name}: units`, hidden);
  return GRU_STEPS.map((s) => {
    if (s.op === 'FC') return fcOp(`${name}.${s.name}`, s.input === 'x' ? inF : hidden, hidden);
    return eltOp(`${name}.${s.name}`, s.op, hidden);
  });
}

/** A hil architecture (§9) at given sizes: FC(nBins → d0) + ReLU, GRUs, FC(h → nBins) + LOGISTIC. */
export function hilNetwork(nBins: number, d0: number, hidden: readonly number[]): LoweredOp[] {
  const ops = denseLayer('fc_in', nBins, d0, 'relu');
  let x = d0;
  hidden.forEach((h, l) => {
    ops.push(...gruLayer(`gru${l}`, x, h));
    x = h;
  });
  ops.push(...denseLayer('fc_out', x, nBins, 'logistic'));
  return ops;
}

/**
 * RNNoise (Valin 2018; xiph/rnnoise src/rnn_data.c): 42 features → dense 24 (tanh) → VAD GRU 24 →
 * noise GRU 48 (input: dense 24 + VAD GRU 24 + the 42 features = 90) → denoise GRU 96 (input: VAD GRU 24
 * + noise GRU 48 + the 42 features = 114) → dense 22 band gains (sigmoid), and the VAD output dense 1
 * (sigmoid) from the VAD GRU. A concatenation costs no op: its producers write adjacent slices of one
 * tensor, as Vela places concatenated feature maps. rnn_data.c gives the GRUs a ReLU candidate
 * activation; hil's lowering has a LUT there either way, so the op list is the same.
 */
export const RNNOISE_LAYERS = { inputs: 42, dense: 24, vadGru: 24, noiseGru: 48, denoiseGru: 96, gains: 22, vad: 1 } as const;

export function rnnoiseNetwork(): LoweredOp[] {
  const L = RNNOISE_LAYERS;
  return [
    ...denseLayer('input_dense', L.inputs, L.dense, 'tanh'),
    ...gruLayer('vad_gru', L.dense, L.vadGru),
    ...gruLayer('noise_gru', L.dense + L.vadGru + L.inputs, L.noiseGru),
    ...gruLayer('denoise_gru', L.vadGru + L.noiseGru + L.inputs, L.denoiseGru),
    ...denseLayer('denoise_output', L.denoiseGru, L.gains, 'logistic'),
    ...denseLayer('vad_output', L.vadGru, L.vad, 'logistic'),
  ];
}

/**
 * Published measurements of RNNoise on an Ethos-U55-128 (Arm ML embedded evaluation kit, noise
 * reduction use case, Corstone-300 FVP): NPU cycles and flash (AXI1) read beats of one 10 ms inference.
 */
export const RNNOISE_U55_128_FVP = { npuCycles: 104_514, axi1ReadBeats: 13_911, beatBytes: 8 } as const;
