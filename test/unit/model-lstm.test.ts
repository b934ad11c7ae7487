/** LSTM networks (tinylstm-*): names, init, float forward, graph checks, lowering to int8 primitives, host engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARCHS, activationNames, weightNames } from '../../src/model/arch.js';
import { FORGET_BIAS_INIT, initFloatModel, paramsPerLayer } from '../../src/model/init.js';
import { FloatStream, floatForward } from '../../src/model/forward.js';
import { graphDims } from '../../src/model/graphDims.js';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { writeBlob } from '../../src/export/blob.js';
import { Engine, parseBlob, runClipOnHost } from '../../src/engine/index.js';
import { HilError } from '../../src/util/errors.js';
import { cloneModel, recalibrated, testSignal, unitPrune } from '../support/engineFixtures.js';
import type { FloatModel } from '../../src/model/floatModel.js';

const sig = (x: number) => 1 / (1 + Math.exp(-x));

test('LSTM weight names: four gates i, f, g, o per layer with W_x, W_h and two biases; GRU names unchanged', () => {
  const names = weightNames(ARCHS['tinylstm-tiny']);
  assert.equal(names.length, 2 + 2 * 4 * 4 + 2);
  for (const l of [0, 1]) for (const g of 'ifgo') for (const k of ['w_x', 'b_x', 'w_h', 'b_h']) assert.ok(names.includes(`lstm${l}.${k}${g}`), `lstm${l}.${k}${g}`);
  assert.deepEqual(weightNames(ARCHS['se-tiny']).slice(2, 6), ['gru0.w_xz', 'gru0.b_xz', 'gru0.w_hz', 'gru0.b_hz']);
  const acts = activationNames(ARCHS['tinylstm-tiny']);
  assert.deepEqual(acts.slice(-4), ['lstm1.c', 'lstm1.h', 'mask_pre', 'mask']);
});

test('tinylstm-paper has ≈ 0.93 M parameters (3.7 MB in float32); init opens the forget gate', () => {
  const m = initFloatModel('tinylstm-paper', 1);
  const p = paramsPerLayer(m);
  const total = Object.values(p).reduce((a, b) => a + b, 0);
  assert.equal(total, 922017);
  assert.equal(p.lstm0, 4 * (224 * 224 + 224 * 224 + 2 * 224));
  const t = initFloatModel('tinylstm-tiny', 1);
  assert.ok(t.weights['lstm0.b_xf'].data.every((v) => v === FORGET_BIAS_INIT));
  assert.ok(t.weights['lstm0.b_xi'].data.every((v) => v === 0));
  assert.ok(t.weights['lstm1.b_hf'].data.every((v) => v === 0));
});

/** One LSTM step written out independently of src/model/forward.ts (PyTorch's equations). */
function refLstm(m: FloatModel, p: string, x: Float64Array, h: Float64Array, c: Float64Array): { h: Float64Array; c: Float64Array } {
  const H = h.length;
  const gate = (g: string, o: number) => {
    const wx = m.weights[`${p}w_x${g}`].data, wh = m.weights[`${p}w_h${g}`].data;
    let s = m.weights[`${p}b_x${g}`].data[o] + m.weights[`${p}b_h${g}`].data[o];
    for (let k = 0; k < x.length; k++) s += wx[o * x.length + k] * x[k];
    for (let k = 0; k < H; k++) s += wh[o * H + k] * h[k];
    return s;
  };
  const hn = new Float64Array(H), cn = new Float64Array(H);
  for (let o = 0; o < H; o++) {
    cn[o] = sig(gate('f', o)) * c[o] + sig(gate('i', o)) * Math.tanh(gate('g', o));
    hn[o] = sig(gate('o', o)) * Math.tanh(cn[o]);
  }
  return { h: hn, c: cn };
}

test('the float forward computes the LSTM equations frame after frame (state h and c carried)', () => {
  const m = initFloatModel('tinylstm-tiny', 4);
  const stream = new FloatStream(m);
  stream.reset();
  const pcm = testSignal(4, 256 * 6);
  // The stream's fc_in output and cell states are private; the test reads them to check each layer's
  // recurrence against the reference step, with the reference carrying its own h and c.
  const H = ARCHS['tinylstm-tiny'].hidden;
  const state: { h: Float64Array; c: Float64Array }[] = [0, 1].map(() => ({ h: new Float64Array(H), c: new Float64Array(H) }));
  const access = stream as unknown as { fcIn: Float64Array; cells: { h: Float64Array; c: Float64Array }[] };
  for (let f = 0; f < 6; f++) {
    stream.runFrame(pcm.subarray(f * 256, (f + 1) * 256));
    let x: Float64Array = Float64Array.from(access.fcIn);
    for (let l = 0; l < 2; l++) {
      const r = refLstm(m, `lstm${l}.`, x, state[l].h, state[l].c);
      state[l] = r;
      for (let o = 0; o < H; o++) {
        assert.ok(Math.abs(access.cells[l].h[o] - r.h[o]) < 1e-9, `frame ${f} layer ${l} h[${o}]`);
        assert.ok(Math.abs(access.cells[l].c[o] - r.c[o]) < 1e-9, `frame ${f} layer ${l} c[${o}]`);
      }
      x = r.h;
    }
  }
  assert.ok(state[1].c.some((v) => v !== 0) && state[1].h.some((v) => v !== 0));
});

