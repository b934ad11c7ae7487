/**
 * `hil sweep` on the sim board: three committed se-small profiles over two short generated clips. A
 * completed sweep rerun adds no rows; a sweep killed with SIGKILL mid-way and rerun ends with every
 * (profile, clip) row exactly once; a second sweep into the same --out while one runs is refused; bad
 * input is one line and exit code 2.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writePcm16, toInt16 } from '../../src/data/wav.js';
import { globToRegExp, matchProfiles, parseInstances, planSweep } from '../../src/sweep/plan.js';
import { readSweep, runSweep, sweepKey, SWEEP_ROWS_FILE } from '../../src/sweep/sweep.js';
import { readSweepFile } from '../../src/sweep/file.js';
import { meanInterval, pairedDifference } from '../../src/report/confidence.js';
import { fmt } from '../../src/report/sweepReport.js';
import { speechLike, whiteNoise, rng } from '../support/speechlike.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
const PROFILES = 'dense-int8,weight-9*';
const EXPECTED_PROFILES = ['dense-int8', 'weight-90', 'weight-95'];
let dir: string;

function sweepArgs(out: string, extra: string[] = []): string[] {
  return ['sweep', '--model', join(ROOT, 'models/se-small'), '--profiles', PROFILES, '--boards', 'sim', '--audio', join(dir, 'noisy'), '--clean', join(dir, 'clean'), '--out', out, ...extra];
}

function hil(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
}

function lines(out: string): { key: string }[] {
  return readFileSync(join(out, 'rows.jsonl'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

function assertComplete(out: string): void {
  const keys = lines(out).map((l) => l.key);
  assert.equal(new Set(keys).size, keys.length, 'no key stored twice');
  const { rows } = readSweep(out);
  assert.equal(rows.length, EXPECTED_PROFILES.length * 2);
  for (const p of EXPECTED_PROFILES) assert.deepEqual(rows.filter((r) => r.profile === p).map((r) => r.clip).sort(), ['c0.wav', 'c1.wav'], p);
  for (const r of rows) {
    assert.equal(r.bitExact, true);
    assert.equal(r.board, 'sim');
    assert.equal(sweepKey(r), keys[rows.indexOf(r)]);
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-sweep-'));
  for (const [k, seconds] of [0.5, 0.6].entries()) {
    const clean = speechLike(seconds, `clip${k}`);
    const noise = whiteNoise(clean.length, rng(`noise${k}`));
    writePcm16(join(dir, 'clean', `c${k}.wav`), toInt16(clean.map((v) => 0.6 * v)), 16000);
    writePcm16(join(dir, 'noisy', `c${k}.wav`), toInt16(clean.map((v, i) => 0.6 * v + 0.05 * noise[i]!)), 16000);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('sweep plan', () => {
  test('globs, instances and the compressed models of the baseline', () => {
    assert.ok(globToRegExp('weight-*').test('weight-90'));
    assert.ok(!globToRegExp('weight-*').test('block-90'));
    assert.deepEqual(matchProfiles(PROFILES), EXPECTED_PROFILES);
    assert.deepEqual(parseInstances('sim=2'), { sim: 2 });
    assert.throws(() => parseInstances('sim'), /--instances/);
    const plan = planSweep({ model: join(ROOT, 'models/se-small'), profiles: PROFILES, boards: ['sim'], instances: { sim: 2 } });
    assert.deepEqual(
      plan.jobs.map((j) => j.profile),
      EXPECTED_PROFILES,
    );
    const w90 = plan.jobs[1]!.facts;
    assert.equal(w90.structure, 'weight');
    assert.ok(w90.nonzeroWeightBytes < w90.denseWeightBytes / 5);
    assert.throws(() => planSweep({ model: join(ROOT, 'models/se-small'), profiles: 'nothing-*', boards: ['sim'] }), /matches no profile/);
    assert.throws(() => planSweep({ model: join(ROOT, 'models/se-small'), profiles: 'dense-int8', boards: ['sim'], instances: { qemu: 2 } }), /not in --boards/);
  });

  test('a model that must be compressed, but cannot be here, is one line before anything is written (exit 2)', () => {
    const base = join(dir, 'baseline');
    mkdirSync(join(base, 'compressed'), { recursive: true });
    // The baseline's training corpus is elsewhere: compressing it here is impossible.
    const model = JSON.parse(readFileSync(join(ROOT, 'models/se-small/model.json'), 'utf8'));
    model.provenance.corpus.dir = join(dir, 'no-such-corpus');
    writeFileSync(join(base, 'model.json'), JSON.stringify(model));
    const env = { ...process.env, HIL_HOME: join(dir, 'hil-home') };
    const missing = spawnSync(process.execPath, [...CLI, 'sweep', '--model', base, '--profiles', 'dense-int8', '--boards', 'sim', '--out', join(dir, 'x')], { cwd: ROOT, encoding: 'utf8', timeout: 180_000, env });
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    assert.match(missing.stderr, /baseline dense-int8 \(committed model: missing\) must be compressed, but .*no-such-corpus, which is not here/);
    assert.ok(!existsSync(join(dir, 'x')), 'nothing written on bad input');
    // A committed model of another baseline is not used: it would be compressed (planSweep, which does not compress, says so).
    cpSync(join(ROOT, 'models/se-small/compressed/dense-int8'), join(base, 'compressed/dense-int8'), { recursive: true });
    model.provenance.corpus.dir = join(ROOT, 'models'); // any existing directory without a corpus manifest
    writeFileSync(join(base, 'model.json'), JSON.stringify(model));
    assert.throws(() => planSweep({ model: base, profiles: 'dense-int8', boards: ['sim'], cacheRoot: join(dir, 'cache') }), /committed model: made from another baseline\) must be compressed/);
  });

  test('a sweep file gives the same plan as its flags; its mistakes are one line (exit 2)', () => {
    const file = join(ROOT, 'sweeps/se-small-sim.json');
    const opts = readSweepFile(file);
    assert.deepEqual(opts.model, [join(ROOT, 'models/se-small')]);
    assert.equal(opts.limit, 20);
    assert.deepEqual(opts.instances, { sim: 2 });
    const plan = planSweep(opts);
    assert.equal(plan.jobs.length, 14);
    assert.ok(plan.jobs.every((j) => j.source === 'committed' && j.model === 'se-small'));
    assert.deepEqual(new Set(plan.jobs.map((j) => j.facts.structure)), new Set(['none', 'weight', 'block', 'unit', 'offline']));
    const bad = (json: unknown, re: RegExp) => {
      const p = join(dir, 'bad-sweep.json');
      writeFileSync(p, JSON.stringify(json));
      const r = hil(['sweep', p, '--out', join(dir, 'never')]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    };
    const good = JSON.parse(readFileSync(file, 'utf8'));
    bad({ ...good, version: 7 }, /is hil-sweep version 7; this hil reads version 1/);
    bad({ ...good, format: undefined }, /is not a hil-sweep file/);
    bad({ ...good, colour: 'red' }, /unknown field "colour"/);
    bad({ ...good, clips: { limit: 0 } }, /clips\.limit must be >= 1/);
    bad({ ...good, models: ['../nowhere'] }, /--model .*nowhere: not a baseline directory/);
    assert.ok(!existsSync(join(dir, 'never')));
  });
});

describe('hil sweep --boards sim', () => {
  test('runs every job once; a rerun after completion adds no rows', async () => {
    const out = join(dir, 'full');
    const plan = planSweep({ model: join(ROOT, 'models/se-small'), profiles: PROFILES, boards: ['sim'], audio: join(dir, 'noisy'), clean: join(dir, 'clean'), instances: { sim: 2 } });
    const first = await runSweep(plan, out);
    assert.equal(first.failed.length, 0, first.failed.map((f) => f.error.message).join('; '));
    assert.equal(first.added, 6);
    assertComplete(out);
    for (const p of EXPECTED_PROFILES) assert.ok(existsSync(join(out, 'runs', 'sim', 'se-small', p, 'rows.jsonl')), p);
    const before = readFileSync(join(out, 'rows.jsonl'), 'utf8');
    const second = await runSweep(plan, out);
    assert.equal(second.added, 0);
    assert.equal(second.rows, 6);
    assert.equal(readFileSync(join(out, 'rows.jsonl'), 'utf8'), before);

    // hil report: its HTML table shows the means and paired ΔSDR recomputed here from rows.jsonl.
    const rep = hil(['report', out]);
    assert.equal(rep.status, 0, rep.stderr);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const { rows } = readSweep(out);
    const dense = new Map(rows.filter((r) => r.profile === 'dense-int8').map((r) => [r.clip, r.sdrOut!]));
    for (const p of EXPECTED_PROFILES) {
      const mine = rows.filter((r) => r.profile === p);
      const tr = new RegExp(`<tr data-model="se-small" data-board="sim" data-profile="${p}">(.*?)</tr>`).exec(html);
      assert.ok(tr, p);
      const cell = (col: string) => new RegExp(`data-col="${col}" data-value="([^"]*)"`).exec(tr[1]!)![1];
      assert.equal(cell('sdr'), fmt.db(meanInterval(mine.map((r) => r.sdrOut!)).mean), p);
      assert.equal(cell('delta_sdr'), fmt.db(pairedDifference(dense, new Map(mine.map((r) => [r.clip, r.sdrOut!]))).mean), p);
    }
    assert.equal(readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n').length, 7);

    // hil report --compare: a shorter sweep (2 profiles, 1 clip) against this one, matched by key.
    const short = join(dir, 'short');
    const r2 = hil(['sweep', '--model', join(ROOT, 'models/se-small'), '--profiles', 'dense-int8,weight-90', '--boards', 'sim', '--audio', join(dir, 'noisy'), '--clean', join(dir, 'clean'), '--limit', '1', '--out', short]);
    assert.equal(r2.status, 0, r2.stderr);
    const cmp = hil(['report', '--compare', out, short, '--out', join(dir, 'cmp')]);
    assert.equal(cmp.status, 0, cmp.stderr);
    assert.match(cmp.stdout, /se-small\s+sim\s+weight-95\s+only A/);
    // One common clip is no pair to bootstrap: the change is the difference of the means, and says so.
    assert.match(cmp.stdout, /se-small\s+sim\s+weight-90\s+both\s+\S+\s+\S+\s+[+-]\d+\.\d\d \(means, clips differ\)/);
    assert.ok(existsSync(join(dir, 'cmp', 'compare.html')));
    assert.equal(readFileSync(join(dir, 'cmp', 'compare.csv'), 'utf8').trim().split('\n').length, 1 + 3);
    const wrong = hil(['report', '--compare', out]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /--compare takes exactly two sweep directories/);

    // A store written by the hil before sweeps of several models (version 1) is refused by name.
    const old = join(dir, 'old');
    mkdirSync(old);
    const [header, ...rest] = readFileSync(join(out, SWEEP_ROWS_FILE), 'utf8').split('\n');
    writeFileSync(join(old, SWEEP_ROWS_FILE), [JSON.stringify({ ...JSON.parse(header!), version: 1 }), ...rest].join('\n'));
    await assert.rejects(runSweep(plan, old), /is hil-sweep-rows version 1; this hil reads version 2/);
    const r = hil(['report', old]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /version 1; this hil reads version 2 \(.*rerun into a new --out\)/);
  });

  test('a second sweep into the same --out is refused; a SIGKILLed sweep resumes without duplicates or losses', async () => {
    const out = join(dir, 'killed');
    const child = spawn(process.execPath, [...CLI, ...sweepArgs(out)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Wait until the first job has finished (its rows are in the sweep store), then refuse a second sweep.
    const deadline = Date.now() + 120_000;
    while (!(existsSync(join(out, 'rows.jsonl')) && lines(out).length >= 1)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `the sweep never stored a row: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // In-process, so that it is refused within milliseconds, while the child is surely still running.
    const plan = planSweep({ model: join(ROOT, 'models/se-small'), profiles: PROFILES, boards: ['sim'], audio: join(dir, 'noisy'), clean: join(dir, 'clean') });
    await assert.rejects(runSweep(plan, out), new RegExp(`is in use by pid ${child.pid} \\(hil sweep\\)`));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(lines(out).length < 6, 'killed mid-sweep');
    const rerun = hil(sweepArgs(out));
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.match(rerun.stdout, /3\/3 jobs done, 0 failed; 6 rows/);
    assertComplete(out);
  });
});
