/**
 * hil compress on se-tiny: profiles and their errors, the schedule, the three mask structures, unit
 * shrinking (bit-exact), the offline baseline, and whole compressions of each structure on a synthetic
 * corpus (achieved sparsity, block structure, smaller blobs and less kernel work, determinism, resume).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { ARCHS } from '../../src/model/arch.js';
import { initFloatModel } from '../../src/model/init.js';
import { loadFloatModel, saveFloatModel, type FloatModel } from '../../src/model/floatModel.js';
import { loadTrainCorpus, stepsPerEpoch } from '../../src/model/dataset.js';
import { initTf } from '../../src/model/tfBackend.js';
import { train, type StepContext } from '../../src/model/train.js';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { writeBlob } from '../../src/export/blob.js';
import { Engine, parseBlob, runClipOnHost } from '../../src/engine/index.js';
import { HilError } from '../../src/util/errors.js';
import { loadProfile, parseProfile, PROFILES_DIR, type Profile } from '../../src/compress/profile.js';
import { isUpdateStep, planSteps, sparsityAt } from '../../src/compress/schedule.js';
import { blockGrid, blockMask, forBlock, unitLayers, unitMasks, weightMask, type WeightSource } from '../../src/compress/structures.js';
import { shrinkUnits } from '../../src/compress/shrink.js';
import { fcMatrixName, pruneQuantGraph } from '../../src/compress/offline.js';
import { pruningHooks } from '../../src/compress/hooks.js';
import { compress, type CompressManifest } from '../../src/compress/compress.js';
import { makeSyntheticCorpus } from './trainFixture.js';

await initTf({ backend: 'wasm' });
const tmp = mkdtempSync(join(tmpdir(), 'hil-compress-'));
const corpus = loadTrainCorpus(makeSyntheticCorpus(join(tmp, 'corpus'), { speech: 8, val: 2 }));
const tiny = ARCHS['se-tiny'];

/** A se-tiny "baseline": seeded init with calibrated ranges; small batches keep fine-tuning fast. */
const baseline: FloatModel = initFloatModel('se-tiny', 5, 256);
baseline.provenance = { ...baseline.provenance, batchSize: 4, frames: 30 };
const baseDir = join(tmp, 'baseline');
saveFloatModel(join(baseDir, 'model.json'), baseline);

const clip = (() => {
  const rng = seedrandom('compress-clip');
  return Int16Array.from({ length: 6000 }, (_, i) => Math.round(6000 * Math.sin(i * 0.07) * (0.6 + 0.4 * Math.sin(i / 900)) + 1500 * (rng() * 2 - 1)));
})();

function profileOf(raw: Record<string, unknown>): Profile {
  return parseProfile({ name: 'test', ...raw }, 'test-profile.json');
}

function throwsLine(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof HilError && re.test(e.line()) && !e.line().includes('\n'));
}

test('every shipped profile validates, is named after its file, and the set covers each structure', () => {
  const files = readdirSync(PROFILES_DIR).filter((f) => f.endsWith('.json'));
  const byStructure: Record<string, number[]> = {};
  const boardBlock: number[] = [];
  for (const f of files) {
    // board-block-* take the board's shape; corstone-300's is what bench:compress resolves them with.
    const p = loadProfile(f.replace(/\.json$/, ''), { board: 'corstone-300' });
    assert.equal(p.name, f.replace(/\.json$/, ''));
    if (p.name.startsWith('board-block-')) {
      assert.deepEqual(p.encoding, { kind: 'block', br: 8, bc: 8 }, `${p.name} on corstone-300`);
      boardBlock.push(p.sparsity);
      continue;
    }
    (byStructure[p.structure] ??= []).push(p.sparsity);
  }
  assert.deepEqual(boardBlock.sort(), [0.7, 0.8, 0.9]);
  for (const s of ['weight', 'block', 'offline']) assert.deepEqual(byStructure[s].sort(), [0.5, 0.7, 0.8, 0.9, 0.95], s);
  assert.ok(byStructure.unit.length >= 3);
  assert.deepEqual(byStructure.none, [0]);
  assert.deepEqual(loadProfile('block-90').encoding, { kind: 'block', br: 8, bc: 8 });
  throwsLine(() => loadProfile('board-block-80'), /block is "board" but no board was given/);
  assert.deepEqual(loadProfile('weight-90').encoding, { kind: 'csr' });
  assert.deepEqual(loadProfile('unit-50').encoding, { kind: 'dense' });
});