test('graphDims reads LSTM widths and names an inconsistent gate', () => {
  const m = initFloatModel('tinylstm-tiny', 5);
  assert.deepEqual(graphDims(m), { nBins: 257, d0: 32, hidden: [32, 32] });
  const pruned = unitPrune(m, 20, [12, 10]);
  assert.deepEqual(graphDims(pruned), { nBins: 257, d0: 20, hidden: [12, 10] });
  const bad = cloneModel(pruned);
  bad.weights['lstm1.w_hg'] = { shape: [9, 10], data: new Float32Array(90) };
  assert.throws(() => graphDims(bad), (e: unknown) => e instanceof HilError && /lstm1\.w_hg/.test(e.message));
});

test('an LSTM lowers to FC/ADD/MUL/LUT with two state tensors per layer (h tanh-range, c from c_next’s range)', () => {
  const m = initFloatModel('tinylstm-tiny', 6);
  const g = lowerToQuantGraph(m);
  assert.deepEqual(g.tensors.map((t) => t.name), activationNames(ARCHS['tinylstm-tiny']));
  const perLayer = 'FC FC ADD LUT '.repeat(4) + 'MUL MUL ADD LUT MUL';
  assert.equal(g.ops.map((o) => o.op).join(' '), `FC ${perLayer} ${perLayer} FC LUT`);
  const t = Object.fromEntries(g.tensors.map((x) => [x.name, x]));
  for (const l of [0, 1]) {
    const p = `lstm${l}.`;
    assert.ok(t[p + 'h'].isState && t[p + 'h'].next === p + 'h_next');
    assert.ok(t[p + 'c'].isState && t[p + 'c'].next === p + 'c_next');
    assert.deepEqual([t[p + 'c'].scale, t[p + 'c'].zeroPoint], [t[p + 'c_next'].scale, t[p + 'c_next'].zeroPoint]);
    for (const n of ['i', 'f', 'o']) assert.deepEqual([t[p + n].scale, t[p + n].zeroPoint], [1 / 256, -128]);
    for (const n of ['g', 'tanh_c', 'h', 'h_next']) assert.deepEqual([t[p + n].scale, t[p + n].zeroPoint], [1 / 128, 0]);
  }
  const blob = parseBlob(writeBlob(g));
  assert.equal(blob.tensors.filter((x) => x.isState).length, 4);
  const noRange = cloneModel(m);
  delete noRange.ranges['lstm1.c_next'];
  assert.throws(() => lowerToQuantGraph(noRange), (e: unknown) => e instanceof HilError && /lstm1\.c_next/.test(e.message));
});

test('the host engine runs an LSTM blob, and int8 tracks the float forward (full and unit-pruned)', () => {
  const cases = [
    { name: 'tinylstm-tiny', model: initFloatModel('tinylstm-tiny', 7) },
    { name: 'tinylstm-tiny unit-pruned', model: recalibrated(unitPrune(initFloatModel('tinylstm-tiny', 8), 24, [20, 16])) },
    { name: 'tinylstm-tiny hop 128', model: initFloatModel('tinylstm-tiny', 9, 128) },
  ];
  for (const c of cases) {
    const pcm = testSignal(101, 8000);
    const blob = writeBlob(lowerToQuantGraph(c.model));
    const engine = new Engine(blob);
    const q = runClipOnHost(engine, pcm).output;
    const f = floatForward(c.model, pcm).output;
    let s = 0, e = 0;
    for (let i = 0; i < pcm.length; i++) {
      const ref = Math.max(-32768, Math.min(32767, f[i]));
      s += ref * ref;
      e += (ref - q[i]) ** 2;
    }
    const snr = 10 * Math.log10(s / e);
    console.log(`# ${c.name}: int8 vs float SNR ${snr.toFixed(1)} dB, ${blob.length} B blob`);
    assert.ok(snr > 15, `${c.name}: SNR ${snr.toFixed(1)} dB`);
    // Deterministic: a second engine on the same blob gives the same bytes.
    assert.deepEqual(runClipOnHost(new Engine(blob), pcm).output, q);
  }
});
