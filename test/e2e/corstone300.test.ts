/**
 * The corstone-300 board end to end on QEMU: the real M55 firmware (MVE kernels) on the emulated
 * mps3-an547, driven through the board registry, transport, client and session, on a 2-second
 * speech-like clip through an se-tiny model made like `hil model init` does. Its enhanced audio must be
 * bit-exact with the host engine and with the sim board, its work counters equal, its emulated instruction
 * counts identical over two boots (one with the model placed by QEMU's loader, one uploaded over the UART),
 * and its memory figures equal to the ELF's sections.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportModel } from '../../src/export/exportModel.js';
import { initFloatModel } from '../../src/model/init.js';
import { clipToFrames, ETHOS_U55_128, runClipOnHost } from '../../src/engine/index.js';
import type { Board } from '../../src/board/board.js';
import { loadBoard } from '../../src/board/registry.js';
import type { Corstone300Board } from '../../src/board/corstone300.js';
import { imageMemory } from '../../src/board/elf.js';
import { EmulatorProcess, findOnPath } from '../../src/board/emulator.js';
import { buildBenchImages, corstoneQemu } from '../support/cs300bench.js';
import { qemuCommand, QEMU_PTY_LINE } from '../../src/board/qemu.js';
import { repoRoot } from '../../src/util/paths.js';
import { Session, type FrameResult } from '../../src/link/session.js';
import { openSerialTransport } from '../../src/link/transport.js';
import { Msg } from '../../src/link/messages.js';
import { scaleToPeak, speechLike } from '../support/speechlike.js';

const REPO_ROOT = repoRoot();

const COST = { ...ETHOS_U55_128 };
const HAVE_TOOLS = findOnPath('qemu-system-arm') !== null && findOnPath('arm-none-eabi-gcc') !== null;
const dir = mkdtempSync(join(tmpdir(), 'hil-cs300-e2e-'));
const boards: Board[] = [];
const emulators: EmulatorProcess[] = [];
// Every board a test started is closed (QEMU killed), also when the test failed.
after(async () => {
  for (const b of boards) await b.close();
  for (const e of emulators) await e.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** se-tiny at hop 128 (so the client keeps three frames in flight), dense, as `hil model init` writes it. */
function tinyModel(): Uint8Array {
  const path = join(dir, 'se-tiny.hilm');
  exportModel(initFloatModel('se-tiny', 1, 128), path, { kind: 'dense' });
  return new Uint8Array(readFileSync(path));
}

function clip(seconds: number): Int16Array {
  const x = scaleToPeak(speechLike(seconds, 'corstone300-e2e'), 0.5);
  return Int16Array.from(x, (v) => Math.round(v * 32767));
}

interface Run {
  frames: FrameResult[];
  stats: Awaited<ReturnType<import('../../src/link/session.js').Session['stats']>>;
  uploads: number;
}

async function runOn(boardName: string, blob: Uint8Array, frames: Int16Array[], place: boolean, env: Record<string, string> = {}): Promise<Run> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let board: Board;
  try {
    board = await loadBoard(boardName);
  } finally {
    process.env = saved;
  }
  boards.push(board);
  if (place) assert.equal(await board.flash(blob), 'placed');
  const s = await board.open();
  await s.hello();
  await s.configure(COST);
  const before = s.client.stats.requests;
  await s.loadModel(blob);
  const uploads = s.client.stats.requests - before - 1;
  await s.resetStream();
  // All frames queued at once: the client pipelines them within the device's credit.
  const results = await Promise.all(frames.map((f, i) => s.runFrame(i, f)));
  const stats = await s.stats();
  await board.close();
  return { frames: results, stats, uploads };
}

