/**
 * A board farm on one machine, for test/e2e/farm.test.ts and `npm run bench:farm`: a redis-server (the
 * Debian package) on a free loopback port with nothing persisted, `hil worker` processes each in a
 * process group of its own (so a SIGKILL of the group takes its sim processes with it), and short
 * speech-like clips.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { toInt16, writePcm16 } from '../../src/data/wav.js';
import { rng, speechLike, whiteNoise } from './speechlike.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Waits until `text()` matches `re` or `ms` pass; `child` dying first fails at once. */
export async function waitFor(what: string, text: () => string, re: RegExp, ms: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + ms;
  while (!re.test(text())) {
    if (child && child.exitCode !== null) throw new Error(`${what}: the process exited (${child.exitCode}) first:\n${text()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms:\n${text()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Redis {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** redis-server on a free loopback port, nothing saved; `password` turns on requirepass. */
export async function startRedis(dir: string, password?: string): Promise<Redis> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (password) args.push('--requirepass', password);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  await waitFor('redis-server', () => log, /Ready to accept connections/, 15_000, child);
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  log: () => string;
  /** SIGKILL to the worker's process group: the worker and every sim it started. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** `hil worker` in a process group of its own; resolves once it takes jobs. */
export async function startWorker(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...CLI, 'worker', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid!, sig);
    } catch {
      return;
    }
    await exited;
  };
  await waitFor('hil worker', () => log, /taking jobs for/, 120_000, child);
  return { child, log: () => log, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** `n` short noisy/clean clip pairs c0.wav… in <dir>/noisy and <dir>/clean. */
export function writeClips(dir: string, n: number, seconds = 0.5): { audio: string; clean: string } {
  for (let k = 0; k < n; k++) {
    const clean = speechLike(seconds + 0.05 * k, `clip${k}`);
    const noise = whiteNoise(clean.length, rng(`noise${k}`));
    writePcm16(join(dir, 'clean', `c${k}.wav`), toInt16(clean.map((v) => 0.6 * v)), 16000);
    writePcm16(join(dir, 'noisy', `c${k}.wav`), toInt16(clean.map((v, i) => 0.6 * v + 0.05 * noise[i]!)), 16000);
  }
  return { audio: join(dir, 'noisy'), clean: join(dir, 'clean') };
}
