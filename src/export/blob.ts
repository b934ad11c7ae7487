/**
 * QuantGraph → model blob bytes (docs/model-format.md §6–7), with a weight encoding chosen per FC:
 * dense, block-sparse br×bc, CSR with 8-bit or 4-bit (CSR4) column deltas, or `auto` (the smallest weight stream).
 * Layout: header, tensor table, op table, then every array 16-byte aligned: win_a, win_s, and per FC its
 * weights, bias_eff, multipliers and shifts. The CRC covers bytes [16, end).
 */
import { crc32 } from 'node:zlib';
import { HilError } from '../util/errors.js';
import { blockIndexBytes, CSR4_ESCAPE_STEP, csrIndexBytes, round16 } from '../engine/blob.js';
import {
  ENCODINGS,
  FORMAT_VERSION,
  HDR,
  HEADER_BYTES,
  LUT_KINDS,
  MAGIC,
  MAX_BLOCK_DIM,
  NO_TENSOR,
  OP_CODES,
  OP_FIELDS,
  OP_RECORD_BYTES,
  OPREC,
  TENSOR,
  TENSOR_FLAG_INT16,
  TENSOR_FLAG_STATE,
  TENSOR_RECORD_BYTES,
} from '../spec/modelFormat.js';
import type { QFc, QFc16, QLut16, QuantGraph } from './quantGraph.js';

export type EncodingChoice = { kind: 'dense' } | { kind: 'block'; br: number; bc: number } | { kind: 'csr' } | { kind: 'csr4' } | { kind: 'auto' };

/** Block shapes `auto` tries besides dense and CSR. */
export const AUTO_BLOCK_SHAPES: ReadonlyArray<[number, number]> = [
  [4, 4],
  [1, 16],
  [16, 1],
  [8, 8],
];

