/**
 * The host side of docs/protocol.md §4: sequence numbers, credit-based flow control, adaptive timeouts
 * and retransmission with the same seq, and recovery from a failed request. Requests are queued in order;
 * as many are put on the line as the device's credit and duplicate window allow, and each is answered by
 * its seq.
 */
import { DUP_WINDOW } from '../spec/protocol.js';
import { HilError } from '../util/errors.js';
import { DeviceError, DeviceHungError, DeviceResetError, LinkError, LinkNoisyError } from './errors.js';
import { encodeWireFrame, FLAG_RETRANSMIT, type Frame } from './frame.js';
import {
  decodePayload,
  messageName,
  Msg,
  PROTOCOL_VERSION,
  REPLY,
  Reply,
  type HelloReply,
  type MessageType,
  type Replies,
  type RequestType,
  type Requests,
  encodePayload,
} from './messages.js';
import { RttEstimator, type RtoBounds } from './rto.js';
import type { LinkLog } from './transport.js';

export { DeviceError, DeviceHungError, DeviceResetError, LinkError, LinkNoisyError };

/** The device remembers this many executed requests (docs/protocol.md §4), so no more may be in flight. */
export const MAX_IN_FLIGHT = DUP_WINDOW;
/** Cap on unanswered bytes whatever the device's buffer: keeps every pty write small. */
export const MAX_CREDIT_BYTES = 1024;

/** What the client needs from a line (StreamTransport provides it; tests may use a fake). */
export interface FrameLine {
  write(bytes: Uint8Array): Promise<void>;
  on(event: 'frame', fn: (f: Frame) => void): unknown;
  on(event: 'dropped', fn: (reason: string, bytes: number) => void): unknown;
  on(event: 'banner', fn: (line: string) => void): unknown;
  off(event: 'frame', fn: (f: Frame) => void): unknown;
  off(event: 'dropped', fn: (reason: string, bytes: number) => void): unknown;
  off(event: 'banner', fn: (line: string) => void): unknown;
  /** Bytes received so far, frames or not; without it a silent device cannot be told from a noisy line. */
  readonly rxBytes?: number;
}

export interface ClientTiming {
  /** Retransmission timeout before any round trip was measured. */
  rtoInitialMs: number;
  rtoMinMs: number;
  /** The exponential backoff stops here. */
  rtoMaxMs: number;
  /** A request fails when neither it nor any other request was answered for this long. */
  giveUpMs: number;
}

export interface ClientOptions extends ClientTiming {
  log?: LinkLog;
  /** Turns a write error into the reason behind it (the board died, say); the error itself otherwise. */
  explainLineError?: (err: Error) => Promise<Error>;
  /** The device printed its banner mid-session: everything pending failed with `err`. */
  onDeviceReset?: (err: DeviceResetError) => void;
}

export interface RequestOptions {
  /** A floor for this request's timeout, for one the device is known to work on for long (MODEL_ACTIVATE). */
  minTimeoutMs?: number;
  /** How the request is named in errors, e.g. "RUN_FRAME frame_index 17". Defaults to the type's name. */
  label?: string;
}

interface Pending {
  type: RequestType;
  payload: Uint8Array;
  label: string;
  minTimeoutMs: number;
  seq: number;
  wireBytes: number;
  attempts: number;
  /** This request's current timeout: the estimate when first sent, doubled by every expiry. */
  rtoMs: number;
  timer: NodeJS.Timeout | undefined;
  /** The timer runs out with the give-up budget, not with a timeout. */
  lastChance: boolean;
  /** Copies handed to the line and not yet written. */
  writing: number;
  /** When the first copy had left (the round trip is measured from there), and when the last one did. */
  firstSentAt: number;
  lastSentAt: number;
  rxBytesAtFirstSend: number;
  dropsAtFirstSend: number;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
}

/** Per-session link counters (docs/protocol.md §4): what the line cost, for a result row. */
export interface LinkStats {
  requests: number;
  /** Replies accepted, ERROR included. */
  replies: number;
  /** Frames sent again, for whatever reason. */
  retransmissions: number;
  /** Of those, sent because a timeout expired... */
  timeouts: number;
  /** ...and sent at once on evidence of a loss (a corrupt frame either way), before any timeout. */
  fastRetransmits: number;
  /** Chunks the host dropped: bad CRC or COBS, wrong length, too long. */
  rxCorrupt: number;
  /** Frames the device said it dropped (its warning LOGs). */
  deviceDrops: number;
  /** Replies whose seq matched nothing in flight (a late answer to a retransmitted request). */
  staleReplies: number;
  /** Requests that failed on the link (not with ERROR), and HELLOs sent to recover from them. */
  failures: number;
  resyncs: number;
  deviceResets: number;
  logs: number;
  bytesSent: number;
  bytesReceived: number;
}

