/**
 * `hil run` keeps what a user ran and refuses bad input up front, through the real CLI on the sim board:
 * input checks before any device work (nothing written), converted and clipped clips recorded per row,
 * one --out per run at a time, Ctrl-C saying what was kept (exit 130, temporary files gone), and the
 * temporary directory of a kill -9'd run removed by the next run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import wavefilePkg from 'wavefile';
import { toInt16, writePcm16 } from '../../src/data/wav.js';
import type { ResultsFile } from '../../src/report/resultsSchema.js';
import { rng, speechLike, whiteNoise } from '../support/speechlike.js';

const { WaveFile } = wavefilePkg;
const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

function hil(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
}

/** A running `hil run` whose stderr is collected; `until` resolves when a line matches. */
function start(args: string[]): { child: ChildProcess; stderr: () => string; until: (re: RegExp) => Promise<void>; exit: Promise<{ code: number | null; signal: string | null }> } {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) if (w.re.test(err)) w.resolve();
  });
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const until = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (re.test(err)) return resolve();
      waiters.push({ re, resolve });
      void exit.then(() => reject(new Error(`exited before ${re}: ${err}`)));
    });
  return { child, stderr: () => err, until, exit };
}

function writeFloat(path: string, channels: Float64Array[], rate: number): void {
  const wav = new WaveFile();
  wav.fromScratch(channels.length, rate, '32f', channels.length === 1 ? channels[0]! : channels);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, wav.toBuffer());
}

const simDirsOf = (pid: number) => readdirSync(tmpdir()).filter((n) => n.startsWith(`hil-sim-${pid}-`));

