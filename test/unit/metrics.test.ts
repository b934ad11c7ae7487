/**
 * SDR and SI-SDR against references: mir_eval.separation.bss_eval_sources (BSS Eval v3) and a numpy SI-SDR,
 * run by Debian's /usr/bin/python3 on the same float64 samples (test/support/mir_eval_ref.py). mir_eval is
 * a declared dependency (scripts/deps.json), so its absence fails the suite rather than skipping it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scorePair, sdr, sisdr, SilentEstimateError } from '../../src/metrics/index.js';
import { HilError } from '../../src/util/errors.js';
import { speechLike, whiteNoise, rng } from '../support/speechlike.js';
import { addAt, delay, firLowpass, lfilter, scale } from '../support/filters.js';

const FS = 16000;
const TOLERANCE_DB = 0.01;
// Float64 rounding alone limits an exact copy to roughly 250–300 dB on both sides.
const EXACT_FLOOR_DB = 200;
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../support/mir_eval_ref.py', import.meta.url));

interface Case {
  name: string;
  reference: Float64Array;
  estimate: Float64Array;
  /** The estimate lies exactly in the allowed span: the true SDR is +∞ and both sides print rounding noise. */
  exact?: boolean;
}

interface RefScores {
  sdr: number;
  sir: number;
  sar: number;
  sisdr: number;
  seconds: number;
}

const talkerA = speechLike(1.5, 'talker-a', { f0: 120 });
const talkerB = speechLike(1.5, 'talker-b', { f0: 210 });
const talkerC = speechLike(1.0, 'talker-c', { f0: 160 });
const noise = (n: number, seed: string) => whiteNoise(n, rng(seed));
const noisy = (x: Float64Array, snrDb: number, seed: string) => addAt(x, noise(x.length, seed), snrDb);
const fir = (x: Float64Array, taps: number, hz: number) => lfilter(firLowpass(taps, hz, FS), [1], x);
const onePole = (x: Float64Array, p: number) => lfilter([1 - p], [1, -p], x);
// A narrow resonance at 500 Hz (pole radius 0.995): its impulse response outlives the 512-tap filter.
const resonator = (x: Float64Array) => {
  const r = 0.995;
  const w = (2 * Math.PI * 500) / FS;
  return lfilter([1 - r], [1, -2 * r * Math.cos(w), r * r], x);
};
const int16 = (x: Float64Array) => x.map((v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))) / 32768);

function cases(): Case[] {
  const c: Case[] = [];
  const add = (name: string, reference: Float64Array, estimate: Float64Array, exact = false) => c.push({ name, reference, estimate, exact });
  const A = talkerA;
  add('identical', A, A, true);
  add('scale -3', A, scale(A, -3), true);
  add('scale 0.5 + noise 30 dB', A, noisy(scale(A, 0.5), 30, 'n1'));
  add('negated + noise 20 dB', A, noisy(scale(A, -1), 20, 'n2'));
  add('delay 3', A, delay(A, 3));
  add('delay 3 + noise 25 dB', A, noisy(delay(A, 3), 25, 'n3'));
  add('delay 300', A, delay(A, 300));
  add('delay 480 + noise 10 dB', A, noisy(delay(A, 480), 10, 'n4'));
  add('delay 700 (beyond the filter)', A, delay(A, 700));
  for (const snr of [-5, 0, 10, 20, 40]) add(`white noise ${snr} dB`, A, noisy(A, snr, `snr${snr}`));
  add('FIR low-pass 2 kHz', A, fir(A, 63, 2000));
  add('FIR low-pass 1 kHz + noise 15 dB', A, noisy(fir(A, 31, 1000), 15, 'n5'));
  add('IIR one-pole 0.995', A, onePole(A, 0.995));
  add('IIR resonator + noise 20 dB', A, noisy(resonator(A), 20, 'n6'));
  add('second talker 0 dB', A, addAt(A, talkerB, 0));
  add('second talker 10 dB', A, addAt(A, talkerB, 10));
  add('second talker as reference, 5 dB', talkerB, addAt(talkerB, A, 5));
  add('scale 1.7 + delay 40 + FIR 3 kHz + talker 5 dB + noise 20 dB', A, noisy(addAt(scale(delay(fir(A, 41, 3000), 40), 1.7), talkerB, 5), 20, 'n7'));
  add('IIR 0.98 + delay 120 + noise 5 dB + DC 0.01', A, noisy(delay(onePole(A, 0.98), 120), 5, 'n8').map((v) => v + 0.01));
  add('DC offset 0.02 + noise 30 dB', A, noisy(A, 30, 'n9').map((v) => v + 0.02));
  add('int16 device output, noise 20 dB', int16(A), int16(noisy(A, 20, 'n10')));
  add('other talker, 1 s, IIR resonator + talker 0 dB', talkerC, addAt(resonator(talkerC), talkerB.subarray(0, talkerC.length), 0));
  // Ill-conditioned Gram matrices: a reference with an empty band (8 kHz material at 16 kHz), a pure tone.
  const band = (x: Float64Array) => fir(fir(x, 255, 3800), 255, 3800);
  add('reference band-limited to 3.8 kHz, delay 5 + noise 30 dB', band(A), noisy(delay(band(A), 5), 30, 'n12'));
  const tone = Float64Array.from({ length: 16000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / FS));
  add('pure 440 Hz tone reference + noise 20 dB', tone, noisy(tone, 20, 'n13'));
  add('400 samples (shorter than the filter) + noise 10 dB', A.subarray(4000, 4400), noisy(A.subarray(4000, 4400), 10, 'n11'));
  return c;
}

