/**
 * Builds the tiny built-in corpus (TTS speech, synthetic noise, babble) and checks what other stages rely on:
 * the layout, determinism, split disjointness, SNRs, the cache, and loading errors. About 15 s.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCorpus, ensureCorpus, loadCorpus, snrDb, type BuildResult, type CorpusManifest } from '../../src/data/corpus.js';
import { readWavMono } from '../../src/data/wav.js';
import { HilError } from '../../src/util/errors.js';
import { sha256File } from '../../src/util/fsx.js';

const root = mkdtempSync(join(tmpdir(), 'hil-corpus-test-'));
const dirA = join(root, 'a');
const dirB = join(root, 'b');
let a: BuildResult;

/** path → sha256 of every .wav under dir, plus the manifest. */
function hashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory() && !d.name.startsWith('.')) walk(r);
      else if (d.name.endsWith('.wav') || d.name === 'manifest.json') out.set(r, sha256File(join(dir, r)));
    }
  };
  walk('');
  return out;
}

function wavHeader(path: string): { rate: number; channels: number; bits: number } {
  const b = readFileSync(path);
  return { channels: b.readUInt16LE(22), rate: b.readUInt32LE(24), bits: b.readUInt16LE(34) };
}

before(async () => {
  a = await buildCorpus({ size: 'tiny', seed: 7, out: dirA });
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('corpus build (tiny, built-in)', () => {
  it('writes the documented layout: every listed file exists, 16 kHz mono int16, mixtures paired', () => {
    const m = a.manifest;
    assert.equal(m.format, 'hil-corpus');
    assert.equal(m.version, 1);
    assert.equal(m.sampleRate, 16000);
    assert.deepEqual([m.speech.length, m.mixtures.length], [12, 12]);
    assert.ok(m.noise.length >= 18);
    for (const e of m.speech) assert.match(e.path, new RegExp(`^speech/${e.split}/${e.voice}/${e.id}\\.wav$`));
    for (const e of m.noise) assert.match(e.path, new RegExp(`^noise/${e.split}/${e.category}/${e.id}\\.wav$`));
    for (const x of m.mixtures) {
      assert.equal(x.path, `${x.split}/noisy/${x.id}.wav`);
      assert.equal(x.cleanPath, `${x.split}/clean/${x.id}.wav`);
      assert.equal(statSync(join(dirA, x.path)).size, statSync(join(dirA, x.cleanPath)).size, `${x.id}: noisy and clean differ in length`);
    }
    for (const e of [...m.speech, ...m.noise, ...m.mixtures]) {
      const h = wavHeader(join(dirA, e.path));
      assert.deepEqual(h, { rate: 16000, channels: 1, bits: 16 }, e.path);
      assert.equal(sha256File(join(dirA, e.path)), e.sha256, `${e.path}: hash differs from the manifest`);
      assert.equal(readWavMono(join(dirA, e.path)).samples.length / 16000, e.duration);
    }
    for (const split of ['train', 'val', 'test']) {
      assert.deepEqual(
        readdirSync(join(dirA, split, 'noisy')).sort(),
        m.mixtures.filter((x) => x.split === split).map((x) => `${x.id}.wav`).sort(),
      );
    }
  });

  it('records engine, voice, text, rate, pitch and warp for speech, and source and licence for noise', () => {
    for (const e of a.manifest.speech) {
      assert.ok(['flite', 'festival', 'espeak-ng'].includes(e.engine));
      assert.ok(e.text && e.text.split(' ').length >= 6, e.id);
      assert.ok(e.rate > 0.8 && e.rate <= 1.6 && Math.abs(e.pitch) <= 150 && e.warp >= 0.97 && e.warp <= 1.03, e.id);
      assert.ok(e.duration >= 2 && e.duration <= 4, `${e.id} lasts ${e.duration} s`);
    }
    for (const n of a.manifest.noise) {
      assert.ok(n.licence.length > 0);
      assert.ok(n.source.package.length > 0);
    }
    const categories = new Set(a.manifest.noise.map((n) => n.category));
    for (const c of ['white', 'pink', 'brown', 'hum', 'fan', 'babble']) assert.ok(categories.has(c), c);
  });

  it('never shares a speaker, voice or noise file between splits, and keeps babble talkers out of clean speech', () => {
    const m = a.manifest;
    const splitsOf = (pairs: [string, string][]) => {
      const map = new Map<string, Set<string>>();
      for (const [k, s] of pairs) map.set(k, (map.get(k) ?? new Set()).add(s));
      return [...map].filter(([, s]) => s.size > 1).map(([k]) => k);
    };
    assert.deepEqual(splitsOf(m.speech.map((e) => [e.speaker, e.split])), []);
    assert.deepEqual(splitsOf(m.speech.map((e) => [e.voice, e.split])), []);
    assert.deepEqual(splitsOf(m.noise.map((e) => [e.sha256, e.split])), []);
    assert.deepEqual(splitsOf(m.noise.map((e) => [e.source.recipe ?? e.source.file ?? e.id, e.split])), []);
    const speech = new Map(m.speech.map((e) => [e.id, e]));
    const noise = new Map(m.noise.map((e) => [e.id, e]));
    for (const x of m.mixtures) {
      assert.equal(speech.get(x.speech)?.split, x.split);
      assert.equal(noise.get(x.noise)?.split, x.split);
    }
    const cleanVoices = new Set(m.speech.map((e) => e.voice));
    for (const n of m.noise.filter((e) => e.category === 'babble')) {
      for (const t of n.source.talkers ?? []) assert.ok(!cleanVoices.has(t.split('/')[0]), `${t} talks in babble and in clean speech`);
    }
  });

  it('mixes at the manifest SNR within 0.1 dB, measured on the written files, in [-5, 20] dB', () => {
    for (const x of a.manifest.mixtures) {
      const clean = readWavMono(join(dirA, x.cleanPath)).samples;
      const noisy = readWavMono(join(dirA, x.path)).samples;
      assert.ok(x.snrDb >= -5 && x.snrDb <= 20);
      const measured = snrDb(clean, noisy);
      assert.ok(Math.abs(measured - x.snrDb) < 0.1, `${x.id}: target ${x.snrDb} dB, measured ${measured.toFixed(3)} dB`);
    }
  });

  it('leaves no stretch of digital silence in speech or noise (the dither floor)', () => {
    for (const e of [...a.manifest.speech, ...a.manifest.noise]) {
      const x = readWavMono(join(dirA, e.path)).samples;
      let run = 0;
      for (let i = 0; i < x.length; i++) {
        run = x[i] === 0 ? run + 1 : 0;
        assert.ok(run < 32, `${e.path}: 32 zero samples in a row at ${i}`);
      }
    }
  });

  it('gives byte-identical files and manifest for the same seed, whatever the scheduling, and different ones for another seed', async () => {
    // One worker instead of two: every festival process sees a different sequence of utterances.
    await buildCorpus({ size: 'tiny', seed: 7, out: dirB, jobs: 1 });
    assert.deepEqual(hashes(dirB), hashes(dirA));
    const other = await buildCorpus({ size: 'tiny', seed: 8, out: join(root, 'c') });
    const theirs = new Set(other.manifest.speech.map((e) => e.sha256));
    assert.equal(a.manifest.speech.filter((e) => theirs.has(e.sha256)).length, 0);
  });

  it('does nothing on a rerun with unchanged inputs', async () => {
    const before = hashes(dirA);
    const r = await buildCorpus({ size: 'tiny', seed: 7, out: dirA });
    assert.equal(r.upToDate, true);
    assert.equal(r.generated, 0);
    assert.deepEqual(hashes(dirA), before);
  });

  it('after an interruption redoes only what is missing, and trusts no file whose hash changed', async () => {
    const before = hashes(dirA);
    const victim = a.manifest.speech[4];
    rmSync(join(dirA, victim.path));
    rmSync(join(dirA, 'manifest.json'));
    const tampered = a.manifest.noise[0];
    writeFileSync(join(dirA, tampered.path), readFileSync(join(dirA, a.manifest.noise[1].path)));
    const truncated = a.manifest.mixtures[2];
    writeFileSync(join(dirA, truncated.cleanPath), readFileSync(join(dirA, truncated.cleanPath)).subarray(0, 1000));
    const r = await buildCorpus({ size: 'tiny', seed: 7, out: dirA });
    // The regenerated speech and noise are byte-identical to the originals, so their mixtures stay valid:
    // only the three damaged jobs run again.
    assert.equal(r.generated, 3);
    assert.deepEqual(hashes(dirA), before);
  });

  it('prunes files a previous build into the same directory left behind', async () => {
    const stray = join(dirA, 'test', 'noisy', 'mx-test-99999.wav');
    writeFileSync(stray, readFileSync(join(dirA, a.manifest.mixtures[0].path)));
    rmSync(join(dirA, 'manifest.json'));
    await buildCorpus({ size: 'tiny', seed: 7, out: dirA });
    assert.equal(existsSync(stray), false);
  });
});

describe('ensureCorpus and loadCorpus', () => {
  it('builds the default corpus under HIL_HOME once, then returns at once', async () => {
    const saved = process.env.HIL_HOME;
    process.env.HIL_HOME = join(root, 'home');
    try {
      const first = await ensureCorpus({ size: 'tiny', seed: 7 });
      assert.equal(first.dir, join(root, 'home', 'corpus', 'tiny-seed7'));
      const t0 = Date.now();
      const second = await ensureCorpus({ size: 'tiny', seed: 7 });
      assert.ok(Date.now() - t0 < 2000, `second call took ${Date.now() - t0} ms`);
      assert.deepEqual(second.manifest, first.manifest);
      assert.deepEqual(hashes(first.dir), hashes(dirA));
    } finally {
      if (saved === undefined) delete process.env.HIL_HOME;
      else process.env.HIL_HOME = saved;
    }
  });

  it('loads a valid corpus and refuses a missing, corrupt or inconsistent one with a HilError', () => {
    assert.equal(loadCorpus(dirA).manifest.buildKey, a.manifest.buildKey);
    const broken = join(root, 'broken');
    assert.throws(() => loadCorpus(broken), (e: unknown) => e instanceof HilError && /manifest\.json is missing/.test(e.message));
    const original = readFileSync(join(dirA, 'manifest.json'));
    const copy = (edit: (m: CorpusManifest) => void) => {
      const m = JSON.parse(original.toString('utf8')) as CorpusManifest;
      edit(m);
      writeFileSync(join(dirA, 'manifest.json'), JSON.stringify(m));
    };
    try {
      writeFileSync(join(dirA, 'manifest.json'), '{"format": "hil-corpus", ');
      assert.throws(() => loadCorpus(dirA), (e: unknown) => e instanceof HilError && /is corrupt/.test(e.message));
      copy((m) => (m.mixtures[0].noise = m.noise.find((n) => n.split !== m.mixtures[0].split)!.id));
      assert.throws(() => loadCorpus(dirA), (e: unknown) => e instanceof HilError && /not in its split/.test(e.message));
      copy((m) => delete (m.speech[0] as Partial<typeof m.speech[0]>).sha256);
      assert.throws(() => loadCorpus(dirA), (e: unknown) => e instanceof HilError && /sha256/.test(e.message));
    } finally {
      writeFileSync(join(dirA, 'manifest.json'), original);
    }
    rmSync(join(dirA, a.manifest.mixtures[0].cleanPath));
    assert.throws(() => loadCorpus(dirA), (e: unknown) => e instanceof HilError && /is missing/.test(e.message));
  });
});