test('profile mistakes are one-line errors naming the file and the field', () => {
  throwsLine(() => profileOf({ structure: 'weight', sparsity: 1.2 }), /test-profile\.json: sparsity must be < 1/);
  throwsLine(() => profileOf({ structure: 'weights', sparsity: 0.5 }), /test-profile\.json: structure must be one of/);
  throwsLine(() => profileOf({ structure: 'weight', sparsity: 0.5, colour: 1 }), /unknown field "colour"/);
  throwsLine(() => profileOf({ structure: 'weight', sparsity: 0.5, schedule: { every: 0 } }), /schedule\.every must be >= 1/);
  throwsLine(() => profileOf({ structure: 'weight', sparsity: 0.5, schedule: { start: 0.7, end: 0.6 } }), /schedule\.start \(0\.7\) must be below schedule\.end/);
  throwsLine(() => profileOf({ structure: 'weight', sparsity: 0.5, block: [4, 4] }), /block is only meaningful for structure "block"/);
  throwsLine(() => profileOf({ structure: 'unit', sparsity: 0.5, prune: ['fc_out'] }), /prune lists fc_out/);
  throwsLine(() => profileOf({ structure: 'none', sparsity: 0.5 }), /sparsity must be 0 for structure "none"/);
  throwsLine(() => profileOf({ structure: 'block', sparsity: 0.5, block: 'board' }), /block is "board" but no board was given.*--board/);
  throwsLine(() => profileOf({ structure: 'weight', sparsity: 0.5, fine_tune: { steps: 0 } }), /fine_tune\.steps is 0/);
  throwsLine(() => loadProfile('no-such-profile'), /no profile named "no-such-profile"/);
  const bad = join(tmp, 'bad.json');
  writeFileSync(bad, '{"name": "x",');
  throwsLine(() => loadProfile(bad), /bad\.json is not valid JSON/);
});

test('"block": "board" takes the board file\'s preferred_block', () => {
  const board = JSON.parse(readFileSync(new URL('../../boards/sim.json', import.meta.url), 'utf8'));
  const path = join(tmp, 'm55-board.json');
  writeFileSync(path, JSON.stringify({ ...board, preferred_block: [1, 16] }));
  const p = parseProfile({ name: 'b', structure: 'block', sparsity: 0.5, block: 'board' }, 'b.json', { board: path });
  assert.deepEqual(p.block, [1, 16]);
  assert.deepEqual(p.encoding, { kind: 'block', br: 1, bc: 16 });
  const none = join(tmp, 'plain-board.json');
  const { preferred_block: _, ...plain } = board;
  writeFileSync(none, JSON.stringify(plain));
  throwsLine(() => parseProfile({ name: 'b', structure: 'block', sparsity: 0.5, block: 'board' }, 'b.json', { board: none }), /has no preferred_block/);
});

