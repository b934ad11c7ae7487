/**
 * A sweep: every job of a plan (src/sweep/plan.ts) run through `runBenchmark`, each into its own run
 * directory `<out>/runs/<board>/<profile>/` (so each job resumes on its own, exactly as `hil run` does),
 * and each job's clip rows, with what the sweep knows of the model (profile, structure, sparsity, flash
 * and nonzero weight bytes), appended to ONE sweep store `<out>/rows.jsonl` (src/run/store.ts), keyed by
 * (model hash, profile, board, backend, clip). A rerun skips stored keys and never appends one twice;
 * rows a killed sweep had stored in a job's run but not yet in the sweep store are copied over when that
 * job is resumed. `<out>` is locked for the whole sweep.
 *
 * Jobs run in a pool: each board instance takes one job at a time; `instances` allows more than one
 * instance of a board at once (sim=2: two simulator processes). A job executor may run them elsewhere
 * instead (src/farm: workers on other hosts through a job queue); the store stays here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { buildFirmwareImage } from '../board/firmware.js';
import { readBoardFile, resolveBoardPath } from '../board/registry.js';
import { ClipResultSchema, type ResultsFile } from '../report/resultsSchema.js';
import { runBenchmark, type BenchmarkEvent } from '../run/benchmark.js';
import { KeyedStore, type StoreSpec } from '../run/store.js';
import { HilError } from '../util/errors.js';
import { checkFormatVersion, validate } from '../util/schema.js';
import type { SweepJob, SweepPlan } from './plan.js';

export const SWEEP_ROWS_FILE = 'rows.jsonl';
export const SWEEP_FORMAT = 'hil-sweep-rows';
/** 2: rows name their model (baseline) and the meta lists every baseline of the sweep (sweeps of several
 *  models); runs are under runs/<board>/<model>/<profile>/. A version-1 store is refused with a clear error. */
export const SWEEP_VERSION = 2;

export const SweepRowSchema = Type.Object({
  ...ClipResultSchema.properties,
  /** The baseline's name (its directory's), e.g. se-small. */
  model: Type.String(),
  profile: Type.String(),
  structure: Type.String(),
  sparsity: Type.Number(),
  board: Type.String(),
  backend: Type.String(),
  modelSha256: Type.String(),
  /** The compressed blob's flash bytes, from its manifest. */
  modelFlashBytes: Type.Integer(),
  /** Nonzero int8 weight bytes of the blob, and every weight of the full architecture (dense, from the manifest). */
  nonzeroWeightBytes: Type.Integer(),
  denseWeightBytes: Type.Integer(),
  /** Modelled Ethos-U55 encoded weight bytes; absent from sweeps run before it. */
  u55EncodedWeightBytes: Type.Optional(Type.Integer()),
  firmwareSha256: Type.String(),
});
export type SweepRow = Static<typeof SweepRowSchema>;

export const SweepBaselineSchema = Type.Object({ name: Type.String(), dir: Type.String(), sha256: Type.String() });

export const SweepMetaSchema = Type.Object({
  /** The first baseline (single-model sweeps); `baselines` lists every one. */
  baselineDir: Type.String(),
  baselineSha256: Type.String(),
  baselines: Type.Array(SweepBaselineSchema),
  /** null: the built-in corpus. */
  audioDir: Type.Union([Type.String(), Type.Null()]),
  cleanDir: Type.Union([Type.String(), Type.Null()]),
});
export type SweepMeta = Static<typeof SweepMetaSchema>;

export function sweepKey(r: Pick<SweepRow, 'modelSha256' | 'profile' | 'board' | 'backend' | 'clip'>): string {
  return [r.modelSha256, r.profile, r.board, r.backend, r.clip].join('|');
}

const FIX = 'use another --out for a different sweep (a sweep stored by an older hil is rerun into a new --out)';

const baselineSet = (m: SweepMeta) => m.baselines.map((b) => b.sha256).sort().join(',');

const SPEC: StoreSpec<typeof SweepRowSchema, typeof SweepMetaSchema> = {
  file: SWEEP_ROWS_FILE,
  format: SWEEP_FORMAT,
  version: SWEEP_VERSION,
  rowSchema: SweepRowSchema,
  metaSchema: SweepMetaSchema,
  key: sweepKey,
  sameRun: (a, b) => baselineSet(a) === baselineSet(b) && a.audioDir === b.audioDir && a.cleanDir === b.cleanDir,
  differentRun: (dir) => new HilError(`${dir} holds a sweep of other baselines or another clip set`, FIX),
  fix: FIX,
  derive: () => ({}),
  lockedBy: 'hil sweep',
};