/** The timeout estimate of one request type, for a report. */
export interface RttSummary {
  srttMs: number | null;
  rttvarMs: number | null;
  rtoMs: number;
  samples: number;
}

const now = () => performance.now();

/** How far `seq` runs ahead of `base` in the sequence 1..0xFFFF, which skips 0 when it wraps. */
export function seqAhead(base: number, seq: number): number {
  return (seq - base + 0xffff) % 0xffff;
}

function emptyStats(): LinkStats {
  return {
    requests: 0,
    replies: 0,
    retransmissions: 0,
    timeouts: 0,
    fastRetransmits: 0,
    rxCorrupt: 0,
    deviceDrops: 0,
    staleReplies: 0,
    failures: 0,
    resyncs: 0,
    deviceResets: 0,
    logs: 0,
    bytesSent: 0,
    bytesReceived: 0,
  };
}

export class ProtocolClient {
  private nextSeq = 1;
  /** Unknown until HELLO: until then, one request at a time. */
  private creditBytes = 0;
  private readonly queue: Pending[] = [];
  /** In seq order: a Map keeps insertion order, and requests are inserted as they are numbered. */
  private readonly inFlight = new Map<number, Pending>();
  private inFlightBytes = 0;
  /** A failure nothing recovers from (the line closed, the board process died). */
  private failure: Error | null = null;
  /** The device's sequence is unknown (a request failed, or it reset): HELLO before the next request. */
  private needHello = false;
  private readonly rtt = new Map<number, RttEstimator>();
  /** The last time any request was answered: the give-up budget runs from here at the earliest. */
  private progressAt = now();
  private progressRxBytes = 0;
  private progressDrops = 0;
  /**
   * Requests allowed in flight, below what credit and the duplicate window allow while the line loses
   * frames: every copy behind a lost request is dropped by the device, so under loss pipelining only
   * adds corruptible bytes. One after a loss, one more per request answered at its first attempt.
   */
  private window: number = DUP_WINDOW;
  private readonly onFrameBound = (f: Frame) => this.onFrame(f);
  private readonly onDroppedBound = () => this.onDropped();
  private readonly onBannerBound = (line: string) => this.onBanner(line);
  private readonly counters: LinkStats = emptyStats();

  constructor(
    private readonly line: FrameLine,
    private readonly opts: ClientOptions,
  ) {
    if (!(opts.rtoMinMs <= opts.rtoMaxMs)) throw new HilError(`the link's minimum timeout ${opts.rtoMinMs} ms exceeds its maximum ${opts.rtoMaxMs} ms`, 'fix link.rto_min_ms and link.rto_max_ms in the board file');
    line.on('frame', this.onFrameBound);
    line.on('dropped', this.onDroppedBound);
    line.on('banner', this.onBannerBound);
  }

  /** A snapshot of the session's link counters. */
  get stats(): LinkStats {
    return { ...this.counters, bytesReceived: this.rxBytes() };
  }

  /** The current timeout estimate per request type that has been sent, by type name. */
  rttSummary(): Record<string, RttSummary> {
    const out: Record<string, RttSummary> = {};
    for (const [type, e] of this.rtt) out[messageName(type)] = { srttMs: e.srttMs, rttvarMs: e.rttvarMs, rtoMs: e.rtoMs, samples: e.samples };
    return out;
  }

  private log(level: 'debug' | 'info' | 'warn', text: string): void {
    this.opts.log?.(level, text);
  }

  private rxBytes(): number {
    return this.line.rxBytes ?? 0;
  }

  private estimator(type: number): RttEstimator {
    let e = this.rtt.get(type);
    if (!e) {
      const bounds: RtoBounds = { initialMs: this.opts.rtoInitialMs, minMs: this.opts.rtoMinMs, maxMs: this.opts.rtoMaxMs };
      e = new RttEstimator(bounds);
      this.rtt.set(type, e);
    }
    return e;
  }

  /** HELLO (seq 0, restarts the sequence); adopts the device's credit. */
  async hello(minTimeoutMs?: number): Promise<HelloReply> {
    const reply = await this.request(Msg.HELLO, { protocolVersion: PROTOCOL_VERSION }, { minTimeoutMs });
    this.creditBytes = reply.rxCreditBytes;
    return reply;
  }

