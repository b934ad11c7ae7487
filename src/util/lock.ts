/**
 * Pid lock files. A lock is a file created exclusively ('wx') holding the holder's pid and what it is
 * doing; a lock whose pid is dead was left by a killed process and is taken over. Two processes taking over
 * the same dead lock at once must not both win: the stale file is first renamed to a name of our own
 * (rename is atomic, so only one process gets it), and only a file that still names the dead pid is
 * deleted; one that turns out to be live is put back.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { HilError } from './errors.js';
import { onInterrupt } from './interrupt.js';

/** A holder that created the file but has not written its pid yet is given this long before it counts as dead. */
const EMPTY_GRACE_MS = 5000;

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockHolder {
  pid: number;
  what: string;
}

function readHolder(path: string): LockHolder | 'gone' | 'empty' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return 'gone';
  }
  if (text.trim() === '') return 'empty';
  const [pid, ...rest] = text.split('\n');
  return { pid: Number(pid), what: rest.join(' ').trim() };
}

function isStale(path: string, h: LockHolder | 'empty'): boolean {
  if (h === 'empty') {
    try {
      return Date.now() - statSync(path).mtimeMs > EMPTY_GRACE_MS;
    } catch {
      return false;
    }
  }
  return !(Number.isInteger(h.pid) && h.pid > 0 && alive(h.pid));
}

/** Removes a stale lock unless someone else already replaced it with a live one. */
function takeOver(path: string): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it first: just try again
  }
  const h = readHolder(aside);
  if (h !== 'gone' && !isStale(aside, h)) {
    // We moved a lock a live process had just taken: give it back (linkSync fails rather than overwrite).
    try {
      linkSync(aside, path);
    } catch {
      // a third process locked meanwhile; the live holder keeps running either way
    }
  }
  rmSync(aside, { force: true });
}

/** One attempt: the holder that stopped us, or null when the lock is now ours. */
export function tryLock(path: string, what: string): LockHolder | null {
  mkdirSync(dirname(path), { recursive: true });
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n${what}\n`);
      closeSync(fd);
      return null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const h = readHolder(path);
    if (h === 'gone') continue;
    if (!isStale(path, h)) return h === 'empty' ? { pid: NaN, what: 'starting' } : h;
    takeOver(path);
  }
}

export interface Lock {
  readonly path: string;
  release(): void;
}

/**
 * Locks an output directory for one command (`hil run`, `hil compress`, `hil train`), or fails at once
 * with a one-line error naming the holder: two commands writing one --out would interleave their results.
 * The lock is released by `release()`, at exit and on SIGINT/SIGTERM; a kill -9 leaves it for the next
 * command to take over.
 */
export function lockOutput(dir: string, what: string): Lock {
  const path = `${dir}/.hil-lock`;
  const h = tryLock(path, what);
  if (h) {
    const who = Number.isNaN(h.pid) ? 'another hil process' : h.pid === process.pid ? `this process (pid ${h.pid}, ${h.what})` : `pid ${h.pid} (${h.what || 'hil'})`;
    throw new HilError(`${dir} is in use by ${who}`, `wait for it to finish or stop it${h.pid > 0 && h.pid !== process.pid ? ` (kill ${h.pid})` : ''}, or use another --out`);
  }
  let held = true;
  let forget = () => {};
  const release = () => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    forget();
    // Only our own lock: a takeover by another process after ours was wrongly judged stale is theirs.
    const now = readHolder(path);
    if (now !== 'gone' && now !== 'empty' && now.pid === process.pid) rmSync(path, { force: true });
  };
  process.once('exit', release);
  forget = onInterrupt(release);
  return { path, release };
}
