/**
 * Pruning during training from scratch (profile `fine_tune.init: "scratch"`, `hil compress --init scratch`):
 * the profile field and its errors, the identity that keeps such a model apart from the fine-tuned one,
 * where training starts (train()'s seeded random init, not the baseline's weights), and whole compressions
 * from scratch on se-tiny, in-process and through the CLI.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHS } from '../../src/model/arch.js';
import { initFloatModel } from '../../src/model/init.js';
import { saveFloatModel, type FloatModel } from '../../src/model/floatModel.js';
import { loadTrainCorpus } from '../../src/model/dataset.js';
import { initTf } from '../../src/model/tfBackend.js';
import { initWeights, matrixNames } from '../../src/model/tfModel.js';
import { train } from '../../src/model/train.js';
import { HilError } from '../../src/util/errors.js';
import { initOf, loadProfile, parseInit, parseProfile, withInit, type Profile } from '../../src/compress/profile.js';
import { identityKey, profileSha256 } from '../../src/compress/cache.js';
import { compress, trainStart } from '../../src/compress/compress.js';
import { readCompressManifest } from '../../src/compress/manifestSchema.js';
import { pruningHooks } from '../../src/compress/hooks.js';
import { makeSyntheticCorpus } from './trainFixture.js';

await initTf({ backend: 'wasm' });
const tmp = mkdtempSync(join(tmpdir(), 'hil-compress-scratch-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const corpusDir = makeSyntheticCorpus(join(tmp, 'corpus'), { speech: 8, val: 2 });
const corpus = loadTrainCorpus(corpusDir);

/** A se-tiny "baseline" (its own seeded init, another PRNG than train()'s) that records the rate it was trained at. */
const baseline: FloatModel = initFloatModel('se-tiny', 5, 256);
baseline.provenance = { ...baseline.provenance, batchSize: 4, frames: 30, lr: 0.01, lrFloor: 0.1, corpus: { dir: corpusDir, manifestSha256: corpus.manifestSha256 } };
const baseDir = join(tmp, 'baseline');
saveFloatModel(join(baseDir, 'model.json'), baseline);

function profileOf(raw: Record<string, unknown>): Profile {
  return parseProfile({ name: 'test', ...raw }, 'test-profile.json');
}

function throwsLine(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof HilError && re.test(e.line()) && !e.line().includes('\n'));
}

const learned = { structure: 'weight', sparsity: 0.8, fine_tune: { steps: 6, lr: 0.005 }, schedule: { start: 0, end: 0.5, every: 1 } };

test('fine_tune.init: "scratch" resolves into the profile; "baseline" is the absent default with the same hash; mistakes are one line', () => {
  const plain = profileOf(learned);
  const scratch = profileOf({ ...learned, fine_tune: { ...learned.fine_tune, init: 'scratch' } });
  const written = profileOf({ ...learned, fine_tune: { ...learned.fine_tune, init: 'baseline' } });
  assert.equal(scratch.fineTune.init, 'scratch');
  assert.equal(initOf(scratch), 'scratch');
  assert.equal(initOf(plain), 'baseline');
  assert.equal('init' in plain.fineTune, false, 'no field, so every existing profile keeps its identity');
  assert.deepEqual(written, plain);
  assert.equal(profileSha256(written), profileSha256(plain));
  assert.notEqual(profileSha256(scratch), profileSha256(plain));
  // The shipped profiles' resolved hash did not move (their committed compressions stay current).
  assert.equal('init' in loadProfile('weight-90').fineTune, false);
  throwsLine(() => profileOf({ ...learned, fine_tune: { init: 'random' } }), /^test-profile\.json: fine_tune\.init must be one of "baseline", "scratch"/);
  throwsLine(() => profileOf({ structure: 'offline', sparsity: 0.5, fine_tune: { init: 'scratch' } }), /fine_tune\.init "scratch" needs training/);
});

test('withInit: <profile>-scratch with another identity; the profile itself for its own init; --init mistakes are one line', () => {
  const p = loadProfile('weight-90');
  assert.equal(withInit(p, undefined), p);
  assert.equal(withInit(p, 'baseline'), p);
  const s = withInit(p, 'scratch');
  assert.equal(s.name, 'weight-90-scratch');
  assert.equal(s.fineTune.init, 'scratch');
  assert.deepEqual({ ...s.fineTune, init: undefined }, { ...p.fineTune, init: undefined }, 'same budget, rate, QAT and schedule');
  assert.deepEqual(s.schedule, p.schedule);
  assert.equal(withInit(s, 'scratch'), s);
  const back = withInit(s, 'baseline');
  assert.equal(back.name, 'weight-90');
  assert.equal(profileSha256(back), profileSha256(p));
  const id = { baselineSha256: 'b', profileSha256: profileSha256(p), corpusSha256: 'c', seed: 1, hil: '0' };
  assert.notEqual(identityKey({ ...id, profileSha256: profileSha256(s) }), identityKey(id), 'the cache never takes one for the other');
  assert.equal(p.name, 'weight-90', 'the profile itself is not changed');
  throwsLine(() => parseInit('fresh'), /^--init "fresh" is not one of baseline, scratch/);
  assert.throws(
    () => parseInit('fresh'),
    (e: unknown) => e instanceof HilError && e.line() === '--init "fresh" is not one of baseline, scratch (baseline fine-tunes the trained baseline; scratch trains from the seeded random init)',
  );
  throwsLine(() => withInit(loadProfile('offline-90'), 'scratch'), /offline-90 is offline and does not train/);
});

