/**
 * The `sim` board: the firmware's native host port (firmware/ports/host) as a local process serving a
 * pseudo-terminal. Its "flash" is a file the process maps as the model partition, so flash() before
 * open() places the blob with no upload. Latency is modelled (docs/cost-model.md), and memory figures
 * describe the x86-64 executable ("sim-native"), not a microcontroller.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { crc32 } from 'node:zlib';
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import { onInterrupt } from '../util/interrupt.js';
import { alive } from '../util/lock.js';
import type { ModelRef } from '../link/messages.js';
import { Session } from '../link/session.js';
import { openSerialTransport, type LinkLog } from '../link/transport.js';
import { capabilitiesOf, type Board, type BoardCapabilities, type LaunchOptions } from './board.js';
import { makeFirmware } from './firmware.js';
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

/** How long close() waits for the process to leave after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 2000;
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
  return new SimBoard(file, validateSection(SIM_LAUNCH_SCHEMA, file.launch, path, 'launch'), opts.log);
}

export class SimBoard implements Board {
  readonly name: string;
  readonly capabilities: BoardCapabilities;
  private dir: string | null = null;
  private placed: ModelRef | null = null;
  /** The flash file still holds what flash() wrote: no session has run on it since. */
  private placedFresh = false;
  private child: ChildProcess | null = null;
  private exited: Promise<void> | null = null;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private ptyPath: string | null = null;
  private stderrTail: string[] = [];
  private session: Session | null = null;

  constructor(
    readonly file: BoardFile,
    private readonly launch: SimLaunch,
    private readonly log: LinkLog = () => {},
  ) {
    this.name = file.name;
    this.capabilities = capabilitiesOf(file, true);
  }

  private forgetCleanup: () => void = () => {};

  private get flashPath(): string {
    if (!this.dir) {
      sweepStaleSimDirs();
      this.dir = mkdtempSync(join(tmpdir(), `${TMP_PREFIX}${process.pid}-`));
      // close() is the normal path; these cover process.exit() and SIGINT/SIGTERM, which skip it.
      const dir = this.dir;
      const cleanup = () => {
        this.child?.kill('SIGKILL');
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
    return this.child?.pid;
  }

  async flash(blob: Uint8Array): Promise<'placed' | 'upload'> {
    // A running process has the file mapped already; from now on the model travels over the link.
    if (this.child) return 'upload';
    const limit = this.launch.partition_bytes ?? 4 << 20;
    if (blob.length > limit) {
      throw new HilError(`the model is ${blob.length} bytes, board ${this.name}'s partition holds ${limit}`, 'raise launch.partition_bytes in the board file');
    }
    writeFileSync(this.flashPath, blob);
    this.placed = { size: blob.length, crc32: crc32(blob) };
    this.placedFresh = true;
    return 'placed';
  }

  async open(): Promise<Session> {
    if (this.session) throw new HilError(`board ${this.name} already has an open session`, 'close it first');
    if (!this.child) await this.start();
    const transport = await openSerialTransport(this.ptyPath!, this.log);
    try {
      const banner = await transport.readBanner({ bannerMs: this.file.link.banner_ms, startMs: this.file.link.start_ms });
      // The placed blob is known to be in the partition only for the first session: that one may upload
      // over it, and a later session cannot tell.
      const session = new Session(transport, banner, {
        link: this.file.link,
        placed: this.placedFresh ? this.placed : null,
        log: this.log,
        onClose: async () => {
          this.session = null;
        },
        explainLineClosed: () => this.deathReport(DEATH_REPORT_MS),
      });
      this.placedFresh = false;
      this.session = session;
      return session;
    } catch (e) {
      await transport.close();
      throw (await this.deathReport(0)) ?? e;
    }
  }

  private async start(): Promise<void> {
    const image = await makeFirmware(this.file);
    if (!this.placedFresh) writeFileSync(this.flashPath, new Uint8Array(0));
    const args = ['--flash', this.flashPath, '--board', this.name, '--clock-hz', String(this.file.accelerator.clock_hz)];
    if (this.launch.partition_bytes) args.push('--partition-bytes', String(this.launch.partition_bytes));
    if (this.launch.arena_bytes) args.push('--arena-bytes', String(this.launch.arena_bytes));
    if (this.launch.stack_bytes) args.push('--stack-bytes', String(this.launch.stack_bytes));
    const child = spawn(image, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    if (child.pid) writeFileSync(join(this.dir!, 'sim.pid'), String(child.pid));
    this.exit = null;
    this.stderrTail = [];
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.child = null;
        this.ptyPath = null;
        const why = this.deathError();
        if (this.session) this.session.client.fail(why);
        resolve();
      });
      child.once('error', (e) => {
        this.exit = { code: null, signal: null };
        this.stderrTail.push(e.message);
        this.child = null;
        resolve();
      });
    });
    createInterface({ input: child.stderr! }).on('line', (l) => {
      this.stderrTail = [...this.stderrTail.slice(-4), l];
      this.log('warn', `${this.name} stderr: ${l}`);
    });
    this.ptyPath = await this.readPtyPath(child);
    this.log('debug', `${this.name}: pid ${child.pid} serves ${this.ptyPath}`);
  }

  private readPtyPath(child: ChildProcess): Promise<string> {
    const startMs = this.file.link.start_ms;
    return new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => fail(new HilError(`board ${this.name}: no "PTY <path>" line from the sim within ${startMs} ms`)), startMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        lines.close();
        reject(e);
      };
      lines.on('line', (l) => {
        const m = /^PTY (\S+)$/.exec(l);
        if (!m) return;
        clearTimeout(timer);
        lines.close();
        resolve(m[1]!);
      });
      void this.exited!.then(() => fail(this.deathError()));
    });
  }

  private deathError(): HilError {
    const e = this.exit;
    const how = !e ? 'stopped' : e.signal ? `was killed by ${e.signal}` : e.code === null ? 'could not start' : `exited with code ${e.code}`;
    const tail = this.stderrTail.at(-1);
    return new HilError(`board ${this.name}: the sim process ${how}${tail ? ` (${tail})` : ''}`, 'rerun the command; if it recurs, rebuild with `hil firmware build --board sim`');
  }

  /** Why the line closed, if the process died within `waitMs`. */
  private async deathReport(waitMs: number): Promise<Error | null> {
    if (this.exit) return this.deathError();
    if (!this.exited || waitMs <= 0) return null;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    return this.exit ? this.deathError() : null;
  }

  async close(): Promise<void> {
    if (this.session) await this.session.close();
    const child = this.child;
    if (child) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([this.exited!.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), STOP_GRACE_MS)))]);
      clearTimeout(timer);
      if (!stopped) {
        child.kill('SIGKILL');
        await this.exited;
      }
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.forgetCleanup();
    this.forgetCleanup = () => {};
    this.dir = null;
    this.placed = null;
    this.placedFresh = false;
  }
}
