/**
 * A 16-bit output layer's .tflite in LiteRT for Node: QUANTIZE (as DEQUANTIZE + QUANTIZE), the 16x8
 * FULLY_CONNECTED and the int16 LOGISTIC, against the TS engine on the engine's own feature frames and
 * states. The int8 part is the int8 graph, which LiteRT requantizes in float (tflite-runtimes.test.ts):
 * its states stay within 1 LSB. The int16 mask may differ more because TFLite's int16 LOGISTIC uses its
 * own table (docs/tflite.md); the test measures and bounds it. Arm NN 20.08 CpuRef: what it refuses (the
 * int64 bias of the 16x8 FC) is pinned, and the parts it runs (the widening, the int16 LOGISTIC) are checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** One job through test/support/armnn_run.py (Debian's python and pyarmnn, as tflite-runtimes.test.ts). */
function armnn(model: Uint8Array, steps: Record<string, number[]>[]): { status: number | null; stderr: string; steps: Record<string, number[]>[] } {
  const dir = mkdtempSync(join(tmpdir(), 'hil-armnn16-'));
  try {
    writeFileSync(join(dir, 'm.tflite'), model);
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify({ jobs: [{ model: 'm.tflite', steps }] }));
    const script = new URL('../support/armnn_run.py', import.meta.url).pathname;
    const r = spawnSync('/usr/bin/python3', [script, dir], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
    if (r.error) throw new Error(`cannot run /usr/bin/python3 for Arm NN (${r.error.message})`);
    return { status: r.status, stderr: r.stderr, steps: r.status === 0 ? JSON.parse(r.stdout).jobs[0].steps : [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("Arm NN 20.08 CpuRef: refuses the 16x8 FC's int64 bias; runs the widening exactly and the int16 LOGISTIC within 2 LSB", () => {
  const graph = lowerToQuantGraph(initFloatModel('se-tiny', 5), { outputBits: 16, weightScales: 'per-tensor' });
  const engine = new Engine(writeBlob(graph));
  const k = graph.ops.findIndex((o) => o.op === 'FC16');
  // The whole step file, and the FC16 alone: the parser has no INT64 tensor type (TfLiteParser ToTensorInfo).
  for (const file of [writeTfliteDetailed(graph), writeTfliteDetailed(graph, { ops: [k] })]) {
    const zeros = Object.fromEntries(file.inputs.map((n) => [n, new Array<number>(graph.tensors.find((t) => t.name === n)!.length).fill(0)]));
    const r = armnn(file.bytes, [zeros]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Unsupported data type[^=]{0,4}= INT64 for tensor: fc_out\.b/);
  }
  // QUANTIZE (DEQUANTIZE + QUANTIZE) on every int8 value: exactly the engine's.
  const q = writeTfliteDetailed(graph, { ops: [k - 1] });
  const n = graph.tensors.find((t) => t.name === q.inputs[0])!.length;
  const chunks = Array.from({ length: Math.ceil(256 / n) }, (_, c) => Int8Array.from({ length: n }, (_, i) => Math.min(127, -128 + c * n + i)));
  const rq = armnn(q.bytes, chunks.map((x) => ({ [q.inputs[0]]: Array.from(x) })));
  assert.equal(rq.status, 0, rq.stderr);
  chunks.forEach((x, c) => assert.deepEqual(rq.steps[c][q.outputs[0]], Array.from(engine.evalOp(k - 1, [x])), `QUANTIZE chunk ${c}`));
  // The int16 LOGISTIC on every int16 value against LUT16.
  const l = writeTfliteDetailed(graph, { ops: [k + 1] });
  const ins: Int16Array[] = [];
  for (let v = -32768; v <= 32767; v += graph.nBins) ins.push(Int16Array.from({ length: graph.nBins }, (_, i) => Math.min(32767, v + i)));
  const rl = armnn(l.bytes, ins.map((x) => ({ [l.inputs[0]]: Array.from(x) })));
  assert.equal(rl.status, 0, rl.stderr);
  let max = 0;
  ins.forEach((x, c) => {
    const want = engine.evalOp(k + 1, [x]);
    rl.steps[c][l.outputs[0]].forEach((v, i) => (max = Math.max(max, Math.abs(v - want[i]))));
  });
  console.log(`# Arm NN 20.08 CpuRef int16 LOGISTIC vs hil LUT16 over all int16 inputs (measured): max |Δ| ${max} LSB of 1/32768`);
  assert.ok(max <= 2, `off by ${max}`);
});
