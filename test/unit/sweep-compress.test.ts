/**
 * A sweep's compressed models (src/compress/cache.ts, src/sweep/plan.ts) on a se-tiny baseline and an
 * offline profile (no training, so a compression takes a second): a model neither committed nor cached is
 * compressed once, in-process, into the content-addressed cache (nothing half-made left behind); a rerun
 * hits the cache; a committed model that matches is used as it is; one that differs in seed, profile or
 * hil version is not; two models in one sweep run apart and store apart.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cacheDir, identityKey, mismatch } from '../../src/compress/cache.js';
import { loadTrainCorpus } from '../../src/model/dataset.js';
import { saveFloatModel } from '../../src/model/floatModel.js';
import { initFloatModel } from '../../src/model/init.js';
import { planSweep, prepareSweep, resolveSweep, type PrepareEvent, type SweepOptions } from '../../src/sweep/plan.js';
import { readSweep, runSweep } from '../../src/sweep/sweep.js';
import { toInt16, writePcm16 } from '../../src/data/wav.js';
import { rng, speechLike, whiteNoise } from '../support/speechlike.js';
import { makeSyntheticCorpus } from './trainFixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-sweep-compress-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const corpusDir = makeSyntheticCorpus(join(tmp, 'corpus'), { speech: 2, noise: 1, val: 2 });
const corpus = loadTrainCorpus(corpusDir);
const baseDir = join(tmp, 'se-tiny');
const baseline = initFloatModel('se-tiny', 5, 256);
baseline.provenance = { ...baseline.provenance, corpus: { dir: corpusDir, manifestSha256: corpus.manifestSha256 } };
saveFloatModel(join(baseDir, 'model.json'), baseline);

const profilesDir = join(tmp, 'profiles');
mkdirSync(profilesDir);
writeFileSync(join(profilesDir, 'offline-50.json'), JSON.stringify({ name: 'offline-50', structure: 'offline', sparsity: 0.5, encoding: 'csr' }));
const cacheRoot = join(tmp, 'cache');
const opts: SweepOptions = { model: baseDir, profiles: 'offline-*', boards: ['sim'], profilesDir, cacheRoot };

async function prepare(o: SweepOptions = opts) {
  const events: PrepareEvent[] = [];
  const plan = await prepareSweep(o, (e) => events.push(e));
  return { plan, events, sources: events.filter((e) => e.type === 'model').map((e) => e.source), compressed: events.filter((e) => e.type === 'compressed').length };
}

test('a cache miss is compressed once into the cache, a rerun hits it, a matching committed model is used as it is', async () => {
  // Nothing committed, nothing cached: planSweep (which never compresses) says so in one line.
  assert.throws(() => planSweep(opts), /se-tiny offline-50: no compressed model \(missing\) and none in the cache/);
  const draft = resolveSweep(opts);
  assert.equal(draft.entries[0]!.source, 'compress');
  const entry = cacheDir(draft.entries[0]!.id, cacheRoot);
  assert.equal(entry, join(cacheRoot, identityKey(draft.entries[0]!.id)));

  const miss = await prepare();
  assert.deepEqual(miss.sources, ['compress']);
  assert.equal(miss.compressed, 1);
  assert.equal(miss.plan.jobs[0]!.modelDir, entry);
  assert.equal(miss.plan.jobs[0]!.source, 'compress');
  assert.equal(miss.plan.jobs[0]!.facts.structure, 'offline');
  assert.ok(Math.abs(miss.plan.jobs[0]!.facts.sparsity - 0.5) < 0.01);
  // Finished entries only: no .partial directory, no training state, the identity written beside the model.
  assert.deepEqual(readdirSync(cacheRoot), [identityKey(draft.entries[0]!.id)]);
  assert.deepEqual(readdirSync(entry).filter((f) => !f.startsWith('.')).sort(), ['identity.json', 'manifest.json', 'model.hilm', 'model.json']);
  assert.equal(mismatch(entry, draft.entries[0]!.id, 'offline-50'), null);
  const made = statSync(join(entry, 'model.hilm')).mtimeMs;

  const hit = await prepare();
  assert.deepEqual(hit.sources, ['cache-hit']);
  assert.equal(hit.compressed, 0);
  assert.equal(statSync(join(entry, 'model.hilm')).mtimeMs, made, 'not made again');
  assert.deepEqual(planSweep(opts).jobs.map((j) => [j.source, j.modelDir]), [['cache-hit', entry]]);

  // The same model committed under the baseline: used from there, the cache untouched.
  const committed = join(baseDir, 'compressed', 'offline-50');
  cpSync(entry, committed, { recursive: true });
  const reuse = await prepare();
  assert.deepEqual(reuse.sources, ['committed']);
  assert.equal(reuse.compressed, 0);
  assert.equal(reuse.plan.jobs[0]!.modelDir, committed);

  // A committed model made with another seed, profile or hil version is not that model.
  const id = draft.entries[0]!.id;
  assert.match(mismatch(committed, { ...id, seed: 2 }, 'offline-50')!, /seed 1, not 2/);
  assert.match(mismatch(committed, { ...id, hil: '9.9.9' }, 'offline-50')!, /made by hil .*, not 9\.9\.9/);
  assert.match(mismatch(committed, { ...id, profileSha256: 'x' }, 'offline-50')!, /another version of the profile/);
  assert.match(mismatch(committed, id, 'offline-60')!, /made as profile offline-50/);
  const other = resolveSweep({ ...opts, seed: 2 });
  assert.equal(other.entries[0]!.source, 'compress');
  assert.equal(other.entries[0]!.reason, 'made with seed 1, not 2');
  assert.notEqual(other.entries[0]!.dir, entry, 'another seed is another cache entry');
  // A blob that no longer matches its manifest is not used either.
  writeFileSync(join(committed, 'model.hilm'), Buffer.concat([readFileSync(join(committed, 'model.hilm')), Buffer.from([0])]));
  assert.equal(resolveSweep(opts).entries[0]!.source, 'cache-hit');
});

test('half a cache entry (a killed compression) is never taken for a finished one', () => {
  const root = join(tmp, 'cache2');
  const draft = resolveSweep({ ...opts, cacheRoot: root });
  const dir = draft.entries[0]!.dir;
  // A compression killed mid-way leaves <key>.partial; an entry without its blob is no entry either.
  mkdirSync(`${dir}.partial`, { recursive: true });
  writeFileSync(join(`${dir}.partial`, 'manifest.json'), '{}');
  assert.equal(resolveSweep({ ...opts, cacheRoot: root }).entries[0]!.source, 'compress');
  mkdirSync(dir, { recursive: true });
  cpSync(join(cacheRoot, readdirSync(cacheRoot)[0]!, 'manifest.json'), join(dir, 'manifest.json'));
  assert.equal(mismatch(dir, draft.entries[0]!.id, 'offline-50'), 'missing');
  assert.ok(!existsSync(join(dir, 'model.hilm')));
});

test('a sweep of two models: one job per (model, profile, board), runs apart, rows apart in one store', async () => {
  const second = join(tmp, 'se-tiny-b');
  const b = initFloatModel('se-tiny', 6, 256);
  b.provenance = { ...b.provenance, corpus: { dir: corpusDir, manifestSha256: corpus.manifestSha256 } };
  saveFloatModel(join(second, 'model.json'), b);
  const clips = join(tmp, 'clips');
  const clean = speechLike(0.4, 'two-models');
  const noise = whiteNoise(clean.length, rng('two-models-noise'));
  writePcm16(join(clips, 'clean', 'c0.wav'), toInt16(clean.map((v) => 0.5 * v)), 16000);
  writePcm16(join(clips, 'noisy', 'c0.wav'), toInt16(clean.map((v, i) => 0.5 * v + 0.05 * noise[i]!)), 16000);
  const two: SweepOptions = { ...opts, model: [baseDir, second], audio: join(clips, 'noisy'), clean: join(clips, 'clean') };
  const { plan, sources } = await prepare(two);
  // se-tiny's committed blob was spoilt above: it comes from the cache; se-tiny-b is compressed.
  assert.deepEqual(sources, ['cache-hit', 'compress']);
  assert.deepEqual(plan.baselines!.map((x) => x.name), ['se-tiny', 'se-tiny-b']);
  assert.deepEqual(plan.jobs.map((j) => `${j.model}/${j.profile}`), ['se-tiny/offline-50', 'se-tiny-b/offline-50']);
  const out = join(tmp, 'sweep-two');
  const summary = await runSweep(plan, out);
  assert.equal(summary.failed.length, 0, summary.failed.map((f) => f.error.message).join('; '));
  const { rows, meta } = readSweep(out);
  assert.deepEqual(rows.map((r) => r.model).sort(), ['se-tiny', 'se-tiny-b']);
  assert.notEqual(rows[0]!.modelSha256, rows[1]!.modelSha256);
  assert.equal(meta.baselines.length, 2);
  for (const m of ['se-tiny', 'se-tiny-b']) assert.ok(existsSync(join(out, 'runs', 'sim', m, 'offline-50', 'rows.jsonl')), m);
  // The same store with one model fewer is another sweep.
  await assert.rejects(runSweep(planSweep({ ...two, model: [baseDir] }), out), /holds a sweep of other baselines/);
  // Two baselines named alike cannot be told apart in rows.
  assert.throws(() => resolveSweep({ ...opts, model: [baseDir, join(tmp, 'x', '..', 'se-tiny')] }), /two baselines are named se-tiny/);
});