test('corstone-300 on QEMU: bit-exact with the host engine and the sim board, identical instruction counts over two boots', { skip: !HAVE_TOOLS && 'needs qemu-system-arm and arm-none-eabi-gcc (bash scripts/setup.sh)' }, async (t) => {
  const t0 = Date.now();
  const blob = tinyModel();
  const pcm = clip(2);
  const host = runClipOnHost(blob, pcm, { cost: COST });
  const frames = clipToFrames(pcm, 128, 512);
  assert.equal(frames.length, host.outFrames.length);

  const first = await runOn('corstone-300', blob, frames, true, { HIL_BACKEND: 'qemu' });
  assert.equal(first.uploads, 0, 'placed by QEMU\'s loader device: no upload');
  first.frames.forEach((r, f) => {
    assert.deepEqual(r.output, host.outFrames[f], `frame ${f}: output differs from the host engine`);
    const c = host.perFrame[f]!;
    assert.deepEqual([r.macs, r.weightBytes, r.elements, r.ops, r.modelledCycles], [c.macs, c.weightBytes, c.elements, c.ops, c.modelledCycles], `frame ${f} counters`);
    // At least the two 512-point FFTs (7 vector stages of 128 two-butterfly steps each way, over 20 k instructions).
    assert.ok(typeof r.latency === 'number' && r.latency > 20_000, `frame ${f}: ${r.latency} emulated instructions`);
    // The graph alone: positive (se-tiny runs 11 k MACs and its GRU's element-wise ops) and below the frame,
    // which adds the front end and overlap-add (two FFTs: over 20 k instructions more).
    assert.ok(typeof r.networkLatency === 'number' && r.networkLatency > 1_000 && r.networkLatency < r.latency - 20_000, `frame ${f}: network ${r.networkLatency} of ${r.latency}`);
  });

  const second = await runOn('corstone-300', blob, frames, false, { HIL_BACKEND: 'qemu' });
  assert.ok(second.uploads > 1, 'the second boot gets the model over the UART');
  assert.deepEqual(second.frames.map((r) => r.output), first.frames.map((r) => r.output));
  assert.deepEqual(second.frames.map((r) => r.latency), first.frames.map((r) => r.latency), 'emulated instruction counts are identical across boots');
  assert.deepEqual(second.frames.map((r) => r.networkLatency), first.frames.map((r) => r.networkLatency), 'and so are the network\'s');

  const sim = await runOn('sim', blob, frames, true);
  assert.deepEqual(first.frames.map((r) => r.output), sim.frames.map((r) => r.output), 'bit-exact with --board sim');

  // Memory: the device's own report equals the linker's sections (the session checked it too).
  const board = (await loadBoard('corstone-300')) as Corstone300Board;
  boards.push(board);
  const region = board.launch.memories.find((m) => m.name === board.launch.image_memory)!;
  const elf = imageMemory(join(process.cwd(), board.file.firmware.image), region);
  const st = first.stats;
  assert.equal(st.imageFlashBytes, elf.imageFlashBytes);
  assert.equal(st.staticSramBytes, elf.staticSramBytes);
  assert.equal(st.stackSizeBytes, elf.stackSizeBytes);
  assert.equal(st.stackSizeBytes, board.launch.stack_bytes);
  assert.equal(st.modelFlashBytes, blob.length);
  assert.equal(st.arenaBytes, host.arenaBytes);
  assert.equal(st.framesRun, frames.length);
  assert.ok(st.stackHighWaterBytes > 256 && st.stackHighWaterBytes < st.stackSizeBytes, `stack high water ${st.stackHighWaterBytes}`);

  const lat = first.frames.map((r) => Number(r.latency)).sort((a, b) => a - b);
  const net = first.frames.map((r) => Number(r.networkLatency)).sort((a, b) => a - b);
  t.diagnostic(
    `se-tiny hop 128, ${frames.length} frames (${pcm.length / 16000} s): emulated M55 instructions per frame p50 ${lat[lat.length >> 1]}, ` +
      `min ${lat[0]}, max ${lat.at(-1)}; network alone p50 ${net[net.length >> 1]}, min ${net[0]}, max ${net.at(-1)}; modelled Ethos-U55 cycles ${first.frames[0]!.modelledCycles}; ` +
      `memory (device = ELF): image ${st.imageFlashBytes} B + model ${st.modelFlashBytes} B flash, SRAM static ${st.staticSramBytes} + arena ${st.arenaBytes} + stack ${st.stackHighWaterBytes} of ${st.stackSizeBytes} B; ` +
      `total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
});

test('corstone-300 on QEMU: an LSTM model (tinylstm-tiny, states h and c) is bit-exact with the host engine and the sim board', { skip: !HAVE_TOOLS && 'needs qemu-system-arm and arm-none-eabi-gcc (bash scripts/setup.sh)' }, async (t) => {
  const path = join(dir, 'tinylstm-tiny.hilm');
  exportModel(initFloatModel('tinylstm-tiny', 2, 128), path, { kind: 'auto' });
  const blob = new Uint8Array(readFileSync(path));
  const pcm = clip(1);
  const host = runClipOnHost(blob, pcm, { cost: COST });
  const frames = clipToFrames(pcm, 128, 512);
  const cs = await runOn('corstone-300', blob, frames, true, { HIL_BACKEND: 'qemu' });
  cs.frames.forEach((r, f) => {
    assert.deepEqual(r.output, host.outFrames[f], `frame ${f}: output differs from the host engine`);
    const c = host.perFrame[f]!;
    assert.deepEqual([r.macs, r.elements, r.ops], [c.macs, c.elements, c.ops], `frame ${f} counters`);
  });
  const sim = await runOn('sim', blob, frames, true);
  assert.deepEqual(cs.frames.map((r) => r.output), sim.frames.map((r) => r.output), 'bit-exact with --board sim');
  const net = cs.frames.map((r) => Number(r.networkLatency)).sort((a, b) => a - b);
  t.diagnostic(`tinylstm-tiny hop 128, ${frames.length} frames: emulated M55 instructions for the network alone p50 ${net[net.length >> 1]}, min ${net[0]}, max ${net.at(-1)}; ${host.perFrame[0]!.macs} MACs per frame`);
});

test('corstone-300 on QEMU: a CSR4 model (4-bit column deltas, escapes, gaps over 255) is bit-exact with the host engine, counters equal', { skip: !HAVE_TOOLS && 'needs qemu-system-arm and arm-none-eabi-gcc (bash scripts/setup.sh)' }, async (t) => {
  const blob = new Uint8Array(readFileSync(join(REPO_ROOT, 'test/vectors/engine/tiny-csr4.hilm')));
  const pcm = clip(1);
  const host = runClipOnHost(blob, pcm, { cost: COST });
  const frames = clipToFrames(pcm, 256, 512);
  const cs = await runOn('corstone-300', blob, frames, true, { HIL_BACKEND: 'qemu' });
  cs.frames.forEach((r, f) => {
    assert.deepEqual(r.output, host.outFrames[f], `frame ${f}: output differs from the host engine`);
    const c = host.perFrame[f]!;
    assert.deepEqual([r.macs, r.weightBytes, r.elements, r.ops, r.modelledCycles], [c.macs, c.weightBytes, c.elements, c.ops, c.modelledCycles], `frame ${f} counters`);
  });
  const net = cs.frames.map((r) => Number(r.networkLatency)).sort((a, b) => a - b);
  t.diagnostic(`tiny-csr4, ${frames.length} frames: emulated M55 instructions for the network alone p50 ${net[net.length >> 1]}; ${host.perFrame[0]!.macs} MACs per frame`);
});

test('corstone-300 firmware with the interrupt-driven UART (the MPS3 path) under QEMU: pipelined frames bit-exact', { skip: !HAVE_TOOLS && 'needs qemu-system-arm and arm-none-eabi-gcc (bash scripts/setup.sh)' }, async () => {
  // Silicon's RX handler and ring buffer, forced on (firmware/bench builds this variant): the host keeps
  // frames in flight, so bytes arrive while the core computes and must wait in the ring.
  await buildBenchImages();
  const blob = new Uint8Array(readFileSync(join(REPO_ROOT, 'test/vectors/engine/tiny-hop128.hilm')));
  const raw = readFileSync(join(REPO_ROOT, 'test/vectors/engine/tiny-hop128.in.bin'));
  const input = new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  const rawOut = readFileSync(join(REPO_ROOT, 'test/vectors/engine/tiny-hop128.out.bin'));
  const expected = new Int16Array(rawOut.buffer, rawOut.byteOffset, rawOut.length / 2);
  const qemu = new EmulatorProcess('QEMU');
  emulators.push(qemu);
  const board = (await loadBoard('corstone-300')) as Corstone300Board;
  boards.push(board);
  const image = join(REPO_ROOT, 'firmware/build/bench/hil-corstone-300-isr.elf');
  const m = await qemu.start(qemuCommand(corstoneQemu(), { image, model: null }), QEMU_PTY_LINE, board.file.link.start_ms);
  const transport = await openSerialTransport(m[1]!);
  const banner = await transport.readBanner({ bannerMs: board.file.link.banner_ms, startMs: board.file.link.start_ms });
  assert.equal(banner.fields.build, 'uart-isr');
  const s = new Session(transport, banner, { link: board.file.link });
  try {
    const h = await s.hello();
    assert.equal(h.rxCreditBytes, 2047, 'the ring buffer holds 2 KiB');
    await s.loadModel(blob);
    const frames = Array.from({ length: input.length / 128 }, (_, f) => input.subarray(f * 128, (f + 1) * 128));
    const results = await Promise.all(frames.map((f, i) => s.runFrame(i, f)));
    const all = new Int16Array(results.length * 128);
    results.forEach((r, f) => all.set(r.output, f * 128));
    assert.deepEqual(all, expected);
    // No byte lost: the device dropped no frame (its warning LOGs) and the host received no corrupt one.
    // Retransmissions are not losses here: on a loaded machine QEMU can answer later than the adaptive
    // timeout, and the requests behind a resent one go again with it (docs/protocol.md §4).
    const st = s.client.stats;
    assert.deepEqual({ deviceDrops: st.deviceDrops, rxCorrupt: st.rxCorrupt }, { deviceDrops: 0, rxCorrupt: 0 }, 'no byte was lost');
  } finally {
    await s.close();
    await qemu.stop();
  }
});

test('corstone-300 on QEMU: RESET reboots the M55 (AIRCR), and a second session on the same QEMU finds it again', { skip: !HAVE_TOOLS && 'needs qemu-system-arm and arm-none-eabi-gcc (bash scripts/setup.sh)' }, async () => {
  const blob = new Uint8Array(readFileSync(join(REPO_ROOT, 'test/vectors/engine/tiny-dense.hilm')));
  const raw = readFileSync(join(REPO_ROOT, 'test/vectors/engine/tiny-dense.in.bin'));
  const input = new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  const rawOut = readFileSync(join(REPO_ROOT, 'test/vectors/engine/tiny-dense.out.bin'));
  const expected = new Int16Array(rawOut.buffer, rawOut.byteOffset, rawOut.length / 2);
  const board = (await loadBoard('corstone-300', {})) as Corstone300Board;
  boards.push(board);
  await board.flash(blob);
  const first = await board.open();
  await first.hello();
  await first.loadModel(blob);
  for (let f = 0; f < 3; f++) await first.runFrame(f, input.subarray(f * 256, (f + 1) * 256));
  assert.equal((await first.stats()).framesRun, 3);
  await first.client.request(Msg.RESET, {});
  const pid = board.pid;
  await first.close();

  const second = await board.open();
  assert.equal(board.pid, pid, 'the same QEMU process');
  await second.hello();
  // Waiting for the host, the firmware sleeps in WFI: QEMU must not burn a core meanwhile.
  const cpuSeconds = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
  };
  const c0 = cpuSeconds();
  await new Promise((r) => setTimeout(r, 1500));
  const idle = (cpuSeconds() - c0) / 1.5;
  assert.ok(idle < 0.15, `QEMU used ${(idle * 100).toFixed(0)} % of a core while the firmware waited`);
  assert.equal((await second.stats()).framesRun, 0, 'the firmware restarted');
  await second.loadModel(blob);
  const outs = [];
  for (let f = 0; f < input.length / 256; f++) outs.push((await second.runFrame(f, input.subarray(f * 256, (f + 1) * 256))).output);
  const all = new Int16Array(outs.length * 256);
  outs.forEach((o, f) => all.set(o, f * 256));
  assert.deepEqual(all, expected);
  await board.close();
  assert.equal(board.pid, undefined, 'QEMU stopped');
});

test('corstone-300 on QEMU with a 16-bit output layer (QUANTIZE, the MVE 16x8 FC, LUT16, the Q15 mask): bit-exact with the host engine and the sim board, counters equal', { skip: !HAVE_TOOLS && 'needs qemu-system-arm and arm-none-eabi-gcc (bash scripts/setup.sh)' }, async (t) => {
  const path = join(dir, 'se-tiny-int16out.hilm');
  exportModel(initFloatModel('se-tiny', 1, 128), path, { kind: 'dense' }, { outputBits: 16 });
  const blob = new Uint8Array(readFileSync(path));
  const pcm = clip(1);
  const host = runClipOnHost(blob, pcm, { cost: COST });
  const frames = clipToFrames(pcm, 128, 512);
  const run = await runOn('corstone-300', blob, frames, true, { HIL_BACKEND: 'qemu' });
  run.frames.forEach((r, f) => {
    assert.deepEqual(r.output, host.outFrames[f], `frame ${f}: output differs from the host engine`);
    const c = host.perFrame[f]!;
    assert.deepEqual([r.macs, r.weightBytes, r.elements, r.ops, r.modelledCycles], [c.macs, c.weightBytes, c.elements, c.ops, c.modelledCycles], `frame ${f} counters`);
  });
  const sim = await runOn('sim', blob, frames, true);
  assert.deepEqual(sim.frames.map((r) => r.output), run.frames.map((r) => r.output), 'bit-exact with --board sim');
  const net = run.frames.map((r) => Number(r.networkLatency)).sort((a, b) => a - b);
  t.diagnostic(`se-tiny hop 128 with an int16 output layer: ${frames.length} frames bit-exact; network p50 ${net[net.length >> 1]} emulated M55 instructions; arena ${run.stats.arenaBytes} B`);
});
