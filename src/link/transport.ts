/**
 * The byte line to a board: first its text banner (read with @serialport/parser-readline), then frames
 * (FrameDecoder). Works over any Duplex: openSerialTransport() puts it on a serial device or a pty with
 * serialport, openTcpTransport() on a TCP socket. Writes are queued and awaited one at a time, and callers
 * keep them small (the client's credit): serialport 13 stalls a full-duplex pty when its write buffer fills while a read is pending.
 */
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPortStream } from '@serialport/stream';
import { HilError } from '../util/errors.js';
import { FrameDecoder, type Frame } from './frame.js';
import { lineBinding } from './serialBinding.js';

export type LogLevel = 'debug' | 'info' | 'warn';
export type LinkLog = (level: LogLevel, text: string) => void;

/** The boot banner: `HIL-FW key=value …` (docs/protocol.md §1). */
export interface Banner {
  line: string;
  fields: Record<string, string>;
}

export interface BannerTiming {
  /** Silence after which the host sends the wake line, and its repeat period. */
  bannerMs: number;
  /** Give up when no banner arrived within this long. */
  startMs: number;
}

const WAKE_LINE = Buffer.from('\x00HIL?\n', 'latin1');

export function parseBanner(line: string): Banner {
  const fields: Record<string, string> = {};
  for (const word of line.split(/\s+/).slice(1)) {
    const eq = word.indexOf('=');
    if (eq > 0) fields[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return { line, fields };
}

/** Non-printable bytes of a console line, escaped for a log. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Events: 'frame' (Frame), 'dropped' (reason: string, bytes: number), 'banner' (the HIL-FW line of a
 * banner that arrived in binary mode), 'close' (error: Error | undefined).
 */
export class StreamTransport extends EventEmitter {
  private writeChain: Promise<void> = Promise.resolve();
  private decoder: FrameDecoder | null = null;
  private closedWith: Error | null = null;
  private lastError: Error | undefined;

  constructor(
    private readonly stream: Duplex,
    /** Where the line goes, for messages: a device path, 'loopback'. */
    readonly where: string,
    private readonly log: LinkLog = () => {},
  ) {
    super();
    stream.on('error', (e: Error) => {
      this.lastError = e;
      this.log('debug', `${where}: ${e.message}`);
    });
    stream.on('close', (err?: Error) => this.markClosed(err instanceof Error ? err : this.lastError));
    stream.on('end', () => this.markClosed(this.lastError));
  }

  get isClosed(): boolean {
    return this.closedWith !== null;
  }

  private markClosed(err?: Error): void {
    if (this.closedWith) return;
    this.closedWith = new HilError(`the line to ${this.where} closed${err ? `: ${err.message}` : ''}`);
    this.emit('close', err);
  }

  /**
   * Reads text lines until `HIL-READY`, waking the device with `\x00HIL?\n` after every `bannerMs` of
   * silence, then switches to frames without losing a byte: the line reader is cut off from the line at
   * `HIL-READY` and ended, and everything it still held (whole lines and its partial one) goes to the
   * frame decoder ahead of what the line delivers next.
   */
  readBanner(timing: BannerTiming): Promise<Banner> {
    // One chunk per line, delimiter kept, bytes as latin1: the lines can be turned back into exact bytes.
    const parser = new ReadlineParser({ delimiter: '\n', includeDelimiter: true, encoding: 'latin1', readableObjectMode: true });
    let banner: Banner | null = null;
    let done = false;
    /** Once HIL-READY was seen: the bytes the parser holds past it. */
    let after: Buffer[] | null = null;
    return new Promise<Banner>((resolve, reject) => {
      const wake = setInterval(() => {
        // Until HIL-READY: on a noisy line the HIL-FW line may arrive and its HIL-READY not.
        if (after) return;
        this.log('debug', `${this.where}: no banner yet, sending the wake line`);
        this.write(WAKE_LINE).catch(() => {});
      }, timing.bannerMs);
      const deadline = setTimeout(
        () =>
          finish(
            new HilError(
              `no banner from the board on ${this.where} within ${timing.startMs} ms`,
              'is the firmware running and is this its line? raise link.start_ms in the board file for a slow start',
            ),
          ),
        timing.startMs,
      );
      const onClose = () => finish(this.closedWith ?? new HilError(`the line to ${this.where} closed`));
      const onLine = (chunk: string | Buffer) => {
        if (done) return;
        if (after) {
          after.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'latin1'));
          return;
        }
        const line = (Buffer.isBuffer(chunk) ? chunk.toString('latin1') : chunk).replace(/\r?\n$/, '');
        if (line.startsWith('HIL-FW ')) {
          banner = parseBanner(line);
          this.log('info', `${this.where}: ${line}`);
        } else if (line === 'HIL-READY' && banner) {
          after = [];
          this.stream.unpipe(parser); // the line pauses; what comes next waits for the frame decoder
          parser.once('end', () => finish(null));
          parser.end(); // flushes the partial line through onLine
        } else if (line.trim()) {
          this.log('info', `${this.where} console: ${printable(line)}`);
        }
      };
      const finish = (err: Error | null) => {
        if (done) return;
        done = true;
        clearInterval(wake);
        clearTimeout(deadline);
        this.off('close', onClose);
        parser.off('data', onLine);
        if (err) {
          this.stream.unpipe(parser);
          parser.destroy();
          reject(err);
          return;
        }
        this.startFrames(Buffer.concat(after!));
        resolve(banner!);
      };
      if (this.closedWith) return onClose();
      this.on('close', onClose);
      parser.on('data', onLine);
      this.stream.pipe(parser);
    });
  }

  /** Binary mode: frames from here on. `pending` are bytes already read that belong to it. */
  startFrames(pending: Uint8Array = new Uint8Array(0)): void {
    if (this.decoder) return;
    const d = new FrameDecoder();
    this.decoder = d;
    d.on('data', (f: Frame) => this.emit('frame', f));
    d.on('banner', (line: string) => {
      this.log('info', `${this.where}: ${line} (in binary mode)`);
      this.emit('banner', line);
    });
    d.on('dropped', (reason: string, bytes: number) => {
      this.log('warn', `${this.where}: dropped ${bytes} received bytes (${reason})`);
      this.emit('dropped', reason, bytes);
    });
    if (pending.length) d.write(pending);
    this.stream.pipe(d);
  }

  /** Bytes received since binary mode began, delivered as frames or not. */
  get rxBytes(): number {
    return this.decoder?.bytesIn ?? 0;
  }

  /** Queues bytes for the line; resolves when they were handed to the OS. */
  write(bytes: Uint8Array): Promise<void> {
    const p = this.writeChain.then(
      () =>
        new Promise<void>((resolve, reject) => {
          if (this.closedWith) return reject(this.closedWith);
          this.stream.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) =>
            err ? reject(new HilError(`cannot write to ${this.where}: ${err.message}`)) : resolve(),
          );
        }),
    );
    this.writeChain = p.catch(() => {});
    return p;
  }

  /** Closes the line; safe to call twice, and after the other side went away. */
  async close(): Promise<void> {
    if (this.decoder) this.stream.unpipe(this.decoder);
    const s = this.stream as Duplex & { isOpen?: boolean; close?: (cb: (err?: Error | null) => void) => void };
    if (s instanceof SerialPortStream) {
      if (s.isOpen) await new Promise<void>((resolve) => s.close(() => resolve()));
    } else {
      s.destroy();
    }
    this.markClosed();
  }
}

