/**
 * A session with one board over one line: what a benchmark run does with it (docs/protocol.md §5).
 * Boards create sessions (src/board); everything here is board-independent.
 */
import { crc32 } from 'node:zlib';
import { HilError } from '../util/errors.js';
import { ProtocolClient, type LinkStats, type RttSummary } from './client.js';
import { DeviceError, DeviceResetError, StreamStateError } from './errors.js';
import { MAX_PAYLOAD } from './frame.js';
import {
  decodeRecords,
  ErrorCode,
  latencyKindName,
  Msg,
  LAYOUTS,
  PRELOADED_FRAME_BYTES,
  Reply,
  type PreloadedFrameRecord,
  type RunPreloadedBatchReply,
  PROTOCOL_VERSION,
  type ModelActivateReply,
  type ConfigRequest,
  type HelloReply,
  type ModelRef,
  type GetStatsReply,
  type RunFrameReply,
} from './messages.js';
import type { Banner, LinkLog, StreamTransport } from './transport.js';
import { clientTiming, type LinkTiming } from './timing.js';

/** The board file's `link` section (milliseconds, counts, bytes), typed by its schema. */
export type { LinkTiming, LinkStats, RttSummary };

/** The counters of `after` minus those of `before`: what one clip cost the link. */
export function linkStatsDelta(before: LinkStats, after: LinkStats): LinkStats {
  const out = { ...after };
  for (const k of Object.keys(out) as (keyof LinkStats)[]) out[k] = after[k] - before[k];
  return out;
}

/**
 * How a frame's audio crosses the line (docs/protocol.md §3): `stream` sends the input hop and returns the
 * output hop (RUN_FRAME); `crc` sends the input and returns only the output's CRC-32 (RUN_FRAME_CRC);
 * `preload` sends neither: the input was placed in the device's audio partition by the board's loader
 * and the output's CRC-32 comes back (RUN_PRELOADED); `preload-batch` is `preload` with as many frames
 * per request as one reply's records hold (RUN_PRELOADED_BATCH), so the request and the reply's framing
 * cross the line once per batch instead of once per frame. A separate mode rather than what `preload`
 * does when it can, so that the two stay comparable on the same firmware and a row says which ran.
 */
export type LinkMode = 'stream' | 'crc' | 'preload' | 'preload-batch';
export const LINK_MODES: readonly LinkMode[] = ['stream', 'crc', 'preload', 'preload-batch'];
/** Modes whose clips the board's loader places in memory before boot. */
export const isPreloadMode = (mode: LinkMode): boolean => mode === 'preload' || mode === 'preload-batch';

/** CRC-32 (the frame CRC of docs/protocol.md §2) of int16 samples laid out little-endian: what a
 *  RUN_FRAME_CRC or RUN_PRELOADED reply carries for the device's output hop. */
export function samplesCrc32(samples: Int16Array): number {
  const le = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) le.writeInt16LE(samples[i]!, 2 * i);
  return crc32(le);
}

export interface FrameResult {
  /** The output hop; null when only its CRC came back (link modes crc and preload). */
  output: Int16Array | null;
  /** CRC-32 of the output hop's samples (samplesCrc32), computed here when the samples came back. */
  outputCrc32: number;
  /** The whole frame, in the unit of the board's latency kind; a bigint only beyond 2^53. */
  latency: bigint | number;
  /** The graph alone (no STFT front end or overlap-add), same unit and kind. */
  networkLatency: bigint | number;
  modelledCycles: number;
  macs: number;
  weightBytes: number;
  elements: number;
  ops: number;
}

/** A frame whose output samples came back (RUN_FRAME). */
export interface StreamedFrame extends FrameResult {
  output: Int16Array;
}

export interface SessionOptions {
  link: LinkTiming;
  /** What the board's flasher put in the partition before boot, if anything. */
  placed?: ModelRef | null;
  log?: LinkLog;
  /** Called by close() after the line is closed (a board stops its process, say). */
  onClose?: () => Promise<void>;
  /** When the line closes under the session: why, if the board knows (its process died, say). */
  explainLineClosed?: () => Promise<Error | null>;
}

/** The upload's smallest chunk: below this the frame overhead dominates. */
const MIN_CHUNK_BYTES = 64;
/** Chunks queued ahead of the line during an upload: enough to fill the duplicate window. */
const UPLOAD_AHEAD = 4;

