/**
 * QuantGraph → model blob bytes (docs/model-format.md §6–7), with a weight encoding chosen per FC:
 * dense, block-sparse br×bc, CSR with 8-bit column deltas, or `auto` (the smallest weight stream).
 * Layout: header, tensor table, op table, then every array 16-byte aligned: win_a, win_s, and per FC its
 * weights, bias_eff, multipliers and shifts. The CRC covers bytes [16, end).
 */
import { crc32 } from 'node:zlib';
import { HilError } from '../util/errors.js';
import { blockIndexBytes, csrIndexBytes, ENCODINGS, HEADER_BYTES, MAX_BLOCK_DIM, NO_TENSOR, OP_CODES, OP_RECORD_BYTES, round16, TENSOR_RECORD_BYTES } from '../engine/blob.js';
import type { QFc, QuantGraph } from './quantGraph.js';

export type EncodingChoice = { kind: 'dense' } | { kind: 'block'; br: number; bc: number } | { kind: 'csr' } | { kind: 'auto' };

/** Block shapes `auto` tries besides dense and CSR. */
export const AUTO_BLOCK_SHAPES: ReadonlyArray<[number, number]> = [
  [4, 4],
  [1, 16],
  [16, 1],
  [8, 8],
];

export interface EncodedWeights {
  encoding: 'dense' | 'block' | 'csr';
  br: number;
  bc: number;
  /** Stored weights (dense: out·in; CSR: entries incl. fillers) or stored blocks (block). */
  nnz: number;
  bytes: Uint8Array;
}

export function encodeDense(w: Int8Array, outF: number, inF: number): EncodedWeights {
  return { encoding: 'dense', br: 0, bc: 0, nnz: outF * inF, bytes: new Uint8Array(w.buffer.slice(w.byteOffset, w.byteOffset + outF * inF)) };
}

export function encodeBlock(w: Int8Array, outF: number, inF: number, br: number, bc: number): EncodedWeights {
  if (!(br >= 1 && br <= MAX_BLOCK_DIM && bc >= 1 && bc <= MAX_BLOCK_DIM && Number.isInteger(br) && Number.isInteger(bc)))
    throw new HilError(`block ${br}x${bc} unsupported`, `block sides must be integers in [1, ${MAX_BLOCK_DIM}]`);
  const nbr = Math.ceil(outF / br);
  const nbc = Math.ceil(inF / bc);
  const rowPtr = [0];
  const colIdx: number[] = [];
  for (let rb = 0; rb < nbr; rb++) {
    for (let cb = 0; cb < nbc; cb++) {
      let any = false;
      for (let r = rb * br; r < Math.min(outF, rb * br + br) && !any; r++)
        for (let c = cb * bc; c < Math.min(inF, cb * bc + bc); c++) if (w[r * inF + c] !== 0) { any = true; break; }
      if (any) colIdx.push(cb);
    }
    rowPtr.push(colIdx.length);
  }
  const nnzb = colIdx.length;
  if (nnzb > 0xffff) throw new HilError(`${nnzb} stored blocks exceed the format's 16-bit block index`, 'use a larger block or another encoding');
  const index = blockIndexBytes(nbr, nnzb);
  const bytes = new Uint8Array(index + nnzb * br * bc);
  const dv = new DataView(bytes.buffer);
  rowPtr.forEach((v, k) => dv.setUint16(2 * k, v, true));
  colIdx.forEach((v, k) => dv.setUint16(2 * (nbr + 1 + k), v, true));
  let k = 0;
  for (let rb = 0; rb < nbr; rb++) {
    for (let e = rowPtr[rb]; e < rowPtr[rb + 1]; e++, k++) {
      const cb = colIdx[e];
      for (let r = 0; r < br; r++)
        for (let c = 0; c < bc; c++) {
          const row = rb * br + r, col = cb * bc + c;
          if (row < outF && col < inF) bytes[index + k * br * bc + r * bc + c] = w[row * inF + col] & 0xff;
        }
    }
  }
  return { encoding: 'block', br, bc, nnz: nnzb, bytes };
}

export function encodeCsr(w: Int8Array, outF: number, inF: number): EncodedWeights {
  const rowNnz: number[] = [];
  const delta: number[] = [];
  const values: number[] = [];
  for (let o = 0; o < outF; o++) {
    const start = values.length;
    let prev = 0;
    for (let i = 0; i < inF; i++) {
      const v = w[o * inF + i];
      if (v === 0) continue;
      let gap = i - prev;
      // A gap over 255 is bridged by filler entries (delta 255, value 0) that count in nnz.
      while (gap > 255) {
        delta.push(255);
        values.push(0);
        gap -= 255;
      }
      delta.push(gap);
      values.push(v);
      prev = i;
    }
    const count = values.length - start;
    if (count > 0xffff) throw new HilError(`row ${o} has ${count} CSR entries, over the format's 16-bit row length`, 'use dense or block encoding');
    rowNnz.push(count);
  }
  const nnz = values.length;
  const index = csrIndexBytes(outF);
  const bytes = new Uint8Array(index + 2 * nnz);
  const dv = new DataView(bytes.buffer);
  rowNnz.forEach((v, k) => dv.setUint16(2 * k, v, true));
  bytes.set(delta, index);
  values.forEach((v, k) => (bytes[index + nnz + k] = v & 0xff));
  return { encoding: 'csr', br: 0, bc: 0, nnz, bytes };
}

