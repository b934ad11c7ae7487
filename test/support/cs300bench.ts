/**
 * The Corstone-300's semihosting images (firmware/bench/): the MVE-vs-scalar kernel self-test, the engine
 * vectors on the M55, and the kernel benchmark. Built with the port's flags and memory map, and run under
 * the QEMU backend of boards/corstone-300.json, so they measure exactly what the firmware runs on.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseLaunch } from '../../src/board/corstone300.js';
import { runToExit } from '../../src/board/emulator.js';
import { qemuSemihostingCommand, type QemuBackend } from '../../src/board/qemu.js';
import { BOARDS_DIR, readBoardFile } from '../../src/board/registry.js';
import { HilError } from '../../src/util/errors.js';
import { repoRoot } from '../../src/util/paths.js';

const REPO_ROOT = repoRoot();

const run = promisify(execFile);

export const BENCH_IMAGES = {
  selftest: 'firmware/build/bench/selftest.elf',
  bench: 'firmware/build/bench/bench.elf',
  engineMve: 'firmware/build/bench/enginetest-mve.elf',
  engineScalar: 'firmware/build/bench/enginetest-scalar.elf',
} as const;
export type BenchImage = keyof typeof BENCH_IMAGES;

/** Builds every image (make is incremental), serialised with the firmware builds' lock. */
export async function buildBenchImages(): Promise<void> {
  mkdirSync(join(REPO_ROOT, 'firmware', 'build'), { recursive: true }); // for the lock file, on a fresh clone
  try {
    await run('flock', [join(REPO_ROOT, 'firmware', 'build', '.make.lock'), 'make', '-s', '-C', join(REPO_ROOT, 'firmware', 'bench')], { maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const last = (err.stderr ?? '').trim().split('\n').pop() || err.message;
    throw new HilError(`building firmware/bench failed: ${last}`, 'run `make -C firmware/bench` to see the whole output');
  }
}

/** The QEMU backend of boards/corstone-300.json. */
export function corstoneQemu(): QemuBackend {
  const path = join(BOARDS_DIR, 'corstone-300.json');
  const q = parseLaunch(readBoardFile(path), path).backends.find((b): b is QemuBackend => b.kind === 'qemu');
  if (!q) throw new HilError(`${path} has no qemu backend`);
  return q;
}

/** Runs one image under QEMU from the repository root (the engine test reads test/vectors/ by semihosting). */
export async function runBenchImage(image: BenchImage, timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  return runToExit(qemuSemihostingCommand(corstoneQemu(), join(REPO_ROOT, BENCH_IMAGES[image]), REPO_ROOT), timeoutMs);
}
