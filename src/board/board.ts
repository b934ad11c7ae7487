/**
 * A board: something that runs the firmware and gives a session over its line. Kept narrow so that a
 * new backend (QEMU, an FVP, a real MPS3) only implements flashing and starting.
 */
import type { Session } from '../link/session.js';
import type { LinkLog } from '../link/transport.js';
import type { AcceleratorParams, BoardFile, LatencyKind } from './schema.js';

export interface BoardCapabilities {
  latency: { kind: LatencyKind; unit: 'cycles' | 'instructions' };
  /** Label for the GET_STATS memory figures in reports, e.g. "sim-native". */
  memoryLabel: string;
  /** The cost model CONFIG sends, and the clock that turns modelled cycles into seconds. */
  accelerator: AcceleratorParams;
  /** flash() can place a model in the partition before boot (no upload over the link). */
  placesModel: boolean;
}

export interface Board {
  readonly name: string;
  /** The parsed board file. */
  readonly file: BoardFile;
  readonly capabilities: BoardCapabilities;
  /** Which backend runs the firmware: 'process' (the sim), 'serial', or one of corstone-300's fvp, qemu, mps3. */
  readonly backend?: string;
  /**
   * Puts a model blob where the firmware will find it at boot: 'placed' when the board's flasher did,
   * 'upload' when the session must send it over the link (e.g. the board is already running).
   */
  flash(blob: Uint8Array): Promise<'placed' | 'upload'>;
  /**
   * Only boards whose loader can place data in memory before boot (corstone-300 under QEMU): stages
   * `image` for the device's audio partition, read by RUN_PRELOADED. Call after flash(), before open().
   */
  preloadAudio?(image: Uint8Array): Promise<void>;
  /** Starts the board if needed and opens a session on its line (banner read, binary mode). */
  open(): Promise<Session>;
  /** Closes any session, stops what open() started and removes temporary files. Safe to call twice. */
  close(): Promise<void>;
}

export function capabilitiesOf(file: BoardFile, placesModel: boolean): BoardCapabilities {
  return { latency: file.latency, memoryLabel: file.memory_label, accelerator: file.accelerator, placesModel };
}

export interface LaunchOptions {
  /** The link log: the line, its banner and console text, frames dropped, retransmissions. */
  log?: LinkLog;
  /** The board log: every driver action (processes started and stopped, flasher commands, state changes); defaults to `log`. */
  boardLog?: LinkLog;
  /** `--port`: the serial port of a `serial` board, overriding its board file. */
  port?: string;
}
/** Makes a Board from a validated board file (`path` for messages); src/board/registry.ts picks one by `launch.kind`. */
export type Launcher = (file: BoardFile, path: string, opts: LaunchOptions) => Board;
