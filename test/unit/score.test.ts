/** `hil score`: pairing by name, the figures it reports, CSV/JSON output, and its one-line errors. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { scoreDirs, toCsv, toTable } from '../../src/run/score.js';
import { fromInt16, toInt16, writePcm16 } from '../../src/data/wav.js';
import { scorePair } from '../../src/metrics/index.js';
import { HilError } from '../../src/util/errors.js';
import { addAt, firLowpass, lfilter } from '../support/filters.js';
import { rng, speechLike, whiteNoise } from '../support/speechlike.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FS = 16000;
let dir = '';
const d = (...p: string[]) => join(dir, ...p);
const NAMES = ['a.wav', 'b.wav', 'c.wav'];

function write(sub: string, name: string, x: Float64Array, rate = FS): Int16Array {
  const pcm = toInt16(x);
  writePcm16(d(sub, name), pcm, rate);
  return pcm;
}

/** The int16 signals written, so that expected scores come from exactly what the command reads. */
const written: Record<string, { clean: Int16Array; noisy: Int16Array; est: Int16Array }> = {};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-score-'));
  for (const s of ['clean', 'noisy', 'est']) mkdirSync(d(s));
  NAMES.forEach((name, i) => {
    const clean = speechLike(0.5 + 0.25 * i, `score-${name}`);
    const noise = whiteNoise(clean.length, rng(`score-noise-${name}`));
    const noisy = addAt(clean, noise, 2 + 3 * i);
    // A crude "enhancer": less noise, some low-pass colouring and a small gain change.
    const est = addAt(lfilter(firLowpass(15, 3500, FS), [1], clean), noise, 12 + 3 * i).map((v) => 0.8 * v);
    written[name] = { clean: write('clean', name, clean), noisy: write('noisy', name, noisy), est: write('est', name, est) };
  });
  writeFileSync(d('clean', 'README.txt'), 'not audio, ignored');
  write('est', 'extra.wav', speechLike(0.2, 'extra'));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hil score', () => {
  it('scores every clean file against the estimate and noisy file of the same name', () => {
    const r = scoreDirs({ clean: d('clean'), estimate: d('est'), noisy: d('noisy') });
    assert.deepEqual(r.files.map((f) => f.file), NAMES);
    assert.deepEqual(r.unmatched, ['extra.wav']);
    for (const row of r.files) {
      const w = written[row.file];
      const est = scorePair(fromInt16(w.clean), fromInt16(w.est));
      const noisy = scorePair(fromInt16(w.clean), fromInt16(w.noisy));
      assert.equal(row.sdr, est.sdr);
      assert.equal(row.sisdr, est.sisdr);
      assert.equal(row.sdrNoisy, noisy.sdr);
      assert.equal(row.sisdrNoisy, noisy.sisdr);
      assert.equal(row.sdrImprovement, est.sdr - noisy.sdr);
      assert.equal(row.sisdrImprovement, est.sisdr - noisy.sisdr);
      assert.ok(row.sdrImprovement! > 5, `${row.file}: the less noisy estimate improves SDR (${row.sdrImprovement})`);
    }
    const mean = (k: 'sdr' | 'sisdrImprovement') => r.files.reduce((a, f) => a + f[k]!, 0) / r.files.length;
    assert.ok(Math.abs(r.mean.sdr - mean('sdr')) < 1e-12);
    assert.ok(Math.abs(r.mean.sisdrImprovement! - mean('sisdrImprovement')) < 1e-12);
  });

  it('without --noisy reports SDR and SI-SDR only', () => {
    const r = scoreDirs({ clean: d('clean'), estimate: d('est') });
    assert.equal(r.noisy, null);
    assert.deepEqual(Object.keys(r.files[0]), ['file', 'sdr', 'sisdr']);
    assert.deepEqual(Object.keys(r.mean), ['sdr', 'sisdr']);
    assert.deepEqual(toCsv(r).split('\n')[0], 'file,sdr_db,sisdr_db');
    assert.ok(!toTable(r).includes('SDRi'));
  });

  it('the CLI prints a table, writes the CSV and exits 0', () => {
    const out = d('out', 'scores.csv');
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'score', '--clean', d('clean'), '--estimate', d('est'), '--noisy', d('noisy'), '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    assert.equal(p.status, 0, p.stderr);
    const lines = p.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^file\s+SDR\s+SI-SDR\s+noisy SDR\s+noisy SI-SDR\s+SDRi\s+SI-SDRi/);
    assert.match(lines.at(-1)!, /^mean \(3 files\)/);
    assert.match(p.stderr, /1 file\(s\) in .* have no clean counterpart and were not scored: extra\.wav/);
    const rows = parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(rows[0]), ['file', 'sdr_db', 'sisdr_db', 'sdr_noisy_db', 'sisdr_noisy_db', 'sdr_improvement_db', 'sisdr_improvement_db']);
    const expected = scoreDirs({ clean: d('clean'), estimate: d('est'), noisy: d('noisy') });
    rows.forEach((row, i) => {
      assert.equal(row.file, NAMES[i]);
      assert.equal(Number(row.sdr_db), expected.files[i].sdr);
      assert.equal(Number(row.sisdr_improvement_db), expected.files[i].sisdrImprovement);
      // The table shows the same figures rounded to 0.01 dB.
      assert.ok(lines[1 + i].includes(expected.files[i].sdr.toFixed(2)));
    });
  });

  it('--json prints the report', () => {
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'score', '--clean', d('clean'), '--estimate', d('est'), '--json'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    const j = JSON.parse(p.stdout);
    assert.deepEqual(j.files.map((f: { file: string }) => f.file), NAMES);
    assert.equal(j.files[1].sisdr, scoreDirs({ clean: d('clean'), estimate: d('est') }).files[1].sisdr);
    assert.equal(j.noisy, null);
  });

  it('a user error is one line on stderr and exit code 2', () => {
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'score', '--clean', d('clean'), '--estimate', d('nowhere')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(p.status, 2);
    assert.match(p.stderr, /^hil: --estimate .*nowhere: ENOENT \(pass a directory of WAV files\)\n$/);
  });
});

