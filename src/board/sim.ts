/**
 * The `sim` board: the firmware's native host port (firmware/ports/host) as a local process serving a
 * pseudo-terminal. Its "flash" is a file the process maps as the model partition, so flash() before
 * open() places the blob with no upload. The process is supervised by the process driver
 * (src/board/process.ts) and the board's life is the state machine of src/board/machine.ts. Latency is modelled (docs/cost-model.md), and memory figures
 * describe the x86-64 executable ("sim-native"), not a microcontroller.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import { onInterrupt } from '../util/interrupt.js';
import { alive } from '../util/lock.js';
import { Session } from '../link/session.js';
import { openSerialTransport, type LinkLog } from '../link/transport.js';
import { capabilitiesOf, type Board, type BoardCapabilities, type LaunchOptions } from './board.js';
import { FileFlasher } from './flasher.js';
import { makeFirmware } from './firmware.js';
import { BoardMachine, type BoardState } from './machine.js';
import { ProcessDriver } from './process.js';
import { u32, validateSection, type BoardFile } from './schema.js';

/** The sim launcher's own fields in the board file's `launch` section. */
const SIM_LAUNCH_SCHEMA = Type.Object(
  {
    kind: Type.Literal('sim'),
    partition_bytes: Type.Optional(u32({ minimum: 1 })),
    arena_bytes: Type.Optional(u32({ minimum: 1 })),
    stack_bytes: Type.Optional(u32({ minimum: 65536 })),
  },
  { additionalProperties: false },
);
export type SimLaunch = Static<typeof SIM_LAUNCH_SCHEMA>;

/** How long a closed line waits for the process's exit status, to say how it died. */
const DEATH_REPORT_MS = 1000;

/** Temporary directories are hil-sim-<pid of hil>-<random>: the pid tells a later run whether its owner is gone. */
const TMP_PREFIX = 'hil-sim-';

/**
 * Removes the temporary directories of hil processes that died without cleaning up (kill -9 runs no
 * handler), and stops the sim each one still serves: its pid is in sim.pid, and it is killed only if
 * that process's command line names the directory (the pid may have been reused).
 */
