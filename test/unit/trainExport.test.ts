/**
 * Training's forward against the other implementations of the same network: the float64 reference
 * (src/model/forward.ts) and the int8 blob run by the host engine (the exporter's output). At the audio
 * level the device's fixed-point DSP noise (~40 dB below the signal) hides the network's quantization, so
 * the int8 comparison is on the masks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { ARCHS } from '../../src/model/arch.js';
import { floatForward } from '../../src/model/forward.js';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { writeBlob } from '../../src/export/blob.js';
import { clipToFrames, Engine } from '../../src/engine/index.js';
import { initTf, tf } from '../../src/model/tfBackend.js';
import { initWeights, readRecorded, SeNet, type RecordedRanges } from '../../src/model/tfModel.js';
import { enhance } from '../../src/model/train.js';
import { analyse } from '../../src/model/dataset.js';
import { RangeObserver } from '../../src/model/qat.js';

await initTf({ backend: 'wasm' });

function snrDb(ref: ArrayLike<number>, x: ArrayLike<number>): number {
  let s = 0;
  let d = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i] ** 2;
    d += (ref[i] - x[i]) ** 2;
  }
  return 10 * Math.log10(s / d);
}

const rng = seedrandom('export-match');
const clip = Float32Array.from({ length: 16000 }, (_, i) => 0.1 * Math.sin(i * 0.05 + 3 * Math.sin(i * 0.001)) * (0.5 + 0.5 * Math.sin(i / 2000)) + 0.03 * (rng() * 2 - 1));
// A random init gives a nearly constant mask, where quantization hardly shows; larger weights give a
// mask that varies over time and frequency, as a trained one does.
const weights = initWeights(ARCHS['se-tiny'], 2);
for (const [name, t] of Object.entries(weights)) if (!name.startsWith('fc_in')) t.data.forEach((v, i) => (t.data[i] = v * 4));
const net = new SeNet('se-tiny', 256, weights);
const observer = new RangeObserver();
{
  const rec: RecordedRanges = new Map();
  const a = analyse(clip, 256);
  tf.tidy(() => void net.forward(tf.tensor3d(a.features, [1, a.spec.frames, 257]), { record: rec }));
  for (const [k, [lo, hi]] of Object.entries(readRecorded(rec))) observer.observe(k, lo, hi);
}
const model = net.toFloatModel(2, observer.ranges, {});

test('the tfjs float forward matches the float64 reference forward (features, GRU, overlap-add)', () => {
  const ref = floatForward(model, Float64Array.from(clip, (v) => v * 32768)).output.map((v) => v / 32768);
  const ours = enhance(net, [clip])[0];
  // The reference uses the device's Q15 windows; the rest is float32 against float64.
  assert.ok(snrDb(ref, ours) > 60, `SNR ${snrDb(ref, ours).toFixed(1)} dB`);
});

/** The device's mask per frame (g/256), read from the engine's output tensor after each frame. */
function deviceMasks(pcm: Int16Array): Float64Array {
  const engine = new Engine(writeBlob(lowerToQuantGraph(model)));
  // The engine keeps tensors private; reading the output tensor is test-only introspection.
  const tensors = (engine as unknown as { t: Int8Array[] }).t;
  const frames = clipToFrames(pcm, 256, 512).slice(0, Math.ceil(pcm.length / 256));
  const out = new Float64Array(frames.length * 257);
  frames.forEach((f, t) => {
    engine.runFrame(f);
    const m = tensors[engine.blob.outputId];
    for (let k = 0; k < 257; k++) out[t * 257 + k] = (m[k] + 128) / 256;
  });
  return out;
}

test('the fake-quantised forward gives the int8 model\'s masks (host engine), closer than float', () => {
  const pcm = Int16Array.from(clip, (v) => Math.round(v * 32768));
  const device = deviceMasks(pcm);
  const a = analyse(Float32Array.from(pcm, (v) => v / 32768), 256);
  const maskOf = (quant: boolean) =>
    tf.tidy(() => net.forward(tf.tensor3d(a.features, [1, a.spec.frames, 257]), quant ? { quant: { weights: true, act: (n) => observer.params(n) } } : {}).mask.dataSync());
  const meanSteps = (m: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < device.length; i++) s += Math.abs(m[i] - device[i]) * 256;
    return s / device.length;
  };
  const fq = meanSteps(maskOf(true));
  const fl = meanSteps(maskOf(false));
  // Measured: 0.66 steps for fake-quant, 1.05 for float (the device's features differ slightly: Q15
  // window, fixed-point FFT, log2q; the recurrence carries a one-step difference on for a few frames).
  assert.ok(fq < 0.8, `fake-quant masks are ${fq.toFixed(3)} int8 steps from the device's on average`);
  assert.ok(fq < 0.8 * fl, `fake-quant (${fq.toFixed(3)} steps) should be closer to int8 than float (${fl.toFixed(3)})`);
});
