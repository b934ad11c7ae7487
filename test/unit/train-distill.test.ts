/**
 * Knowledge distillation (fine_tune.distill): the loss mixes in the loss against a teacher's output,
 * training with it pulls a student towards the teacher, the data-parallel split carries the teacher's
 * masks, a distilled checkpoint is not resumed as an undistilled one, and profiles without the field keep
 * their resolved form (so committed compressions stay valid).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfile, parseProfile } from '../../src/compress/profile.js';
import { epochBatches, loadTrainCorpus, type Batch } from '../../src/model/dataset.js';
import { batchLoss } from '../../src/model/losses.js';
import { initTf, tf } from '../../src/model/tfBackend.js';
import { FLOAT_MODE, initWeights, SeNet } from '../../src/model/tfModel.js';
import { train } from '../../src/model/train.js';
import { batchPart } from '../../src/model/trainWorkers.js';
import { ARCHS } from '../../src/model/arch.js';
import { HilError } from '../../src/util/errors.js';
import { makeSyntheticCorpus } from './trainFixture.js';

await initTf({ backend: 'wasm' });
const tmp = mkdtempSync(join(tmpdir(), 'hil-distill-'));
const corpus = loadTrainCorpus(makeSyntheticCorpus(join(tmp, 'corpus'), { speech: 8 }));
const plan = { seed: 1, epoch: 0, batchSize: 4, frames: 20, hop: 256 as const };
const batch: Batch = epochBatches(corpus, plan).next().value as Batch;
const shape: [number, number, number] = [batch.batch, batch.frames, 257];

function masksOf(net: SeNet, b: Batch): Float32Array {
  return tf.tidy(() => net.forward(tf.tensor3d(b.features, shape), { quant: FLOAT_MODE }).mask.dataSync() as Float32Array);
}
const lossOf = (kind: 'mag' | 'mag+sisdr', mask: Float32Array, b: Batch) =>
  tf.tidy(() => batchLoss(kind, tf.tensor3d(mask, shape), b, 256).dataSync()[0]);

test('the distilled loss is (1 − w)·L(clean) + w·L(teacher), and L(teacher) is 0 for the teacher itself (mag)', () => {
  const student = masksOf(new SeNet('se-tiny', 256, initWeights(ARCHS['se-tiny'], 1)), batch);
  const teacher = masksOf(new SeNet('se-tiny', 256, initWeights(ARCHS['se-tiny'], 2)), batch);
  const clean = lossOf('mag', student, batch);
  assert.ok(clean > 0);
  assert.equal(lossOf('mag', student, { ...batch, distill: { mask: teacher, weight: 0 } }), clean, 'weight 0 is the plain loss');
  assert.ok(Math.abs(lossOf('mag', student, { ...batch, distill: { mask: student, weight: 1 } })) < 1e-9, 'a student equal to its teacher costs nothing at weight 1');
  const full = lossOf('mag', student, { ...batch, distill: { mask: teacher, weight: 1 } });
  const half = lossOf('mag', student, { ...batch, distill: { mask: teacher, weight: 0.5 } });
  assert.ok(Math.abs(half - (0.5 * clean + 0.5 * full)) < 1e-6 * Math.max(1, Math.abs(clean)), `${half} vs ${clean}, ${full}`);
  // The time-domain part: SI-SDR against the teacher's own output is far better than against the clean speech.
  const timeClean = lossOf('mag+sisdr', teacher, batch);
  const timeSelf = lossOf('mag+sisdr', teacher, { ...batch, distill: { mask: teacher, weight: 1 } });
  assert.ok(timeSelf < timeClean - 1, `${timeSelf} vs ${timeClean}`);
});

test('the data-parallel split carries each part its own teacher masks', () => {
  const mask = Float32Array.from({ length: batch.batch * batch.frames * 257 }, (_, i) => i);
  const parts = [0, 1].map((k) => batchPart({ ...batch, distill: { mask, weight: 0.3 } }, k, 2));
  assert.deepEqual(parts.map((p) => p.distill?.weight), [0.3, 0.3]);
  assert.equal(parts[1].distill!.mask[0], 2 * batch.frames * 257);
  assert.equal(parts[0].distill!.mask.length, mask.length / 2);
});

test('distillation alone pulls a student towards its teacher, and its checkpoint is not resumed without it', async () => {
  const teacherNet = new SeNet('se-tiny', 256, initWeights(ARCHS['se-tiny'], 7));
  const teacher = teacherNet.toFloatModel(7, {}, {});
  const student = new SeNet('se-tiny', 256, initWeights(ARCHS['se-tiny'], 3)).toFloatModel(3, {}, {});
  const towardsTeacher = (m: SeNet) => lossOf('mag', masksOf(m, batch), { ...batch, distill: { mask: masksOf(teacherNet, batch), weight: 1 } });
  const before = towardsTeacher(new SeNet('se-tiny', 256, student.weights));
  const out = join(tmp, 'distilled');
  const opts = { arch: 'se-tiny' as const, corpus, epochs: 3, seed: 1, qat: { enabled: false }, outDir: out, batchSize: 4, frames: 20, lr: 2e-2, init: student, loss: 'mag' as const, featureNorm: false };
  const result = await train({ ...opts, distill: { teacher, weight: 1 } });
  const after = towardsTeacher(new SeNet('se-tiny', 256, result.model.weights));
  assert.ok(after < before * 0.8, `loss against the teacher's output ${before} → ${after}`);
  await assert.rejects(train(opts), (e: unknown) => e instanceof HilError && /differs in: distill/.test(e.message));
});

test('profiles: distill is kept when given, refused where nothing is trained, and absent otherwise', () => {
  assert.equal('distill' in loadProfile('weight-90').fineTune, false, 'committed profiles resolve as before');
  const p = parseProfile({ name: 'w', structure: 'weight', sparsity: 0.9, fine_tune: { distill: 0.5 } }, 'w.json');
  assert.equal(p.fineTune.distill, 0.5);
  assert.throws(() => parseProfile({ name: 'o', structure: 'offline', sparsity: 0.9, fine_tune: { distill: 0.5 } }, 'o.json'), /fine_tune.distill/);
});
