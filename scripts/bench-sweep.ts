/**
 * The wall time of a full sweep (issue 12's target: ≤ 10 min on sim on a 2-core machine): the study of
 * sweeps/se-small-sim.json — dense-int8, weight/block/unit pruning at four sparsities each and the offline
 * baseline, over 20 test clips of the built-in corpus — using the committed se-small compressed models
 * (a model that would need compressing is an error here: this times running, not compressing), once per
 * board, each into a fresh directory.
 *
 * Per board it prints the wall time and how the jobs' time splits (BenchmarkEvent 'phase'):
 *   boot  flashing and starting the board until its serial line is open (QEMU start-up on corstone-300);
 *   link  request/reply exchanges over the serial line: HELLO, CONFIG, the model upload, and per clip
 *         STREAM_RESET, every RUN_FRAME and GET_STATS — the device's compute for each frame included, as the
 *         host cannot see it apart from the line;
 *   host  the host engine's reference run of each clip, scoring and writing its row.
 * Shares are of the jobs' summed time (with several instances the wall time is less than that sum).
 *
 * Usage: npm run bench:sweep [-- --boards sim,corstone-300 --limit N --instances sim=2 --file sweeps/x.json --keep runs/bench]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readSweepFile } from '../src/sweep/file.js';
import { parseInstances, planSweep } from '../src/sweep/plan.js';
import { readSweep, runSweep, type SweepEvent } from '../src/sweep/sweep.js';
import { repoPath } from '../src/util/paths.js';

const { values } = parseArgs({
  options: {
    file: { type: 'string', default: repoPath('sweeps/se-small-sim.json') },
    boards: { type: 'string', default: 'sim,corstone-300' },
    limit: { type: 'string' },
    instances: { type: 'string', default: 'sim=2' },
    keep: { type: 'string' },
  },
});
const base = readSweepFile(values.file!);
const boards = values.boards!.split(',').map((b) => b.trim()).filter(Boolean);
const instances = parseInstances(values.instances);
const limit = values.limit === undefined ? base.limit : Number(values.limit);
const err = (s: string) => process.stderr.write(s + '\n');
const mmss = (s: number) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

const results: string[] = [];
const measured = new Map<string, { linkPerFrame: number; frames: number; jobSeconds: number }>();
for (const board of boards) {
  const plan = planSweep({ ...base, boards: [board], limit, instances: instances[board] ? { [board]: instances[board] } : {} });
  const notCommitted = plan.jobs.filter((j) => j.source !== 'committed');
  if (notCommitted.length > 0) throw new Error(`not committed: ${notCommitted.map((j) => j.profile).join(', ')}; bench:sweep times the committed models`);
  const out = values.keep ? join(values.keep, board) : mkdtempSync(join(tmpdir(), `hil-bench-sweep-${board}-`));
  const phases = { boot: 0, link: 0, host: 0 };
  let jobSeconds = 0;
  let done = 0;
  err(`bench:sweep: ${board}: ${plan.jobs.length} jobs × ${limit ?? 'all'} clips, ${plan.instances[board]} instance(s), into ${out}`);
  const t0 = Date.now();
  const summary = await runSweep(plan, out, (e: SweepEvent) => {
    if (e.type === 'job-done') {
      done++;
      jobSeconds += e.seconds;
      for (const k of ['boot', 'link', 'host'] as const) phases[k] += e.phases[k];
      err(`bench:sweep: ${board} [${done}/${plan.jobs.length}] ${e.job.profile}: ${e.clips} clips, ${e.seconds.toFixed(1)} s (boot ${e.phases.boot.toFixed(1)}, link ${e.phases.link.toFixed(1)}, host ${e.phases.host.toFixed(1)})${e.bitExact ? '' : ' NOT bit-exact'}`);
    }
    if (e.type === 'job-failed') err(`bench:sweep: ${board} ${e.job.profile} FAILED: ${e.error.message}`);
  });
  const wall = (Date.now() - t0) / 1000;
  const { rows } = readSweep(out);
  const frames = rows.reduce((s, r) => s + r.frames, 0);
  const bitExact = rows.every((r) => r.bitExact);
  const share = (k: keyof typeof phases) => `${((100 * phases[k]) / jobSeconds).toFixed(1)} %`;
  results.push(
    `${board}: ${summary.done}/${summary.jobs} jobs (${summary.failed.length} failed), ${rows.length} rows, ${frames} frames, ${bitExact ? 'all bit-exact' : 'NOT all bit-exact'}: wall ${mmss(wall)} (${wall.toFixed(1)} s) with ${plan.instances[board]} instance(s)\n` +
      `  job time ${jobSeconds.toFixed(1)} s: boot ${phases.boot.toFixed(1)} s (${share('boot')}), serial link ${phases.link.toFixed(1)} s (${share('link')}; device compute included), host ${phases.host.toFixed(1)} s (${share('host')}); link ${((1000 * phases.link) / Math.max(1, frames)).toFixed(2)} ms per frame`,
  );
  measured.set(board, { linkPerFrame: phases.link / Math.max(1, frames), frames, jobSeconds });
  if (!values.keep) rmSync(out, { recursive: true, force: true });
}
// The sim board speaks the same protocol over the same kind of line (a pty) and computes a frame natively in
// well under a millisecond: its link time per frame is close to the line's own cost, which gives an
// estimate of the share the line alone takes on an emulated board (the rest of its link time is compute).
const sim = measured.get('sim');
for (const [board, m] of measured) {
  if (board === 'sim' || !sim) continue;
  const line = Math.min(sim.linkPerFrame, m.linkPerFrame) * m.frames;
  results.push(
    `  ${board}: the line alone (sim's ${(1000 * sim.linkPerFrame).toFixed(2)} ms per frame × ${m.frames} frames) ≈ ${line.toFixed(1)} s, ${((100 * line) / m.jobSeconds).toFixed(1)} % of its job time; the rest of its link time is the emulated device computing`,
  );
}
console.log(`bench:sweep: ${values.file} (${limit ?? 'all'} clips)\n${results.join('\n')}`);
