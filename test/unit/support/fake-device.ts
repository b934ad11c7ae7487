/**
 * An in-process device for the link's unit tests: speaks docs/protocol.md over a real Duplex stream pair,
 * with the firmware's rules (in-order execution, a 4-request duplicate window) and hooks to lose or delay
 * traffic. RUN_FRAME returns the input reversed, so a reply is checkably the answer to its request.
 */
import { Duplex, PassThrough } from 'node:stream';
import { encodeWireFrame, FrameDecoder, type Frame } from '../../../src/link/frame.js';
import { decodePayload, encodePayload, encodeRecords, Msg, PROTOCOL_VERSION, REPLY, Reply, type MessageType, type Payloads } from '../../../src/link/messages.js';

export interface FakeDeviceOptions {
  rxCreditBytes?: number;
  /** Return true to lose this request on the way in (`copy` counts arrivals of this seq, from 1). */
  dropRequest?: (f: Frame, copy: number) => boolean;
  /** Return true to lose this reply on the way out (the request was executed). */
  dropReply?: (f: Frame, copy: number) => boolean;
  /** Delay before each reply (ms); 0 answers on the next macrotask, letting requests pile up. */
  replyDelayMs?: number;
  /** Never answer at all. */
  silent?: boolean;
  /** Say so in a warning LOG when a request is dropped, as the firmware does. */
  logDrops?: boolean;
  /** Request types this firmware predates: answered with error 2 (unknown type), as the firmware does. */
  unknownTypes?: number[];
}

export class FakeDevice {
  /** The host's end of the line. */
  readonly hostSide: Duplex;
  private readonly toHost = new PassThrough();
  private readonly toDevice = new PassThrough();
  private lastSeq: number | null = null;
  private readonly window: { type: number; seq: number; wire: Buffer }[] = [];
  private readonly arrivals = new Map<number, number>();
  private readonly replyCopies = new Map<number, number>();
  /** Executed requests, in order. */
  readonly executed: { type: number; seq: number; flags: number; frameIndex?: number }[] = [];
  /** Every request frame that arrived (before loss). */
  readonly received: Frame[] = [];
  /** Unanswered request bytes on the line, as the device sees them, and its peak. */
  private unanswered = 0;
  peakUnansweredBytes = 0;
  peakUnansweredRequests = 0;
  private unansweredRequests = 0;

  constructor(private readonly opts: FakeDeviceOptions = {}) {
    this.hostSide = Duplex.from({ readable: this.toHost, writable: this.toDevice });
    const decoder = new FrameDecoder();
    this.toDevice.on('data', (b: Buffer) => {
      decoder.write(b);
    });
    decoder.on('data', (f: Frame) => this.onFrame(f));
  }

