/**
 * The Corstone-300 on Arm's Fixed Virtual Platform (`FVP_Corstone_SSE-300_Ethos-U55`), for users who have
 * it: the command line and where its UART is. UART0 is the FVP's telnet terminal 0, in raw mode (telnet
 * negotiation bytes would corrupt the binary frames) and without starting an xterm; the FVP announces its
 * TCP port on stdout. The model blob goes into the partition with `--data`.
 *
 * An FVP is a functional model: its DWT cycle counter counts instructions, not silicon cycles, so the
 * board relabels the firmware's `measured` latency as `emulated` (src/board/corstone300.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { EmulatorCommand } from './emulator.js';
import type { ImageAndModel } from './qemu.js';

export const FVP_BACKEND_SCHEMA = Type.Object(
  {
    kind: Type.Literal('fvp'),
    executable: Type.String({ minLength: 1 }),
    /** The CPU's instance name for `-a` and `--data`. */
    cpu_instance: Type.String({ minLength: 1 }),
    /** `-C name=value` parameters (the NPU's MAC count comes from the board file's accelerator). */
    params: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.\\-]+=.*$' })),
    extra_args: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type FvpBackend = Static<typeof FVP_BACKEND_SCHEMA>;

/** The Ethos-U55 configurations the FVP models (`ethosu.num_macs`). */
export const FVP_NUM_MACS = [32, 64, 128, 256] as const;

export function fvpCommand(f: FvpBackend, what: ImageAndModel, numMacs: number): EmulatorCommand {
  const args: string[] = [];
  for (const p of f.params) args.push('-C', p);
  args.push('-C', `ethosu.num_macs=${numMacs}`);
  args.push('-a', `${f.cpu_instance}=${what.image}`);
  if (what.model) args.push('--data', `${f.cpu_instance}=${what.model.path}@0x${what.model.address.toString(16)}`);
  args.push(...(f.extra_args ?? []));
  return { command: f.executable, args };
}

/** The FVP's announcement of UART0's terminal: `telnetterminal0: Listening for serial connection on port 5000`. */
export const FVP_PORT_LINE = /telnetterminal0: Listening for serial connection on port (\d+)/;
