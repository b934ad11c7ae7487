/**
 * Clean-up that must also run when a command is interrupted (Ctrl-C, a CI timeout): child processes,
 * temporary directories, output locks. Node runs no 'exit' listeners when a signal kills it, so the first
 * SIGINT/SIGTERM runs the registered clean-ups (newest first, so a lock taken before a temporary directory
 * is released after it), then either prints the command's farewell line and exits with 128 + the signal
 * number (a command that says what it kept), or raises the signal again for its usual effect.
 */
import { constants } from 'node:os';

const cleanups = new Set<() => void>();
let farewell: ((signal: NodeJS.Signals) => string) | null = null;

function onSignal(signal: NodeJS.Signals): void {
  for (const fn of [...cleanups].reverse()) {
    try {
      fn();
    } catch {
      // best effort: the process is going down
    }
  }
  cleanups.clear();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  if (farewell) {
    let line = '';
    try {
      line = farewell(signal);
    } catch {
      // the line is a courtesy; the exit code still says what happened
    }
    if (line) process.stderr.write(`${line}\n`);
    process.exit(128 + (constants.signals[signal] ?? 0));
  }
  process.kill(process.pid, signal);
}

function listen(): void {
  if (process.listeners('SIGINT').includes(onSignal)) return;
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

function unlistenIfIdle(): void {
  if (cleanups.size > 0 || farewell) return;
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
}

/** Registers `fn` to run if the process is interrupted; returns the function that unregisters it. */
export function onInterrupt(fn: () => void): () => void {
  listen();
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
    unlistenIfIdle();
  };
}

/**
 * Makes an interruption end the process with exit code 128 + signal (130 for SIGINT) after the
 * clean-ups, printing `line(signal)` (what was kept, how to resume). Returns the function that undoes it.
 */
export function exitOnInterrupt(line: (signal: NodeJS.Signals) => string): () => void {
  farewell = line;
  listen();
  return () => {
    if (farewell === line) farewell = null;
    unlistenIfIdle();
  };
}