test('the schedule rises as a cubic from t0 to the target at t1, then holds', () => {
  const s = { start: 0.1, end: 0.6, power: 3, every: 5 };
  const plan = planSteps(s, 100);
  assert.deepEqual(plan, { t0: 10, t1: 60 });
  assert.equal(sparsityAt(s, plan, 5, 0.9), 0);
  assert.equal(sparsityAt(s, plan, 10, 0.9), 0);
  assert.ok(Math.abs(sparsityAt(s, plan, 35, 0.9) - 0.9 * (1 - 0.5 ** 3)) < 1e-12);
  assert.equal(sparsityAt(s, plan, 60, 0.9), 0.9);
  assert.equal(sparsityAt(s, plan, 99, 0.9), 0.9);
  let prev = 0;
  for (let t = 0; t < 100; t++) {
    const v = sparsityAt(s, plan, t, 0.9);
    assert.ok(v >= prev);
    prev = v;
  }
  const updates = Array.from({ length: 100 }, (_, t) => t).filter((t) => isUpdateStep(s, plan, t));
  assert.deepEqual(updates, [10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
  const odd = { ...s, every: 7 };
  assert.equal(Array.from({ length: 100 }, (_, t) => t).filter((t) => isUpdateStep(odd, plan, t)).at(-1), 60);
});

test('weight masks prune the smallest magnitudes and never revive a pruned weight', () => {
  const rng = seedrandom('wm');
  const w = Float32Array.from({ length: 1000 }, () => rng() * 2 - 1);
  const m1 = weightMask(w, undefined, 0.3);
  assert.equal(m1.filter((v) => v === 0).length, 300);
  let maxPruned = 0, minKept = Infinity;
  w.forEach((v, i) => (m1[i] === 0 ? (maxPruned = Math.max(maxPruned, Math.abs(v))) : (minKept = Math.min(minKept, Math.abs(v)))));
  assert.ok(maxPruned <= minKept);
  // The weights grow back (as if training had pushed them): the old mask's zeros still stay zero.
  const grown = Float32Array.from(w, (v, i) => (m1[i] === 0 ? 10 : v));
  const m2 = weightMask(grown, m1, 0.5);
  assert.equal(m2.filter((v) => v === 0).length, 500);
  m1.forEach((v, i) => v === 0 && assert.equal(m2[i], 0, `weight ${i} revived`));
});

test('block masks zero whole tiles on the blob grid (edge tiles included), lowest L2 norm first, never reviving', () => {
  const rng = seedrandom('bm');
  const rows = 37, cols = 50, br = 8, bc = 8;
  const w = Float32Array.from({ length: rows * cols }, () => rng() * 2 - 1);
  const g = blockGrid(rows, cols, br, bc);
  const check = (m: Float32Array, target: number) => {
    let zeros = 0;
    for (let b = 0; b < g.nbr * g.nbc; b++) {
      const vals: number[] = [];
      forBlock(g, b, (i) => vals.push(m[i]));
      assert.ok(vals.every((v) => v === 0) || vals.every((v) => v === 1), `block ${b} is partly pruned`);
      zeros += vals[0] === 0 ? vals.length : 0;
    }
    // At least the target, by less than one full tile.
    assert.ok(zeros >= Math.round(target * w.length) && zeros < Math.round(target * w.length) + br * bc, `${zeros} zeros`);
  };
  const m1 = blockMask(w, rows, cols, br, bc, undefined, 0.4);
  check(m1, 0.4);
  const grown = Float32Array.from(w, (v, i) => (m1[i] === 0 ? 5 : v));
  const m2 = blockMask(grown, rows, cols, br, bc, m1, 0.7);
  check(m2, 0.7);
  m1.forEach((v, i) => v === 0 && assert.equal(m2[i], 0));
  // Tiles are ranked by their norm: a tile of large weights survives.
  const big = Float32Array.from(w);
  forBlock(g, 3, (i) => (big[i] = 100));
  const m3 = blockMask(big, rows, cols, br, bc, undefined, 0.9);
  forBlock(g, 3, (i) => assert.equal(m3[i], 1));
});

/** A WeightSource over a FloatModel (what StepContext gives the hooks in training). */
function sourceOf(model: FloatModel, masks = new Map<string, Float32Array>()): WeightSource {
  return { shape: (n) => model.weights[n].shape, weights: (n) => model.weights[n].data, mask: (n) => masks.get(n) };
}

function applyMasks(model: FloatModel, masks: Map<string, Float32Array>): FloatModel {
  const weights = { ...model.weights };
  for (const [n, m] of masks) weights[n] = { shape: model.weights[n].shape, data: Float32Array.from(model.weights[n].data, (v, i) => v * m[i]) };
  return { ...model, weights };
}

test('unit masks remove whole units (rows of all gates, biases, reader columns); shrinking them is bit-exact and smaller', () => {
  const layers = unitLayers(tiny);
  const masks = unitMasks(layers, sourceOf(baseline), 0.5);
  const gru = layers.find((l) => l.name === 'gru0')!;
  const wxz = masks.get('gru0.w_xz')!;
  const removed = Array.from({ length: 32 }, (_, j) => j).filter((j) => wxz[j * 32] === 0 && wxz.subarray(j * 32, j * 32 + 32).every((v) => v === 0));
  assert.equal(removed.length, 16);
  for (const j of removed) {
    for (const n of gru.rows) assert.ok(masks.get(n)!.subarray(j * 32, (j + 1) * 32).every((v) => v === 0), `${n} row ${j}`);
    for (const n of gru.biases) assert.equal(masks.get(n)![j], 0);
    for (const n of gru.cols) {
      const [r, c] = baseline.weights[n].shape;
      for (let row = 0; row < r; row++) assert.equal(masks.get(n)![row * c + j], 0, `${n} column ${j}`);
    }
  }
  // The output layer keeps every row (mask bins).
  const fcOut = masks.get('fc_out.w')!;
  for (let o = 0; o < 257; o++) assert.ok(fcOut.subarray(o * 32, o * 32 + 32).some((v) => v === 1));

  const masked = applyMasks(baseline, masks);
  const { model: small, layers: units } = shrinkUnits(masked);
  assert.deepEqual(units.gru0.after, 16);
  assert.deepEqual(units.fc_in.after, 16);
  assert.deepEqual(small.weights['gru0.w_hz'].shape, [16, 16]);
  assert.deepEqual(small.weights['gru0.w_xn'].shape, [16, 16]);
  assert.deepEqual(small.weights['fc_out.w'].shape, [257, 16]);
  const big = writeBlob(lowerToQuantGraph(masked));
  const shrunk = writeBlob(lowerToQuantGraph(small));
  assert.ok(shrunk.length < big.length / 1.5, `${shrunk.length} vs ${big.length} bytes`);
  const a = runClipOnHost(big, clip);
  const b = runClipOnHost(shrunk, clip);
  assert.deepEqual(b.output, a.output, 'the shrunken blob computes exactly what the masked one does');
  assert.ok(b.perFrame[0].macs < a.perFrame[0].macs / 2);
});

test('offline pruning changes only the pruned int8 weights and the folded biases that sum them', () => {
  const graph = lowerToQuantGraph(baseline);
  const { graph: pruned, pruned: idx } = pruneQuantGraph(graph, 0.8, ['all']);
  assert.equal(idx.size, graph.ops.filter((o) => o.op === 'FC').length);
  assert.deepEqual(pruned.tensors, graph.tensors);
  graph.ops.forEach((op, k) => {
    const p = pruned.ops[k];
    if (op.op !== 'FC' || p.op !== 'FC') return assert.deepEqual(p, op);
    const set = new Set(idx.get(fcMatrixName(op.name)));
    assert.equal(set.size, Math.round(0.8 * op.weights.length));
    op.weights.forEach((q, i) => assert.equal(p.weights[i], set.has(i) ? 0 : q));
    // Pruned positions are the smallest real magnitudes |q|·scale.
    const mag = (i: number) => Math.abs(op.weights[i]) * op.weightScales[Math.floor(i / op.inFeatures)];
    let maxP = 0, minK = Infinity;
    op.weights.forEach((_, i) => (set.has(i) ? (maxP = Math.max(maxP, mag(i))) : (minK = Math.min(minK, mag(i)))));
    assert.ok(maxP <= minK);
    const zp = graph.tensors.find((t) => t.name === op.input)!.zeroPoint;
    for (let o = 0; o < op.outFeatures; o++) {
      let sum = 0;
      for (let i = 0; i < op.inFeatures; i++) sum += p.weights[o * op.inFeatures + i];
      assert.equal(p.biasEff[o], op.bias[o] - zp * sum);
    }
    for (const f of ['weightScales', 'bias', 'multipliers', 'shifts', 'actMin', 'actMax', 'inFeatures', 'outFeatures'] as const) assert.deepEqual(p[f], op[f]);
  });
  // At sparsity 0 nothing at all changes.
  const same = pruneQuantGraph(graph, 0, ['all']).graph;
  assert.deepEqual(writeBlob(same), writeBlob(graph));
});

test('masks set by the hooks during training never revive, and pruned weights end exactly zero', async () => {
  const profile = profileOf({ structure: 'weight', sparsity: 0.8, schedule: { start: 0, end: 0.6, every: 2 }, fine_tune: { steps: 8 } });
  const hooks = pruningHooks(profile, tiny);
  let prev = new Map<string, Float32Array>();
  let revived = 0;
  const zeroCounts = new Set<number>();
  const result = await train({
    arch: 'se-tiny', corpus, epochs: 8, seed: 1, qat: { enabled: true, warmupSteps: 0 }, outDir: join(tmp, 'revive'), batchSize: 4, frames: 20, lr: 0.01, init: baseline, valEvery: 8,
    hooks: {
      beforeStep(ctx: StepContext) {
        hooks.beforeStep!(ctx);
        const now = new Map(ctx.matrices.map((n) => [n, ctx.mask(n) ?? new Float32Array(ctx.weights(n).length).fill(1)]));
        for (const [n, m] of prev) m.forEach((v, i) => v === 0 && now.get(n)![i] !== 0 && revived++);
        zeroCounts.add([...now.values()].reduce((s, m) => s + m.filter((v) => v === 0).length, 0));
        prev = now;
      },
    },
  });
  assert.equal(revived, 0);
  assert.ok(zeroCounts.size >= 4, `${zeroCounts.size} distinct pruned counts: the sparsity rose gradually`);
  for (const [n, m] of prev) {
    const w = result.model.weights[n].data;
    m.forEach((v, i) => v === 0 && assert.ok(w[i] === 0, `${n}[${i}] drifted back to ${w[i]}`));
    assert.ok(Math.abs(m.filter((v) => v === 0).length / m.length - 0.8) < 0.01);
  }
});

const runs = new Map<string, CompressManifest>();
async function run(structure: string, raw: Record<string, unknown>, dir = structure): Promise<CompressManifest> {
  const p = profileOf({ structure, ...raw });
  const m = await compress({ baseline: baseDir, profile: { ...p, name: `test-${structure}` }, corpus, outDir: join(tmp, 'out', dir), seed: 3 });
  runs.set(dir, m);
  return m;
}
const learned = { fine_tune: { steps: 5, lr: 0.005 }, schedule: { start: 0, end: 0.5, every: 1 } };

test('compress, weight: the target sparsity per matrix, a CSR blob smaller than dense that does less work', async () => {
  const m = await run('weight', { sparsity: 0.8, ...learned });
  for (const [n, s] of Object.entries(m.sparsity.perMatrix)) assert.ok(Math.abs(s.achieved - 0.8) < 0.005, `${n}: ${s.achieved}`);
  assert.ok(m.blob.flashBytes < m.encodings.dense.flashBytes * 0.7);
  assert.ok(m.macsPerFrame.effective < m.macsPerFrame.dense * 0.3);
  const blob = new Uint8Array(readFileSync(join(tmp, 'out', 'weight', 'model.hilm')));
  assert.ok(parseBlob(blob).ops.every((o) => o.op !== 'FC' || o.weights.encoding === 'csr'));
  const dense = writeBlob(lowerToQuantGraph(loadFloatModel(join(tmp, 'out', 'weight', 'model.json'))));
  const a = runClipOnHost(blob, clip.subarray(0, 2048));
  const b = runClipOnHost(dense, clip.subarray(0, 2048));
  assert.deepEqual(a.output, b.output, 'CSR and dense encodings of the same graph are the same computation');
  assert.ok(a.perFrame[0].macs < b.perFrame[0].macs * 0.3 && a.perFrame[0].weightBytes < b.perFrame[0].weightBytes * 0.7);
  assert.ok(Number.isFinite(m.validation.int8.sdr) && Number.isFinite(m.validation.float.sdr));
  assert.equal(m.validation.items, corpus.val.length);
  // fine_tune.steps is an exact budget: the fixture's epoch is 2 steps, so 5 end half-way through the third.
  assert.equal(stepsPerEpoch(corpus, 4), 2);
  assert.ok(m.training);
  assert.equal(m.training.steps, 5);
  assert.equal(m.training.epochs, 3);
  // The budget the profile asked for and what training ran, recorded for bench:compress.
  assert.deepEqual(m.budget, { steps: 5, epochs: null, epochsRun: m.training.epochs, stepsRun: m.training.steps, source: 'profile' });
});

test('compress, block: every pruned 4x4 block entirely zero, a block blob smaller than dense with fewer MACs', async () => {
  const m = await run('block', { sparsity: 0.75, block: [4, 4], ...learned });
  assert.ok(Math.abs(m.sparsity.achieved - 0.75) < 0.02, String(m.sparsity.achieved));
  const model = loadFloatModel(join(tmp, 'out', 'block', 'model.json'));
  for (const [n, s] of Object.entries(m.sparsity.perMatrix)) {
    const [rows, cols] = s.shape;
    const g = blockGrid(rows, cols, 4, 4);
    let prunedBlocks = 0;
    for (let b = 0; b < g.nbr * g.nbc; b++) {
      const vals: number[] = [];
      forBlock(g, b, (i) => vals.push(model.weights[n].data[i]));
      if (vals.every((v) => v === 0)) prunedBlocks++;
    }
    assert.ok(prunedBlocks >= 0.7 * g.nbr * g.nbc, `${n}: ${prunedBlocks} of ${g.nbr * g.nbc} blocks pruned`);
    // Weights are zero only as whole blocks (a surviving block has no zero weights in practice).
    assert.ok(s.total - s.nonzero < (prunedBlocks + 1) * 16 + 4, n);
  }
  const blob = parseBlob(new Uint8Array(readFileSync(join(tmp, 'out', 'block', 'model.hilm'))));
  for (const op of blob.ops) if (op.op === 'FC') assert.deepEqual([op.weights.encoding, op.weights.encoding === 'block' && op.weights.br, op.weights.encoding === 'block' && op.weights.bc], ['block', 4, 4]);
  assert.ok(m.blob.flashBytes < m.encodings.dense.flashBytes * 0.55);
  assert.ok(m.macsPerFrame.effective < m.macsPerFrame.dense * 0.35);
  assert.ok(m.cost.modelledCyclesPerFrame < m.encodings.dense.modelledCyclesPerFrame);
  // The three memory figures: the file, its nonzero weights, and the modelled Ethos-U55 encoding, which
  // Vela computes from the weights alone (so dense and block blobs of this graph model alike).
  const mem = m.memory!;
  assert.equal(mem.flashBytes, m.blob.flashBytes);
  // Int8 nonzeros: the float nonzeros less the few that quantize to 0.
  const floatNonzero = Object.values(m.sparsity.perMatrix).reduce((s, x) => s + x.nonzero, 0);
  assert.ok(mem.nonzeroWeightBytes <= floatNonzero && mem.nonzeroWeightBytes > 0.98 * floatNonzero, `${mem.nonzeroWeightBytes} vs ${floatNonzero}`);
  assert.ok(mem.u55EncodedWeightBytes < mem.nonzeroWeightBytes + m.blob.flashBytes && mem.u55EncodedWeightBytes > 0);
  assert.equal(m.vela ?? null, null, 'no vela on PATH here');
});

test('compress, unit: the exported layers shrink and the blob with them', async () => {
  const m = await run('unit', { sparsity: 0.5, ...learned });
  assert.deepEqual(m.units && [m.units.fc_in.after, m.units.gru0.after], [16, 16]);
  const model = loadFloatModel(join(tmp, 'out', 'unit', 'model.json'));
  assert.deepEqual(model.weights['gru0.w_hr'].shape, [16, 16]);
  assert.deepEqual(model.weights['fc_in.w'].shape, [16, 257]);
  const blob = parseBlob(new Uint8Array(readFileSync(join(tmp, 'out', 'unit', 'model.hilm'))));
  const hz = blob.ops.find((o) => o.op === 'FC' && o.inFeatures === 16 && o.outFeatures === 16);
  assert.ok(hz, 'a 16x16 recurrent FC');
  assert.ok(m.params.after < m.params.before * 0.5);
  assert.ok(m.blob.flashBytes < runs.get('weight')!.encodings.dense.flashBytes * 0.6);
  assert.ok(m.macsPerFrame.dense < m.macsPerFrame.denseBaseline * 0.5);
  assert.ok(m.sparsity.achieved > 0.5);
});

test('compress, offline: no training, exactly the target sparsity of int8 weights, CSR blob', async () => {
  const m = await run('offline', { sparsity: 0.9 });
  assert.equal(m.training, null);
  assert.equal(m.budget?.epochsRun, 0);
  assert.equal(m.budget?.stepsRun, 0);
  assert.ok(!existsSync(join(tmp, 'out', 'offline', 'train')));
  for (const s of Object.values(m.sparsity.perMatrix)) assert.ok(Math.abs(s.achieved - 0.9) < 0.001);
  const blob = parseBlob(new Uint8Array(readFileSync(join(tmp, 'out', 'offline', 'model.hilm'))));
  let nnz = 0, total = 0;
  for (const op of blob.ops) {
    if (op.op !== 'FC') continue;
    nnz += op.counters.macs;
    total += op.inFeatures * op.outFeatures;
  }
  assert.ok(nnz / total < 0.105);
  assert.equal(JSON.parse(readFileSync(join(tmp, 'out', 'offline', 'manifest.json'), 'utf8')).profile, 'test-offline');
});

test('compress with vela on PATH: the .tflite goes to vela and its summary into the manifest, labelled modelled', async () => {
  // A stand-in vela (Vela needs PyPI, absent here): it answers --version, checks it got a TFLite file and
  // prints real Vela output (test/fixtures/vela/README.md).
  const bin = join(tmp, 'vela-bin');
  mkdirSync(bin, { recursive: true });
  const summary = new URL('../fixtures/vela/performance-md-u55-256.txt', import.meta.url).pathname;
  writeFileSync(
    join(bin, 'vela'),
    `#!/bin/sh\nif [ "$1" = --version ]; then echo 3.2.0; exit 0; fi\nhead -c 8 "$1" | tail -c 4 | grep -q TFL3 || { echo "not a tflite: $1" >&2; exit 1; }\ncat ${summary}\n`,
  );
  chmodSync(join(bin, 'vela'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  try {
    const m = await run('offline', { sparsity: 0.5 }, 'offline-vela');
    assert.equal(m.vela?.label, 'modelled (Vela 3.2.0)');
    assert.deepEqual([m.vela?.totalCycles, m.vela?.flashBytes], [114098, Math.round(106.98 * 1024)]);
    assert.ok(existsSync(join(tmp, 'out', 'offline-vela', 'model.tflite')));
  } finally {
    process.env.PATH = path;
  }
});

test('compress is deterministic given the seed, and a rerun resumes from the training checkpoint', async () => {
  const a = runs.get('block')!;
  const b = await run('block', { sparsity: 0.75, block: [4, 4], ...learned }, 'block-again');
  assert.equal(b.blob.sha256, a.blob.sha256);
  const lines: string[] = [];
  const p = profileOf({ structure: 'block', sparsity: 0.75, block: [4, 4], ...learned });
  const c = await compress({ baseline: baseDir, profile: { ...p, name: 'test-block' }, corpus, outDir: join(tmp, 'out', 'block'), seed: 3, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => l.startsWith('resuming')), lines.join('\n'));
  assert.ok(!lines.some((l) => l.startsWith('prune step')));
  assert.equal(c.blob.sha256, a.blob.sha256);
  const e = new Engine(new Uint8Array(readFileSync(join(tmp, 'out', 'block', 'model.hilm'))));
  assert.equal(e.blob.ops.length, 19);
});

test('a baseline trained with feature normalisation: pruning happens on the unfolded fc_in, and its zeros survive folding', async () => {
  const rng = seedrandom('norm');
  const normed: FloatModel = {
    ...baseline,
    featureNorm: { mean: Array.from({ length: 257 }, () => 10 + 20 * rng()), std: Array.from({ length: 257 }, () => 2 + 6 * rng()) },
  };
  const dir = join(tmp, 'baseline-norm');
  saveFloatModel(join(dir, 'model.json'), normed);
  const weight = await compress({ baseline: dir, profile: profileOf({ structure: 'weight', sparsity: 0.8, ...learned }), corpus, outDir: join(tmp, 'out', 'norm-weight'), seed: 3 });
  assert.ok(weight.training?.featureNorm);
  assert.ok(Math.abs(weight.sparsity.perMatrix['fc_in.w'].achieved - 0.8) < 0.005);
  const unit = await compress({ baseline: dir, profile: profileOf({ structure: 'unit', sparsity: 0.5, ...learned }), corpus, outDir: join(tmp, 'out', 'norm-unit'), seed: 3 });
  const m = loadFloatModel(join(tmp, 'out', 'norm-unit', 'model.json'));
  assert.deepEqual(m.weights['fc_in.w'].shape, [16, 257]);
  assert.ok(m.featureNorm && m.featureNorm.mean.length === 257);
  assert.ok(Number.isFinite(unit.validation.int8.sdr));
});

test('another profile into the same --out is refused, never resumed from the first one\'s training; --overwrite starts over', async () => {
  const out = join(tmp, 'out', 'profile-switch');
  const weight70: Profile = { ...profileOf({ structure: 'weight', sparsity: 0.7, ...learned }), name: 'weight-70' };
  const unit60: Profile = { ...profileOf({ structure: 'unit', sparsity: 0.6, ...learned }), name: 'unit-60' };
  const refused = (re: RegExp) => (e: unknown) => e instanceof HilError && re.test(e.line()) && !e.line().includes('\n');
  await compress({ baseline: baseDir, profile: weight70, corpus, outDir: out, seed: 3 });
  await assert.rejects(
    compress({ baseline: baseDir, profile: unit60, corpus, outDir: out, seed: 3 }),
    refused(/profile-switch holds a compressed model of another run \(profile weight-70, not unit-60\) \(use another --out, or --overwrite/),
  );
  await assert.rejects(compress({ baseline: baseDir, profile: weight70, corpus, outDir: out, seed: 4 }), refused(/another run \(seed 3, not 4\)/));
  // A compression killed during fine-tuning leaves training state and no manifest yet.
  rmSync(join(out, 'manifest.json'));
  await assert.rejects(
    compress({ baseline: baseDir, profile: unit60, corpus, outDir: out, seed: 3 }),
    refused(/train\/checkpoint\.json belongs to a different training run \(differs in: profile\) \(.*--overwrite to start over/),
  );
  const lines: string[] = [];
  const m = await compress({ baseline: baseDir, profile: unit60, corpus, outDir: out, seed: 3, overwrite: true, log: (l) => lines.push(l) });
  assert.ok(!lines.some((l) => l.startsWith('resuming')), lines.join('\n'));
  assert.equal(m.profile, 'unit-60');
  assert.ok(m.units && m.units.fc_in.after < m.units.fc_in.before);
  assert.equal(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).profile, 'unit-60');
});
