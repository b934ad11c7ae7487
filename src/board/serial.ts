/**
 * The `serial` board: real silicon running hil's firmware, reached over a serial port (a USB CDC-ACM or
 * USB-UART of a development kit). hil does not start it; it flashes it through the user's own tool (a
 * command template, src/board/flasher.ts), resets it, and talks to it on its port.
 *
 * - The port is a path, a /dev/serial/by-id/ link, or a USB id VID:PID[:serial]; `--port` overrides the
 *   board file; the baud rate is the board file's `launch.baud` (default 115200).
 * - The port is held exclusively: a lock file naming this hil (a second hil is refused in one line naming
 *   the holder), and serialport's flock.
 * - The banner must name this board and the firmware build just built, before anything is sent: a wrong
 *   board or a stale image on the port is refused, never measured. The HELLO reply is checked again by
 *   every run (src/run/identity.ts).
 *
 * docs/boards.md explains the board file and how to port the firmware to a new board.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import type { Lock } from '../util/lock.js';
import { Session } from '../link/session.js';
import { openSerialTransport, type LinkLog, type StreamTransport } from '../link/transport.js';
import { capabilitiesOf, type Board, type BoardCapabilities, type LaunchOptions } from './board.js';
import { CommandFlasher, FileFlasher } from './flasher.js';
import { makeFirmware, readBuildInfo } from './firmware.js';
import { WrongBoardError, WrongFirmwareError } from './identity.js';
import { BoardMachine, type BoardState } from './machine.js';
import { lockPort, parsePortSpec, portBusyError, resolvePort, type PortInfo } from './port.js';
import { u32, validateSection, type BoardFile } from './schema.js';

const Argv = Type.Array(Type.String({ minLength: 1 }), { minItems: 1 });

export const SERIAL_LAUNCH_SCHEMA = Type.Object(
  {
    kind: Type.Literal('serial'),
    /** The core, for listings and reports ("cortex-m7"). */
    cpu: Type.Optional(Type.String({ minLength: 1 })),
    /** A path, a /dev/serial/by-id/ link, or a USB id VID:PID[:serial]; `--port` overrides it. */
    port: Type.Optional(Type.String({ minLength: 1 })),
    baud: Type.Optional(u32({ minimum: 1 })),
    /** How to flash the firmware (and the model): argv templates, docs/boards.md "Flashing". */
    flash: Type.Optional(
      Type.Object(
        {
          command: Argv,
          reset: Type.Optional(Argv),
          probe_serial: Type.Optional(Type.String({ minLength: 1 })),
          objcopy: Type.Optional(Type.String({ minLength: 1 })),
          timeout_ms: Type.Optional(u32({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Where the port's linker script puts the model partition, for {model_address}. */
    model_partition: Type.Optional(Type.Object({ base: u32(), bytes: u32({ minimum: 1 }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type SerialLaunch = Static<typeof SERIAL_LAUNCH_SCHEMA>;

export const DEFAULT_BAUD = 115200;

export function parseSerialLaunch(file: BoardFile, path: string): SerialLaunch {
  const launch = validateSection(SERIAL_LAUNCH_SCHEMA, file.launch, path, 'launch');
  if (launch.port) parsePortSpec(launch.port);
  return launch;
}

export function createSerialBoard(file: BoardFile, path: string, opts: LaunchOptions): Board {
  return new SerialBoard(file, parseSerialLaunch(file, path), { port: opts.port, log: opts.log, boardLog: opts.boardLog });
}

/** Which port a board would use here, for `hil board list`: never opens or locks it. */
export async function describeSerial(file: BoardFile, path: string, list?: () => Promise<PortInfo[]>): Promise<{ backend: string; available: boolean; detail: string }> {
  const launch = parseSerialLaunch(file, path);
  if (!launch.port) return { backend: 'serial', available: false, detail: 'no launch.port: give --port' };
  try {
    const device = await resolvePort(parsePortSpec(launch.port), list);
    return { backend: 'serial', available: true, detail: `${device} at ${launch.baud ?? DEFAULT_BAUD} baud` };
  } catch (e) {
    const why = e instanceof HilError ? e.message : String(e);
    return { backend: 'serial', available: false, detail: /does not exist|no serial port/.test(why) ? `not plugged in: ${launch.port}` : why };
  }
}

export class SerialBoard implements Board {
  readonly name: string;
  readonly capabilities: BoardCapabilities;
  readonly backend = 'serial';
  private readonly machine: BoardMachine;
  private readonly flasher: CommandFlasher | null;
  private readonly log: LinkLog;
  private readonly boardLog: LinkLog;
  private dir: string | null = null;
  private modelPath: string | null = null;
  private lock: Lock | null = null;
  private device: string | null = null;
  private session: Session | null = null;

  constructor(
    readonly file: BoardFile,
    readonly launch: SerialLaunch,
    private readonly opts: { port?: string; log?: LinkLog; boardLog?: LinkLog } = {},
  ) {
    this.name = file.name;
    this.log = opts.log ?? (() => {});
    this.boardLog = opts.boardLog ?? this.log;
    this.machine = new BoardMachine(this.name, this.boardLog);
    const f = launch.flash;
    this.flasher = f ? new CommandFlasher(this.name, { ...f, model_address: launch.model_partition?.base }, this.boardLog) : null;
    this.capabilities = capabilitiesOf(file, this.flasher?.placesModel ?? false);
  }

  get state(): BoardState {
    return this.machine.state;
  }

  /** The port as given: --port, else the board file's. */
  get portSpec(): string | undefined {
    return this.opts.port ?? this.launch.port;
  }

  private tempDir(): string {
    if (!this.dir) this.dir = mkdtempSync(join(tmpdir(), 'hil-serial-'));
    return this.dir;
  }

  async flash(blob: Uint8Array): Promise<'placed' | 'upload'> {
    // The flash command places the model only if its template takes {model}; else it travels over the link.
    if (this.machine.started || !this.flasher?.placesModel) return 'upload';
    const limit = this.launch.model_partition?.bytes;
    if (limit !== undefined && blob.length > limit) {
      throw new HilError(`the model is ${blob.length} bytes, board ${this.name}'s partition holds ${limit}`, 'compress the model further');
    }
    this.modelPath = join(this.tempDir(), 'model.hilm');
    new FileFlasher(`board ${this.name}: flasher`, this.boardLog).flash(this.modelPath, blob);
    this.machine.flashed({ size: blob.length, crc32: crc32(blob) }, 'model staged for the flash command');
    return 'placed';
  }

  async open(): Promise<Session> {
    if (this.session) throw new HilError(`board ${this.name} already has an open session`, 'close it first');
    const spec = this.portSpec;
    if (!spec) throw new HilError(`board ${this.name} has no serial port`, 'give --port <path|/dev/serial/by-id/...|VID:PID[:serial]> or set launch.port in the board file');
    // The port first: flashing a board that another hil is measuring would ruin both runs.
    if (!this.lock) {
      this.device = await resolvePort(parsePortSpec(spec));
      this.lock = lockPort(this.device);
      this.machine.note(`holds ${this.device} (lock file ${this.lock.path})`);
    }
    const image = await makeFirmware(this.file);
    const buildId = readBuildInfo(this.file).build_id;
    if (!this.machine.started) await this.start(image);
    let transport: StreamTransport;
    try {
      transport = await openSerialTransport(this.device!, this.log, { baudRate: this.launch.baud ?? DEFAULT_BAUD, lock: true });
    } catch (e) {
      const msg = (e as Error).message;
      throw /Cannot lock port/.test(msg) ? portBusyError(this.device!, 'its flock is taken') : e;
    }
    try {
      const banner = await transport.readBanner({ bannerMs: this.file.link.banner_ms, startMs: this.file.link.start_ms });
      const board = banner.fields.board ?? '';
      const build = banner.fields.build ?? '';
      if (board !== this.name) throw new WrongBoardError(this.name, board || '(none in its banner)');
      if (build !== buildId) throw new WrongFirmwareError(this.name, build || '(none in its banner)', buildId);
      this.machine.note(`banner names board ${board}, build ${build}: as expected`);
      const session = new Session(transport, banner, {
        link: this.file.link,
        placed: this.machine.takePlaced(),
        log: this.log,
        onClose: async () => {
          this.session = null;
          if (this.machine.state === 'session') this.machine.to('running', 'session closed');
        },
      });
      this.session = session;
      this.machine.to('session', `session on ${this.device} at ${this.launch.baud ?? DEFAULT_BAUD} baud`);
      return session;
    } catch (e) {
      await transport.close();
      throw e;
    }
  }

  /** Flashes the firmware (and the staged model) and resets the board, or takes it as already running hil's firmware. */
  private async start(image: string): Promise<void> {
    if (!this.flasher) {
      this.machine.to('running', 'no launch.flash: taking the board as already running hil firmware (the banner is checked)');
      return;
    }
    const model = this.machine.state === 'flashed' ? this.modelPath : null;
    await this.flasher.flash(image, model, this.tempDir(), this.device ?? undefined);
    this.machine.to('running', `flashed ${image}${model ? ' and the model' : ''}, reset`);
  }

  async close(): Promise<void> {
    if (this.session) await this.session.close();
    if (this.machine.state !== 'off') this.machine.to('off', 'closed');
    this.lock?.release();
    this.lock = null;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
    this.modelPath = null;
  }
}
