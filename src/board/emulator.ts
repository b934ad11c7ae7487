/**
 * An emulator process (QEMU, an Arm FVP) that a board starts and must stop: spawned so that it dies with
 * hil (setpriv's parent-death signal where available, and a kill on Node's exit otherwise), its output
 * watched for the line that says where its UART is, and its death reported in one line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { HilError } from '../util/errors.js';
import type { LinkLog } from '../link/transport.js';

/** The full path of an executable found on PATH, or null. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | null {
  if (name.includes('/')) {
    try {
      accessSync(name, constants.X_OK);
      return name;
    } catch {
      return null;
    }
  }
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Every emulator still running: killed when Node exits, however it exits normally. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 2000;

export interface EmulatorCommand {
  command: string;
  args: string[];
  cwd?: string;
}

export class EmulatorProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private tail: string[] = [];
  private lineListeners = new Set<(line: string) => void>();
  /** Called once when the process exits on its own (not through stop()). */
  onUnexpectedExit: ((why: HilError) => void) | null = null;
  private stopping = false;

  constructor(
    /** For messages: "QEMU", "the FVP". */
    readonly label: string,
    private readonly log: LinkLog = () => {},
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /**
   * Starts the command and resolves with the first match of `ready` in its output (stdout or stderr),
   * or fails when it exits first or stays silent for `timeoutMs`.
   */
  start(cmd: EmulatorCommand, ready: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    if (this.child) throw new Error(`${this.label} is already running`);
    // setpriv --pdeathsig: the kernel kills the emulator if hil dies without cleaning up (a killed test).
    const setpriv = findOnPath('setpriv');
    const [command, args] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', cmd.command, ...cmd.args]] : [cmd.command, cmd.args];
    this.log('debug', `${this.label}: ${[cmd.command, ...cmd.args].join(' ')}`);
    const child = spawn(command, args, { cwd: cmd.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exitInfo = null;
    this.stopping = false;
    this.tail = [];
    track(child);
    this.exited = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exitInfo) return;
        this.exitInfo = { code, signal };
        live.delete(child);
        this.child = null;
        if (!this.stopping) this.onUnexpectedExit?.(this.deathError());
        resolve();
      };
      child.once('exit', done);
      child.once('error', (e) => {
        this.tail.push(e.message);
        done(null, null);
      });
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.tail = [...this.tail.slice(-4), line];
        this.log('debug', `${this.label}: ${line}`);
        for (const l of this.lineListeners) l(line);
      });
    }
    return new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => finish(new HilError(`${this.label} did not say where its UART is within ${timeoutMs} ms`)), timeoutMs);
      const onLine = (line: string) => {
        const m = ready.exec(line);
        if (m) finish(null, m);
      };
      const finish = (err: Error | null, m?: RegExpExecArray) => {
        clearTimeout(timer);
        this.lineListeners.delete(onLine);
        if (err) reject(err);
        else resolve(m!);
      };
      this.lineListeners.add(onLine);
      void this.exited.then(() => finish(this.deathError()));
    });
  }

  /** One line: how the process ended, with its last output line. */
  deathError(): HilError {
    const e = this.exitInfo;
    const how = !e ? 'stopped' : e.signal ? `was killed by ${e.signal}` : e.code === null ? 'could not start' : `exited with code ${e.code}`;
    const last = this.tail.slice(-2).join(' / ');
    return new HilError(`${this.label} ${how}${last ? ` (${last})` : ''}`, 'see docs/corstone-300.md, "When it fails"');
  }

  /** Why the line closed, if the process has exited (waiting up to `waitMs` for it to). */
  async exitReport(waitMs: number): Promise<HilError | null> {
    if (this.exitInfo) return this.deathError();
    if (!this.child || waitMs <= 0) return null;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    return this.exitInfo ? this.deathError() : null;
  }

  /** SIGTERM, then SIGKILL after a grace period. Safe to call when not running. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), STOP_GRACE_MS))),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/**
 * Runs a command that exits by itself (a semihosting self-test image under QEMU) and returns its exit code
 * and output; killed after `timeoutMs`, and with hil, like every emulator here.
 */
export function runToExit(cmd: EmulatorCommand, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const setpriv = findOnPath('setpriv');
  const [command, args] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', cmd.command, ...cmd.args]] : [cmd.command, cmd.args];
  const child = spawn(command, args, { cwd: cmd.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new HilError(`${cmd.command} did not exit within ${timeoutMs} ms`, `last output: ${output.trim().split('\n').at(-1) ?? '(none)'}`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new HilError(`cannot run ${cmd.command}: ${e.message}`, 'run `hil doctor`'));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, output });
    });
  });
}