  /** Sends a request and resolves with its decoded reply; rejects with a LinkError (see errors.ts). */
  request<T extends RequestType>(type: T, fields: Requests[T], opts: RequestOptions = {}): Promise<Replies[T]> {
    const label = opts.label ?? messageName(type);
    if (this.failure) return Promise.reject(this.wrap(this.failure, label));
    const payload = encodePayload(type as MessageType, fields as never);
    return new Promise<Frame>((resolve, reject) => {
      this.queue.push(this.pending(type, payload, label, opts.minTimeoutMs ?? 0, resolve, reject));
      this.counters.requests++;
      this.pump();
    }).then((f) => {
      try {
        return decodePayload((type | REPLY) as MessageType, f.payload) as unknown as Replies[T];
      } catch (e) {
        throw this.wrap(e as Error, label);
      }
    });
  }

  private pending(type: RequestType, payload: Uint8Array, label: string, minTimeoutMs: number, resolve: Pending['resolve'], reject: Pending['reject']): Pending {
    return {
      type,
      payload,
      label,
      minTimeoutMs,
      seq: -1,
      wireBytes: 0,
      attempts: 0,
      rtoMs: 0,
      timer: undefined,
      lastChance: false,
      writing: 0,
      firstSentAt: 0,
      lastSentAt: 0,
      rxBytesAtFirstSend: 0,
      dropsAtFirstSend: 0,
      resolve,
      reject,
    };
  }

