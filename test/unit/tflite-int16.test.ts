/**
 * A 16-bit output layer's .tflite in LiteRT for Node: QUANTIZE (as DEQUANTIZE + QUANTIZE), the 16x8
 * FULLY_CONNECTED and the int16 LOGISTIC, against the TS engine on the engine's own feature frames and
 * states. The int8 part is the int8 graph, which LiteRT requantizes in float (tflite-runtimes.test.ts):
 * its states stay within 1 LSB. The int16 mask may differ more because TFLite's int16 LOGISTIC uses its
 * own table (docs/tflite.md); the test measures and bounds it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/index.js';
import { writeBlob } from '../../src/export/blob.js';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { writeTfliteDetailed } from '../../src/export/tflite.js';
import { initFloatModel } from '../../src/model/init.js';
import { LiteRtModel } from '../support/tfliteLiteRt.js';
import { speechLike } from '../support/speechlike.js';

const STEPS = 20;
const HOP = 256;
const pcm = Int16Array.from(speechLike((STEPS * HOP) / 16000 + 0.1, 'hil-tflite-int16', { peak: 0.5 }), (v) => Math.round(v * 32767));
const asI16 = (b: Int8Array) => new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

test('LiteRT runs the int16-output step graph: states within a few LSB, FC16 within 1 LSB, the int16 mask measured', async () => {
  for (const arch of ['se-tiny', 'se-small'] as const) {
    const graph = lowerToQuantGraph(initFloatModel(arch, 5), { outputBits: 16 });
    const engine = new Engine(writeBlob(graph));
    const step = writeTfliteDetailed(graph);
    const probeOps = graph.ops.map((o, k) => (o.op === 'FC16' ? k : -1)).filter((k) => k >= 0);
    const probe = writeTfliteDetailed(graph, { ops: probeOps });
    const rt = await LiteRtModel.load(step.bytes);
    const fcRt = await LiteRtModel.load(probe.bytes);
    assert.equal(rt.outputs[0].type, 'int16');
    let maskMax = 0, fcMax = 0, stateMax = 0;
    const fcIn = graph.tensors.findIndex((t) => t.name === 'fc_out_in');
    const fcOut = graph.tensors.findIndex((t) => t.name === 'mask_pre');
    try {
      for (let f = 0; f < STEPS; f++) {
        const before = engine.stateIds.map((id) => engine.readTensor(id));
        engine.runFrame(pcm.subarray(f * HOP, (f + 1) * HOP));
        const outs = await rt.run([engine.readTensor(engine.blob.inputId), ...before]);
        const mask = asI16(outs[0]);
        const want = engine.readValues(engine.blob.outputId);
        for (let k = 0; k < mask.length; k++) maskMax = Math.max(maskMax, Math.abs(mask[k] - want[k]));
        engine.stateIds.forEach((id, s) => engine.readTensor(id).forEach((v, k) => (stateMax = Math.max(stateMax, Math.abs(v - outs[1 + s][k])))));
        const x = engine.readValues(fcIn) as Int16Array;
        const [y] = await fcRt.run([new Int8Array(x.buffer, x.byteOffset, x.byteLength)]);
        const ye = engine.readValues(fcOut);
        asI16(y).forEach((v, k) => (fcMax = Math.max(fcMax, Math.abs(v - ye[k]))));
      }
    } finally {
      rt.close();
      fcRt.close();
    }
    console.log(`# ${arch} int16 output in LiteRT (measured): states max |Δ| ${stateMax} LSB over ${STEPS} steps; FC16 max |Δ| ${fcMax} LSB; mask max |Δ| ${maskMax} LSB of 1/32768`);
    // A 1-LSB float-vs-fixed-point difference before a TANH can grow to a few LSB (tflite-runtimes.test.ts).
    assert.ok(stateMax <= 4, `${arch}: states off by ${stateMax}`);
    assert.ok(fcMax <= 1, `${arch}: FC16 off by ${fcMax}`);
    assert.ok(maskMax <= 64, `${arch}: mask off by ${maskMax} LSB`);
  }
});

test('LiteRT int16 LOGISTIC against the LUT16 table over every int16 input', async () => {
  const graph = lowerToQuantGraph(initFloatModel('se-tiny', 5), { outputBits: 16 });
  const k = graph.ops.findIndex((o) => o.op === 'LUT16');
  const engine = new Engine(writeBlob(graph));
  const rt = await LiteRtModel.load(writeTfliteDetailed(graph, { ops: [k] }).bytes);
  const n = graph.nBins;
  let max = 0, sum = 0, count = 0;
  try {
    for (let v = -32768; v <= 32767; v += n) {
      const x = Int16Array.from({ length: n }, (_, i) => Math.min(32767, v + i));
      const [y] = await rt.run([new Int8Array(x.buffer)]);
      const want = engine.evalOp(k, [x]);
      asI16(y).forEach((q, i) => {
        const d = Math.abs(q - want[i]);
        max = Math.max(max, d);
        sum += d;
        count++;
      });
    }
  } finally {
    rt.close();
  }
  console.log(`# int16 LOGISTIC, LiteRT vs hil LUT16 (measured, input scale ${graph.tensors.find((t) => t.name === 'mask_pre')?.scale}): max |Δ| ${max}, mean |Δ| ${(sum / count).toFixed(2)} LSB of 1/32768`);
  assert.ok(max <= 16, `LUT16 vs TFLite int16 LOGISTIC off by ${max}`);
});
