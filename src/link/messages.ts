/**
 * Every message of docs/protocol.md §3, both directions: the host encodes requests and decodes replies, and
 * the tests' fake device does the opposite. One declarative layout per type keeps the two directions
 * from drifting apart.
 */
import type { CostParams } from '../engine/costModel.js';
import { HilError } from '../util/errors.js';

export const Msg = {
  HELLO: 0x01,
  CONFIG: 0x02,
  MODEL_BEGIN: 0x10,
  MODEL_CHUNK: 0x11,
  MODEL_ACTIVATE: 0x12,
  STREAM_RESET: 0x20,
  RUN_FRAME: 0x21,
  GET_STATS: 0x30,
  RESET: 0x3f,
  LOG: 0x7e,
  ERROR: 0x7f,
} as const;
export const REPLY = 0x80;
/** 2: RUN_FRAME replies carry network_latency (the graph alone). */
export const PROTOCOL_VERSION = 2;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(Msg).map(([k, v]) => [v, k]));

/** 'RUN_FRAME', 'RUN_FRAME reply', or the hex code of a type the protocol does not define. */
export function messageName(type: number): string {
  if (NAMES[type]) return NAMES[type]!;
  const request = type & ~REPLY;
  if (type & REPLY && NAMES[request] && request !== Msg.LOG && request !== Msg.ERROR) return `${NAMES[request]} reply`;
  return `type 0x${type.toString(16).padStart(2, '0')}`;
}

export const ERROR_CODES: Record<number, string> = {
  1: 'bad request',
  2: 'unknown type',
  3: 'bad state',
  4: 'model too large for the partition',
  5: 'model invalid',
  6: 'chunk out of order',
  7: 'protocol version unsupported',
  8: 'arena too small',
};

export const LatencyKind = { measured: 0, emulated: 1, modelled: 2 } as const;
export type LatencyKindName = keyof typeof LatencyKind;
export function latencyKindName(kind: number): LatencyKindName | `unknown (${number})` {
  const e = Object.entries(LatencyKind).find(([, v]) => v === kind);
  return e ? (e[0] as LatencyKindName) : `unknown (${kind})`;
}

export interface HelloRequest { protocolVersion: number }
export interface HelloReply {
  protocolVersion: number;
  maxPayload: number;
  rxCreditBytes: number;
  modelPartitionBytes: number;
  arenaCapacityBytes: number;
  clockHz: number;
  latencyKind: number;
  firmwareName: string;
  firmwareVersion: string;
  boardName: string;
  buildId: string;
}
/** CONFIG carries the docs/cost-model.md parameters; one type for the host engine and the link. */
export type { CostParams };
export interface ModelRef { size: number; crc32: number }
export interface ModelChunk { offset: number; data: Uint8Array }
export interface ChunkReply { bytesReceived: number }
export interface ActivateReply {
  blobBytes: number;
  arenaBytes: number;
  nTensors: number;
  nOps: number;
  nFft: number;
  hop: number;
  modelId: number;
}
export interface RunFrameRequest { frameIndex: number; samples: Int16Array }
export interface RunFrameReply {
  frameIndex: number;
  /** The whole frame, in the unit of the HELLO reply's latency kind. */
  latency: bigint;
  modelledCycles: number;
  macs: number;
  weightBytes: number;
  elements: number;
  ops: number;
  /** The graph alone (model-format.md §1 step 7), same unit and kind as `latency`. */
  networkLatency: bigint;
  samples: Int16Array;
}
export interface StatsReply {
  imageFlashBytes: number;
  modelFlashBytes: number;
  staticSramBytes: number;
  arenaBytes: number;
  stackHighWaterBytes: number;
  stackSizeBytes: number;
  framesRun: number;
}
export interface LogMessage { level: number; text: string }
export interface ErrorMessage { code: number; message: string }
export type Empty = Record<string, never>;

/** Reply types: the request's type with bit 7 set. */
export const Reply = {
  HELLO: 0x81,
  CONFIG: 0x82,
  MODEL_BEGIN: 0x90,
  MODEL_CHUNK: 0x91,
  MODEL_ACTIVATE: 0x92,
  STREAM_RESET: 0xa0,
  RUN_FRAME: 0xa1,
  GET_STATS: 0xb0,
  RESET: 0xbf,
} as const;

