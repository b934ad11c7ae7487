/**
 * The results of a `hil run`: one row per clip, written as each clip finishes so that nothing already
 * measured is lost when a run dies, and read back so that a rerun resumes where it stopped.
 *
 * results.csv is appended row by row; results.json (the run's provenance, every row and a summary) is
 * rewritten atomically after every clip. results.json is the source of truth for resuming.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { HilError } from '../util/errors.js';
import { appendLine, writeFileAtomic, writeJsonAtomic } from '../util/fsx.js';
import { mean } from './stats.js';

/** What a row was measured with. Two runs with different provenance are never mixed in one results file. */
export interface Provenance {
  board: string;
  boardBackend: string;
  firmwareBuildId: string;
  firmwareSha256: string;
  modelSha256: string;
  modelName: string;
  profile: string;
  seed: number | null;
  audioDir: string;
  cleanDir: string | null;
  versions: Record<string, string>;
}

export type { LatencyKind } from '../spec/protocol.js';
import type { LatencyKind } from '../spec/protocol.js';

export interface ClipResult {
  clip: string;
  samples: number;
  frames: number;
  /** Device output equals the host engine's, sample for sample. */
  bitExact: boolean;
  sdrNoisy: number | null;
  sisdrNoisy: number | null;
  sdrOut: number | null;
  sisdrOut: number | null;
  sdrImprovement: number | null;
  sisdrImprovement: number | null;
  /** The board's own per-frame latency figure, in `latencyUnit`, of kind `latencyKind`. */
  latencyKind: LatencyKind;
  latencyUnit: 'cycles' | 'instructions';
  latencyMean: number;
  latencyP50: number;
  latencyP99: number;
  /** The same at the board's clock (for instructions: at the nominal core clock), microseconds. */
  latencyUsP50: number;
  latencyUsP99: number;
  /** The network alone (the graph, without the STFT front end and overlap-add): what compression changes.
   *  Same kind and unit as the whole-frame figures; on a modelled board, the cost model without
   *  frontend_cycles. */
  networkLatencyMean: number;
  networkLatencyP50: number;
  networkLatencyP99: number;
  networkLatencyUsP50: number;
  networkLatencyUsP99: number;
  /** Accelerator cost-model figures (always `modelled`), cycles and microseconds at the accelerator clock. */
  modelledCyclesP50: number;
  modelledCyclesP99: number;
  modelledUsP50: number;
  /** Real-time factor: p99 latency over the frame period (hop / sample rate); below 1 keeps up. */
  rtfP99: number;
  macsPerFrame: number;
  weightBytesPerFrame: number;
  sramBytes: number;
  sramStaticBytes: number;
  arenaBytes: number;
  stackHighWaterBytes: number;
  flashBytes: number;
  flashImageBytes: number;
  flashModelBytes: number;
  /** Where the memory figures come from: the board file's label, e.g. "device" or "sim-native". */
  memorySource: string;
  finishedAt: string;
}

export interface RunSummary {
  clips: number;
  bitExactClips: number;
  meanSdrImprovement: number | null;
  meanSisdrImprovement: number | null;
  meanSdrOut: number | null;
  meanSisdrOut: number | null;
  latencyP99Max: number;
  modelledUsP50Mean: number;
  sramBytes: number;
  flashBytes: number;
}

export interface ResultsFile {
  format: 'hil-results';
  version: 1;
  provenance: Provenance;
  rows: ClipResult[];
  summary: RunSummary;
}

