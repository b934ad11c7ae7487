/** `hil model init` / `model info` and the float forward: determinism, sizes, files, ranges. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHS, activationNames } from '../../src/model/arch.js';
import { initFloatModel, paramsPerLayer } from '../../src/model/init.js';
import { floatForward } from '../../src/model/forward.js';
import { loadFloatModel } from '../../src/model/floatModel.js';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { writeBlob } from '../../src/export/blob.js';
import { sha256 } from '../../src/util/fsx.js';
import { testSignal } from '../support/engineFixtures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const hil = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8' });

test('init is deterministic per seed and differs across seeds', () => {
  const a = writeBlob(lowerToQuantGraph(initFloatModel('se-tiny', 5)));
  const b = writeBlob(lowerToQuantGraph(initFloatModel('se-tiny', 5)));
  const c = writeBlob(lowerToQuantGraph(initFloatModel('se-tiny', 6)));
  assert.equal(sha256(a), sha256(b));
  assert.notEqual(sha256(a), sha256(c));
});

test('parameter counts match docs/model-format.md §9', () => {
  const expected = { 'se-tiny': [20e3, 26e3], 'se-small': [0.25e6, 0.27e6], 'se-paper': [0.9e6, 0.94e6], 'tinylstm-tiny': [30e3, 37e3], 'tinylstm-paper': [0.9e6, 0.94e6] } as const;
  for (const name of Object.keys(ARCHS) as (keyof typeof ARCHS)[]) {
    const m = initFloatModel(name, 1);
    const total = Object.values(paramsPerLayer(m)).reduce((s, v) => s + v, 0);
    const [lo, hi] = expected[name];
    assert.ok(total >= lo && total <= hi, `${name}: ${total} params`);
  }
});

test('the float forward observes every activation range and produces finite, time-aligned audio', () => {
  const m = initFloatModel('se-tiny', 2);
  for (const name of activationNames(ARCHS['se-tiny'])) assert.ok(m.ranges[name] && m.ranges[name][0] <= m.ranges[name][1], name);
  assert.deepEqual(m.ranges.features, [0, 50]);
  const r0 = m.ranges['gru0.z'];
  assert.ok(r0[0] >= -0.1 && r0[1] <= 1.1, 'sigmoid range');
  const pcm = testSignal(4, 3000);
  const { output, ranges } = floatForward(m, pcm);
  assert.equal(output.length, pcm.length);
  assert.ok(output.every(Number.isFinite));
  assert.ok(ranges.mask[0] > 0 && ranges.mask[1] < 1);
  // Output is the input scaled by a mask in (0, 1): correlated with the input at zero lag.
  let dot = 0, nx = 0, ny = 0;
  for (let i = 0; i < pcm.length; i++) {
    dot += pcm[i] * output[i];
    nx += pcm[i] ** 2;
    ny += output[i] ** 2;
  }
  assert.ok(dot / Math.sqrt(nx * ny) > 0.9, `correlation ${dot / Math.sqrt(nx * ny)}`);
});

test('hil model init writes model.json, model.hilm and manifest.json; model info prints the layer table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hil-model-init-'));
  try {
    const r = hil(['model', 'init', '--arch', 'se-tiny', '--seed', '3', '--hop', '128', '--out', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /se-tiny seed 3: \d+ params/);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const blob = readFileSync(join(dir, 'model.hilm'));
    assert.equal(manifest.blob.sha256, sha256(blob));
    assert.equal(manifest.blob.flashBytes, blob.length);
    assert.equal(manifest.hop, 128);
    assert.equal(manifest.params.total, Object.values(paramsPerLayer(loadFloatModel(join(dir, 'model.json')))).reduce((s, v) => s + v, 0));
    assert.ok(manifest.blob.macsPerFrame > 20000);
    // The saved float model exports to the very same blob.
    assert.equal(sha256(writeBlob(lowerToQuantGraph(loadFloatModel(join(dir, 'model.json'))))), manifest.blob.sha256);
    const info = hil(['model', 'info', join(dir, 'model.hilm')]);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /hop 128/);
    assert.match(info.stdout, /FC\s+t0\[257\]\s+t1\[32\]\s+32x257\s+dense/);
    assert.match(info.stdout, /LUT logistic/);
    const exp = hil(['model', 'export', join(dir, 'model.json'), '--out', join(dir, 'csr.hilm'), '--encoding', 'csr']);
    assert.equal(exp.status, 0, exp.stderr);
    assert.match(hil(['model', 'info', join(dir, 'csr.hilm')]).stdout, /csr/);
    // User mistakes: one line, exit code 2.
    const bad = hil(['model', 'init', '--arch', 'se-huge', '--out', dir]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown --arch se-huge/);
    const corrupt = Buffer.from(blob);
    corrupt[100] ^= 0xff;
    execFileSync('sh', ['-c', `cat > ${join(dir, 'bad.hilm')}`], { input: corrupt });
    const badInfo = hil(['model', 'info', join(dir, 'bad.hilm')]);
    assert.equal(badInfo.status, 2);
    assert.match(badInfo.stderr, /CRC mismatch/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
