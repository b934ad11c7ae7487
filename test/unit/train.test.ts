import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { ARCHS, activationNames } from '../../src/model/arch.js';
import { loadFloatModel } from '../../src/model/floatModel.js';
import { initTf, tf } from '../../src/model/tfBackend.js';
import { FLOAT_MODE, fakeQuantWeight, initWeights, SeNet } from '../../src/model/tfModel.js';
import { Adam } from '../../src/model/trainAdam.js';
import { spectralLoss, train, trainStep, type StepContext } from '../../src/model/train.js';
import { epochBatches, loadTrainCorpus, stepsPerEpoch } from '../../src/model/dataset.js';
import { istft, stft } from '../../src/model/stft.js';
import { fakeQuantWeightsJs, quantParamsForRange, RangeObserver, observedActivationNames } from '../../src/model/qat.js';
import { makeSyntheticCorpus } from './trainFixture.js';

await initTf({ backend: 'wasm' });
const tmp = mkdtempSync(join(tmpdir(), 'hil-train-'));
const corpus = loadTrainCorpus(makeSyntheticCorpus(join(tmp, 'corpus'), { speech: 8 }));
const tiny = ARCHS['se-tiny'];
const small = { batchSize: 4, frames: 20 };

test('STFT and overlap-add reconstruct the input exactly (hop 256 and 128)', () => {
  const rng = seedrandom('stft');
  const x = Float64Array.from({ length: 4000 }, () => (rng() * 2 - 1) * 10000);
  for (const hop of [256, 128]) {
    const y = istft(stft(x, hop), hop, x.length);
    // Spectra are float32 (relative error ~1e-7 of 1e4); samples past the last full frame lack their overlap partner.
    for (let i = 0; i < x.length - 512; i++) assert.ok(Math.abs(y[i] - x[i]) < 1e-3, `hop ${hop} sample ${i}: ${y[i]} vs ${x[i]}`);
  }
});

/** Float64 GRU frame by frame, written independently from the tfjs model (docs/model-format.md §9). */
function referenceMask(w: Record<string, { shape: number[]; data: Float32Array }>, feats: Float32Array, T: number): Float64Array {
  const fc = (name: string, x: ArrayLike<number>) => {
    const [o, i] = w[name + '.w'].shape;
    const y = new Float64Array(o);
    for (let r = 0; r < o; r++) {
      let s = w[name + '.b'].data[r];
      for (let c = 0; c < i; c++) s += w[name + '.w'].data[r * i + c] * x[c];
      y[r] = s;
    }
    return y;
  };
  const g = (l: number, k: string, x: ArrayLike<number>) => {
    const W = w[`gru${l}.${k}`];
    const b = w[`gru${l}.${k.replace('w_', 'b_')}`];
    const [o, i] = W.shape;
    return Float64Array.from({ length: o }, (_, r) => {
      let s = b.data[r];
      for (let c = 0; c < i; c++) s += W.data[r * i + c] * x[c];
      return s;
    });
  };
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const H = tiny.hidden;
  let h = new Float64Array(H);
  const out = new Float64Array(T * 257);
  for (let t = 0; t < T; t++) {
    const x = fc('fc_in', feats.subarray(t * 257, (t + 1) * 257)).map((v) => Math.max(0, v));
    const xz = g(0, 'w_xz', x), xr = g(0, 'w_xr', x), xn = g(0, 'w_xn', x);
    const hz = g(0, 'w_hz', h), hr = g(0, 'w_hr', h), hn = g(0, 'w_hn', h);
    const hNew = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const z = sig(xz[j] + hz[j]);
      const r = sig(xr[j] + hr[j]);
      const n = Math.tanh(xn[j] + r * hn[j]);
      hNew[j] = (1 - z) * n + z * h[j];
    }
    h = hNew;
    out.set(fc('fc_out', h).map(sig), t * 257);
  }
  return out;
}

