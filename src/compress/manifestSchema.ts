/**
 * The compressed-model manifest (`<out>/manifest.json` of `hil compress`, committed under
 * models/<arch>/compressed/): its schema, from which every type it records is derived, and reading it back
 * with validation. Kept apart from src/compress/manifest.ts, which computes the figures, so that `hil run`
 * can read a manifest without loading the training code.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import { checkFormatVersion, validate } from '../util/schema.js';
import { ProfileSpecSchema, StructureSchema } from './profile.js';
import { VelaEstimateSchema } from './vela.js';
import { BudgetRecordSchema } from './budget.js';

export const COMPRESS_FORMAT = 'hil-compress-manifest';
/** Every manifest hil compress has written, the committed ones included, is version 1. */
export const COMPRESS_VERSION = 1;

const Int = Type.Integer();
const Num = Type.Number();

export const MatrixSparsitySchema = Type.Object({
  shape: Type.Array(Int),
  /** Shape in the exported model (smaller after unit pruning). */
  exportedShape: Type.Array(Int),
  /** Weights of the full shape, and the nonzero ones left. */
  total: Int,
  nonzero: Int,
  pruned: Type.Boolean(),
  target: Type.Union([Num, Type.Null()]),
  achieved: Num,
});
export type MatrixSparsity = Static<typeof MatrixSparsitySchema>;

export const SparsityReportSchema = Type.Object({
  target: Num,
  /** Zero fraction over the pruned matrices (the profile's target applies to these). */
  achieved: Num,
  /** Zero fraction over all weight matrices. */
  allMatrices: Num,
  perMatrix: Type.Record(Type.String(), MatrixSparsitySchema),
});
export type SparsityReport = Static<typeof SparsityReportSchema>;

export const ParamCountsSchema = Type.Object({
  /** Parameters (weights and biases) of the full architecture. */
  before: Int,
  /** Parameters stored by the exported shapes (after unit shrinking). */
  after: Int,
  /** Nonzero parameters. */
  nonzero: Int,
});
export type ParamCounts = Static<typeof ParamCountsSchema>;

export const EncodingFiguresSchema = Type.Object({
  flashBytes: Int,
  /** Work counters of one frame (docs/model-format.md §8): FC MACs per encoding plus MUL elements. */
  macsPerFrame: Int,
  weightBytesPerFrame: Int,
  /** docs/cost-model.md with the cost parameters the manifest's `cost.params` names: modelled. */
  modelledCyclesPerFrame: Num,
});
export type EncodingFigures = Static<typeof EncodingFiguresSchema>;

export const ValScoresSchema = Type.Object({
  /** Mixtures scored (silent outputs, which have no SDR, are counted in `silent` and left out of the means). */
  items: Int,
  silent: Int,
  sdr: Num,
  sisdr: Num,
});
export type ValScores = Static<typeof ValScoresSchema>;

/** Per unit layer: units before and after, and the original indices kept. */
export const UnitLayersSchema = Type.Record(Type.String(), Type.Object({ before: Int, after: Int, kept: Type.Array(Int) }));
export type UnitLayers = Static<typeof UnitLayersSchema>;

/**
 * The three memory figures of docs/compression.md: (a) the blob's real flash bytes (measured: the file),
 * (b) its nonzero int8 weights at one byte each, (c) the modelled size of the same weights encoded for an
 * Ethos-U55 by Vela (src/engine/u55Weights.ts). Absent in manifests written before it existed.
 */
export const MemoryFiguresSchema = Type.Object({
  flashBytes: Int,
  nonzeroWeightBytes: Int,
  u55EncodedWeightBytes: Int,
  u55EncodedLabel: Type.Literal('modelled'),
});
export type MemoryFigures = Static<typeof MemoryFiguresSchema>;

/** One FC op of the written blob: the encoding used and its weight-stream bytes. */
const BlobLayerSchema = Type.Object({ name: Type.String(), encoding: Type.String(), br: Int, bc: Int, nnz: Int, weightBytes: Int });

