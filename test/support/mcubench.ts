/**
 * The MPS2 ports' semihosting images (firmware/bench/mps2.mk): the DSP-vs-scalar kernel self-test, the
 * engine vectors with the DSP kernels, and the kernel benchmark, for the boards of `launch.kind`
 * "qemu-mcu" (m4, m7, m33). Built with each port's flags and memory map and run under the board file's own
 * QEMU machine, so they measure exactly what the firmware runs on.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runToExit } from '../../src/board/emulator.js';
import { qemuSemihostingCommand, type QemuBackend } from '../../src/board/qemu.js';
import { parseQemuMcuLaunch } from '../../src/board/qemumcu.js';
import { BOARDS_DIR, readBoardFile } from '../../src/board/registry.js';
import { HilError } from '../../src/util/errors.js';
import { repoRoot } from '../../src/util/paths.js';

const REPO_ROOT = repoRoot();
const run = promisify(execFile);

/** The QEMU-only Cortex-M boards with DSP kernels, by board name. */
export const MCU_BOARDS = ['m4', 'm7', 'm33'] as const;
export type McuBoard = (typeof MCU_BOARDS)[number];
export type McuImage = 'selftest' | 'bench' | 'enginetest';

export async function buildMcuBenchImages(): Promise<void> {
  mkdirSync(join(REPO_ROOT, 'firmware', 'build'), { recursive: true });
  try {
    await run('flock', [join(REPO_ROOT, 'firmware', 'build', '.make.lock'), 'make', '-s', '-C', join(REPO_ROOT, 'firmware', 'bench'), '-f', 'mps2.mk'], { maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const last = (err.stderr ?? '').trim().split('\n').pop() || err.message;
    throw new HilError(`building firmware/bench/mps2.mk failed: ${last}`, 'run `make -C firmware/bench -f mps2.mk` to see the whole output');
  }
}

/** The board's QEMU backend and its port (firmware.port). */
export function mcuBoard(board: string): { qemu: QemuBackend; port: string; clockHz: number } {
  const path = join(BOARDS_DIR, `${board}.json`);
  const file = readBoardFile(path);
  const launch = parseQemuMcuLaunch(file, path);
  return { qemu: launch.qemu, port: file.firmware.port, clockHz: launch.cpu.clock_hz };
}

export async function runMcuBenchImage(board: string, image: McuImage, timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  const { qemu, port } = mcuBoard(board);
  return runToExit(qemuSemihostingCommand(qemu, join(REPO_ROOT, 'firmware', 'build', 'bench', port, `${image}.elf`), REPO_ROOT), timeoutMs);
}
