/**
 * Every message of docs/protocol.md §3, both directions: the host encodes requests and decodes replies, and
 * the tests' fake device does the opposite. The types, payload layouts and codes come from
 * src/spec/protocol.ts, generated from docs/spec/protocol.json like the firmware's hil_protocol.h; this
 * module is the codec that walks those layouts.
 */
import {
  ERROR_CODES,
  LAYOUTS,
  RECORD_LAYOUTS,
  LATENCY_KINDS,
  LatencyKindCode,
  Msg,
  REPLY,
  type FieldKind,
  type LatencyKind,
  type MessageType,
  type Payloads,
} from '../spec/protocol.js';
import { HilError } from '../util/errors.js';

export * from '../spec/protocol.js';
/** A blob in the partition, by size and CRC-32: what MODEL_BEGIN announces and MODEL_ACTIVATE checks. */
export type { ModelBeginRequest as ModelRef } from '../spec/protocol.js';

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(Msg).map(([k, v]) => [v, k]));

/** 'RUN_FRAME', 'RUN_FRAME reply', or the hex code of a type the protocol does not define. */
export function messageName(type: number): string {
  if (NAMES[type]) return NAMES[type]!;
  const request = type & ~REPLY;
  if (type & REPLY && NAMES[request] && request !== Msg.LOG && request !== Msg.ERROR) return `${NAMES[request]} reply`;
  return `type 0x${type.toString(16).padStart(2, '0')}`;
}

export { ERROR_CODES };

export function latencyKindName(kind: number): LatencyKind | `unknown (${number})` {
  const name = LATENCY_KINDS.find((k) => LatencyKindCode[k] === kind);
  return name ?? `unknown (${kind})`;
}

const SIZE: Partial<Record<FieldKind, number>> = { u8: 1, u16: 2, u32: 4, u64: 8 };

/** A payload that does not match its layout: the peer is broken or speaks another protocol. */
export class MessageFormatError extends HilError {}

function bad(type: number, what: string): never {
  throw new MessageFormatError(`malformed ${messageName(type)}: ${what}`, 'the board runs firmware that speaks another protocol; rebuild and reflash it');
}

export function encodePayload<T extends MessageType>(type: T, fields: Payloads[T]): Uint8Array {
  const obj = fields as unknown as Record<string, unknown>;
  const parts: Uint8Array[] = [];
  for (const [name, kind, padBytes] of LAYOUTS[type]) {
    const v = obj[name];
    const size = SIZE[kind];
    if (kind === 'pad') {
      parts.push(new Uint8Array(padBytes!));
    } else if (size !== undefined) {
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

/** The fixed-size records a payload's `bytes` tail repeats (RUN_PRELOADED_BATCH's PRELOADED_FRAME), decoded. */
export function decodeRecords<T>(type: number, record: keyof typeof RECORD_LAYOUTS, bytes: Uint8Array): T[] {
  const layout = RECORD_LAYOUTS[record];
  const size = layout.reduce((n, [, kind, pad]) => n + (kind === 'pad' ? pad! : SIZE[kind]!), 0);
  if (bytes.length % size) bad(type, `${bytes.length} record bytes, not a whole number of ${size}-byte ${record} records`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: T[] = [];
  for (let at = 0; at < bytes.length; ) {
    const r: Record<string, unknown> = {};
    for (const [name, kind, pad] of layout) {
      if (kind === 'u8') r[name] = dv.getUint8(at);
      else if (kind === 'u16') r[name] = dv.getUint16(at, true);
      else if (kind === 'u32') r[name] = dv.getUint32(at, true);
      else if (kind === 'u64') r[name] = dv.getBigUint64(at, true);
      at += kind === 'pad' ? pad! : SIZE[kind]!;
    }
    out.push(r as T);
  }
  return out;
}

/** Records laid out back to back, the inverse of decodeRecords (the tests' fake device sends them). */
export function encodeRecords(record: keyof typeof RECORD_LAYOUTS, records: readonly object[]): Uint8Array {
  const layout = RECORD_LAYOUTS[record];
  const parts: Uint8Array[] = [];
  for (const rec of records) {
    const obj = rec as Record<string, unknown>;
    for (const [name, kind, pad] of layout) {
      const b = new Uint8Array(kind === 'pad' ? pad! : SIZE[kind]!);
      const dv = new DataView(b.buffer);
      if (kind === 'u8') dv.setUint8(0, Number(obj[name]));
      else if (kind === 'u16') dv.setUint16(0, Number(obj[name]), true);
      else if (kind === 'u32') dv.setUint32(0, Number(obj[name]), true);
      else if (kind === 'u64') dv.setBigUint64(0, BigInt(obj[name] as bigint | number), true);
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

export function decodePayload<T extends MessageType>(type: T, payload: Uint8Array): Payloads[T] {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: Record<string, unknown> = {};
  let at = 0;
  for (const [name, kind, padBytes] of LAYOUTS[type]) {
    const size = kind === 'pad' ? padBytes! : SIZE[kind];
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
  return out as unknown as Payloads[T];
}