/** Request payloads by request type. */
export interface Requests {
  [Msg.HELLO]: HelloRequest;
  [Msg.CONFIG]: CostParams;
  [Msg.MODEL_BEGIN]: ModelRef;
  [Msg.MODEL_CHUNK]: ModelChunk;
  [Msg.MODEL_ACTIVATE]: ModelRef;
  [Msg.STREAM_RESET]: Empty;
  [Msg.RUN_FRAME]: RunFrameRequest;
  [Msg.GET_STATS]: Empty;
  [Msg.RESET]: Empty;
}
export type RequestType = keyof Requests;

/** Reply payloads, by the type of the request they answer. */
export interface Replies {
  [Msg.HELLO]: HelloReply;
  [Msg.CONFIG]: Empty;
  [Msg.MODEL_BEGIN]: Empty;
  [Msg.MODEL_CHUNK]: ChunkReply;
  [Msg.MODEL_ACTIVATE]: ActivateReply;
  [Msg.STREAM_RESET]: Empty;
  [Msg.RUN_FRAME]: RunFrameReply;
  [Msg.GET_STATS]: StatsReply;
  [Msg.RESET]: Empty;
}

/** Every payload by frame type. */
export interface Payloads extends Requests {
  [Reply.HELLO]: HelloReply;
  [Reply.CONFIG]: Empty;
  [Reply.MODEL_BEGIN]: Empty;
  [Reply.MODEL_CHUNK]: ChunkReply;
  [Reply.MODEL_ACTIVATE]: ActivateReply;
  [Reply.STREAM_RESET]: Empty;
  [Reply.RUN_FRAME]: RunFrameReply;
  [Reply.GET_STATS]: StatsReply;
  [Reply.RESET]: Empty;
  [Msg.LOG]: LogMessage;
  [Msg.ERROR]: ErrorMessage;
}
export type MessageType = keyof Payloads;

/** Field kinds: fixed-size integers, 3 reserved bytes, a u8-length-prefixed string, or a tail that takes
 *  the rest of the payload (int16 samples, raw bytes, UTF-8 text). */
type Kind = 'u8' | 'u16' | 'u32' | 'u64' | 'pad3' | 'pad16' | 'str8' | 'i16s' | 'bytes' | 'utf8';
type Layout = readonly (readonly [string, Kind])[];

const SIZE: Partial<Record<Kind, number>> = { u8: 1, u16: 2, u32: 4, u64: 8, pad3: 3, pad16: 2 };

const MODEL_REF: Layout = [['size', 'u32'], ['crc32', 'u32']];
const LAYOUTS: Record<MessageType, Layout> = {
  [Msg.HELLO]: [['protocolVersion', 'u16']],
  [Reply.HELLO]: [
    ['protocolVersion', 'u16'], ['maxPayload', 'u16'], ['rxCreditBytes', 'u32'], ['modelPartitionBytes', 'u32'],
    ['arenaCapacityBytes', 'u32'], ['clockHz', 'u32'], ['latencyKind', 'u8'], ['reserved', 'pad3'],
    ['firmwareName', 'str8'], ['firmwareVersion', 'str8'], ['boardName', 'str8'], ['buildId', 'str8'],
  ],
  [Msg.CONFIG]: [
    ['macsPerCycle', 'u32'], ['weightBytesPerCycle', 'u32'], ['elementsPerCycle', 'u32'], ['opOverheadCycles', 'u32'],
    ['frontendCycles', 'u32'],
  ],
  [Reply.CONFIG]: [],
  [Msg.MODEL_BEGIN]: MODEL_REF,
  [Reply.MODEL_BEGIN]: [],
  [Msg.MODEL_CHUNK]: [['offset', 'u32'], ['data', 'bytes']],
  [Reply.MODEL_CHUNK]: [['bytesReceived', 'u32']],
  [Msg.MODEL_ACTIVATE]: MODEL_REF,
  [Reply.MODEL_ACTIVATE]: [
    ['blobBytes', 'u32'], ['arenaBytes', 'u32'], ['nTensors', 'u16'], ['nOps', 'u16'], ['nFft', 'u16'], ['hop', 'u16'],
    ['modelId', 'u32'],
  ],
  [Msg.STREAM_RESET]: [],
  [Reply.STREAM_RESET]: [],
  [Msg.RUN_FRAME]: [['frameIndex', 'u32'], ['samples', 'i16s']],
  [Reply.RUN_FRAME]: [
    ['frameIndex', 'u32'], ['latency', 'u64'], ['modelledCycles', 'u32'], ['macs', 'u32'], ['weightBytes', 'u32'],
    ['elements', 'u32'], ['ops', 'u16'], ['reserved', 'pad16'], ['networkLatency', 'u64'], ['samples', 'i16s'],
  ],
  [Msg.GET_STATS]: [],
  [Reply.GET_STATS]: [
    ['imageFlashBytes', 'u32'], ['modelFlashBytes', 'u32'], ['staticSramBytes', 'u32'], ['arenaBytes', 'u32'],
    ['stackHighWaterBytes', 'u32'], ['stackSizeBytes', 'u32'], ['framesRun', 'u32'],
  ],
  [Msg.RESET]: [],
  [Reply.RESET]: [],
  [Msg.LOG]: [['level', 'u8'], ['text', 'utf8']],
  [Msg.ERROR]: [['code', 'u16'], ['message', 'utf8']],
};

