/** Per-structure fine-tuning budgets (src/compress/budget.ts): parsing, applying to a profile, recording. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetCell, budgetOf, formatBudgets, parseBudgets, withBudget } from '../../src/compress/budget.js';
import { profileSha256 } from '../../src/compress/cache.js';
import { CompressManifestSchema } from '../../src/compress/manifestSchema.js';
import { loadProfile } from '../../src/compress/profile.js';
import { HilError } from '../../src/util/errors.js';
import { validate } from '../../src/util/schema.js';

function throwsLine(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof HilError && re.test(e.line()) && !e.line().includes('\n'));
}

test('parseBudgets: steps and epochs per structure, and back to the same spec', () => {
  const b = parseBudgets('unit=480, block=720,weight=30ep');
  assert.deepEqual(b.get('block'), { steps: 720, epochs: null });
  assert.deepEqual(b.get('unit'), { steps: 480, epochs: null });
  assert.deepEqual(b.get('weight'), { steps: null, epochs: 30 });
  assert.equal(b.has('none'), false);
  assert.equal(formatBudgets(b), 'weight=30ep,block=720,unit=480');
  assert.deepEqual(parseBudgets(formatBudgets(b)), b);
  assert.deepEqual(parseBudgets('none=240').get('none'), { steps: 240, epochs: null });
});

test('parseBudgets: each mistake is one line naming the entry', () => {
  throwsLine(() => parseBudgets('block'), /--budget entry "block" is not <structure>=<count>/);
  throwsLine(() => parseBudgets('block=7.5'), /entry "block=7.5"/);
  throwsLine(() => parseBudgets('blocks=720'), /no structure "blocks"/);
  throwsLine(() => parseBudgets('offline=10'), /offline prunes without fine-tuning/);
  throwsLine(() => parseBudgets('block=720,block=480'), /gives structure block twice/);
  throwsLine(() => parseBudgets('block=0'), /at least 1/);
  throwsLine(() => parseBudgets('block=720,'), /empty entry/);
  throwsLine(() => parseBudgets('unit=-3', '--budgets'), /^--budgets entry "unit=-3"/);
});

test('withBudget: a new name and identity for another budget, the profile itself for its own', () => {
  const p = loadProfile('block-80');
  assert.equal(withBudget(p, undefined), p);
  assert.equal(withBudget(p, { steps: p.fineTune.steps!, epochs: null }), p);
  const s = withBudget(p, { steps: 720, epochs: null });
  assert.equal(s.name, 'block-80-s720');
  assert.deepEqual([s.fineTune.steps, s.fineTune.epochs, s.fineTune.lr], [720, null, p.fineTune.lr]);
  assert.notEqual(profileSha256(s), profileSha256(p), 'a budgeted model is never taken for the committed one');
  const e = withBudget(p, { steps: null, epochs: 60 });
  assert.equal(e.name, 'block-80-e60');
  assert.deepEqual([e.fineTune.steps, e.fineTune.epochs], [null, 60]);
  assert.equal(p.fineTune.steps, 240, 'the profile itself is not changed');
});

test('budgetOf: the manifest record, or the resolved profile and training record of an older manifest', () => {
  const old = { profileSpec: { fineTune: { steps: 240, epochs: null } }, training: { epochs: 20, steps: 240 } };
  assert.deepEqual(budgetOf(old), { steps: 240, epochs: null, epochsRun: 20, stepsRun: 240, source: 'profile' });
  assert.equal(budgetCell(budgetOf(old)), '240 steps (240 run)');
  const rec = { steps: 720, epochs: null, epochsRun: 60, stepsRun: 720, source: '--budget block=720' };
  assert.deepEqual(budgetOf({ ...old, budget: rec }), rec);
  assert.equal(budgetCell(rec), '720 steps * (720 run)');
  assert.equal(budgetCell(budgetOf({ profileSpec: { fineTune: { steps: 240, epochs: null } }, training: null })), '–');
});

test('the manifest schema takes a budget record and refuses a malformed one', () => {
  const budget = CompressManifestSchema.properties.budget;
  const ok = { steps: null, epochs: 3, epochsRun: 3, stepsRun: 36, source: 'profile' };
  assert.deepEqual(validate(budget, ok, 'm.json', 'fix'), ok);
  assert.throws(() => validate(budget, { ...ok, stepsRun: 'many' }, 'm.json', 'fix'), HilError);
  assert.throws(() => validate(budget, { steps: 1, epochs: null, source: 'profile' }, 'm.json', 'fix'), HilError);
});