export interface SerialLineOptions {
  /** Line rate (a pty ignores it); default 115200. */
  baudRate?: number;
  /** flock the device (serialport's `lock`): a second opener that also locks is refused. */
  lock?: boolean;
}

/** Opens a serial device or pty (no flow control, 8N1, 115200 unless told otherwise). */
export async function openSerialTransport(path: string, log?: LinkLog, opts: SerialLineOptions = {}): Promise<StreamTransport> {
  const baudRate = opts.baudRate ?? 115200;
  const port = new SerialPortStream({ binding: lineBinding(), path, baudRate, lock: opts.lock ?? false, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) =>
      err ? reject(new HilError(`cannot open ${path}: ${err.message}`, 'is the board connected and the path right?')) : resolve(),
    ),
  );
  log?.('debug', `${path}: open at ${baudRate} baud${opts.lock ? ', locked' : ''}`);
  return new StreamTransport(port, path, log);
}

/** Opens a TCP line (an FVP's UART terminal); Nagle off, since requests are small and replies awaited. */
export async function openTcpTransport(host: string, port: number, log?: LinkLog, what = 'UART'): Promise<StreamTransport> {
  const socket = connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', (e) => reject(new HilError(`cannot connect to the ${what} at ${host}:${port}: ${e.message}`)));
  });
  socket.setNoDelay(true);
  log?.('debug', `${host}:${port}: connected`);
  return new StreamTransport(socket, `${host}:${port}`, log);
}