/** The RUN_PRELOADED_BATCH reply before its records: every field of its layout but the `records` tail. */
const BATCH_REPLY_FIXED_BYTES = LAYOUTS[Reply.RUN_PRELOADED_BATCH].reduce(
  (n, [name, kind, pad]) => n + (name === 'records' ? 0 : kind === 'pad' ? pad! : ({ u8: 1, u16: 2, u32: 4, u64: 8 } as Record<string, number>)[kind]!),
  0,
);

type FrameFigures = Omit<PreloadedFrameRecord, 'outputCrc32'> & { outputCrc32?: number };

/** A frame reply's figures as a FrameResult; a 64-bit latency stays a bigint only beyond 2^53. */
function frameResult(r: FrameFigures, output: Int16Array | null): FrameResult {
  const small = (v: bigint) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  return {
    output,
    outputCrc32: output ? samplesCrc32(output) : r.outputCrc32!,
    latency: small(r.latency),
    networkLatency: small(r.networkLatency),
    modelledCycles: r.modelledCycles,
    macs: r.macs,
    weightBytes: r.weightBytes,
    elements: r.elements,
    ops: r.ops,
  };
}

export class Session {
  readonly client: ProtocolClient;
  private helloReply: HelloReply | null = null;
  private active: ModelActivateReply | null = null;
  private closed = false;
  /** What the partition is known to hold without an upload. */
  private placed: ModelRef | null;
  /**
   * Why the model's stream state is unknown, if it is: a RUN_FRAME or STREAM_RESET failed (the device
   * may or may not have run it) or the device reset. RUN_FRAME is refused until STREAM_RESET succeeds,
   * so a clip never continues from a state the host engine does not share.
   */
  private streamLost: Error | null = null;
  /** Set when the device reset: the model must be loaded again. */
  private resetError: DeviceResetError | null = null;
  /** The last CONFIG sent, and whether the device lost it in a reset: loadModel sends it again. */
  private cost: ConfigRequest | null = null;
  private costLost = false;

  constructor(
    readonly transport: StreamTransport,
    readonly banner: Banner,
    private readonly opts: SessionOptions,
  ) {
    this.placed = opts.placed ?? null;
    this.client = new ProtocolClient(transport, {
      ...clientTiming(opts.link),
      log: opts.log,
      explainLineError: async (err) => (await opts.explainLineClosed?.()) ?? err,
      onDeviceReset: (err) => {
        this.resetError = err;
        this.active = null;
        this.placed = null;
        this.streamLost = err;
        this.costLost = this.cost !== null;
      },
    });
    // Pending requests fail at once with the reason, instead of waiting out their timeouts.
    transport.on('close', () => {
      if (this.closed) return;
      void (async () => {
        const why = (await this.opts.explainLineClosed?.()) ?? new HilError(`the line to ${transport.where} closed`);
        this.client.fail(why);
      })();
    });
  }

  /** The last HELLO reply. */
  get device(): HelloReply | null {
    return this.helloReply;
  }

  /** Link counters since the session opened (retransmissions, corrupt frames, resyncs…), a snapshot. */
  linkStats(): LinkStats {
    return this.client.stats;
  }

  /** The adaptive timeouts as they stand, per request type. */
  linkTimeouts(): Record<string, RttSummary> {
    return this.client.rttSummary();
  }

  /** The active model, as the device reported it. */
  get model(): ModelActivateReply | null {
    return this.active;
  }

  async hello(): Promise<HelloReply> {
    const h = await this.client.hello();
    if (h.protocolVersion !== PROTOCOL_VERSION) {
      throw new HilError(`the board speaks protocol ${h.protocolVersion}, hil speaks ${PROTOCOL_VERSION}`, 'rebuild and reflash the firmware');
    }
    if (h.maxPayload < 16) throw new HilError(`the board announces a max payload of ${h.maxPayload} bytes, too small for any message`);
    this.opts.log?.(
      'info',
      `${h.boardName}: ${h.firmwareName} ${h.firmwareVersion} build ${h.buildId}, latency ${latencyKindName(h.latencyKind)} at ${h.clockHz} Hz`,
    );
    this.helloReply = h;
    return h;
  }

  async configure(cost: ConfigRequest): Promise<void> {
    await this.client.request(Msg.CONFIG, cost);
    this.cost = cost;
    this.costLost = false;
  }

