/** TFLite-style quantization: nudged zero points, per-channel weights, biases, frexp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { chooseQuantParams, dequantizeValue, frexp, quantizeBias, quantizeValue, quantizeWeightsPerChannel, roundHalfAway } from '../../src/quant/quantize.js';
import { HilError } from '../../src/util/errors.js';

test('chooseQuantParams: hand-checked ranges', () => {
  // [0, 25.5]: a ReLU output; scale 0.1, zero point at the bottom.
  assert.deepEqual(chooseQuantParams(0, 25.5), { scale: Math.fround(0.1), zeroPoint: -128 });
  // [-1, 1]: scale float32(2/255), which rounds up, so the candidates are just above −0.5 and round to 0.
  assert.deepEqual(chooseQuantParams(-1, 1), { scale: Math.fround(2 / 255), zeroPoint: 0 });
  // [-1, 3]: scale 4/255; from min: −128 + 63.75 = −64.25 (error 191.75), from max: 127 − 191.25 (error 318.25) → −64.
  assert.deepEqual(chooseQuantParams(-1, 3), { scale: Math.fround(4 / 255), zeroPoint: -64 });
  // A range that excludes 0 is widened to include it.
  assert.deepEqual(chooseQuantParams(2, 5.1), chooseQuantParams(0, 5.1));
  assert.deepEqual(chooseQuantParams(-5.1, -2), { scale: Math.fround(5.1 / 255), zeroPoint: 127 });
  assert.throws(() => chooseQuantParams(1, 0), HilError);
  assert.throws(() => chooseQuantParams(0, Infinity), HilError);
  assert.ok(chooseQuantParams(0, 0).scale > 0);
});

test('0.0 is exactly representable and the range is covered, for random ranges', () => {
  const rng = seedrandom('ranges');
  for (let k = 0; k < 2000; k++) {
    const a = (rng() * 2 - 1) * 10 ** (rng() * 4 - 2), b = (rng() * 2 - 1) * 10 ** (rng() * 4 - 2);
    const p = chooseQuantParams(Math.min(a, b), Math.max(a, b));
    assert.equal(Math.fround(p.scale), p.scale, 'scale is a float32');
    assert.equal(quantizeValue(0, p), p.zeroPoint);
    assert.equal(dequantizeValue(p.zeroPoint, p), 0);
    assert.ok(p.zeroPoint >= -128 && p.zeroPoint <= 127);
    for (const x of [Math.min(a, b, 0), Math.max(a, b, 0)]) assert.ok(Math.abs(dequantizeValue(quantizeValue(x, p), p) - x) <= p.scale * 0.5001 + 1e-12, `x ${x}`);
  }
});

test('frexp is exact', () => {
  const rng = seedrandom('frexp');
  for (let k = 0; k < 5000; k++) {
    const x = Math.exp((rng() * 2 - 1) * 700);
    const [q, e] = frexp(x);
    assert.ok(q >= 0.5 && q < 1);
    assert.equal(q * 2 ** e, x);
  }
  assert.deepEqual(frexp(1), [0.5, 1]);
  assert.deepEqual(frexp(0.75), [0.75, 0]);
  assert.deepEqual(frexp(5e-324), [0.5, -1073]);
});

test("per-channel symmetric weights: each row's largest magnitude maps to ±127; zero rows are fine", () => {
  const w = Float32Array.from([0.5, -1, 0.25, 0, 0, 0, 3, 1.5, -0.75]);
  const { q, scales } = quantizeWeightsPerChannel(w, 3, 3);
  assert.deepEqual([...q], [64, -127, 32, 0, 0, 0, 127, 64, -32]);
  assert.deepEqual([...scales], [Math.fround(1 / 127), Math.fround(1 / 127), Math.fround(3 / 127)]);
  const bias = quantizeBias(Float32Array.from([0.1, 0, -1]), 0.5, scales);
  assert.equal(bias[0], roundHalfAway(0.1 / Math.fround(0.5 * scales[0])));
  assert.equal(bias[2], roundHalfAway(-1 / Math.fround(0.5 * scales[2])));
  assert.equal(roundHalfAway(-2.5), -3);
  assert.equal(roundHalfAway(2.5), 3);
});
