/**
 * npm run bench:farm: the farm e2e test's sweep (4 committed se-small profiles × 6 clips on sim boards)
 * through a local redis-server, once with one `hil worker` and once with two, each worker owning one sim;
 * prints each wall time and the speedup of two workers over one. The sim is CPU-bound, so on two free
 * cores expect about 2×. Each run starts from an empty Redis and empty worker directories (a job's id
 * is the same in both runs: a warm queue would hand back the first run's results).
 *
 *   npm run bench:farm [-- --clips 6 --profiles dense-int8,weight-90,block-80,unit-50]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, ROOT, startRedis, startWorker, writeClips, type WorkerProcess } from '../test/support/farmLab.js';

const { values } = parseArgs({ options: { clips: { type: 'string', default: '6' }, profiles: { type: 'string', default: 'dense-int8,weight-90,block-80,unit-50' } } });
const dir = mkdtempSync(join(tmpdir(), 'hil-bench-farm-'));
const clips = writeClips(join(dir, 'clips'), Number(values.clips));
const jobs = values.profiles.split(',').length;

async function sweepWith(n: number): Promise<number> {
  const redis = await startRedis(join(dir, `redis${n}`));
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < n; i++) workers.push(await startWorker(['--queue', redis.url, '--boards', 'sim', '--work', join(dir, `w${n}-${i}`)]));
    const t0 = process.hrtime.bigint();
    const r = spawnSync(
      process.execPath,
      [...CLI, 'sweep', '--model', join(ROOT, 'models/se-small'), '--profiles', values.profiles, '--boards', 'sim', '--audio', clips.audio, '--clean', clips.clean, '--out', join(dir, `out${n}`), '--queue', redis.url],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`the sweep with ${n} workers failed:\n${r.stderr}`);
    return seconds;
  } finally {
    for (const w of workers) await w.stop();
    await redis.stop();
  }
}

try {
  process.stderr.write(`bench:farm: ${jobs} profiles × ${values.clips} clips on sim, ${cpus().length} cores\n`);
  const one = await sweepWith(1);
  process.stderr.write(`  1 worker:  ${one.toFixed(1)} s\n`);
  const two = await sweepWith(2);
  process.stderr.write(`  2 workers: ${two.toFixed(1)} s\n`);
  process.stdout.write(`farm speedup, 2 workers over 1: ${(one / two).toFixed(2)}× (${one.toFixed(1)} s → ${two.toFixed(1)} s; ${jobs} jobs × ${values.clips} clips on sim, ${cpus().length} cores)\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
