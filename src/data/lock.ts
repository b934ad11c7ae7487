/**
 * One build per corpus directory at a time. Two processes asking for the default corpus at once (parallel
 * test files, a training run and a benchmark) would otherwise write the same files; the second waits for
 * the first, then finds the corpus up to date. A lock left by a process that died is taken over.
 */
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { HilError } from '../util/errors.js';
import { onInterrupt } from './interrupt.js';

const POLL_MS = 500;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryAcquire(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    let holder = NaN;
    try {
      holder = Number(readFileSync(path, 'utf8').trim());
    } catch {
      return false; // removed between our attempt and the read: try again
    }
    if (holder === process.pid) throw new HilError(`${dirname(path)} is already being built by this process`);
    // An empty file is a holder that has not written its pid yet, not a dead one.
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) rmSync(path, { force: true });
    return false;
  }
}

export async function withLock<T>(path: string, onWait: () => void, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  let told = false;
  while (!tryAcquire(path)) {
    if (!told) onWait();
    told = true;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const release = () => rmSync(path, { force: true });
  process.once('exit', release);
  const forget = onInterrupt(release);
  try {
    return await fn();
  } finally {
    process.removeListener('exit', release);
    forget();
    release();
  }
}
