/**
 * The host side of docs/protocol.md §4: sequence numbers, credit-based flow control, per-request
 * timeouts and retransmission with the same seq. Requests are queued in order; as many are put on the
 * line as the device's credit allows (never more than min(rx_credit, 1024) encoded bytes nor
 * MAX_IN_FLIGHT requests unanswered, except one when nothing is), and each is answered by its seq.
 */
import { DUP_WINDOW } from '../spec/protocol.js';
import { HilError } from '../util/errors.js';
import { encodeWireFrame, FLAG_RETRANSMIT, type Frame } from './frame.js';
import {
  decodePayload,
  ERROR_CODES,
  messageName,
  Msg,
  PROTOCOL_VERSION,
  REPLY,
  type HelloReply,
  type MessageType,
  type Replies,
  type RequestType,
  type Requests,
  encodePayload,
} from './messages.js';
import type { LinkLog } from './transport.js';

/** The device remembers this many executed requests (docs/protocol.md §4), so no more may be in flight. */
export const MAX_IN_FLIGHT = DUP_WINDOW;
/** Cap on unanswered bytes whatever the device's buffer: keeps every pty write small. */
export const MAX_CREDIT_BYTES = 1024;

/** What the client needs from a line (StreamTransport provides it; tests may use a fake). */
export interface FrameLine {
  write(bytes: Uint8Array): Promise<void>;
  on(event: 'frame', fn: (f: Frame) => void): unknown;
  off(event: 'frame', fn: (f: Frame) => void): unknown;
}

export interface ClientOptions {
  /** Default deadline per attempt. */
  requestMs: number;
  /** Retransmissions after the first attempt. */
  retries: number;
  log?: LinkLog;
  /** Turns a write error into the reason behind it (the board died, say); the error itself otherwise. */
  explainLineError?: (err: Error) => Promise<Error>;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** How the request is named in errors, e.g. "RUN_FRAME frame_index 17". Defaults to the type's name. */
  label?: string;
}

/** A request that failed on the link (no reply, bad reply, line closed). */
export class LinkError extends HilError {
  constructor(
    message: string,
    readonly request: string,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'LinkError';
  }
}

/** The device answered a request with ERROR. */
export class DeviceError extends LinkError {
  constructor(
    request: string,
    readonly code: number,
    readonly deviceMessage: string,
  ) {
    super(`${request} refused by the device: error ${code} (${ERROR_CODES[code] ?? 'unknown code'}): ${deviceMessage}`, request);
    this.name = 'DeviceError';
  }
}

interface Pending {
  type: RequestType;
  payload: Uint8Array;
  label: string;
  timeoutMs: number;
  seq: number;
  wireBytes: number;
  attempts: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
}

export interface ClientStats {
  requests: number;
  retransmissions: number;
  /** Replies whose seq matched nothing in flight (a late answer to a retransmitted request). */
  staleReplies: number;
  logs: number;
}

export class ProtocolClient {
  private nextSeq = 1;
  /** Unknown until HELLO: until then, one request at a time. */
  private creditBytes = 0;
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<number, Pending>();
  private inFlightBytes = 0;
  private failure: Error | null = null;
  private readonly onFrameBound = (f: Frame) => this.onFrame(f);
  readonly stats: ClientStats = { requests: 0, retransmissions: 0, staleReplies: 0, logs: 0 };

  constructor(
    private readonly line: FrameLine,
    private readonly opts: ClientOptions,
  ) {
    line.on('frame', this.onFrameBound);
  }

  private log(level: 'debug' | 'info' | 'warn', text: string): void {
    this.opts.log?.(level, text);
  }

  /** HELLO (seq 0, restarts the sequence); adopts the device's credit. */
  async hello(timeoutMs?: number): Promise<HelloReply> {
    const reply = await this.request(Msg.HELLO, { protocolVersion: PROTOCOL_VERSION }, { timeoutMs });
    this.creditBytes = reply.rxCreditBytes;
    return reply;
  }

  /** Sends a request and resolves with its decoded reply; rejects with LinkError or DeviceError. */
  request<T extends RequestType>(type: T, fields: Requests[T], opts: RequestOptions = {}): Promise<Replies[T]> {
    const label = opts.label ?? messageName(type);
    if (this.failure) return Promise.reject(this.wrap(this.failure, label));
    const payload = encodePayload(type as MessageType, fields as never);
    return new Promise<Frame>((resolve, reject) => {
      this.queue.push({
        type,
        payload,
        label,
        timeoutMs: opts.timeoutMs ?? this.opts.requestMs,
        seq: -1,
        wireBytes: 0,
        attempts: 0,
        timer: undefined,
        resolve,
        reject,
      });
      this.stats.requests++;
      this.pump();
    }).then((f) => {
      try {
        return decodePayload((type | REPLY) as MessageType, f.payload) as unknown as Replies[T];
      } catch (e) {
        throw this.wrap(e as Error, label);
      }
    });
  }