describe('metrics against mir_eval', () => {
  const all = cases();
  let dir = '';
  let refs: Record<string, RefScores> = {};

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hil-metrics-'));
    all.forEach((c, i) => {
      writeFileSync(join(dir, `c${i}.ref.f64`), new Uint8Array(c.reference.buffer, c.reference.byteOffset, c.reference.byteLength));
      writeFileSync(join(dir, `c${i}.est.f64`), new Uint8Array(c.estimate.buffer, c.estimate.byteOffset, c.estimate.byteLength));
    });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ cases: all.map((_, i) => ({ name: `c${i}` })) }));
    const r = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8', timeout: 120_000 });
    if (r.error) assert.fail(`cannot run ${PYTHON} (${r.error.message}): apt-get install python3-mir-eval`);
    if (r.status !== 0) assert.fail(`${SCRIPT} exited ${r.status} (apt-get install python3-mir-eval): ${r.stderr.trim() || '(no message)'}`);
    const parsed = JSON.parse(r.stdout) as { cases: Record<string, Record<string, number | string>> };
    refs = Object.fromEntries(
      Object.entries(parsed.cases).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([f, x]) => [f, Number(x)])) as unknown as RefScores]),
    );
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  all.forEach((c, i) => {
    const title = c.exact ? `${c.name}: SDR and SI-SDR above ${EXACT_FLOOR_DB} dB on both sides` : `${c.name}: SDR and SI-SDR within ${TOLERANCE_DB} dB`;
    it(title, () => {
      const ref = refs[`c${i}`];
      assert.ok(ref, `no reference scores for ${c.name}`);
      const ours = scorePair(c.reference, c.estimate);
      if (c.exact) {
        for (const [what, v] of Object.entries({ 'our SDR': ours.sdr, 'mir_eval SDR': ref.sdr, 'our SI-SDR': ours.sisdr, 'numpy SI-SDR': ref.sisdr })) {
          assert.ok(v > EXACT_FLOOR_DB, `${what} ${v} dB for an exact copy`);
        }
        return;
      }
      const dSdr = Math.abs(ours.sdr - ref.sdr);
      const dSi = Math.abs(ours.sisdr - ref.sisdr);
      if (process.env.HIL_METRICS_VERBOSE) {
        process.stderr.write(`${c.name.padEnd(64)} sdr ${ours.sdr.toFixed(4)} (mir_eval ${ref.sdr.toFixed(4)}, Δ ${dSdr.toExponential(2)}) ` +
          `si-sdr ${ours.sisdr.toFixed(4)} (numpy ${ref.sisdr.toFixed(4)}, Δ ${dSi.toExponential(2)}) mir_eval ${(ref.seconds * 1000).toFixed(0)} ms\n`);
      }
      assert.ok(dSdr <= TOLERANCE_DB, `SDR ${ours.sdr} vs mir_eval ${ref.sdr}`);
      assert.ok(dSi <= TOLERANCE_DB, `SI-SDR ${ours.sisdr} vs numpy ${ref.sisdr}`);
      // The single-source identities that let us report SDR alone (src/metrics/sdr.ts).
      assert.equal(ref.sir, Infinity, 'mir_eval SIR of a single source');
      assert.ok(Math.abs(ref.sar - ref.sdr) < 1e-9, 'mir_eval SAR equals SDR for a single source');
    });
  });
});