  private onFrame(f: Frame): void {
    this.received.push(f);
    const wireBytes = encodeWireFrame(f).length;
    const copy = (this.arrivals.get(f.seq) ?? 0) + 1;
    this.arrivals.set(f.seq, copy);
    if (this.opts.dropRequest?.(f, copy)) {
      // The firmware would have seen a bad CRC.
      this.logDrop('dropped a frame with a bad CRC');
      return;
    }
    this.unanswered += wireBytes;
    this.unansweredRequests++;
    this.peakUnansweredBytes = Math.max(this.peakUnansweredBytes, this.unanswered);
    this.peakUnansweredRequests = Math.max(this.peakUnansweredRequests, this.unansweredRequests);
    const answered = () => {
      this.unanswered -= wireBytes;
      this.unansweredRequests--;
    };
    if (this.opts.silent) return;
    if (f.type === Msg.HELLO) {
      this.window.length = 0;
      this.lastSeq = f.seq;
      this.send(f, Reply.HELLO, {
        protocolVersion: PROTOCOL_VERSION,
        maxPayload: 1024,
        rxCreditBytes: this.opts.rxCreditBytes ?? 4096,
        modelPartitionBytes: 1 << 20,
        arenaCapacityBytes: 1 << 16,
        clockHz: 1_000_000,
        latencyKind: 2,
        firmwareName: 'fake',
        firmwareVersion: '0',
        boardName: 'fake',
        buildId: 'test',
      }, answered);
      return;
    }
    const remembered = this.window.find((w) => w.seq === f.seq && w.type === f.type);
    if (remembered) {
      this.later(() => {
        answered();
        this.toHost.write(remembered.wire);
      });
      return;
    }
    const next = this.lastSeq === null ? f.seq : this.lastSeq === 0xffff ? 1 : this.lastSeq + 1;
    if (f.seq !== next) {
      answered(); // dropped: the host will retransmit
      this.logDrop('dropped a request that arrived out of sequence (its predecessor was lost)');
      return;
    }
    this.lastSeq = f.seq;
    const entry: { type: number; seq: number; flags: number; frameIndex?: number } = { type: f.type, seq: f.seq, flags: f.flags };
    this.executed.push(entry);
    if (this.opts.unknownTypes?.includes(f.type)) {
      this.send(f, Msg.ERROR, { code: 2, message: `unknown message type 0x${f.type.toString(16)}` }, answered, true);
      return;
    }
    switch (f.type) {
      case Msg.RUN_PRELOADED_BATCH: {
        // Figures that name their frame and input offset, so a record is checkably its frame's.
        const r = decodePayload(Msg.RUN_PRELOADED_BATCH, f.payload);
        entry.frameIndex = r.firstFrameIndex;
        const records = Array.from({ length: r.nFrames }, (_, k) => ({
          latency: 1000n + BigInt(r.firstFrameIndex + k),
          modelledCycles: 1000 + r.firstFrameIndex + k,
          macs: 1,
          weightBytes: 2,
          elements: 3,
          ops: 4,
          networkLatency: 500n + BigInt(r.firstFrameIndex + k),
          outputCrc32: r.inputOffset + 256 * k,
        }));
        this.send(f, Reply.RUN_PRELOADED_BATCH, { firstFrameIndex: r.firstFrameIndex, nFrames: r.nFrames, records: encodeRecords('PRELOADED_FRAME', records) }, answered, true);
        return;
      }
      case Msg.RUN_FRAME: {
        const r = decodePayload(Msg.RUN_FRAME, f.payload);
        entry.frameIndex = r.frameIndex;
        const out = Int16Array.from(r.samples).reverse();
        this.send(f, Reply.RUN_FRAME, {
          frameIndex: r.frameIndex,
          latency: 1000n + BigInt(r.frameIndex),
          modelledCycles: 1000 + r.frameIndex,
          macs: 1,
          weightBytes: 2,
          elements: 3,
          ops: 4,
          networkLatency: 500n + BigInt(r.frameIndex),
          samples: out,
        }, answered, true);
        return;
      }
      case Msg.MODEL_ACTIVATE:
        this.send(f, Reply.MODEL_ACTIVATE, { blobBytes: 100, arenaBytes: 10, nTensors: 1, nOps: 1, nFft: 256, hop: 128, modelId: 1 }, answered, true);
        return;
      case Msg.GET_STATS:
        this.send(f, Msg.ERROR, { code: 3, message: 'GET_STATS: the fake device keeps no statistics' }, answered, true);
        return;
      default:
        this.send(f, (f.type | REPLY) as MessageType, {} as never, answered, true);
    }
  }

  private logDrop(text: string): void {
    if (!this.opts.logDrops || this.opts.silent) return;
    const wire = encodeWireFrame({ type: Msg.LOG, flags: 0, seq: 0, payload: encodePayload(Msg.LOG, { level: 2, text }) });
    this.later(() => this.toHost.write(wire));
  }

  private later(fn: () => void): void {
    setTimeout(fn, this.opts.replyDelayMs ?? 0);
  }

  private send<T extends MessageType>(req: Frame, type: T, fields: Payloads[T], answered: () => void, remember = false): void {
    const wire = encodeWireFrame({ type, flags: 0, seq: req.seq, payload: encodePayload(type, fields) });
    if (remember) {
      this.window.push({ type: req.type, seq: req.seq, wire });
      if (this.window.length > 4) this.window.shift();
    }
    const copy = (this.replyCopies.get(req.seq) ?? 0) + 1;
    this.replyCopies.set(req.seq, copy);
    this.later(() => {
      answered();
      if (this.opts.dropReply?.(req, copy)) return;
      this.toHost.write(wire);
    });
  }

  /** Sends raw bytes to the host, e.g. a reply nobody asked for. */
  inject(bytes: Uint8Array): void {
    this.toHost.write(bytes);
  }
}
