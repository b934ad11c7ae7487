/**
 * The coordinator side of the farm: a sweep's job executor (src/sweep/sweep.ts) that, instead of running
 * jobs in-process, uploads each job's model and clips as blobs, enqueues the job on its board's queue
 * under an id derived from its inputs, and waits for its rows. The sweep store, resuming and reporting are
 * the local sweep's, unchanged: rows come back keyed as there, and a key stored already is skipped.
 *
 * Rerunning a killed coordinator re-runs nothing finished: a job whose rows are all in the store is not
 * enqueued at all; one finished in the queue is collected from its stored return value; one still waiting
 * or running is waited for (enqueueing finds it by id); one that failed for good is retried once more.
 *
 * The coordinator is woken by BullMQ's queue events, and also polls each job every few seconds, so a
 * missed event or a Redis restart (a Redis without persistence forgets its jobs and blobs: the poll puts
 * them back) cannot leave it waiting for ever.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { readBoardFile, resolveBoardPath } from '../board/registry.js';
import { ensureCorpus } from '../data/corpus.js';
import type { JobContext, JobExecutor, SweepRow } from '../sweep/sweep.js';
import type { SweepJob, SweepPlan } from '../sweep/plan.js';
import { HilError } from '../util/errors.js';
import { sha256, writeFileAtomic } from '../util/fsx.js';
import { validate } from '../util/schema.js';
import { dirBlobs, getVerified, redisBlobs, type BlobStore } from './blobs.js';
import { connect, redact, type QueueUrl } from './connection.js';
import { clipSetHash, FARM_JOB_VERSION, FarmResultSchema, farmJobId, QUEUE_PREFIX, queueName, type ClipRef, type FarmJob, type FarmResult } from './jobs.js';
import { listWorkers } from './status.js';

export interface FarmOptions {
  queue: QueueUrl;
  /** A directory of blobs every host mounts, instead of Redis. */
  artifacts?: string;
  /** Bring each clip's enhanced audio back into <out>/audio/<board>/<profile>/. */
  returnAudio?: boolean;
  /** Tries per job before it fails (a worker's failure, not its death: a dead worker's job is not counted). */
  attempts?: number;
  /** How often every job's state is read besides the events. */
  pollMs?: number;
}

interface Pending {
  queue: Queue;
  data: FarmJob;
  id: string;
  resolve: (r: FarmResult) => void;
  reject: (e: Error) => void;
  /** The job is being enqueued: at first, or again after Redis lost it (a restart without persistence). */
  restoring: boolean;
}

function listWavs(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new HilError(`--audio ${dir} is not a directory`, 'pass a directory of .wav files');
  return readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.wav'))
    .sort();
}

