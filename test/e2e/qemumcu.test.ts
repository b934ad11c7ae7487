/**
 * The QEMU-only Cortex-M boards end to end (m4: Cortex-M4 on mps2-an386; m7: Cortex-M7 on mps2-an500; m33:
 * Cortex-M33 on mps2-an505, in Secure state),
 * the real firmware with the DSP-extension kernels, driven through the board registry, transport, client
 * and session on a 1-second speech-like clip through an se-tiny model made like `hil model init` does.
 * Per board: enhanced audio bit-exact with the host engine and with the sim board, work counters equal,
 * emulated instruction counts identical over two boots (one with the model placed by QEMU's loader, one
 * uploaded over the UART), and the memory figures equal to the ELF's sections.
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
import { findOnPath } from '../../src/board/emulator.js';
import type { FrameResult, Session } from '../../src/link/session.js';
import { repoRoot } from '../../src/util/paths.js';
import { scaleToPeak, speechLike } from '../support/speechlike.js';
import { MCU_BOARDS } from '../support/mcubench.js';
import { Msg } from '../../src/link/messages.js';

const REPO_ROOT = repoRoot();
const COST = { ...ETHOS_U55_128 };
const HAVE_TOOLS = findOnPath('qemu-system-arm') !== null && findOnPath('arm-none-eabi-gcc') !== null;
const dir = mkdtempSync(join(tmpdir(), 'hil-qemumcu-e2e-'));
const boards: Board[] = [];
after(async () => {
  for (const b of boards) await b.close();
  rmSync(dir, { recursive: true, force: true });
});

let blobCache: Uint8Array | null = null;
function tinyModel(): Uint8Array {
  if (blobCache) return blobCache;
  const path = join(dir, 'se-tiny.hilm');
  exportModel(initFloatModel('se-tiny', 1, 128), path, { kind: 'dense' });
  return (blobCache = new Uint8Array(readFileSync(path)));
}

function clip(seconds: number): Int16Array {
  const x = scaleToPeak(speechLike(seconds, 'qemumcu-e2e'), 0.5);
  return Int16Array.from(x, (v) => Math.round(v * 32767));
}

interface Run {
  frames: FrameResult[];
  stats: Awaited<ReturnType<Session['stats']>>;
  uploads: number;
}

async function runOn(boardName: string, blob: Uint8Array, frames: Int16Array[], place: boolean): Promise<Run> {
  const board = await loadBoard(boardName);
  boards.push(board);
  if (place) assert.equal(await board.flash(blob), 'placed');
  const s = await board.open();
  await s.hello();
  await s.configure(COST);
  const before = s.client.stats.requests;
  await s.loadModel(blob);
  const uploads = s.client.stats.requests - before - 1;
  await s.resetStream();
  const results = await Promise.all(frames.map((f, i) => s.runFrame(i, f)));
  const stats = await s.stats();
  await board.close();
  return { frames: results, stats, uploads };
}

for (const name of MCU_BOARDS) {
  test(`${name} on QEMU: bit-exact with the host engine and the sim board, identical instruction counts over two boots`, { skip: !HAVE_TOOLS && 'needs qemu-system-arm and arm-none-eabi-gcc (bash scripts/setup.sh)' }, async (t) => {
    const t0 = Date.now();
    const blob = tinyModel();
    const pcm = clip(1);
    const host = runClipOnHost(blob, pcm, { cost: COST });
    const frames = clipToFrames(pcm, 128, 512);
    assert.equal(frames.length, host.outFrames.length);

    const first = await runOn(name, blob, frames, true);
    assert.equal(first.uploads, 0, 'placed by QEMU\'s loader device: no upload');
    first.frames.forEach((r, f) => {
      assert.deepEqual(r.output, host.outFrames[f], `frame ${f}: output differs from the host engine`);
      const c = host.perFrame[f]!;
      assert.deepEqual([r.macs, r.weightBytes, r.elements, r.ops, r.modelledCycles], [c.macs, c.weightBytes, c.elements, c.ops, c.modelledCycles], `frame ${f} counters`);
      assert.ok(typeof r.latency === 'number' && r.latency > 20_000, `frame ${f}: ${r.latency} emulated instructions`);
      assert.ok(typeof r.networkLatency === 'number' && r.networkLatency > 1_000 && r.networkLatency < r.latency, `frame ${f}: network ${r.networkLatency} of ${r.latency}`);
    });

    const second = await runOn(name, blob, frames, false);
    assert.ok(second.uploads > 1, 'the second boot gets the model over the UART');
    assert.deepEqual(second.frames.map((r) => r.output), first.frames.map((r) => r.output));
    assert.deepEqual(second.frames.map((r) => r.latency), first.frames.map((r) => r.latency), 'emulated instruction counts are identical across boots');
    assert.deepEqual(second.frames.map((r) => r.networkLatency), first.frames.map((r) => r.networkLatency), 'and so are the network\'s');

    const sim = await runOn('sim', blob, frames, true);
    assert.deepEqual(first.frames.map((r) => r.output), sim.frames.map((r) => r.output), 'bit-exact with --board sim');

    const board = (await loadBoard(name)) as Corstone300Board;
    boards.push(board);
    const region = board.launch.memories.find((m) => m.name === board.launch.image_memory)!;
    const elf = imageMemory(join(REPO_ROOT, board.file.firmware.image), region);
    const st = first.stats;
    assert.equal(st.imageFlashBytes, elf.imageFlashBytes);
    assert.equal(st.staticSramBytes, elf.staticSramBytes);
    assert.equal(st.stackSizeBytes, board.launch.stack_bytes);
    assert.equal(st.modelFlashBytes, blob.length);
    assert.equal(st.arenaBytes, host.arenaBytes);
    assert.equal(st.framesRun, frames.length);

    const lat = first.frames.map((r) => Number(r.latency)).sort((a, b) => a - b);
    const net = first.frames.map((r) => Number(r.networkLatency)).sort((a, b) => a - b);
    t.diagnostic(
      `${name}: se-tiny hop 128, ${frames.length} frames: emulated instructions per frame p50 ${lat[lat.length >> 1]} (min ${lat[0]}, max ${lat.at(-1)}); ` +
        `network p50 ${net[net.length >> 1]}; image ${st.imageFlashBytes} B, static SRAM ${st.staticSramBytes} B, stack ${st.stackHighWaterBytes} of ${st.stackSizeBytes} B; ` +
        `total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  });
}

for (const name of MCU_BOARDS) {
  // RESET is SYSRESETREQ through the core's AIRCR: each machine must wire it to a system reset (on the
  // AN505 the write comes from Secure state) and the firmware must boot again to a banner and a HELLO.
  test(`${name} on QEMU: RESET restarts the firmware in the same QEMU process`, { skip: !HAVE_TOOLS && 'needs qemu-system-arm and arm-none-eabi-gcc (bash scripts/setup.sh)' }, async () => {
    const board = (await loadBoard(name)) as Corstone300Board;
    boards.push(board);
    const blob = tinyModel();
    assert.equal(await board.flash(blob), 'placed');
    const frames = clipToFrames(clip(0.1), 128, 512).slice(0, 2);
    const first = await board.open();
    await first.hello();
    await first.configure(COST);
    await first.loadModel(blob);
    await first.resetStream();
    for (const [i, f] of frames.entries()) await first.runFrame(i, f);
    assert.equal((await first.stats()).framesRun, frames.length);
    await first.client.request(Msg.RESET, {});
    const pid = board.pid;
    await first.close();
    const second = await board.open();
    assert.equal(board.pid, pid, 'the same QEMU process');
    await second.hello();
    assert.equal((await second.stats()).framesRun, 0, 'a fresh boot has run no frame');
    await board.close();
  });
}
