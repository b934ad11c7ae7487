/**
 * The Corstone-300 under QEMU (`-M mps3-an547 -cpu cortex-m55`): the command line, and where its UART is.
 *
 * Under `-icount shift=0,align=off,sleep=on` every instruction takes 1 ns of virtual time, so the
 * firmware's system-counter latency is an exact, repeatable instruction count (`emulated`), and the core
 * sleeps in WFI (host CPU idle) while it waits for the host. The UART is a pty chardev; the model blob is
 * "flashed" by QEMU's generic loader device into the partition before the core starts.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { EmulatorCommand } from './emulator.js';

export const QEMU_BACKEND_SCHEMA = Type.Object(
  {
    kind: Type.Literal('qemu'),
    executable: Type.String({ minLength: 1 }),
    machine: Type.String({ minLength: 1 }),
    cpu: Type.String({ minLength: 1 }),
    /** `-m`: mps3-an547 insists on its full 2 GiB of DDR. */
    memory: Type.String({ pattern: '^[0-9]+[KMG]?$' }),
    /** `-icount` options. */
    icount: Type.String({ minLength: 1 }),
    extra_args: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type QemuBackend = Static<typeof QEMU_BACKEND_SCHEMA>;

export interface ImageAndModel {
  /** The firmware ELF. */
  image: string;
  /** A model blob to place in the partition before the core starts, and where. */
  model?: { path: string; address: number } | null;
  /** Clips to place in the audio partition before the core starts (RUN_PRELOADED), and where. */
  audio?: { path: string; address: number } | null;
}

const hex = (n: number) => `0x${n.toString(16)}`;

export function qemuCommand(q: QemuBackend, what: ImageAndModel): EmulatorCommand {
  const args = [
    '-M', q.machine,
    '-cpu', q.cpu,
    '-m', q.memory,
    '-icount', q.icount,
    '-display', 'none',
    '-monitor', 'none',
    '-chardev', 'pty,id=uart0',
    '-serial', 'chardev:uart0',
    '-kernel', what.image,
  ];
  if (what.model) args.push('-device', `loader,file=${what.model.path},addr=${hex(what.model.address)},force-raw=on`);
  if (what.audio) args.push('-device', `loader,file=${what.audio.path},addr=${hex(what.audio.address)},force-raw=on`);
  args.push(...(q.extra_args ?? []));
  return { command: q.executable, args };
}

/** QEMU's announcement of the pty: `char device redirected to /dev/pts/3 (label uart0)`. */
export const QEMU_PTY_LINE = /char device redirected to (\S+) \(label uart0\)/;

/** A self-test or benchmark image that talks semihosting (no UART) and exits QEMU with its status. */
export function qemuSemihostingCommand(q: QemuBackend, image: string, cwd?: string): EmulatorCommand {
  return {
    command: q.executable,
    args: ['-M', q.machine, '-cpu', q.cpu, '-m', q.memory, '-icount', q.icount, '-display', 'none', '-monitor', 'none', '-serial', 'none', '-semihosting-config', 'enable=on,target=native', '-kernel', image],
    cwd,
  };
}
