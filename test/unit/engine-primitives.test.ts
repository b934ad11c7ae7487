/** Integer primitives, FFT, log2q and DSP tables: hand-derived vectors, BigInt references, spec properties. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import seedrandom from 'seedrandom';
import { mbqm, rdbpot, reference, srdhm, INT32_MAX, INT32_MIN } from '../../src/engine/primitives.js';
import { fft, log2q } from '../../src/engine/dsp.js';
import { LOG2_TAB, TW_COS, TW_SIN } from '../../src/engine/tables.js';
import { quantizeMultiplier } from '../../src/quant/quantize.js';
import { computeTables, generatedFiles, JSON_PATH } from '../../scripts/dsp-tables.js';

const PRIMITIVES = new URL('../vectors/primitives.txt', import.meta.url);

function primitiveLines(): string[][] {
  return readFileSync(PRIMITIVES, 'utf8')
    .split('\n')
    .map((l) => l.split('#')[0].trim())
    .filter(Boolean)
    .map((l) => l.split(/\s+/));
}

test('hand-derived primitive vectors (test/vectors/primitives.txt) hold for the engine and the BigInt reference', () => {
  let n = 0;
  for (const [op, ...args] of primitiveLines()) {
    const v = args.map(Number);
    const where = `${op} ${args.join(' ')}`;
    switch (op) {
      case 'srdhm':
        assert.equal(srdhm(v[0], v[1]), v[2], where);
        assert.equal(reference.srdhm(v[0], v[1]), v[2], where + ' (BigInt)');
        break;
      case 'rdbpot':
        assert.equal(rdbpot(v[0], v[1]), v[2], where);
        assert.equal(reference.rdbpot(v[0], v[1]), v[2], where + ' (BigInt)');
        break;
      case 'mbqm':
        assert.equal(mbqm(v[0], v[1], v[2]), v[3], where);
        assert.equal(reference.mbqm(v[0], v[1], v[2]), v[3], where + ' (BigInt)');
        break;
      case 'log2q':
        assert.equal(log2q(v[0]), v[1], where);
        break;
      case 'qmul': {
        const q = quantizeMultiplier(v[0]);
        assert.deepEqual([q.m, q.shift], [v[1], v[2]], where);
        break;
      }
      case 'crc32':
        assert.equal(crc32(Buffer.from(args[0])) >>> 0, v[1], where);
        break;
      default:
        assert.fail(`unknown op ${op} in primitives.txt`);
    }
    n++;
  }
  assert.ok(n >= 50, `only ${n} primitive vectors`);
});

test('srdhm, rdbpot and mbqm equal the BigInt reference on random and edge inputs', () => {
  const rng = seedrandom('primitives');
  const edges = [0, 1, -1, 2, -2, 3, -3, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 1 << 30, -(1 << 30), (1 << 30) + 1, 65535, -65536, 32768];
  const int32 = () => (rng() < 0.2 ? edges[Math.floor(rng() * edges.length)] : (Math.floor(rng() * 2 ** 32) | 0));
  for (let k = 0; k < 30000; k++) {
    const a = int32(), b = int32();
    assert.equal(srdhm(a, b), reference.srdhm(a, b), `srdhm(${a}, ${b})`);
    const e = Math.floor(rng() * 32);
    assert.equal(rdbpot(a, e), reference.rdbpot(a, e), `rdbpot(${a}, ${e})`);
    const m = rng() < 0.1 ? 0 : (1 << 30) + Math.floor(rng() * 2 ** 30);
    const shift = Math.floor(rng() * 63) - 31;
    assert.equal(mbqm(a, m, shift), reference.mbqm(a, m, shift), `mbqm(${a}, ${m}, ${shift})`);
  }
});

test('quantizeMultiplier reconstructs the real multiplier to 2^-31 relative', () => {
  const rng = seedrandom('qmul');
  for (let k = 0; k < 2000; k++) {
    const r = Math.exp((rng() * 2 - 1) * 18);
    const { m, shift } = quantizeMultiplier(r);
    assert.ok(m >= 2 ** 30 && m < 2 ** 31, `M ${m}`);
    assert.ok(Math.abs(m * 2 ** (shift - 31) - r) <= r * 2 ** -30, `r ${r}`);
  }
});

test('FFT: impulse and DC are exact, a cosine lands in its two bins, forward+inverse round-trips', () => {
  const N = 512;
  const re = new Int32Array(N), im = new Int32Array(N);
  re[0] = 1000;
  fft(re, im, false);
  assert.ok(re.every((v) => v === 1000) && im.every((v) => v === 0), 'impulse → flat');
  re.fill(1234);
  im.fill(0);
  fft(re, im, false);
  assert.equal(re[0], 1234 * N);
  assert.ok(re.subarray(1).every((v) => v === 0) && im.every((v) => v === 0), 'DC → one bin');
  // Inverse with per-stage halving: a flat spectrum of 1000 is an impulse of 1000.
  re.fill(1000);
  im.fill(0);
  fft(re, im, true);
  assert.equal(re[0], 1000);
  assert.ok(re.subarray(1).every((v) => v === 0), 'inverse of flat → impulse');
  // A cosine of amplitude A at bin 5 gives about A·N/2 in bins 5 and N−5, and little elsewhere.
  const A = 10000;
  for (let k = 0; k < N; k++) re[k] = Math.round(A * Math.cos((2 * Math.PI * 5 * k) / N));
  im.fill(0);
  const x = re.slice();
  fft(re, im, false);
  for (const bin of [5, N - 5]) assert.ok(Math.abs(re[bin] - (A * N) / 2) < 64 && Math.abs(im[bin]) < 64, `bin ${bin}: ${re[bin]}, ${im[bin]}`);
  for (let k = 0; k < N; k++) if (k !== 5 && k !== N - 5) assert.ok(Math.abs(re[k]) < 64 && Math.abs(im[k]) < 64, `leak in bin ${k}`);
  fft(re, im, true);
  for (let k = 0; k < N; k++) assert.ok(Math.abs(re[k] - x[k]) <= 2, `round trip at ${k}: ${re[k]} vs ${x[k]}`);
});

test('log2q is within 1/1024·2 of log2 and exact at powers of two', () => {
  const rng = seedrandom('log2q');
  for (let e = 0; e < 53; e++) assert.equal(log2q(2 ** e), 1024 * e);
  let prev = 0;
  for (let k = 0; k < 20000; k++) {
    const v = Math.floor(2 ** (rng() * 52.9)) + 1;
    const q = log2q(v);
    assert.ok(Math.abs(q - 1024 * Math.log2(v)) <= 2, `log2q(${v}) = ${q}`);
  }
  for (let v = 1; v < 5000; v++) {
    const q = log2q(v);
    assert.ok(q >= prev, 'monotone');
    prev = q;
  }
});

test('DSP tables: the JSON is the spec formula and the generated C/TS files are up to date', () => {
  const spec = computeTables();
  const json = JSON.parse(readFileSync(JSON_PATH, 'utf8'));
  assert.deepEqual(json.TW_COS, spec.TW_COS);
  assert.deepEqual(json.TW_SIN, spec.TW_SIN);
  assert.deepEqual(json.LOG2_TAB, spec.LOG2_TAB);
  assert.deepEqual([...TW_COS], spec.TW_COS);
  assert.deepEqual([...TW_SIN], spec.TW_SIN);
  assert.deepEqual([...LOG2_TAB], spec.LOG2_TAB);
  for (const [path, text] of Object.entries(generatedFiles())) assert.equal(readFileSync(path, 'utf8'), text, `${path} is stale: npm run gen`);
});
