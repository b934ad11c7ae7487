/**
 * The .tflite writer, read back with a small reader over the schema's field slots (independent of the
 * writer's code): header, operator codes, tensors and their quantization, constant buffers, signature,
 * metadata, slices and refusals. Also the engine's graph-level entries the runtime tests compare against.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteBuffer } from 'flatbuffers';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { writeBlob } from '../../src/export/blob.js';
import { BUILTIN, writeTflite, writeTfliteDetailed, type TfliteStreamingInfo } from '../../src/export/tflite.js';
import type { QFc, QLut, QuantGraph } from '../../src/export/quantGraph.js';
import { Engine } from '../../src/engine/index.js';
import { initFloatModel } from '../../src/model/init.js';
import { loadFloatModel } from '../../src/model/floatModel.js';
import { HilError } from '../../src/util/errors.js';
import { HIL_VERSION } from '../../src/util/version.js';
import { pruneMagnitude, recalibrated, testSignal, unitPrune } from '../support/engineFixtures.js';

/** A read-only view of one flatbuffer table: field k of the schema is vtable slot 4 + 2k. */
class Table {
  constructor(
    readonly bb: ByteBuffer,
    readonly pos: number,
  ) {}
  private off(k: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * k);
  }
  has(k: number): boolean {
    return this.off(k) !== 0;
  }
  i8(k: number, dflt = 0): number {
    const o = this.off(k);
    return o ? this.bb.readInt8(this.pos + o) : dflt;
  }
  i32(k: number, dflt = 0): number {
    const o = this.off(k);
    return o ? this.bb.readInt32(this.pos + o) : dflt;
  }
  str(k: number): string | null {
    const o = this.off(k);
    return o ? (this.bb.__string(this.pos + o) as string) : null;
  }
  table(k: number): Table | null {
    const o = this.off(k);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : null;
  }
  private vec(k: number): { start: number; len: number } | null {
    const o = this.off(k);
    return o ? { start: this.bb.__vector(this.pos + o), len: this.bb.__vector_len(this.pos + o) } : null;
  }
  tables(k: number): Table[] {
    const v = this.vec(k);
    return v ? Array.from({ length: v.len }, (_, i) => new Table(this.bb, this.bb.__indirect(v.start + 4 * i))) : [];
  }
  ints(k: number): number[] {
    const v = this.vec(k);
    return v ? Array.from({ length: v.len }, (_, i) => this.bb.readInt32(v.start + 4 * i)) : [];
  }
  floats(k: number): number[] {
    const v = this.vec(k);
    return v ? Array.from({ length: v.len }, (_, i) => this.bb.readFloat32(v.start + 4 * i)) : [];
  }
  longs(k: number): number[] {
    const v = this.vec(k);
    return v ? Array.from({ length: v.len }, (_, i) => Number(this.bb.readInt64(v.start + 8 * i))) : [];
  }
  bytes(k: number): { start: number; data: Uint8Array } | null {
    const v = this.vec(k);
    return v ? { start: v.start, data: this.bb.bytes().subarray(v.start, v.start + v.len) } : null;
  }
}

interface Read {
  model: Table;
  codes: { deprecated: number; version: number; builtin: number }[];
  tensors: { name: string; shape: number[]; type: number; buffer: number; scale: number[]; zp: number[]; qdim: number }[];
  inputs: number[];
  outputs: number[];
  ops: { code: number; inputs: number[]; outputs: number[]; optionsType: number; activation: number | null }[];
  buffers: ({ start: number; data: Uint8Array } | null)[];
}

