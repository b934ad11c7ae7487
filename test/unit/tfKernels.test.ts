import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTf, setKernelFixes, tf } from '../../src/model/tfBackend.js';
import { fakeQuant, fakeQuantComposite, type FakeQuantAttrs } from '../../src/model/tfFakeQuant.js';

const info = await initTf({ backend: 'wasm' });

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

/** Runs f (value and gradient w.r.t. every input) with the fixes and with tfjs's own kernels. */
function bothWays(inputs: tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor): { fixed: Float32Array[]; original: Float32Array[] } {
  const run = () => {
    const y = f(...inputs);
    const g = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), tf.range(1, f(...xs).size + 1).reshape(y.shape))))(inputs);
    return [y, ...g].map((t) => t.dataSync() as Float32Array);
  };
  setKernelFixes(true);
  const fixed = run();
  setKernelFixes(false);
  const original = run();
  setKernelFixes(true);
  return { fixed, original };
}

test('backend selection reports wasm with SIMD and the kernel fixes installed', () => {
  assert.equal(info.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(info.simd, true);
  assert.equal(info.kernelFixes, true);
  assert.equal(info.tfjsVersion, tf.version.tfjs);
});

test('an unknown backend name is a user error', async () => {
  await assert.rejects(initTf({ backend: 'gpu' as never }), /unknown tfjs backend "gpu"/);
});

for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
  test(`BatchMatMul fix (transposeA=${ta}, transposeB=${tb}) gives the original values and gradients`, () => {
    const a = rand(ta ? [2, 7, 5] : [2, 5, 7], 1);
    const b = rand(tb ? [2, 3, 7] : [2, 7, 3], 2);
    const { fixed, original } = bothWays([a, b], (x, y) => tf.matMul(x, y, ta, tb));
    fixed.forEach((v, i) => assert.deepEqual(v, original[i]));
  });
}

test('2-D matMul gradients (transposed matmuls) match the original kernel', () => {
  const { fixed, original } = bothWays([rand([16, 33], 3), rand([33, 20], 4)], (x, w) => tf.matMul(x, w));
  fixed.forEach((v, i) => assert.deepEqual(v, original[i]));
});

test('Slice fix: contiguous and strided slices, values and gradients', () => {
  const x = rand([4, 6, 5], 5);
  for (const [begin, size] of [
    [[1, 0, 0], [2, 6, 5]],
    [[0, 2, 1], [4, 3, 3]],
    [[3, 5, 4], [1, 1, 1]],
  ] as const) {
    const { fixed, original } = bothWays([x], (t) => tf.slice(t, [...begin], [...size]));
    fixed.forEach((v, i) => assert.deepEqual(v, original[i]));
  }
  const { fixed, original } = bothWays([rand([3, 4, 2, 5, 2], 6)], (t) => tf.slice(t, [1, 1, 0, 2, 1], [2, 2, 2, 2, 1]));
  fixed.forEach((v, i) => assert.deepEqual(v, original[i]));
});

test('Unpack and SplitV fixes give the original values and gradients', () => {
  const x = rand([3, 10, 6], 7);
  for (const axis of [0, 1, 2]) {
    const { fixed, original } = bothWays([x], (t) => tf.stack(tf.unstack(t, axis).map((u, i) => u.mul(i + 1)), axis));
    fixed.forEach((v, i) => assert.deepEqual(v, original[i]));
  }
  const { fixed, original } = bothWays([x], (t) => {
    const [p, q, r] = tf.split(t, [1, 3, 2], 2);
    return tf.concat([r, p.mul(2), q.mul(3)], 2);
  });
  fixed.forEach((v, i) => assert.deepEqual(v, original[i]));
});

test('the fake-quant kernel matches the composite ops (values and straight-through gradient)', () => {
  const x = tf.randomUniform([8, 12], -3, 3, 'float32', 9);
  const perTensor: FakeQuantAttrs = { scale: [6 / 255], zeroPoint: [-3], qmin: -128, qmax: 127 };
  const perColumn: FakeQuantAttrs = { scale: Array.from({ length: 12 }, (_, i) => (i < 6 ? 1 / 64 : 1 / 256)), zeroPoint: Array.from({ length: 12 }, (_, i) => (i < 6 ? 0 : -128)), qmin: -128, qmax: 127 };
  for (const a of [perTensor, perColumn]) {
    const k = fakeQuant(x, a).dataSync();
    const c = fakeQuantComposite(x, a).dataSync();
    let differ = 0;
    for (let i = 0; i < k.length; i++) if (Math.abs(k[i] - c[i]) > 1e-6) differ++;
    // Only values within float32 rounding of a half step may land on different grid points.
    assert.ok(differ <= 1, `${differ} values differ`);
    const w = tf.range(0, x.size).reshape(x.shape);
    const gk = tf.grad((t: tf.Tensor) => tf.sum(fakeQuant(t, a).mul(w)))(x).dataSync();
    const gc = tf.grad((t: tf.Tensor) => tf.sum(fakeQuantComposite(t, a).mul(w)))(x).dataSync();
    assert.deepEqual(gk, gc);
    assert.ok(gk.some((v) => v === 0) && gk.some((v) => v !== 0), 'some inputs clip, some pass');
  }
});

test('fake quantization puts values on the int8 grid of the given scale and zero point', () => {
  const a: FakeQuantAttrs = { scale: [0.1], zeroPoint: [10], qmin: -128, qmax: 127 };
  const y = fakeQuant(tf.tensor1d([0.04, 0.06, -20, 20, -13.84]), a).dataSync();
  assert.deepEqual(Array.from(y).map((v) => Math.round(v * 1000) / 1000), [0, 0.1, -13.8, 11.7, -13.8]);
});
