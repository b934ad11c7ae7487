/**
 * Who is on the line: the errors for a device that is not the board asked for, or runs another firmware
 * build than the one just built. The banner (a `serial` board checks it before anything else) and the
 * HELLO reply (src/run/identity.ts, every run) both name board and build.
 */
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
