/**
 * Training on the real sizes' augmented mixtures (src/model/dataset.ts) and extending a finished run with
 * more epochs (src/model/train.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavMono } from '../../src/data/wav.js';
import { defaultLevelRange, epochBatches, LEVEL_RANGE_DB, LEVEL_RANGE_REAL_DB, loadTrainCorpus } from '../../src/model/dataset.js';
import { initTf } from '../../src/model/tfBackend.js';
import { train } from '../../src/model/train.js';
import { makeSyntheticCorpus } from './trainFixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-train-aug-'));

test('a corpus without augmented mixtures batches exactly as before augmented training existed', () => {
  const corpus = loadTrainCorpus(makeSyntheticCorpus(join(tmp, 'plain'), { speech: 8 }));
  assert.equal(corpus.pairedNoise, undefined);
  assert.deepEqual(defaultLevelRange(corpus), LEVEL_RANGE_DB);
  const h = createHash('sha256');
  for (const b of epochBatches(corpus, { seed: 3, epoch: 1, batchSize: 4, frames: 20, hop: 256 })) {
    h.update(Buffer.from(b.features.buffer));
    h.update(Buffer.from(b.clean!.buffer));
  }
  // Recorded with the code before augmented mixtures were used (commit 9abc21f).
  assert.equal(h.digest('hex'), '09a6346c4fbf617d0ab83da133129b3471096f5e1069d29ebf32a8d98f72c975');
});

test("augmented train mixtures join training: the target as speech, noisy − clean as its own noise", () => {
  const dir = makeSyntheticCorpus(join(tmp, 'aug'), { speech: 4, augmented: 6 });
  const corpus = loadTrainCorpus(dir);
  assert.equal(corpus.speech.length, 4 + 6);
  assert.equal(corpus.noise.length, 3 + 6);
  assert.deepEqual(corpus.pairedNoise, [-1, -1, -1, -1, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(defaultLevelRange(corpus), LEVEL_RANGE_REAL_DB);
  const noisy = readWavMono(join(dir, 'train', 'noisy', 'a2.wav'), 16000).samples;
  const clean = readWavMono(join(dir, 'train', 'clean', 'a2.wav'), 16000).samples;
  const speech = corpus.speech[4 + 2];
  const residual = corpus.noise[3 + 2];
  for (let i = 0; i < noisy.length; i++) {
    assert.equal(speech[i], Math.fround(clean[i]));
    assert.ok(Math.abs(residual[i] - (noisy[i] - clean[i])) < 1e-6, `sample ${i}`);
  }
  // Batches stay deterministic in (seed, epoch) and use the real range of levels.
  const plan = { seed: 1, epoch: 0, batchSize: 5, frames: 20, hop: 256 };
  const a = [...epochBatches(corpus, plan)];
  const b = [...epochBatches(corpus, plan)];
  assert.equal(a.length, 2);
  assert.deepEqual(a[1].features, b[1].features);
});

test('--epochs above a checkpoint extends the run; below it is refused', async () => {
  await initTf({ backend: 'wasm' });
  const corpus = loadTrainCorpus(makeSyntheticCorpus(join(tmp, 'ext'), { speech: 8 }));
  const common = { arch: 'se-tiny' as const, corpus, seed: 5, qat: { enabled: true, warmupSteps: 1, observeEvery: 1 }, batchSize: 4, frames: 20, outDir: join(tmp, 'ext-run') };
  const first = await train({ ...common, epochs: 2 });
  assert.equal(first.history.length, 2);
  const lines: string[] = [];
  const longer = await train({ ...common, epochs: 3, log: (l) => lines.push(l) });
  assert.equal(longer.resumedFromEpoch, 2);
  assert.equal(longer.history.length, 3);
  assert.ok(lines.some((l) => /extending .* from 2 to 3 epochs/.test(l)), lines.join('\n'));
  const log = readFileSync(join(common.outDir, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(log.map((r) => r.epoch), [1, 2, 3]);
  await assert.rejects(train({ ...common, epochs: 2 }), /made for 3 epochs; --epochs 2 would shorten it/);
});
