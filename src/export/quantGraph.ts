/**
 * QuantGraph: the int8 operator graph an exported model is, before it is serialized. The blob writer
 * (src/export/blob.ts) and a .tflite writer serialize the same QuantGraph, so it keeps what either needs:
 * float scales and zero points, the float ranges they came from, the raw (unfolded) int32 biases and the
 * folded ones, per-channel weight scales, requantization multipliers and LUT tables.
 *
 * Conventions (docs/model-format.md §4–5): a real value is scale · (q − zeroPoint); `scale` holds a
 * float32 value (Math.fround); weights are int8 [out][in] row-major, symmetric, per output channel.
 */
import type { ArchName } from '../model/arch.js';

export interface QTensor {
  name: string;
  length: number;
  scale: number;
  zeroPoint: number;
  /** A state tensor carries a value across frames; after each frame the tensor `next` is copied into it. */
  isState: boolean;
  next: string | null;
  /** The float range the quantization was chosen from, or null for fixed-quantization tensors (LOGISTIC/TANH outputs, the recurrent h state). */
  range: [number, number] | null;
  /** Absent: int8. 'int16': symmetric, zero point 0 (TFLite's 16x8 activations; docs/model-format.md §4.2). */
  dtype?: 'int16';
}

/** What the int8 FC and the 16x8 FC share: int8 weights per output channel, requantization, clamp. */
interface QFcFields {
  name: string;
  input: string;
  output: string;
  inFeatures: number;
  outFeatures: number;
  /** int8 [out][in]; zeros stand for pruned weights (the blob encoding decides whether they are stored). */
  weights: Int8Array;
  weightScales: Float32Array;
  multipliers: Int32Array;
  shifts: Int8Array;
  actMin: number;
  actMax: number;
}

export interface QFc extends QFcFields {
  op: 'FC';
  /** int32 bias at scale fround(input_scale · weightScales[o]), zero point 0 (the .tflite bias tensor). */
  bias: Int32Array;
  /** bias − input_zp · Σ_i W[o][i]: what the blob stores (docs/model-format.md §5). */
  biasEff: Int32Array;
  activation: 'none' | 'relu';
}

export interface QAddSub {
  op: 'ADD' | 'SUB';
  name: string;
  in1: string;
  in2: string;
  output: string;
  leftShift: number;
  m1: number;
  sh1: number;
  m2: number;
  sh2: number;
  mo: number;
  sho: number;
  actMin: number;
  actMax: number;
}

export interface QMul {
  op: 'MUL';
  name: string;
  in1: string;
  in2: string;
  output: string;
  mo: number;
  sho: number;
  actMin: number;
  actMax: number;
}

export interface QLut {
  op: 'LUT';
  name: string;
  input: string;
  output: string;
  kind: 'other' | 'logistic' | 'tanh';
  /** table[x + 128] = quantize(f(dequantize(x))). */
  table: Int8Array;
}

/** The 16x8 FC (int16 in and out, int8 dense weights, int64 bias; TFLite's 16x8 FULLY_CONNECTED). */
export interface QFc16 extends QFcFields {
  op: 'FC16';
  /** int64 bias at scale fround(input_scale · weightScales[o]); the input zero point is 0, so nothing folds. */
  bias: BigInt64Array;
}

/** int8 → int16 requantization (TFLite QUANTIZE between integer types). */
export interface QQuantize {
  op: 'QUANTIZE';
  name: string;
  input: string;
  output: string;
  m: number;
  shift: number;
}

/** int16 → int16 LUT with interpolation: table[j] = quantize16(f(dequantize(128·j − 32768))), j in [0, 512]. */
export interface QLut16 {
  op: 'LUT16';
  name: string;
  input: string;
  output: string;
  kind: 'other' | 'logistic' | 'tanh';
  table: Int16Array;
}

export type QOp = QFc | QAddSub | QMul | QLut | QFc16 | QQuantize | QLut16;

export interface QuantGraph {
  format: 'hil-quant-graph';
  version: 1;
  arch: ArchName;
  nFft: 512;
  hop: 128 | 256;
  sampleRate: 16000;
  nBins: number;
  /** Tensors in blob-table order; ops in execution order. */
  tensors: QTensor[];
  ops: QOp[];
  input: string;
  output: string;
  /** Feature quantization: 1 / (1024 · input_scale) as (M, shift). */
  featMult: number;
  featShift: number;
  winA: Int16Array;
  winS: Int16Array;
  /** First 4 bytes (little-endian u32) of the SHA-256 of the float model it was lowered from. */
  modelId: number;
}
