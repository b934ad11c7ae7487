/**
 * The QEMU-only Cortex-M boards (launch.kind "qemu-mcu": m4 on mps2-an386, m7 on mps2-an500, m33 on
 * mps2-an505): each board
 * file against its port's linker script and QEMU command line, and, through semihosting images under the
 * board's own QEMU machine (firmware/bench/mps2.mk), the DSP-extension kernels against the scalar ones
 * and the shared engine vectors (test/vectors/engine/) through the whole engine with the DSP kernels.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath } from '../../src/board/emulator.js';
import { qemuCommand } from '../../src/board/qemu.js';
import { parseQemuMcuLaunch } from '../../src/board/qemumcu.js';
import { listBoards, readBoardFile } from '../../src/board/registry.js';
import type { BoardFile } from '../../src/board/schema.js';
import { HilError } from '../../src/util/errors.js';
import { repoRoot } from '../../src/util/paths.js';
import { buildMcuBenchImages, MCU_BOARDS, runMcuBenchImage } from '../support/mcubench.js';

const REPO_ROOT = repoRoot();
const skip = (findOnPath('qemu-system-arm') === null || findOnPath('arm-none-eabi-gcc') === null) && 'needs qemu-system-arm and arm-none-eabi-gcc (bash scripts/setup.sh)';

/** Where each machine's core fetches its vector table at reset: 0 on the AN385 family; on the AN505 the
 * Secure alias of SSRAM1 (the IoT Kit's INITSVTOR0 reset value), the core starting in Secure state. */
const RESET_VTOR: Record<string, number> = { 'mps2-an386': 0, 'mps2-an500': 0, 'mps2-an505': 0x10000000 };

const size = (v: string) => {
  const m = /^(0x[0-9a-f]+|\d+)([KM]?)$/i.exec(v.trim())!;
  return Number(m[1]) * (m[2] === 'K' ? 1024 : m[2] === 'M' ? 1 << 20 : 1);
};

for (const name of MCU_BOARDS) {
  const path = join(REPO_ROOT, 'boards', `${name}.json`);
  const file = readBoardFile(path);
  const launch = parseQemuMcuLaunch(file, path);

  test(`${name}: the partition, arena, stack and memory map equal the port's linker script`, () => {
    const port = file.firmware.port;
    const ld = readFileSync(join(REPO_ROOT, 'firmware/ports', port, `${port}.ld`), 'utf8');
    const sym = (s: string) => size(new RegExp(`^${s} = ([^;]+);`, 'm').exec(ld)![1]!);
    assert.equal(sym('HIL_MODEL_ADDR'), launch.model_partition.base);
    assert.equal(sym('HIL_MODEL_BYTES'), launch.model_partition.bytes);
    assert.equal(sym('HIL_ARENA_BYTES'), launch.arena_bytes);
    assert.equal(sym('HIL_STACK_BYTES'), launch.stack_bytes);
    const regions = [...ld.matchAll(/^\s*(\w+)\s+\([rwx]+\)\s*:\s*ORIGIN = (\S+), LENGTH = (\S+?)\s/gm)];
    assert.deepEqual(regions.map((m) => m[1]), ['CODE', 'RAM']);
    // CODE is the image memory; RAM the one holding the stack and the arena.
    const code = launch.memories.find((m) => m.name === launch.image_memory)!;
    assert.deepEqual([code.base, code.bytes], [size(regions[0]![2]!.replace(/,$/, '')), size(regions[0]![3]!)]);
    const ram = launch.memories.find((m) => m.base === size(regions[1]![2]!.replace(/,$/, '')));
    assert.ok(ram, 'the RAM region is in launch.memories');
    assert.equal(ram.bytes, size(regions[1]![3]!));
    assert.equal(code.base, RESET_VTOR[launch.qemu.machine], `the vector table must be where ${launch.qemu.machine} resets to`);
    assert.ok(listBoards().some((b) => b.name === name && !b.error), `${name} is listed without error`);
  });

  test(`${name}: the QEMU command line`, () => {
    const cmd = qemuCommand(launch.qemu, { image: '/fw.elf', model: { path: '/m.hilm', address: launch.model_partition.base } });
    assert.equal(cmd.command, 'qemu-system-arm');
    const args = cmd.args.join(' ');
    assert.match(args, new RegExp(`-M ${launch.qemu.machine} -cpu ${launch.qemu.cpu} -m 16M -icount shift=0,align=off,sleep=on`));
    assert.match(args, new RegExp(`loader,file=/m.hilm,addr=0x${launch.model_partition.base.toString(16)},force-raw=on`));
  });

  test(`${name}: board file mistakes are one-line errors naming the field`, () => {
    const edited = (edit: (l: Record<string, unknown>) => void): BoardFile => {
      const copy = JSON.parse(JSON.stringify(file)) as BoardFile;
      edit(copy.launch as Record<string, unknown>);
      return copy;
    };
    const bad = (edit: (l: Record<string, unknown>) => void, match: RegExp) =>
      assert.throws(() => parseQemuMcuLaunch(edited(edit), 'x.json'), (e: unknown) => e instanceof HilError && match.test(e.line()) && !e.line().includes('\n'));
    bad((l) => ((l.model_partition as { base: number }).base = 0x10), /model_partition does not fit in PSRAM/);
    bad((l) => (l.image_memory = 'FLASH'), /image_memory names memory "FLASH"/);
    bad((l) => ((l.qemu as { memory: string }).memory = 'lots'), /launch\.qemu\.memory/);
  });
}

before(async () => {
  if (!skip) await buildMcuBenchImages();
});

for (const name of MCU_BOARDS) {
  test(`${name}: DSP FC kernels are bit-exact with the scalar ones (dense, every block shape 1..16 x 1..16, the fast paths, requantisation ties and extremes)`, { skip }, async (t) => {
    const { code, output } = await runMcuBenchImage(name, 'selftest');
    t.diagnostic(output.trim());
    assert.match(output, /kernels self-test \(dsp\): (\d+) cases, 0 failures/);
    assert.ok(Number(/(\d+) cases/.exec(output)![1]) > 2500);
    assert.equal(code, 0);
  });

  test(`${name}: engine vectors with the DSP kernels: outputs and counters bit-exact`, { skip }, async (t) => {
    const { code, output } = await runMcuBenchImage(name, 'enginetest');
    t.diagnostic(output.trim());
    assert.match(output, /DSP kernels/);
    const ok = output.match(/^ok \S+: \d+ frames bit-exact/gm) ?? [];
    assert.ok(ok.length >= 8, `${ok.length} vectors passed`);
    assert.match(output, /(\d+) vectors, 0 failures/);
    assert.equal(code, 0);
  });
}
