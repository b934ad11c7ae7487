/**
 * Physical shrinking after unit pruning: units nothing reads any more are deleted from every tensor, so
 * the exported graph has narrower FCs, shorter recurrent states (GRU h; LSTM h and c) and element-wise ops (src/export/lower.ts follows
 * the weights' shapes). The criterion is exact: unit j can go when every weight that reads it from a unit
 * that stays (next layer's column j, other units' recurrent column j) is zero. Removing it then changes no
 * surviving value, in float and in int8 alike: per-channel weight scales and folded biases of the
 * surviving rows only lose zero columns, and activation ranges are per tensor and kept as trained, so
 * the shrunken blob computes bit-exactly what the masked one did.
 */
import { ARCHS } from '../model/arch.js';
import type { FloatModel, Tensor } from '../model/floatModel.js';
import { graphDims } from '../model/graphDims.js';
import { unitLayers, type UnitLayer } from './structures.js';
import type { UnitLayers } from './manifestSchema.js';

export interface ShrinkResult {
  model: FloatModel;
  /** Per unit layer: units before and after, and the original indices kept. */
  layers: UnitLayers;
}

/**
 * Units of `layer` that can be removed, given which units of the next layer stay. Starts from the units
 * whose next-layer columns are zero, then drops any still read by a staying unit of the same layer
 * through W_h, until nothing changes (the largest removable set).
 */
function removableUnits(model: FloatModel, layer: UnitLayer, nextKept: Uint8Array | null): Uint8Array {
  const readsCol = (name: string, j: number, rowKept: (r: number) => boolean) => {
    const [rows, cols] = model.weights[name].shape;
    const w = model.weights[name].data;
    for (let r = 0; r < rows; r++) if (rowKept(r) && w[r * cols + j] !== 0) return true;
    return false;
  };
  const external = layer.cols.filter((c) => !layer.recurrent.includes(c));
  const rem = new Uint8Array(layer.units);
  for (let j = 0; j < layer.units; j++) rem[j] = external.some((c) => readsCol(c, j, (r) => !nextKept || nextKept[r] === 1)) ? 0 : 1;
  for (let changed = true; changed; ) {
    changed = false;
    for (let j = 0; j < layer.units; j++) {
      if (rem[j] && layer.recurrent.some((c) => readsCol(c, j, (r) => r !== j && !rem[r]))) {
        rem[j] = 0;
        changed = true;
      }
    }
  }
  // A layer keeps at least one unit (the format needs non-empty tensors); keep the lowest index.
  if (rem.every((v) => v === 1)) rem[0] = 0;
  return rem;
}

function pick(t: Tensor, rowKeep: number[] | null, colKeep: number[] | null): Tensor {
  if (t.shape.length === 1) {
    const keep = rowKeep ?? Array.from({ length: t.shape[0] }, (_, i) => i);
    return { shape: [keep.length], data: Float32Array.from(keep, (i) => t.data[i]) };
  }
  const [rows, cols] = t.shape;
  const rk = rowKeep ?? Array.from({ length: rows }, (_, i) => i);
  const ck = colKeep ?? Array.from({ length: cols }, (_, i) => i);
  const data = new Float32Array(rk.length * ck.length);
  rk.forEach((r, a) => ck.forEach((c, b) => (data[a * ck.length + b] = t.data[r * cols + c])));
  return { shape: [rk.length, ck.length], data };
}

/** Removes every unit nothing reads, from the last recurrent layer back to fc_in. */
export function shrinkUnits(model: FloatModel): ShrinkResult {
  const arch = ARCHS[model.arch];
  const layers = unitLayers(arch, graphDims(model));
  const kept = new Map<string, number[]>();
  let nextKept: Uint8Array | null = null;
  for (let k = layers.length - 1; k >= 0; k--) {
    const rem = removableUnits(model, layers[k], nextKept);
    const keep: number[] = [];
    rem.forEach((r, j) => r || keep.push(j));
    kept.set(layers[k].name, keep);
    nextKept = Uint8Array.from(rem, (r) => 1 - r);
  }
  const rowsOf = new Map<string, number[]>();
  const colsOf = new Map<string, number[]>();
  for (const layer of layers) {
    const keep = kept.get(layer.name)!;
    for (const n of [...layer.rows, ...layer.biases]) rowsOf.set(n, keep);
    for (const n of layer.cols) colsOf.set(n, keep);
  }
  const weights: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(model.weights)) weights[name] = pick(t, rowsOf.get(name) ?? null, colsOf.get(name) ?? null);
  const out: ShrinkResult['layers'] = {};
  for (const layer of layers) out[layer.name] = { before: layer.units, after: kept.get(layer.name)!.length, kept: kept.get(layer.name)! };
  return { model: { ...model, weights, ranges: { ...model.ranges } }, layers: out };
}