/** Column order of results.csv: provenance first so each row stands on its own. */
const CSV_COLUMNS: [string, (r: ClipResult, p: Provenance) => unknown][] = [
  ['clip', (r) => r.clip],
  ['board', (_r, p) => p.board],
  ['backend', (_r, p) => p.boardBackend],
  ['model', (_r, p) => p.modelName],
  ['profile', (_r, p) => p.profile],
  ['seed', (_r, p) => p.seed ?? ''],
  ['samples', (r) => r.samples],
  ['frames', (r) => r.frames],
  ['bit_exact', (r) => String(r.bitExact)],
  ['sdr_noisy_db', (r) => r.sdrNoisy],
  ['sisdr_noisy_db', (r) => r.sisdrNoisy],
  ['sdr_out_db', (r) => r.sdrOut],
  ['sisdr_out_db', (r) => r.sisdrOut],
  ['sdr_improvement_db', (r) => r.sdrImprovement],
  ['sisdr_improvement_db', (r) => r.sisdrImprovement],
  ['latency_kind', (r) => r.latencyKind],
  ['latency_unit', (r) => r.latencyUnit],
  ['latency_mean', (r) => r.latencyMean],
  ['latency_p50', (r) => r.latencyP50],
  ['latency_p99', (r) => r.latencyP99],
  ['latency_us_p50', (r) => r.latencyUsP50],
  ['latency_us_p99', (r) => r.latencyUsP99],
  ['network_latency_mean', (r) => r.networkLatencyMean],
  ['network_latency_p50', (r) => r.networkLatencyP50],
  ['network_latency_p99', (r) => r.networkLatencyP99],
  ['network_latency_us_p50', (r) => r.networkLatencyUsP50],
  ['network_latency_us_p99', (r) => r.networkLatencyUsP99],
  ['modelled_cycles_p50', (r) => r.modelledCyclesP50],
  ['modelled_cycles_p99', (r) => r.modelledCyclesP99],
  ['modelled_us_p50', (r) => r.modelledUsP50],
  ['rtf_p99', (r) => r.rtfP99],
  ['macs_per_frame', (r) => r.macsPerFrame],
  ['weight_bytes_per_frame', (r) => r.weightBytesPerFrame],
  ['sram_bytes', (r) => r.sramBytes],
  ['sram_static_bytes', (r) => r.sramStaticBytes],
  ['arena_bytes', (r) => r.arenaBytes],
  ['stack_high_water_bytes', (r) => r.stackHighWaterBytes],
  ['flash_bytes', (r) => r.flashBytes],
  ['flash_image_bytes', (r) => r.flashImageBytes],
  ['flash_model_bytes', (r) => r.flashModelBytes],
  ['memory_source', (r) => r.memorySource],
  ['model_sha256', (_r, p) => p.modelSha256],
  ['firmware_build_id', (_r, p) => p.firmwareBuildId],
  ['firmware_sha256', (_r, p) => p.firmwareSha256],
  ['versions', (_r, p) => Object.entries(p.versions).map(([k, v]) => `${k}=${v}`).join(' ')],
  ['finished_at', (r) => r.finishedAt],
];

/** The fields that must match for a rerun to resume into existing results. */
function provenanceKey(p: Provenance): string {
  const { board, boardBackend, firmwareSha256, modelSha256, profile, seed, audioDir, cleanDir } = p;
  return JSON.stringify({ board, boardBackend, firmwareSha256, modelSha256, profile, seed, audioDir, cleanDir });
}

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

export class ResultsStore {
  readonly jsonPath: string;
  readonly csvPath: string;
  private rows: ClipResult[] = [];

  private constructor(
    readonly outDir: string,
    readonly provenance: Provenance,
  ) {
    this.jsonPath = join(outDir, 'results.json');
    this.csvPath = join(outDir, 'results.csv');
  }

  /**
   * Opens the results of `outDir`, resuming earlier rows when they were measured with the same
   * provenance. A results file from a different model, board or firmware is never mixed in: the user is
   * told to pick another --out or to pass --overwrite.
   */
  static open(outDir: string, provenance: Provenance, overwrite: boolean): ResultsStore {
    const store = new ResultsStore(outDir, provenance);
    if (existsSync(store.jsonPath) && !overwrite) {
      let existing: ResultsFile;
      try {
        existing = JSON.parse(readFileSync(store.jsonPath, 'utf8'));
      } catch (e) {
        throw new HilError(`${store.jsonPath} is unreadable (${(e as Error).message})`, 'remove it or pass --overwrite');
      }
      if (existing.format !== 'hil-results' || provenanceKey(existing.provenance) !== provenanceKey(provenance)) {
        throw new HilError(
          `${outDir} holds results of a different run (model, board, firmware or audio differ)`,
          'use another --out, or --overwrite to replace them',
        );
      }
      store.rows = existing.rows;
    }
    if (overwrite || !existsSync(store.jsonPath)) {
      store.rows = [];
      store.writeJson();
      writeCsvHeader(store.csvPath);
    }
    return store;
  }

  has(clip: string): boolean {
    return this.rows.some((r) => r.clip === clip);
  }

  all(): ClipResult[] {
    return [...this.rows];
  }

  add(row: ClipResult): void {
    this.rows.push(row);
    appendLine(this.csvPath, stringify([CSV_COLUMNS.map(([, get]) => get(row, this.provenance))]).trimEnd());
    this.writeJson();
  }

  file(): ResultsFile {
    return { format: 'hil-results', version: 1, provenance: this.provenance, rows: this.rows, summary: summarizeRows(this.rows) };
  }

  private writeJson(): void {
    writeJsonAtomic(this.jsonPath, this.file());
  }
}

function writeCsvHeader(path: string): void {
  // A fresh file gets its header atomically, so a rerun never appends to a file without one.
  writeFileAtomic(path, stringify([CSV_COLUMNS.map(([name]) => name)]));
}
