/**
 * A float model exported to its device blob, with the description that `hil model init`/`export` write
 * beside it as manifest.json (sizes, work counters, per-layer encodings).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Engine } from '../engine/index.js';
import type { FloatModel } from '../model/floatModel.js';
import { paramsPerLayer } from '../model/init.js';
import { sha256, writeFileAtomic } from '../util/fsx.js';
import { HIL_VERSION } from '../util/version.js';
import { writeBlobDetailed, type EncodingChoice } from './blob.js';
import { lowerToQuantGraph, type LowerOptions } from './lower.js';

export const MODEL_MANIFEST_FORMAT = 'hil-model-manifest';
export const MODEL_MANIFEST_VERSION = 1;

const LayerSchema = Type.Object(
  { name: Type.String(), encoding: Type.String(), br: Type.Integer(), bc: Type.Integer(), nnz: Type.Integer(), weightBytes: Type.Integer() },
  { additionalProperties: false },
);

/** manifest.json of `hil model init` and `hil model export`; `hil run` reads it back (src/run/resolveModel.ts). */
export const ModelManifestSchema = Type.Object(
  {
    format: Type.Literal(MODEL_MANIFEST_FORMAT),
    version: Type.Literal(MODEL_MANIFEST_VERSION),
    arch: Type.String(),
    seed: Type.Integer(),
    hop: Type.Integer(),
    sampleRate: Type.Integer(),
    hil: Type.String(),
    params: Type.Intersect([Type.Record(Type.String(), Type.Number()), Type.Object({ total: Type.Number() })]),
    blob: Type.Object(
      {
        file: Type.String(),
        sha256: Type.String(),
        modelId: Type.String(),
        flashBytes: Type.Integer(),
        encoding: Type.String(),
        /** The output layer's activation width (docs/model-format.md §5); absent in manifests from before it existed. */
        outputBits: Type.Optional(Type.Union([Type.Literal(8), Type.Literal(16)])),
        arenaBytes: Type.Integer(),
        ops: Type.Integer(),
        tensors: Type.Integer(),
        /** Work counters of one frame (docs/model-format.md §8). */
        macsPerFrame: Type.Integer(),
        weightBytesPerFrame: Type.Integer(),
        elementsPerFrame: Type.Integer(),
        layers: Type.Array(LayerSchema),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ModelManifest = Static<typeof ModelManifestSchema>;

function encodingLabel(e: EncodingChoice): string {
  return e.kind === 'block' ? `block${e.br}x${e.bc}` : e.kind;
}

/** Exports a float model to `<dir>/model.hilm` and describes it; shared by init and export. */
export function exportModel(model: FloatModel, blobPath: string, encoding: EncodingChoice, lower: LowerOptions = {}): ModelManifest['blob'] {
  const written = writeBlobDetailed(lowerToQuantGraph(model, lower), { encoding });
  const engine = new Engine(written.bytes);
  const macs = engine.opCounters.reduce((s, c) => s + c.macs, 0);
  const wb = engine.opCounters.reduce((s, c) => s + c.weightBytes, 0);
  const el = engine.opCounters.reduce((s, c) => s + c.elements, 0);
  writeFileAtomic(blobPath, written.bytes);
  return {
    file: blobPath.split('/').pop() as string,
    sha256: sha256(written.bytes),
    modelId: engine.blob.modelId.toString(16).padStart(8, '0'),
    flashBytes: written.bytes.length,
    encoding: encodingLabel(encoding),
    outputBits: lower.outputBits ?? 8,
    arenaBytes: engine.arenaBytes,
    ops: engine.blob.ops.length,
    tensors: engine.blob.tensors.length,
    macsPerFrame: macs,
    weightBytesPerFrame: wb,
    elementsPerFrame: el,
    layers: written.layers,
  };
}

export function manifestFor(model: FloatModel, blob: ModelManifest['blob']): ModelManifest {
  const params = paramsPerLayer(model);
  const total = Object.values(params).reduce((a, b) => a + b, 0);
  return { format: MODEL_MANIFEST_FORMAT, version: MODEL_MANIFEST_VERSION, arch: model.arch, seed: model.seed, hop: model.hop, sampleRate: model.sampleRate, hil: HIL_VERSION, params: { ...params, total }, blob };
}
