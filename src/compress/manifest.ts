/**
 * What a compressed model costs, from the model itself: achieved sparsity per matrix (against the full
 * architecture's shapes, so removed units count as pruned), parameter counts, the blob's flash bytes in
 * the chosen encoding and in each alternative, MACs per frame (dense, as the kernels run them, and the
 * nonzero weights an ideal kernel would touch), the cost model's cycles per frame for the calibrated
 * Ethos-U55-128 parameters (docs/cost-model.md: `modelled`, not measured), and the three memory figures.
 */
import { ARCHS, weightNames } from '../model/arch.js';
import type { FloatModel } from '../model/floatModel.js';
import { weightShape } from '../model/tfModel.js';
import { writeBlobDetailed, type EncodingChoice, type WrittenBlob } from '../export/blob.js';
import type { QuantGraph } from '../export/quantGraph.js';
import { Engine, ETHOS_U55_128_CALIBRATED, ETHOS_U55_CLOCK_HZ, frameCycles, parseBlob } from '../engine/index.js';
import { blobMemoryFigures } from '../engine/u55Weights.js';
import { encodingLabel } from './profile.js';
import type { EncodingFigures, MatrixSparsity, MemoryFigures, ParamCounts, SparsityReport } from './manifestSchema.js';

export type { EncodingFigures, MatrixSparsity, ParamCounts, SparsityReport };

function countNonzero(a: Float32Array): number {
  let n = 0;
  for (const v of a) if (v !== 0) n++;
  return n;
}

/** `target` per matrix: the profile's sparsity for pruned matrices (for unit profiles, the unit fraction). */
export function sparsityReport(model: FloatModel, pruned: (name: string) => boolean, target: number): SparsityReport {
  const arch = ARCHS[model.arch];
  const perMatrix: Record<string, MatrixSparsity> = {};
  let tot = 0, nz = 0, totP = 0, nzP = 0;
  for (const name of weightNames(arch)) {
    const shape = weightShape(arch, name);
    if (shape.length !== 2) continue;
    const t = model.weights[name];
    const total = shape[0] * shape[1];
    const nonzero = countNonzero(t.data);
    const p = pruned(name);
    perMatrix[name] = { shape, exportedShape: t.shape.slice(), total, nonzero, pruned: p, target: p ? target : null, achieved: 1 - nonzero / total };
    tot += total;
    nz += nonzero;
    if (p) {
      totP += total;
      nzP += nonzero;
    }
  }
  return { target, achieved: totP ? 1 - nzP / totP : 0, allMatrices: 1 - nz / tot, perMatrix };
}

export function paramCounts(model: FloatModel): ParamCounts {
  const arch = ARCHS[model.arch];
  let before = 0, after = 0, nonzero = 0;
  for (const name of weightNames(arch)) {
    before += weightShape(arch, name).reduce((a, b) => a * b, 1);
    after += model.weights[name].data.length;
    nonzero += countNonzero(model.weights[name].data);
  }
  return { before, after, nonzero };
}

export function figuresOf(written: WrittenBlob): EncodingFigures {
  const engine = new Engine(written.bytes);
  const c = engine.opCounters;
  return {
    flashBytes: written.bytes.length,
    macsPerFrame: c.reduce((s, o) => s + o.macs, 0),
    weightBytesPerFrame: c.reduce((s, o) => s + o.weightBytes, 0),
    modelledCyclesPerFrame: frameCycles(ETHOS_U55_128_CALIBRATED, c),
  };
}

/** Encodings every manifest compares (besides the profile's own). */
export const ALTERNATIVES: EncodingChoice[] = [
  { kind: 'dense' },
  { kind: 'csr' },
  { kind: 'block', br: 4, bc: 4 },
  { kind: 'block', br: 1, bc: 16 },
  { kind: 'block', br: 16, bc: 1 },
  { kind: 'block', br: 8, bc: 8 },
  { kind: 'auto' },
];

export function encodingAlternatives(graph: QuantGraph, extra: EncodingChoice): Record<string, EncodingFigures> {
  const out: Record<string, EncodingFigures> = {};
  for (const e of [...ALTERNATIVES, extra]) {
    const label = encodingLabel(e);
    if (!out[label]) out[label] = figuresOf(writeBlobDetailed(graph, { encoding: e }));
  }
  return out;
}

/** Multiply-accumulates an ideal kernel would do: nonzero FC weights plus the element-wise MULs. */
export function nonzeroMacs(graph: QuantGraph): number {
  let n = 0;
  for (const op of graph.ops) {
    if (op.op === 'FC' || op.op === 'FC16') for (const w of op.weights) n += w !== 0 ? 1 : 0;
    else if (op.op === 'MUL') n += graph.tensors.find((t) => t.name === op.output)!.length;
  }
  return n;
}

/** (a), (b) and (c) of docs/compression.md "Three memory figures", read off the blob itself. */
export function memoryFigures(blob: Uint8Array): MemoryFigures {
  return { ...blobMemoryFigures(parseBlob(blob)), u55EncodedLabel: 'modelled' };
}

export const COST_MODEL = {
  label: 'modelled' as const,
  params: 'Ethos-U55-128 calibrated: weights in flash at 1 byte/cycle (docs/cost-model.md)',
  clockHz: ETHOS_U55_CLOCK_HZ,
};