function readModel(bytes: Uint8Array): Read {
  const bb = new ByteBuffer(bytes);
  assert.ok(bb.__has_identifier('TFL3'), 'file identifier TFL3');
  const model = new Table(bb, bb.readInt32(bb.position()) + bb.position());
  const codes = model.tables(1).map((c) => ({ deprecated: c.i8(0), version: c.i32(2, 1), builtin: c.i32(3) }));
  const sgs = model.tables(2);
  assert.equal(sgs.length, 1, 'one subgraph');
  const sg = sgs[0];
  const tensors = sg.tables(0).map((t) => {
    const q = t.table(4) as Table;
    return { name: t.str(3) as string, shape: t.ints(0), type: t.i8(1), buffer: t.i32(2), scale: q.floats(2), zp: q.longs(3), qdim: q.i32(6) };
  });
  const ops = sg.tables(3).map((o) => {
    const opts = o.table(4);
    return { code: o.i32(0), inputs: o.ints(1), outputs: o.ints(2), optionsType: o.i8(3), activation: opts ? opts.i8(0) : null };
  });
  const buffers = model.tables(4).map((b) => b.bytes(0));
  return { model, codes, tensors, inputs: sg.ints(1), outputs: sg.ints(2), ops, buffers };
}

const tiny = () => lowerToQuantGraph(initFloatModel('se-tiny', 1));
const bytesOf = (a: Int8Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

test('se-tiny: schema 3, one step subgraph with the canonical names, opcodes in both fields, ops in graph order', () => {
  const g = tiny();
  const r = readModel(writeTflite(g));
  assert.equal(r.model.i32(0), 3, 'schema version');
  // Both opcode fields, so pre-2.4 parsers (deprecated byte) and current ones (int32) read the same op.
  for (const c of r.codes) assert.equal(c.deprecated, c.builtin);
  const builtinOf = new Map<string, number>(Object.entries(BUILTIN));
  assert.deepEqual(r.codes.map((c) => c.builtin).sort((a, b) => a - b), [0, 9, 14, 18, 28, 41], 'ADD FC LOGISTIC MUL TANH SUB');
  assert.deepEqual(Object.fromEntries(r.codes.map((c) => [c.builtin, c.version])), { 0: 2, 9: 4, 14: 2, 18: 2, 28: 2, 41: 2 });

  const names = r.tensors.map((t) => t.name);
  assert.deepEqual(r.inputs.map((i) => names[i]), ['features', 'gru0.h']);
  assert.deepEqual(r.outputs.map((i) => names[i]), ['mask', 'gru0.h_next']);
  assert.deepEqual(r.inputs.map((i) => r.tensors[i].shape), [[1, 257], [1, 32]]);
  for (const w of ['fc_in.w', 'fc_in.b', 'gru0.w_xz', 'gru0.b_hn', 'fc_out.w', 'fc_out.b']) assert.ok(names.includes(w), w);

  assert.equal(r.ops.length, g.ops.length);
  r.ops.forEach((o, k) => {
    const q = g.ops[k];
    const want = q.op === 'FC' ? 'FULLY_CONNECTED' : q.op === 'LUT' ? (q.kind === 'logistic' ? 'LOGISTIC' : 'TANH') : q.op;
    assert.equal(r.codes[o.code].builtin, builtinOf.get(want), `op ${k} ${q.name}`);
    assert.equal(names[o.outputs[0]], q.output);
    if (q.op === 'FC') {
      assert.equal(names[o.inputs[0]], q.input);
      assert.deepEqual([o.optionsType, o.activation], [8, q.activation === 'relu' ? 1 : 0], `${q.name} FullyConnectedOptions`);
    }
    if (q.op === 'ADD' || q.op === 'SUB' || q.op === 'MUL') assert.deepEqual(o.inputs.map((i) => names[i]), [q.in1, q.in2]);
    if (q.op === 'LUT') assert.deepEqual([o.optionsType, o.activation], [0, null]);
  });
  assert.equal(r.ops[0].activation, 1, 'fc_in carries the fused ReLU');
});

test('tensors: activation quantization from the graph, per-channel weights on dimension 0, biases at s_in·s_w, 16-aligned constants', () => {
  const g = tiny();
  const bytes = writeTflite(g);
  const r = readModel(bytes);
  assert.equal(r.buffers[0], null, 'buffer 0 is the empty sentinel');
  const byName = new Map(r.tensors.map((t) => [t.name, t]));
  for (const t of g.tensors) {
    const f = byName.get(t.name);
    assert.ok(f, t.name);
    assert.deepEqual([f.type, f.buffer, f.shape, f.scale, f.zp], [9, 0, [1, t.length], [t.scale], [t.zeroPoint]], t.name);
  }
  assert.deepEqual([byName.get('mask')?.scale, byName.get('mask')?.zp], [[1 / 256], [-128]]);
  assert.deepEqual([byName.get('gru0.n')?.scale, byName.get('gru0.n')?.zp], [[1 / 128], [0]]);
  for (const op of g.ops.filter((o): o is QFc => o.op === 'FC')) {
    const o = r.ops.find((x) => r.tensors[x.outputs[0]].name === op.output);
    assert.ok(o);
    const [, wi, bi] = o.inputs;
    const w = r.tensors[wi], b = r.tensors[bi];
    const sIn = (byName.get(op.input) as { scale: number[] }).scale[0];
    assert.deepEqual([w.type, w.shape, w.qdim, w.scale, w.zp], [9, [op.outFeatures, op.inFeatures], 0, Array.from(op.weightScales), new Array(op.outFeatures).fill(0)], op.name);
    assert.deepEqual([b.type, b.shape, b.zp.length], [2, [op.outFeatures], op.outFeatures]);
    assert.deepEqual(b.scale, Array.from(op.weightScales, (s) => Math.fround(sIn * s)));
    const wb = r.buffers[w.buffer], bb = r.buffers[b.buffer];
    assert.ok(wb && bb);
    assert.deepEqual(wb.data, bytesOf(op.weights), `${op.name} weights bytes`);
    assert.deepEqual(bb.data, bytesOf(op.bias), `${op.name} raw (unfolded) bias`);
    assert.equal(wb.start % 16, 0, 'weights 16-aligned in the file');
    assert.equal(bb.start % 16, 0, 'bias 16-aligned in the file');
  }
  assert.deepEqual(writeTflite(g), bytes, 'deterministic');
});

test('per-tensor lowering: one shared scale per matrix, written as per-tensor quantization; the blob stays valid', () => {
  const model = recalibrated(pruneMagnitude(initFloatModel('se-tiny', 3), 0.3));
  const g = lowerToQuantGraph(model, { weightScales: 'per-tensor' });
  const fcs = g.ops.filter((o): o is QFc => o.op === 'FC');
  for (const op of fcs) {
    assert.ok(op.weightScales.every((s) => s === op.weightScales[0]), `${op.name} shares one scale`);
    assert.equal(Math.max(...Array.from(op.weights, Math.abs)), 127, `${op.name}: the largest weight uses the full range`);
  }
  const r = readModel(writeTflite(g));
  for (const op of fcs) {
    const w = r.tensors.find((t) => t.name === (op.name === 'fc_in' || op.name === 'fc_out' ? `${op.name}.w` : op.name.replace('.fc_', '.w_')));
    assert.ok(w, op.name);
    assert.deepEqual([w.scale, w.zp], [[op.weightScales[0]], [0]]);
  }
  // The blob serializes the same graph: it loads and runs, and every FC multiplier is the same per matrix.
  const engine = new Engine(writeBlob(g));
  for (const op of engine.blob.ops) if (op.op === 'FC') assert.ok(op.mult.every((m) => m === op.mult[0]));
  engine.runFrame(testSignal(1, 256));
});

test('metadata and signature: hil version, model id, streaming contract; description names both', () => {
  const g = lowerToQuantGraph(initFloatModel('se-small', 2));
  const res = writeTfliteDetailed(g);
  const r = readModel(res.bytes);
  const meta = r.model.tables(6);
  assert.equal(meta.length, 1);
  assert.equal(meta[0].str(0), 'hil');
  const data = r.buffers[meta[0].i32(1)];
  assert.ok(data);
  const info = JSON.parse(new TextDecoder().decode(data.data)) as TfliteStreamingInfo;
  const id = g.modelId.toString(16).padStart(8, '0');
  assert.deepEqual(info, res.info);
  assert.equal(info.hil, HIL_VERSION);
  assert.equal(info.modelId, id);
  assert.deepEqual(info.states, [{ input: 'gru0.h', output: 'gru0.h_next' }, { input: 'gru1.h', output: 'gru1.h_next' }]);
  assert.deepEqual([info.featMult, info.featShift, info.hop], [g.featMult, g.featShift, 256]);
  const desc = r.model.str(3) as string;
  assert.ok(desc.includes(HIL_VERSION) && desc.includes(id), desc);
  const sig = r.model.tables(7);
  assert.equal(sig.length, 1);
  assert.equal(sig[0].str(2), 'serving_default');
  assert.deepEqual(sig[0].tables(0).map((m) => [m.str(0), m.i32(1)]), r.inputs.map((i) => [r.tensors[i].name, i]));
  assert.deepEqual(sig[0].tables(1).map((m) => m.str(0)), ['mask', 'gru0.h_next', 'gru1.h_next']);
});

test('an LSTM exports with the same builtins (no LSTM op): states c and h per layer, c at c_next\'s quantization, weights by canonical name', () => {
  const g = lowerToQuantGraph(initFloatModel('tinylstm-tiny', 4));
  const res = writeTfliteDetailed(g);
  const r = readModel(res.bytes);
  assert.deepEqual(res.info.states, [0, 1].flatMap((l) => [{ input: `lstm${l}.c`, output: `lstm${l}.c_next` }, { input: `lstm${l}.h`, output: `lstm${l}.h_next` }]));
  assert.deepEqual(r.outputs.map((i) => r.tensors[i].name), ['mask', 'lstm0.c_next', 'lstm0.h_next', 'lstm1.c_next', 'lstm1.h_next']);
  const codes = new Set(r.codes.map((c) => c.builtin));
  assert.deepEqual([...codes].sort((a, b) => a - b), [BUILTIN.ADD, BUILTIN.LOGISTIC, BUILTIN.FULLY_CONNECTED, BUILTIN.MUL, BUILTIN.TANH].sort((a, b) => a - b));
  const byName = new Map(r.tensors.map((t) => [t.name, t]));
  const c = byName.get('lstm1.c')!, cNext = byName.get('lstm1.c_next')!;
  assert.deepEqual([c.scale, c.zp], [cNext.scale, cNext.zp]);
  const gq = g.tensors.find((t) => t.name === 'lstm1.c')!;
  assert.deepEqual([c.scale?.[0], Number(c.zp?.[0])], [gq.scale, gq.zeroPoint]);
  for (const n of ['lstm0.w_xi', 'lstm0.w_hf', 'lstm1.w_hg', 'lstm1.b_xo']) assert.ok(byName.has(n), n);
});

test('slices: one op, or every op with every intermediate as an output; bad slices are refused', () => {
  const g = tiny();
  const k = g.ops.findIndex((o) => o.name === 'gru0.mul_z');
  const one = writeTfliteDetailed(g, { ops: [k] });
  assert.deepEqual([one.inputs, one.outputs], [['gru0.z', 'gru0.h_minus_n'], ['gru0.z_h_minus_n']]);
  assert.deepEqual(one.info.ops, [k]);
  assert.equal(readModel(one.bytes).tensors.length, 3, 'only the tensors the slice touches');
  const all = writeTfliteDetailed(g, { ops: g.ops.map((_, i) => i) });
  assert.deepEqual(all.inputs, ['features', 'gru0.h']);
  assert.deepEqual(all.outputs, g.ops.map((o) => o.output));
  for (const bad of [[], [3, 2], [g.ops.length], [1.5]])
    assert.throws(() => writeTflite(g, { ops: bad }), (e: unknown) => e instanceof HilError && /slice/.test(e.message), `[${bad}]`);
});

test('refusals: a general LUT, a LOGISTIC whose output is not 1/256 at −128, a clamped ADD', () => {
  const g = tiny();
  const withOp = (k: number, patch: object): QuantGraph => ({ ...g, ops: g.ops.map((o, i) => (i === k ? ({ ...o, ...patch } as typeof o) : o)) });
  const lut = g.ops.findIndex((o) => o.op === 'LUT');
  assert.throws(() => writeTflite(withOp(lut, { kind: 'other' })), (e: unknown) => e instanceof HilError && /lookup table/.test(e.message));
  const out = (g.ops[lut] as QLut).output;
  const skewed: QuantGraph = { ...g, tensors: g.tensors.map((t) => (t.name === out ? { ...t, scale: Math.fround(1 / 200) } : t)) };
  assert.throws(() => writeTflite(skewed), (e: unknown) => e instanceof HilError && /needs 0.00390625 and -128/.test(e.message));
  const add = g.ops.findIndex((o) => o.op === 'ADD');
  assert.throws(() => writeTflite(withOp(add, { actMin: 0 })), (e: unknown) => e instanceof HilError && /clamped ADD/.test(e.message));
});

test('Engine.runGraph is runFrame\'s graph step; evalOp reproduces each op; shrunken graphs export', () => {
  const g = lowerToQuantGraph(recalibrated(unitPrune(initFloatModel('se-small', 1), 100, [96, 72])));
  const blob = writeBlob(g);
  const stream = new Engine(blob), graph = new Engine(blob), ops = new Engine(blob);
  const pcm = testSignal(4, 256 * 6);
  for (let f = 0; f < 6; f++) {
    const before = stream.stateIds.map((id) => stream.readTensor(id));
    stream.runFrame(pcm.subarray(f * 256, (f + 1) * 256));
    const features = stream.readTensor(stream.blob.inputId);
    const step = graph.runGraph(features, f % 2 ? before : undefined); // omitted states: the engine carries them
    assert.deepEqual(step.mask, stream.readTensor(stream.blob.outputId), `frame ${f} mask`);
    assert.deepEqual(step.states, stream.stateIds.map((id) => stream.readTensor(id)), `frame ${f} states`);
  }
  // evalOp on the stream engine's own intermediates gives the same outputs.
  const t = (name: string) => stream.readTensor(g.tensors.findIndex((x) => x.name === name));
  g.ops.forEach((op, k) => {
    if (op.op === 'FC' && op.input.endsWith('.h')) return; // reads the state, which already holds h_next
    if (!('input' in op)) {
      if (op.in1.endsWith('.h') || op.in2.endsWith('.h')) return;
    }
    const ins = 'input' in op ? [t(op.input)] : [t(op.in1), t(op.in2)];
    assert.deepEqual(ops.evalOp(k, ins), t(op.output), op.name);
  });
  const r = readModel(writeTflite(g));
  assert.deepEqual(r.inputs.map((i) => r.tensors[i].shape), [[1, 257], [1, 96], [1, 72]]);
  assert.deepEqual(r.tensors.find((x) => x.name === 'gru1.w_xz')?.shape, [72, 96]);
  assert.throws(() => graph.runGraph(new Int8Array(256)), RangeError);
  assert.throws(() => graph.runGraph(new Int8Array(257), [new Int8Array(96)]), RangeError);
});

test('hil model export --format tflite [--weights per-tensor] writes the same file as writeTflite; bad options are one-line errors', () => {
  const root = new URL('../..', import.meta.url).pathname;
  const hil = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8' });
  const dir = mkdtempSync(join(tmpdir(), 'hil-tflite-cli-'));
  try {
    assert.equal(hil(['model', 'init', '--arch', 'se-tiny', '--seed', '4', '--out', dir]).status, 0);
    const fm = loadFloatModel(join(dir, 'model.json'));
    for (const weights of ['per-channel', 'per-tensor'] as const) {
      const out = join(dir, `${weights}.tflite`);
      const r = hil(['model', 'export', join(dir, 'model.json'), '--format', 'tflite', '--weights', weights, '--out', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /in features, gru0\.h; out mask, gru0\.h_next/);
      assert.deepEqual(new Uint8Array(readFileSync(out)), writeTflite(lowerToQuantGraph(fm, { weightScales: weights })));
    }
    const blob = hil(['model', 'export', join(dir, 'model.json'), '--weights', 'per-tensor', '--encoding', 'dense', '--out', join(dir, 'pt.hilm')]);
    assert.equal(blob.status, 0, blob.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'pt.hilm'))), writeBlob(lowerToQuantGraph(fm, { weightScales: 'per-tensor' }), { encoding: { kind: 'dense' } }));
    for (const bad of [['--format', 'onnx'], ['--weights', 'tensor']]) {
      const r = hil(['model', 'export', join(dir, 'model.json'), ...bad, '--out', join(dir, 'x')]);
      assert.equal(r.status, 2);
      assert.match(r.stderr.trim().split('\n').pop() as string, new RegExp(`${bad[0]} must be`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
