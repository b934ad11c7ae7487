/** Bootstrap intervals on cases whose answer is known. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { meanInterval, pairedDifference } from '../../src/report/confidence.js';

/** Standard normal draws (Box–Muller), seeded. */
function normals(n: number, seed: string, mu = 0, sigma = 1): number[] {
  const rng = seedrandom(seed);
  return Array.from({ length: n }, () => mu + sigma * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
}

test('the interval of a normal sample matches mean ± 1.96 s/√n within the bootstrap error', () => {
  const x = normals(400, 'ci-1', 3, 2);
  const n = x.length;
  const m = x.reduce((a, b) => a + b, 0) / n;
  const s = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
  const ci = meanInterval(x);
  assert.ok(Math.abs(ci.mean - m) < 1e-12);
  const half = (1.96 * s) / Math.sqrt(n);
  assert.ok(Math.abs(ci.lo - (m - half)) < 0.1 * half, `lo ${ci.lo} vs ${m - half}`);
  assert.ok(Math.abs(ci.hi - (m + half)) < 0.1 * half, `hi ${ci.hi} vs ${m + half}`);
});

test('95 % intervals cover the true mean about 95 % of the time', () => {
  let covered = 0;
  const trials = 200;
  for (let t = 0; t < trials; t++) {
    const ci = meanInterval(normals(30, `cover-${t}`, 1.5, 1), { resamples: 2000, seed: `b-${t}` });
    if (ci.lo <= 1.5 && 1.5 <= ci.hi) covered++;
  }
  // The percentile bootstrap undercovers a little at n = 30: expect 88–99 %.
  assert.ok(covered >= 0.88 * trials && covered <= 0.99 * trials, `covered ${covered}/${trials}`);
});

test('the same seed gives the same interval; a constant sample gives a zero-width one', () => {
  const x = normals(20, 'seed');
  assert.deepEqual(meanInterval(x, { seed: 's' }), meanInterval(x, { seed: 's' }));
  assert.deepEqual(meanInterval([2, 2, 2, 2]), { mean: 2, lo: 2, hi: 2, n: 4 });
  assert.ok(Number.isNaN(meanInterval([]).mean));
});

test('pairing removes the spread clips share: a 0.1 dB shift under 5 dB of clip spread is resolved', () => {
  const clips = normals(40, 'clips', 10, 5);
  const noise = normals(40, 'noise', 0, 0.05);
  const a = new Map(clips.map((v, i) => [`c${i}`, v]));
  const b = new Map(clips.map((v, i) => [`c${i}`, v - 0.1 + noise[i]!]));
  const d = pairedDifference(a, b);
  assert.ok(d.resolved && d.hi < 0 && d.lo > -0.2, JSON.stringify(d));
  assert.equal(d.unmatched, 0);
  // Unpaired, the same shift is far inside the clip spread: the two means' intervals overlap.
  const ia = meanInterval([...a.values()]);
  const ib = meanInterval([...b.values()]);
  assert.ok(ib.hi > ia.lo && ia.hi > ib.lo);
});

test('a difference whose interval straddles zero is not resolved; clips on one side only are counted', () => {
  const a = new Map([['x', 1], ['y', 2], ['z', 3], ['only-a', 9]]);
  const b = new Map([['x', 1.5], ['y', 1.5], ['z', 3.1], ['only-b', 0]]);
  const d = pairedDifference(a, b);
  assert.equal(d.n, 3);
  assert.equal(d.unmatched, 2);
  assert.equal(d.resolved, false);
});
