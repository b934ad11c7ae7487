/**
 * A short run of the firmware's libFuzzer targets (firmware/tests/fuzz/, `make -C firmware fuzz`): each
 * for FUZZ_SECONDS from its seed corpus, failing on any crash, leak or sanitizer report, and on a run too
 * short to mean anything. `npm run fuzz` runs them long. clang is a core dependency (scripts/deps.json):
 * without it this test fails, naming the packages, rather than skipping, so CI cannot go quietly unfuzzed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIRMWARE_DIR } from '../../src/board/firmware.js';

const run = promisify(execFile);
const FUZZ_SECONDS = 25;
const FUZZ_DIR = join(FIRMWARE_DIR, 'build', 'fuzz');
const PACKAGES = 'clang and libclang-rt-14-dev (bash scripts/setup.sh installs them; see scripts/deps.json)';
/**
 * Well under what a loaded two-core CI machine manages in FUZZ_SECONDS (a few hundred per second per
 * target), and far above what a harness that rejects or skips its inputs early would leave unnoticed.
 */
const MIN_EXECUTIONS = 1000;

function requireClang(): void {
  const r = spawnSync('clang', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) assert.fail(`clang is missing: the firmware fuzz targets need the Debian packages ${PACKAGES}`);
}

async function buildFuzzers(): Promise<void> {
  mkdirSync(join(FIRMWARE_DIR, 'build'), { recursive: true });
  try {
    // The same lock as src/board/firmware.ts: make rewrites build/<port>/config when it reads the Makefile.
    await run('flock', [join(FIRMWARE_DIR, 'build', '.make.lock'), 'make', '-s', '-C', FIRMWARE_DIR, 'fuzz'], { maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    assert.fail(`make -C firmware fuzz failed (the fuzzer runtime comes with ${PACKAGES}):\n${err.stderr ?? err.message}`);
  }
}

/** Runs one target from a fresh corpus plus its seeds; returns libFuzzer's output. */
function fuzz(target: string): string {
  const work = mkdtempSync(join(tmpdir(), `hil-fuzz-${target}-`));
  try {
    mkdirSync(join(work, 'corpus'));
    const r = spawnSync(
      join(FUZZ_DIR, `fuzz_${target}`),
      [
        `-max_total_time=${FUZZ_SECONDS}`,
        '-print_final_stats=1',
        `-dict=${join(FIRMWARE_DIR, 'tests', 'fuzz', `${target}.dict`)}`,
        `-artifact_prefix=${work}/`,
        join(work, 'corpus'),
        join(FUZZ_DIR, 'seeds', target),
      ],
      { encoding: 'utf8', timeout: (FUZZ_SECONDS + 60) * 1000, maxBuffer: 64 << 20 },
    );
    const out = `${r.stdout}${r.stderr}`;
    const reports = out.split('\n').filter((l) => /ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: |deadly signal/.test(l));
    const artifacts = readdirSync(work).filter((f) => f !== 'corpus');
    assert.deepEqual({ status: r.status, signal: r.signal, reports, artifacts }, { status: 0, signal: null, reports: [], artifacts: [] }, `fuzz_${target}:\n${out.slice(-4000)}`);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function stat(out: string, name: string): number {
  const m = new RegExp(`^stat::${name}:\\s*(\\d+)`, 'm').exec(out);
  assert.ok(m, `libFuzzer printed no stat::${name}`);
  return Number(m[1]);
}

test('the firmware fuzz targets build with clang and libFuzzer', { timeout: 300_000 }, async () => {
  requireClang();
  await buildFuzzers();
});

test(`fuzz_serve: ${FUZZ_SECONDS} s of hil_serve with an active model, no crash or report, frames run`, { timeout: 300_000 }, async (t) => {
  requireClang();
  await buildFuzzers();
  const out = fuzz('serve');
  const execs = stat(out, 'number_of_executed_units');
  const m = /^fuzz_serve: (\d+) inputs, (\d+) RUN_FRAME replies, (\d+) inputs ran at least one frame$/m.exec(out);
  assert.ok(m, 'the harness printed its counts');
  t.diagnostic(`fuzz_serve: ${execs} executions in ${FUZZ_SECONDS} s, ${m[2]} RUN_FRAME replies`);
  assert.ok(execs >= MIN_EXECUTIONS, `only ${execs} executions`);
  // RUN_FRAME on the active model is where the engine runs: a harness that stopped reaching it is broken.
  assert.ok(Number(m[3]) >= execs / 20, `only ${m[3]} of ${execs} inputs ran a frame`);
});

test(`fuzz_model_load: ${FUZZ_SECONDS} s of hil_model_load, frames run on what it accepts, no crash or report`, { timeout: 300_000 }, async (t) => {
  requireClang();
  await buildFuzzers();
  const out = fuzz('model_load');
  const execs = stat(out, 'number_of_executed_units');
  const m = /^fuzz_model_load: (\d+) inputs, (\d+) accepted and run$/m.exec(out);
  assert.ok(m, 'the harness printed its counts');
  t.diagnostic(`fuzz_model_load: ${execs} executions in ${FUZZ_SECONDS} s, ${m[2]} blobs accepted and run`);
  assert.ok(execs >= MIN_EXECUTIONS, `only ${execs} executions`);
  assert.ok(Number(m[2]) >= 20, `only ${m[2]} blobs were accepted: the run path went untested`);
});
