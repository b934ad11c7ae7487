/**
 * A farm worker (`hil worker`): one BullMQ worker per board it owns, on that board's queue, taking as many
 * jobs at once as it has instances of the board. Each job runs through the same code path as a local
 * sweep's (runJob: runBenchmark into a run directory of the job's own, which resumes a retried job), on
 * the model and clips fetched by hash and checked; it returns the job's rows and the hash of each clip's
 * enhanced audio (the audio itself too, as blobs, when the sweep asked for it).
 *
 * BullMQ does the rest: a job's lock is renewed while the worker lives; a worker that is killed or whose
 * process hangs stops renewing it, and after `lockDuration` the stalled-job check of any live worker puts
 * the job back in the queue (after `maxStalledCount` such returns it fails). A job that throws is retried
 * with backoff; a blob whose bytes do not match its announced hash fails the job for good
 * (UnrecoverableError): retrying cannot fix it. The worker also writes a heartbeat (`hil farm status`)
 * that expires when it stops.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { buildFirmwareImage } from '../board/firmware.js';
import { loadBoard, readBoardFile, resolveBoardPath } from '../board/registry.js';
import { runJob, type SweepRow } from '../sweep/sweep.js';
import { HilError } from '../util/errors.js';
import { sha256, writeFileAtomic } from '../util/fsx.js';
import { validate } from '../util/schema.js';
import { BlobHashError, dirBlobs, getVerified, redisBlobs, type BlobStore } from './blobs.js';
import { connect, redact, type QueueUrl } from './connection.js';
import { FarmJobSchema, QUEUE_PREFIX, queueName, WORKER_KEY_PREFIX, type FarmJob, type FarmResult, type WorkerInfo } from './jobs.js';

export const DEFAULT_LOCK_DURATION_MS = 30_000;

export interface WorkerOptions {
  queue: QueueUrl;
  /** Board names or board files. */
  boards: string[];
  /** Instances by board name (default 1). */
  instances?: Record<string, number>;
  /** A directory of blobs shared with the coordinator, instead of Redis. */
  artifacts?: string;
  /** Where models, clips and run directories go (default <tmp>/hil-worker). */
  work?: string;
  /** How long a job's lock lasts without renewal: a dead worker's job returns to the queue after this. */
  lockDurationMs?: number;
  /**
   * At most `max` jobs started per `seconds` on each of this worker's board queues, across every worker
   * of the queue (BullMQ's rate limiter): for a shared resource such as an FVP licence server.
   */
  rate?: { max: number; seconds: number };
}

/** Parses `--rate <jobs>/<seconds>`, e.g. 4/60. */
export function parseRate(spec: string | undefined): WorkerOptions['rate'] {
  if (spec === undefined) return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(spec);
  if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) throw new HilError(`--rate: "${spec}" is not <jobs>/<seconds> with jobs ≥ 1`, 'e.g. --rate 4/60: at most 4 jobs started a minute');
  return { max: Number(m[1]), seconds: Number(m[2]) };
}

export type WorkerEvent =
  | { type: 'ready'; id: string; boards: WorkerInfo['boards'] }
  | { type: 'job-start'; board: string; profile: string; jobId: string; attempt: number }
  | { type: 'job-done'; board: string; profile: string; jobId: string; clips: number; seconds: number }
  | { type: 'job-failed'; board: string; profile: string; jobId: string; error: string; final: boolean }
  | { type: 'note'; text: string };

export interface FarmWorker {
  readonly id: string;
  /** Stops taking jobs; running ones finish first unless `force`. */
  close(force?: boolean): Promise<void>;
}

/** Writes `data` to `path` once (atomically); a file already there is trusted, having been checked when written. */
function materialize(path: string, data: () => Promise<Uint8Array>): Promise<void> | void {
  if (existsSync(path)) return;
  return data().then((d) => writeFileAtomic(path, d));
}

/** A clip name that is a plain file name: it becomes a path on the worker. */
function safeName(name: string): boolean {
  return name === basename(name) && name !== '.' && name !== '..' && /\.wav$/i.test(name) && !name.includes('\\');
}

