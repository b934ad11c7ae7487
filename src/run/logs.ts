/**
 * A run's logs: `<out>/logs/board.log` (every board driver action: processes started and stopped, flasher
 * and reset commands, the port held, state changes) and `<out>/logs/link.log` (the line: banner and
 * console text, retransmissions, dropped bytes, device log messages). Lines are buffered until the run
 * knows its output directory (the board is loaded before --out is locked), then appended with a
 * timestamp and level, so a resumed run adds to the logs of the runs before it.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LinkLog, LogLevel } from '../link/transport.js';

export const LOGS_DIR = 'logs';

class LogFile {
  private fd: number | null = null;
  private pending: string[] = [];

  readonly write: LinkLog = (level: LogLevel, text: string) => {
    const line = `${new Date().toISOString()} ${level.padEnd(5)} ${text.replace(/\n/g, ' ')}\n`;
    if (this.fd === null) this.pending.push(line);
    else writeSync(this.fd, line);
  };

  attach(path: string): void {
    if (this.fd !== null) return;
    this.fd = openSync(path, 'a');
    for (const l of this.pending) writeSync(this.fd, l);
    this.pending = [];
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export class RunLogs {
  private readonly boardFile = new LogFile();
  private readonly linkFile = new LogFile();
  readonly board: LinkLog = this.boardFile.write;
  readonly link: LinkLog = this.linkFile.write;

  /** Starts writing to `<outDir>/logs/`, with everything logged so far. */
  attach(outDir: string): void {
    const dir = join(outDir, LOGS_DIR);
    mkdirSync(dir, { recursive: true });
    this.boardFile.attach(join(dir, 'board.log'));
    this.linkFile.attach(join(dir, 'link.log'));
  }

  close(): void {
    this.boardFile.close();
    this.linkFile.close();
  }
}
