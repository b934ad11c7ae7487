/**
 * What a `hil run` stores, as TypeBox schemas (the types follow from them): the provenance of a run, one
 * row per clip, and the summary over the rows. The store that writes and resumes them is src/run/results.ts;
 * the table printed from them is ./resultsTable.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { LatencyKindSchema, LatencyUnitSchema, type LatencyKind } from '../board/schema.js';
import { NullableNumber } from '../util/schema.js';
import { mean } from './stats.js';

export const RESULTS_FORMAT = 'hil-results';
/** The version results.json is written with; a store of another version is not resumed. */
export const RESULTS_VERSION = 1;

/** What a row was measured with. Two runs with different provenance are never mixed in one results file. */
export const ProvenanceSchema = Type.Object({
  board: Type.String(),
  boardBackend: Type.String(),
  firmwareBuildId: Type.String(),
  firmwareSha256: Type.String(),
  modelSha256: Type.String(),
  modelName: Type.String(),
  profile: Type.String(),
  seed: Type.Union([Type.Number(), Type.Null()]),
  audioDir: Type.String(),
  cleanDir: Type.Union([Type.String(), Type.Null()]),
  versions: Type.Record(Type.String(), Type.String()),
  /** How audio crossed the line (`hil run --link`): crc, preload or preload-batch; absent for stream, the default. */
  linkMode: Type.Optional(Type.Union([Type.Literal('crc'), Type.Literal('preload'), Type.Literal('preload-batch')])),
});
export type Provenance = Static<typeof ProvenanceSchema>;

export type { LatencyKind };

/** The clip file as it was, and what was done to it before the device saw it (16 kHz mono int16). */
export const ClipInputSchema = Type.Object({
  sampleRate: Type.Integer(),
  channels: Type.Integer(),
  /** wavefile's notation: '8', '16', '24', '32' (integer PCM), '32f', '64' (float). */
  encoding: Type.String(),
  converted: Type.Boolean(),
  /** How, e.g. "44100→16000 Hz (sox rate -v); 2→1 channels (mean); 32f→int16"; empty when not converted. */
  conversion: Type.String(),
  /** Samples beyond int16 full scale, saturated on the way to the device. */
  clippedSamples: Type.Integer({ minimum: 0 }),
});
export type ClipInput = Static<typeof ClipInputSchema>;

/** What the serial line cost during the clip (docs/protocol.md §4), counted by the host's link client. */
export const ClipLinkSchema = Type.Object({
  retransmissions: Type.Integer({ minimum: 0 }),
  /** Of those, sent because a timeout expired rather than on evidence of a loss. */
  timeouts: Type.Integer({ minimum: 0 }),
  /** Frames dropped for a bad CRC, COBS or length: by the host, plus those the device reported. */
  corruptFrames: Type.Integer({ minimum: 0 }),
  /** Sessions restarted with HELLO after a request gave up or the device reset. */
  resyncs: Type.Integer({ minimum: 0 }),
  /** Times the clip was run again from STREAM_RESET after a device reset or a noisy line failed it. */
  clipRetries: Type.Integer({ minimum: 0 }),
  /** How audio crossed the line: stream (samples both ways), crc (output CRC-32 back), preload (clips
   *  placed by the loader, output CRC-32 back) or preload-batch (preload, many frames per request); absent
   *  in rows stored before hil recorded it (stream). */
  mode: Type.Optional(Type.Union([Type.Literal('stream'), Type.Literal('crc'), Type.Literal('preload'), Type.Literal('preload-batch')])),
});
export type ClipLink = Static<typeof ClipLinkSchema>;