export interface EncodedWeights {
  encoding: 'dense' | 'block' | 'csr' | 'csr4';
  br: number;
  bc: number;
  /** Stored weights (dense: out·in; CSR: entries incl. fillers; CSR4: weights, escapes not counted) or stored blocks (block). */
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

/** Encoding 3 (§6): 4-bit column deltas 1..15, escape code 0 for 15 columns without a weight. */
export function encodeCsr4(w: Int8Array, outF: number, inF: number): EncodedWeights {
  const rowCodes: number[] = [];
  const codes: number[] = [];
  const values: number[] = [];
  for (let o = 0; o < outF; o++) {
    const row: number[] = [];
    let prev = -1;
    for (let i = 0; i < inF; i++) {
      const v = w[o * inF + i];
      if (v === 0) continue;
      let gap = i - prev;
      for (; gap > 15; gap -= CSR4_ESCAPE_STEP) row.push(0);
      row.push(gap);
      values.push(v);
      prev = i;
    }
    // Codes never outnumber columns (each moves the column on by one or more), so a uint16 row length holds them.
    rowCodes.push(row.length);
    for (let e = 0; e < row.length; e += 2) codes.push(row[e] | ((row[e + 1] ?? 0) << 4));
  }
  const index = csrIndexBytes(outF);
  const bytes = new Uint8Array(index + codes.length + values.length);
  const dv = new DataView(bytes.buffer);
  rowCodes.forEach((v, k) => dv.setUint16(2 * k, v, true));
  bytes.set(codes, index);
  values.forEach((v, k) => (bytes[index + codes.length + k] = v & 0xff));
  return { encoding: 'csr4', br: 0, bc: 0, nnz: values.length, bytes };
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
    case 'csr4':
      return encodeCsr4(w, outF, inF);
    case 'auto': {
      // Smallest flash footprint (weight bytes rounded to the 16-byte array alignment); ties keep the
      // earlier candidate, so dense wins over an encoding that saves nothing, and CSR4 (the newest, last)
      // only replaces an older encoding where it saves at least one 16-byte line.
      const candidates = [
        encodeDense(w, outF, inF),
        ...AUTO_BLOCK_SHAPES.map(([br, bc]) => tryEncode(() => encodeBlock(w, outF, inF, br, bc))),
        tryEncode(() => encodeCsr(w, outF, inF)),
        encodeCsr4(w, outF, inF),
      ];
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

/** Parses "dense", "csr", "csr4", "auto", "block4x4" / "block:4x4" (CLI and config spelling). */
export function parseEncoding(text: string): EncodingChoice {
  const t = text.trim().toLowerCase();
  if (t === 'dense' || t === 'csr' || t === 'csr4' || t === 'auto') return { kind: t };
  const m = /^block:?(\d+)x(\d+)$/.exec(t);
  if (m) return { kind: 'block', br: Number(m[1]), bc: Number(m[2]) };
  throw new HilError(`unknown weight encoding "${text}"`, 'use dense, csr, csr4, auto or blockBRxBC (e.g. block4x4)');
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
  // The 16-bit ops' arrays follow every FC's, so an int8-only graph lays out exactly as before.
  const fc16Data = new Map<QFc16, { w: number; bias: number; m: number; s: number }>();
  const lut16Data = new Map<QLut16, number>();
  for (const op of graph.ops) {
    if (op.op === 'FC16') {
      // The 16x8 FC is dense only (docs/model-format.md §5): a per-op encoding request cannot apply.
      const enc = encodeDense(op.weights, op.outFeatures, op.inFeatures);
      const w = place(enc.bytes);
      const b = new Uint8Array(8 * op.outFeatures);
      op.bias.forEach((v, k) => new DataView(b.buffer).setBigInt64(8 * k, v, true));
      const bias = place(b);
      const m = place(le32(op.multipliers));
      const s = place(new Uint8Array(op.shifts.buffer, op.shifts.byteOffset, op.shifts.length));
      fc16Data.set(op, { w, bias, m, s });
      layers.push({ name: op.name, encoding: 'dense', br: 0, bc: 0, nnz: enc.nnz, weightBytes: enc.bytes.length });
    } else if (op.op === 'LUT16') {
      lut16Data.set(op, place(le16(op.table)));
    }
  }
  const total = arrays.length ? arrays[arrays.length - 1].offset + arrays[arrays.length - 1].bytes.length : cursor;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  for (const a of arrays) out.set(a.bytes, a.offset);

  // Header (§7); every offset below is docs/spec/model-format.json's, through src/spec/modelFormat.ts.
  out.set(Buffer.from(MAGIC, 'latin1'), HDR.magic);
  dv.setUint16(HDR.formatVersion, FORMAT_VERSION, true);
  dv.setUint16(HDR.headerSize, HEADER_BYTES, true);
  dv.setUint32(HDR.totalBytes, total, true);
  dv.setUint32(HDR.flags, 0, true);
  dv.setUint16(HDR.nFft, graph.nFft, true);
  dv.setUint16(HDR.hop, graph.hop, true);
  dv.setUint32(HDR.sampleRate, graph.sampleRate, true);
  dv.setUint16(HDR.nTensors, nT, true);
  dv.setUint16(HDR.nOps, graph.ops.length, true);
  dv.setUint16(HDR.inputId, id(graph.input), true);
  dv.setUint16(HDR.outputId, id(graph.output), true);
  dv.setUint32(HDR.tensorTable, tensorTable, true);
  dv.setUint32(HDR.opTable, opTable, true);
  dv.setUint32(HDR.winA, winA, true);
  dv.setUint32(HDR.winS, winS, true);
  dv.setInt32(HDR.featMult, graph.featMult, true);
  dv.setInt8(HDR.featShift, graph.featShift);
  dv.setUint32(HDR.modelId, graph.modelId >>> 0, true);

  graph.tensors.forEach((t, k) => {
    const r = tensorTable + TENSOR_RECORD_BYTES * k;
    dv.setUint16(r + TENSOR.length, t.length, true);
    dv.setUint8(r + TENSOR.flags, (t.isState ? TENSOR_FLAG_STATE : 0) | (t.dtype === 'int16' ? TENSOR_FLAG_INT16 : 0));
    dv.setFloat32(r + TENSOR.scale, t.scale, true);
    dv.setInt32(r + TENSOR.zeroPoint, t.zeroPoint, true);
    dv.setUint16(r + TENSOR.next, t.isState ? id(t.next as string) : NO_TENSOR, true);
  });

  let r = opTable;
  for (const op of graph.ops) {
    const code = OP_CODES[op.op];
    const size = OP_RECORD_BYTES[code]!;
    dv.setUint8(r + OPREC.code, code);
    dv.setUint16(r + OPREC.size, size, true);
    if (op.op === 'FC') {
      const d = fcData.get(op)!;
      const F = OP_FIELDS.FC;
      dv.setUint8(r + OPREC.encoding, ENCODINGS[d.enc.encoding]);
      dv.setUint16(r + F.in, id(op.input), true);
      dv.setUint16(r + F.out, id(op.output), true);
      dv.setUint16(r + F.inFeatures, op.inFeatures, true);
      dv.setUint16(r + F.outFeatures, op.outFeatures, true);
      dv.setInt8(r + F.actMin, op.actMin);
      dv.setInt8(r + F.actMax, op.actMax);
      dv.setUint8(r + F.perChannel, 1); // per-channel multipliers
      dv.setUint32(r + F.weights, d.w, true);
      dv.setUint32(r + F.weightsBytes, d.enc.bytes.length, true);
      dv.setUint32(r + F.biasEff, d.bias, true);
      dv.setUint32(r + F.mult, d.m, true);
      dv.setUint32(r + F.shift, d.s, true);
      dv.setUint8(r + F.br, d.enc.br);
      dv.setUint8(r + F.bc, d.enc.bc);
      dv.setUint32(r + F.nnz, d.enc.nnz, true);
    } else if (op.op === 'FC16') {
      const d = fc16Data.get(op)!;
      const F = OP_FIELDS.FC16;
      dv.setUint16(r + F.in, id(op.input), true);
      dv.setUint16(r + F.out, id(op.output), true);
      dv.setUint16(r + F.inFeatures, op.inFeatures, true);
      dv.setUint16(r + F.outFeatures, op.outFeatures, true);
      dv.setInt16(r + F.actMin, op.actMin, true);
      dv.setInt16(r + F.actMax, op.actMax, true);
      dv.setUint8(r + F.perChannel, 1);
      dv.setUint32(r + F.weights, d.w, true);
      dv.setUint32(r + F.bias, d.bias, true);
      dv.setUint32(r + F.mult, d.m, true);
      dv.setUint32(r + F.shift, d.s, true);
    } else if (op.op === 'QUANTIZE') {
      const Q = OP_FIELDS.QUANTIZE;
      dv.setUint16(r + Q.in, id(op.input), true);
      dv.setUint16(r + Q.out, id(op.output), true);
      dv.setInt32(r + Q.m, op.m, true);
      dv.setInt8(r + Q.shift, op.shift);
    } else if (op.op === 'LUT16') {
      const L = OP_FIELDS.LUT16;
      dv.setUint16(r + L.in, id(op.input), true);
      dv.setUint16(r + L.out, id(op.output), true);
      dv.setUint8(r + L.kind, LUT_KINDS.indexOf(op.kind));
      dv.setUint32(r + L.table, lut16Data.get(op)!, true);
    } else if (op.op === 'LUT') {
      const L = OP_FIELDS.LUT;
      dv.setUint16(r + L.in, id(op.input), true);
      dv.setUint16(r + L.out, id(op.output), true);
      dv.setUint8(r + L.kind, LUT_KINDS.indexOf(op.kind));
      out.set(new Uint8Array(op.table.buffer, op.table.byteOffset, 256), r + L.table);
    } else if (op.op === 'MUL') {
      const M = OP_FIELDS.MUL;
      dv.setUint16(r + M.in1, id(op.in1), true);
      dv.setUint16(r + M.in2, id(op.in2), true);
      dv.setUint16(r + M.out, id(op.output), true);
      dv.setInt8(r + M.sho, op.sho);
      dv.setInt32(r + M.mo, op.mo, true);
      dv.setInt8(r + M.actMin, op.actMin);
      dv.setInt8(r + M.actMax, op.actMax);
    } else {
      const A = OP_FIELDS[op.op];
      dv.setUint16(r + A.in1, id(op.in1), true);
      dv.setUint16(r + A.in2, id(op.in2), true);
      dv.setUint16(r + A.out, id(op.output), true);
      dv.setUint8(r + A.leftShift, op.leftShift);
      dv.setInt32(r + A.m1, op.m1, true);
      dv.setInt8(r + A.sh1, op.sh1);
      dv.setInt8(r + A.sh2, op.sh2);
      dv.setInt8(r + A.sho, op.sho);
      dv.setInt32(r + A.m2, op.m2, true);
      dv.setInt32(r + A.mo, op.mo, true);
      dv.setInt8(r + A.actMin, op.actMin);
      dv.setInt8(r + A.actMax, op.actMax);
    }
    r += size;
  }
  dv.setUint32(HDR.crc32, crc32(out.subarray(HDR.flags)) >>> 0, true);
  return { bytes: out, layers };
}