export type SweepEvent =
  | { type: 'start'; jobs: number; storedRows: number; out: string }
  | { type: 'job-start'; job: SweepJob; instance: number }
  /** Clips of the job done (those stored by an earlier run included) of `total`. */
  | { type: 'job-progress'; job: SweepJob; instance: number; done: number; total: number }
  /** `phases`: wall seconds of the job's boot, link and host stretches (BenchmarkEvent 'phase'). */
  | { type: 'job-done'; job: SweepJob; instance: number; clips: number; added: number; seconds: number; bitExact: boolean; phases: Record<'boot' | 'link' | 'host', number> }
  | { type: 'job-failed'; job: SweepJob; instance: number; error: Error }
  | { type: 'note'; job?: SweepJob; text: string };

export interface SweepSummary {
  jobs: number;
  done: number;
  failed: { job: SweepJob; error: Error }[];
  rows: number;
  added: number;
  rowsPath: string;
}

/** runs/<board>/<model>/<profile>/ (runs/<board>/<profile>/ for a job that names no model). */
export function jobDir(out: string, job: Pick<SweepJob, 'board' | 'profile'> & { model?: string }): string {
  return job.model === undefined ? join(out, 'runs', job.board, job.profile) : join(out, 'runs', job.board, job.model, job.profile);
}

function rowsOf(file: ResultsFile, job: SweepJob, modelName: string): SweepRow[] {
  const p = file.provenance;
  return file.rows.map((r) => ({
    ...r,
    model: job.model ?? modelName,
    profile: job.profile,
    structure: job.facts.structure,
    sparsity: job.facts.sparsity,
    board: p.board,
    backend: p.boardBackend,
    modelSha256: p.modelSha256,
    modelFlashBytes: job.facts.modelFlashBytes,
    nonzeroWeightBytes: job.facts.nonzeroWeightBytes,
    denseWeightBytes: job.facts.denseWeightBytes,
    u55EncodedWeightBytes: job.facts.u55EncodedWeightBytes,
    firmwareSha256: p.firmwareSha256,
  }));
}

/** What a job runner may ask of the sweep it runs in. */
export interface JobContext {
  plan: SweepPlan;
  out: string;
  /** The model name rows carry when the job names none (a single-baseline sweep). */
  modelName: string;
  note: (text: string) => void;
  /** The run's own events (phases, clips), for progress and the link's share of the time; local jobs only. */
  onBenchmarkEvent?: (e: BenchmarkEvent) => void;
  /** The rows the sweep store holds so far. */
  storedRows: () => SweepRow[];
}

/**
 * Runs a sweep's jobs: locally (the default, localExecutor) or elsewhere (src/farm). A job's rows come
 * back keyed as in the store; the store, resuming and events stay with runSweep.
 */
export interface JobExecutor {
  /** Before any job, e.g. each board's firmware built once (jobs running at once would run make together). */
  prepare(plan: SweepPlan, ctx: Omit<JobContext, 'plan' | 'modelName' | 'onBenchmarkEvent'>): Promise<void>;
  /** How many of a board's jobs run at once. */
  concurrency(plan: SweepPlan, board: string): number;
  run(job: SweepJob, ctx: JobContext): Promise<SweepRow[]>;
  close?(): Promise<void>;
}

/** What one job needs besides itself: the clip set and limit, and `--port` overrides of serial boards by board. */
export type JobInputs = Pick<SweepPlan, 'audio' | 'clean' | 'limit'> & { ports?: Record<string, string> };

/**
 * One job as a local sweep runs it: `runBenchmark` into `dir` (which resumes it), and the rows with what
 * the sweep knows of the model. A farm worker runs its jobs through this too.
 */
export async function runJob(
  job: SweepJob,
  inputs: JobInputs,
  dir: string,
  modelName: string,
  note: (text: string) => void,
  onBenchmarkEvent: (e: BenchmarkEvent) => void = () => {},
): Promise<{ file: ResultsFile; rows: SweepRow[] }> {
  const file = await runBenchmark({ board: job.board, model: job.modelDir, audio: inputs.audio ?? undefined, clean: inputs.clean ?? undefined, out: dir, limit: inputs.limit, port: inputs.ports?.[job.board] }, (e: BenchmarkEvent) => {
    if (e.type === 'note') note(e.text);
    onBenchmarkEvent(e);
  });
  return { file, rows: rowsOf(file, job, modelName) };
}

/**
 * The in-process pool: each board instance takes one job at a time, into <out>/runs/<board>/<profile>/.
 * `ports`: `--port` overrides of serial boards, by board as the plan names it.
 */
export function localExecutor(ports: Record<string, string> = {}): JobExecutor {
  return {
    async prepare(plan) {
      for (const b of plan.boards) await buildFirmwareImage(readBoardFile(resolveBoardPath(b)));
    },
    concurrency: (plan, board) => plan.instances[board] ?? 1,
    run: async (job, ctx) => (await runJob(job, { ...ctx.plan, ports }, jobDir(ctx.out, job), ctx.modelName, ctx.note, ctx.onBenchmarkEvent)).rows,
  };
}

