/**
 * Builds the CI-sized real corpus (`real-small`: recorded speech of the speech-data packages, real babble,
 * augmented mixtures, the held-out real-test split) twice with one seed and checks what training and
 * evaluation rely on: determinism, split disjointness by speaker, package and recording, the measured
 * gates, the SNRs and the augmentation records. About 2 min on two cores (two builds of about 60 s).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DC_RANGE_DB, LOWPASS_RANGE_HZ, REAL_SNR_RANGE_DB, RT60_RANGE_S, SPEECH_LEVEL_RANGE_DB, TILT_RANGE_DB } from '../../src/data/augment.js';
import { buildCorpus, snrDb, type BuildResult } from '../../src/data/corpus.js';
import { bandShares, MIN_HF_4K_DB, MIN_HF_6K_DB, MAX_CLIPPED, MIN_DYNAMIC_RANGE_DB } from '../../src/data/quality.js';
import { missingSpeechData } from '../../src/data/realSources.js';
import { readWavMono } from '../../src/data/wav.js';
import { sha256File } from '../../src/util/fsx.js';

const missing = missingSpeechData();
const root = mkdtempSync(join(tmpdir(), 'hil-corpus-real-'));
let a: BuildResult;
let b: BuildResult;

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

before(async () => {
  // No skip: without the packages this suite fails, naming the command that installs them.
  assert.deepEqual(missing, [], `the speech-data packages are not installed (${missing.join(', ')}): run \`bash scripts/setup.sh --with-speech-data\``);
  a = await buildCorpus({ size: 'real-small', seed: 3, out: join(root, 'a') });
  b = await buildCorpus({ size: 'real-small', seed: 3, out: join(root, 'b') });
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('corpus build (real-small)', () => {
  it('is deterministic: the same seed gives the same files and manifest', () => {
    assert.deepEqual([...hashes(join(root, 'b'))].sort(), [...hashes(join(root, 'a'))].sort());
    assert.deepEqual(b.manifest, a.manifest);
  });

  it('holds recorded speech in train, val and real-test, with TTS a minority of the clean speech', () => {
    const m = a.manifest;
    for (const split of ['train', 'val', 'real-test']) {
      const rec = m.speech.filter((e) => e.split === split && e.engine === 'recorded');
      assert.ok(rec.length >= 4, `${split}: ${rec.length} recorded files`);
      assert.ok(new Set(rec.map((e) => e.speaker)).size >= 2, `${split}: fewer than 2 recorded speakers`);
      for (const e of rec) {
        assert.ok(e.package && e.language && e.licence && e.sourceRate && e.sourceRate >= 16000 && e.quality && e.source, e.id);
      }
    }
    const tts = m.speech.filter((e) => e.engine !== 'recorded').length;
    assert.ok(tts < m.speech.length / 2, `${tts} of ${m.speech.length} clean files are TTS`);
    assert.equal(m.speech.filter((e) => e.split === 'test').length, 0);
    assert.ok(m.sources && m.sources.length > 0);
    for (const s of m.sources!) assert.ok(s.licence && (s.kind === 'noise' || s.speakers.length > 0) && Object.keys(s.minutes).length > 0, s.package);
  });

  it('never puts a speaker, a package of real-test, a talker or a noise recording in two splits', () => {
    const m = a.manifest;
    const multi = (pairs: [string, string][]) => {
      const map = new Map<string, Set<string>>();
      for (const [k, s] of pairs) map.set(k, (map.get(k) ?? new Set()).add(s));
      return [...map].filter(([, s]) => s.size > 1).map(([k]) => k);
    };
    assert.deepEqual(multi(m.speech.map((e) => [e.speaker, e.split])), []);
    assert.deepEqual(multi(m.noise.map((e) => [e.sha256, e.split])), []);
    assert.deepEqual(multi(m.noise.filter((e) => e.source.file).map((e) => [e.source.file!, e.split])), []);
    const talkers = m.noise.flatMap((e) => (e.source.talkers ?? []).map((t) => [t, e.split] as [string, string]));
    assert.deepEqual(multi(talkers), []);
    // Babble talkers are never clean speakers.
    const speakers = new Set(m.speech.map((e) => e.speaker));
    for (const [t] of talkers) assert.ok(!speakers.has(t), `${t} talks in babble and in clean speech`);
    // Every package that gives real-test anything gives nothing to the other splits.
    const pkgsOf = (inTest: boolean) =>
      new Set([
        ...m.speech.filter((e) => e.package && (e.split === 'real-test') === inTest).map((e) => e.package!),
        ...m.noise.filter((e) => e.source.file || e.source.talkers?.length).filter((e) => (e.split === 'real-test') === inTest).map((e) => e.source.package),
      ]);
    const test = pkgsOf(true);
    const other = pkgsOf(false);
    assert.ok(test.size >= 2, [...test].join(' '));
    for (const p of test) assert.ok(!other.has(p), `${p} is in real-test and in train/val`);
    // real-test noise is all recorded, none generated.
    for (const e of m.noise.filter((x) => x.split === 'real-test')) assert.ok(e.source.file || e.source.talkers?.length, e.id);
  });

  it('keeps only files whose measured bandwidth, clipping and pauses pass the gates, and says why others went', () => {
    const m = a.manifest;
    for (const e of m.speech.filter((x) => x.engine === 'recorded')) {
      const q = e.quality!;
      assert.ok(q.hf4kDb >= MIN_HF_4K_DB && q.hf6kDb >= MIN_HF_6K_DB && q.clipped <= MAX_CLIPPED && q.dynamicRangeDb >= MIN_DYNAMIC_RANGE_DB, `${e.id}: ${JSON.stringify(q)}`);
      // Measured again on the written file.
      const w = bandShares(readWavMono(join(a.dir, e.path)).samples);
      assert.ok(w.hf4kDb >= MIN_HF_4K_DB && w.hf6kDb >= MIN_HF_6K_DB, `${e.path}: ${JSON.stringify(w)}`);
    }
    assert.ok(m.rejected.length > 0);
    for (const r of m.rejected) assert.match(r.reason, /band-limited|clipped|noisy|too short|shorter than|silence|no samples/, r.file);
  });

  it('mixes at the recorded SNR within 0.1 dB, measured on the written files', () => {
    for (const x of a.manifest.mixtures) {
      const clean = readWavMono(join(a.dir, x.cleanPath)).samples;
      const noisy = readWavMono(join(a.dir, x.path)).samples;
      assert.ok(x.snrDb >= REAL_SNR_RANGE_DB[0] && x.snrDb <= REAL_SNR_RANGE_DB[1], x.id);
      const measured = snrDb(clean, noisy);
      assert.ok(Math.abs(measured - x.snrDb) < 0.1, `${x.id}: recorded ${x.snrDb} dB, measured ${measured.toFixed(3)} dB`);
    }
  });

  it('records every mixture’s augmentation, within its ranges', () => {
    const ms = a.manifest.mixtures;
    assert.ok(ms.length > 0);
    const within = (v: number, [lo, hi]: [number, number], what: string) => assert.ok(v >= lo && v <= hi, `${what} = ${v} not in [${lo}, ${hi}]`);
    for (const x of ms) {
      const g = x.augment;
      assert.ok(g, `${x.id} has no augmentation record`);
      if (g.reverb) within(g.reverb.rt60, RT60_RANGE_S, `${x.id} rt60`);
      within(g.channel.bassDb, TILT_RANGE_DB, `${x.id} bass`);
      within(g.channel.trebleDb, TILT_RANGE_DB, `${x.id} treble`);
      if (g.channel.lowpassHz !== null) within(g.channel.lowpassHz, LOWPASS_RANGE_HZ, `${x.id} low-pass`);
      assert.ok(g.channel.roundTripHz === null || g.channel.roundTripHz === 8000 || g.channel.roundTripHz === 48000);
      within(g.speechLevelDb, SPEECH_LEVEL_RANGE_DB, `${x.id} level`);
      assert.ok(g.writtenLevelDb <= g.speechLevelDb + 0.05, `${x.id}: written level ${g.writtenLevelDb} above asked ${g.speechLevelDb}`);
      const clean = readWavMono(join(a.dir, x.cleanPath)).samples;
      let e = 0;
      for (const v of clean) e += v * v;
      assert.ok(Math.abs(10 * Math.log10(e / clean.length) - g.writtenLevelDb) < 0.05, `${x.id}: written level differs from the record`);
      if (g.dc) within(g.dc.relDb, DC_RANGE_DB, `${x.id} dc`);
      else assert.equal(g.dcOffset, 0);
    }
    // Every kind of augmentation occurs.
    assert.ok(ms.some((x) => x.augment!.reverb) && ms.some((x) => !x.augment!.reverb));
    assert.ok(ms.some((x) => x.augment!.channel.lowpassHz !== null) && ms.some((x) => x.augment!.channel.roundTripHz === 8000));
  });
});