test('the tfjs forward is the frame-by-frame GRU math, and chunks with carried state equal one pass', () => {
  const weights = initWeights(tiny, 3);
  const net = new SeNet('se-tiny', 256, weights);
  const batch = epochBatches(corpus, { seed: 1, epoch: 0, batchSize: 1, frames: 12, hop: 256 }).next().value!;
  const feats = batch.features;
  const ref = referenceMask(weights, feats, 12);
  const whole = tf.tidy(() => net.forward(tf.tensor3d(feats, [1, 12, 257])).mask.dataSync());
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(whole[i] - ref[i]) < 1e-5, `mask ${i}: ${whole[i]} vs ${ref[i]}`);
  const chunked = tf.tidy(() => {
    const a = net.forward(tf.tensor3d(feats.subarray(0, 5 * 257), [1, 5, 257]));
    const b = net.forward(tf.tensor3d(feats.subarray(5 * 257), [1, 7, 257]), { state: a.state });
    return tf.concat([a.mask, b.mask], 1).dataSync();
  });
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(chunked[i] - whole[i]) < 1e-6);
  net.dispose();
});

test('one training step lowers the loss on a fixed batch (float and QAT)', () => {
  const batch = epochBatches(corpus, { seed: 1, epoch: 0, ...small, hop: 256 }).next().value!;
  const shape: [number, number, number] = [batch.batch, batch.frames, 257];
  for (const qat of [false, true]) {
    const net = new SeNet('se-tiny', 256, initWeights(tiny, 1));
    const adam = new Adam(net.vars);
    const observer = new RangeObserver();
    trainStep(net, adam, batch, FLOAT_MODE, 0, observer); // lr 0: only observes ranges
    const mode = qat ? { weights: true, act: (n: string) => observer.params(n) } : FLOAT_MODE;
    const lossOf = () => tf.tidy(() => spectralLoss(net.forward(tf.tensor3d(batch.features, shape), { quant: mode }).mask, tf.tensor3d(batch.noisyMag, shape), tf.tensor3d(batch.cleanMag, shape)).dataSync()[0]);
    const before = lossOf();
    const reported = trainStep(net, adam, batch, mode, 1e-3);
    assert.ok(Math.abs(reported - before) < 1e-5 * before, 'trainStep reports the pre-update loss');
    const after = lossOf();
    assert.ok(after < before, `${qat ? 'QAT' : 'float'}: loss ${before} → ${after}`);
    adam.dispose();
    net.dispose();
  }
});

