/** `npm test` covers the C core: the firmware unit tests, and the engine's fuzz/vector tests under ASan + UBSan. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
