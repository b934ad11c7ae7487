/**
 * A run measures only the board and firmware it asked for: the HELLO reply names both, and a mismatch is
 * refused before any figure is taken (another board on the port, or an image other than the one just
 * built and recorded in the provenance).
 */
import type { HelloReply } from '../link/messages.js';
import { HilError } from '../util/errors.js';

export class WrongBoardError extends HilError {
  constructor(expected: string, got: string) {
    super(`the device on the line is board "${got}", not "${expected}"`, 'check which board is on this port (hil board list), or pick the board file that matches it');
    this.name = 'WrongBoardError';
  }
}

export class WrongFirmwareError extends HilError {
  constructor(board: string, got: string, built: string) {
    super(`board ${board} runs firmware build ${got}, not the image just built (${built})`, 'reflash the board or rebuild with `hil firmware build`');
    this.name = 'WrongFirmwareError';
  }
}

export function checkIdentity(hello: Pick<HelloReply, 'boardName' | 'buildId'>, board: string, buildId: string): void {
  if (hello.boardName !== board) throw new WrongBoardError(board, hello.boardName);
  if (hello.buildId !== buildId) throw new WrongFirmwareError(board, hello.buildId, buildId);
}
