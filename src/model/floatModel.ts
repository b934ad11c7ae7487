/**
 * A float model: weights (possibly pruned to zeros, possibly unit-pruned to smaller shapes) plus the
 * activation ranges that fix its int8 quantization. It is what training and `hil model init` produce and
 * what export consumes. Stored as JSON with base64 float32 arrays.
 */
import { readFileSync } from 'node:fs';
import { HilError } from '../util/errors.js';
import { writeJsonAtomic } from '../util/fsx.js';
import { ARCHS, isArchName, weightNames, type ArchName } from './arch.js';

export interface Tensor {
  shape: number[]; // [out, in] for matrices, [n] for vectors
  data: Float32Array;
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
}

interface StoredTensor {
  shape: number[];
  base64: string;
}

export function saveFloatModel(path: string, model: FloatModel): void {
  const weights: Record<string, StoredTensor> = {};
  for (const [name, t] of Object.entries(model.weights)) {
    weights[name] = { shape: t.shape, base64: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64') };
  }
  writeJsonAtomic(path, { ...model, weights });
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
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const expected = s.shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new HilError(`${path}: weight ${name} has ${data.length} values for shape [${s.shape}]`);
    weights[name] = { shape: s.shape, data };
  }
  return { ...(raw as unknown as FloatModel), weights };
}