export function sweepStaleSimDirs(root = tmpdir()): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^hil-sim-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    const dir = join(root, name);
    try {
      const simPid = Number(readFileSync(join(dir, 'sim.pid'), 'utf8'));
      if (readFileSync(`/proc/${simPid}/cmdline`, 'utf8').includes(dir)) process.kill(simPid, 'SIGKILL');
    } catch {
      // no pid file, or the sim is gone already
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export function createSimBoard(file: BoardFile, path: string, opts: LaunchOptions): Board {
  return new SimBoard(file, validateSection(SIM_LAUNCH_SCHEMA, file.launch, path, 'launch'), opts.log, opts.boardLog);
}

export class SimBoard implements Board {
  readonly name: string;
  readonly capabilities: BoardCapabilities;
  readonly backend = 'process';
  private dir: string | null = null;
  private readonly machine: BoardMachine;
  private readonly proc: ProcessDriver;
  private readonly flasher: FileFlasher;
  private ptyPath: string | null = null;
  private session: Session | null = null;

  constructor(
    readonly file: BoardFile,
    private readonly launch: SimLaunch,
    private readonly log: LinkLog = () => {},
    boardLog: LinkLog = log,
  ) {
    this.name = file.name;
    this.capabilities = capabilitiesOf(file, true);
    this.machine = new BoardMachine(this.name, boardLog);
    this.flasher = new FileFlasher(`board ${this.name}: flasher`, boardLog);
    this.proc = new ProcessDriver(`board ${this.name}: the sim process`, {
      log: boardLog,
      hint: 'rerun the command; if it recurs, rebuild with `hil firmware build --board sim`',
      readyWhat: 'where its pty is ("PTY <path>")',
      tailFrom: 'stderr',
      tailLines: 1,
      stderrLevel: 'warn',
    });
    this.proc.onUnexpectedExit = (why) => {
      this.ptyPath = null;
      if (this.machine.started) this.machine.to('off', why.message);
      this.session?.client.fail(why);
    };
  }

  private forgetCleanup: () => void = () => {};

  /** The board's state (tests and logs). */
  get state(): BoardState {
    return this.machine.state;
  }

  private get flashPath(): string {
    if (!this.dir) {
      sweepStaleSimDirs();
      this.dir = mkdtempSync(join(tmpdir(), `${TMP_PREFIX}${process.pid}-`));
      // close() is the normal path; these cover process.exit() and SIGINT/SIGTERM, which skip it.
      const dir = this.dir;
      const cleanup = () => {
        this.proc.kill();
        rmSync(dir, { recursive: true, force: true });
      };
      process.once('exit', cleanup);
      const forget = onInterrupt(cleanup);
      this.forgetCleanup = () => {
        process.removeListener('exit', cleanup);
        forget();
      };
    }
    return join(this.dir, 'flash.bin');
  }

  /** The process id of the running sim, if any (tests use it to kill the board). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  async flash(blob: Uint8Array): Promise<'placed' | 'upload'> {
    // A running process has the file mapped already; from now on the model travels over the link.
    if (this.machine.started) return 'upload';
    const limit = this.launch.partition_bytes ?? 4 << 20;
    if (blob.length > limit) {
      throw new HilError(`the model is ${blob.length} bytes, board ${this.name}'s partition holds ${limit}`, 'raise launch.partition_bytes in the board file');
    }
    this.flasher.flash(this.flashPath, blob);
    this.machine.flashed({ size: blob.length, crc32: crc32(blob) }, `model placed in ${this.flashPath}`);
    return 'placed';
  }

  async open(): Promise<Session> {
    if (this.session) throw new HilError(`board ${this.name} already has an open session`, 'close it first');
    if (!this.machine.started) await this.start();
    const transport = await openSerialTransport(this.ptyPath!, this.log);
    try {
      const banner = await transport.readBanner({ bannerMs: this.file.link.banner_ms, startMs: this.file.link.start_ms });
      const session = new Session(transport, banner, {
        link: this.file.link,
        placed: this.machine.takePlaced(),
        log: this.log,
        onClose: async () => {
          this.session = null;
          if (this.machine.state === 'session') this.machine.to('running', 'session closed');
        },
        explainLineClosed: () => this.proc.exitReport(DEATH_REPORT_MS),
      });
      this.session = session;
      this.machine.to('session', `session on ${this.ptyPath}`);
      return session;
    } catch (e) {
      await transport.close();
      throw (await this.proc.exitReport(0)) ?? e;
    }
  }

  private async start(): Promise<void> {
    const image = await makeFirmware(this.file);
    if (this.machine.state === 'off') writeFileSync(this.flashPath, new Uint8Array(0));
    const args = ['--flash', this.flashPath, '--board', this.name, '--clock-hz', String(this.file.accelerator.clock_hz)];
    if (this.launch.partition_bytes) args.push('--partition-bytes', String(this.launch.partition_bytes));
    if (this.launch.arena_bytes) args.push('--arena-bytes', String(this.launch.arena_bytes));
    if (this.launch.stack_bytes) args.push('--stack-bytes', String(this.launch.stack_bytes));
    try {
      this.ptyPath = (await this.proc.start({ command: image, args }, /^PTY (\S+)$/, this.file.link.start_ms))[1]!;
    } catch (e) {
      await this.proc.stop();
      throw e;
    }
    if (this.proc.pid) writeFileSync(join(this.dir!, 'sim.pid'), String(this.proc.pid));
    this.machine.to('running', `pid ${this.proc.pid} serves ${this.ptyPath}`);
  }

  async close(): Promise<void> {
    if (this.session) await this.session.close();
    await this.proc.stop();
    if (this.machine.state !== 'off') this.machine.to('off', 'closed');
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.forgetCleanup();
    this.forgetCleanup = () => {};
    this.dir = null;
    this.ptyPath = null;
  }
}