export async function startWorker(opts: WorkerOptions, onEvent: (e: WorkerEvent) => void = () => {}): Promise<FarmWorker> {
  const q = opts.queue;
  const lockDuration = opts.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS;
  const work = opts.work ?? join(tmpdir(), 'hil-worker');
  const id = `${hostname()}:${process.pid}`;

  // Every board is checked and its firmware built before the worker takes a job.
  const boards: WorkerInfo['boards'] = [];
  for (const spec of opts.boards) {
    const file = readBoardFile(resolveBoardPath(spec));
    if (boards.some((b) => b.name === file.name)) continue;
    const image = await buildFirmwareImage(file);
    const board = await loadBoard(spec);
    const backend = board.backend ?? file.launch.kind;
    await board.close();
    boards.push({ name: file.name, backend, firmwareBuildId: image.build_id, instances: opts.instances?.[file.name] ?? 1, running: 0 });
  }
  for (const name of Object.keys(opts.instances ?? {})) {
    if (!boards.some((b) => b.name === name)) throw new HilError(`--instances names board "${name}", which is not in --boards (${boards.map((b) => b.name).join(', ')})`);
  }
  const specOf = new Map(opts.boards.map((s) => [readBoardFile(resolveBoardPath(s)).name, s]));

  const client: Redis = await connect(q, { blocking: true, name: `hil-worker:${id}` });
  const blobs: BlobStore = opts.artifacts ? dirBlobs(opts.artifacts) : redisBlobs(client);
  mkdirSync(work, { recursive: true });
  const startedAt = new Date().toISOString();
  let done = 0;
  let failed = 0;

  const info = (): WorkerInfo => ({ id, host: hostname(), pid: process.pid, startedAt, beatAt: new Date().toISOString(), boards, done, failed });
  // The heartbeat lives three beats: a worker that stops beating drops out of `hil farm status` soon after.
  const beatMs = Math.max(500, Math.min(5000, Math.floor(lockDuration / 2)));
  const beat = async () => {
    try {
      await client.set(WORKER_KEY_PREFIX + id, JSON.stringify(info()), 'PX', beatMs * 3);
    } catch {
      // Redis is away (restarting): the next beat tries again.
    }
  };

  async function processJob(boardName: string, job: Job): Promise<FarmResult> {
    const t0 = Date.now();
    let data: FarmJob;
    try {
      data = validate(FarmJobSchema, job.data, `job ${job.id}`, 'the coordinator runs another hil version');
    } catch (e) {
      throw new UnrecoverableError(redact((e as HilError).line(), q));
    }
    if (data.board !== boardName) throw new UnrecoverableError(`job ${job.id} is for board ${data.board}, not ${boardName}`);
    const bad = data.clips.find((c) => !safeName(c.name));
    if (bad) throw new UnrecoverableError(`job ${job.id}: clip name ${JSON.stringify(bad.name)} is not a plain .wav file name`);
    const slot = boards.find((b) => b.name === boardName)!;
    slot.running++;
    onEvent({ type: 'job-start', board: boardName, profile: data.profile, jobId: String(job.id), attempt: job.attemptsMade + 1 });
    try {
      // The model: checked against the hashes the job announced, then kept by hash for later jobs.
      const modelDir = join(work, 'models', data.model);
      await materialize(join(modelDir, 'manifest.json'), () => getVerified(blobs, data.manifest, `${data.profile} manifest.json`));
      await materialize(join(modelDir, 'model.hilm'), () => getVerified(blobs, data.model, `${data.profile} model.hilm`));
      if (sha256(readFileSync(join(modelDir, 'model.hilm'))) !== data.facts.blobSha256) throw new BlobHashError(`${data.profile} model.hilm`, data.facts.blobSha256, data.model);
      // The clips, in a directory named by the clip set.
      const clipDir = join(work, 'clips', data.clipSet);
      const hasClean = data.clips.every((c) => c.clean !== null);
      for (const c of data.clips) {
        await materialize(join(clipDir, 'noisy', c.name), () => getVerified(blobs, c.noisy, `clip ${c.name}`));
        if (hasClean) await materialize(join(clipDir, 'clean', c.name), () => getVerified(blobs, c.clean!, `clean clip ${c.name}`));
      }
      const runDir = join(work, 'runs', String(job.id));
      const { rows } = await runJob(
        { modelDir, model: data.modelName, profile: data.profile, board: specOf.get(boardName) ?? boardName, facts: data.facts },
        { audio: join(clipDir, 'noisy'), clean: hasClean ? join(clipDir, 'clean') : null, limit: undefined },
        runDir,
        data.modelName,
        (text) => onEvent({ type: 'note', text: `${boardName}/${data.profile}: ${text}` }),
      );
      const enhanced: Record<string, string> = {};
      for (const r of rows) {
        const wav = new Uint8Array(readFileSync(join(runDir, 'enhanced', r.clip)));
        enhanced[r.clip] = data.returnAudio ? await blobs.put(wav) : sha256(wav);
      }
      const seconds = (Date.now() - t0) / 1000;
      done++;
      onEvent({ type: 'job-done', board: boardName, profile: data.profile, jobId: String(job.id), clips: rows.length, seconds });
      return { rows: rows satisfies SweepRow[], enhanced, worker: id, seconds };
    } catch (e) {
      failed++;
      const unrecoverable = e instanceof BlobHashError || e instanceof UnrecoverableError;
      const text = redact(e instanceof HilError ? e.line() : ((e as Error).message ?? String(e)), q);
      const final = unrecoverable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      onEvent({ type: 'job-failed', board: boardName, profile: data.profile, jobId: String(job.id), error: text, final });
      throw unrecoverable ? new UnrecoverableError(text) : new Error(text);
    } finally {
      slot.running--;
    }
  }

  const workers = boards.map(
    (b) =>
      new Worker(queueName(b.name), (job: Job) => processJob(b.name, job), {
        connection: client,
        prefix: QUEUE_PREFIX,
        concurrency: b.instances,
        lockDuration,
        stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
        maxStalledCount: 3,
        limiter: opts.rate ? { max: opts.rate.max, duration: Math.round(opts.rate.seconds * 1000) } : undefined,
        autorun: false,
        name: id,
      }),
  );
  for (const w of workers) {
    // A lost connection is reported by ioredis and retried; say so once per kind of error.
    const seen = new Set<string>();
    w.on('error', (e: Error) => {
      const text = redact(e.message, q);
      if (seen.has(text)) return;
      seen.add(text);
      onEvent({ type: 'note', text: `queue: ${text}` });
    });
    void w.run();
  }
  await beat();
  const timer = setInterval(() => void beat(), beatMs);
  onEvent({ type: 'ready', id, boards });

  let closed = false;
  return {
    id,
    async close(force = false) {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await Promise.all(workers.map((w) => w.close(force)));
      try {
        await client.del(WORKER_KEY_PREFIX + id);
      } catch {
        // it expires anyway
      }
      client.disconnect();
    },
  };
}
