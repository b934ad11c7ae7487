/**
 * The board farm on one machine: a real redis-server (password required) on a free loopback port, two
 * `hil worker` processes each owning a sim board, and a `hil sweep --queue` of 4 committed se-small
 * profiles × 6 clips. One worker is SIGKILLed (with its process group: its sim too) in the middle of its
 * first job; the job's lock expires, the other worker's stalled-job check puts it back in the queue and
 * runs it. The sweep must end with every row exactly once and the same rows (keys and every measured
 * value) as the same sweep run locally; a rerun coordinator runs nothing again; a job whose model blob
 * does not match its hash fails at once, without retries; the password appears in no file and no log.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { planSweep } from '../../src/sweep/plan.js';
import { readSweep, runSweep, sweepKey, type SweepRow } from '../../src/sweep/sweep.js';
import { sha256 } from '../../src/util/fsx.js';
import { CLI, ROOT, startRedis, startWorker, waitFor, writeClips, type Redis as RedisServer, type WorkerProcess } from '../support/farmLab.js';

const PROFILES = ['dense-int8', 'weight-90', 'block-80', 'unit-50'];
const CLIPS = 6;
const PASSWORD = 'farm-e2e-s3cret';
/** Short locks, so that the killed worker's job is back in the queue within seconds. */
const LOCK_MS = '4000';

let dir: string;
let redis: RedisServer;
let url: string;
let clips: { audio: string; clean: string };
const workers: WorkerProcess[] = [];
const logs: string[] = [];

function sweepArgs(out: string): string[] {
  return ['sweep', '--model', join(ROOT, 'models/se-small'), '--profiles', PROFILES.join(','), '--boards', 'sim', '--audio', clips.audio, '--clean', clips.clean, '--out', out, '--queue', url];
}

