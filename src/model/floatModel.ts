/**
 * A float model: weights (possibly pruned to zeros, possibly unit-pruned to smaller shapes) plus the
 * activation ranges that fix its int8 quantization. It is what training and `hil model init` produce and
 * what export consumes. Stored as JSON with base64 little-endian arrays: float32 (the default), or float16
 * (`dtype: "float16"` on the tensor) to halve large models; a reader widens float16 back to float32.
 */
import { readFileSync } from 'node:fs';
import { HilError } from '../util/errors.js';
import { writeJsonAtomic } from '../util/fsx.js';
import { ARCHS, isArchName, weightNames, type ArchName } from './arch.js';

export interface Tensor {
  shape: number[]; // [out, in] for matrices, [n] for vectors
  data: Float32Array;
}

/**
 * The per-bin feature normalisation a model was trained with (log2-power mean and std per bin). It is
 * already folded into fc_in, so the weights alone define the model; training uses it to unfold fc_in
 * again when fine-tuning (src/model/tfModel.ts).
 */
export interface FeatureNormJson {
  mean: number[];
  std: number[];
}

export interface FloatModel {
  format: 'hil-float-model';
  version: 1;
  arch: ArchName;
  hop: 128 | 256;
  sampleRate: 16000;
  seed: number;
  weights: Record<string, Tensor>;
  /** Observed [min, max] per activation name (arch.activationNames); fixed-range tensors may be absent. */
  ranges: Record<string, [number, number]>;
  /** Free-form provenance: how it was made (init, training run, compression profile). */
  provenance: Record<string, unknown>;
  /** Optional: the feature normalisation folded into fc_in by training (informational for export). */
  featureNorm?: FeatureNormJson;
}

interface StoredTensor {
  shape: number[];
  /** Absent: float32 (every file before float16 storage existed). */
  dtype?: 'float16';
  base64: string;
}

export interface SaveOptions {
  /**
   * 'float16' stores weights rounded to IEEE half precision (nearest, ties to even): half the size,
   * and the relative change (≤ 2^-11) is far below the int8 step (1/127 of a row's largest weight), so the
   * exported blob hardly changes. The loaded model *is* the rounded weights (its digest and blob are theirs).
   */
  weights?: 'float32' | 'float16';
}

export function saveFloatModel(path: string, model: FloatModel, options: SaveOptions = {}): void {
  const weights: Record<string, StoredTensor> = {};
  for (const [name, t] of Object.entries(model.weights)) {
    if (options.weights === 'float16') {
      const h = float32ToFloat16(t.data);
      weights[name] = { shape: t.shape, dtype: 'float16', base64: Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('base64') };
    } else {
      weights[name] = { shape: t.shape, base64: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64') };
    }
  }
  writeJsonAtomic(path, { ...model, weights });
}

/** The weights of a model as float16 storage would give them back (what a float16 save then load yields). */
export function roundWeightsToFloat16(model: FloatModel): FloatModel {
  const weights: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(model.weights)) weights[name] = { shape: t.shape, data: float16ToFloat32(float32ToFloat16(t.data)) };
  return { ...model, weights };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of each value, rounded to nearest, ties to even; overflow goes to ±Inf. */
export function float32ToFloat16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    f32[0] = x[i];
    const b = u32[0];
    const sign = (b >>> 16) & 0x8000;
    const exp = (b >>> 23) & 0xff;
    let mant = b & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or a quiet NaN
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    let shift: number;
    let half: number;
    if (e <= 0) {
      // Subnormal half (or zero): the implicit bit becomes explicit and shifts further right.
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      shift = 14 - e;
      half = 0;
    } else {
      shift = 13;
      half = e << 10;
    }
    const kept = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    let v = (e <= 0 ? 0 : half) + (e <= 0 ? kept : kept & 0x3ff);
    if (rest > mid || (rest === mid && (kept & 1) === 1)) v += 1; // a carry into the exponent is correct rounding
    out[i] = sign | v;
  }
  return out;
}

/** float32 values of IEEE binary16 bits (exact: every half is a float32). */
export function float16ToFloat32(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const sign = h[i] & 0x8000 ? -1 : 1;
    const exp = (h[i] >>> 10) & 0x1f;
    const mant = h[i] & 0x3ff;
    out[i] = exp === 0 ? sign * mant * 2 ** -24 : exp === 0x1f ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}

export function loadFloatModel(path: string): FloatModel {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HilError(`cannot read float model ${path}: ${(e as Error).message}`);
  }
  if (raw.format !== 'hil-float-model' || raw.version !== 1) throw new HilError(`${path} is not a hil float model (format ${String(raw.format)})`);
  if (typeof raw.arch !== 'string' || !isArchName(raw.arch)) throw new HilError(`${path}: unknown arch ${String(raw.arch)}`, `use one of ${Object.keys(ARCHS).join(', ')}`);
  const stored = raw.weights as Record<string, StoredTensor>;
  const weights: Record<string, Tensor> = {};
  for (const name of weightNames(ARCHS[raw.arch])) {
    const s = stored?.[name];
    if (!s) throw new HilError(`${path}: weight ${name} is missing`);
    const bytes = Buffer.from(s.base64, 'base64');
    if (s.dtype !== undefined && s.dtype !== 'float16') throw new HilError(`${path}: weight ${name} has unknown dtype ${String(s.dtype)}`, 'float32 (no dtype) and float16 are supported');
    if (bytes.byteLength % (s.dtype === 'float16' ? 2 : 4) !== 0) throw new HilError(`${path}: weight ${name} has ${bytes.byteLength} bytes, not whole ${s.dtype ?? 'float32'} values`);
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const data = s.dtype === 'float16' ? float16ToFloat32(new Uint16Array(buf)) : new Float32Array(buf);
    const expected = s.shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new HilError(`${path}: weight ${name} has ${data.length} values for shape [${s.shape}]`);
    weights[name] = { shape: s.shape, data };
  }
  return { ...(raw as unknown as FloatModel), weights };
}
