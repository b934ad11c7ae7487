/**
 * The offline baseline: post-training int8 quantization of the trained float model (lowerToQuantGraph
 * with the ranges observed in training), then one-shot magnitude pruning of the int8 weights, per FC, with
 * no retraining. Magnitude is the weight's real value |q|·scale_o: ranking raw int8 codes would compare
 * rows on different per-channel scales (every row's largest code is ±127). Pruning changes only the pruned
 * codes and the folded biases that sum them (bias_eff = bias − in_zp·Σ_i q[o][i], as src/export/lower.ts
 * folds them); scales, raw int32 biases, multipliers and every non-FC op stay as quantized.
 */
import type { FloatModel, Tensor } from '../model/floatModel.js';
import type { QFc, QuantGraph } from '../export/quantGraph.js';
import { HilError } from '../util/errors.js';
import { matchesPrune } from './profile.js';
import { pruneOrder } from './structures.js';

/** The FloatModel matrix an FC op of the lowering reads: fc_in → fc_in.w, gru0.fc_xz → gru0.w_xz. */
export function fcMatrixName(opName: string): string {
  if (opName === 'fc_in' || opName === 'fc_out') return `${opName}.w`;
  const m = /^(gru\d+|lstm\d+)\.fc_([xh][zrn]|[xh][ifgo])$/.exec(opName);
  if (!m) throw new HilError(`FC op ${opName} has no matrix name`, 'the graph was not made by src/export/lower.ts');
  return `${m[1]}.w_${m[2]}`;
}

export interface OfflineResult {
  graph: QuantGraph;
  /** Per matrix name: the indices ([out][in] row-major) set to zero. */
  pruned: Map<string, Uint32Array>;
}

/** One-shot pruning of round(s·N) weights of every FC whose matrix matches `prune`. */
export function pruneQuantGraph(graph: QuantGraph, sparsity: number, prune: readonly string[]): OfflineResult {
  const pruned = new Map<string, Uint32Array>();
  const zp = new Map(graph.tensors.map((t) => [t.name, t.zeroPoint]));
  const ops = graph.ops.map((op) => {
    if ((op.op !== 'FC' && op.op !== 'FC16') || !matchesPrune(fcMatrixName(op.name), prune)) return op;
    const { outFeatures: outF, inFeatures: inF } = op;
    const n = outF * inF;
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) scores[i] = Math.abs(op.weights[i]) * op.weightScales[Math.floor(i / inF)];
    const k = Math.min(n, Math.round(sparsity * n));
    const order = pruneOrder(scores, new Uint8Array(n)).slice(0, k);
    const weights = Int8Array.from(op.weights);
    for (const i of order) weights[i] = 0;
    pruned.set(fcMatrixName(op.name), order);
    // The 16x8 FC's input zero point is 0: its int64 bias has nothing folded in.
    if (op.op === 'FC16') return { ...op, weights };
    const inZp = zp.get(op.input)!;
    const biasEff = new Int32Array(outF);
    for (let o = 0; o < outF; o++) {
      let sum = 0;
      for (let i = 0; i < inF; i++) sum += weights[o * inF + i];
      biasEff[o] = op.bias[o] - inZp * sum;
    }
    const out: QFc = { ...op, weights, biasEff };
    return out;
  });
  return { graph: { ...graph, ops }, pruned };
}

/** The float model with the offline-pruned positions at zero (what model.json of an offline profile holds). */
export function zeroPruned(model: FloatModel, pruned: Map<string, Uint32Array>): FloatModel {
  const weights: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(model.weights)) {
    const idx = pruned.get(name);
    if (!idx) {
      weights[name] = t;
      continue;
    }
    const data = Float32Array.from(t.data);
    for (const i of idx) data[i] = 0;
    weights[name] = { shape: t.shape.slice(), data };
  }
  return { ...model, weights };
}
