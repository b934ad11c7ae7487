/** The corpus's pure parts, without running any TTS engine: mixing, seeding, text, voices, splits, catalogue. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MIX_PEAK, mixAtSnr, snrDb } from '../../src/data/mix.js';
import { RECORDED_SOURCES, listRecorded, requireRecorded } from '../../src/data/recorded.js';
import { realTestNoise } from '../../src/data/realSources.js';
import { rngFor } from '../../src/data/rng.js';
import { SYNTHETIC_CATEGORIES, synthRecipe } from '../../src/data/synthNoise.js';
import { isCleanSentence, sentencesFromFortunes } from '../../src/data/text.js';
import { declaredSplit, speakerOf, splitGroups } from '../../src/data/userCorpus.js';
import { assignVoices, pickVoice, SPLITS } from '../../src/data/voices.js';
import { HilError } from '../../src/util/errors.js';

/** A seeded speech-like signal: a chirp under a syllable-rate envelope, with pauses. */
function speechLike(n: number, seed: number): Float64Array {
  const rng = rngFor(seed, 'test-speech');
  const x = new Float64Array(n);
  const f0 = rng.uniform(100, 250);
  for (let i = 0; i < n; i++) {
    const env = Math.max(0, Math.sin((2 * Math.PI * 4 * i) / 16000));
    x[i] = 0.6 * env * Math.sin((2 * Math.PI * f0 * i) / 16000 + 3 * Math.sin(i / 900)) + 0.01 * rng.gaussian();
  }
  return x;
}

function noiseLike(n: number, seed: number): Float64Array {
  const rng = rngFor(seed, 'test-noise');
  return Float64Array.from({ length: n }, () => 0.3 * rng.gaussian());
}

const toFloat = (x: Int16Array) => Float64Array.from(x, (v) => v / 32768);

describe('mixAtSnr', () => {
  it('hits the target SNR within 0.01 dB on the int16 output, noisy = clean + noise exactly, peak ≤ −1 dBFS', () => {
    for (const [i, snr] of [-5, -2.37, 0, 7.5, 13.01, 20].entries()) {
      const speech = speechLike(40000, i);
      const noise = noiseLike(90000, i);
      const m = mixAtSnr(speech, noise, snr, 1234 * i);
      assert.ok(Math.abs(snrDb(toFloat(m.clean), toFloat(m.noisy)) - snr) < 0.01, `snr ${snr}`);
      for (let k = 0; k < m.noisy.length; k++) assert.equal(m.noisy[k], m.clean[k] + m.noise[k]);
      const peak = Math.max(...Array.from(m.noisy, Math.abs)) / 32768;
      assert.ok(peak <= MIX_PEAK + 1 / 32768, `peak ${peak}`);
      assert.ok(m.speechGain > 0 && m.speechGain <= 1);
    }
  });

  it('wraps a noise shorter than the speech, and starts at the offset', () => {
    const speech = speechLike(20000, 9);
    const noise = noiseLike(7000, 9);
    const m = mixAtSnr(speech, noise, 5, 6000);
    assert.equal(m.noisy.length, speech.length);
    assert.equal(m.noise[0], Math.round(noise[6000] * m.noiseGain * 32768));
    assert.equal(m.noise[1000], Math.round(noise[0] * m.noiseGain * 32768));
  });

  it('refuses a silent segment instead of dividing by zero', () => {
    assert.throws(() => mixAtSnr(speechLike(1000, 1), new Float64Array(5000), 0, 0), /silent/);
  });
});

describe('seeded streams', () => {
  it('repeat for the same key and differ for another seed or key', () => {
    const draw = (seed: number, ...key: string[]) => Array.from({ length: 5 }, ((r) => () => r.next())(rngFor(seed, ...key)));
    assert.deepEqual(draw(1, 'a', 'b'), draw(1, 'a', 'b'));
    assert.notDeepEqual(draw(1, 'a', 'b'), draw(2, 'a', 'b'));
    assert.notDeepEqual(draw(1, 'a', 'b'), draw(1, 'a', 'c'));
  });

  it('make the same synthetic-noise recipes, each file a different stretch of the noise', () => {
    for (const c of SYNTHETIC_CATEGORIES) {
      assert.deepEqual(synthRecipe(c, 2, 8, rngFor(1, c)), synthRecipe(c, 2, 8, rngFor(1, c)));
      const [a, b] = [synthRecipe(c, 0, 8, rngFor(1, c)), synthRecipe(c, 1, 8, rngFor(1, c))];
      assert.notDeepEqual(a.effects, b.effects);
    }
  });
});

describe('sentence text', () => {
  it('cuts clean 6–14-word sentences from fortune cookies and drops attributions and junk', () => {
    const cookies = [
      'A clash of doctrine is not a disaster, it is an opportunity.\n\t\t-- Someone Famous',
      '%',
      'Q: What is the answer?  A: Nobody knows the answer to that question today.',
      '%',
      'The NASA budget was cut by 40 percent in the year 1990.  Short one.',
      '%',
      'Never put off until tomorrow what you can do the day after tomorrow.',
    ].join('\n');
    assert.deepEqual(sentencesFromFortunes(cookies), [
      'A clash of doctrine is not a disaster, it is an opportunity.',
      'Never put off until tomorrow what you can do the day after tomorrow.',
    ]);
    assert.equal(isCleanSentence('Too short to use.'), false);
    assert.equal(isCleanSentence('This sentence has exactly enough words to pass.'), true);
  });
});

