/**
 * The process driver: anything hil starts and supervises to run the firmware (the sim binary, QEMU, an
 * Arm FVP). One implementation for all of them: spawned so that it dies with hil (setpriv's parent-death
 * signal where available, and a kill on Node's exit otherwise), its output watched for the line that
 * says where its UART is, every action logged, its death reported in one line, and stop() as SIGTERM
 * then SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { HilError } from '../util/errors.js';
import type { LinkLog, LogLevel } from '../link/transport.js';

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

/** Every supervised process still running: killed when Node exits, however it exits normally. */
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

export interface ProcessCommand {
  command: string;
  args: string[];
  cwd?: string;
}

/** `command` wrapped in setpriv --pdeathsig KILL when setpriv is here: the kernel kills it if hil dies. */
function withDeathSignal(cmd: ProcessCommand): [string, string[]] {
  const setpriv = findOnPath('setpriv');
  return setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', cmd.command, ...cmd.args]] : [cmd.command, cmd.args];
}

export interface ProcessDriverOptions {
  log?: LinkLog;
  /** The fix a death message suggests. */
  hint?: string;
  /** What start()'s `ready` line announces, for the timeout message ("where its UART is"). */
  readyWhat?: string;
  /** Which output a death message quotes: the last lines of both streams (default), or of stderr only. */
  tailFrom?: 'both' | 'stderr';
  /** How many output lines a death message quotes (default 2). */
  tailLines?: number;
  /** The log level of stderr lines (stdout lines are debug). */
  stderrLevel?: LogLevel;
}

export class ProcessDriver {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private tail: string[] = [];
  private lineListeners = new Set<(line: string) => void>();
  /** Called once when the process exits on its own (not through stop()). */
  onUnexpectedExit: ((why: HilError) => void) | null = null;
  private stopping = false;
  private readonly log: LinkLog;
  private readonly opts: ProcessDriverOptions;

  constructor(
    /** For messages: "QEMU", "the FVP", "board sim: the sim process". */
    readonly label: string,
    opts: ProcessDriverOptions | LinkLog = {},
  ) {
    this.opts = typeof opts === 'function' ? { log: opts } : opts;
    this.log = this.opts.log ?? (() => {});
  }

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
  start(cmd: ProcessCommand, ready: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    if (this.child) throw new Error(`${this.label} is already running`);
    const [command, args] = withDeathSignal(cmd);
    this.log('info', `${this.label}: start: ${[cmd.command, ...cmd.args].join(' ')}`);
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
        this.log(this.stopping ? 'info' : 'warn', `${this.label}: pid ${child.pid ?? '?'} ${this.how()}`);
        if (!this.stopping) this.onUnexpectedExit?.(this.deathError());
        resolve();
      };
      child.once('exit', done);
      child.once('error', (e) => {
        this.tail.push(e.message);
        done(null, null);
      });
    });
    if (child.pid) this.log('info', `${this.label}: pid ${child.pid}`);
    const tailFrom = this.opts.tailFrom ?? 'both';
    for (const [name, stream] of [['stdout', child.stdout!], ['stderr', child.stderr!]] as const) {
      createInterface({ input: stream }).on('line', (line) => {
        if (tailFrom === 'both' || name === 'stderr') this.tail = [...this.tail.slice(-4), line];
        this.log(name === 'stderr' ? (this.opts.stderrLevel ?? 'debug') : 'debug', `${this.label} ${name}: ${line}`);
        for (const l of this.lineListeners) l(line);
      });
    }
    return new Promise<RegExpExecArray>((resolve, reject) => {
      const what = this.opts.readyWhat ?? 'where its UART is';
      const timer = setTimeout(() => finish(new HilError(`${this.label} did not say ${what} within ${timeoutMs} ms`)), timeoutMs);
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

  private how(): string {
    const e = this.exitInfo;
    return !e ? 'stopped' : e.signal ? `was killed by ${e.signal}` : e.code === null ? 'could not start' : `exited with code ${e.code}`;
  }

  /** One line: how the process ended, with its last output line(s). */
  deathError(): HilError {
    const last = this.tail.slice(-(this.opts.tailLines ?? 2)).join(' / ');
    return new HilError(`${this.label} ${this.how()}${last ? ` (${last})` : ''}`, this.opts.hint ?? 'see docs/corstone-300.md, "When it fails"');
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
    this.log('info', `${this.label}: stop pid ${child.pid ?? '?'} (SIGTERM)`);
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), STOP_GRACE_MS))),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      this.log('warn', `${this.label}: pid ${child.pid ?? '?'} ignored SIGTERM for ${STOP_GRACE_MS} ms: SIGKILL`);
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** SIGKILL at once, without waiting (an exit or interrupt handler). */
  kill(): void {
    this.stopping = true;
    this.child?.kill('SIGKILL');
  }
}

/**
 * Runs a command that exits by itself (a semihosting self-test image under QEMU, a flasher) and returns
 * its exit code and output; killed after `timeoutMs`, and with hil, like every supervised process.
 */
export function runToExit(cmd: ProcessCommand, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const [command, args] = withDeathSignal(cmd);
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