test('resuming after an interruption gives the same weights as an uninterrupted run', async () => {
  const common = { arch: 'se-tiny' as const, corpus, epochs: 3, seed: 7, qat: { enabled: true, warmupSteps: 2, observeEvery: 1 }, ...small };
  const straight = await train({ ...common, outDir: join(tmp, 'straight') });
  const partial = await train({ ...common, outDir: join(tmp, 'resumed'), stopAfterEpochs: 1 });
  assert.equal(partial.history.length, 1);
  assert.ok(!existsSync(join(tmp, 'resumed', 'model.json')), 'no model.json before the last epoch');
  const resumed = await train({ ...common, outDir: join(tmp, 'resumed') });
  assert.equal(resumed.resumedFromEpoch, 1);
  for (const [name, t] of Object.entries(straight.model.weights)) assert.deepEqual(resumed.model.weights[name].data, t.data, name);
  assert.deepEqual(resumed.model.ranges, straight.model.ranges);
  const saved = loadFloatModel(join(tmp, 'resumed', 'model.json'));
  assert.equal(saved.arch, 'se-tiny');
  assert.deepEqual(Object.keys(saved.ranges).sort(), observedActivationNames(tiny).sort());
  for (const n of Object.keys(saved.ranges)) assert.ok(activationNames(tiny).includes(n));
  const log = readFileSync(join(tmp, 'resumed', 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(log.map((r) => r.epoch), [1, 2, 3]);
  assert.ok(Number.isFinite(log[2].valSisdr));
  await assert.rejects(train({ ...common, seed: 8, outDir: join(tmp, 'resumed') }), /different training run \(differs in: seed\)/);
});

test('masks set by the step hook keep pruned weights at exactly zero', async () => {
  const seen: number[] = [];
  const hooks = {
    beforeStep(ctx: StepContext) {
      seen.push(ctx.step);
      if (ctx.step !== 1) return;
      const w = ctx.weights('gru0.w_hz');
      const mask = w.map((v) => (Math.abs(v) < 0.1 ? 0 : 1));
      ctx.setMask('gru0.w_hz', mask);
    },
  };
  const r = await train({ arch: 'se-tiny', corpus, epochs: 2, seed: 3, qat: { enabled: false }, ...small, outDir: join(tmp, 'masked'), hooks });
  assert.deepEqual(seen, [0, 1, 2, 3]);
  const w = r.model.weights['gru0.w_hz'].data;
  const zeros = w.filter((v) => v === 0).length;
  assert.ok(zeros > 0.1 * w.length, `${zeros} zeros`);
  assert.ok((r.model.provenance.masks as Record<string, number>)['gru0.w_hz'] > 0.1);
});

test('weight fake quantization in tfjs is the int8 per-channel grid of the exporter', () => {
  const w = initWeights(tiny, 5)['gru0.w_xn'];
  w.data.fill(0, 0, w.shape[1]); // an all-zero row must stay zero
  const got = tf.tidy(() => fakeQuantWeight(tf.tensor2d(w.data, w.shape as [number, number])).dataSync());
  const expected = fakeQuantWeightsJs(w.data, w.shape[0], w.shape[1]);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - expected[i]) <= 1e-7, `${i}: ${got[i]} vs ${expected[i]}`);
  const row1 = new Set(Array.from(expected.subarray(w.shape[1], 2 * w.shape[1])));
  assert.ok(row1.size > 10 && row1.size <= 255);
});

test('activation ranges map to TFLite int8 parameters (0 exact, scale over 255 steps)', () => {
  const p = quantParamsForRange(-1, 3);
  assert.equal(p.zeroPoint, -64); // −128 + 1/(4/255) = −64.25
  assert.equal(p.scale, Math.fround(4 / 255));
  assert.deepEqual(quantParamsForRange(0.5, 2), { scale: Math.fround(2 / 255), zeroPoint: -128 });
  assert.equal(quantParamsForRange(-4, -1).zeroPoint, 127);
});

test('a step budget shorter than the epochs ends the last epoch early, and schedules run over the budget', async () => {
  const common = { arch: 'se-tiny' as const, corpus, seed: 7, qat: { enabled: false }, batchSize: 2, frames: 20 };
  const perEpoch = stepsPerEpoch(corpus, 2);
  assert.ok(perEpoch >= 3, `the fixture has ${perEpoch} steps per epoch`);
  const seen: { step: number; total: number }[] = [];
  const hooks = { beforeStep: (ctx: StepContext) => void seen.push({ step: ctx.step, total: ctx.totalSteps }) };
  const capped = await train({ ...common, epochs: 1, steps: perEpoch - 1, outDir: join(tmp, 'capped'), hooks });
  assert.equal(capped.history.at(-1)!.step, perEpoch - 1);
  assert.deepEqual(seen.map((s) => s.step), Array.from({ length: perEpoch - 1 }, (_, i) => i));
  assert.ok(seen.every((s) => s.total === perEpoch - 1));
  // A budget the epochs already meet is the same run as none: same fingerprint, same weights.
  const whole = await train({ ...common, epochs: 1, outDir: join(tmp, 'whole') });
  const same = await train({ ...common, epochs: 1, steps: perEpoch, outDir: join(tmp, 'whole-budget') });
  for (const [name, t] of Object.entries(whole.model.weights)) assert.deepEqual(same.model.weights[name].data, t.data, name);
});

