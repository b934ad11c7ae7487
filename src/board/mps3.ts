/**
 * The Corstone-300 on a real MPS3 board with the AN547 FPGA image. Flashing is the board's own mechanism:
 * its configuration controller (MCC) exposes the SD card as a USB mass-storage volume and, at reset,
 * loads the files that `MB/<HBI>/AN547/images.txt` lists to the addresses given there. So flash() copies
 * the firmware and the model into SOFTWARE/ (8.3 names), writes images.txt, and resets the board through
 * the MCC's console (`REBOOT`) when one is configured, or asks for the reset button. UART0 is a USB
 * serial port. Latency is the DWT cycle counter: `measured`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import { u32 } from './schema.js';

export const MPS3_BACKEND_SCHEMA = Type.Object(
  {
    kind: Type.Literal('mps3'),
    /** UART0's serial device; HIL_MPS3_SERIAL overrides it. */
    serial: Type.Optional(Type.String({ minLength: 1 })),
    /** The mounted MCC volume (its root holds SOFTWARE/ and MB/); HIL_MPS3_VOLUME overrides it. */
    volume: Type.Optional(Type.String({ minLength: 1 })),
    /** images.txt relative to the volume: the board revision and FPGA image are in its path. */
    images_txt: Type.String({ pattern: '^[^/].*images\\.txt$' }),
    /** Where the MCC loads the firmware and the model blob. */
    image_address: u32(),
    model_address: u32(),
    /** The MCC's console, to reset the board after flashing; HIL_MPS3_MCC overrides it. */
    mcc_serial: Type.Optional(Type.String({ minLength: 1 })),
    reset_command: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type Mps3Backend = Static<typeof MPS3_BACKEND_SCHEMA>;

/** The MCC reads 8.3 file names. */
export const MPS3_IMAGE_FILE = 'HILFW.ELF';
export const MPS3_MODEL_FILE = 'HILMODEL.BIN';

/** The paths the environment may override (so one board file serves every desk). */
export function mps3Paths(m: Mps3Backend, env: NodeJS.ProcessEnv = process.env): { serial?: string; volume?: string; mcc?: string } {
  return { serial: env.HIL_MPS3_SERIAL ?? m.serial, volume: env.HIL_MPS3_VOLUME ?? m.volume, mcc: env.HIL_MPS3_MCC ?? m.mcc_serial };
}

const hex8 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** images.txt for the firmware and, if given, the model blob (CRLF: the MCC's files are DOS text). */
export function imagesTxt(m: Mps3Backend, withModel: boolean): string {
  const images: [string, number][] = [[MPS3_IMAGE_FILE, m.image_address]];
  if (withModel) images.push([MPS3_MODEL_FILE, m.model_address]);
  const lines = [
    'TITLE: Arm MPS3 FPGA prototyping board Images Configuration File',
    '; Written by hil (boards/corstone-300.json, src/board/mps3.ts): the hil firmware and its model partition.',
    '',
    '[IMAGES]',
    `TOTALIMAGES: ${images.length}                     ;Number of Images (Max: 32)`,
  ];
  images.forEach(([file, address], i) => {
    lines.push('', `IMAGE${i}UPDATE: AUTO`, `IMAGE${i}ADDRESS: ${hex8(address)}`, `IMAGE${i}FILE: \\SOFTWARE\\${file}`);
  });
  return lines.join('\r\n') + '\r\n';
}

export interface Mps3FlashPlan {
  copies: { from: string; to: string }[];
  imagesTxtPath: string;
  imagesTxt: string;
}

/** What flash() writes to the volume: pure, so tests can check it without a board. */
export function mps3FlashPlan(m: Mps3Backend, volume: string, image: string, modelPath: string | null): Mps3FlashPlan {
  const join = (...p: string[]) => p.join('/').replace(/\/+/g, '/');
  const copies = [{ from: image, to: join(volume, 'SOFTWARE', MPS3_IMAGE_FILE) }];
  if (modelPath) copies.push({ from: modelPath, to: join(volume, 'SOFTWARE', MPS3_MODEL_FILE) });
  return { copies, imagesTxtPath: join(volume, m.images_txt), imagesTxt: imagesTxt(m, modelPath !== null) };
}

/** The bytes the MCC console gets to reset the board. */
export function mccResetBytes(m: Mps3Backend): Buffer {
  return Buffer.from(`\r\n${m.reset_command}\r\n`, 'latin1');
}

export function mps3Unavailable(m: Mps3Backend, exists: (p: string) => boolean, env: NodeJS.ProcessEnv = process.env): string | null {
  const p = mps3Paths(m, env);
  if (!p.serial) return 'no UART0 serial device configured (set HIL_MPS3_SERIAL or launch.backends[].serial)';
  if (!p.volume) return 'no MCC volume configured (set HIL_MPS3_VOLUME or launch.backends[].volume)';
  if (!exists(p.serial)) return `serial device ${p.serial} does not exist`;
  if (!exists(`${p.volume}/${m.images_txt}`)) return `${p.volume}/${m.images_txt} does not exist (is the MPS3 volume mounted?)`;
  return null;
}

export function requireMps3Paths(m: Mps3Backend): { serial: string; volume: string; mcc?: string } {
  const p = mps3Paths(m);
  if (!p.serial || !p.volume) throw new HilError('the mps3 backend needs HIL_MPS3_SERIAL and HIL_MPS3_VOLUME', 'see docs/corstone-300.md');
  return { serial: p.serial, volume: p.volume, mcc: p.mcc };
}
