/** src/link's COBS, CRC, frames and message payloads against test/vectors/protocol.json (the same vectors
 *  firmware/tests/test_protocol.c checks the C side against). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import seedrandom from 'seedrandom';
import { cobsDecode, cobsEncode, cobsMaxEncoded } from '../../src/link/cobs.js';
import { decodeChunk, encodeRawFrame, encodeWireFrame, FrameDecoder, type Frame } from '../../src/link/frame.js';
import { decodePayload, decodeRecords, encodePayload, encodeRecords, messageName, Msg, PRELOADED_FRAME_BYTES, Reply, REPLY, type MessageType } from '../../src/link/messages.js';
import { samplesCrc32 } from '../../src/link/session.js';

interface Vectors {
  crc32: { name: string; data: string; crc: number }[];
  cobs: { name: string; decoded: string; encoded: string }[];
  cobs_invalid: { name: string; encoded: string }[];
  frames: { name: string; type: number; flags: number; seq: number; fields: Record<string, unknown>; payload: string; raw: string; crc: number; wire: string }[];
  dropped: { name: string; chunk: string }[];
  output_crc32: { name: string; samples: number[]; crc: number }[];
  preloaded_frame_records: Record<string, unknown>[];
}
const V: Vectors = JSON.parse(readFileSync(new URL('../vectors/protocol.json', import.meta.url), 'utf8'));
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('CRC-32 values (node:zlib) match the vectors', () => {
  for (const c of V.crc32) assert.equal(crc32(hex(c.data)), c.crc, c.name);
});

test('an output hop\'s CRC-32 (RUN_FRAME_CRC, RUN_PRELOADED) matches the vectors', () => {
  for (const c of V.output_crc32) assert.equal(samplesCrc32(Int16Array.from(c.samples)), c.crc, c.name);
});

test('COBS encodes and decodes every vector, including 254/255-byte runs', () => {
  for (const c of V.cobs) {
    const enc = cobsEncode(hex(c.decoded));
    assert.equal(toHex(enc), c.encoded, `encode ${c.name}`);
    assert.ok(enc.length <= cobsMaxEncoded(c.decoded.length / 2));
    assert.ok(!enc.includes(0), `no zero in ${c.name}`);
    assert.equal(toHex(cobsDecode(hex(c.encoded))!), c.decoded, `decode ${c.name}`);
  }
  for (const c of V.cobs_invalid) assert.equal(cobsDecode(hex(c.encoded)), null, c.name);
});

test('COBS round-trips seeded random data with zero-heavy and zero-free stretches', () => {
  const rnd = seedrandom('cobs');
  for (let t = 0; t < 200; t++) {
    const n = Math.floor(rnd() * 1100);
    const d = new Uint8Array(n);
    const zeroRate = t % 3 === 0 ? 0 : t % 3 === 1 ? 0.5 : 0.01;
    for (let i = 0; i < n; i++) d[i] = rnd() < zeroRate ? 0 : 1 + Math.floor(rnd() * 255);
    assert.deepEqual(cobsDecode(cobsEncode(d)), d);
  }
});

test('frames of every message type have the exact bytes of the vectors', () => {
  const seen = new Set<number>();
  for (const v of V.frames) {
    const f: Frame = { type: v.type, flags: v.flags, seq: v.seq, payload: hex(v.payload) };
    assert.equal(toHex(encodeRawFrame(f)), v.raw, `raw ${v.name}`);
    assert.equal(toHex(encodeWireFrame(f)), v.wire, `wire ${v.name}`);
    const w = hex(v.wire);
    const d = decodeChunk(w.subarray(1, w.length - 1));
    assert.deepEqual(d, f, `decode ${v.name}`);
    seen.add(v.type);
  }
  for (const t of [...Object.values(Msg), ...Object.values(Reply)]) assert.ok(seen.has(t), `a vector for ${messageName(t)}`);
});

/** The vectors name fields as docs/protocol.md does (snake_case); the TypeScript types use camelCase. */
function camel(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    const name = k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (name === 'samples') out[name] = Int16Array.from(v as number[]);
    else if (name === 'data' || name === 'records') out[name] = hex(v as string);
    else if (name === 'latency' || name === 'networkLatency') out[name] = BigInt(v as number);
    else out[name] = v;
  }
  return out;
}

test('message payloads encode from and decode to the documented fields', () => {
  for (const v of V.frames) {
    const type = v.type as MessageType;
    const fields = camel(v.fields);
    assert.equal(toHex(encodePayload(type, fields as never)), v.payload, `encode ${v.name}`);
    assert.deepEqual(decodePayload(type, hex(v.payload)), fields, `decode ${v.name}`);
  }
});