export const CompressManifestSchema = Type.Object({
  format: Type.Literal(COMPRESS_FORMAT),
  version: Type.Literal(COMPRESS_VERSION),
  /** The profile's name (src/run/resolveModel.ts reports it). */
  profile: Type.String(),
  structure: StructureSchema,
  profileSpec: ProfileSpecSchema,
  arch: Type.String(),
  hop: Int,
  seed: Int,
  baseline: Type.Object({ path: Type.String(), sha256: Type.String(), digest: Type.String() }),
  corpus: Type.Object({ dir: Type.String(), manifestSha256: Type.String() }),
  sparsity: SparsityReportSchema,
  units: Type.Union([UnitLayersSchema, Type.Null()]),
  params: ParamCountsSchema,
  blob: Type.Object({
    ...EncodingFiguresSchema.properties,
    file: Type.String(),
    sha256: Type.String(),
    encoding: Type.String(),
    /** The output layer's activation width (profile output_bits); absent in manifests from before it existed. */
    outputBits: Type.Optional(Type.Union([Type.Literal(8), Type.Literal(16)])),
    arenaBytes: Int,
    layers: Type.Array(BlobLayerSchema),
  }),
  /** Each encoding alternative for this model's graph. */
  encodings: Type.Record(Type.String(), EncodingFiguresSchema),
  /** The baseline itself exported dense (post-training ranges, no fine-tuning): the uncompressed int8 reference. */
  baselineDense: EncodingFiguresSchema,
  macsPerFrame: Type.Object({ denseBaseline: Int, dense: Int, effective: Int, nonzero: Int }),
  memory: Type.Optional(MemoryFiguresSchema),
  /** Vela's own estimate of the exported .tflite when vela was on PATH (src/compress/vela.ts), else null. */
  vela: Type.Optional(Type.Union([VelaEstimateSchema, Type.Null()])),
  cost: Type.Object({
    label: Type.Literal('modelled'),
    params: Type.String(),
    clockHz: Num,
    modelledCyclesPerFrame: Num,
    modelledSecondsPerFrame: Num,
  }),
  validation: Type.Object({ items: Int, ids: Type.String(), int8: ValScoresSchema, float: ValScoresSchema, noisy: ValScoresSchema, engine: Type.String() }),
  training: Type.Union([
    Type.Object({
      epochs: Int,
      steps: Int,
      lr: Num,
      qat: Type.Boolean(),
      loss: Type.String(),
      /** Weight of the distillation loss against the dense baseline; absent when not distilled. */
      distill: Type.Optional(Num),
      /** Present when trained from the seeded random init (profile `fine_tune.init: "scratch"`) instead of
       *  fine-tuned from the baseline: the init's seed and the lr floor of the baseline's schedule. */
      init: Type.Optional(Type.Object({ from: Type.Literal('scratch'), seed: Int, lrFloor: Num })),
      featureNorm: Type.Boolean(),
      batchSize: Int,
      frames: Int,
      history: Type.Array(Type.Unknown()),
    }),
    Type.Null(),
  ]),
  /** The fine-tuning budget (src/compress/budget.ts); absent in manifests written before it existed, whose
   *  budget is their profileSpec.fineTune and training record (`budgetOf`). */
  budget: Type.Optional(BudgetRecordSchema),
  hil: Type.Record(Type.String(), Type.String()),
  command: Type.Union([Type.String(), Type.Null()]),
  wallSeconds: Num,
});
export type CompressManifest = Static<typeof CompressManifestSchema>;

const REBUILD = 'rebuild the model with `hil compress` (npm run bench:compress rebuilds the committed ones)';

/** Checks a parsed manifest (`path` names it in messages): its format version first, then every field. */
export function validateCompressManifest(json: unknown, path: string): CompressManifest {
  checkFormatVersion(json, path, COMPRESS_FORMAT, COMPRESS_VERSION, REBUILD);
  return validate(CompressManifestSchema, json, path, REBUILD);
}

export function readCompressManifest(path: string): CompressManifest {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HilError(`${path} is unreadable: ${(e as Error).message}`, REBUILD);
  }
  return validateCompressManifest(json, path);
}
