/**
 * The Corstone-300 on Arm's Fixed Virtual Platform (`FVP_Corstone_SSE-300_Ethos-U55`), for users who have
 * it: the command line and where its UART is. UART0 is the FVP's telnet terminal 0, in raw mode (telnet
 * negotiation bytes would corrupt the binary frames) and without starting an xterm; the FVP announces its
 * TCP port on stdout. The model blob goes into the partition with `--data`.
 *
 * An FVP is a functional model: its DWT cycle counter counts instructions, not silicon cycles, so the
 * board relabels the firmware's `measured` latency as `emulated` (src/board/corstone300.ts).
 */
import type { EmulatorCommand } from './emulator.js';
import type { ImageAndModel } from './qemu.js';

export interface FvpBackend {
  kind: 'fvp';
  executable: string;
  /** The CPU's instance name for `-a` and `--data`. */
  cpu_instance: string;
  /** `-C name=value` parameters (the NPU's MAC count comes from the board file's accelerator). */
  params: string[];
  extra_args?: string[];
}

export const FVP_BACKEND_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'executable', 'cpu_instance', 'params'],
  properties: {
    kind: { const: 'fvp' },
    executable: { type: 'string', minLength: 1 },
    cpu_instance: { type: 'string', minLength: 1 },
    params: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9_.\\-]+=.*$' } },
    extra_args: { type: 'array', items: { type: 'string' } },
  },
} as const;

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
