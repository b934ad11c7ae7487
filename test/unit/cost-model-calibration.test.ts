/**
 * The calibrated cost model (docs/cost-model.md "Calibration"): the op lists built from the lowering's
 * rules match what a real blob counts, RNNoise's lowered work and modelled cycles against the published
 * FVP figures, the boards' defaults, and the Ethos-U55 encoded-weight size model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Engine, ETHOS_U55_128, ETHOS_U55_128_CALIBRATED, frameCycles, parseBlob, type BlobFcOp } from '../../src/engine/index.js';
import { blobMemoryFigures, denseWeights, estimateU55Weights, sumEstimates } from '../../src/engine/u55Weights.js';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { writeBlob } from '../../src/export/blob.js';
import { hilNetwork, RNNOISE_U55_128_FVP, rnnoiseNetwork } from '../../src/export/referenceNets.js';
import type { QFc } from '../../src/export/quantGraph.js';
import { graphDims } from '../../src/model/graphDims.js';
import { pruneBlocks, pruneMagnitude, tinyModel } from '../support/engineFixtures.js';

test('the op list built from the lowering rules equals a real se-tiny blob\'s ops and counters', () => {
  const model = tinyModel(3);
  const d = graphDims(model);
  const engine = new Engine(writeBlob(lowerToQuantGraph(model), { encoding: { kind: 'dense' } }));
  const built = hilNetwork(d.nBins, d.d0, d.hidden);
  assert.deepEqual(
    built.map((o) => [o.op, o.macs, o.weightBytes, o.elements]),
    engine.opCounters.map((c) => [c.op, c.macs, c.weightBytes, c.elements]),
  );
  assert.equal(frameCycles(ETHOS_U55_128_CALIBRATED, built), frameCycles(ETHOS_U55_128_CALIBRATED, engine.opCounters));
});

test('RNNoise lowers to 21 FCs holding its 86,952 weights, and the calibrated model lands within ±25 % of the FVP cycles', () => {
  const ops = rnnoiseNetwork();
  const fcs = ops.filter((o) => o.isFc);
  assert.equal(fcs.length, 1 + 3 * 6 + 2);
  assert.equal(ops.length - fcs.length, 1 + 3 * 10 + 2);
  // Vela's PERFORMANCE.md prints 86952 MACs for the same layer sizes: dense MACs = weights at batch 1.
  assert.equal(fcs.reduce((s, o) => s + o.weightBytes, 0), 86_952);
  const calibrated = frameCycles(ETHOS_U55_128_CALIBRATED, ops);
  const nominal = frameCycles(ETHOS_U55_128, ops);
  // Pinned: every FC streams its weights at 1 B/cycle (86,952); the element-wise ops take ceil(n/8) each
  // (10 per GRU: 3, 6 and 12 cycles; the three LUTs after dense layers 3, 3 and 1: 217); 54 ops × 200.
  assert.equal(calibrated, 86_952 + 217 + 54 * 200);
  assert.equal(nominal, 21_886);
  assert.ok(Math.abs(calibrated / RNNOISE_U55_128_FVP.npuCycles - 1) <= 0.25, `calibrated ${calibrated}`);
  assert.ok(nominal < 0.5 * RNNOISE_U55_128_FVP.npuCycles, `nominal ${nominal}: weights from SRAM are what the FVP does not show`);
});

test('every board that models an Ethos-U55 defaults to the calibrated weight placement', () => {
  const dir = new URL('../../boards/', import.meta.url).pathname;
  const u55 = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(dir + f, 'utf8'))).filter((b) => /Ethos-U55/.test(b.accelerator?.name ?? ''));
  assert.ok(u55.length >= 5);
  for (const b of u55) {
    assert.equal(b.accelerator.weight_bytes_per_cycle, ETHOS_U55_128_CALIBRATED.weightBytesPerCycle, b.name);
    assert.equal(b.accelerator.op_overhead_cycles, ETHOS_U55_128_CALIBRATED.opOverheadCycles, b.name);
  }
});

test('the U55 weight model pads like Vela (RNNoise: 94.00 KiB) and charges 10 bytes per channel', () => {
  const fcs = rnnoiseNetwork().filter((o) => o.isFc);
  const e = sumEstimates(fcs.map((o) => estimateU55Weights(new Int8Array(o.inFeatures * o.outFeatures).fill(3), o.outFeatures, o.inFeatures)));
  assert.equal(e.paddedBytes, 94 * 1024);
  assert.equal(e.scaleBiasBytes, 10 * fcs.reduce((s, o) => s + o.outFeatures, 0));
  // One repeated value is a 2-entry palette at 1 bit a weight: far below a byte.
  assert.ok(e.streamBytes < e.paddedBytes / 4, `${e.streamBytes}`);
});

test('the U55 weight model: zeros in runs cost far less than random values, and more zeros never cost more', () => {
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) / 65536;
  const out = 64, inF = 128;
  const dense = Int8Array.from({ length: out * inF }, () => Math.round((rand() - 0.5) * 200));
  const blocky = dense.map((v, k) => ((k % inF) >> 4) % 4 === 0 ? v : 0);
  const a = estimateU55Weights(dense, out, inF), b = estimateU55Weights(blocky, out, inF);
  assert.ok(a.streamBytes > 0.8 * out * inF, `random int8 barely compresses: ${a.streamBytes}`);
  assert.ok(b.streamBytes < 0.45 * a.streamBytes, `${b.streamBytes} vs ${a.streamBytes}`);
  assert.equal(a.scaleBiasBytes, b.scaleBiasBytes);
});

test('blob memory figures: every encoding decodes to the graph\'s weights and gives the same estimate', () => {
  const g = lowerToQuantGraph(pruneBlocks(pruneMagnitude(tinyModel(2), 0.5), 4, 4, 0.5));
  const figures = (['dense', 'csr'] as const).map((kind) => {
    const blob = parseBlob(writeBlob(g, { encoding: { kind } }));
    const fcs = blob.ops.filter((o): o is BlobFcOp => o.op === 'FC');
    fcs.forEach((op, k) => assert.deepEqual(denseWeights(op), (g.ops.filter((o) => o.op === 'FC')[k] as QFc).weights));
    return blobMemoryFigures(blob);
  });
  const block = blobMemoryFigures(parseBlob(writeBlob(g, { encoding: { kind: 'block', br: 4, bc: 4 } })));
  let nonzero = 0;
  for (const op of g.ops) if (op.op === 'FC') for (const v of op.weights) nonzero += v !== 0 ? 1 : 0;
  for (const f of [...figures, block]) {
    assert.equal(f.nonzeroWeightBytes, nonzero);
    assert.equal(f.u55EncodedWeightBytes, figures[0].u55EncodedWeightBytes, 'Vela re-encodes whatever hil stored');
  }
  assert.ok(figures[1].flashBytes < figures[0].flashBytes);
});