export function isKnownType(type: number): type is MessageType {
  return Object.hasOwn(LAYOUTS, type);
}

/** A payload that does not match its layout: the peer is broken or speaks another protocol. */
export class MessageFormatError extends HilError {}

function bad(type: number, what: string): never {
  throw new MessageFormatError(`malformed ${messageName(type)}: ${what}`, 'the board runs firmware that speaks another protocol; rebuild and reflash it');
}

export function encodePayload<T extends MessageType>(type: T, fields: Payloads[T]): Uint8Array {
  const obj = fields as unknown as Record<string, unknown>;
  const parts: Uint8Array[] = [];
  for (const [name, kind] of LAYOUTS[type]) {
    const v = obj[name];
    const size = SIZE[kind];
    if (size !== undefined) {
      const b = new Uint8Array(size);
      const dv = new DataView(b.buffer);
      if (kind === 'u8') dv.setUint8(0, Number(v));
      else if (kind === 'u16') dv.setUint16(0, Number(v), true);
      else if (kind === 'u32') dv.setUint32(0, Number(v), true);
      else if (kind === 'u64') dv.setBigUint64(0, BigInt(v as bigint | number), true);
      parts.push(b);
    } else if (kind === 'str8') {
      const s = Buffer.from(String(v), 'utf8');
      if (s.length > 255) throw new RangeError(`${name} is longer than 255 bytes`);
      parts.push(Uint8Array.of(s.length), s);
    } else if (kind === 'i16s') {
      const s = v as Int16Array;
      const b = new Uint8Array(s.length * 2);
      const dv = new DataView(b.buffer);
      for (let i = 0; i < s.length; i++) dv.setInt16(2 * i, s[i]!, true);
      parts.push(b);
    } else if (kind === 'bytes') {
      parts.push(v as Uint8Array);
    } else {
      parts.push(Buffer.from(String(v), 'utf8'));
    }
  }
  return Buffer.concat(parts);
}

export function decodePayload<T extends MessageType>(type: T, payload: Uint8Array): Payloads[T] {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: Record<string, unknown> = {};
  let at = 0;
  for (const [name, kind] of LAYOUTS[type]) {
    const size = SIZE[kind];
    if (size !== undefined) {
      if (at + size > payload.length) bad(type, `${payload.length} bytes, too short for ${name}`);
      if (kind === 'u8') out[name] = dv.getUint8(at);
      else if (kind === 'u16') out[name] = dv.getUint16(at, true);
      else if (kind === 'u32') out[name] = dv.getUint32(at, true);
      else if (kind === 'u64') out[name] = dv.getBigUint64(at, true);
      at += size;
    } else if (kind === 'str8') {
      if (at >= payload.length) bad(type, `no length byte for ${name}`);
      const n = payload[at]!;
      if (at + 1 + n > payload.length) bad(type, `${name} runs past the payload`);
      out[name] = Buffer.from(payload.subarray(at + 1, at + 1 + n)).toString('utf8');
      at += 1 + n;
    } else {
      const rest = payload.subarray(at);
      if (kind === 'i16s') {
        if (rest.length % 2) bad(type, `odd number of sample bytes (${rest.length})`);
        const s = new Int16Array(rest.length / 2);
        for (let i = 0; i < s.length; i++) s[i] = dv.getInt16(at + 2 * i, true);
        out[name] = s;
      } else if (kind === 'bytes') {
        out[name] = Uint8Array.from(rest);
      } else {
        out[name] = Buffer.from(rest).toString('utf8');
      }
      at = payload.length;
    }
  }
  if (at !== payload.length) bad(type, `${payload.length} bytes, expected ${at}`);
  delete out.reserved;
  return out as unknown as Payloads[T];
}
