/**
 * `hil run --board sim` end to end: the real CLI, the real sim firmware on a pseudo-terminal, a small
 * model and a few generated clips. Checks what a user relies on: results files, bit-exactness, scores
 * that match an independent scoring of the saved WAVs, resuming, bad input, and a board killed mid-clip.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { readPcm16, fromInt16, writePcm16, toInt16 } from '../../src/data/wav.js';
import { scorePair } from '../../src/metrics/index.js';
import type { SimBoard } from '../../src/board/sim.js';
import { runBenchmark } from '../../src/run/benchmark.js';
import type { Session } from '../../src/link/session.js';
import { Msg } from '../../src/link/messages.js';
import type { ResultsFile } from '../../src/report/resultsSchema.js';
import { speechLike, whiteNoise, rng } from '../support/speechlike.js';
import type { HilError } from '../../src/util/errors.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SIM_FRONTEND_CYCLES: number = JSON.parse(readFileSync(join(ROOT, 'boards/sim.json'), 'utf8')).accelerator.frontend_cycles;
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

function hil(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
}

let dir: string;
let modelDir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-run-'));
  modelDir = join(dir, 'model');
  const init = hil(['model', 'init', '--arch', 'se-tiny', '--seed', '3', '--out', modelDir]);
  assert.equal(init.status, 0, init.stderr);
  // Three clips of different lengths (one not a multiple of the hop), speech-like plus white noise.
  for (const [k, seconds] of [0.8, 1.3, 1.05].entries()) {
    const clean = speechLike(seconds, `clip${k}`);
    const noise = whiteNoise(clean.length, rng(`noise${k}`));
    const noisy = clean.map((v, i) => 0.6 * v + 0.05 * noise[i]);
    writePcm16(join(dir, 'clean', `c${k}.wav`), toInt16(clean.map((v) => 0.6 * v)), 16000);
    writePcm16(join(dir, 'noisy', `c${k}.wav`), toInt16(noisy), 16000);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('hil run --board sim', () => {
  test('runs every clip, bit-exact, and writes results.json, results.csv and the enhanced WAVs', () => {
    const out = join(dir, 'out');
    const r = hil(['run', '--board', 'sim', '--model', modelDir, '--audio', join(dir, 'noisy'), '--clean', join(dir, 'clean'), '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /bit-exact/);
    assert.match(r.stdout, /3\/3/);

    const results: ResultsFile = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(results.rows.length, 3);
    assert.equal(results.provenance.board, 'sim');
    assert.match(results.provenance.modelSha256, /^[0-9a-f]{64}$/);
    assert.match(results.provenance.firmwareSha256, /^[0-9a-f]{64}$/);
    for (const row of results.rows) {
      assert.equal(row.bitExact, true, row.clip);
      assert.equal(row.latencyKind, 'modelled');
      assert.ok(row.latencyP50 > 0 && row.latencyP99 >= row.latencyP50);
      // The network alone: on the modelled sim board, the cost model without the board's frontend_cycles.
      assert.ok(row.networkLatencyP50 > 0 && row.networkLatencyP99 >= row.networkLatencyP50);
      assert.equal(row.networkLatencyP50, row.latencyP50 - SIM_FRONTEND_CYCLES);
      assert.equal(row.networkLatencyP99, row.latencyP99 - SIM_FRONTEND_CYCLES);
      assert.ok(row.macsPerFrame > 20_000, `MACs per frame ${row.macsPerFrame}`);
      assert.ok(row.sramBytes === row.sramStaticBytes + row.arenaBytes + row.stackHighWaterBytes);
      assert.ok(row.flashModelBytes > 20_000 && row.flashImageBytes > 10_000);
      // The scores are those of the WAV the run saved, scored independently here.
      const clean = fromInt16(readPcm16(join(dir, 'clean', row.clip), 16000).samples);
      const enhanced = fromInt16(readPcm16(join(out, 'enhanced', row.clip), 16000).samples);
      const noisy = fromInt16(readPcm16(join(dir, 'noisy', row.clip), 16000).samples);
      assert.equal(enhanced.length, noisy.length);
      const s = scorePair(clean, enhanced);
      assert.ok(Math.abs(s.sdr - row.sdrOut!) < 1e-9 && Math.abs(s.sisdr - row.sisdrOut!) < 1e-9);
      assert.ok(Math.abs(scorePair(clean, noisy).sdr + row.sdrImprovement! - row.sdrOut!) < 1e-9);
    }
    const csv = parse(readFileSync(join(out, 'results.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    assert.deepEqual(
      csv.map((c) => c.clip),
      ['c0.wav', 'c1.wav', 'c2.wav'],
    );
    assert.equal(csv[0].model_sha256, results.provenance.modelSha256);
    assert.equal(Number(csv[0].network_latency_p50), results.rows[0]!.networkLatencyP50);
    assert.match(r.stdout, /network p50 \(modelled cycles\)/);
    assert.equal(csv[0].bit_exact, 'true');

    // A rerun resumes: nothing left to do, the same rows come back.
    const again = hil(['run', '--board', 'sim', '--model', modelDir, '--audio', join(dir, 'noisy'), '--clean', join(dir, 'clean'), '--out', out, '--json']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /3 clips already done/);
    assert.deepEqual(JSON.parse(again.stdout).rows, results.rows);

    // A different model into the same --out is refused, not mixed in.
    const other = join(dir, 'other-model');
    assert.equal(hil(['model', 'init', '--arch', 'se-tiny', '--seed', '4', '--out', other]).status, 0);
    const mixed = hil(['run', '--board', 'sim', '--model', other, '--audio', join(dir, 'noisy'), '--out', out]);
    assert.equal(mixed.status, 2);
    assert.match(mixed.stderr, /^hil: .*different run.*--overwrite/);
  });

  test('an LSTM model (tinylstm-tiny, two layers with states h and c): every clip bit-exact with the host engine', () => {
    const lstmDir = join(dir, 'lstm-model');
    const init = hil(['model', 'init', '--arch', 'tinylstm-tiny', '--seed', '5', '--out', lstmDir]);
    assert.equal(init.status, 0, init.stderr);
    assert.match(init.stdout, /tinylstm-tiny seed 5: \d+ params/);
    const out = join(dir, 'out-lstm');
    const r = hil(['run', '--board', 'sim', '--model', lstmDir, '--audio', join(dir, 'noisy'), '--clean', join(dir, 'clean'), '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /3\/3/);
    const results: ResultsFile = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(results.rows.length, 3);
    for (const row of results.rows) {
      assert.equal(row.bitExact, true, row.clip);
      // §8: FC MACs (fc_in, 8 FCs per LSTM layer of 4·32·(32 + 32), fc_out) plus one per MUL element (3 MULs of 32 per layer).
      assert.equal(row.macsPerFrame, 257 * 32 + 2 * 4 * 32 * 64 + 32 * 257 + 2 * 3 * 32);
    }
  });

  test('bad input: one line, exit code 2, nothing written', () => {
    const out = join(dir, 'bad-out');
    const missing = hil(['run', '--board', 'sim', '--model', modelDir, '--audio', join(dir, 'nope'), '--out', out]);
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    assert.match(missing.stderr, /--audio .*nope is not a directory/);
    assert.equal(existsSync(out), false);

    const board = hil(['run', '--board', 'no-such-board', '--model', modelDir, '--audio', join(dir, 'noisy'), '--out', out]);
    assert.equal(board.status, 2);
    assert.match(board.stderr, /no board named "no-such-board".*known boards: .*sim/);

    const model = hil(['run', '--board', 'sim', '--model', join(dir, 'noisy', 'c0.wav'), '--audio', join(dir, 'noisy'), '--out', out]);
    assert.equal(model.status, 2);
    assert.equal(model.stderr.trim().split('\n').length, 1, model.stderr);
    assert.equal(existsSync(out), false);
  });

  test('a device that resets mid-clip: the model is loaded again and the clip rerun, no row lost, the retry counted', async () => {
    const out = join(dir, 'reset');
    let session: Session | null = null;
    let reset = false;
    const notes: string[] = [];
    const file = await runBenchmark({ board: 'sim', model: modelDir, audio: join(dir, 'noisy'), clean: join(dir, 'clean'), out }, (e) => {
      if (e.type === 'session') session = e.session;
      if (e.type === 'note') notes.push(e.text);
      if (e.type === 'frame' && e.clip === 'c1.wav' && e.frame === 10 && !reset) {
        reset = true;
        // Behind the run's back, as a watchdog would: the core restarts and prints its banner again.
        session!.client.request(Msg.RESET, {}).catch(() => {});
      }
    });
    assert.ok(reset);
    assert.deepEqual(file.rows.map((r) => r.clip), ['c0.wav', 'c1.wav', 'c2.wav']);
    assert.ok(file.rows.every((r) => r.bitExact));
    assert.deepEqual(file.rows.map((r) => r.link?.clipRetries), [0, 1, 0]);
    assert.ok(file.rows[1]!.link!.resyncs >= 1, JSON.stringify(file.rows[1]!.link));
    assert.ok(notes.some((n) => /^clip c1\.wav at frame \d+\/\d+: .*running it again \(1\/2\)$/.test(n)), notes.join("\n"));
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').split('\n');
    assert.match(csv[0]!, /link_retransmissions,link_timeouts,link_corrupt_frames,link_resyncs,clip_retries/);
  });

  test('a board killed mid-clip: a one-line error naming the clip and frame; finished rows are kept', async () => {
    const out = join(dir, 'killed');
    let board: SimBoard | null = null;
    let killed = false;
    const run = runBenchmark({ board: 'sim', model: modelDir, audio: join(dir, 'noisy'), clean: join(dir, 'clean'), out }, (e) => {
      if (e.type === 'open') board = e.board as SimBoard;
      if (e.type === 'frame' && e.clip === 'c1.wav' && e.frame === 10 && !killed) {
        killed = true;
        process.kill(board!.pid!, 'SIGKILL');
      }
    });
    await assert.rejects(run, (e: Error) => {
      assert.equal(e.name, 'HilError');
      assert.match(e.message, /failed during clip c1\.wav at frame \d+\/\d+: .*SIGKILL/);
      assert.match((e as HilError).line(), /killed\/rows\.jsonl; rerun the same command to resume\)$/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
    const kept: ResultsFile = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.deepEqual(
      kept.rows.map((r) => r.clip),
      ['c0.wav'],
    );
    // The rerun resumes with the clips that were not finished.
    const resumed = await runBenchmark({ board: 'sim', model: modelDir, audio: join(dir, 'noisy'), clean: join(dir, 'clean'), out });
    assert.deepEqual(
      resumed.rows.map((r) => r.clip),
      ['c0.wav', 'c1.wav', 'c2.wav'],
    );
    assert.ok(resumed.rows.every((r) => r.bitExact));
  });
});