  /**
   * Makes `blob` the active model: uploads it in chunks unless the board's flasher already placed these
   * exact bytes, then activates it. Returns the device's MODEL_ACTIVATE reply. After a device reset it
   * first sends the last CONFIG again, which the restart cleared.
   */
  async loadModel(blob: Uint8Array): Promise<ModelActivateReply> {
    const h = this.helloReply ?? (await this.hello());
    if (this.costLost && this.cost) await this.configure(this.cost);
    const ref: ModelRef = { size: blob.length, crc32: crc32(blob) };
    if (blob.length > h.modelPartitionBytes) {
      throw new HilError(
        `the model is ${blob.length} bytes, the board's model partition holds ${h.modelPartitionBytes}`,
        'compress the model further or pick a board with more flash',
      );
    }
    const placed = this.placed;
    if (!placed || placed.size !== ref.size || placed.crc32 !== ref.crc32) await this.upload(blob, ref, h);
    this.active = null;
    this.active = await this.client.request(Msg.MODEL_ACTIVATE, ref, { minTimeoutMs: this.opts.link.activate_ms });
    this.resetError = null;
    this.streamLost = null;
    return this.active;
  }

  private async upload(blob: Uint8Array, ref: ModelRef, h: HelloReply): Promise<void> {
    this.placed = null; // MODEL_BEGIN starts overwriting the partition
    await this.client.request(Msg.MODEL_BEGIN, ref);
    const largest = Math.max(1, Math.min(this.opts.link.chunk_bytes, h.maxPayload - 4, MAX_PAYLOAD - 4));
    // A chunk's chance to cross a noisy line falls with its length, so the chunk shrinks while chunks
    // need retransmitting and grows back while they do not. A few are queued ahead; the client's window
    // decides how many are on the line.
    let size = largest;
    let retransmissions = this.client.stats.retransmissions;
    const replies = new Set<Promise<unknown>>();
    let failed: Error | null = null;
    for (let offset = 0; offset < blob.length && !failed; ) {
      const now = this.client.stats.retransmissions;
      size = now > retransmissions ? Math.max(MIN_CHUNK_BYTES, size >> 1) : Math.min(largest, size * 2);
      retransmissions = now;
      const data = blob.subarray(offset, Math.min(offset + size, blob.length));
      const p = this.client.request(Msg.MODEL_CHUNK, { offset, data }, { label: `MODEL_CHUNK at offset ${offset}` });
      const tracked: Promise<unknown> = p.then(
        () => replies.delete(tracked),
        (e: Error) => (failed ??= e),
      );
      replies.add(tracked);
      offset += data.length;
      if (replies.size >= UPLOAD_AHEAD) await Promise.race(replies);
    }
    await Promise.all(replies);
    if (failed) throw failed;
    this.placed = ref;
  }

  async resetStream(): Promise<void> {
    if (this.resetError && !this.active) throw new DeviceResetError('STREAM_RESET', this.resetError.banner);
    try {
      await this.client.request(Msg.STREAM_RESET, {});
    } catch (e) {
      this.streamLost ??= e as Error;
      throw e;
    }
    this.streamLost = null;
  }

  /** Runs one hop of PCM (RUN_FRAME). Calls may overlap: the client pipelines them within the device's credit. */
  async runFrame(index: number, samples: Int16Array): Promise<StreamedFrame> {
    const label = `RUN_FRAME frame_index ${index}`;
    const hop = this.checkSamples(label, samples);
    const r = await this.counted(label, index, () => this.client.request(Msg.RUN_FRAME, { frameIndex: index >>> 0, samples }, { label }), hop);
    return r as StreamedFrame;
  }

  /** runFrame, but only the output's CRC-32 comes back (RUN_FRAME_CRC). */
  async runFrameCrc(index: number, samples: Int16Array): Promise<FrameResult> {
    const label = `RUN_FRAME_CRC frame_index ${index}`;
    this.checkSamples(label, samples);
    return this.counted(label, index, () => this.client.request(Msg.RUN_FRAME_CRC, { frameIndex: index >>> 0, samples }, { label }), null);
  }

  private checkSamples(label: string, samples: Int16Array): number {
    const hop = this.frameHop(label);
    if (samples.length !== hop) throw new HilError(`runFrame: ${samples.length} samples given, the model's hop is ${hop}`);
    return hop;
  }

