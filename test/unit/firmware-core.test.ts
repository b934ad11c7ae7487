/**
 * `npm test` covers the C core: the firmware unit tests, the engine's fuzz/vector tests under ASan +
 * UBSan, and a Cortex-M55 build of the engine that must compile with -Werror and use no floating point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function make(target: string): void {
  const r = spawnSync('make', ['-s', '-C', 'firmware', target], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, `make -C firmware ${target} failed:\n${out.slice(-6000)}`);
  for (const line of out.split('\n')) if (/passed|failed|failures/.test(line)) console.log(`# ${line.trim()}`);
}

test('make -C firmware test passes', { timeout: 300_000 }, () => make('test'));
test('make -C firmware test-sanitize passes (loader fuzz under ASan + UBSan)', { timeout: 300_000 }, () => make('test-sanitize'));

const ENGINE_SOURCES = ['engine.c', 'dsp.c', 'kernels.c', 'cost_model.c', 'crc32.c', 'tables.c'];
const hasArmGcc = spawnSync('arm-none-eabi-gcc', ['--version']).status === 0;

test('the engine compiles for the Cortex-M55 with -Werror and calls no floating-point helper', { skip: !hasArmGcc && 'arm-none-eabi-gcc not installed (npm run setup installs it)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hil-m55-'));
  try {
    // Soft-float ABI: any float or double arithmetic would become a call to an __aeabi_f*/__aeabi_d* helper.
    const flags = ['-mcpu=cortex-m55', '-mthumb', '-mfloat-abi=soft', '-std=c99', '-Wall', '-Wextra', '-Werror', '-O2', '-fno-strict-aliasing', '-Ifirmware/core', '-c'];
    const floatHelpers = (obj: string) => {
      const nm = spawnSync('arm-none-eabi-nm', ['-u', obj], { encoding: 'utf8' });
      return nm.stdout.split('\n').filter((s) => /__aeabi_([fd](add|sub|mul|div|cmp)|[fd]2|[iul]+2[fd]|[fd]cmp)/.test(s));
    };
    // The check itself can fail: a probe that multiplies doubles must be caught.
    writeFileSync(join(dir, 'probe.c'), 'double hil_probe(double a, double b) { return a * b; }\n');
    const probe = spawnSync('arm-none-eabi-gcc', [...flags, join(dir, 'probe.c'), '-o', join(dir, 'probe.o')], { cwd: root, encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.ok(floatHelpers(join(dir, 'probe.o')).length > 0, 'the float-helper detector sees a double multiply');
    for (const src of ENGINE_SOURCES) {
      const obj = join(dir, src.replace(/\.c$/, '.o'));
      const r = spawnSync('arm-none-eabi-gcc', [...flags, `firmware/core/${src}`, '-o', obj], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 0, `${src}:\n${r.stderr}`);
      assert.deepEqual(floatHelpers(obj), [], `${src} uses floating point`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
