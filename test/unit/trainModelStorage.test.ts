/**
 * model.json storage as training writes it: float16 weights (the compact form for large pretrained models)
 * round correctly and load back as float32, and files without a dtype (every older model) load unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { ARCHS } from '../../src/model/arch.js';
import { float16ToFloat32, float32ToFloat16, loadFloatModel, roundWeightsToFloat16, saveFloatModel, type FloatModel } from '../../src/model/floatModel.js';
import { initWeights } from '../../src/model/tfModel.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-storage-'));

test('every float16 value survives float32 and back; neighbours round to the nearer one, ties to even', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const wide = float16ToFloat32(all);
  const back = float32ToFloat16(wide);
  for (let i = 0; i < 65536; i++) {
    const isNan = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
    if (isNan) assert.ok(Number.isNaN(wide[i]) && Number.isNaN(float16ToFloat32(back.subarray(i, i + 1))[0]));
    else assert.equal(back[i], i, `half 0x${i.toString(16)} → ${wide[i]} → 0x${back[i].toString(16)}`);
  }
  // Between consecutive positive halves a and b (normal, subnormal, across the exponent step): values below
  // the midpoint go to a, above to b, the midpoint to the one with an even mantissa.
  for (const a of [0x0000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0x3bff, 0x7bfe]) {
    const [lo, hi] = float16ToFloat32(Uint16Array.of(a, a + 1));
    const mid = (lo + hi) / 2;
    const probe = Float32Array.of(lo + (hi - lo) * 0.3, mid, lo + (hi - lo) * 0.7, -(lo + (hi - lo) * 0.7));
    const got = float32ToFloat16(probe);
    assert.deepEqual(Array.from(got), [a, a % 2 === 0 ? a : a + 1, a + 1, 0x8000 | (a + 1)], `between 0x${a.toString(16)} and 0x${(a + 1).toString(16)}`);
  }
  assert.deepEqual(Array.from(float32ToFloat16(Float32Array.of(65520, 1e6, -1e6, 1e-9))), [0x7c00, 0x7c00, 0xfc00, 0x0000]);
});

const model: FloatModel = {
  format: 'hil-float-model',
  version: 1,
  arch: 'se-small',
  hop: 256,
  sampleRate: 16000,
  seed: 1,
  weights: initWeights(ARCHS['se-small'], 4),
  ranges: { features: [0, 40] },
  provenance: { test: true },
  featureNorm: { mean: Array(257).fill(20), std: Array(257).fill(3) },
};

test('a float16 model.json is half the size and loads as its float16-rounded weights', () => {
  saveFloatModel(join(tmp, 'f32.json'), model);
  saveFloatModel(join(tmp, 'f16.json'), model, { weights: 'float16' });
  const f32 = loadFloatModel(join(tmp, 'f32.json'));
  const f16 = loadFloatModel(join(tmp, 'f16.json'));
  const ratio = statSync(join(tmp, 'f16.json')).size / statSync(join(tmp, 'f32.json')).size;
  assert.ok(ratio < 0.52, `size ratio ${ratio.toFixed(3)}`);
  const rounded = roundWeightsToFloat16(model);
  const rng = seedrandom('storage');
  for (const [name, t] of Object.entries(model.weights)) {
    assert.deepEqual(f32.weights[name].data, t.data, `${name}: float32 storage is exact`);
    assert.deepEqual(f16.weights[name].data, rounded.weights[name].data, name);
    const i = Math.floor(rng() * t.data.length);
    assert.ok(Math.abs(f16.weights[name].data[i] - t.data[i]) <= Math.abs(t.data[i]) * 2 ** -11 + 2 ** -25, `${name}[${i}]`);
  }
  assert.deepEqual(f16.featureNorm, model.featureNorm);
  assert.deepEqual(f16.ranges, model.ranges);
  const stored = JSON.parse(readFileSync(join(tmp, 'f16.json'), 'utf8'));
  assert.equal(stored.weights['fc_in.w'].dtype, 'float16');
  assert.equal(JSON.parse(readFileSync(join(tmp, 'f32.json'), 'utf8')).weights['fc_in.w'].dtype, undefined, 'float32 files keep the original layout');
});
