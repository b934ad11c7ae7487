/**
 * `launch.kind: "qemu-mcu"`: a Cortex-M board that exists here only as a QEMU machine (mps2-an386 with a
 * Cortex-M4, mps2-an500 with a Cortex-M7, mps2-an505 with a Cortex-M33 in Secure state). It runs like the Corstone-300's QEMU backend: the same
 * command line (src/board/qemu.ts), the model placed by QEMU's loader device, a wake-only CMSDK UART on a
 * pty, and latency as an exact, repeatable instruction count under `-icount shift=0`. So the board
 * reuses Corstone300Board with a single qemu backend, and its session holds the device to the board
 * file and the ELF in the same way (partition, arena and clock in HELLO; memory figures in GET_STATS).
 *
 * The launch section is the corstone-300 one with `qemu` (one backend) in place of `backends`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import type { Board, LaunchOptions } from './board.js';
import { Corstone300Board, type Corstone300Launch } from './corstone300.js';
import { findOnPath } from './emulator.js';
import { QEMU_BACKEND_SCHEMA } from './qemu.js';
import { u32, validateSection, type BoardFile } from './schema.js';

const MemorySchema = Type.Object(
  { name: Type.String({ minLength: 1 }), base: u32(), bytes: Type.Integer({ minimum: 1 }), use: Type.String() },
  { additionalProperties: false },
);

export const QEMU_MCU_LAUNCH_SCHEMA = Type.Object(
  {
    kind: Type.Literal('qemu-mcu'),
    cpu: Type.Object({ name: Type.String({ minLength: 1 }), clock_hz: u32({ minimum: 1 }) }, { additionalProperties: false }),
    /** The machine's memory map, for reference and for the checks below. */
    memories: Type.Array(MemorySchema, { minItems: 1 }),
    /** Where the firmware image lives (its "flash"). */
    image_memory: Type.String({ minLength: 1 }),
    /** Must match the port's linker script. */
    model_partition: Type.Object({ memory: Type.String({ minLength: 1 }), base: u32(), bytes: u32({ minimum: 1 }) }, { additionalProperties: false }),
    arena_bytes: u32({ minimum: 1 }),
    stack_bytes: u32({ minimum: 1 }),
    qemu: QEMU_BACKEND_SCHEMA,
  },
  { additionalProperties: false },
);
export type QemuMcuLaunch = Static<typeof QEMU_MCU_LAUNCH_SCHEMA>;

export function parseQemuMcuLaunch(file: BoardFile, path: string): QemuMcuLaunch {
  const launch = validateSection(QEMU_MCU_LAUNCH_SCHEMA, file.launch, path, 'launch');
  const mem = (name: string, field: string) => {
    const m = launch.memories.find((x) => x.name === name);
    if (!m) throw new HilError(`${path}: launch.${field} names memory "${name}", which launch.memories does not list`);
    return m;
  };
  mem(launch.image_memory, 'image_memory');
  const region = mem(launch.model_partition.memory, 'model_partition.memory');
  const p = launch.model_partition;
  if (p.base < region.base || p.base + p.bytes > region.base + region.bytes) {
    throw new HilError(`${path}: launch.model_partition does not fit in ${region.name}`, 'compare with the machine\'s memory map (docs/boards.md)');
  }
  return launch;
}

export function createQemuMcuBoard(file: BoardFile, path: string, opts: LaunchOptions): Board {
  if (opts.port) throw new HilError(`--port ${opts.port}: board ${file.name} is launch.kind qemu-mcu, not serial`, 'leave --port out');
  const launch = parseQemuMcuLaunch(file, path);
  if (!findOnPath(launch.qemu.executable)) {
    throw new HilError(`board ${file.name} needs ${launch.qemu.executable}, which is not on PATH`, 'install qemu-system-arm (`bash scripts/setup.sh`)');
  }
  const { qemu, ...rest } = launch;
  // Corstone300Board only reads the memory map, the partition, arena and clock, and its one backend.
  const asCorstone = { ...rest, kind: 'corstone-300', backends: [qemu] } as unknown as Corstone300Launch;
  return new Corstone300Board(file, asCorstone, qemu, opts.log, opts.boardLog);
}

/** `hil board list`: QEMU is the only backend; available when its executable is on PATH. */
export function describeQemuMcu(file: BoardFile, path: string): { backend: string; available: boolean; detail: string } {
  const launch = parseQemuMcuLaunch(file, path);
  const exe = findOnPath(launch.qemu.executable);
  return exe ? { backend: 'qemu', available: true, detail: `${exe} -M ${launch.qemu.machine}` } : { backend: 'qemu', available: false, detail: `${launch.qemu.executable} is not on PATH` };
}
