/**
 * Compression of an LSTM network (tinylstm-tiny): weight and block pruning by LSTM matrix names, unit
 * groups over all four gates, shrinking that removes the units bit-exactly, offline pruning of LSTM FCs,
 * a whole `hil compress` unit run, and a GRU-only prune list refused on an LSTM baseline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHS } from '../../src/model/arch.js';
import { initFloatModel } from '../../src/model/init.js';
import { loadFloatModel, saveFloatModel, type FloatModel } from '../../src/model/floatModel.js';
import { loadTrainCorpus } from '../../src/model/dataset.js';
import { initTf } from '../../src/model/tfBackend.js';
import { matrixNames } from '../../src/model/tfModel.js';
import { graphDims } from '../../src/model/graphDims.js';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { writeBlob } from '../../src/export/blob.js';
import { parseBlob, runClipOnHost } from '../../src/engine/index.js';
import { HilError } from '../../src/util/errors.js';
import { parseProfile, type Profile } from '../../src/compress/profile.js';
import { blockMask, unitLayers, unitMasks, weightMask, type WeightSource } from '../../src/compress/structures.js';
import { shrinkUnits } from '../../src/compress/shrink.js';
import { fcMatrixName, pruneQuantGraph } from '../../src/compress/offline.js';
import { prunedMatrices } from '../../src/compress/hooks.js';
import { compress } from '../../src/compress/compress.js';
import { testSignal } from '../support/engineFixtures.js';
import { makeSyntheticCorpus } from './trainFixture.js';

await initTf({ backend: 'wasm' });
const tmp = mkdtempSync(join(tmpdir(), 'hil-compress-lstm-'));
const arch = ARCHS['tinylstm-tiny'];
const baseline: FloatModel = initFloatModel('tinylstm-tiny', 11, 256);
baseline.provenance = { ...baseline.provenance, batchSize: 4, frames: 30 };
const baseDir = join(tmp, 'baseline');
saveFloatModel(join(baseDir, 'model.json'), baseline);
const clip = testSignal(12, 6000);
const GATES4 = ['i', 'f', 'g', 'o'];

function profileOf(raw: Record<string, unknown>): Profile {
  return parseProfile({ name: 'test', ...raw }, 'test-profile.json');
}
function sourceOf(model: FloatModel): WeightSource {
  return { shape: (n) => model.weights[n].shape, weights: (n) => model.weights[n].data, mask: () => undefined };
}
function applyMasks(model: FloatModel, masks: Map<string, Float32Array>): FloatModel {
  const weights = { ...model.weights };
  for (const [n, m] of masks) weights[n] = { shape: model.weights[n].shape, data: Float32Array.from(model.weights[n].data, (v, i) => v * m[i]) };
  return { ...model, weights };
}

test('weight and block pruning select LSTM matrices by name and pattern', () => {
  const all = matrixNames(arch);
  assert.equal(all.length, 2 + 2 * 8);
  const wh = prunedMatrices(profileOf({ structure: 'weight', sparsity: 0.5, prune: ['lstm*.w_h*'] }), all);
  assert.deepEqual(wh, [0, 1].flatMap((l) => GATES4.map((g) => `lstm${l}.w_h${g}`)));
  assert.deepEqual(prunedMatrices(profileOf({ structure: 'block', sparsity: 0.5, prune: ['lstm1.w_xf'] }), all), ['lstm1.w_xf']);
  const w = baseline.weights['lstm0.w_hg'];
  const m = weightMask(w.data, undefined, 0.75);
  assert.equal(m.filter((v) => v === 0).length, Math.round(0.75 * w.data.length));
  const b = blockMask(w.data, 32, 32, 4, 4, undefined, 0.5);
  assert.equal(b.filter((v) => v === 0).length, 512);
});

test('an LSTM unit is its rows in all four gates (W_x and W_h, both biases), its W_h column and the next layer\'s input column', () => {
  const layers = unitLayers(arch);
  assert.deepEqual(layers.map((l) => l.name), ['fc_in', 'lstm0', 'lstm1']);
  const [fcIn, l0, l1] = layers;
  assert.deepEqual(fcIn.cols, GATES4.map((g) => `lstm0.w_x${g}`));
  assert.deepEqual(l0.rows, GATES4.flatMap((g) => [`lstm0.w_x${g}`, `lstm0.w_h${g}`]));
  assert.deepEqual(l0.biases, GATES4.flatMap((g) => [`lstm0.b_x${g}`, `lstm0.b_h${g}`]));
  assert.deepEqual(l0.cols, [...GATES4.map((g) => `lstm0.w_h${g}`), ...GATES4.map((g) => `lstm1.w_x${g}`)]);
  assert.deepEqual(l1.cols, [...GATES4.map((g) => `lstm1.w_h${g}`), 'fc_out.w']);

  const masks = unitMasks(layers, sourceOf(baseline), 0.5);
  for (const layer of [l0, l1]) {
    const first = masks.get(layer.rows[0])!;
    const inF = baseline.weights[layer.rows[0]].shape[1];
    const removed = Array.from({ length: 32 }, (_, j) => j).filter((j) => first.subarray(j * inF, (j + 1) * inF).every((v) => v === 0));
    assert.equal(removed.length, 16, layer.name);
    for (const j of removed) {
      for (const n of layer.rows) {
        const c = baseline.weights[n].shape[1];
        assert.ok(masks.get(n)!.subarray(j * c, (j + 1) * c).every((v) => v === 0), `${n} row ${j}`);
      }
      for (const n of layer.biases) assert.equal(masks.get(n)![j], 0, `${n}[${j}]`);
      for (const n of layer.cols) {
        const [r, c] = baseline.weights[n].shape;
        for (let row = 0; row < r; row++) assert.equal(masks.get(n)![row * c + j], 0, `${n} column ${j}`);
      }
    }
  }

  // Shrinking removes them from every tensor, and the smaller blob computes exactly what the masked one does.
  const masked = applyMasks(baseline, masks);
  const { model: small, layers: units } = shrinkUnits(masked);
  assert.deepEqual([units.fc_in.after, units.lstm0.after, units.lstm1.after], [16, 16, 16]);
  assert.deepEqual(graphDims(small), { nBins: 257, d0: 16, hidden: [16, 16] });
  for (const g of GATES4) {
    assert.deepEqual(small.weights[`lstm1.w_x${g}`].shape, [16, 16]);
    assert.deepEqual(small.weights[`lstm0.b_h${g}`].shape, [16]);
  }
  assert.deepEqual(small.weights['fc_out.w'].shape, [257, 16]);
  const big = writeBlob(lowerToQuantGraph(masked));
  const shrunk = writeBlob(lowerToQuantGraph(small));
  assert.ok(shrunk.length < big.length / 1.5, `${shrunk.length} vs ${big.length} bytes`);
  const a = runClipOnHost(big, clip);
  const b = runClipOnHost(shrunk, clip);
  assert.deepEqual(b.output, a.output, 'the shrunken LSTM blob computes exactly what the masked one does');
  assert.ok(b.perFrame[0].macs < a.perFrame[0].macs / 2);
  assert.equal(parseBlob(shrunk).tensors.filter((t) => t.isState && t.length === 16).length, 4, 'h and c of both layers are 16 long');
});

test('offline pruning of LSTM FCs maps ops to their matrices and touches only the listed ones', () => {
  assert.equal(fcMatrixName('lstm1.fc_hg'), 'lstm1.w_hg');
  const graph = lowerToQuantGraph(baseline);
  const { graph: pruned, pruned: idx } = pruneQuantGraph(graph, 0.6, ['lstm1.w_x*']);
  assert.deepEqual([...idx.keys()].sort(), GATES4.map((g) => `lstm1.w_x${g}`).sort());
  graph.ops.forEach((op, k) => {
    const p = pruned.ops[k];
    if (op.op === 'FC' && p.op === 'FC' && /^lstm1\.fc_x/.test(op.name)) assert.equal(p.weights.filter((v) => v === 0).length, Math.round(0.6 * op.weights.length));
    else assert.deepEqual(p, op);
  });
});

test('hil compress on an LSTM baseline: unit structure shrinks all gates, weight structure prunes the listed LSTM matrices', async () => {
  const corpus = loadTrainCorpus(makeSyntheticCorpus(join(tmp, 'corpus'), { speech: 8, val: 2 }));
  const p = profileOf({ structure: 'unit', sparsity: 0.5, fine_tune: { steps: 6, lr: 0.005 }, schedule: { start: 0, end: 0.5, every: 1 } });
  const m = await compress({ baseline: baseDir, profile: { ...p, name: 'test-unit-lstm' }, corpus, outDir: join(tmp, 'out-unit'), seed: 3 });
  assert.deepEqual(m.units && [m.units.fc_in.after, m.units.lstm0.after, m.units.lstm1.after], [16, 16, 16]);
  const model = loadFloatModel(join(tmp, 'out-unit', 'model.json'));
  assert.deepEqual(graphDims(model), { nBins: 257, d0: 16, hidden: [16, 16] });
  assert.ok(m.params.after < m.params.before * 0.5, `${m.params.after} of ${m.params.before}`);
  const blob = new Uint8Array(readFileSync(join(tmp, 'out-unit', 'model.hilm')));
  assert.equal(parseBlob(blob).tensors.filter((t) => t.isState).length, 4);
  assert.ok(Number.isFinite(m.validation.int8.sdr));

  // Weight pruning of the recurrent matrices only, by pattern: those reach the target, the rest stay dense.
  const wp = profileOf({ structure: 'weight', sparsity: 0.7, prune: ['lstm*.w_h*'], fine_tune: { steps: 6, lr: 0.005 }, schedule: { start: 0, end: 0.5, every: 1 } });
  const w = await compress({ baseline: baseDir, profile: { ...wp, name: 'test-weight-lstm-wh' }, corpus, outDir: join(tmp, 'out-weight'), seed: 3 });
  const wModel = loadFloatModel(join(tmp, 'out-weight', 'model.json'));
  for (const name of matrixNames(arch)) {
    const d = wModel.weights[name].data;
    const zeros = d.filter((v) => v === 0).length / d.length;
    if (/^lstm\d\.w_h/.test(name)) assert.ok(Math.abs(zeros - 0.7) < 0.005, `${name}: ${zeros}`);
    else assert.ok(zeros < 0.01, `${name} was not listed but has ${zeros} zeros`);
  }
  assert.ok(w.macsPerFrame.effective < w.macsPerFrame.dense);

  // A prune list written for a GRU names nothing here: refused, not silently a no-op.
  const gruOnly = profileOf({ structure: 'unit', sparsity: 0.5, prune: ['gru0'] });
  await assert.rejects(
    compress({ baseline: baseDir, profile: gruOnly, corpus, outDir: join(tmp, 'out-gru'), seed: 3 }),
    (e: unknown) => e instanceof HilError && /: prune entry "gru0" names nothing in .*\(arch tinylstm-tiny\)/.test(e.message) && !e.line().includes('\n'),
  );
  const badPattern = profileOf({ structure: 'weight', sparsity: 0.5, prune: ['gru*.w_h*'] });
  await assert.rejects(compress({ baseline: baseDir, profile: badPattern, corpus, outDir: join(tmp, 'out-gru2'), seed: 3 }), /prune entry "gru\*\.w_h\*" names nothing/);
});
