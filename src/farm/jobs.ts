/**
 * What goes through the farm's queues: one BullMQ queue per board name (`board-<name>`, keys under the
 * `hil` prefix), whose workers are exactly the hosts that own such a board; a job per (profile, board) of
 * a sweep, carrying the model and clips by hash (src/farm/blobs.ts); and what a worker returns: the
 * job's sweep rows, keyed as in the local store, with the hash of each clip's enhanced audio.
 *
 * A job's id is a hash of everything that decides its rows (baseline, board, profile, model hash, clip
 * set, limit), so enqueueing a sweep again, from a rerun coordinator or another host, finds the job
 * already there (waiting, running or finished) instead of adding a second one.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SweepRowSchema } from '../sweep/sweep.js';
import { sha256 } from '../util/fsx.js';

/** Redis key prefix of hil's BullMQ queues. */
export const QUEUE_PREFIX = 'hil';
/** Worker heartbeats: `hil:farm:worker:<id>`, a JSON WorkerInfo that expires unless renewed. */
export const WORKER_KEY_PREFIX = 'hil:farm:worker:';
export const FARM_JOB_VERSION = 1;

export function queueName(board: string): string {
  return `board-${board}`;
}

export function boardOfQueue(name: string): string | null {
  return name.startsWith('board-') ? name.slice('board-'.length) : null;
}

export const ClipRefSchema = Type.Object({
  name: Type.String(),
  noisy: Type.String(),
  clean: Type.Union([Type.String(), Type.Null()]),
});
export type ClipRef = Static<typeof ClipRefSchema>;

export const FarmJobSchema = Type.Object({
  version: Type.Literal(FARM_JOB_VERSION),
  baselineSha256: Type.String(),
  board: Type.String(),
  profile: Type.String(),
  /** The model name the rows carry (the baseline's, in a sweep of several). */
  modelName: Type.String(),
  /** model.hilm and its manifest.json, by hash; `model` is also the model hash the rows record. */
  model: Type.String(),
  manifest: Type.String(),
  facts: Type.Object({
    profile: Type.String(),
    structure: Type.String(),
    sparsity: Type.Number(),
    modelFlashBytes: Type.Integer(),
    nonzeroWeightBytes: Type.Integer(),
    denseWeightBytes: Type.Integer(),
    u55EncodedWeightBytes: Type.Integer(),
    blobSha256: Type.String(),
  }),
  /** The clips to run (the sweep's --limit already applied), in order, and their set's hash. */
  clips: Type.Array(ClipRefSchema),
  clipSet: Type.String(),
  limit: Type.Union([Type.Integer(), Type.Null()]),
  /** Whether the enhanced audio comes back as blobs (otherwise only its hashes). */
  returnAudio: Type.Boolean(),
});
export type FarmJob = Static<typeof FarmJobSchema>;

export const FarmResultSchema = Type.Object({
  rows: Type.Array(SweepRowSchema),
  /** Clip name → SHA-256 of the enhanced WAV the board returned (a blob when returnAudio). */
  enhanced: Type.Record(Type.String(), Type.String()),
  /** The worker that ran it (host:pid). */
  worker: Type.String(),
  seconds: Type.Number(),
});
export type FarmResult = Static<typeof FarmResultSchema>;

/** The hash naming a clip set: the clips' names and contents in order. */
export function clipSetHash(clips: readonly ClipRef[]): string {
  return sha256(JSON.stringify(clips.map((c) => [c.name, c.noisy, c.clean])));
}

/** A job's BullMQ id: the same inputs always give the same id (BullMQ refuses ':' and plain integers). */
export function farmJobId(j: Pick<FarmJob, 'baselineSha256' | 'board' | 'profile' | 'model' | 'clipSet' | 'limit'>): string {
  return `j-${sha256(JSON.stringify([FARM_JOB_VERSION, j.baselineSha256, j.board, j.profile, j.model, j.clipSet, j.limit])).slice(0, 32)}`;
}

/** What a worker advertises in its heartbeat. */
export const WorkerInfoSchema = Type.Object({
  id: Type.String(),
  host: Type.String(),
  pid: Type.Integer(),
  startedAt: Type.String(),
  beatAt: Type.String(),
  boards: Type.Array(
    Type.Object({
      name: Type.String(),
      backend: Type.String(),
      firmwareBuildId: Type.String(),
      instances: Type.Integer(),
      running: Type.Integer(),
    }),
  ),
  done: Type.Integer(),
  failed: Type.Integer(),
});
export type WorkerInfo = Static<typeof WorkerInfoSchema>;
