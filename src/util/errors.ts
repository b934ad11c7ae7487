/**
 * Errors a user can fix: bad input, a missing tool, a board that stopped answering. The CLI prints
 * them as one line (what, where, how to fix) and exits with code 2; anything else is a bug and keeps its
 * stack trace.
 */
export class HilError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'HilError';
  }

  /** The single line the CLI prints. */
  line(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

export const USER_ERROR_EXIT_CODE = 2;