  /** Fails every request, queued or in flight, and every later one, with `err` (e.g. the board died). */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const all = [...this.inFlight.values(), ...this.queue.splice(0)];
    this.inFlight.clear();
    this.inFlightBytes = 0;
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(this.wrap(err, p.label));
    }
  }

  get failed(): Error | null {
    return this.failure;
  }

  /** Stops listening to the line; pending requests fail. */
  detach(reason = 'the session was closed'): void {
    this.line.off('frame', this.onFrameBound);
    this.fail(new HilError(reason));
  }

  private wrap(err: Error, label: string): Error {
    if (err instanceof LinkError && err.request === label) return err;
    const hint = err instanceof HilError ? err.hint : undefined;
    return new LinkError(`${label}: ${err.message}`, label, hint);
  }

  private pump(): void {
    while (this.queue.length && !this.failure) {
      const next = this.queue[0]!;
      const isHello = next.type === Msg.HELLO;
      // HELLO restarts the device's sequence, so it goes alone.
      if (this.inFlight.size > 0 && (isHello || this.inFlight.size >= MAX_IN_FLIGHT || this.creditBytes === 0)) break;
      const seq = isHello ? 0 : this.nextSeq;
      const wireBytes = encodeWireFrame({ type: next.type, flags: 0, seq, payload: next.payload }).length;
      const limit = Math.min(this.creditBytes, MAX_CREDIT_BYTES);
      if (this.inFlight.size > 0 && this.inFlightBytes + wireBytes > limit) break;
      this.queue.shift();
      if (isHello) this.nextSeq = 1;
      else this.nextSeq = this.nextSeq === 0xffff ? 1 : this.nextSeq + 1;
      next.seq = seq;
      next.wireBytes = wireBytes;
      this.inFlight.set(seq, next);
      this.inFlightBytes += wireBytes;
      this.send(next);
    }
  }

  private send(p: Pending): void {
    const retransmission = p.attempts > 0;
    p.attempts++;
    const wire = encodeWireFrame({ type: p.type, flags: retransmission ? FLAG_RETRANSMIT : 0, seq: p.seq, payload: p.payload });
    this.line.write(wire).then(
      () => {
        // The deadline runs from the moment the bytes left; the reply may even have beaten the callback.
        if (this.inFlight.get(p.seq) !== p) return;
        clearTimeout(p.timer);
        p.timer = setTimeout(() => this.onTimeout(p), p.timeoutMs);
      },
      (err: Error) => {
        const explain = this.opts.explainLineError;
        if (!explain) return this.fail(err);
        void explain(err).then(
          (why) => this.fail(why),
          () => this.fail(err),
        );
      },
    );
  }

  private onTimeout(p: Pending): void {
    if (this.inFlight.get(p.seq) !== p) return;
    if (p.attempts <= this.opts.retries) {
      this.stats.retransmissions++;
      this.log('warn', `${p.label} (seq ${p.seq}): no reply within ${p.timeoutMs} ms, retransmitting (attempt ${p.attempts + 1})`);
      this.send(p);
      return;
    }
    this.settle(p);
    p.reject(
      new LinkError(
        `${p.label} (seq ${p.seq}): no reply after ${p.attempts} attempts of ${p.timeoutMs} ms`,
        p.label,
        'the board stopped answering; check its console output, or raise link.request_ms in the board file',
      ),
    );
    this.pump();
  }

  private settle(p: Pending): void {
    clearTimeout(p.timer);
    this.inFlight.delete(p.seq);
    this.inFlightBytes -= p.wireBytes;
  }

  private onFrame(f: Frame): void {
    if (f.type === Msg.LOG) {
      this.stats.logs++;
      try {
        const m = decodePayload(Msg.LOG, f.payload);
        this.log(m.level >= 2 ? 'warn' : m.level === 1 ? 'info' : 'debug', `device: ${m.text}`);
      } catch (e) {
        this.log('warn', (e as Error).message);
      }
      return;
    }
    const p = this.inFlight.get(f.seq);
    if (!p) {
      this.stats.staleReplies++;
      this.log('debug', `ignoring ${messageName(f.type)} with seq ${f.seq}: nothing in flight has it`);
      return;
    }
    this.settle(p);
    if (f.type === Msg.ERROR) {
      try {
        const e = decodePayload(Msg.ERROR, f.payload);
        p.reject(new DeviceError(p.label, e.code, e.message));
      } catch (e) {
        p.reject(this.wrap(e as Error, p.label));
      }
    } else if (f.type === (p.type | REPLY)) {
      p.resolve(f);
    } else {
      p.reject(new LinkError(`${p.label} (seq ${p.seq}): the device answered with ${messageName(f.type)}`, p.label));
    }
    this.pump();
  }
}
