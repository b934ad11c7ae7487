import { HilError, USER_ERROR_EXIT_CODE } from '../util/errors.js';

/**
 * Wraps a command's action: a HilError becomes one line on stderr and exit code 2; anything else is a
 * bug and is printed with its stack (exit code 1).
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof HilError) {
        process.stderr.write(`hil: ${e.line()}\n`);
        process.exitCode = USER_ERROR_EXIT_CODE;
      } else {
        process.stderr.write(`hil: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
        process.exitCode = 1;
      }
    }
  };
}

/** Parses an integer option or fails with a one-line error naming the option. */
export function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new HilError(`--${name} must be an integer, got "${value}"`);
  return n;
}
