/**
 * `hil run --link crc|preload|preload-batch`: the device returns only a CRC-32 of each output frame, and
 * the run still checks every frame against the host engine. A deliberate model/engine mismatch at one frame (the
 * benchmark's test hook perturbs the host engine's output there) must turn the clip non-bit-exact and
 * be named, in each mode; with no fault the rows are bit-exact and say which mode measured them. Batching
 * preloaded frames (RUN_PRELOADED_BATCH) must change nothing but the link: the same frames, counters,
 * instruction counts and CRCs as one RUN_PRELOADED per frame.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writePcm16, toInt16 } from '../../src/data/wav.js';
import { samplesCrc32, type FrameResult, type LinkMode } from '../../src/link/session.js';
import { runBenchmark } from '../../src/run/benchmark.js';
import { resolveModel } from '../../src/run/resolveModel.js';
import { findOnPath } from '../../src/board/emulator.js';
import { loadBoard } from '../../src/board/registry.js';
import { clipToFrames, parseBlob, runClipOnHost } from '../../src/engine/index.js';
import { speechLike, whiteNoise, rng } from '../support/speechlike.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const MODEL = join(ROOT, 'models/se-small');
const HAVE_QEMU = findOnPath('qemu-system-arm') !== null && findOnPath('arm-none-eabi-gcc') !== null;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-link-modes-'));
  writePcm16(join(dir, 'noisy', 'a.wav'), noisyClip(), 16000);
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

function noisyClip(): Int16Array {
  const clean = speechLike(0.5, 'link-modes');
  const noise = whiteNoise(clean.length, rng('link-modes-noise'));
  return toInt16(clean.map((v, i) => 0.6 * v + 0.05 * noise[i]!));
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

test('sim, --link preload-batch: refused in one line (no loader), before any board starts', async () => {
  await assert.rejects(run('sim', 'preload-batch'), /--link preload-batch: board sim .* has no loader/);
});

test('corstone-300 on QEMU: RUN_PRELOADED_BATCH gives every frame exactly what RUN_PRELOADED gives it, and frames_run counts each once', { skip: !HAVE_QEMU && 'needs qemu-system-arm and arm-none-eabi-gcc' }, async () => {
  const COST = { macsPerCycle: 128, weightBytesPerCycle: 8, elementsPerCycle: 8, opOverheadCycles: 200, frontendCycles: 3000 };
  const blob = resolveModel(MODEL).blob;
  const pcm = noisyClip();
  const host = runClipOnHost(blob, pcm, { cost: COST });
  const { hop, nFft } = parseBlob(blob);
  const frames = clipToFrames(pcm, hop, nFft);
  const image = Buffer.alloc(frames.length * 2 * hop);
  frames.forEach((f, i) => f.forEach((v, k) => image.writeInt16LE(v, 2 * (hop * i + k))));
  const board = await loadBoard('corstone-300');
  try {
    await board.flash(blob);
    await board.preloadAudio!(image);
    const s = await board.open();
    await s.hello();
    await s.configure(COST);
    await s.loadModel(blob);
    await s.resetStream();
    const single: FrameResult[] = [];
    for (let i = 0; i < frames.length; i++) single.push(await s.runPreloaded(i, 2 * hop * i));
    const n0 = (await s.stats()).framesRun;
    await s.resetStream();
    const batched: FrameResult[] = [];
    const per = s.maxBatchFrames;
    assert.ok(frames.length > per && frames.length % per !== 0, `${frames.length} frames: several batches, the last one short`);
    for (let i = 0; i < frames.length; i += per) batched.push(...(await s.runPreloadedBatch(i, 2 * hop * i, Math.min(per, frames.length - i))));
    assert.equal((await s.stats()).framesRun - n0, frames.length, 'a batch of n advances frames_run by n');
    assert.deepEqual(batched, single, 'CRCs, counters, latency and network latency per frame');
    single.forEach((r, i) => assert.equal(r.outputCrc32, samplesCrc32(host.outFrames[i]!), `frame ${i}: the host engine's CRC`));
    assert.ok(single.every((r) => typeof r.latency === 'number' && r.latency > 0), 'emulated instruction counts');
  } finally {
    await board.close();
  }
});

test('corstone-300 on QEMU: --link preload and --link preload-batch store the same row but for the link', { skip: !HAVE_QEMU && 'needs qemu-system-arm and arm-none-eabi-gcc' }, async () => {
  const one = await run('corstone-300', 'preload');
  const many = await run('corstone-300', 'preload-batch');
  check(many, 'preload-batch', false);
  const strip = ({ link: _l, finishedAt: _f, ...row }: (typeof one.file.rows)[number]) => row;
  assert.deepEqual(strip(many.file.rows[0]!), strip(one.file.rows[0]!));
  assert.equal(many.file.rows[0]!.link?.retransmissions, 0);
});

test('corstone-300 on QEMU, --link preload (1 clip): bit-exact by CRC; one corrupted frame is caught', { skip: !HAVE_QEMU && 'needs qemu-system-arm and arm-none-eabi-gcc' }, async () => {
  check(await run('corstone-300', 'preload'), 'preload', false);
  check(await run('corstone-300', 'crc', [5]), 'crc', true);
});
