/** The 16-bit output layer (docs/model-format.md §5): its primitives, its lowering, and what it buys. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { lowerToQuantGraph, parseOutputBits } from '../../src/export/lower.js';
import { writeBlob } from '../../src/export/blob.js';
import { Engine, parseBlob, runClipOnHost } from '../../src/engine/index.js';
import { lut16, mbqm64 } from '../../src/engine/primitives.js';
import { floatForward } from '../../src/model/forward.js';
import { HilError } from '../../src/util/errors.js';
import { parseProfile } from '../../src/compress/profile.js';
import { recalibrated, pruneMagnitude, testSignal, tinyModel } from '../support/engineFixtures.js';

/** CMSIS-NN's arm_nn_requantize_s64 form (shift by t − 1, then round by one bit): the same function as §4.1's. */
function requantizeS64(x: bigint, m: number, shift: number): bigint {
  const reduced = BigInt(m < 0x7fff0000 ? (m + (1 << 15)) >>> 16 : 0x7fff);
  const t = BigInt(15 - shift);
  return (((x * reduced) >> (t - 1n)) + 1n) >> 1n;
}

test('mbqm64 equals the CMSIS-NN s64 requantization on random and edge inputs', () => {
  const rng = seedrandom('hil-mbqm64');
  const xs = [0, 1, -1, 2 ** 40, -(2 ** 40), 2 ** 41 - 1, -(2 ** 41) + 1, 12345, -12345];
  const ms = [0, 1, 2 ** 30, 0x7fff0000 - 1, 0x7fff0000, 2 ** 31 - 1, 1518500250];
  const shifts = [-31, -20, -1, 0, 1, 7];
  for (let k = 0; k < 3000; k++) {
    xs.push(Math.round((rng() * 2 - 1) * 2 ** (1 + 40 * rng())));
    ms.push(Math.floor(rng() * 2 ** 31));
  }
  for (let k = 0; k < xs.length; k++) {
    const m = ms[k % ms.length], s = shifts[k % shifts.length];
    assert.equal(BigInt(mbqm64(xs[k], m, s)), requantizeS64(BigInt(xs[k]), m, s), `x ${xs[k]} M ${m} shift ${s}`);
  }
});

test('lut16 hits the table on its grid and interpolates monotonically between', () => {
  const table = Int16Array.from({ length: 513 }, (_, j) => Math.min(32767, Math.round(32768 / (1 + Math.exp(-(128 * j - 32768) / 4096)))));
  for (let j = 0; j < 512; j++) assert.equal(lut16(table, 128 * j - 32768), table[j]);
  let prev = -1;
  for (let x = -32768; x <= 32767; x++) {
    const y = lut16(table, x);
    assert.ok(y >= prev, `monotone at ${x}`);
    prev = y;
  }
  assert.equal(lut16(table, 32767), table[511] + (((table[512] - table[511]) * 127 + 64) >> 7));
});

test('outputBits 16 lowers fc_out to QUANTIZE → FC16 → LUT16 with an int16 Q15 mask; 8 leaves the blob unchanged', () => {
  const model = tinyModel(41);
  const b8 = writeBlob(lowerToQuantGraph(model));
  assert.deepEqual(writeBlob(lowerToQuantGraph(model, { outputBits: 8 })), b8);
  const g = lowerToQuantGraph(model, { outputBits: 16 });
  assert.deepEqual(g.ops.slice(-3).map((o) => o.op), ['QUANTIZE', 'FC16', 'LUT16']);
  const blob = parseBlob(writeBlob(g));
  const out = blob.tensors[blob.outputId];
  assert.equal(out.dtype, 'int16');
  assert.equal(out.scale, 1 / 32768);
  assert.equal(blob.tensors.filter((t) => t.dtype === 'int16').length, 3);
  // The widening is exact: fc_out_in holds 256 × the int8 state (scale 1/128 → 1/32768).
  const e = new Engine(blob);
  const pcm = testSignal(7, 2048);
  for (let f = 0; f < 8; f++) e.runFrame(pcm.subarray(256 * f, 256 * f + 256));
  const h = e.readTensor(g.tensors.findIndex((t) => t.name === 'gru0.h'));
  const wide = e.readValues(g.tensors.findIndex((t) => t.name === 'fc_out_in'));
  assert.deepEqual([...wide], [...h].map((v) => 256 * v));
  assert.equal(parseOutputBits(undefined, 'x'), 8);
  assert.throws(() => parseOutputBits(12, 'profile p'), (err: unknown) => err instanceof HilError && /outputBits 12/.test(err.message));
});

test('the int16 output layer tracks the float forward at least as closely as int8', () => {
  for (const [name, model] of [['se-tiny', tinyModel(31)], ['se-tiny pruned', recalibrated(pruneMagnitude(tinyModel(32), 0.3))]] as const) {
    const pcm = testSignal(100, 8000);
    const f = floatForward(model, pcm).output;
    const snr = (q: Int16Array) => {
      let sig = 0, err = 0;
      for (let i = 0; i < pcm.length; i++) {
        const ref = Math.max(-32768, Math.min(32767, f[i]));
        sig += ref * ref;
        err += (ref - q[i]) ** 2;
      }
      return 10 * Math.log10(sig / err);
    };
    const s8 = snr(runClipOnHost(writeBlob(lowerToQuantGraph(model)), pcm).output);
    const s16 = snr(runClipOnHost(writeBlob(lowerToQuantGraph(model, { outputBits: 16 })), pcm).output);
    console.log(`# ${name}: vs float SNR int8 output ${s8.toFixed(1)} dB, int16 output ${s16.toFixed(1)} dB (measured, host engine)`);
    assert.ok(s16 >= s8 - 0.1, `${name}: int16 ${s16} vs int8 ${s8}`);
  }
});

test('profile output_bits: 16 is recorded, 8 and absent leave the profile (and its identity) as before, anything else is refused', () => {
  const base = { name: 'p', structure: 'weight', sparsity: 0.5 };
  assert.equal(parseProfile({ ...base, output_bits: 16 }, 'p.json').outputBits, 16);
  assert.deepEqual(parseProfile({ ...base, output_bits: 8 }, 'p.json'), parseProfile(base, 'p.json'));
  assert.equal('outputBits' in parseProfile(base, 'p.json'), false);
  assert.throws(() => parseProfile({ ...base, output_bits: 12 }, 'p.json'), (e: unknown) => e instanceof HilError && /p\.json/.test(e.message));
});