  /**
   * Runs the hop that starts `inputOffset` bytes into the device's audio partition, where the board's
   * loader placed the clips before boot (RUN_PRELOADED); the output's CRC-32 comes back.
   */
  async runPreloaded(index: number, inputOffset: number): Promise<FrameResult> {
    const label = `RUN_PRELOADED frame_index ${index}`;
    this.frameHop(label);
    return this.counted(label, index, () => this.client.request(Msg.RUN_PRELOADED, { frameIndex: index >>> 0, inputOffset }, { label }), null);
  }

  /**
   * The most frames one RUN_PRELOADED_BATCH may ask for: as many PRELOADED_FRAME records as fit the
   * device's max_payload after the reply's fixed part (25 at the 1024-byte maximum).
   */
  get maxBatchFrames(): number {
    const maxPayload = Math.min(this.helloReply?.maxPayload ?? MAX_PAYLOAD, MAX_PAYLOAD);
    return Math.max(0, Math.floor((maxPayload - BATCH_REPLY_FIXED_BYTES) / PRELOADED_FRAME_BYTES));
  }

  /**
   * Runs `count` consecutive preloaded hops, frame `first + k` reading its input at `inputOffset + k × 2 ×
   * hop` (RUN_PRELOADED_BATCH): the same frames, counters and CRCs as `count` runPreloaded calls, in one
   * request. A device whose firmware predates the message answers error 2, said here in one line.
   */
  async runPreloadedBatch(first: number, inputOffset: number, count: number): Promise<FrameResult[]> {
    const label = `RUN_PRELOADED_BATCH frame_index ${first}..${first + count - 1}`;
    this.frameHop(label);
    const max = this.maxBatchFrames;
    if (!Number.isInteger(count) || count < 1 || count > max) {
      throw new HilError(`runPreloadedBatch: ${count} frames asked for, one request holds 1 to ${max}`, 'split the frames into batches of at most that many');
    }
    let r: RunPreloadedBatchReply;
    try {
      r = await this.client.request(Msg.RUN_PRELOADED_BATCH, { firstFrameIndex: first >>> 0, inputOffset, nFrames: count }, { label });
    } catch (e) {
      this.streamLost ??= e as Error;
      if (e instanceof DeviceError && e.code === ErrorCode.UNKNOWN_TYPE) {
        throw new HilError(`${label}: the board's firmware does not know RUN_PRELOADED_BATCH (error 2, unknown type)`, 'rebuild and reflash the firmware, or use --link preload');
      }
      throw e;
    }
    if (r.firstFrameIndex !== first >>> 0 || r.nFrames !== count) {
      throw new HilError(`${label}: the reply is for ${r.nFrames} frames from frame_index ${r.firstFrameIndex}`);
    }
    const records = decodeRecords<PreloadedFrameRecord>(Reply.RUN_PRELOADED_BATCH, 'PRELOADED_FRAME', r.records);
    if (records.length !== count) throw new HilError(`${label}: the reply carries ${records.length} frame records, expected ${count}`);
    return records.map((f) => frameResult(f, null));
  }

  private frameHop(label: string): number {
    if (this.resetError && !this.active) throw new DeviceResetError(label, this.resetError.banner);
    const hop = this.active?.hop;
    if (hop === undefined) throw new HilError('runFrame before loadModel: no active model on the board');
    if (this.streamLost) throw new StreamStateError(label, this.streamLost);
    return hop;
  }

  /** Sends a frame request and turns its reply into a FrameResult; `hop` when samples come back. */
  private async counted(
    label: string,
    index: number,
    send: () => Promise<Omit<RunFrameReply, 'samples'> & { samples?: Int16Array; outputCrc32?: number }>,
    hop: number | null,
  ): Promise<FrameResult> {
    let r: Awaited<ReturnType<typeof send>>;
    try {
      r = await send();
    } catch (e) {
      this.streamLost ??= e as Error;
      throw e;
    }
    if (r.frameIndex !== index >>> 0) throw new HilError(`${label}: the reply is for frame_index ${r.frameIndex}`);
    let output: Int16Array | null = null;
    if (hop !== null) {
      if (r.samples?.length !== hop) throw new HilError(`${label}: the reply has ${r.samples?.length ?? 0} samples, expected ${hop}`);
      output = r.samples;
    }
    return frameResult(r, output);
  }

  async stats(): Promise<GetStatsReply> {
    return this.client.request(Msg.GET_STATS, {});
  }

  /** Ends the session: the line is closed and the board's own cleanup runs. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.detach();
    await this.transport.close();
    await this.opts.onClose?.();
  }
}
