/**
 * The results of a `hil run`: one row per clip, written as each clip finishes so that nothing already
 * measured is lost when a run dies, and read back so that a rerun resumes where it stopped.
 *
 * results.csv is appended row by row; results.json (the run's provenance, every row and a summary) is
 * rewritten atomically after every clip. results.json is the source of truth for resuming.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { stringify } from 'csv-stringify/sync';
import {
  RESULTS_FORMAT,
  RESULTS_VERSION,
  ResultsFileSchema,
  summarizeRows,
  type ClipResult,
  type Provenance,
  type ResultsFile,
} from '../report/resultsSchema.js';
import { HilError } from '../util/errors.js';
import { appendLine, writeFileAtomic, writeJsonAtomic } from '../util/fsx.js';
import { checkFormatVersion, validate } from '../util/schema.js';

/** What a resume reads: the summary is recomputed from the rows on every write, and an empty run's holds
 *  nulls where JSON turned -Infinity and NaN, so it is neither checked nor trusted. */
const StoredResultsSchema = Type.Omit(ResultsFileSchema, ['summary']);

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
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(store.jsonPath, 'utf8'));
      } catch (e) {
        throw new HilError(`${store.jsonPath} is unreadable (${(e as Error).message})`, 'remove it or pass --overwrite');
      }
      const differentRun = () =>
        new HilError(`${outDir} holds results of a different run (model, board, firmware or audio differ)`, 'use another --out, or --overwrite to replace them');
      if ((json as { format?: unknown } | null)?.format !== RESULTS_FORMAT) throw differentRun();
      const fix = 'rerun with --overwrite to measure again, or use another --out';
      checkFormatVersion(json, store.jsonPath, RESULTS_FORMAT, RESULTS_VERSION, fix);
      const existing = validate(StoredResultsSchema, json, store.jsonPath, fix);
      if (provenanceKey(existing.provenance) !== provenanceKey(provenance)) throw differentRun();
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
    return { format: RESULTS_FORMAT, version: RESULTS_VERSION, provenance: this.provenance, rows: this.rows, summary: summarizeRows(this.rows) };
  }

  private writeJson(): void {
    writeJsonAtomic(this.jsonPath, this.file());
  }
}

function writeCsvHeader(path: string): void {
  // A fresh file gets its header atomically, so a rerun never appends to a file without one.
  writeFileAtomic(path, stringify([CSV_COLUMNS.map(([name]) => name)]));
}