function filesUnder(d: string): string[] {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** A row without what legitimately differs between two runs of it: when it finished and the link's retries. */
function measured(r: SweepRow): Omit<SweepRow, 'finishedAt' | 'link'> {
  const { finishedAt: _f, link: _l, ...rest } = r;
  return rest;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hil-farm-e2e-'));
  clips = writeClips(join(dir, 'clips'), CLIPS);
  redis = await startRedis(join(dir, 'redis'), PASSWORD);
  url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}/0`;
});

after(async () => {
  for (const w of workers) await w.kill();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a sweep through the farm survives a SIGKILLed worker and equals the local sweep, row for row', async () => {
  // The reference: the same sweep in-process, on the local pool.
  const plan = planSweep({ model: join(ROOT, 'models/se-small'), profiles: PROFILES.join(','), boards: ['sim'], audio: clips.audio, clean: clips.clean });
  const local = await runSweep(plan, join(dir, 'local'));
  assert.equal(local.failed.length, 0, local.failed.map((f) => f.error.message).join('; '));
  const expected = new Map(readSweep(join(dir, 'local')).rows.map((r) => [sweepKey(r), r]));
  assert.equal(expected.size, PROFILES.length * CLIPS);

  // Two workers; the password comes from the environment, not their command line.
  const env = { ...process.env, REDIS_PASSWORD: PASSWORD };
  const workerArgs = (n: number) => ['--queue', `redis://127.0.0.1:${redis.port}/0`, '--boards', 'sim', '--work', join(dir, `work${n}`), '--lock-duration', LOCK_MS];
  const [a, b] = await Promise.all([startWorker(workerArgs(1), env), startWorker(workerArgs(2), env)]);
  workers.push(a!, b!);

  const out = join(dir, 'farm');
  const t0 = Date.now();
  const coordinator = spawn(process.execPath, [...CLI, ...sweepArgs(out)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  coordinator.stdout.on('data', (d) => (stdout += d));
  coordinator.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => coordinator.once('exit', (code) => r(code)));

  // Kill worker A in the middle of its first job.
  await waitFor('worker A starts a job', a!.log, /started \(job j-[0-9a-f]+/, 120_000);
  const killedJob = /started \(job (j-[0-9a-f]+)/.exec(a!.log())![1]!;
  await a!.kill();
  assert.doesNotMatch(a!.log(), / done: /, 'A was killed before it finished a job');

  assert.equal(await exited, 0, stderr);
  const seconds = (Date.now() - t0) / 1000;
  logs.push(a!.log(), b!.log(), stdout, stderr);
  assert.match(stdout, new RegExp(`${PROFILES.length}/${PROFILES.length} jobs done, 0 failed; ${PROFILES.length * CLIPS} rows`));
  // B ran the job A died in, after its lock had expired.
  assert.match(b!.log(), new RegExp(`started \\(job ${killedJob}`));

  // Every row exactly once, and equal to the local sweep's.
  const keys = readFileSync(join(out, 'rows.jsonl'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { key: string }).key);
  assert.equal(keys.length, expected.size, 'rows stored');
  assert.equal(new Set(keys).size, keys.length, 'no key stored twice');
  const { rows } = readSweep(out);
  assert.deepEqual(new Set(rows.map(sweepKey)), new Set(expected.keys()));
  for (const r of rows) {
    assert.equal(r.bitExact, true);
    assert.deepEqual(measured(r), measured(expected.get(sweepKey(r))!), sweepKey(r));
  }

  // A rerun coordinator finds every row stored and runs nothing.
  const started = (w: WorkerProcess) => (w.log().match(/ started \(/g) ?? []).length;
  const before = started(b!);
  const rerun = spawnSync(process.execPath, [...CLI, ...sweepArgs(out)], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stdout, /4\/4 jobs done, 0 failed; 24 rows \(0 new\)/);
  assert.equal(started(b!), before, 'no job ran again');
  logs.push(rerun.stdout, rerun.stderr);
  process.stderr.write(`# farm sweep of ${PROFILES.length}×${CLIPS} with a worker killed: ${seconds.toFixed(1)} s\n`);
});

test('a job whose model blob does not match its announced hash fails at once, without retries', async () => {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('board-sim', { connection: client, prefix: 'hil' });
  try {
    const [done] = await queue.getJobs(['completed'], 0, 0);
    assert.ok(done, 'a finished job to copy');
    // A blob stored under the hash of other bytes, announced as the model.
    const announced = sha256('the model the coordinator meant');
    await client.set(`hil:blob:${announced}`, 'bytes that were swapped on the way');
    const data = { ...done.data, model: announced, facts: { ...done.data.facts, blobSha256: announced } };
    await queue.add('tampered', data, { jobId: 'j-tampered', attempts: 3, backoff: { type: 'fixed', delay: 100 } });
    let state = '';
    const deadline = Date.now() + 60_000;
    while ((state = await (await queue.getJob('j-tampered'))!.getState()) !== 'failed') {
      assert.ok(Date.now() < deadline, `still ${state}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const failed = (await queue.getJob('j-tampered'))!;
    assert.equal(failed.attemptsMade, 1, 'not retried');
    assert.match(failed.failedReason, /model\.hilm: blob [0-9a-f]{12}… hashes to [0-9a-f]{12}…, not the hash the job announced/);
  } finally {
    await queue.close();
    client.disconnect();
  }
});

test('hil farm status: the live worker, the board queue and the failure; within 100 columns; no password anywhere', async () => {
  // Worker A's heartbeat expires a few seconds after its death.
  let status: { workers: { id: string }[]; boards: { board: string; completed: number; failed: number }[]; failures: { reason: string }[] } = { workers: [], boards: [], failures: [] };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = spawnSync(process.execPath, [...CLI, 'farm', 'status', '--queue', 'env', '--json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, HIL_REDIS_URL: url } });
    assert.equal(r.status, 0, r.stderr);
    status = JSON.parse(r.stdout);
    logs.push(r.stdout, r.stderr);
    if (status.workers.length === 1 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(status.workers.length, 1, JSON.stringify(status.workers));
  const sim = status.boards.find((b) => b.board === 'sim');
  assert.ok(sim);
  assert.equal(sim.completed, PROFILES.length);
  assert.equal(sim.failed, 1);
  assert.match(status.failures[0]!.reason, /not the hash the job announced/);
  const text = spawnSync(process.execPath, [...CLI, 'farm', 'status', '--queue', url], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(text.status, 0, text.stderr);
  for (const line of text.stdout.trimEnd().split('\n')) assert.ok(line.length <= 100, line);
  assert.match(text.stdout, /redis:\/\/:\*\*\*@127\.0\.0\.1/);
  logs.push(text.stdout, text.stderr, ...workers.map((w) => w.log()));

  // The password is in no log line and no file a sweep or a worker wrote.
  for (const l of logs) assert.ok(!l.includes(PASSWORD), `a log holds the password: ${l}`);
  for (const f of [...filesUnder(join(dir, 'farm')), ...filesUnder(join(dir, 'work1')), ...filesUnder(join(dir, 'work2'))]) {
    assert.ok(!readFileSync(f).includes(PASSWORD), `${f} holds the password`);
  }
});
