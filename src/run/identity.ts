/**
 * A run measures only the board and firmware it asked for: the HELLO reply names both, and a mismatch is
 * refused before any figure is taken (another board on the port, or an image other than the one just
 * built and recorded in the provenance).
 */
import type { HelloReply } from '../link/messages.js';
import { WrongBoardError, WrongFirmwareError } from '../board/identity.js';

export { WrongBoardError, WrongFirmwareError };

export function checkIdentity(hello: Pick<HelloReply, 'boardName' | 'buildId'>, board: string, buildId: string): void {
  if (hello.boardName !== board) throw new WrongBoardError(board, hello.boardName);
  if (hello.buildId !== buildId) throw new WrongFirmwareError(board, hello.buildId, buildId);
}