describe('hil score errors', () => {
  const throwsHil = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof HilError && pattern.test(e.line()) && !e.line().includes('\n'));

  it('a clean file without its estimate', () => {
    mkdirSync(d('partial'));
    write('partial', 'a.wav', fromInt16(written['a.wav'].est));
    throwsHil(() => scoreDirs({ clean: d('clean'), estimate: d('partial') }), /--estimate .*partial lacks 2 of the 3 files in .*clean: b\.wav, c\.wav \(files are paired by name/);
    throwsHil(() => scoreDirs({ clean: d('clean'), estimate: d('est'), noisy: d('partial') }), /--noisy .*partial lacks 2 of the 3 files/);
  });

  it('a clean directory without WAVs', () => {
    mkdirSync(d('nothing'));
    throwsHil(() => scoreDirs({ clean: d('nothing'), estimate: d('est') }), /--clean .*nothing holds no \.wav files/);
  });

  it('different sample rates and lengths name both files', () => {
    mkdirSync(d('rate'));
    mkdirSync(d('short'));
    for (const n of NAMES) {
      writePcm16(d('rate', n), written[n].est, 8000);
      writePcm16(d('short', n), written[n].est.subarray(0, written[n].est.length - 10), FS);
    }
    throwsHil(() => scoreDirs({ clean: d('clean'), estimate: d('rate') }), /rate\/a\.wav is 8000 Hz but .*clean\/a\.wav is 16000 Hz/);
    throwsHil(() => scoreDirs({ clean: d('clean'), estimate: d('short') }), /short\/a\.wav has 7990 samples but .*clean\/a\.wav has 8000/);
  });

  it('a silent estimate names its file', () => {
    mkdirSync(d('silent'));
    for (const n of NAMES) writePcm16(d('silent', n), n === 'b.wav' ? new Int16Array(written[n].est.length) : written[n].est, FS);
    throwsHil(() => scoreDirs({ clean: d('clean'), estimate: d('silent') }), /silent\/b\.wav is silent \(all samples zero\)/);
  });
});
