/** The Vela summary parser on real Vela output (test/fixtures/vela/README.md), and runVela's contract. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseVelaSummary, runVela, velaVersion } from '../../src/compress/vela.js';
import { HilError } from '../../src/util/errors.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/vela/${name}`, import.meta.url), 'utf8');

test('Vela PERFORMANCE.md example (Ethos_U55_256): cycles, memory and MACs', () => {
  const v = parseVelaSummary(fixture('performance-md-u55-256.txt'), '3.2.0');
  assert.equal(v.label, 'modelled (Vela 3.2.0)');
  assert.equal(v.accelerator, 'Ethos_U55_256');
  assert.equal(v.systemConfig, 'internal-default');
  assert.equal(v.clockHz, 500e6);
  assert.deepEqual([v.npuCycles, v.totalCycles, v.macs], [21298, 114098, 86952]);
  assert.deepEqual([v.npuOperators, v.cpuOperators], [44, 0]);
  assert.equal(v.sramBytes, Math.round(0.95 * 1024));
  assert.equal(v.flashBytes, Math.round(106.98 * 1024));
  assert.equal(v.encodedWeightBytes, null, 'the default summary prints no weight sizes');
  assert.equal(v.inferenceSeconds, 0.00023);
});

test('a newer Vela summary (Ethos_U55_128, High_End_Embedded, Shared_Sram) quoted in a build report', () => {
  // The report lists each stdout line as a Markdown item; Vela itself prints the bare lines.
  const text = fixture('modelnova-u55-128-report.md').replace(/^ {2}- /gm, '');
  const v = parseVelaSummary(text, '4.4.1');
  assert.equal(v.accelerator, 'Ethos_U55_128');
  assert.equal(v.systemConfig, 'Ethos_U55_High_End_Embedded');
  assert.equal(v.memoryMode, 'Shared_Sram');
  assert.deepEqual([v.npuCycles, v.totalCycles, v.macs, v.npuOperators], [349, 349, 0, 12]);
  assert.equal(v.sramBytes, Math.round(0.14 * 1024));
  assert.equal(v.flashBytes, Math.round(0.03 * 1024));
  assert.equal(v.encodedWeightBytes, 0);
});

test('a summary without cycles, or with a size in an unknown unit, is refused with a one-line reason', () => {
  const text = fixture('performance-md-u55-256.txt');
  assert.throws(() => parseVelaSummary(text.replace(/^Total cycles.*$/m, ''), 'x'), (e: unknown) => e instanceof HilError && /no "Total cycles" line/.test(e.message));
  assert.throws(() => parseVelaSummary(text.replace('0.95 KiB', '0.95 KB'), 'x'), (e: unknown) => e instanceof HilError && /Total SRAM used/.test(e.message));
});

test('runVela: null without vela; with one on PATH, its arguments and parsed summary', () => {
  assert.equal(velaVersion('/nonexistent/vela'), null);
  assert.equal(runVela('/x.tflite', '/tmp/none', '/nonexistent/vela'), null);
  const dir = mkdtempSync(join(tmpdir(), 'hil-vela-'));
  const summary = join(dir, 'summary.txt');
  writeFileSync(summary, fixture('performance-md-u55-256.txt'));
  // A stand-in executable: answers --version, records its arguments, prints the real summary.
  const fake = join(dir, 'vela');
  writeFileSync(fake, `#!/bin/sh\nif [ "$1" = --version ]; then echo 3.2.0; exit 0; fi\necho "$@" > ${dir}/args\ncat ${summary}\n`);
  chmodSync(fake, 0o755);
  const v = runVela('/m/model.tflite', join(dir, 'out'), fake);
  assert.equal(v?.label, 'modelled (Vela 3.2.0)');
  assert.equal(readFileSync(join(dir, 'args'), 'utf8').trim(), `/m/model.tflite --accelerator-config ethos-u55-128 --output-dir ${join(dir, 'out')}`);
  writeFileSync(fake, '#!/bin/sh\nif [ "$1" = --version ]; then echo 3.2.0; exit 0; fi\necho "Error: unsupported op" >&2\nexit 1\n');
  assert.throws(() => runVela('/m/model.tflite', join(dir, 'out'), fake), /vela failed on \/m\/model.tflite: Error: unsupported op/);
});
