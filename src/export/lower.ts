/**
 * FloatModel → QuantGraph: the lowering of docs/model-format.md §9 with the tensor names of
 * src/model/arch.ts. The graph follows the weights' shapes, so a unit-pruned model (fewer rows in every
 * gate's FCs, fewer columns downstream) lowers to a smaller graph.
 */
import { createHash } from 'node:crypto';
import { HilError } from '../util/errors.js';
import { ARCHS, LSTM_GATES, layerPrefix, weightNames } from '../model/arch.js';
import { graphDims } from '../model/graphDims.js';
import type { FloatModel, Tensor } from '../model/floatModel.js';
import { analysisWindowQ15, synthesisWindowQ15 } from '../engine/windows.js';
import { chooseQuantParams, quantizeBias, roundHalfAway, quantizeMultiplier, quantizeValue, quantizeWeightsPerChannel, type QuantParams } from '../quant/quantize.js';
import type { QAddSub, QFc, QFc16, QLut, QLut16, QMul, QOp, QQuantize, QTensor, QuantGraph } from './quantGraph.js';
import { LUT16_ENTRIES, MAX_FC16_BIAS_BITS, MAX_FC16_SHIFT } from '../spec/modelFormat.js';

/** Fixed quantizations (TFLite's LOGISTIC and TANH outputs; the recurrent output state h shares TANH's). */
export const LOGISTIC_Q: QuantParams = { scale: 1 / 256, zeroPoint: -128 };
export const TANH_Q: QuantParams = { scale: 1 / 128, zeroPoint: 0 };
export const ADD_LEFT_SHIFT = 20;
/** TFLite's int16 LOGISTIC output: scale 1/32768, zero point 0 (a Q15 gain). */
export const LOGISTIC16_Q: QuantParams = { scale: 1 / 32768, zeroPoint: 0 };

/** The output layer's activation width: 8 (all int8) or 16 (fc_out and the mask in int16, TFLite's 16x8). */
export type OutputBits = 8 | 16;

export function parseOutputBits(v: unknown, where: string): OutputBits {
  if (v === undefined) return 8;
  const n = Number(v);
  if (n !== 8 && n !== 16) throw new HilError(`${where}: outputBits ${String(v)} unsupported`, 'use 8 (int8 throughout) or 16 (int16 output layer)');
  return n;
}

const quantize16 = (x: number, scale: number) => Math.max(-32768, Math.min(32767, roundHalfAway(x / scale)));

function lut16Table(fn: (x: number) => number, inScale: number, outScale: number): Int16Array {
  const table = new Int16Array(LUT16_ENTRIES);
  for (let j = 0; j < LUT16_ENTRIES; j++) table[j] = quantize16(fn(inScale * (128 * j - 32768)), outScale);
  return table;
}