/** Runs a planned sweep into `out`; a job that fails is reported and the others go on. */
export async function runSweep(plan: SweepPlan, out: string, onEvent: (e: SweepEvent) => void = () => {}, executor: JobExecutor = localExecutor()): Promise<SweepSummary> {
  const meta: SweepMeta = {
    baselineDir: plan.baselineDir,
    baselineSha256: plan.baselineSha256,
    baselines: plan.baselines ?? [{ name: basename(plan.baselineDir), dir: plan.baselineDir, sha256: plan.baselineSha256 }],
    audioDir: plan.audio,
    cleanDir: plan.clean,
  };
  const store = KeyedStore.open(out, SPEC, meta, { overwrite: false, note: (text) => onEvent({ type: 'note', text }) });
  const summary: SweepSummary = { jobs: plan.jobs.length, done: 0, failed: [], rows: 0, added: 0, rowsPath: store.path };
  try {
    onEvent({ type: 'start', jobs: plan.jobs.length, storedRows: store.all().length, out });
    const storedRows = () => store.all();
    await executor.prepare(plan, { out, note: (text) => onEvent({ type: 'note', text }), storedRows });
    const workers: Promise<void>[] = [];
    for (const board of plan.boards) {
      const queue = plan.jobs.filter((j) => j.board === board);
      for (let instance = 0; instance < executor.concurrency(plan, board); instance++) {
        workers.push(
          (async () => {
            for (let job = queue.shift(); job; job = queue.shift()) {
              onEvent({ type: 'job-start', job, instance });
              const t0 = Date.now();
              const phases = { boot: 0, link: 0, host: 0 };
              let clipsDone = 0;
              let clipsTotal = 0;
              try {
                const rows = await executor.run(job, {
                  plan,
                  out,
                  modelName: meta.baselines[0]!.name,
                  note: (text) => onEvent({ type: 'note', job, text }),
                  storedRows,
                  onBenchmarkEvent: (e) => {
                    if (e.type === 'phase') phases[e.phase] += e.seconds;
                    if (e.type === 'start') {
                      clipsDone = e.skipped;
                      clipsTotal = e.skipped + e.clips;
                      onEvent({ type: 'job-progress', job, instance, done: clipsDone, total: clipsTotal });
                    }
                    if (e.type === 'clip') onEvent({ type: 'job-progress', job, instance, done: ++clipsDone, total: clipsTotal });
                  },
                });
                let added = 0;
                for (const row of rows) {
                  if (store.has(sweepKey(row))) continue;
                  store.add(row);
                  added++;
                }
                summary.done++;
                summary.added += added;
                onEvent({ type: 'job-done', job, instance, clips: rows.length, added, seconds: (Date.now() - t0) / 1000, bitExact: rows.every((r) => r.bitExact), phases });
              } catch (e) {
                summary.failed.push({ job, error: e as Error });
                onEvent({ type: 'job-failed', job, instance, error: e as Error });
              }
            }
          })(),
        );
      }
    }
    await Promise.all(workers);
    summary.rows = store.all().length;
    return summary;
  } finally {
    try {
      await executor.close?.();
    } finally {
      store.close();
    }
  }
}

/**
 * The rows and meta of a finished (or interrupted) sweep, read without its lock: every complete line of
 * `<out>/rows.jsonl`, checked against the row schema; a torn last line is left out.
 */
export function readSweep(out: string): { meta: SweepMeta; rows: SweepRow[]; path: string } {
  const path = join(out, SWEEP_ROWS_FILE);
  if (!existsSync(path)) throw new HilError(`${out} holds no sweep (no ${SWEEP_ROWS_FILE})`, 'pass the --out of a `hil sweep`');
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop();
  const parse = (line: string, n: number): unknown => {
    try {
      return JSON.parse(line);
    } catch {
      throw new HilError(`${path}: line ${n} is not JSON`, FIX);
    }
  };
  const header = parse(lines[0] ?? '', 1);
  checkFormatVersion(header, path, SWEEP_FORMAT, SWEEP_VERSION, FIX);
  const { meta } = validate(Type.Object({ meta: SweepMetaSchema }), header, `${path}: line 1`, FIX);
  const lineSchema = Type.Object({ key: Type.String(), row: SweepRowSchema });
  const seen = new Set<string>();
  const rows: SweepRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const { key, row } = validate(lineSchema, parse(lines[i]!, i + 1), `${path}: line ${i + 1}`, FIX);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(row);
  }
  return { meta, rows, path };
}