export function encodeWeights(op: Pick<QFc, 'weights' | 'outFeatures' | 'inFeatures'>, choice: EncodingChoice): EncodedWeights {
  const { weights: w, outFeatures: outF, inFeatures: inF } = op;
  switch (choice.kind) {
    case 'dense':
      return encodeDense(w, outF, inF);
    case 'block':
      return encodeBlock(w, outF, inF, choice.br, choice.bc);
    case 'csr':
      return encodeCsr(w, outF, inF);
    case 'auto': {
      // Smallest flash footprint (weight bytes rounded to the 16-byte array alignment); ties keep the
      // earlier candidate, so dense wins over an encoding that saves nothing.
      const candidates = [encodeDense(w, outF, inF), ...AUTO_BLOCK_SHAPES.map(([br, bc]) => tryEncode(() => encodeBlock(w, outF, inF, br, bc))), tryEncode(() => encodeCsr(w, outF, inF))];
      let best: EncodedWeights = candidates[0] as EncodedWeights;
      for (const c of candidates) if (c && round16(c.bytes.length) < round16(best.bytes.length)) best = c;
      return best;
    }
  }
}

function tryEncode(fn: () => EncodedWeights): EncodedWeights | null {
  try {
    return fn();
  } catch (e) {
    if (e instanceof HilError) return null;
    throw e;
  }
}

/** Parses "dense", "csr", "auto", "block4x4" / "block:4x4" (CLI and config spelling). */
export function parseEncoding(text: string): EncodingChoice {
  const t = text.trim().toLowerCase();
  if (t === 'dense' || t === 'csr' || t === 'auto') return { kind: t };
  const m = /^block:?(\d+)x(\d+)$/.exec(t);
  if (m) return { kind: 'block', br: Number(m[1]), bc: Number(m[2]) };
  throw new HilError(`unknown weight encoding "${text}"`, 'use dense, csr, auto or blockBRxBC (e.g. block4x4)');
}

export interface WriteBlobOptions {
  /** Encoding for every FC (default dense). */
  encoding?: EncodingChoice;
  /** Per-FC overrides by op name (e.g. "gru0.fc_xz"). */
  perOp?: Record<string, EncodingChoice>;
}

export interface WrittenBlob {
  bytes: Uint8Array;
  /** Per FC op: the encoding used and its weight-stream bytes. */
  layers: { name: string; encoding: EncodedWeights['encoding']; br: number; bc: number; nnz: number; weightBytes: number }[];
}

export function writeBlob(graph: QuantGraph, options: WriteBlobOptions = {}): Uint8Array {
  return writeBlobDetailed(graph, options).bytes;
}