let dir: string;
let modelDir: string;
const oneLine = (s: string) => assert.equal(s.trim().split('\n').length, 1, s);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-run-integrity-'));
  modelDir = join(dir, 'model');
  const init = hil(['model', 'init', '--arch', 'se-tiny', '--seed', '3', '--out', modelDir]);
  assert.equal(init.status, 0, init.stderr);
  // Four 2-second clips: long enough to interrupt a run between clips.
  for (let k = 0; k < 4; k++) {
    const clean = speechLike(2, `integrity${k}`);
    const noise = whiteNoise(clean.length, rng(`integrity-noise${k}`));
    writePcm16(join(dir, 'clean', `c${k}.wav`), toInt16(clean.map((v) => 0.6 * v)), 16000);
    writePcm16(join(dir, 'noisy', `c${k}.wav`), toInt16(clean.map((v, i) => 0.6 * v + 0.05 * noise[i]!)), 16000);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the good clips with `name` replaced or added by `write`. */
function clipsWith(sub: string, write: (noisy: string, clean: string) => void): { noisy: string; clean: string } {
  const noisy = join(dir, sub, 'noisy');
  const clean = join(dir, sub, 'clean');
  mkdirSync(noisy, { recursive: true });
  mkdirSync(clean, { recursive: true });
  for (const f of ['c0.wav', 'c1.wav']) {
    writeFileSync(join(noisy, f), readFileSync(join(dir, 'noisy', f)));
    writeFileSync(join(clean, f), readFileSync(join(dir, 'clean', f)));
  }
  write(noisy, clean);
  return { noisy, clean };
}

describe('hil run: bad input is refused before any device work, in one line, exit 2, nothing written', () => {
  const refused = (sub: string, write: (noisy: string, clean: string) => void, re: RegExp, extra: string[] = []) => {
    const { noisy, clean } = clipsWith(sub, write);
    const out = join(dir, sub, 'out');
    const r = hil(['run', '--board', 'sim', '--model', modelDir, '--audio', noisy, '--clean', clean, '--out', out, ...extra]);
    assert.equal(r.status, 2, r.stderr);
    oneLine(r.stderr);
    assert.match(r.stderr, re);
    assert.equal(existsSync(out), false, 'nothing written to --out');
  };

  test('a NaN or infinite sample', () => {
    refused('nan', (noisy) => writeFloat(join(noisy, 'c1.wav'), [Float64Array.from({ length: 32000 }, (_, i) => (i === 777 ? NaN : 0.1))], 16000), /c1\.wav has a non-finite sample \(NaN\) at sample 777/);
    refused('inf', (noisy) => writeFloat(join(noisy, 'c1.wav'), [Float64Array.from({ length: 32000 }, (_, i) => (i === 5 ? -Infinity : 0.1))], 16000), /c1\.wav has a non-finite sample \(-Infinity\) at sample 5/);
  });

  test('clean and noisy of different lengths', () => {
    refused(
      'length',
      (_noisy, clean) => writePcm16(join(clean, 'c1.wav'), new Int16Array(16000), 16000),
      /c1\.wav: the clean reference has 16000 samples at 16 kHz, the noisy clip 32000 .*\(clean and noisy clips must be aligned and of equal length\)/,
    );
  });

  test('an empty, a truncated and a corrupt WAV', () => {
    const empty = (noisy: string, clean: string) => {
      writePcm16(join(noisy, 'c2.wav'), new Int16Array(0), 16000);
      writePcm16(join(clean, 'c2.wav'), new Int16Array(0), 16000);
    };
    refused('empty', empty, /noisy\/c2\.wav holds no audio \(its data chunk is empty\)/);
    refused('truncated', (noisy) => writeFileSync(join(noisy, 'c1.wav'), readFileSync(join(noisy, 'c0.wav')).subarray(0, 5000)), /c1\.wav is truncated/);
    refused('corrupt', (noisy) => writeFileSync(join(noisy, 'c1.wav'), 'not a wav file at all'), /c1\.wav is not a readable WAV file/);
  });

  test('--limit below 1', () => {
    refused('limit0', () => {}, /--limit must be a whole number of at least 1, got 0/, ['--limit', '0']);
    refused('limit-1', () => {}, /--limit must be a whole number of at least 1, got -1/, ['--limit=-1']);
    refused('limit-frac', () => {}, /--limit must be an integer, got "1\.5"/, ['--limit', '1.5']);
  });
});

describe('hil run: what it keeps', () => {
  test('a stereo 44.1 kHz float clip beyond full scale runs, is reported clipped, and its row says how it was converted', () => {
    const { noisy, clean } = clipsWith('float', (noisyDir, cleanDir) => {
      const s = speechLike(1, 'float-clip');
      const peak = s.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const x = s.map((v) => (1.5 * v) / peak);
      writeFloat(join(noisyDir, 'c1.wav'), [x, x], 16000);
      writePcm16(join(cleanDir, 'c1.wav'), toInt16(speechLike(1, 'float-clip').map((v) => 0.5 * v)), 16000);
      const hi = speechLike(1, 'float-44k', { sampleRate: 44100 });
      writeFloat(join(noisyDir, 'c2.wav'), [hi.map((v) => 0.3 * v), hi.map((v) => 0.2 * v)], 44100);
      rmSync(join(cleanDir, 'c0.wav'));
      rmSync(join(noisyDir, 'c0.wav'));
    });
    rmSync(clean, { recursive: true });
    const out = join(dir, 'float', 'out');
    const r = hil(['run', '--board', 'sim', '--model', modelDir, '--audio', noisy, '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const clipped = /c1\.wav: (\d+) samples beyond full scale clipped to int16/.exec(r.stderr);
    assert.ok(clipped, r.stderr);
    const file: ResultsFile = JSON.parse(r.stdout);
    const [c1, c2] = file.rows;
    assert.deepEqual(c1!.input, { sampleRate: 16000, channels: 2, encoding: '32f', converted: true, conversion: '2→1 channels (mean); 32f→int16', clippedSamples: Number(clipped[1]) });
    assert.ok(c1!.input!.clippedSamples > 100);
    assert.equal(c2!.input!.conversion, '44100→16000 Hz (sox rate -v); 2→1 channels (mean); 32f→int16');
    assert.equal(c2!.input!.clippedSamples, 0);
    assert.equal(c2!.samples, 16000);
    assert.match(readFileSync(join(out, 'results.csv'), 'utf8'), /44100→16000 Hz \(sox rate -v\)/);
  });

  test('a second run into the same --out is refused naming the first one\'s pid; the first finishes unharmed', async () => {
    // 32 clips (64 s of audio), so the first run is still going when the second starts even on an idle
    // machine: with the four clips alone it once finished before the second reached the lock.
    const many = join(dir, 'many');
    const names = Array.from({ length: 32 }, (_, k) => `m${String(k).padStart(2, '0')}.wav`);
    for (const sub of ['noisy', 'clean']) {
      mkdirSync(join(many, sub), { recursive: true });
      names.forEach((n, k) => writeFileSync(join(many, sub, n), readFileSync(join(dir, sub, `c${k % 4}.wav`))));
    }
    const out = join(dir, 'concurrent');
    const args = ['run', '--board', 'sim', '--model', modelDir, '--audio', join(many, 'noisy'), '--clean', join(many, 'clean'), '--out', out];
    const first = start(args);
    await first.until(/clips, \d+ frames on sim/);
    const second = hil(args);
    assert.equal(second.status, 2, second.stderr);
    oneLine(second.stderr);
    assert.match(second.stderr, new RegExp(`concurrent is in use by pid ${first.child.pid} \\(hil run\\) \\(wait for it to finish or stop it \\(kill ${first.child.pid}\\), or use another --out\\)`));
    assert.deepEqual(await first.exit, { code: 0, signal: null }, first.stderr());
    const results: ResultsFile = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.deepEqual(results.rows.map((r) => r.clip), names);
    assert.equal(readFileSync(join(out, 'results.csv'), 'utf8').trimEnd().split('\n').length, names.length + 1);
  });

  test('without --out, a run that differs from the default directory\'s goes to a directory of its own, and its rerun resumes there', () => {
    // Its own working directory, so the default runs/ is fresh; tsx by absolute URL, since that
    // directory has no node_modules.
    const cwd = mkdtempSync(join(tmpdir(), 'hil-default-out-'));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const run = (audio: string) =>
      spawnSync(process.execPath, ['--import', tsx, join(ROOT, 'src/cli/main.ts'), 'run', '--board', 'sim', '--model', modelDir, '--audio', audio, '--limit', '1'], { cwd, encoding: 'utf8', timeout: 180_000 });
    const other = clipsWith('default-out', () => {}).noisy;
    try {
      const first = run(join(dir, 'noisy'));
      assert.equal(first.status, 0, first.stderr);
      const second = run(other);
      assert.equal(second.status, 0, second.stderr);
      assert.match(second.stderr, /the default output directory holds another run \(other firmware, clips or settings\); this one goes to .*runs\/sim-model-[0-9a-f]{8}-[0-9a-f]{8}/);
      const dirs = readdirSync(join(cwd, 'runs')).sort();
      assert.equal(dirs.length, 2, dirs.join(', '));
      const again = run(other);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stderr, /1 clips? already done/);
      assert.deepEqual(readdirSync(join(cwd, 'runs')).sort(), dirs, 'the rerun resumed in the same directory');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test('Ctrl-C: one line saying what was kept and how to resume, exit code 130, no temporary directory left; the rerun resumes', async () => {
    const out = join(dir, 'interrupted');
    const args = ['run', '--board', 'sim', '--model', modelDir, '--audio', join(dir, 'noisy'), '--clean', join(dir, 'clean'), '--out', out];
    const run = start(args);
    await run.until(/c0\.wav done/);
    assert.equal(simDirsOf(run.child.pid!).length, 1, 'the sim runs from a temporary directory named after hil\'s pid');
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    assert.equal(code, 130, run.stderr());
    const last = run.stderr().trimEnd().split('\n').at(-1)!;
    assert.match(last, /^hil: interrupted: [1-3] finished clips kept in .*interrupted\/rows\.jsonl; rerun the same command to resume$/);
    const kept = Number(/interrupted: (\d)/.exec(last)![1]);
    assert.deepEqual(simDirsOf(run.child.pid!), []);
    assert.ok(!existsSync(join(out, '.hil-lock')), 'the lock is released');
    const results: ResultsFile = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(results.rows.length, kept, 'results.json holds what the line says');
    const again = hil(args);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`resuming: ${kept} clips already done`));
    assert.equal(readFileSync(join(out, 'results.csv'), 'utf8').trimEnd().split('\n').length, 5);
  });

  test('kill -9: the temporary directory and the sim it left behind are removed by the next run', async () => {
    const out = join(dir, 'killed');
    const args = ['run', '--board', 'sim', '--model', modelDir, '--audio', join(dir, 'noisy'), '--out', out, '--limit', '2'];
    const run = start(args);
    await run.until(/clips, \d+ frames on sim/);
    let left: string[] = [];
    for (let i = 0; i < 100 && left.length === 0; i++) {
      left = simDirsOf(run.child.pid!);
      if (left.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(left.length, 1);
    const simDir = join(tmpdir(), left[0]!);
    for (let i = 0; i < 100 && !existsSync(join(simDir, 'sim.pid')); i++) await new Promise((r) => setTimeout(r, 100));
    const simPid = Number(readFileSync(join(simDir, 'sim.pid'), 'utf8'));
    run.child.kill('SIGKILL');
    await run.exit;
    assert.ok(existsSync(simDir), 'kill -9 runs no handler');
    const again = hil(args);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(existsSync(simDir), false, `${simDir} removed by the next run`);
    assert.throws(() => process.kill(simPid, 0), 'the orphaned sim was stopped');
  });
});
