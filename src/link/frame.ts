/**
 * Frames (docs/protocol.md §2): `type:u8 flags:u8 seq:u16 len:u16 payload[len] crc:u32`, little-endian,
 * on the wire as `0x00 COBS(frame) 0x00`. The CRC is zlib's CRC-32 (node:zlib, Node >= 20.15).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { FLAG_RETRANSMIT, FRAME_OVERHEAD_BYTES, MAX_PAYLOAD } from '../spec/protocol.js';
import { cobsDecode, cobsEncode } from './cobs.js';

export { FLAG_RETRANSMIT, MAX_PAYLOAD };
export const FRAME_OVERHEAD = FRAME_OVERHEAD_BYTES;

export interface Frame {
  type: number;
  flags: number;
  seq: number;
  payload: Uint8Array;
}

/** The frame's bytes before COBS: header, payload, CRC. */
export function encodeRawFrame(f: Frame): Uint8Array {
  if (f.payload.length > MAX_PAYLOAD) throw new RangeError(`frame payload of ${f.payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const raw = new Uint8Array(FRAME_OVERHEAD + f.payload.length);
  const dv = new DataView(raw.buffer);
  dv.setUint8(0, f.type);
  dv.setUint8(1, f.flags);
  dv.setUint16(2, f.seq, true);
  dv.setUint16(4, f.payload.length, true);
  raw.set(f.payload, 6);
  dv.setUint32(6 + f.payload.length, crc32(raw.subarray(0, 6 + f.payload.length)), true);
  return raw;
}

/** The frame as sent: leading delimiter, COBS, trailing delimiter. */
export function encodeWireFrame(f: Frame): Buffer {
  const body = cobsEncode(encodeRawFrame(f));
  const wire = Buffer.alloc(body.length + 2);
  wire.set(body, 1);
  return wire;
}

export type DropReason = 'bad COBS' | 'shorter than 10 bytes' | 'len disagrees with length' | 'bad CRC';

/** Decodes one chunk received between delimiters: the frame, or why it must be dropped. */
export function decodeChunk(chunk: Uint8Array): Frame | { dropped: DropReason } {
  const raw = cobsDecode(chunk);
  if (!raw) return { dropped: 'bad COBS' };
  if (raw.length < FRAME_OVERHEAD) return { dropped: 'shorter than 10 bytes' };
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const len = dv.getUint16(4, true);
  if (len + FRAME_OVERHEAD !== raw.length) return { dropped: 'len disagrees with length' };
  if (crc32(raw.subarray(0, 6 + len)) !== dv.getUint32(6 + len, true)) return { dropped: 'bad CRC' };
  return { type: raw[0]!, flags: raw[1]!, seq: dv.getUint16(2, true), payload: raw.slice(6, 6 + len) };
}

/** Longest chunk worth buffering: one maximal encoded frame. Longer garbage is dropped whole. */
const MAX_CHUNK = FRAME_OVERHEAD + MAX_PAYLOAD + Math.ceil((FRAME_OVERHEAD + MAX_PAYLOAD) / 254) + 1;

/**
 * A boot banner (docs/protocol.md §1) among binary bytes. It holds no 0x00, so it sits in the chunk being
 * collected until the next delimiter, which a device that restarted may not send for a long time.
 */
const BANNER = /HIL-FW [^\n]*\n(?:[^\n]*\n)*?HIL-READY\r?\n/;

/**
 * Bytes in, frames out. Splits on 0x00, ignores empty chunks, and reports every dropped chunk as a
 * 'dropped' event (reason, length) so a transport can log line noise, and a boot banner among the frames
 * as a 'banner' event (its HIL-FW line) the moment its HIL-READY line is complete.
 */
export class FrameDecoder extends Transform {
  private parts: Buffer[] = [];
  private held = 0;
  private overflow = false;
  /** Every byte that arrived, frames or not: a line that delivers only garbage is still alive. */
  bytesIn = 0;

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytesIn += chunk.length;
    let start = 0;
    for (let i = chunk.indexOf(0); i !== -1; i = chunk.indexOf(0, start)) {
      this.hold(chunk.subarray(start, i));
      this.finishChunk();
      start = i + 1;
    }
    this.hold(chunk.subarray(start));
    if (this.held && chunk.indexOf(0x0a, start) !== -1) this.findBanner();
    done();
  }

  private findBanner(): void {
    const m = BANNER.exec(Buffer.concat(this.parts).toString('latin1'));
    if (!m) return;
    this.parts = [];
    this.held = 0;
    this.emit('banner', m[0].slice(0, m[0].indexOf('\n')).replace(/\r$/, ''));
  }

  private hold(bytes: Buffer): void {
    if (bytes.length === 0 || this.overflow) return;
    if (this.held + bytes.length > MAX_CHUNK) {
      this.overflow = true;
      return;
    }
    this.parts.push(bytes);
    this.held += bytes.length;
  }

  private finishChunk(): void {
    const held = this.held;
    const overflow = this.overflow;
    const chunk = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.held = 0;
    this.overflow = false;
    if (overflow) {
      this.emit('dropped', 'longer than the largest frame', held);
      return;
    }
    if (held === 0) return;
    // A banner followed by a frame in the same read ends at that frame's leading delimiter: it is a
    // whole chunk here, not a tail for findBanner, and must not pass for a corrupt frame.
    const banner = BANNER.exec(chunk.toString('latin1'));
    if (banner) {
      this.emit('banner', banner[0].slice(0, banner[0].indexOf('\n')).replace(/\r$/, ''));
      return;
    }
    const f = decodeChunk(chunk);
    if ('dropped' in f) this.emit('dropped', f.dropped, held);
    else this.push(f);
  }
}
