/**
 * Deterministic models and signals for the engine's tests and test vectors (scripts/vectors.ts): seeded
 * float models, pruned in the ways the weight encodings care about, and seeded test audio. Pruning here
 * is deliberately simple (magnitude, fixed fractions); the real compression pipeline lives elsewhere.
 */
import seedrandom from 'seedrandom';
import { ARCHS, cellGates, layerPrefix } from '../../src/model/arch.js';
import type { FloatModel, Tensor } from '../../src/model/floatModel.js';
import { calibrateRanges, calibrationSignal, initFloatModel } from '../../src/model/init.js';

export function cloneModel(m: FloatModel): FloatModel {
  const weights: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(m.weights)) weights[k] = { shape: [...t.shape], data: new Float32Array(t.data) };
  return { ...m, weights, ranges: { ...m.ranges }, provenance: { ...m.provenance } };
}

/** The FC weight matrices of a model (names ending in .w or .w_*). */
export function matrixNames(m: FloatModel): string[] {
  return Object.keys(m.weights).filter((k) => m.weights[k].shape.length === 2);
}

/** Zeroes the br×bc blocks of smallest L1 norm in every matrix, keeping `keep` of them. */
export function pruneBlocks(m: FloatModel, br: number, bc: number, keep: number): FloatModel {
  const out = cloneModel(m);
  for (const name of matrixNames(out)) {
    const t = out.weights[name];
    const [rows, cols] = t.shape;
    const blocks: { r: number; c: number; norm: number }[] = [];
    for (let r = 0; r < rows; r += br)
      for (let c = 0; c < cols; c += bc) {
        let norm = 0;
        for (let i = r; i < Math.min(rows, r + br); i++) for (let j = c; j < Math.min(cols, c + bc); j++) norm += Math.abs(t.data[i * cols + j]);
        blocks.push({ r, c, norm });
      }
    blocks.sort((a, b) => a.norm - b.norm || a.r - b.r || a.c - b.c);
    for (const b of blocks.slice(0, Math.floor(blocks.length * (1 - keep))))
      for (let i = b.r; i < Math.min(rows, b.r + br); i++) for (let j = b.c; j < Math.min(cols, b.c + bc); j++) t.data[i * cols + j] = 0;
  }
  return out;
}

/** Zeroes the weights of smallest magnitude in every matrix, keeping `keep` of them. */
export function pruneMagnitude(m: FloatModel, keep: number): FloatModel {
  const out = cloneModel(m);
  for (const name of matrixNames(out)) {
    const d = out.weights[name].data;
    const sorted = Float64Array.from(d, Math.abs).sort();
    const threshold = sorted[Math.floor(sorted.length * (1 - keep))];
    for (let i = 0; i < d.length; i++) if (Math.abs(d[i]) < threshold) d[i] = 0;
  }
  return out;
}

/**
 * fc_in rows with gaps over 255 columns (only the first and last bin kept) and a few all-zero rows:
 * the CSR encoder must bridge the gaps with filler entries.
 */
export function pruneForCsrGaps(m: FloatModel): FloatModel {
  const out = pruneMagnitude(m, 0.3);
  const t = out.weights['fc_in.w'];
  const [rows, cols] = t.shape;
  for (let r = 0; r < rows; r++) {
    if (r % 4 === 0) for (let c = 1; c < cols - 1; c++) t.data[r * cols + c] = 0;
    if (r % 4 === 0 && t.data[r * cols] === 0) t.data[r * cols] = 0.05;
    if (r % 4 === 0 && t.data[r * cols + cols - 1] === 0) t.data[r * cols + cols - 1] = -0.05;
    if (r % 7 === 3) for (let c = 0; c < cols; c++) t.data[r * cols + c] = 0;
  }
  return out;
}

function keepRows(t: Tensor, rows: number[]): Tensor {
  const cols = t.shape.length === 2 ? t.shape[1] : 1;
  const data = new Float32Array(rows.length * cols);
  rows.forEach((r, k) => data.set(t.data.subarray(r * cols, r * cols + cols), k * cols));
  return { shape: t.shape.length === 2 ? [rows.length, cols] : [rows.length], data };
}

function keepCols(t: Tensor, cols: number[]): Tensor {
  const [rows, n] = t.shape;
  const data = new Float32Array(rows * cols.length);
  for (let r = 0; r < rows; r++) cols.forEach((c, k) => (data[r * cols.length + k] = t.data[r * n + c]));
  return { shape: [rows, cols.length], data };
}

/** Removes units: fc_in rows, and per recurrent layer the same units from every gate (rows), w_h* columns and the next layer's input columns. */
export function unitPrune(m: FloatModel, d0Keep: number, hiddenKeep: number[]): FloatModel {
  const out = cloneModel(m);
  const w = out.weights;
  const arch = ARCHS[m.arch];
  // Units spread over the layer (not just the first ones), so the surviving columns are scattered too.
  const pick = (total: number, keep: number) => Array.from({ length: keep }, (_, k) => Math.floor((k * total) / keep));
  const d0Units = pick(w['fc_in.w'].shape[0], d0Keep);
  w['fc_in.w'] = keepRows(w['fc_in.w'], d0Units);
  w['fc_in.b'] = keepRows(w['fc_in.b'], d0Units);
  let inputUnits = d0Units;
  const gates = cellGates(arch);
  for (let l = 0; l < arch.layers; l++) {
    const p = layerPrefix(arch, l);
    const units = pick(w[`${p}w_h${gates[0]}`].shape[0], hiddenKeep[l]);
    for (const g of gates) {
      w[`${p}w_x${g}`] = keepCols(keepRows(w[`${p}w_x${g}`], units), inputUnits);
      w[`${p}w_h${g}`] = keepCols(keepRows(w[`${p}w_h${g}`], units), units);
      w[`${p}b_x${g}`] = keepRows(w[`${p}b_x${g}`], units);
      w[`${p}b_h${g}`] = keepRows(w[`${p}b_h${g}`], units);
    }
    inputUnits = units;
  }
  w['fc_out.w'] = keepCols(w['fc_out.w'], inputUnits);
  return out;
}

export function recalibrated(m: FloatModel): FloatModel {
  const out = cloneModel(m);
  out.ranges = calibrateRanges(out, [calibrationSignal(m.seed)]);
  return out;
}

/** Seeded test audio (int16): tones, noise, a silent stretch and a clipped loud burst. */
export function testSignal(seed: number, samples: number): Int16Array {
  const rng = seedrandom(`hil-test-signal-${seed}`);
  const out = new Int16Array(samples);
  const f1 = 200 + 600 * rng(), f2 = 1000 + 3000 * rng();
  for (let i = 0; i < samples; i++) {
    const t = i / 16000;
    let v = 4000 * Math.sin(2 * Math.PI * f1 * t) + 2500 * Math.sin(2 * Math.PI * f2 * t) + 1500 * (2 * rng() - 1);
    const pos = i / samples;
    if (pos > 0.4 && pos < 0.5) v = 0;
    if (pos > 0.8 && pos < 0.85) v *= 6;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

export function tinyModel(seed = 1, hop: 128 | 256 = 256): FloatModel {
  return initFloatModel('se-tiny', seed, hop);
}
