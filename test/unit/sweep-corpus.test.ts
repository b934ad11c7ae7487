/**
 * A sweep's clip set can be a split of a named corpus (`clips.corpus` / `--corpus`): e.g. the real
 * corpus's held-out `real-test`, which the built-in corpus does not have.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSweepFile } from '../../src/sweep/file.js';
import { planSweep } from '../../src/sweep/plan.js';
import { HilError } from '../../src/util/errors.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hil-sweep-corpus-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a corpus directory and its real-test split become the sweep clip set', () => {
  for (const side of ['noisy', 'clean']) mkdirSync(join(dir, 'corpus', 'real-test', side), { recursive: true });
  const plan = planSweep({ model: join(ROOT, 'models/se-small'), profiles: 'dense-int8', boards: ['sim'], corpus: join(dir, 'corpus'), split: 'real-test' });
  assert.equal(plan.audio, join(dir, 'corpus', 'real-test', 'noisy'));
  assert.equal(plan.clean, join(dir, 'corpus', 'real-test', 'clean'));
});

test('a sweep file names the corpus relative to itself, or by size', () => {
  const file = join(dir, 'sweeps', 's.json');
  const base = { format: 'hil-sweep', version: 1, models: ['m'], profiles: ['dense-int8'], boards: ['sim'] };
  assert.equal(parseSweepFile({ ...base, clips: { corpus: '../corpus', split: 'real-test' } }, file).corpus, join(dir, 'corpus'));
  assert.equal(parseSweepFile({ ...base, clips: { corpus: 'real', split: 'real-test', limit: 5 } }, file).corpus, 'real');
});

test('a corpus without the split is refused before anything runs', () => {
  mkdirSync(join(dir, 'other', 'test', 'noisy'), { recursive: true });
  writeFileSync(join(dir, 'other', 'manifest.json'), '{}');
  assert.throws(() => planSweep({ model: join(ROOT, 'models/se-small'), profiles: 'dense-int8', boards: ['sim'], corpus: join(dir, 'other'), split: 'real-test' }), (e: unknown) => e instanceof HilError && /has no real-test split/.test(e.message));
  assert.throws(() => planSweep({ model: join(ROOT, 'models/se-small'), profiles: 'dense-int8', boards: ['sim'], corpus: join(dir, 'other'), split: 'train' as never }), (e: unknown) => e instanceof HilError && /is not one of test, val, real-test/.test(e.message));
});