export function writeBlobDetailed(graph: QuantGraph, options: WriteBlobOptions = {}): WrittenBlob {
  const ids = new Map(graph.tensors.map((t, k) => [t.name, k]));
  const id = (name: string) => {
    const v = ids.get(name);
    if (v === undefined) throw new HilError(`quant graph refers to unknown tensor ${name}`);
    return v;
  };
  if (graph.tensors.length > 128 || graph.ops.length > 128) throw new HilError(`graph has ${graph.tensors.length} tensors and ${graph.ops.length} ops; the format allows 128 of each`);
  const nT = graph.tensors.length;
  const tensorTable = HEADER_BYTES;
  const opTable = round16(tensorTable + TENSOR_RECORD_BYTES * nT);
  let opBytes = 0;
  for (const op of graph.ops) opBytes += OP_RECORD_BYTES[OP_CODES[op.op]];

  // Data arrays, in order, each 16-byte aligned.
  const arrays: { offset: number; bytes: Uint8Array }[] = [];
  let cursor = round16(opTable + opBytes);
  const place = (bytes: Uint8Array): number => {
    const offset = cursor;
    arrays.push({ offset, bytes });
    cursor = round16(offset + bytes.length);
    return offset;
  };
  const le16 = (a: Int16Array) => {
    const b = new Uint8Array(2 * a.length);
    const dv = new DataView(b.buffer);
    a.forEach((v, k) => dv.setInt16(2 * k, v, true));
    return b;
  };
  const le32 = (a: Int32Array) => {
    const b = new Uint8Array(4 * a.length);
    const dv = new DataView(b.buffer);
    a.forEach((v, k) => dv.setInt32(4 * k, v, true));
    return b;
  };
  const winA = place(le16(graph.winA));
  const winS = place(le16(graph.winS));
  const layers: WrittenBlob['layers'] = [];
  const fcData = new Map<QFc, { enc: EncodedWeights; w: number; bias: number; m: number; s: number }>();
  for (const op of graph.ops) {
    if (op.op !== 'FC') continue;
    const choice = options.perOp?.[op.name] ?? options.encoding ?? { kind: 'dense' };
    const enc = encodeWeights(op, choice);
    const w = place(enc.bytes);
    const bias = place(le32(op.biasEff));
    const m = place(le32(op.multipliers));
    const s = place(new Uint8Array(op.shifts.buffer, op.shifts.byteOffset, op.shifts.length));
    fcData.set(op, { enc, w, bias, m, s });
    layers.push({ name: op.name, encoding: enc.encoding, br: enc.br, bc: enc.bc, nnz: enc.nnz, weightBytes: enc.bytes.length });
  }
  const total = arrays.length ? arrays[arrays.length - 1].offset + arrays[arrays.length - 1].bytes.length : cursor;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  for (const a of arrays) out.set(a.bytes, a.offset);

  // Header (§7).
  out.set([0x48, 0x49, 0x4c, 0x4d], 0); // "HILM"
  dv.setUint16(4, 1, true);
  dv.setUint16(6, HEADER_BYTES, true);
  dv.setUint32(8, total, true);
  dv.setUint32(16, 0, true);
  dv.setUint16(20, graph.nFft, true);
  dv.setUint16(22, graph.hop, true);
  dv.setUint32(24, graph.sampleRate, true);
  dv.setUint16(28, nT, true);
  dv.setUint16(30, graph.ops.length, true);
  dv.setUint16(32, id(graph.input), true);
  dv.setUint16(34, id(graph.output), true);
  dv.setUint32(36, tensorTable, true);
  dv.setUint32(40, opTable, true);
  dv.setUint32(44, winA, true);
  dv.setUint32(48, winS, true);
  dv.setInt32(52, graph.featMult, true);
  dv.setInt8(56, graph.featShift);
  dv.setUint32(60, graph.modelId >>> 0, true);

  graph.tensors.forEach((t, k) => {
    const r = tensorTable + TENSOR_RECORD_BYTES * k;
    dv.setUint16(r, t.length, true);
    dv.setUint8(r + 2, t.isState ? 1 : 0);
    dv.setFloat32(r + 4, t.scale, true);
    dv.setInt32(r + 8, t.zeroPoint, true);
    dv.setUint16(r + 12, t.isState ? id(t.next as string) : NO_TENSOR, true);
  });

  let r = opTable;
  for (const op of graph.ops) {
    const code = OP_CODES[op.op];
    const size = OP_RECORD_BYTES[code];
    dv.setUint8(r, code);
    dv.setUint16(r + 2, size, true);
    if (op.op === 'FC') {
      const d = fcData.get(op)!;
      dv.setUint8(r + 1, ENCODINGS[d.enc.encoding]);
      dv.setUint16(r + 4, id(op.input), true);
      dv.setUint16(r + 6, id(op.output), true);
      dv.setUint16(r + 8, op.inFeatures, true);
      dv.setUint16(r + 10, op.outFeatures, true);
      dv.setInt8(r + 12, op.actMin);
      dv.setInt8(r + 13, op.actMax);
      dv.setUint8(r + 14, 1); // per-channel multipliers
      dv.setUint32(r + 16, d.w, true);
      dv.setUint32(r + 20, d.enc.bytes.length, true);
      dv.setUint32(r + 24, d.bias, true);
      dv.setUint32(r + 28, d.m, true);
      dv.setUint32(r + 32, d.s, true);
      dv.setUint8(r + 36, d.enc.br);
      dv.setUint8(r + 37, d.enc.bc);
      dv.setUint32(r + 40, d.enc.nnz, true);
    } else if (op.op === 'LUT') {
      dv.setUint16(r + 4, id(op.input), true);
      dv.setUint16(r + 6, id(op.output), true);
      dv.setUint8(r + 8, op.kind === 'logistic' ? 1 : op.kind === 'tanh' ? 2 : 0);
      out.set(new Uint8Array(op.table.buffer, op.table.byteOffset, 256), r + 12);
    } else if (op.op === 'MUL') {
      dv.setUint16(r + 4, id(op.in1), true);
      dv.setUint16(r + 6, id(op.in2), true);
      dv.setUint16(r + 8, id(op.output), true);
      dv.setInt8(r + 10, op.sho);
      dv.setInt32(r + 12, op.mo, true);
      dv.setInt8(r + 16, op.actMin);
      dv.setInt8(r + 17, op.actMax);
    } else {
      dv.setUint16(r + 4, id(op.in1), true);
      dv.setUint16(r + 6, id(op.in2), true);
      dv.setUint16(r + 8, id(op.output), true);
      dv.setUint8(r + 10, op.leftShift);
      dv.setInt32(r + 12, op.m1, true);
      dv.setInt8(r + 16, op.sh1);
      dv.setInt8(r + 17, op.sh2);
      dv.setInt8(r + 18, op.sho);
      dv.setInt32(r + 20, op.m2, true);
      dv.setInt32(r + 24, op.mo, true);
      dv.setInt8(r + 28, op.actMin);
      dv.setInt8(r + 29, op.actMax);
    }
    r += size;
  }
  dv.setUint32(12, crc32(out.subarray(16)) >>> 0, true);
  return { bytes: out, layers };
}
