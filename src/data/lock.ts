/**
 * One build per corpus directory at a time. Two processes asking for the default corpus at once (parallel
 * test files, a training run and a benchmark) would otherwise write the same files; the second waits for
 * the first, then finds the corpus up to date. A lock left by a process that died is taken over
 * (src/util/lock.ts).
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { HilError } from '../util/errors.js';
import { onInterrupt } from '../util/interrupt.js';
import { tryLock } from '../util/lock.js';

const POLL_MS = 500;

function tryAcquire(path: string): boolean {
  const holder = tryLock(path, 'building');
  if (holder?.pid === process.pid) throw new HilError(`${dirname(path)} is already being built by this process`);
  return holder === null;
}

export async function withLock<T>(path: string, onWait: () => void, fn: () => Promise<T>): Promise<T> {
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
