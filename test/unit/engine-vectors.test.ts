/** The host engine against the committed vectors, framing, reset, cost model and speed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { clipToFrames, deviceFrameCount, Engine, ETHOS_U55_128, frameCycles, framesToClip, runClipOnHost, type CostParams } from '../../src/engine/index.js';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { writeBlob } from '../../src/export/blob.js';
import { initFloatModel } from '../../src/model/init.js';
import { staleVectors } from '../../scripts/vectors.js';
import { cloneModel, testSignal, tinyModel } from '../support/engineFixtures.js';

const dir = new URL('../vectors/', import.meta.url);
const read = (rel: string) => new Uint8Array(readFileSync(new URL(rel, dir)));
const i16 = (b: Uint8Array) => new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
const u32 = (b: Uint8Array) => new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));

const index = readFileSync(new URL('engine/index.txt', dir), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [name, hop, frames, arena, samples] = l.split(' ');
    return { name, hop: Number(hop), frames: Number(frames), arena: Number(arena), samples: Number(samples) };
  });

test('the engine reproduces every committed engine vector: output, counters, modelled cycles, arena', () => {
  assert.ok(index.length >= 7);
  for (const v of index) {
    const engine = new Engine(read(`engine/${v.name}.hilm`));
    engine.setCost(ETHOS_U55_128);
    assert.equal(engine.arenaBytes, v.arena, v.name);
    const ins = i16(read(`engine/${v.name}.in.bin`)), outs = i16(read(`engine/${v.name}.out.bin`)), ctr = u32(read(`engine/${v.name}.counters.bin`));
    assert.equal(v.frames, deviceFrameCount(v.samples, v.hop, 512));
    const out = new Int16Array(v.hop);
    for (let f = 0; f < v.frames; f++) {
      const r = engine.runFrame(ins.subarray(f * v.hop, (f + 1) * v.hop), out);
      assert.deepEqual(out, outs.subarray(f * v.hop, (f + 1) * v.hop), `${v.name} frame ${f}`);
      const c = r.counters;
      assert.deepEqual([c.macs, c.weightBytes, c.elements, c.ops, c.modelledCycles], [...ctr.subarray(5 * f, 5 * f + 5)], `${v.name} counters ${f}`);
    }
  }
});

test('the committed vectors are what the code produces now (npm run vectors)', () => {
  assert.deepEqual(staleVectors(), []);
});

test('the cost model matches test/vectors/cost-model.json', () => {
  const cases = JSON.parse(readFileSync(new URL('cost-model.json', dir), 'utf8')).cases as { name: string; params: number[]; ops: number[][]; cycles: number }[];
  assert.ok(cases.length >= 8);
  for (const c of cases) {
    const [macsPerCycle, weightBytesPerCycle, elementsPerCycle, opOverheadCycles, frontendCycles] = c.params;
    const p: CostParams = { macsPerCycle, weightBytesPerCycle, elementsPerCycle, opOverheadCycles, frontendCycles };
    const ops = c.ops.map(([isFc, macs, weightBytes, elements]) => ({ isFc: isFc === 1, macs, weightBytes, elements }));
    assert.equal(frameCycles(p, ops), c.cycles, c.name);
  }
  // Hand check: a dense 257×128 FC is weight-bound on a U55-128: ceil(32896 / 8) + 200.
  assert.equal(frameCycles(ETHOS_U55_128, [{ isFc: true, macs: 32896, weightBytes: 32896, elements: 0 }]), 4112 + 200);
});

test('framing: zero-padded last frame, n_fft/hop − 1 flush frames, and the n_fft − hop delay dropped', () => {
  const pcm = Int16Array.from({ length: 1000 }, (_, i) => i - 500);
  for (const hop of [128, 256]) {
    const frames = clipToFrames(pcm, hop, 512);
    assert.equal(frames.length, Math.ceil(1000 / hop) + 512 / hop - 1);
    assert.deepEqual(frames[0], pcm.subarray(0, hop));
    const lastData = Math.ceil(1000 / hop) - 1;
    assert.ok(frames[lastData].subarray(1000 - lastData * hop).every((v) => v === 0), 'zero padding');
    assert.ok(frames.slice(lastData + 1).every((f) => f.every((v) => v === 0)), 'flush frames are zeros');
    // A pure delay line of n_fft − hop samples comes back as the input.
    const delay = 512 - hop;
    const stream = new Int16Array(frames.length * hop);
    frames.forEach((f, k) => stream.set(f, k * hop));
    const delayed = frames.map((_, k) => Int16Array.from({ length: hop }, (_, j) => (k * hop + j - delay >= 0 ? stream[k * hop + j - delay] : 0)));
    assert.deepEqual(framesToClip(delayed, hop, 512, pcm.length), pcm);
  }
  assert.equal(clipToFrames(new Int16Array(0), 256, 512).length, 1);
  assert.throws(() => framesToClip([new Int16Array(256)], 256, 512, 10), /need 10/);
});

test('a pass-through mask reproduces the input, time-aligned (windows, FFTs, overlap-add and framing agree)', () => {
  for (const hop of [256, 128] as const) {
    const m = cloneModel(tinyModel(11, hop));
    m.weights['fc_out.w'].data.fill(0);
    m.weights['fc_out.b'].data.fill(30); // sigmoid → 1 → mask q = 127, g = 255/256
    m.ranges.mask_pre = [0, 31];
    const pcm = testSignal(3, 4000);
    const { output } = runClipOnHost(writeBlob(lowerToQuantGraph(m)), pcm);
    let err = 0;
    for (let i = 0; i < pcm.length; i++) err = Math.max(err, Math.abs(output[i] - Math.round((pcm[i] * 255) / 256)));
    assert.ok(err <= 8, `hop ${hop}: max deviation ${err} LSB from input·255/256`);
  }
});

test('reset restarts the stream bit-exactly; counters and arena match the blob', () => {
  const blob = read('engine/tiny-block4x4.hilm');
  const pcm = testSignal(9, 3000);
  const engine = new Engine(blob);
  const a = runClipOnHost(engine, pcm);
  const b = runClipOnHost(engine, pcm);
  assert.deepEqual(a.output, b.output);
  assert.equal(a.perFrame.length, deviceFrameCount(3000, 256, 512));
  assert.equal(a.perFrame[0].modelledCycles, 0, 'no cost parameters → 0, as on the device');
  const withCost = runClipOnHost(blob, pcm, { cost: ETHOS_U55_128 });
  assert.ok(withCost.perFrame[0].modelledCycles > 0);
  assert.deepEqual(withCost.output, a.output);
});

test('se-small runs well under 2 ms per frame on the host', () => {
  const blob = writeBlob(lowerToQuantGraph(initFloatModel('se-small', 1)));
  const engine = new Engine(blob);
  const frame = testSignal(1, 256);
  const out = new Int16Array(256);
  for (let k = 0; k < 50; k++) engine.runFrame(frame, out); // warm up the JIT
  // The best of several batches: on a shared machine the mean measures the neighbours, the minimum the code.
  let ms = Infinity;
  for (let batch = 0; batch < 5; batch++) {
    const n = 100;
    const t0 = performance.now();
    for (let k = 0; k < n; k++) engine.runFrame(frame, out);
    ms = Math.min(ms, (performance.now() - t0) / n);
  }
  console.log(`# se-small host engine: ${ms.toFixed(3)} ms/frame`);
  assert.ok(ms < 2, `${ms.toFixed(3)} ms/frame`);
});
