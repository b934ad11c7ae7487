/** Training an LSTM network (tinylstm-tiny): the tfjs cell, QAT, and export of what training made. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHS } from '../../src/model/arch.js';
import { initTf, tf } from '../../src/model/tfBackend.js';
import { FLOAT_MODE, initWeights, SeNet } from '../../src/model/tfModel.js';
import type { Tensor } from '../../src/model/floatModel.js';
import { Adam } from '../../src/model/trainAdam.js';
import { spectralLoss, train, trainStep } from '../../src/model/train.js';
import { epochBatches, loadTrainCorpus } from '../../src/model/dataset.js';
import { observedActivationNames, RangeObserver } from '../../src/model/qat.js';
import { FORGET_BIAS_INIT } from '../../src/model/init.js';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { writeBlob } from '../../src/export/blob.js';
import { Engine, runClipOnHost } from '../../src/engine/index.js';
import { floatForward } from '../../src/model/forward.js';
import { testSignal } from '../support/engineFixtures.js';
import { makeSyntheticCorpus } from './trainFixture.js';

await initTf({ backend: 'wasm' });
const tmp = mkdtempSync(join(tmpdir(), 'hil-train-lstm-'));
const corpus = loadTrainCorpus(makeSyntheticCorpus(join(tmp, 'corpus'), { speech: 8 }));
const arch = ARCHS['tinylstm-tiny'];
const small = { batchSize: 4, frames: 20 };
const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** Frame-by-frame float64 LSTM network written from PyTorch's equations, independent of tfModel.ts. */
function referenceMask(w: Record<string, Tensor>, feats: Float32Array, T: number): Float64Array {
  const mv = (name: string, x: Float64Array, bias?: string) => {
    const t = w[name];
    const [rows, cols] = t.shape;
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = bias ? w[bias].data[r] : 0;
      for (let c = 0; c < cols; c++) s += t.data[r * cols + c] * x[c];
      y[r] = s;
    }
    return y;
  };
  const H = arch.hidden;
  const h = [new Float64Array(H), new Float64Array(H)];
  const c = [new Float64Array(H), new Float64Array(H)];
  const out = new Float64Array(T * 257);
  for (let t = 0; t < T; t++) {
    let x = mv('fc_in.w', Float64Array.from(feats.subarray(t * 257, (t + 1) * 257)), 'fc_in.b').map((v) => Math.max(0, v));
    for (let l = 0; l < 2; l++) {
      const pre = (g: string) => {
        const a = mv(`lstm${l}.w_x${g}`, x, `lstm${l}.b_x${g}`), b = mv(`lstm${l}.w_h${g}`, h[l], `lstm${l}.b_h${g}`);
        return a.map((v, k) => v + b[k]);
      };
      const i = pre('i'), f = pre('f'), g = pre('g'), o = pre('o');
      const hn = new Float64Array(H);
      for (let k = 0; k < H; k++) {
        c[l][k] = sig(f[k]) * c[l][k] + sig(i[k]) * Math.tanh(g[k]);
        hn[k] = sig(o[k]) * Math.tanh(c[l][k]);
      }
      h[l] = hn;
      x = hn;
    }
    out.set(mv('fc_out.w', x, 'fc_out.b').map(sig), t * 257);
  }
  return out;
}

test('the tfjs forward is the frame-by-frame LSTM math (h and c carried), and chunks with carried state equal one pass', () => {
  const weights = initWeights(arch, 3);
  assert.ok(weights['lstm1.b_xf'].data.every((v) => v > FORGET_BIAS_INIT - 0.2), 'forget gate starts open');
  const net = new SeNet('tinylstm-tiny', 256, weights);
  const feats = epochBatches(corpus, { seed: 1, epoch: 0, batchSize: 1, frames: 12, hop: 256 }).next().value!.features;
  const ref = referenceMask(weights, feats, 12);
  const whole = tf.tidy(() => net.forward(tf.tensor3d(feats, [1, 12, 257])).mask.dataSync());
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(whole[i] - ref[i]) < 1e-5, `mask ${i}: ${whole[i]} vs ${ref[i]}`);
  const chunked = tf.tidy(() => {
    const a = net.forward(tf.tensor3d(feats.subarray(0, 5 * 257), [1, 5, 257]));
    assert.equal(a.state.length, 4, 'h and c per layer');
    const b = net.forward(tf.tensor3d(feats.subarray(5 * 257), [1, 7, 257]), { state: a.state });
    return tf.concat([a.mask, b.mask], 1).dataSync();
  });
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(chunked[i] - whole[i]) < 1e-6);
  net.dispose();
});

test('one LSTM training step lowers the loss on a fixed batch (float and QAT)', () => {
  const batch = epochBatches(corpus, { seed: 1, epoch: 0, ...small, hop: 256 }).next().value!;
  const shape: [number, number, number] = [batch.batch, batch.frames, 257];
  for (const qat of [false, true]) {
    const net = new SeNet('tinylstm-tiny', 256, initWeights(arch, 1));
    const adam = new Adam(net.vars);
    const observer = new RangeObserver();
    trainStep(net, adam, batch, FLOAT_MODE, 0, observer);
    // The cell state is quantized with c_next's range (it is never observed on its own).
    if (qat) assert.deepEqual(observer.params('lstm0.c'), observer.params('lstm0.c_next'));
    const mode = qat ? { weights: true, act: (n: string) => observer.params(n) } : FLOAT_MODE;
    const lossOf = () => tf.tidy(() => spectralLoss(net.forward(tf.tensor3d(batch.features, shape), { quant: mode }).mask, tf.tensor3d(batch.noisyMag, shape), tf.tensor3d(batch.cleanMag, shape)).dataSync()[0]);
    const before = lossOf();
    trainStep(net, adam, batch, mode, 1e-3);
    const after = lossOf();
    assert.ok(after < before, `${qat ? 'QAT' : 'float'}: loss ${before} → ${after}`);
    adam.dispose();
    net.dispose();
  }
});

test('hil train path: a QAT run of tinylstm-tiny gives a model that exports to a blob tracking its float forward', async () => {
  const run = await train({ arch: 'tinylstm-tiny', corpus, epochs: 2, seed: 3, qat: { enabled: true, warmupSteps: 2, observeEvery: 1 }, ...small, outDir: join(tmp, 'run') });
  const m = run.model;
  assert.equal(m.arch, 'tinylstm-tiny');
  assert.deepEqual(Object.keys(m.ranges).sort(), observedActivationNames(arch).sort());
  assert.ok(!('lstm0.c' in m.ranges) && 'lstm0.c_next' in m.ranges);
  const blob = writeBlob(lowerToQuantGraph(m));
  const pcm = testSignal(7, 8000);
  const q = runClipOnHost(new Engine(blob), pcm).output;
  const f = floatForward(m, pcm).output;
  let s = 0, e = 0;
  for (let i = 0; i < pcm.length; i++) {
    const ref = Math.max(-32768, Math.min(32767, f[i]));
    s += ref * ref;
    e += (ref - q[i]) ** 2;
  }
  const snr = 10 * Math.log10(s / e);
  console.log(`# trained tinylstm-tiny (QAT, ${run.history.length} epochs): int8 vs float SNR ${snr.toFixed(1)} dB`);
  assert.ok(snr > 15, `SNR ${snr.toFixed(1)} dB`);
});