describe('metric properties', () => {
  const A = talkerA;
  const est = noisy(fir(delay(A, 7), 31, 2500), 12, 'p1');

  it('SDR and SI-SDR ignore the estimate\'s gain and sign', () => {
    const base = scorePair(A, est);
    for (const g of [1e-3, 0.37, -2, 1e3]) {
      const s = scorePair(A, scale(est, g));
      assert.ok(Math.abs(s.sdr - base.sdr) < 1e-9, `SDR at gain ${g}: ${s.sdr} vs ${base.sdr}`);
      assert.ok(Math.abs(s.sisdr - base.sisdr) < 1e-9, `SI-SDR at gain ${g}: ${s.sisdr} vs ${base.sisdr}`);
    }
  });

  it('SI-SDR removes both means; SDR counts a DC offset as error', () => {
    const shifted = est.map((v) => v + 0.05);
    assert.ok(Math.abs(sisdr(A, shifted) - sisdr(A, est)) < 1e-9);
    assert.ok(Math.abs(sisdr(A.map((v) => v - 0.03), est) - sisdr(A, est)) < 1e-9);
    assert.ok(sdr(A, shifted) < sdr(A, est) - 1, 'a DC offset lowers SDR');
  });

  it('SDR forgives a delay inside the 512-tap filter, SI-SDR does not', () => {
    const n = noisy(A, 20, 'p2');
    const late = delay(n, 5);
    assert.ok(Math.abs(sdr(A, late) - sdr(A, n)) < 0.05, `${sdr(A, late)} vs ${sdr(A, n)}`);
    assert.ok(sisdr(A, late) < sisdr(A, n) - 10);
  });

  it('scores a 4 s clip at 16 kHz in well under a second', () => {
    const ref = speechLike(4, 'timing');
    const e = noisy(fir(ref, 31, 3000), 10, 'p3');
    scorePair(ref.subarray(0, 2048), e.subarray(0, 2048)); // warm up the JIT
    const t0 = performance.now();
    scorePair(ref, e);
    const ms = performance.now() - t0;
    if (process.env.HIL_METRICS_VERBOSE) process.stderr.write(`scorePair on 4 s: ${ms.toFixed(0)} ms\n`);
    assert.ok(ms < 1000, `scorePair took ${ms.toFixed(0)} ms on 64000 samples`);
  });
});

describe('metric input errors', () => {
  const A = talkerC;
  const est = noisy(A, 10, 'e1');
  const names = { reference: 'clean/a.wav', estimate: 'enhanced/a.wav' };

  const throwsHil = (fn: () => unknown, pattern: RegExp, cls: new (...a: never[]) => Error = HilError) =>
    assert.throws(fn, (e: unknown) => e instanceof cls && pattern.test((e as HilError).line()));

  it('unequal lengths name both signals and say how to fix', () => {
    throwsHil(() => scorePair(A, est.subarray(1), names), /enhanced\/a\.wav has 15999 samples but clean\/a\.wav has 16000.*trim or pad/);
  });

  it('a silent reference is refused', () => {
    throwsHil(() => scorePair(new Float64Array(A.length), est, names), /clean\/a\.wav is silent/);
    throwsHil(() => scorePair(new Float64Array(0), new Float64Array(0), names), /clean\/a\.wav is silent \(no samples\)/);
    throwsHil(() => sisdr(new Float64Array(A.length).fill(0.25), est, names), /clean\/a\.wav is silent \(every sample is 0\.25: DC only\)/);
  });

  it('a silent estimate raises SilentEstimateError, a HilError', () => {
    throwsHil(() => scorePair(A, new Float64Array(A.length), names), /enhanced\/a\.wav is silent \(all samples zero\)/, SilentEstimateError);
    throwsHil(() => scorePair(A, new Float64Array(A.length).fill(0.1), names), /enhanced\/a\.wav is silent \(every sample is 0\.1: DC only\)/, SilentEstimateError);
    throwsHil(() => sdr(A, new Float64Array(A.length).fill(-0.5), names), /enhanced\/a\.wav is silent/, SilentEstimateError);
  });

  it('NaN and infinite samples are refused with their index', () => {
    const bad = Float64Array.from(est);
    bad[1234] = NaN;
    throwsHil(() => scorePair(A, bad, names), /enhanced\/a\.wav has a non-finite sample \(NaN\) at index 1234/);
    const badRef = Float64Array.from(A);
    badRef[7] = -Infinity;
    throwsHil(() => sdr(badRef, est, names), /clean\/a\.wav has a non-finite sample \(-Infinity\) at index 7/);
  });

  it('messages default to the roles when no names are given', () => {
    throwsHil(() => scorePair(A, est.subarray(2)), /^estimate has 15998 samples but reference has 16000/);
  });
});