export const ClipResultSchema = Type.Object({
  clip: Type.String(),
  samples: Type.Integer(),
  frames: Type.Integer(),
  /** The noisy input's file and conversion; null in rows stored before hil recorded it. */
  input: Type.Union([ClipInputSchema, Type.Null()]),
  /** The link's cost for this clip; null in rows stored before hil recorded it. */
  link: Type.Union([ClipLinkSchema, Type.Null()]),
  /** Device output equals the host engine's, sample for sample. */
  bitExact: Type.Boolean(),
  sdrNoisy: NullableNumber,
  sisdrNoisy: NullableNumber,
  sdrOut: NullableNumber,
  sisdrOut: NullableNumber,
  sdrImprovement: NullableNumber,
  sisdrImprovement: NullableNumber,
  /** The board's own per-frame latency figure, in `latencyUnit`, of kind `latencyKind`. */
  latencyKind: LatencyKindSchema,
  latencyUnit: LatencyUnitSchema,
  latencyMean: Type.Number(),
  latencyP50: Type.Number(),
  latencyP99: Type.Number(),
  /** The same at the board's clock (for instructions: at the nominal core clock), microseconds. */
  latencyUsP50: Type.Number(),
  latencyUsP99: Type.Number(),
  /** The network alone (the graph, without the STFT front end and overlap-add): what compression changes.
   *  Same kind and unit as the whole-frame figures; on a modelled board, the cost model without
   *  frontend_cycles. */
  networkLatencyMean: Type.Number(),
  networkLatencyP50: Type.Number(),
  networkLatencyP99: Type.Number(),
  networkLatencyUsP50: Type.Number(),
  networkLatencyUsP99: Type.Number(),
  /** Accelerator cost-model figures (always `modelled`), cycles and microseconds at the accelerator clock. */
  modelledCyclesP50: Type.Number(),
  modelledCyclesP99: Type.Number(),
  modelledUsP50: Type.Number(),
  /** Real-time factor: p99 latency over the frame period (hop / sample rate); below 1 keeps up. */
  rtfP99: Type.Number(),
  macsPerFrame: Type.Number(),
  weightBytesPerFrame: Type.Number(),
  sramBytes: Type.Number(),
  sramStaticBytes: Type.Number(),
  arenaBytes: Type.Number(),
  stackHighWaterBytes: Type.Number(),
  flashBytes: Type.Number(),
  flashImageBytes: Type.Number(),
  flashModelBytes: Type.Number(),
  /** Where the memory figures come from: the board file's label, e.g. "device" or "sim-native". */
  memorySource: Type.String(),
  finishedAt: Type.String(),
});
export type ClipResult = Static<typeof ClipResultSchema>;

export const RunSummarySchema = Type.Object({
  clips: Type.Integer(),
  bitExactClips: Type.Integer(),
  meanSdrImprovement: NullableNumber,
  meanSisdrImprovement: NullableNumber,
  meanSdrOut: NullableNumber,
  meanSisdrOut: NullableNumber,
  latencyP99Max: Type.Number(),
  modelledUsP50Mean: Type.Number(),
  sramBytes: Type.Number(),
  flashBytes: Type.Number(),
});
export type RunSummary = Static<typeof RunSummarySchema>;

export const ResultsFileSchema = Type.Object({
  format: Type.Literal(RESULTS_FORMAT),
  version: Type.Literal(RESULTS_VERSION),
  provenance: ProvenanceSchema,
  rows: Type.Array(ClipResultSchema),
  summary: RunSummarySchema,
});
export type ResultsFile = Static<typeof ResultsFileSchema>;

function nonNull(values: (number | null)[]): number[] {
  return values.filter((v): v is number => v !== null && Number.isFinite(v));
}

export function summarizeRows(rows: ClipResult[]): RunSummary {
  const orNull = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    clips: rows.length,
    bitExactClips: rows.filter((r) => r.bitExact).length,
    meanSdrImprovement: orNull(mean(nonNull(rows.map((r) => r.sdrImprovement)))),
    meanSisdrImprovement: orNull(mean(nonNull(rows.map((r) => r.sisdrImprovement)))),
    meanSdrOut: orNull(mean(nonNull(rows.map((r) => r.sdrOut)))),
    meanSisdrOut: orNull(mean(nonNull(rows.map((r) => r.sisdrOut)))),
    latencyP99Max: Math.max(...rows.map((r) => r.latencyP99)),
    modelledUsP50Mean: mean(rows.map((r) => r.modelledUsP50)),
    sramBytes: Math.max(0, ...rows.map((r) => r.sramBytes)),
    flashBytes: Math.max(0, ...rows.map((r) => r.flashBytes)),
  };
}

