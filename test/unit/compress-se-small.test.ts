/**
 * The shipped profiles on the pretrained se-small baseline and the small corpus, one per structure
 * (weight-90, block-90, unit-50, offline-90), each fine-tuned for one epoch (12 steps) instead of the
 * profile's 240 so that the four fit in about two minutes: the structure and the achieved sparsity are what
 * is checked here; quality is the benchmark's job (npm run bench:compress). The small corpus is built when
 * this machine lacks it (about 30 s, then cached), so a fresh CI machine runs these tests instead of
 * skipping them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFloatModel } from '../../src/model/floatModel.js';
import { loadTrainCorpus } from '../../src/model/dataset.js';
import { initTf } from '../../src/model/tfBackend.js';
import { ensureCorpus } from '../../src/data/corpus.js';
import { parseBlob } from '../../src/engine/index.js';
import { loadProfile } from '../../src/compress/profile.js';
import { blockGrid, forBlock } from '../../src/compress/structures.js';
import { compress } from '../../src/compress/compress.js';

const baselineDir = new URL('../../models/se-small/', import.meta.url).pathname;
// The baseline is committed; without it (a partial checkout) there is nothing to compress.
const skip = !existsSync(join(baselineDir, 'model.json')) ? 'models/se-small/model.json is missing' : false;

const tmp = mkdtempSync(join(tmpdir(), 'hil-compress-small-'));
async function loadSmallCorpus() {
  await initTf({ backend: 'wasm' });
  const { dir } = await ensureCorpus({ size: 'small', seed: 1 });
  return loadTrainCorpus(dir, { valLimit: 4 });
}
const corpus = skip ? null : await loadSmallCorpus();

async function run(profile: string) {
  const out = join(tmp, profile);
  const m = await compress({ baseline: baselineDir, profile: loadProfile(profile), corpus: corpus!, outDir: out, seed: 1, epochs: profile.startsWith('offline') ? undefined : 1 });
  return { m, out, model: loadFloatModel(join(out, 'model.json')), blob: parseBlob(new Uint8Array(readFileSync(join(out, 'model.hilm')))) };
}

test('se-small weight-90: every matrix at 90 % zeros, CSR blob', { skip }, async () => {
  const { m, blob } = await run('weight-90');
  for (const [n, s] of Object.entries(m.sparsity.perMatrix)) assert.ok(Math.abs(s.achieved - 0.9) < 0.002, `${n} ${s.achieved}`);
  assert.ok(blob.ops.every((o) => o.op !== 'FC' || o.weights.encoding === 'csr'));
  assert.ok(m.blob.flashBytes < 0.35 * m.encodings.dense.flashBytes, `${m.blob.flashBytes} vs ${m.encodings.dense.flashBytes}`);
  assert.ok(m.macsPerFrame.effective < 0.15 * m.macsPerFrame.dense);
  assert.equal(m.training?.steps, 12);
});

test('se-small block-90: every pruned 8x8 block entirely zero, at least 90 % zeros, 8x8 block blob', { skip }, async () => {
  const { m, model, blob } = await run('block-90');
  for (const [n, s] of Object.entries(m.sparsity.perMatrix)) {
    const [rows, cols] = s.shape;
    const g = blockGrid(rows, cols, 8, 8);
    let zeroWeightsInZeroBlocks = 0, partial = 0;
    for (let b = 0; b < g.nbr * g.nbc; b++) {
      const v: number[] = [];
      forBlock(g, b, (i) => v.push(model.weights[n].data[i]));
      if (v.every((x) => x === 0)) zeroWeightsInZeroBlocks += v.length;
      else if (v.filter((x) => x === 0).length > 1) partial++;
    }
    assert.ok(s.achieved >= 0.9 && s.achieved < 0.9 + 64 / s.total + 0.002, `${n} ${s.achieved}`);
    // The zeros are whole blocks: nothing zero outside them but the odd exact-zero weight.
    assert.ok(s.total - s.nonzero - zeroWeightsInZeroBlocks <= 2 && partial === 0, `${n}: ${partial} partly zero blocks`);
  }
  for (const op of blob.ops) if (op.op === 'FC') assert.ok(op.weights.encoding === 'block' && op.weights.br === 8 && op.weights.bc === 8);
  assert.ok(m.blob.flashBytes < 0.2 * m.encodings.dense.flashBytes);
  assert.ok(m.cost.modelledCyclesPerFrame < m.encodings.dense.modelledCyclesPerFrame / 3);
});

test('se-small unit-50: half the units of fc_in and both GRUs removed, the exported layers smaller', { skip }, async () => {
  const { m, model, blob } = await run('unit-50');
  assert.deepEqual(
    Object.fromEntries(Object.entries(m.units!).map(([k, v]) => [k, [v.before, v.after]])),
    { fc_in: [128, 64], gru0: [128, 64], gru1: [128, 64] },
  );
  assert.deepEqual(model.weights['gru1.w_hn'].shape, [64, 64]);
  assert.deepEqual(model.weights['gru1.w_xz'].shape, [64, 64]);
  assert.deepEqual(model.weights['fc_out.w'].shape, [257, 64]);
  assert.ok(blob.tensors.filter((t) => t.isState).every((t) => t.length === 64));
  assert.ok(m.params.after < 0.45 * m.params.before);
  assert.ok(m.blob.flashBytes < 0.5 * m.baselineDense.flashBytes, `${m.blob.flashBytes} vs ${m.baselineDense.flashBytes}`);
  assert.ok(m.macsPerFrame.effective < 0.4 * m.macsPerFrame.denseBaseline);
});

test('se-small offline-90: no training, exactly 90 % of the int8 weights of every matrix pruned', { skip }, async () => {
  const { m, out } = await run('offline-90');
  assert.equal(m.training, null);
  assert.ok(!existsSync(join(out, 'train')));
  for (const [n, s] of Object.entries(m.sparsity.perMatrix)) assert.ok(Math.abs(s.achieved - 0.9) < 0.0005, `${n} ${s.achieved}`);
});