describe('voices', () => {
  it('never give one speaker two splits, and keep babble talkers out of clean speech, for any seed', () => {
    for (let seed = 0; seed < 25; seed++) {
      const v = assignVoices(rngFor(seed, 'voices'));
      const splitOf = new Map<string, string>();
      for (const split of SPLITS) {
        assert.ok(v.clean[split].length >= 3 && v.babble[split].length >= 2, `seed ${seed} ${split}`);
        for (const voice of v.clean[split]) {
          assert.ok((splitOf.get(voice.speaker) ?? split) === split, `seed ${seed}: ${voice.speaker} in two splits`);
          splitOf.set(voice.speaker, split);
        }
      }
      const babble = SPLITS.flatMap((s) => v.babble[s].map((x) => x.speaker));
      assert.equal(new Set(babble).size, babble.length);
      for (const b of babble) assert.ok(!splitOf.has(b), `seed ${seed}: ${b} is a babble talker and a clean voice`);
    }
  });

  it('puts the natural slt voices in test and gives ARCTIC-style voices about half of each split', () => {
    const v = assignVoices(rngFor(1, 'voices'));
    assert.deepEqual(v.clean.test.filter((x) => x.speaker === 'slt').map((x) => x.id).sort(), ['festival-slt-hts', 'flite-slt']);
    const rng = rngFor(1, 'pick');
    const picks = Array.from({ length: 2000 }, () => pickVoice(v.clean.train, rng));
    const arctic = picks.filter((p) => p.engine !== 'espeak-ng').length / picks.length;
    assert.ok(arctic > 0.5 && arctic < 0.6, `ARCTIC share ${arctic}`);
  });
});

describe('user corpus splits', () => {
  it('reads split folders and speakers from paths', () => {
    assert.equal(declaredSplit('clean_trainset_28spk_wav/p226_001.wav'), 'train');
    assert.equal(declaredSplit('clean_testset_wav/p232_001.wav'), 'test');
    assert.equal(declaredSplit('dev/spk1/a.wav'), 'val');
    assert.equal(declaredSplit('latest/a.wav'), null);
    assert.equal(declaredSplit('a.wav'), null);
    assert.equal(speakerOf('clean_testset_wav/p232_001.wav'), 'p232');
    assert.equal(speakerOf('train/spk7/book/a.flac'), 'spk7');
    assert.equal(speakerOf('lonely.wav'), 'lonely');
    assert.equal(speakerOf('x/book_1_reader_0042_3.wav', /reader_(\d+)/), '0042');
  });

  it('deals every split at least one group, is seeded, and honours declared folders', () => {
    const groups = new Map(Array.from({ length: 30 }, (_, i) => [`s${i}`, null] as [string, null]));
    const a = splitGroups(groups, rngFor(1, 'x'), 'test');
    assert.deepEqual(splitGroups(groups, rngFor(1, 'x'), 'test'), a);
    const count = (m: Map<string, string>, s: string) => [...m.values()].filter((v) => v === s).length;
    assert.deepEqual([count(a, 'train'), count(a, 'val'), count(a, 'test')], [24, 3, 3]);
    const declared = new Map<string, 'train' | 'test' | null>([['t1', 'train'], ['t2', 'train'], ['t3', 'train'], ['e1', 'test']]);
    const b = splitGroups(declared, rngFor(1, 'y'), 'test');
    assert.equal(b.get('e1'), 'test');
    assert.equal(count(b, 'val'), 1);
    assert.throws(() => splitGroups(new Map([['only', null]]), rngFor(1, 'z'), '--clean-dir x'), HilError);
  });
});

describe('recorded ambiences', () => {
  it('tells exactly how to install missing noise-data packages, in one line', () => {
    assert.doesNotThrow(() => requireRecorded('paper', []));
    assert.throws(
      () => requireRecorded('paper', ['megaglest-data', 'widelands-data']),
      (e: unknown) => e instanceof HilError && /megaglest-data, widelands-data/.test(e.message) && /bash scripts\/setup\.sh --with-noise-data/.test(e.line()) && !e.line().includes('\n'),
    );
  });

  const installed = RECORDED_SOURCES.filter((s) => existsSync(s.root) && existsSync(`/usr/share/doc/${s.package}/copyright`));
  it('names licences that the packages’ copyright files state', { skip: installed.length === 0 && 'noise-data packages not installed' }, () => {
    const files = listRecorded();
    for (const s of installed) {
      const copyright = readFileSync(`/usr/share/doc/${s.package}/copyright`, 'utf8');
      const mine = files.filter((f) => f.source === s);
      assert.ok(mine.length > 0, `${s.package}: no files catalogued`);
      for (const f of mine) {
        const licence = s.licence(f.rel).replace(/-1\.0$/, '');
        assert.ok(new RegExp(`^License: ${licence.replace(/[+.]/g, '\\$&')}\\s*$`, 'm').test(copyright), `${s.package}: ${licence} not in its copyright file`);
      }
    }
  });

  const realOnly = installed.filter((s) => s.realOnly);
  it('adds music, instruments and effects for the real sizes only, from packages real-test never reads', { skip: realOnly.length === 0 && 'noise-data packages not installed' }, () => {
    const paper = listRecorded({ real: false });
    const real = listRecorded({ real: true });
    assert.ok(paper.every((f) => !f.source.realOnly), 'paper keeps the catalogue it was built with');
    const extra = real.filter((f) => f.source.realOnly);
    assert.deepEqual([...new Set(extra.map((f) => f.category))].sort(), ['effects', 'instrument', 'music']);
    assert.equal(new Set(real.map((f) => f.path)).size, real.length, 'no file is catalogued twice');
    // realTestNoise() lists nothing where the speech-data group is not installed: name its packages too.
    const heldOut = new Set(['tuxpaint-stamps-default', 'asterisk-moh-opsound-g722', ...realTestNoise().map((f) => f.package)]);
    for (const f of real) assert.ok(!heldOut.has(f.source.package), `${f.path}: ${f.source.package} is real-test's`);
  });
});
