import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HilError } from '../../src/util/errors.js';
import { initTf } from '../../src/model/tfBackend.js';
import { train, type StepContext } from '../../src/model/train.js';
import { loadTrainCorpus } from '../../src/model/dataset.js';
import { makeSyntheticCorpus } from './trainFixture.js';

await initTf({ backend: 'wasm' });
const tmp = mkdtempSync(join(tmpdir(), 'hil-train-workers-'));
const corpus = loadTrainCorpus(makeSyntheticCorpus(join(tmp, 'corpus'), { speech: 8 }));
const common = { arch: 'se-tiny' as const, corpus, epochs: 2, seed: 5, batchSize: 4, frames: 20, valEvery: 2 };

const f32 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** The weights as training updates them (model.json has the feature normalisation folded into fc_in). */
function trained(dir: string): Record<string, Float32Array> {
  const c = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { weights: Record<string, { base64: string }> };
  return Object.fromEntries(Object.entries(c.weights).map(([k, w]) => [k, f32(w.base64)]));
}

/** Adam's first moments in the checkpoint. */
function momentum(dir: string): Record<string, Float32Array> {
  const c = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { adam: { m: Record<string, string> } };
  return Object.fromEntries(Object.entries(c.adam.m).map(([k, m]) => [k, f32(m)]));
}

function diff(a: Float32Array, b: Float32Array): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

for (const qat of [false, true]) {
  test(`2 workers give the weights of 1 worker up to float summation order (${qat ? 'QAT' : 'float'})`, async () => {
    // QAT from step 1 with ranges observed every step: the workers must get the observer's ranges and return theirs.
    const q = { enabled: qat, warmupSteps: 1, observeEvery: 1 };
    const one = await train({ ...common, qat: q, outDir: join(tmp, `one-${qat}`) });
    const two = await train({ ...common, qat: q, outDir: join(tmp, `two-${qat}`), workers: 2 });
    assert.equal(two.history.length, 2);
    const w1 = trained(join(tmp, `one-${qat}`));
    const w2 = trained(join(tmp, `two-${qat}`));
    for (const [name, w] of Object.entries(w1)) {
      const d = diff(w, w2[name]);
      // 4 Adam steps of lr 2e-3 move a weight by up to ~8e-3. In float, summation order changes the last bits
      // (measured: ≤ 4e-7). Fake quantization rounds, so a weight or activation at a rounding boundary may
      // land in the neighbouring int8 step in one run and not the other (measured: a few weights by ≤ 2e-4).
      assert.ok(d.max < (qat ? 1e-3 : 1e-5), `${name}: max |Δ| ${d.max}`);
      assert.ok(d.mean < (qat ? 3e-5 : 1e-6), `${name}: mean |Δ| ${d.mean}`);
    }
    for (const [name, [mn, mx]] of Object.entries(one.model.ranges)) {
      const [mn2, mx2] = two.model.ranges[name];
      assert.ok(Math.abs(mn - mn2) < 1e-3 * (1 + Math.abs(mn)) && Math.abs(mx - mx2) < 1e-3 * (1 + Math.abs(mx)), `${name}: [${mn}, ${mx}] vs [${mn2}, ${mx2}]`);
    }
    assert.ok(Math.abs(one.history[1].loss - two.history[1].loss) < 1e-4 * Math.abs(one.history[1].loss));
    assert.equal(two.model.provenance.workers, 2);
    const log = readFileSync(join(tmp, `two-${qat}`, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(log.map((r) => r.workers), [2, 2]);
  });
}

test('masks set by a hook reach the workers: pruned weights stay zero and match 1 worker', async () => {
  const hooks = {
    beforeStep(ctx: StepContext) {
      if (ctx.step !== 1) return;
      ctx.setMask('gru0.w_hz', ctx.weights('gru0.w_hz').map((v) => (Math.abs(v) < 0.1 ? 0 : 1)));
    },
  };
  const q = { enabled: false };
  await train({ ...common, qat: q, hooks, outDir: join(tmp, 'mask-one') });
  const two = await train({ ...common, qat: q, hooks, outDir: join(tmp, 'mask-two'), workers: 2 });
  const w1 = trained(join(tmp, 'mask-one'));
  const w2 = trained(join(tmp, 'mask-two'));
  const zeros = w2['gru0.w_hz'].filter((v) => v === 0).length;
  assert.ok(zeros > 0.1 * w2['gru0.w_hz'].length, `${zeros} zeros`);
  assert.deepEqual(w2['gru0.w_hz'].map((v) => (v === 0 ? 1 : 0)), w1['gru0.w_hz'].map((v) => (v === 0 ? 1 : 0)));
  for (const [name, w] of Object.entries(w1)) assert.ok(diff(w, w2[name]).max < 1e-5, name);
  // A worker without the mask would return gradients for pruned weights: their Adam moments would differ.
  const m1 = momentum(join(tmp, 'mask-one'))['gru0.w_hz'];
  const m2 = momentum(join(tmp, 'mask-two'))['gru0.w_hz'];
  assert.ok(diff(m1, m2).max < 1e-7, `momentum of gru0.w_hz: max |Δ| ${diff(m1, m2).max}`);
  assert.ok((two.model.provenance.masks as Record<string, number>)['gru0.w_hz'] > 0.1);
});

test('a run may resume with another worker count (the count is not part of the checkpoint fingerprint)', async () => {
  const q = { enabled: false };
  const dir = join(tmp, 'switch');
  await train({ ...common, qat: q, outDir: dir, workers: 2, stopAfterEpochs: 1 });
  const resumed = await train({ ...common, qat: q, outDir: dir, workers: 1 });
  assert.equal(resumed.resumedFromEpoch, 1);
  const log = readFileSync(join(dir, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(log.map((r) => r.workers), [2, 1]);
});

test('a batch that does not split into equal parts is refused in one line', async () => {
  const err = await train({ ...common, qat: { enabled: false }, batchSize: 5, workers: 2, outDir: join(tmp, 'odd') }).then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HilError);
  assert.equal(err.line(), '--batch 5 cannot be split into 2 equal parts (pass a --batch divisible by --workers 2)');
  assert.ok(!err.line().includes('\n'));
  assert.ok(!existsSync(join(tmp, 'odd')), 'refused before --out is created or locked');
});