/** A digest of everything that defines the float model's function: arch, hop, weights and ranges. */
export function floatModelDigest(model: FloatModel): Buffer {
  const h = createHash('sha256');
  h.update(JSON.stringify({ arch: model.arch, hop: model.hop, sampleRate: model.sampleRate, ranges: model.ranges }));
  for (const name of weightNames(ARCHS[model.arch])) {
    const t = model.weights[name];
    h.update(`${name}[${t.shape}]`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest();
}

function lutTable(fn: (x: number) => number, inQ: QuantParams, outQ: QuantParams): Int8Array {
  const table = new Int8Array(256);
  for (let x = -128; x <= 127; x++) table[x + 128] = quantizeValue(fn(inQ.scale * (x - inQ.zeroPoint)), outQ);
  return table;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * One GRU layer as §9 lowers it, in execution order. Tensor names are local to the layer (`x` its input,
 * `h` its state); an FC's weights and bias are `w_<weights>` and `b_<weights>`. The lowering below and
 * every op count derived elsewhere (src/export/referenceNets.ts) read this one table.
 */
export type GruStep =
  | { op: 'FC'; name: string; input: 'x' | 'h'; output: string; weights: string }
  | { op: 'ADD' | 'SUB' | 'MUL'; name: string; in1: string; in2: string; output: string }
  | { op: 'LUT'; name: string; kind: 'logistic' | 'tanh'; input: string; output: string };

export const GRU_STEPS: readonly GruStep[] = [
  { op: 'FC', name: 'fc_xz', input: 'x', output: 'xz', weights: 'xz' },
  { op: 'FC', name: 'fc_hz', input: 'h', output: 'hz', weights: 'hz' },
  { op: 'ADD', name: 'add_z', in1: 'xz', in2: 'hz', output: 'z_pre' },
  { op: 'LUT', name: 'sigmoid_z', kind: 'logistic', input: 'z_pre', output: 'z' },
  { op: 'FC', name: 'fc_xr', input: 'x', output: 'xr', weights: 'xr' },
  { op: 'FC', name: 'fc_hr', input: 'h', output: 'hr', weights: 'hr' },
  { op: 'ADD', name: 'add_r', in1: 'xr', in2: 'hr', output: 'r_pre' },
  { op: 'LUT', name: 'sigmoid_r', kind: 'logistic', input: 'r_pre', output: 'r' },
  { op: 'FC', name: 'fc_xn', input: 'x', output: 'xn', weights: 'xn' },
  { op: 'FC', name: 'fc_hn', input: 'h', output: 'hn', weights: 'hn' },
  { op: 'MUL', name: 'mul_rhn', in1: 'r', in2: 'hn', output: 'rhn' },
  { op: 'ADD', name: 'add_n', in1: 'xn', in2: 'rhn', output: 'n_pre' },
  { op: 'LUT', name: 'tanh_n', kind: 'tanh', input: 'n_pre', output: 'n' },
  { op: 'SUB', name: 'sub_h_n', in1: 'h', in2: 'n', output: 'h_minus_n' },
  { op: 'MUL', name: 'mul_z', in1: 'z', in2: 'h_minus_n', output: 'z_h_minus_n' },
  { op: 'ADD', name: 'add_h', in1: 'n', in2: 'z_h_minus_n', output: 'h_next' },
];

export interface LowerOptions {
  /** Overrides ranges by activation name (e.g. calibration on real data). */
  ranges?: Record<string, [number, number]>;
  /**
   * FC weight scales: one per output channel (default), or one per matrix, which Arm NN 20.08's CpuRef
   * needs (it asserts on per-channel FC weights). Blob and .tflite serialize the same choice.
   */
  weightScales?: 'per-channel' | 'per-tensor';
  /** 16: fc_out and the mask in int16 (QUANTIZE → FC16 → LUT16); default 8. */
  outputBits?: OutputBits;
}

export function lowerToQuantGraph(model: FloatModel, options: LowerOptions = {}): QuantGraph {
  const arch = ARCHS[model.arch];
  const dims = graphDims(model);
  const ranges = { ...model.ranges, ...options.ranges };
  const tensors = new Map<string, QTensor>();

  const observed = (name: string, length: number, relu = false): QTensor => {
    const r = ranges[name];
    if (r?.length !== 2) throw new HilError(`float model has no activation range for ${name}`, 'observe ranges with the float forward (hil model init does) or calibrate');
    const lo = relu ? 0 : r[0];
    const q = chooseQuantParams(lo, Math.max(lo, r[1]));
    return add({ name, length, scale: q.scale, zeroPoint: q.zeroPoint, isState: false, next: null, range: [r[0], r[1]] });
  };
  const fixed = (name: string, length: number, q: QuantParams): QTensor =>
    add({ name, length, scale: Math.fround(q.scale), zeroPoint: q.zeroPoint, isState: false, next: null, range: null });
  const add = (t: QTensor): QTensor => {
    tensors.set(t.name, t);
    return t;
  };
  const qp = (t: QTensor): QuantParams => ({ scale: t.scale, zeroPoint: t.zeroPoint });

  const ops: QOp[] = [];
  const weight = (name: string): Tensor => model.weights[name];

  const fc = (name: string, x: QTensor, y: QTensor, wName: string, bName: string, activation: 'none' | 'relu'): void => {
    const w = weight(wName);
    const [outF, inF] = w.shape;
    const b = weight(bName).data;
    // Floor each channel's scale so its int32 bias stays below 2^30 in magnitude.
    const minScale = new Float64Array(outF);
    for (let o = 0; o < outF; o++) minScale[o] = Math.abs(b[o]) / (x.scale * 2 ** 30);
    let tensorScale = 0;
    if (options.weightScales === 'per-tensor') {
      // Every channel's floor is the largest channel scale, so all channels share it.
      for (let o = 0; o < outF; o++) {
        let maxAbs = 0;
        for (let i = 0; i < inF; i++) maxAbs = Math.max(maxAbs, Math.abs(w.data[o * inF + i]));
        tensorScale = Math.max(tensorScale, maxAbs / 127, minScale[o]);
      }
      if (tensorScale === 0) tensorScale = 1 / 127;
      minScale.fill(tensorScale);
    }
    const { q, scales } = quantizeWeightsPerChannel(w.data, outF, inF, minScale);
    // An all-zero channel got 1/127 above; its weights are 0 at any scale, so it takes the shared one.
    if (tensorScale) scales.fill(tensorScale);
    const bias = quantizeBias(b, x.scale, scales);
    const biasEff = new Int32Array(outF);
    const multipliers = new Int32Array(outF);
    const shifts = new Int8Array(outF);
    for (let o = 0; o < outF; o++) {
      let sumW = 0;
      for (let i = 0; i < inF; i++) sumW += q[o * inF + i];
      const eff = bias[o] - x.zeroPoint * sumW;
      // The kernel's int32 accumulator: |bias_eff| plus the largest possible dot product must fit.
      if (Math.abs(eff) + 127 * 128 * inF > 2147483647) throw new HilError(`${name}: channel ${o}'s accumulator could overflow int32`, 'check the activation ranges and bias magnitudes');
      biasEff[o] = eff;
      const m = quantizeMultiplier((x.scale * scales[o]) / y.scale);
      multipliers[o] = m.m;
      shifts[o] = m.shift;
    }
    const op: QFc = {
      op: 'FC', name, input: x.name, output: y.name, inFeatures: inF, outFeatures: outF, weights: q, weightScales: scales, bias, biasEff,
      multipliers, shifts, actMin: activation === 'relu' ? y.zeroPoint : -128, actMax: 127, activation,
    };
    ops.push(op);
  };
  const addSub = (op: 'ADD' | 'SUB', name: string, a: QTensor, b: QTensor, y: QTensor): void => {
    const twiceMax = 2 * Math.max(a.scale, b.scale);
    const m1 = quantizeMultiplier(a.scale / twiceMax);
    const m2 = quantizeMultiplier(b.scale / twiceMax);
    const mo = quantizeMultiplier(twiceMax / (2 ** ADD_LEFT_SHIFT * y.scale));
    const rec: QAddSub = {
      op, name, in1: a.name, in2: b.name, output: y.name, leftShift: ADD_LEFT_SHIFT,
      m1: m1.m, sh1: m1.shift, m2: m2.m, sh2: m2.shift, mo: mo.m, sho: mo.shift, actMin: -128, actMax: 127,
    };
    ops.push(rec);
  };
  const mul = (name: string, a: QTensor, b: QTensor, y: QTensor): void => {
    const mo = quantizeMultiplier((a.scale * b.scale) / y.scale);
    const rec: QMul = { op: 'MUL', name, in1: a.name, in2: b.name, output: y.name, mo: mo.m, sho: mo.shift, actMin: -128, actMax: 127 };
    ops.push(rec);
  };
  const lut = (name: string, kind: 'logistic' | 'tanh', x: QTensor, y: QTensor): void => {
    const rec: QLut = { op: 'LUT', name, input: x.name, output: y.name, kind, table: lutTable(kind === 'logistic' ? sigmoid : Math.tanh, qp(x), qp(y)) };
    ops.push(rec);
  };

  // Tensors are created in arch.activationNames order, which is also the blob's tensor table order.
  const features = observed('features', dims.nBins);
  const fcIn = observed('fc_in', dims.d0, true);
  fc('fc_in', features, fcIn, 'fc_in.w', 'fc_in.b', 'relu');
  let x = fcIn;
  const gruLayer = (l: number): void => {
    const p = layerPrefix(arch, l);
    const H = dims.hidden[l];
    const t = (s: string) => observed(p + s, H);
    const xz = t('xz'), hz = t('hz'), zPre = t('z_pre'), z = fixed(p + 'z', H, LOGISTIC_Q);
    const xr = t('xr'), hr = t('hr'), rPre = t('r_pre'), r = fixed(p + 'r', H, LOGISTIC_Q);
    const xn = t('xn'), hn = t('hn'), rhn = t('rhn'), nPre = t('n_pre'), nT = fixed(p + 'n', H, TANH_Q);
    const hMinusN = t('h_minus_n'), zHMinusN = t('z_h_minus_n'), hNext = fixed(p + 'h_next', H, TANH_Q);
    const h = fixed(p + 'h', H, TANH_Q);
    h.isState = true;
    h.next = hNext.name;
    const local: Record<string, QTensor> = {
      x, h, xz, hz, z_pre: zPre, z, xr, hr, r_pre: rPre, r, xn, hn, rhn, n_pre: nPre, n: nT,
      h_minus_n: hMinusN, z_h_minus_n: zHMinusN, h_next: hNext,
    };
    for (const s of GRU_STEPS) {
      if (s.op === 'FC') fc(p + s.name, local[s.input], local[s.output], `${p}w_${s.weights}`, `${p}b_${s.weights}`, 'none');
      else if (s.op === 'LUT') lut(p + s.name, s.kind, local[s.input], local[s.output]);
      else if (s.op === 'MUL') mul(p + s.name, local[s.in1], local[s.in2], local[s.output]);
      else addSub(s.op, p + s.name, local[s.in1], local[s.in2], local[s.output]);
    }
    x = hNext; // the next layer (or the mask FC) reads this frame's new state
  };
  /**
   * LSTM (§9): four gates as FC + FC + ADD + LUT, then c' = f·c + i·g and h' = o·tanh(c') from MUL, ADD
   * and a tanh LUT. The cell state c is int8 like every tensor of format 1, quantized from the observed
   * range of c' (c and c' share it: the state update is a byte copy); h and h' are tanh-range.
   */
  const lstmLayer = (l: number): void => {
    const p = layerPrefix(arch, l);
    const H = dims.hidden[l];
    const t = (s: string) => observed(p + s, H);
    // Tensors first, in arch.activationNames order (the blob's table order), then the ops that use them.
    const gate: Record<string, { x: QTensor; h: QTensor; pre: QTensor; out: QTensor }> = {};
    for (const g of LSTM_GATES) gate[g] = { x: t(`x${g}`), h: t(`h${g}`), pre: t(`${g}_pre`), out: fixed(p + g, H, g === 'g' ? TANH_Q : LOGISTIC_Q) };
    const cF = t('c_f'), iG = t('i_g');
    const cNext = observed(p + 'c_next', H);
    const tanhC = fixed(p + 'tanh_c', H, TANH_Q);
    const hNext = fixed(p + 'h_next', H, TANH_Q);
    const c = add({ ...cNext, name: p + 'c', isState: true, next: cNext.name });
    const h = fixed(p + 'h', H, TANH_Q);
    h.isState = true;
    h.next = hNext.name;
    for (const g of LSTM_GATES) {
      const q = gate[g];
      fc(`${p}fc_x${g}`, x, q.x, `${p}w_x${g}`, `${p}b_x${g}`, 'none');
      fc(`${p}fc_h${g}`, h, q.h, `${p}w_h${g}`, `${p}b_h${g}`, 'none');
      addSub('ADD', `${p}add_${g}`, q.x, q.h, q.pre);
      if (g === 'g') lut(`${p}tanh_g`, 'tanh', q.pre, q.out);
      else lut(`${p}sigmoid_${g}`, 'logistic', q.pre, q.out);
    }
    mul(p + 'mul_f_c', gate.f.out, c, cF);
    mul(p + 'mul_i_g', gate.i.out, gate.g.out, iG);
    addSub('ADD', p + 'add_c', cF, iG, cNext);
    lut(p + 'tanh_c', 'tanh', cNext, tanhC);
    mul(p + 'mul_o', gate.o.out, tanhC, hNext);
    x = hNext;
  };
  for (let l = 0; l < arch.layers; l++) {
    if (arch.cell === 'lstm') lstmLayer(l);
    else gruLayer(l);
  }
  let mask: QTensor;
  if (options.outputBits === 16) {
    mask = lowerOutput16(x);
  } else {
    const maskPre = observed('mask_pre', dims.nBins);
    mask = fixed('mask', dims.nBins, LOGISTIC_Q);
    fc('fc_out', x, maskPre, 'fc_out.w', 'fc_out.b', 'none');
    lut('mask', 'logistic', maskPre, mask);
  }

  /**
   * The 16-bit output layer: x (int8) → QUANTIZE → fc_out_in (int16) → FC16 → mask_pre (int16) → LUT16
   * → mask (int16, Q15). fc_out_in takes x's scale over 2^s with the largest s ≤ 8 that keeps every int8
   * value representable, so the widening is exact.
   */
  function lowerOutput16(x: QTensor): QTensor {
    const span = Math.max(128 + x.zeroPoint, 127 - x.zeroPoint);
    let s = 8;
    while (s > 0 && span * 2 ** s > 32767 + (x.zeroPoint === 0 ? 1 : 0)) s--;
    const xin = add({ name: 'fc_out_in', length: x.length, scale: Math.fround(x.scale / 2 ** s), zeroPoint: 0, isState: false, next: null, range: null, dtype: 'int16' });
    const rq = quantizeMultiplier(x.scale / xin.scale);
    const qop: QQuantize = { op: 'QUANTIZE', name: 'fc_out_quantize', input: x.name, output: xin.name, m: rq.m, shift: rq.shift };
    ops.push(qop);
    const r = ranges.mask_pre;
    if (r?.length !== 2) throw new HilError('float model has no activation range for mask_pre', 'observe ranges with the float forward (hil model init does) or calibrate');
    const maxAbs = Math.max(Math.abs(r[0]), Math.abs(r[1])) || 1;
    const pre = add({ name: 'mask_pre', length: dims.nBins, scale: Math.fround(maxAbs / 32767), zeroPoint: 0, isState: false, next: null, range: [r[0], r[1]], dtype: 'int16' });
    const w = weight('fc_out.w');
    const [outF, inF] = w.shape;
    const b = weight('fc_out.b').data;
    const lim = 2 ** MAX_FC16_BIAS_BITS;
    const minScale = new Float64Array(outF);
    for (let o = 0; o < outF; o++) minScale[o] = Math.abs(b[o]) / (xin.scale * lim);
    const { q, scales } = quantizeWeightsPerChannel(w.data, outF, inF, minScale);
    const bias = new BigInt64Array(outF);
    const multipliers = new Int32Array(outF);
    const shifts = new Int8Array(outF);
    for (let o = 0; o < outF; o++) {
      bias[o] = BigInt(roundHalfAway(b[o] / Math.fround(xin.scale * scales[o])));
      const m = quantizeMultiplier((xin.scale * scales[o]) / pre.scale);
      if (m.shift > MAX_FC16_SHIFT) throw new HilError(`fc_out: channel ${o}'s multiplier needs shift ${m.shift} (the 16x8 requantization allows ${MAX_FC16_SHIFT})`, 'check the mask_pre range');
      multipliers[o] = m.m;
      shifts[o] = m.shift;
    }
    const fop: QFc16 = {
      op: 'FC16', name: 'fc_out', input: xin.name, output: pre.name, inFeatures: inF, outFeatures: outF, weights: q, weightScales: scales, bias,
      multipliers, shifts, actMin: -32768, actMax: 32767,
    };
    ops.push(fop);
    const m = add({ name: 'mask', length: dims.nBins, scale: Math.fround(LOGISTIC16_Q.scale), zeroPoint: 0, isState: false, next: null, range: null, dtype: 'int16' });
    const lop: QLut16 = { op: 'LUT16', name: 'mask', input: pre.name, output: m.name, kind: 'logistic', table: lut16Table(sigmoid, pre.scale, m.scale) };
    ops.push(lop);
    return m;
  }

  const featQ = quantizeMultiplier(1 / (1024 * features.scale));
  const digest = floatModelDigest(model);
  return {
    format: 'hil-quant-graph',
    version: 1,
    arch: model.arch,
    nFft: arch.nFft,
    hop: model.hop,
    sampleRate: 16000,
    nBins: dims.nBins,
    tensors: [...tensors.values()],
    ops,
    input: features.name,
    output: mask.name,
    featMult: featQ.m,
    featShift: featQ.shift,
    winA: analysisWindowQ15(arch.nFft),
    winS: synthesisWindowQ15(arch.nFft, model.hop),
    modelId: digest.readUInt32LE(0),
  };
}