  /** Fails every request, queued or in flight, and every later one, with `err` (e.g. the board died). */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.abandonAll((p) => this.wrap(err, p.label));
  }

  get failed(): Error | null {
    return this.failure;
  }

  /** Stops listening to the line; pending requests fail. */
  detach(reason = 'the session was closed'): void {
    this.line.off('frame', this.onFrameBound);
    this.line.off('dropped', this.onDroppedBound);
    this.line.off('banner', this.onBannerBound);
    this.fail(new HilError(reason));
  }

  private abandonAll(why: (p: Pending) => Error): void {
    const all = [...this.inFlight.values(), ...this.queue.splice(0)];
    this.inFlight.clear();
    this.inFlightBytes = 0;
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(why(p));
    }
  }

  private wrap(err: Error, label: string): Error {
    if (err instanceof LinkError && err.request === label) return err;
    const hint = err instanceof HilError ? err.hint : undefined;
    return new LinkError(`${label}: ${err.message}`, label, hint);
  }

  private pump(): void {
    if (this.needHello && this.queue.length && this.queue[0]!.type !== Msg.HELLO && this.inFlight.size === 0 && !this.failure) this.queueResync();
    while (this.queue.length && !this.failure) {
      const next = this.queue[0]!;
      const isHello = next.type === Msg.HELLO;
      const oldest: Pending | undefined = this.inFlight.values().next().value;
      if (oldest) {
        // HELLO restarts the device's sequence and clears its memory of replies, so nothing may overlap it.
        if (isHello || oldest.type === Msg.HELLO || this.creditBytes === 0) break;
        // Every retransmission stays answerable: the oldest unanswered request is among the last
        // DUP_WINDOW the device can have executed, since none DUP_WINDOW or more ahead of it was sent.
        if (seqAhead(oldest.seq, this.nextSeq) >= DUP_WINDOW) break;
        if (this.inFlight.size >= this.window) break;
      }
      const seq = isHello ? 0 : this.nextSeq;
      const wireBytes = encodeWireFrame({ type: next.type, flags: 0, seq, payload: next.payload }).length;
      const limit = Math.min(this.creditBytes, MAX_CREDIT_BYTES);
      if (oldest && this.inFlightBytes + wireBytes > limit) break;
      this.queue.shift();
      if (isHello) this.nextSeq = 1;
      else this.nextSeq = this.nextSeq === 0xffff ? 1 : this.nextSeq + 1;
      next.seq = seq;
      next.wireBytes = wireBytes;
      next.rtoMs = Math.max(this.estimator(next.type).rtoMs, next.minTimeoutMs);
      this.inFlight.set(seq, next);
      this.inFlightBytes += wireBytes;
      this.send(next);
    }
  }

  /** A HELLO ahead of the queue, to restart a sequence the device and the host no longer agree on. */
  private queueResync(): void {
    this.counters.resyncs++;
    this.log('info', 'resynchronising the link with HELLO after a failed request');
    const payload = encodePayload(Msg.HELLO, { protocolVersion: PROTOCOL_VERSION });
    const hello = this.pending(
      Msg.HELLO,
      payload,
      'HELLO (resynchronising the link)',
      0,
      (f) => {
        try {
          this.creditBytes = decodePayload(Reply.HELLO, f.payload).rxCreditBytes;
        } catch (e) {
          this.log('warn', (e as Error).message);
        }
      },
      () => {},
    );
    this.queue.unshift(hello);
  }

  private send(p: Pending): void {
    const retransmission = p.attempts > 0;
    p.attempts++;
    const wire = encodeWireFrame({ type: p.type, flags: retransmission ? FLAG_RETRANSMIT : 0, seq: p.seq, payload: p.payload });
    this.counters.bytesSent += wire.length;
    p.writing++;
    this.line.write(wire).then(
      () => {
        p.writing--;
        // The deadline runs from the moment the bytes left; the reply may even have beaten the callback.
        if (this.inFlight.get(p.seq) !== p) return;
        const t = now();
        if (!retransmission) {
          p.firstSentAt = t;
          p.rxBytesAtFirstSend = this.rxBytes();
          p.dropsAtFirstSend = this.drops();
        }
        p.lastSentAt = t;
        this.arm(p, p.rtoMs);
      },
      (err: Error) => {
        p.writing--;
        const explain = this.opts.explainLineError;
        if (!explain) return this.fail(err);
        void explain(err).then(
          (why) => this.fail(why),
          () => this.fail(err),
        );
      },
    );
  }

  /** Times the copy just sent; the last one waits only for what is left of the give-up budget. */
  private arm(p: Pending, ms: number): void {
    clearTimeout(p.timer);
    const t = now();
    const left = Math.max(p.firstSentAt, this.progressAt) + this.budgetMs(p) - t;
    p.lastChance = left <= ms;
    p.timer = setTimeout(() => this.onTimeout(p), Math.max(1, Math.min(ms, left)));
  }

  private budgetMs(p: Pending): number {
    return Math.max(this.opts.giveUpMs, p.minTimeoutMs);
  }

  private drops(): number {
    return this.counters.rxCorrupt + this.counters.deviceDrops;
  }

  private onTimeout(p: Pending): void {
    if (this.inFlight.get(p.seq) !== p) return;
    const t = now();
    // No progress: neither this request nor any other was answered since the budget began.
    const since = Math.max(p.firstSentAt, this.progressAt);
    // A timer may fire a fraction of a millisecond early by this clock, so the last one is marked.
    if (p.lastChance || since + this.budgetMs(p) <= t) {
      // On a loaded host a later request's timer can fire before an earlier one's. When the earlier one's
      // budget has run out too, it is the request that failed (the later ones only wait behind it), so it
      // is the one reported and the rest are abandoned after it. Its deadline is compared with this one's,
      // not only with the clock: this timer may be the early-firing last chance, and two requests sent in
      // the same millisecond share a deadline.
      const deadline = (q: Pending) => Math.max(q.firstSentAt, this.progressAt) + this.budgetMs(q);
      const oldest = this.inFlight.values().next().value as Pending | undefined;
      const root = oldest && oldest !== p && deadline(oldest) <= Math.max(t, deadline(p)) ? oldest : p;
      const rootSince = Math.max(root.firstSentAt, this.progressAt);
      return this.giveUp(root, t - rootSince, rootSince === root.firstSentAt);
    }
    this.window = 1;
    this.counters.retransmissions++;
    this.counters.timeouts++;
    this.log('warn', `${p.label} (seq ${p.seq}): no reply within ${Math.round(p.rtoMs)} ms, retransmitting (attempt ${p.attempts + 1})`);
    if (p.minTimeoutMs === 0) this.estimator(p.type).backoff(p.rtoMs);
    p.rtoMs = Math.min(p.rtoMs * 2, Math.max(this.opts.rtoMaxMs, p.minTimeoutMs));
    this.send(p);
  }

  private giveUp(p: Pending, waitedMs: number, fromFirstSend: boolean): void {
    this.counters.failures++;
    const rxStart = fromFirstSend ? p.rxBytesAtFirstSend : Math.max(p.rxBytesAtFirstSend, this.progressRxBytes);
    const dropsStart = fromFirstSend ? p.dropsAtFirstSend : Math.max(p.dropsAtFirstSend, this.progressDrops);
    const err =
      this.rxBytes() === rxStart
        ? new DeviceHungError(p.label, p.seq, p.attempts, waitedMs)
        : new LinkNoisyError(p.label, p.seq, p.attempts, waitedMs, this.drops() - dropsStart);
    this.log('warn', err.message);
    // Whether the device executed it is unknown, so the sequence is too; and what was issued after it
    // may depend on it (the next frame of a stream, the next chunk of an upload): all of it fails, and
    // the next request starts with HELLO.
    this.settle(p);
    this.needHello = true;
    p.reject(err);
    this.abandonAll((q) => new LinkError(`${q.label}: not answered, an earlier request failed: ${err.message}`, q.label, err.hint));
  }

  private settle(p: Pending): void {
    clearTimeout(p.timer);
    this.inFlight.delete(p.seq);
    this.inFlightBytes -= p.wireBytes;
  }

  /** A corrupt chunk came in, or the device said it dropped one: some frame of ours or its reply is lost. */
  private onDropped(): void {
    this.counters.rxCorrupt++;
    this.fastRetransmit();
  }

  /**
   * On evidence of a loss, the oldest unanswered request is sent again at once instead of waiting out
   * its timeout: a lost request or reply holds up everything behind it, and its copy is harmless if the
   * device had executed it (the reply comes from its memory). The requests behind it follow when it is
   * answered (onFrame). Which copy a complaint is about cannot be told (on a pty a complaint about the
   * copy just sent comes back within a fraction of a millisecond, as fast as the device's complaints
   * about the copies before it), and a needless copy costs bytes where a missed one costs a timeout,
   * so every complaint counts, except while a copy is still being written.
   */
  private fastRetransmit(): void {
    const oldest: Pending | undefined = this.inFlight.values().next().value;
    if (!oldest || oldest.lastSentAt === 0 || oldest.writing > 0) return;
    this.resendNow(oldest);
  }

  private resendNow(p: Pending): void {
    this.window = 1;
    this.counters.retransmissions++;
    this.counters.fastRetransmits++;
    this.send(p);
  }

  private onBanner(line: string): void {
    // A banner before any reply answers a wake line sent while the session opened (the device handles
    // the wake line before any request, and the line keeps order); after one, the device restarted.
    if (this.counters.replies === 0) {
      this.log('debug', `ignoring a banner that answered a wake line: ${line}`);
      return;
    }
    this.counters.deviceResets++;
    this.needHello = true;
    const err = new DeviceResetError('the session', line);
    this.log('warn', err.message);
    this.abandonAll((p) => new DeviceResetError(p.label, line));
    this.opts.onDeviceReset?.(err);
  }

  private onFrame(f: Frame): void {
    if (f.type === Msg.LOG) {
      this.counters.logs++;
      try {
        const m = decodePayload(Msg.LOG, f.payload);
        this.log(m.level >= 2 ? 'warn' : m.level === 1 ? 'info' : 'debug', `device: ${m.text}`);
        // Every warning the device sends says it dropped a frame (docs/protocol.md §2, §4).
        if (m.level >= 2) {
          this.counters.deviceDrops++;
          this.fastRetransmit();
        }
      } catch (e) {
        this.log('warn', (e as Error).message);
      }
      return;
    }
    const p = this.inFlight.get(f.seq);
    if (!p) {
      this.counters.staleReplies++;
      this.log('debug', `ignoring ${messageName(f.type)} with seq ${f.seq}: nothing in flight has it`);
      return;
    }
    const t = now();
    this.settle(p);
    this.counters.replies++;
    this.progressAt = t;
    this.progressRxBytes = this.rxBytes();
    this.progressDrops = this.drops();
    if (p.type === Msg.HELLO) this.needHello = false;
    // Karn's rule: a reply to a request sent more than once may answer any copy. A floored timeout marks
    // a request slower than the rest of its type, whose round trip would mislead the estimate.
    if (p.attempts === 1) this.window = Math.min(DUP_WINDOW, this.window + 1);
    if (p.attempts === 1 && p.firstSentAt > 0 && p.minTimeoutMs === 0) {
      this.estimator(p.type).sample(t - p.firstSentAt);
    }
    // A copy of a later request that went out before this one's last copy reached a device that had not
    // executed this one, and was dropped as out of sequence (unless an earlier copy of this one had
    // run): it goes again now rather than at its timeout.
    if (p.attempts > 1) {
      for (const q of this.inFlight.values()) if (q.lastSentAt !== 0 && q.lastSentAt <= p.lastSentAt) this.resendNow(q);
    }
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
