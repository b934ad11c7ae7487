/**
 * The results of a `hil run`: one row per clip, stored as each clip finishes so that nothing already
 * measured is lost when a run dies, and read back so that a rerun resumes where it stopped.
 *
 * rows.jsonl is the source of truth (src/run/store.ts: append-only, keyed by clip name, the run's
 * provenance in its header); results.json (provenance, rows, summary) and results.csv are derived from it
 * and replaced atomically. enhanced/ holds one WAV per stored row and nothing else: a WAV written for a
 * clip whose row never made it (a crash in between) is removed on open, and --overwrite empties it.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { stringify } from 'csv-stringify/sync';
import {
  ClipResultSchema,
  ProvenanceSchema,
  RESULTS_FORMAT,
  RESULTS_VERSION,
  ResultsFileSchema,
  summarizeRows,
  type ClipResult,
  type Provenance,
  type ResultsFile,
} from '../report/resultsSchema.js';
import { HilError } from '../util/errors.js';
import { checkFormatVersion, validate } from '../util/schema.js';
import { KeyedStore, type StoreSpec } from './store.js';

export const ROWS_FILE = 'rows.jsonl';
export const ROWS_FORMAT = 'hil-results-rows';
/** The version rows.jsonl is written with; rows of another version are not resumed. */
export const ROWS_VERSION = 1;
export const ENHANCED_DIR = 'enhanced';

const FIX = 'rerun with --overwrite to measure again, or use another --out';

/** What the pre-rows.jsonl layout's results.json holds: the summary is recomputed from the rows, and an
 *  empty run's holds nulls where JSON turned -Infinity and NaN, so it is neither checked nor trusted. Its
 *  rows predate `input`. */
const LegacyResultsSchema = Type.Omit(ResultsFileSchema, ['summary']);

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
  ['source_rate', (r) => r.input?.sampleRate ?? ''],
  ['source_channels', (r) => r.input?.channels ?? ''],
  ['source_encoding', (r) => r.input?.encoding ?? ''],
  ['converted', (r) => (r.input ? String(r.input.converted) : '')],
  ['conversion', (r) => r.input?.conversion ?? ''],
  ['clipped_samples', (r) => r.input?.clippedSamples ?? ''],
  ['link_retransmissions', (r) => r.link?.retransmissions ?? ''],
  ['link_timeouts', (r) => r.link?.timeouts ?? ''],
  ['link_corrupt_frames', (r) => r.link?.corruptFrames ?? ''],
  ['link_resyncs', (r) => r.link?.resyncs ?? ''],
  ['clip_retries', (r) => r.link?.clipRetries ?? ''],
  ['link_mode', (r, p) => r.link?.mode ?? p.linkMode ?? 'stream'],
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
  // The link mode changes neither the latency figures nor the output, but a run says which mode measured it.
  const linkMode = p.linkMode ?? 'stream';
  return JSON.stringify({ board, boardBackend, firmwareSha256, modelSha256, profile, seed, audioDir, cleanDir, linkMode });
}

function csvText(rows: ClipResult[], p: Provenance): string {
  return stringify([CSV_COLUMNS.map(([name]) => name), ...rows.map((r) => CSV_COLUMNS.map(([, get]) => get(r, p)))]);
}

/** A run directory from before rows.jsonl: its results.json was the source of truth, and is resumed. */
function legacyRows(dir: string): { meta: Provenance; rows: ClipResult[] } | null {
  const path = join(dir, 'results.json');
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HilError(`${path} is unreadable (${(e as Error).message})`, 'remove it or pass --overwrite');
  }
  if ((json as { format?: unknown } | null)?.format !== RESULTS_FORMAT) throw differentRun(dir);
  checkFormatVersion(json, path, RESULTS_FORMAT, RESULTS_VERSION, FIX);
  const rows = (json as { rows?: unknown }).rows;
  if (Array.isArray(rows)) {
    for (const r of rows) {
      if (!r || typeof r !== 'object') continue;
      if (!('input' in r)) (r as { input: null }).input = null;
      if (!('link' in r)) (r as { link: null }).link = null;
    }
  }
  const existing = validate(LegacyResultsSchema, json, path, FIX);
  return { meta: existing.provenance, rows: existing.rows };
}

/** An output directory that holds another run's results (a caller that chose the directory may pick another). */
export class DifferentRunError extends HilError {}

function differentRun(dir: string): HilError {
  return new DifferentRunError(`${dir} holds results of a different run (model, board, firmware or audio differ)`, 'use another --out, or --overwrite to replace them');
}

const SPEC: StoreSpec<typeof ClipResultSchema, typeof ProvenanceSchema> = {
  file: ROWS_FILE,
  format: ROWS_FORMAT,
  version: ROWS_VERSION,
  rowSchema: ClipResultSchema,
  metaSchema: ProvenanceSchema,
  key: (row) => row.clip,
  sameRun: (a, b) => provenanceKey(a) === provenanceKey(b),
  differentRun,
  fix: FIX,
  derive: (rows, p) => ({
    'results.json': JSON.stringify(fileOf(rows, p), null, 2) + '\n',
    'results.csv': csvText(rows, p),
  }),
  legacy: legacyRows,
  lockedBy: 'hil run',
};

function fileOf(rows: ClipResult[], provenance: Provenance): ResultsFile {
  return { format: RESULTS_FORMAT, version: RESULTS_VERSION, provenance, rows, summary: summarizeRows(rows) };
}

export class ResultsStore {
  readonly jsonPath: string;
  readonly csvPath: string;
  readonly rowsPath: string;
  readonly enhancedDir: string;

  private constructor(
    readonly outDir: string,
    private readonly store: KeyedStore<typeof ClipResultSchema, typeof ProvenanceSchema>,
  ) {
    this.jsonPath = join(outDir, 'results.json');
    this.csvPath = join(outDir, 'results.csv');
    this.rowsPath = store.path;
    this.enhancedDir = join(outDir, ENHANCED_DIR);
  }

  /**
   * Locks `outDir` and opens its results, resuming earlier rows when they were measured with the same
   * provenance. Results from a different model, board or firmware are never mixed in: the user is told
   * to pick another --out or to pass --overwrite, which also empties enhanced/.
   */
  static open(outDir: string, provenance: Provenance, overwrite: boolean, note?: (text: string) => void): ResultsStore {
    const store = new ResultsStore(outDir, KeyedStore.open(outDir, SPEC, provenance, { overwrite, note }));
    try {
      store.pruneEnhanced();
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  get provenance(): Provenance {
    return this.store.meta;
  }

  has(clip: string): boolean {
    return this.store.has(clip);
  }

  all(): ClipResult[] {
    return this.store.all();
  }

  /** Stores a finished clip; its enhanced WAV must be written before, so a stored row always has one. */
  add(row: ClipResult): void {
    this.store.add(row);
  }

  file(): ResultsFile {
    return fileOf(this.store.all(), this.provenance);
  }

  /** Rewrites results.json and results.csv and unlocks the directory. */
  close(): void {
    this.store.close();
  }

  /** enhanced/ holds the WAVs of stored rows only (see the header comment). */
  private pruneEnhanced(): void {
    if (!existsSync(this.enhancedDir)) return;
    for (const name of readdirSync(this.enhancedDir)) {
      if (/\.wav$/i.test(name) && !this.has(name)) rmSync(join(this.enhancedDir, name), { force: true });
    }
  }
}
