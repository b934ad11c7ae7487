/**
 * Clean-up that must also run when a build is interrupted (Ctrl-C, a CI timeout): festival processes, the
 * temporary directory, the directory lock. Node runs no 'exit' listeners when a signal kills it, so the
 * first SIGINT/SIGTERM runs the registered clean-ups, then the signal is raised again for its usual effect.
 */
const cleanups = new Set<() => void>();

function onSignal(signal: NodeJS.Signals): void {
  for (const fn of [...cleanups]) {
    try {
      fn();
    } catch {
      // best effort: the process is going down
    }
  }
  cleanups.clear();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.kill(process.pid, signal);
}

/** Registers `fn` to run if the process is interrupted; returns the function that unregisters it. */
export function onInterrupt(fn: () => void): () => void {
  if (cleanups.size === 0) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
    if (cleanups.size === 0) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  };
}