export function farmExecutor(opts: FarmOptions): JobExecutor {
  const q = opts.queue;
  const attempts = opts.attempts ?? 3;
  const pollMs = opts.pollMs ?? 5000;
  let client: Redis | null = null;
  let blobs: BlobStore;
  const queues = new Map<string, Queue>();
  const events: QueueEvents[] = [];
  const pending = new Map<string, Pending>();
  /** The jobs' common part: the clip set, uploaded once. */
  let clips: ClipRef[] = [];
  let clipSet = '';
  const boardNames = new Map<string, string>();
  let timer: NodeJS.Timeout | null = null;
  let note: (text: string) => void = () => {};

  async function putModel(job: SweepJob): Promise<void> {
    await blobs.put(new Uint8Array(readFileSync(join(job.modelDir, 'model.hilm'))));
    await blobs.put(new Uint8Array(readFileSync(join(job.modelDir, 'manifest.json'))));
  }

  /** Uploads a job's model (again, after a Redis restart) and adds the job; an existing id is left alone. */
  async function enqueue(p: Pending, job: SweepJob): Promise<void> {
    await putModel(job);
    await p.queue.add(p.data.profile, p.data, {
      jobId: p.id,
      attempts,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  /** Reads the job's state and settles it when it has finished. */
  async function check(p: Pending, job: SweepJob): Promise<void> {
    const j = await p.queue.getJob(p.id);
    if (!j) {
      if (p.restoring) return;
      p.restoring = true;
      note(`job ${p.id} of ${p.data.board}/${p.data.profile} is gone from the queue (Redis restarted?): enqueueing it again`);
      try {
        await putClips();
        await enqueue(p, job);
      } finally {
        p.restoring = false;
      }
      return;
    }
    const state = await j.getState();
    if (state === 'completed') {
      pending.delete(p.id);
      try {
        p.resolve(validate(FarmResultSchema, j.returnvalue, `job ${p.id}'s result`, 'the worker runs another hil version'));
      } catch (e) {
        p.reject(e as Error);
      }
    } else if (state === 'failed') {
      pending.delete(p.id);
      p.reject(new HilError(`failed on the farm after ${j.attemptsMade} attempt${j.attemptsMade === 1 ? '' : 's'}: ${redact(j.failedReason ?? 'no reason given', q)}`, 'rerun the sweep to try it again'));
    }
  }

  const jobsById = new Map<string, SweepJob>();
  const wake = (id: string) => {
    const p = pending.get(id);
    const job = jobsById.get(id);
    if (p && job) check(p, job).catch(() => {});
  };

  let clipFiles: { ref: ClipRef; noisyPath: string; cleanPath: string | null }[] = [];
  async function putClips(): Promise<void> {
    for (const c of clipFiles) {
      await blobs.put(new Uint8Array(readFileSync(c.noisyPath)));
      if (c.cleanPath) await blobs.put(new Uint8Array(readFileSync(c.cleanPath)));
    }
  }

  function dataOf(plan: SweepPlan, job: SweepJob): FarmJob {
    const model = job.facts.blobSha256;
    return {
      version: FARM_JOB_VERSION,
      baselineSha256: plan.baselineSha256,
      board: boardNames.get(job.board) ?? job.board,
      profile: job.profile,
      modelName: job.model ?? plan.baselines?.[0]?.name ?? basename(plan.baselineDir),
      model,
      manifest: sha256(readFileSync(join(job.modelDir, 'manifest.json'))),
      facts: job.facts,
      clips,
      clipSet,
      limit: plan.limit ?? null,
      returnAudio: opts.returnAudio ?? false,
    };
  }

  return {
    async prepare(plan, ctx) {
      note = ctx.note;
      for (const b of plan.boards) boardNames.set(b, readBoardFile(resolveBoardPath(b)).name);
      // The clip set, as the local sweep's runBenchmark would pick it: the sorted .wav files, the first --limit.
      let audio = plan.audio;
      let clean = plan.clean;
      if (audio === null) {
        const corpus = await ensureCorpus({ size: 'small', seed: 1 }, () => {});
        audio = join(corpus.dir, 'test', 'noisy');
        clean = clean ?? join(corpus.dir, 'test', 'clean');
      }
      const names = listWavs(audio).slice(0, plan.limit);
      if (names.length === 0) throw new HilError(`--audio ${audio} has no .wav files`, 'pass a directory of .wav clips');
      client = await connect(q, { name: 'hil-sweep' });
      blobs = opts.artifacts ? dirBlobs(opts.artifacts) : redisBlobs(client);
      clipFiles = [];
      for (const name of names) {
        const noisyPath = join(audio, name);
        const cleanPath = clean === null ? null : join(clean, name);
        if (cleanPath && !existsSync(cleanPath)) throw new HilError(`no clean reference for ${name}: ${cleanPath} is missing`, 'give --clean a directory with the same file names');
        clipFiles.push({ ref: { name, noisy: sha256(readFileSync(noisyPath)), clean: cleanPath ? sha256(readFileSync(cleanPath)) : null }, noisyPath, cleanPath });
      }
      clips = clipFiles.map((c) => c.ref);
      clipSet = clipSetHash(clips);
      await putClips();
      for (const name of new Set(boardNames.values())) {
        const queue = new Queue(queueName(name), { connection: client, prefix: QUEUE_PREFIX });
        queue.on('error', () => {});
        queues.set(name, queue);
        const ev = new QueueEvents(queueName(name), { connection: client.duplicate({ maxRetriesPerRequest: null }), prefix: QUEUE_PREFIX });
        ev.on('error', () => {});
        ev.on('completed', ({ jobId }) => wake(jobId));
        ev.on('failed', ({ jobId }) => wake(jobId));
        ev.on('stalled', ({ jobId }) => {
          const p = pending.get(jobId);
          if (p) note(`${p.data.board}/${p.data.profile}: its worker stopped answering (killed or hung); the job is back in the queue`);
        });
        events.push(ev);
      }
      const workers = await listWorkers(client);
      for (const name of new Set(boardNames.values())) {
        if (!workers.some((w) => w.boards.some((b) => b.name === name))) ctx.note(`no worker on ${q.shown} owns board ${name} yet: its jobs wait in the queue until one starts`);
      }
      timer = setInterval(() => {
        for (const p of pending.values()) {
          const job = jobsById.get(p.id);
          if (job) check(p, job).catch(() => {});
        }
      }, pollMs);
    },

    // Every job is enqueued at once: the workers decide how many run.
    concurrency: (plan, board) => plan.jobs.filter((j) => j.board === board).length,

    async run(job: SweepJob, ctx: JobContext): Promise<SweepRow[]> {
      const data = dataOf(ctx.plan, job);
      const wanted = new Set(clips.map((c) => c.name));
      // Rows already stored for every clip: nothing to run.
      const stored = ctx.storedRows().filter((r) => r.profile === job.profile && r.board === data.board && r.modelSha256 === data.model && wanted.has(r.clip));
      if (new Set(stored.map((r) => r.clip)).size === wanted.size) return stored;

      const id = farmJobId(data);
      const queue = queues.get(data.board)!;
      jobsById.set(id, job);
      const result = await new Promise<FarmResult>((resolve, reject) => {
        // Marked as being enqueued, so that a poll meanwhile does not take the job for one Redis lost.
        const p: Pending = { queue, data, id, resolve, reject, restoring: true };
        pending.set(id, p);
        (async () => {
          const existing = await queue.getJob(id);
          if (existing && (await existing.getState()) === 'failed') {
            ctx.note(`${data.board}/${data.profile}: failed in an earlier sweep (${redact(existing.failedReason ?? '', q)}); trying again`);
            await putModel(job);
            await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          } else if (!existing) await enqueue(p, job);
          p.restoring = false;
          await check(p, job);
        })().catch((e) => {
          pending.delete(id);
          reject(new HilError(`cannot enqueue on ${q.shown}: ${redact((e as Error).message, q)}`, 'check that Redis is up'));
        });
      });
      for (const r of result.rows) {
        if (r.profile !== job.profile || r.board !== data.board || r.modelSha256 !== data.model || !wanted.has(r.clip)) {
          throw new HilError(`worker ${result.worker} returned a row of ${r.board}/${r.profile}/${r.clip} for job ${data.board}/${data.profile}`, 'the worker runs another hil version');
        }
      }
      ctx.note(`ran on ${result.worker} in ${result.seconds.toFixed(1)} s`);
      if (opts.returnAudio) {
        for (const [clip, sha] of Object.entries(result.enhanced)) {
          writeFileAtomic(join(ctx.out, 'audio', data.board, data.profile, clip), await getVerified(blobs, sha, `enhanced ${clip}`));
        }
      }
      return result.rows;
    },

    async close() {
      if (timer) clearInterval(timer);
      for (const p of pending.values()) p.reject(new HilError('the sweep stopped waiting'));
      pending.clear();
      await Promise.allSettled([...events.map((e) => e.close()), ...[...queues.values()].map((x) => x.close())]);
      client?.disconnect();
    },
  };
}
