/**
 * A committed blob's FC weights in another encoding (docs/model-format.md §6), everything else kept:
 * what `npm run bench:encodings` measures flash with, since a blob holds the int8 weights but not the
 * float model they were exported from. The data arrays are laid out in writeBlob's order (win_a, win_s,
 * per FC its weights, bias_eff, M and shifts, then the 16-bit ops' arrays), so re-encoding a blob with
 * the encodings it already has gives it back byte for byte.
 */
import { crc32 } from 'node:zlib';
import { type BlobFcOp, parseBlob, round16 } from '../engine/blob.js';
import { denseWeights } from '../engine/u55Weights.js';
import { ENCODINGS, HDR, LUT16_ENTRIES, OP_FIELDS, OPREC } from '../spec/modelFormat.js';
import { type EncodedWeights, type EncodingChoice, encodeWeights } from './blob.js';

/** The encoding each FC gets: one for all, or chosen per op. */
export type Reencoding = EncodingChoice | ((op: BlobFcOp) => EncodingChoice);

/** The choice that reproduces an FC's current encoding. */
export function currentEncoding(op: BlobFcOp): EncodingChoice {
  const w = op.weights;
  return w.encoding === 'block' ? { kind: 'block', br: w.br, bc: w.bc } : { kind: w.encoding };
}

export function reencodeBlob(bytes: Uint8Array, choice: Reencoding): { bytes: Uint8Array; layers: { index: number; encoding: EncodedWeights['encoding']; br: number; bc: number; weightBytes: number }[] } {
  const blob = parseBlob(bytes);
  const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = src.getUint32(HDR.winA, true);
  const pieces: { at: number; data: Uint8Array }[] = [];
  let cursor = start;
  const place = (data: Uint8Array): number => {
    const at = cursor;
    pieces.push({ at, data });
    cursor = round16(at + data.length);
    return at;
  };
  const copy = (offset: number, length: number) => bytes.subarray(offset, offset + length);
  const patches: [number, number][] = []; // (byte offset of a u32 field, value)
  patches.push([HDR.winA, place(copy(src.getUint32(HDR.winA, true), 2 * blob.nFft))]);
  patches.push([HDR.winS, place(copy(src.getUint32(HDR.winS, true), 2 * blob.nFft))]);
  const records: { r: number; enc: EncodedWeights }[] = [];
  const layers: ReturnType<typeof reencodeBlob>['layers'] = [];
  for (const op of blob.ops) {
    if (op.op !== 'FC') continue;
    const F = OP_FIELDS.FC;
    const r = op.recordOffset;
    const enc = encodeWeights({ weights: denseWeights(op), outFeatures: op.outFeatures, inFeatures: op.inFeatures }, typeof choice === 'function' ? choice(op) : choice);
    const nMult = op.perChannel ? op.outFeatures : 1;
    patches.push([r + F.weights, place(enc.bytes)]);
    patches.push([r + F.biasEff, place(copy(src.getUint32(r + F.biasEff, true), 4 * op.outFeatures))]);
    patches.push([r + F.mult, place(copy(src.getUint32(r + F.mult, true), 4 * nMult))]);
    patches.push([r + F.shift, place(copy(src.getUint32(r + F.shift, true), nMult))]);
    records.push({ r, enc });
    layers.push({ index: op.index, encoding: enc.encoding, br: enc.br, bc: enc.bc, weightBytes: enc.bytes.length });
  }
  for (const op of blob.ops) {
    const r = op.recordOffset;
    if (op.op === 'FC16') {
      const F = OP_FIELDS.FC16;
      const nMult = op.perChannel ? op.outFeatures : 1;
      patches.push([r + F.weights, place(copy(src.getUint32(r + F.weights, true), op.outFeatures * op.inFeatures))]);
      patches.push([r + F.bias, place(copy(src.getUint32(r + F.bias, true), 8 * op.outFeatures))]);
      patches.push([r + F.mult, place(copy(src.getUint32(r + F.mult, true), 4 * nMult))]);
      patches.push([r + F.shift, place(copy(src.getUint32(r + F.shift, true), nMult))]);
    } else if (op.op === 'LUT16') {
      const L = OP_FIELDS.LUT16;
      patches.push([r + L.table, place(copy(src.getUint32(r + L.table, true), 2 * LUT16_ENTRIES))]);
    }
  }
  const last = pieces[pieces.length - 1];
  const total = last.at + last.data.length;
  const out = new Uint8Array(total);
  out.set(bytes.subarray(0, start));
  for (const p of pieces) out.set(p.data, p.at);
  const dv = new DataView(out.buffer);
  for (const [at, v] of patches) dv.setUint32(at, v, true);
  for (const { r, enc } of records) {
    const F = OP_FIELDS.FC;
    dv.setUint8(r + OPREC.encoding, ENCODINGS[enc.encoding]);
    dv.setUint32(r + F.weightsBytes, enc.bytes.length, true);
    dv.setUint8(r + F.br, enc.br);
    dv.setUint8(r + F.bc, enc.bc);
    dv.setUint32(r + F.nnz, enc.nnz, true);
  }
  dv.setUint32(HDR.totalBytes, total, true);
  dv.setUint32(HDR.crc32, crc32(out.subarray(HDR.flags)) >>> 0, true);
  return { bytes: out, layers };
}
