/**
 * `hil run --link crc|preload`: the device returns only a CRC-32 of each output frame, and the run still
 * checks every frame against the host engine. A deliberate model/engine mismatch at one frame (the
 * benchmark's test hook perturbs the host engine's output there) must turn the clip non-bit-exact and
 * be named, in each mode; with no fault the rows are bit-exact and say which mode measured them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writePcm16, toInt16 } from '../../src/data/wav.js';
import type { LinkMode } from '../../src/link/session.js';
import { runBenchmark } from '../../src/run/benchmark.js';
import { findOnPath } from '../../src/board/emulator.js';
import { speechLike, whiteNoise, rng } from '../support/speechlike.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const MODEL = join(ROOT, 'models/se-small');
const HAVE_QEMU = findOnPath('qemu-system-arm') !== null && findOnPath('arm-none-eabi-gcc') !== null;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-link-modes-'));
  const clean = speechLike(0.5, 'link-modes');
  const noise = whiteNoise(clean.length, rng('link-modes-noise'));
  writePcm16(join(dir, 'noisy', 'a.wav'), toInt16(clean.map((v, i) => 0.6 * v + 0.05 * noise[i]!)), 16000);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(board: string, link: LinkMode, faultHostFrames?: number[]) {
  const notes: string[] = [];
  const out = join(dir, `${board}-${link}-${faultHostFrames ? 'fault' : 'ok'}`);
  const file = await runBenchmark({ board, model: MODEL, audio: join(dir, 'noisy'), out, link, faultHostFrames }, (e) => {
    if (e.type === 'note') notes.push(e.text);
  });
  return { file, notes, csv: readFileSync(join(out, 'results.csv'), 'utf8') };
}

function check(r: Awaited<ReturnType<typeof run>>, link: LinkMode, fault: boolean): void {
  const row = r.file.rows[0]!;
  assert.equal(row.link?.mode, link);
  assert.equal(r.file.provenance.linkMode, link === 'stream' ? undefined : link);
  assert.match(r.csv.split('\n')[1]!, new RegExp(`,${link},`));
  assert.ok(row.latencyMean > 0, 'latency comes from the device counters');
  if (!fault) {
    assert.equal(row.bitExact, true, r.notes.join('\n'));
    return;
  }
  assert.equal(row.bitExact, false);
  assert.ok(r.notes.some((n) => /1 output frames differ from the host engine's \(first: frame 6\//.test(n)), r.notes.join('\n'));
}

test('sim, --link crc: bit-exact per frame by CRC; one corrupted frame is caught and named', async () => {
  check(await run('sim', 'crc'), 'crc', false);
  check(await run('sim', 'crc', [5]), 'crc', true);
});

test('sim, --link preload: refused in one line (no loader), before any board starts', async () => {
  await assert.rejects(run('sim', 'preload'), /--link preload: board sim .* has no loader/);
});

test('corstone-300 on QEMU, --link preload (1 clip): bit-exact by CRC; one corrupted frame is caught', { skip: !HAVE_QEMU && 'needs qemu-system-arm and arm-none-eabi-gcc' }, async () => {
  check(await run('corstone-300', 'preload'), 'preload', false);
  check(await run('corstone-300', 'crc', [5]), 'crc', true);
});