test('RUN_PRELOADED_BATCH reply records decode to the documented PRELOADED_FRAME fields, and back', () => {
  const v = V.frames.find((f) => f.name === 'RUN_PRELOADED_BATCH reply')!;
  const reply = decodePayload(Reply.RUN_PRELOADED_BATCH, hex(v.payload));
  const want = V.preloaded_frame_records.map(camel);
  assert.equal(reply.nFrames, want.length);
  assert.equal(reply.records.length, want.length * PRELOADED_FRAME_BYTES);
  assert.deepEqual(decodeRecords(Reply.RUN_PRELOADED_BATCH, 'PRELOADED_FRAME', reply.records), want);
  assert.equal(toHex(encodeRecords('PRELOADED_FRAME', want)), toHex(reply.records));
  assert.throws(() => decodeRecords(Reply.RUN_PRELOADED_BATCH, 'PRELOADED_FRAME', reply.records.subarray(1)), /malformed RUN_PRELOADED_BATCH reply: 119 record bytes, not a whole number of 40-byte/);
});

test('malformed payloads are refused with a one-line error naming the message', () => {
  assert.throws(() => decodePayload(Reply.GET_STATS, new Uint8Array(27)), /malformed GET_STATS reply: 27 bytes, too short/);
  assert.throws(() => decodePayload(Reply.CONFIG, new Uint8Array(1)), /malformed CONFIG reply: 1 bytes, expected 0/);
  assert.throws(() => decodePayload(Reply.RUN_FRAME, new Uint8Array(41)), /odd number of sample bytes/);
  assert.throws(() => decodePayload(Reply.RUN_FRAME, new Uint8Array(33)), /malformed RUN_FRAME reply: 33 bytes, too short for networkLatency/);
  const hello = hex(V.frames.find((f) => f.name === 'HELLO reply')!.payload);
  assert.throws(() => decodePayload(Reply.HELLO, hello.subarray(0, 30)), /malformed HELLO reply: firmwareName runs past the payload/);
  assert.equal(Reply.RUN_FRAME, Msg.RUN_FRAME | REPLY);
  assert.equal(messageName(0xa1), 'RUN_FRAME reply');
  assert.equal(messageName(0x49), 'type 0x49');
});

test('dropped chunks are reported with their reason', () => {
  const reasons = ['bad CRC', 'shorter than 10 bytes', 'len disagrees with length', 'bad COBS'];
  V.dropped.forEach((c, i) => assert.deepEqual(decodeChunk(hex(c.chunk)), { dropped: reasons[i] }, c.name));
});

test('FrameDecoder: frames split anywhere, garbage and wake lines between them, oversized junk', async () => {
  const rnd = seedrandom('split');
  const wires = V.frames.map((v) => hex(v.wire));
  const junk = Buffer.alloc(3000, 0x33);
  const stream = Buffer.concat([Buffer.from('\x00HIL?\n'), wires[0]!, Buffer.from('noise'), ...wires.slice(1, 5), junk, ...wires.slice(5)]);
  const d = new FrameDecoder();
  const frames: Frame[] = [];
  const dropped: string[] = [];
  d.on('data', (f: Frame) => frames.push(f));
  d.on('dropped', (reason: string) => dropped.push(reason));
  for (let at = 0; at < stream.length; ) {
    const n = 1 + Math.floor(rnd() * 40);
    d.write(stream.subarray(at, at + n));
    at += n;
  }
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(frames.map((f) => f.seq), V.frames.map((v) => v.seq));
  assert.deepEqual(dropped, ['bad COBS', 'bad COBS', 'longer than the largest frame']);
});

test('FrameDecoder: a boot banner followed by a frame in one read is a banner, not a corrupt frame', async () => {
  const banner = 'HIL-FW name=hil-firmware version=0.1.0 board=sim protocol=2 build=abc\nHIL-READY\n';
  const wires = V.frames.map((v) => hex(v.wire));
  for (const split of [false, true]) {
    const d = new FrameDecoder();
    const frames: Frame[] = [];
    const banners: string[] = [];
    const dropped: string[] = [];
    d.on('data', (f: Frame) => frames.push(f));
    d.on('banner', (l: string) => banners.push(l));
    d.on('dropped', (reason: string) => dropped.push(reason));
    const bytes = Buffer.concat([wires[0]!, Buffer.from(banner), wires[1]!]);
    // One read, as a device that restarts and answers the next queued request gives; or byte by byte.
    if (split) for (const b of bytes) d.write(Buffer.of(b));
    else d.write(bytes);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(banners, [banner.split('\n')[0]], `split ${split}`);
    assert.deepEqual(frames.map((f) => f.seq), [V.frames[0]!.seq, V.frames[1]!.seq]);
    assert.deepEqual(dropped, []);
  }
});
