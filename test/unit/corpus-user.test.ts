/**
 * A researcher's own corpus: files of any rate, depth, channel count and format are converted to 16 kHz mono,
 * unreadable files are reported by name and skipped, speakers stay in one split, split folders are honoured.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCorpus, snrDb, type BuildResult } from '../../src/data/corpus.js';
import { readWavMono } from '../../src/data/wav.js';
import { HilError } from '../../src/util/errors.js';

const root = mkdtempSync(join(tmpdir(), 'hil-corpus-user-'));
const clean = join(root, 'clean');
const noise = join(root, 'noise');

/** A short tone-and-noise signal made by sox, in the format the extra arguments ask for. */
function make(path: string, seconds: number, ...format: string[]): void {
  mkdirSync(join(path, '..'), { recursive: true });
  execFileSync('sox', ['-R', '-n', ...format, path, 'synth', String(seconds), 'sine', '300-900', 'pinknoise', 'remix', '-', 'gain', '-6']);
}

let built: BuildResult;
const warnings: string[] = [];

before(async () => {
  make(join(clean, 'alice', 'a1.wav'), 2, '-r', '44100', '-c', '2', '-b', '24');
  make(join(clean, 'alice', 'a2.flac'), 2.5, '-r', '8000', '-c', '1');
  make(join(clean, 'bob', 'b1.wav'), 3, '-r', '48000', '-c', '1', '-e', 'floating-point', '-b', '32');
  make(join(clean, 'bob', 'b2.ogg'), 2, '-r', '22050', '-c', '2');
  make(join(clean, 'carol', 'c1.wav'), 2, '-r', '16000', '-c', '1', '-b', '16');
  make(join(clean, 'dave', 'd1.wav'), 2, '-r', '11025', '-c', '1', '-b', '8');
  writeFileSync(join(clean, 'carol', 'broken.wav'), 'this is not audio');
  writeFileSync(join(clean, 'dave', 'cut.wav'), readFileSync(join(clean, 'carol', 'c1.wav')).subarray(0, 5000));
  make(join(noise, 'street', 's1.wav'), 5, '-r', '22050', '-c', '2');
  make(join(noise, 'street', 's2.flac'), 4, '-r', '16000');
  make(join(noise, 'cafe', 'c1.wav'), 6, '-r', '48000', '-b', '24');
  make(join(noise, 'cafe', 'c2.wav'), 3, '-r', '11025');
  // In a declared train folder, so that its rejection cannot leave val or test without noise.
  mkdirSync(join(noise, 'train', 'cafe'), { recursive: true });
  execFileSync('sox', ['-n', '-r', '16000', join(noise, 'train', 'cafe', 'silent.wav'), 'trim', '0', '2']);
  built = await buildCorpus({ size: 'small', seed: 3, out: join(root, 'out'), cleanDir: clean, noiseDir: noise }, (e) => {
    if (e.kind === 'warn') warnings.push(e.message);
  });
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('corpus from --clean-dir and --noise-dir', () => {
  it('rejects unreadable, truncated and silent files with a message naming each, and builds from the rest', () => {
    const rejected = new Map(built.manifest.rejected.map((r) => [r.file, r.reason]));
    assert.match(rejected.get(join(clean, 'carol', 'broken.wav')) ?? '', /RIFF header not found/);
    assert.match(rejected.get(join(clean, 'dave', 'cut.wav')) ?? '', /premature EOF/i);
    assert.match(rejected.get(join(noise, 'train', 'cafe', 'silent.wav')) ?? '', /silence/);
    assert.equal(rejected.size, 3);
    for (const file of rejected.keys()) assert.ok(warnings.some((w) => w.includes(file)), `no message names ${file}`);
    assert.equal(built.manifest.speech.length, 6);
    assert.equal(built.manifest.noise.length, 4);
  });

  it('converts any rate, depth and channel count to 16 kHz mono of the same duration', () => {
    const expected: Record<string, number> = { 'alice/a1.wav': 2, 'alice/a2.flac': 2.5, 'bob/b1.wav': 3, 'bob/b2.ogg': 2, 'carol/c1.wav': 2, 'dave/d1.wav': 2 };
    for (const e of built.manifest.speech) {
      assert.equal(e.engine, 'user');
      const x = readWavMono(join(built.dir, e.path));
      assert.equal(x.source.sampleRate, 16000);
      assert.equal(x.source.channels, 1);
      assert.ok(Math.abs(e.duration - expected[e.source!]) < 0.002, `${e.source}: ${e.duration} s`);
    }
  });

  it('marks sources sampled below 16 kHz as band-limited', () => {
    const byFile = new Map(built.manifest.noise.map((n) => [n.source.file, n]));
    assert.equal(byFile.get('cafe/c2.wav')?.bandLimitedHz, 5512);
    assert.equal(byFile.get('cafe/c1.wav')?.bandLimitedHz, undefined);
    assert.equal(byFile.get('street/s1.wav')?.category, 'street');
  });

  it('keeps each speaker and each noise file in one split, and every split filled', () => {
    const splitOf = new Map<string, Set<string>>();
    for (const e of built.manifest.speech) splitOf.set(e.speaker, (splitOf.get(e.speaker) ?? new Set()).add(e.split));
    for (const [speaker, splits] of splitOf) assert.equal(splits.size, 1, `${speaker} is in ${[...splits]}`);
    for (const split of ['train', 'val', 'test']) {
      assert.ok(built.manifest.speech.some((e) => e.split === split), `no speech in ${split}`);
      assert.ok(built.manifest.noise.some((e) => e.split === split), `no noise in ${split}`);
    }
    for (const x of built.manifest.mixtures) {
      const measured = snrDb(readWavMono(join(built.dir, x.cleanPath)).samples, readWavMono(join(built.dir, x.path)).samples);
      assert.ok(Math.abs(measured - x.snrDb) < 0.1, `${x.id}: ${measured} vs ${x.snrDb}`);
    }
  });

  it('honours train/test folders and --speaker-pattern (VCTK-DEMAND-style flat names)', async () => {
    const vctk = join(root, 'vctk');
    for (const [dir, speakers] of [['clean_trainset_wav', ['p226', 'p227', 'p228', 'p230']], ['clean_testset_wav', ['p232', 'p257']]] as const) {
      for (const s of speakers) for (const n of ['001', '002']) make(join(vctk, dir, `${s}_${n}.wav`), 2, '-r', '48000');
    }
    const r = await buildCorpus({ size: 'small', seed: 1, out: join(root, 'out-vctk'), cleanDir: vctk, noiseDir: noise });
    const speakersIn = (split: string) => [...new Set(r.manifest.speech.filter((e) => e.split === split).map((e) => e.speaker))].sort();
    assert.deepEqual(speakersIn('test'), ['p232', 'p257']);
    assert.equal(speakersIn('val').length, 1);
    assert.equal(speakersIn('train').length, 3);
    await assert.rejects(
      buildCorpus({ size: 'small', seed: 1, out: join(root, 'out-cross'), cleanDir: vctk, noiseDir: noise, speakerPattern: '_(\\d+)\\.wav$' }),
      (e: unknown) => e instanceof HilError && /speaker 001 has files in more than one split folder/.test(e.message),
    );
  });

  it('groups speakers by --speaker-pattern (DNS-style names, where the file-name prefix is not the speaker)', async () => {
    const dns = join(root, 'dns');
    for (const reader of ['0042', '0077', '0123', '0456']) for (const book of ['00001', '00002']) make(join(dns, `book_${book}_chp_0003_reader_${reader}_1.wav`), 1.5, '-r', '16000');
    await assert.rejects(buildCorpus({ size: 'small', seed: 1, out: join(root, 'out-dns0'), cleanDir: dns, noiseDir: noise }), (e: unknown) => e instanceof HilError && /1 group\(s\) cannot fill/.test(e.message));
    const r = await buildCorpus({ size: 'small', seed: 1, out: join(root, 'out-dns'), cleanDir: dns, noiseDir: noise, speakerPattern: 'reader_(\\d+)' });
    assert.deepEqual([...new Set(r.manifest.speech.map((e) => e.speaker))].sort(), ['0042', '0077', '0123', '0456']);
    for (const e of r.manifest.speech) assert.ok(r.manifest.speech.every((o) => o.speaker !== e.speaker || o.split === e.split));
  });

  it('refuses what cannot make a corpus with a one-line HilError', async () => {
    const isHil = (re: RegExp) => (e: unknown) => e instanceof HilError && re.test(e.message) && !e.line().includes('\n');
    await assert.rejects(buildCorpus({ size: 'small', seed: 1, cleanDir: clean }), isHil(/needs its own directory/));
    await assert.rejects(buildCorpus({ size: 'small', seed: 1, out: join(root, 'x'), cleanDir: join(root, 'nowhere') }), isHil(/does not exist/));
    const two = join(root, 'two');
    make(join(two, 'a', '1.wav'), 1, '-r', '16000');
    make(join(two, 'b', '1.wav'), 1, '-r', '16000');
    await assert.rejects(buildCorpus({ size: 'small', seed: 1, out: join(root, 'y'), cleanDir: two, noiseDir: noise }), isHil(/cannot fill/));
    await assert.rejects(buildCorpus({ size: 'small', seed: 1, out: join(root, 'z'), cleanDir: clean, noiseDir: noise, speakerPattern: 'nomatch_(x)' }), isHil(/does not match/));
    await assert.rejects(buildCorpus({ size: 'small', seed: 1, out: join(clean, 'out'), cleanDir: clean, noiseDir: noise }), isHil(/overlaps --clean-dir/));
    // A directory of other files is never taken for a corpus (a build prunes unlisted audio in its directory).
    await assert.rejects(buildCorpus({ size: 'small', seed: 1, out: noise, cleanDir: clean }), isHil(/is not a hil corpus/));
    await assert.rejects(buildCorpus({ size: 'tiny', seed: 1, out: clean }), isHil(/is not a hil corpus/));
    assert.ok(readFileSync(join(clean, 'alice', 'a1.wav')).length > 0);
  });

  it('exits with code 2 and one line from the CLI for a user error', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'data', 'build', '--clean-dir', join(root, 'nowhere'), '--out', join(root, 'w')], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('hil:'));
    assert.equal(lines.length, 1);
    assert.match(lines[0], /--clean-dir .*nowhere does not exist/);
  });
});