test('trainStart: fine-tuning starts from the baseline, QAT at once, the profile rate; scratch from no init, after a warm-up, the baseline rate', () => {
  const ft = trainStart(profileOf(learned), baseline);
  assert.equal(ft.init, baseline);
  assert.deepEqual(ft.qat, { enabled: true, warmupSteps: 0 });
  assert.equal(ft.lr, 0.005);
  const sc = trainStart(profileOf({ ...learned, fine_tune: { ...learned.fine_tune, init: 'scratch' } }), baseline);
  assert.equal(sc.init, undefined);
  assert.deepEqual(sc.qat, { enabled: true }, "hil train --qat's default float warm-up");
  assert.deepEqual([sc.lr, sc.lrFloor], [0.01, 0.1]);
  const unrecorded = trainStart(profileOf({ ...learned, fine_tune: { init: 'scratch' } }), { ...baseline, provenance: {} });
  assert.deepEqual([unrecorded.lr, unrecorded.lrFloor], [2e-3, 0.05], "train()'s own defaults");
});

test('the first step from scratch sees the seeded random init, not the baseline; fine-tuning sees the baseline', async () => {
  const firstWeights = async (profile: Profile, out: string) => {
    const seen: Record<string, Float32Array> = {};
    const hooks = pruningHooks(profile, ARCHS['se-tiny']);
    await train({
      arch: 'se-tiny', corpus, epochs: 1, seed: 7, outDir: join(tmp, out), batchSize: 4, frames: 20, valEvery: 1, featureNorm: false,
      ...trainStart(profile, baseline),
      hooks: {
        beforeStep(ctx) {
          // Before the hooks' first mask: the weights training starts from.
          if (ctx.step === 0) for (const n of ctx.matrices) seen[n] = ctx.weights(n).slice();
          hooks.beforeStep!(ctx);
        },
      },
    });
    return seen;
  };
  const random = initWeights(ARCHS['se-tiny'], 7);
  const scratch = await firstWeights(profileOf({ ...learned, fine_tune: { ...learned.fine_tune, init: 'scratch' } }), 'start-scratch');
  const tuned = await firstWeights(profileOf(learned), 'start-baseline');
  for (const n of matrixNames(ARCHS['se-tiny'])) {
    assert.deepEqual(scratch[n], random[n].data, `${n} from scratch is initWeights(se-tiny, seed 7)`);
    assert.notDeepEqual(scratch[n], baseline.weights[n].data, `${n} from scratch is not the baseline's`);
    assert.deepEqual(tuned[n], baseline.weights[n].data, `${n} fine-tuned starts from the baseline`);
  }
});

test('compress from scratch: pruned to the target, recorded as scratch with its seed, kept apart from the fine-tuned model', async () => {
  const tuned = { ...profileOf(learned), name: 'test-weight' };
  const scratch = withInit(tuned, 'scratch');
  const lines: string[] = [];
  const out = join(tmp, 'out', 'scratch');
  const m = await compress({ baseline: baseDir, profile: scratch, corpus, outDir: out, seed: 3, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => l.startsWith('from scratch: the seeded random init of se-tiny (seed 3), lr 0.01')), lines.join('\n'));
  assert.equal(m.profile, 'test-weight-scratch');
  assert.equal(m.profileSpec.fineTune.init, 'scratch');
  assert.deepEqual(m.training?.init, { from: 'scratch', seed: 3, lrFloor: 0.1 });
  assert.equal(m.training?.lr, 0.01);
  assert.ok(m.training && m.training.steps >= 6);
  for (const [n, s] of Object.entries(m.sparsity.perMatrix)) assert.ok(Math.abs(s.achieved - 0.8) < 0.005, `${n}: ${s.achieved}`);
  assert.ok(Number.isFinite(m.validation.int8.sdr));
  assert.deepEqual(readCompressManifest(join(out, 'manifest.json')).training?.init, m.training?.init, 'the schema keeps the record');
  const fp = JSON.parse(readFileSync(join(out, 'train', 'checkpoint.json'), 'utf8')).fingerprint;
  assert.equal(fp.init, null, 'no initial model: the checkpoint says the run started from the random init');
  assert.deepEqual(fp.qat, { enabled: true });

  const f = await compress({ baseline: baseDir, profile: tuned, corpus, outDir: join(tmp, 'out', 'tuned'), seed: 3 });
  assert.equal(f.training?.init, undefined);
  assert.notEqual(f.blob.sha256, m.blob.sha256);
  await assert.rejects(compress({ baseline: baseDir, profile: tuned, corpus, outDir: out, seed: 3 }), (e: unknown) => e instanceof HilError && /another run \(profile test-weight-scratch, not test-weight\)/.test(e.line()));
});

test('hil compress --init scratch end to end; a bad --init is one line and exit 2', () => {
  const profileFile = join(tmp, 'tiny-weight.json');
  writeFileSync(profileFile, JSON.stringify({ name: 'tiny-weight', ...learned }));
  const cli = (extra: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'compress', '--model', baseDir, '--profile', profileFile, '--corpus', corpusDir, '--backend', 'wasm', '--seed', '2', ...extra], {
      cwd: new URL('../..', import.meta.url).pathname,
      encoding: 'utf8',
    });
  const out = join(tmp, 'cli-scratch');
  const r = cli(['--out', out, '--init', 'scratch']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /hil compress: tiny-weight-scratch \(weight, from scratch\)/);
  assert.match(r.stdout, /tiny-weight-scratch: sparsity 80\.0 %/);
  const m = readCompressManifest(join(out, 'manifest.json'));
  assert.deepEqual(m.training?.init, { from: 'scratch', seed: 2, lrFloor: 0.1 });
  assert.match(m.command ?? '', /--init scratch/);
  const bad = cli(['--out', join(tmp, 'cli-bad'), '--init', 'fresh']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.trim(), /--init "fresh" is not one of baseline, scratch/);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});
