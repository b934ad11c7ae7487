/**
 * Parser and validator of the model blob (docs/model-format.md §7). It mirrors firmware/core/engine.c's
 * hil_model_load check for check, in the same order and with the same reason text, so a blob the host
 * accepts is one the device accepts and a refusal reads the same on both sides. Reads go through a
 * DataView, which throws instead of reading out of bounds: the fuzz tests rely on every refusal being a
 * HilError and never a RangeError.
 */
import { crc32 } from 'node:zlib';
import {
  ENCODINGS,
  FORMAT_VERSION,
  HDR,
  HEADER_BYTES,
  HOPS,
  LUT16_ENTRIES,
  LUT_KINDS,
  MAGIC,
  MAX_FC16_BIAS_BITS,
  MAX_FC16_SHIFT,
  MAX_ADD_LEFT_SHIFT,
  MAX_BLOCK_DIM,
  MAX_OPS,
  MAX_TENSORS,
  N_FFT,
  NO_TENSOR,
  OP_CODES,
  OP_FIELDS,
  OP_NAMES,
  OP_RECORD_BYTES,
  OPREC,
  OUTPUT16_SCALE_BITS,
  OUTPUT_SCALE_BITS,
  SAMPLE_RATE,
  TENSOR,
  TENSOR_FLAG_INT16,
  TENSOR_FLAG_STATE,
  TENSOR_RECORD_BYTES,
} from '../spec/modelFormat.js';

export type DtypeName = 'int8' | 'int16';
import { ErrorCode } from '../spec/protocol.js';
import { HilError } from '../util/errors.js';

// The format's constants and record layouts are src/spec/modelFormat.ts, generated from
// docs/spec/model-format.json like the firmware's hil_model_format.h.
export * from '../spec/modelFormat.js';

/** Protocol error codes a refusal maps to (docs/protocol.md §3). */
export const ERR_MODEL_INVALID = ErrorCode.MODEL_INVALID;
export const ERR_ARENA_TOO_SMALL = ErrorCode.ARENA;

export class BlobError extends HilError {
  constructor(
    readonly reason: string,
    readonly code: number = ERR_MODEL_INVALID,
  ) {
    super(`model blob invalid: ${reason}`, code === ERR_ARENA_TOO_SMALL ? 'use a board with a larger arena or a smaller model' : 're-export the model (hil model init / export)');
    this.name = 'BlobError';
  }
}

export interface BlobTensor {
  id: number;
  length: number;
  flags: number;
  isState: boolean;
  scale: number;
  scaleBits: number;
  zeroPoint: number;
  /** int8, or int16 (symmetric: zero point 0); docs/model-format.md §4.2. */
  dtype: DtypeName;
  /** For a state tensor: the tensor copied into it after each frame. */
  next: number | null;
  /** Byte offset inside the arena (§8). */
  arenaOffset: number;
}

/** The work an op does every frame; static for a given blob (§6, §8). */
export interface OpCounters {
  macs: number;
  weightBytes: number;
  elements: number;
}

interface OpBase {
  index: number;
  recordOffset: number;
  counters: OpCounters;
}

export interface FcWeightsDense {
  encoding: 'dense';
  w: Int8Array;
}
export interface FcWeightsBlock {
  encoding: 'block';
  br: number;
  bc: number;
  rowPtr: Uint16Array;
  colIdx: Uint16Array;
  blocks: Int8Array;
}
export interface FcWeightsCsr {
  encoding: 'csr';
  rowNnz: Uint16Array;
  delta: Uint8Array;
  values: Int8Array;
}
/** Encoding 3: codes two to a byte, low nibble first, each row from a new byte (§6). */
export interface FcWeightsCsr4 {
  encoding: 'csr4';
  /** Codes per row, escapes included. */
  rowCodes: Uint16Array;
  codes: Uint8Array;
  values: Int8Array;
}
export type FcWeights = FcWeightsDense | FcWeightsBlock | FcWeightsCsr | FcWeightsCsr4;

/** What the int8 FC and the 16x8 FC records share. */
interface FcFields {
  input: number;
  output: number;
  inFeatures: number;
  outFeatures: number;
  actMin: number;
  actMax: number;
  perChannel: boolean;
  weightsOffset: number;
  mult: Int32Array;
  shift: Int8Array;
}

export interface BlobFcOp extends OpBase, FcFields {
  op: 'FC';
  weightsBytes: number;
  nnz: number;
  biasEff: Int32Array;
  weights: FcWeights;
}
export interface BlobAddOp extends OpBase {
  op: 'ADD' | 'SUB';
  in1: number;
  in2: number;
  output: number;
  leftShift: number;
  m1: number;
  sh1: number;
  m2: number;
  sh2: number;
  mo: number;
  sho: number;
  actMin: number;
  actMax: number;
}
export interface BlobMulOp extends OpBase {
  op: 'MUL';
  in1: number;
  in2: number;
  output: number;
  mo: number;
  sho: number;
  actMin: number;
  actMax: number;
}
export interface BlobLutOp extends OpBase {
  op: 'LUT';
  input: number;
  output: number;
  kind: number;
  table: Int8Array;
}
/** The 16x8 FC: int16 input and output, int8 dense weights, int64 bias (§5). */
export interface BlobFc16Op extends OpBase, FcFields {
  op: 'FC16';
  w: Int8Array;
  bias: BigInt64Array;
}
/** int8 → int16 requantization (TFLite QUANTIZE between integer types). */
export interface BlobQuantizeOp extends OpBase {
  op: 'QUANTIZE';
  input: number;
  output: number;
  m: number;
  shift: number;
}
/** int16 → int16 table lookup with linear interpolation over 513 entries (§5). */
export interface BlobLut16Op extends OpBase {
  op: 'LUT16';
  input: number;
  output: number;
  kind: number;
  table: Int16Array;
}
export type BlobOp = BlobFcOp | BlobAddOp | BlobMulOp | BlobLutOp | BlobFc16Op | BlobQuantizeOp | BlobLut16Op;

/** The dtypes an op reads and writes (§5): the 16-bit ops are the only ones touching int16 tensors. */
function opDtypes(name: string): { reads: DtypeName; write: DtypeName } {
  if (name === 'FC16' || name === 'LUT16') return { reads: 'int16', write: 'int16' };
  if (name === 'QUANTIZE') return { reads: 'int8', write: 'int16' };
  return { reads: 'int8', write: 'int8' };
}

export interface ModelBlob {
  bytes: Uint8Array;
  totalBytes: number;
  crc: number;
  nFft: number;
  hop: number;
  sampleRate: number;
  nBins: number;
  inputId: number;
  outputId: number;
  featMult: number;
  featShift: number;
  modelId: number;
  winA: Int16Array;
  winS: Int16Array;
  tensors: BlobTensor[];
  ops: BlobOp[];
  /** Offsets (§8) of the stream buffers inside the arena, and its size. */
  arena: { inbuf: number; ola: number; re: number; im: number; bytes: number };
}

/** The work counters (docs/model-format.md §8) of a block-sparse FC: `nnz` stored br x bc blocks in `nbr`
 *  block rows; the weight stream is the blocks plus row_ptr and col_idx. Also what scripts/bench-kernels.ts
 *  prices a block shape with, so the modelled NPU figures there are the engine's own. */
export function blockFcCounters(nbr: number, nnz: number, br: number, bc: number): OpCounters {
  return { macs: nnz * br * bc, weightBytes: nnz * br * bc + 2 * (nbr + 1 + nnz), elements: 0 };
}

/** CSR4's work (§6): escapes cost no MAC; the kernel reads the row table, the codes and the values. */
export function csr4FcCounters(outF: number, codeBytes: number, nnz: number): OpCounters {
  return { macs: nnz, weightBytes: 2 * outF + codeBytes + nnz, elements: 0 };
}

export function round16(v: number): number {
  return Math.ceil(v / 16) * 16;
}
export function blockIndexBytes(nbr: number, nnzb: number): number {
  return round16(2 * (nbr + 1 + nnzb));
}
export function csrIndexBytes(out: number): number {
  return Math.ceil((2 * out) / 4) * 4;
}

/** CSR4's escape code (0) moves the column this far on without a weight. */
export const CSR4_ESCAPE_STEP = 15;
/** Bytes of CSR4's packed codes: each row's codes from a new byte. */
export function csr4CodeBytes(rowCodes: ArrayLike<number>): number {
  let n = 0;
  for (let o = 0; o < rowCodes.length; o++) n += Math.ceil(rowCodes[o] / 2);
  return n;
}

/** Arena layout of §8 for the tensors' sizes in bytes (length × element size). */
export function arenaLayout(nFft: number, lengths: readonly number[]): { inbuf: number; ola: number; re: number; im: number; tensors: number[]; bytes: number } {
  let a = 0;
  const inbuf = a;
  a += round16(2 * nFft);
  const ola = a;
  a += round16(4 * nFft);
  const re = a;
  a += round16(4 * nFft);
  const im = a;
  a += round16(4 * nFft);
  const tensors: number[] = [];
  for (const len of lengths) {
    tensors.push(a);
    a += round16(len) + 16;
  }
  return { inbuf, ola, re, im, tensors, bytes: a };
}

function fail(reason: string, code: number = ERR_MODEL_INVALID): never {
  throw new BlobError(reason, code);
}

function multiplierOk(m: number, shift: number): boolean {
  return m >= 0 && shift >= -31 && shift <= 31;
}

export interface ParseOptions {
  /** Like the device's arena capacity: refuse (code 8) a blob whose arena does not fit. */
  arenaCapacity?: number;
}

/** Validates a blob exactly as the firmware does and decodes it. Throws BlobError (a HilError) with the reason. */
export function parseBlob(input: Uint8Array, options: ParseOptions = {}): ModelBlob {
  const bytes = new Uint8Array(input); // own, aligned copy: views below never alias the caller's buffer
  const n = bytes.length;
  const dv = new DataView(bytes.buffer);
  const u8 = (o: number) => dv.getUint8(o);
  const i8 = (o: number) => dv.getInt8(o);
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const i32 = (o: number) => dv.getInt32(o, true);
  const i16 = (o: number) => dv.getInt16(o, true);

  if (n < HEADER_BYTES) fail(`blob too short for the header (${n} bytes)`);
  const magic = String.fromCharCode(...bytes.subarray(HDR.magic, HDR.magic + MAGIC.length));
  if (magic !== MAGIC) fail('bad magic (not a hil model blob)');
  const version = u16(HDR.formatVersion);
  if (version !== FORMAT_VERSION) fail(`format version ${version} unsupported (expected ${FORMAT_VERSION})`);
  const headerSize = u16(HDR.headerSize);
  if (headerSize !== HEADER_BYTES) fail(`header size ${headerSize} unsupported (expected ${HEADER_BYTES})`);
  if (u32(HDR.totalBytes) !== n) fail(`total size ${u32(HDR.totalBytes)} does not match the ${n} bytes received`);
  const crc = u32(HDR.crc32);
  if (crc32(bytes.subarray(HDR.flags)) >>> 0 !== crc) fail('CRC mismatch (blob corrupted in transfer or storage)');
  if (u32(HDR.flags) !== 0) fail(`flags ${u32(HDR.flags)} unsupported (expected 0)`);
  const nFft = u16(HDR.nFft);
  const hop = u16(HDR.hop);
  if (nFft !== N_FFT) fail(`n_fft ${nFft} unsupported (expected ${N_FFT})`);
  if (!(HOPS as readonly number[]).includes(hop)) fail(`hop ${hop} unsupported (expected ${HOPS.join(' or ')})`);
  const sampleRate = u32(HDR.sampleRate);
  if (sampleRate !== SAMPLE_RATE) fail(`sample rate ${sampleRate} unsupported (expected ${SAMPLE_RATE})`);
  const nBins = nFft / 2 + 1;
  const nTensors = u16(HDR.nTensors);
  const nOps = u16(HDR.nOps);
  if (nTensors < 1 || nTensors > MAX_TENSORS) fail(`n_tensors ${nTensors} out of range [1, ${MAX_TENSORS}]`);
  if (nOps < 1 || nOps > MAX_OPS) fail(`n_ops ${nOps} out of range [1, ${MAX_OPS}]`);
  const inputId = u16(HDR.inputId);
  const outputId = u16(HDR.outputId);
  if (inputId >= nTensors) fail(`input tensor id ${inputId} out of range`);
  if (outputId >= nTensors) fail(`output tensor id ${outputId} out of range`);
  const tt = u32(HDR.tensorTable);
  const ot = u32(HDR.opTable);
  const ttEnd = tt + TENSOR_RECORD_BYTES * nTensors;
  if (tt % 16 || tt < HEADER_BYTES || ttEnd > n) fail('tensor table outside the blob or misaligned');
  if (ot % 16 || ot < ttEnd || ot > n) fail('op table outside the blob, misaligned or overlapping the tensor table');
  const recordOffsets: number[] = [];
  let pos = ot;
  for (let i = 0; i < nOps; i++) {
    if (pos + 4 > n) fail(`op ${i}: record outside the blob`);
    const code = u8(pos + OPREC.code);
    if (!(code in OP_NAMES)) fail(`op ${i}: unknown code ${code}`);
    const size = u16(pos + OPREC.size);
    if (size !== OP_RECORD_BYTES[code]) fail(`op ${i} (${OP_NAMES[code]}): record size ${size} (expected ${OP_RECORD_BYTES[code]})`);
    if (pos + size > n) fail(`op ${i}: record outside the blob`);
    recordOffsets.push(pos);
    pos += size;
  }
  const dataStart = pos;
  const arrayOk = (off: number, len: number) => off % 16 === 0 && off >= dataStart && off + len <= n;
  const wa = u32(HDR.winA);
  const ws = u32(HDR.winS);
  if (!arrayOk(wa, 2 * nFft)) fail('win_a outside the data area or misaligned');
  if (!arrayOk(ws, 2 * nFft)) fail('win_s outside the data area or misaligned');
  const readI16 = (off: number, len: number) => Int16Array.from({ length: len }, (_, k) => dv.getInt16(off + 2 * k, true));
  const winA = readI16(wa, nFft);
  const winS = readI16(ws, nFft);
  const featMult = i32(HDR.featMult);
  const featShift = i8(HDR.featShift);
  if (!multiplierOk(featMult, featShift)) fail(`feature multiplier out of range (M ${featMult}, shift ${featShift})`);
  const modelId = u32(HDR.modelId);

  const tensors: BlobTensor[] = [];
  for (let t = 0; t < nTensors; t++) {
    const r = tt + TENSOR_RECORD_BYTES * t;
    const length = u16(r + TENSOR.length);
    const flags = u8(r + TENSOR.flags);
    const zeroPoint = i32(r + TENSOR.zeroPoint);
    const next = u16(r + TENSOR.next);
    if (length === 0) fail(`tensor ${t}: length 0`);
    if (flags & ~(TENSOR_FLAG_STATE | TENSOR_FLAG_INT16)) fail(`tensor ${t}: unknown flags ${flags}`);
    const dtype: DtypeName = flags & TENSOR_FLAG_INT16 ? 'int16' : 'int8';
    if (dtype === 'int8' && (zeroPoint < -128 || zeroPoint > 127)) fail(`tensor ${t}: zero point ${zeroPoint} outside [-128, 127]`);
    if (dtype === 'int16' && zeroPoint !== 0) fail(`tensor ${t}: int16 zero point ${zeroPoint} (expected 0)`);
    if (dtype === 'int16' && flags & TENSOR_FLAG_STATE) fail(`tensor ${t}: a state tensor must be int8`);
    const scale = dv.getFloat32(r + TENSOR.scale, true);
    tensors.push({ id: t, length, flags, isState: (flags & TENSOR_FLAG_STATE) !== 0, scale, scaleBits: u32(r + TENSOR.scale), zeroPoint, dtype, next, arenaOffset: 0 });
  }
  for (const x of tensors) {
    const next = x.next as number;
    if (!x.isState) {
      if (next !== NO_TENSOR) fail(`tensor ${x.id}: next ${next} set on a non-state tensor`);
      x.next = null;
      continue;
    }
    if (next >= nTensors) fail(`tensor ${x.id}: state's next ${next} out of range`);
    const nx = tensors[next];
    if (nx.length !== x.length || nx.zeroPoint !== x.zeroPoint || nx.scaleBits !== x.scaleBits)
      fail(`tensor ${x.id}: state's next ${next} differs in length, scale or zero point`);
    if (nx.dtype !== 'int8') fail(`tensor ${x.id}: state's next ${next} is not int8`);
  }
  const tin = tensors[inputId];
  const tout = tensors[outputId];
  if (tin.length !== nBins) fail(`input tensor length ${tin.length} (expected ${nBins})`);
  if (tin.isState) fail('input tensor is a state tensor');
  if (tin.dtype !== 'int8') fail('input tensor must be int8');
  if (tout.dtype === 'int16') {
    if (tout.length !== nBins || tout.scaleBits !== OUTPUT16_SCALE_BITS) fail(`int16 output tensor must have length ${nBins} and scale 1/32768`);
  } else if (tout.length !== nBins || tout.zeroPoint !== -128 || tout.scaleBits !== OUTPUT_SCALE_BITS)
    fail(`output tensor must have length ${nBins}, zero point -128 and scale 1/256`);

  const ready = tensors.map((x) => x.isState || x.id === inputId);
  const ops: BlobOp[] = [];
  for (let i = 0; i < nOps; i++) {
    const r = recordOffsets[i];
    const code = u8(r + OPREC.code);
    const name = OP_NAMES[code]!;
    const f = name === 'FC' || name === 'LUT' || name === 'FC16' || name === 'QUANTIZE' || name === 'LUT16' ? OP_FIELDS[name] : null;
    const reads = f ? [u16(r + f.in)] : [u16(r + OP_FIELDS.MUL.in1), u16(r + OP_FIELDS.MUL.in2)];
    const out = f ? u16(r + f.out) : u16(r + OP_FIELDS.MUL.out);
    for (const t of reads) if (t >= nTensors) fail(`op ${i} (${name}): tensor id ${t} out of range`);
    if (out >= nTensors) fail(`op ${i} (${name}): tensor id ${out} out of range`);
    for (const t of reads) if (!ready[t]) fail(`op ${i} (${name}): reads tensor ${t} before it is written`);
    if (tensors[out].isState || out === inputId) fail(`op ${i} (${name}): writes tensor ${out}, the input or a state tensor`);
    const want = opDtypes(name);
    for (const t of reads) if (tensors[t].dtype !== want.reads) fail(`op ${i} (${name}): tensor ${t} is ${tensors[t].dtype} (expected ${want.reads})`);
    if (tensors[out].dtype !== want.write) fail(`op ${i} (${name}): tensor ${out} is ${tensors[out].dtype} (expected ${want.write})`);
    if (code === OP_CODES.FC) ops.push(parseFc(i, r));
    else if (code === OP_CODES.FC16) ops.push(parseFc16(i, r));
    else if (code === OP_CODES.QUANTIZE || code === OP_CODES.LUT16) ops.push(parseWidening(i, r, code));
    else ops.push(parseElementwise(i, r, code));
    ready[out] = true;
  }

  const layout = arenaLayout(nFft, tensors.map((x) => x.length * (x.dtype === 'int16' ? 2 : 1)));
  tensors.forEach((x, t) => (x.arenaOffset = layout.tensors[t]));
  if (options.arenaCapacity !== undefined && layout.bytes > options.arenaCapacity)
    fail(`arena needs ${layout.bytes} bytes, capacity ${options.arenaCapacity}`, ERR_ARENA_TOO_SMALL);

  return {
    bytes,
    totalBytes: n,
    crc,
    nFft,
    hop,
    sampleRate,
    nBins,
    inputId,
    outputId,
    featMult,
    featShift,
    modelId,
    winA,
    winS,
    tensors,
    ops,
    arena: { inbuf: layout.inbuf, ola: layout.ola, re: layout.re, im: layout.im, bytes: layout.bytes },
  };

  function parseFc(i: number, r: number): BlobFcOp {
    const F = OP_FIELDS.FC;
    const tinId = u16(r + F.in);
    const toutId = u16(r + F.out);
    const inF = u16(r + F.inFeatures);
    const outF = u16(r + F.outFeatures);
    const actMin = i8(r + F.actMin);
    const actMax = i8(r + F.actMax);
    const perChannel = u8(r + F.perChannel);
    const enc = u8(r + OPREC.encoding);
    const br = u8(r + F.br);
    const bc = u8(r + F.bc);
    const wOff = u32(r + F.weights);
    const wBytes = u32(r + F.weightsBytes);
    const biasOff = u32(r + F.biasEff);
    const mOff = u32(r + F.mult);
    const sOff = u32(r + F.shift);
    const nnz = u32(r + F.nnz);
    if (inF !== tensors[tinId].length || outF !== tensors[toutId].length)
      fail(`op ${i} (FC): in_features ${inF} / out_features ${outF} do not match tensor lengths ${tensors[tinId].length} / ${tensors[toutId].length}`);
    if (tinId === toutId) fail(`op ${i} (FC): output is its own input`);
    if (actMin > actMax) fail(`op ${i} (FC): act_min ${actMin} > act_max ${actMax}`);
    if (perChannel > 1) fail(`op ${i} (FC): per_channel ${perChannel} invalid`);
    const nMult = perChannel ? outF : 1;
    if (!arrayOk(biasOff, 4 * outF)) fail(`op ${i} (FC): bias_eff array outside the data area or misaligned`);
    if (!arrayOk(mOff, 4 * nMult)) fail(`op ${i} (FC): M array outside the data area or misaligned`);
    if (!arrayOk(sOff, nMult)) fail(`op ${i} (FC): shift array outside the data area or misaligned`);
    const mult = Int32Array.from({ length: nMult }, (_, c) => i32(mOff + 4 * c));
    const shift = Int8Array.from({ length: nMult }, (_, c) => i8(sOff + c));
    for (let c = 0; c < nMult; c++) if (!multiplierOk(mult[c], shift[c])) fail(`op ${i} (FC): multiplier out of range at channel ${c}`);
    if (!arrayOk(wOff, wBytes)) fail(`op ${i} (FC): weights array outside the data area or misaligned`);
    const biasEff = Int32Array.from({ length: outF }, (_, o) => i32(biasOff + 4 * o));
    let weights: FcWeights;
    let counters: OpCounters;
    if (enc === ENCODINGS.dense) {
      const expected = outF * inF;
      if (wBytes !== expected) fail(`op ${i} (FC): weights bytes ${wBytes} (expected ${expected})`);
      if (nnz !== expected) fail(`op ${i} (FC): nnz ${nnz} (expected ${expected} for dense)`);
      weights = { encoding: 'dense', w: new Int8Array(bytes.buffer.slice(wOff, wOff + wBytes)) };
      counters = { macs: expected, weightBytes: expected, elements: 0 };
    } else if (enc === ENCODINGS.block) {
      if (br < 1 || br > MAX_BLOCK_DIM || bc < 1 || bc > MAX_BLOCK_DIM) fail(`op ${i} (FC): block ${br}x${bc} outside [1, ${MAX_BLOCK_DIM}]`);
      const nbr = Math.ceil(outF / br);
      const nbc = Math.ceil(inF / bc);
      const expected = blockIndexBytes(nbr, nnz) + nnz * br * bc;
      if (wBytes !== expected) fail(`op ${i} (FC): weights bytes ${wBytes} (expected ${expected >>> 0})`);
      const colBase = wOff + 2 * (nbr + 1);
      if (u16(wOff) !== 0) fail(`op ${i} (FC): block row_ptr invalid at block row 0`);
      for (let rb = 0; rb < nbr; rb++) {
        const lo = u16(wOff + 2 * rb);
        const hi = u16(wOff + 2 * (rb + 1));
        if (hi < lo || hi > nnz || (rb + 1 === nbr && hi !== nnz)) fail(`op ${i} (FC): block row_ptr invalid at block row ${rb + 1}`);
        for (let k = lo; k < hi; k++) {
          const col = u16(colBase + 2 * k);
          if (col >= nbc || (k > lo && col <= u16(colBase + 2 * (k - 1)))) fail(`op ${i} (FC): block col_idx invalid at block ${k}`);
        }
      }
      const rowPtr = Uint16Array.from({ length: nbr + 1 }, (_, k) => u16(wOff + 2 * k));
      const colIdx = Uint16Array.from({ length: nnz }, (_, k) => u16(colBase + 2 * k));
      const bOff = wOff + blockIndexBytes(nbr, nnz);
      weights = { encoding: 'block', br, bc, rowPtr, colIdx, blocks: new Int8Array(bytes.buffer.slice(bOff, bOff + nnz * br * bc)) };
      counters = blockFcCounters(nbr, nnz, br, bc);
    } else if (enc === ENCODINGS.csr) {
      const expected = csrIndexBytes(outF) + 2 * nnz;
      if (wBytes !== expected) fail(`op ${i} (FC): weights bytes ${wBytes} (expected ${expected >>> 0})`);
      const rowNnz = Uint16Array.from({ length: outF }, (_, o) => u16(wOff + 2 * o));
      let sum = 0;
      for (let o = 0; o < outF; o++) sum += rowNnz[o];
      if (sum !== nnz) fail(`op ${i} (FC): CSR row lengths sum to ${sum} (expected nnz ${nnz})`);
      const dOff = wOff + csrIndexBytes(outF);
      const delta = new Uint8Array(bytes.buffer.slice(dOff, dOff + nnz));
      let k = 0;
      for (let o = 0; o < outF; o++) {
        let col = 0;
        for (let e = 0; e < rowNnz[o]; e++, k++) {
          col += delta[k];
          if (col >= inF) fail(`op ${i} (FC): CSR column out of range in row ${o}`);
        }
      }
      weights = { encoding: 'csr', rowNnz, delta, values: new Int8Array(bytes.buffer.slice(dOff + nnz, dOff + 2 * nnz)) };
      counters = { macs: nnz, weightBytes: 2 * nnz + 2 * outF, elements: 0 };
    } else if (enc === ENCODINGS.csr4) {
      const index = csrIndexBytes(outF);
      if (wBytes < index + nnz) fail(`op ${i} (FC): weights bytes ${wBytes} too few for the CSR4 row table and nnz ${nnz} values`);
      const rowCodes = Uint16Array.from({ length: outF }, (_, o) => u16(wOff + 2 * o));
      const codeBytes = csr4CodeBytes(rowCodes);
      const expected = index + codeBytes + nnz;
      if (wBytes !== expected) fail(`op ${i} (FC): weights bytes ${wBytes} (expected ${expected >>> 0} for CSR4)`);
      const cOff = wOff + index;
      const codes = new Uint8Array(bytes.buffer.slice(cOff, cOff + codeBytes));
      let at = 0, values = 0;
      for (let o = 0; o < outF; o++) {
        const n = rowCodes[o];
        let col = -1;
        for (let e = 0; e < n; e++) {
          const code = (codes[at + (e >> 1)] >> (4 * (e & 1))) & 15;
          if (code === 0) {
            if (e + 1 === n) fail(`op ${i} (FC): CSR4 row ${o} ends in an escape code`);
            col += CSR4_ESCAPE_STEP;
          } else {
            col += code;
            values++;
            if (col >= inF) fail(`op ${i} (FC): CSR4 column out of range in row ${o}`);
          }
        }
        if (n & 1 && codes[at + (n >> 1)] >> 4) fail(`op ${i} (FC): CSR4 row ${o} pad nibble not zero`);
        at += Math.ceil(n / 2);
      }
      if (values !== nnz) fail(`op ${i} (FC): CSR4 codes hold ${values} weights (expected nnz ${nnz})`);
      weights = { encoding: 'csr4', rowCodes, codes, values: new Int8Array(bytes.buffer.slice(cOff + codeBytes, cOff + codeBytes + nnz)) };
      counters = csr4FcCounters(outF, codeBytes, nnz);
    } else {
      fail(`op ${i} (FC): unknown encoding ${enc}`);
    }
    return {
      op: 'FC', index: i, recordOffset: r, counters, input: tinId, output: toutId, inFeatures: inF, outFeatures: outF, actMin, actMax,
      perChannel: perChannel === 1, weightsOffset: wOff, weightsBytes: wBytes, nnz, biasEff, mult, shift, weights,
    };
  }

  function parseFc16(i: number, r: number): BlobFc16Op {
    const F = OP_FIELDS.FC16;
    const tinId = u16(r + F.in);
    const toutId = u16(r + F.out);
    const inF = u16(r + F.inFeatures);
    const outF = u16(r + F.outFeatures);
    const actMin = i16(r + F.actMin);
    const actMax = i16(r + F.actMax);
    const perChannel = u8(r + F.perChannel);
    const enc = u8(r + OPREC.encoding);
    const wOff = u32(r + F.weights);
    const biasOff = u32(r + F.bias);
    const mOff = u32(r + F.mult);
    const sOff = u32(r + F.shift);
    if (inF !== tensors[tinId].length || outF !== tensors[toutId].length)
      fail(`op ${i} (FC16): in_features ${inF} / out_features ${outF} do not match tensor lengths ${tensors[tinId].length} / ${tensors[toutId].length}`);
    if (tinId === toutId) fail(`op ${i} (FC16): output is its own input`);
    if (enc !== ENCODINGS.dense) fail(`op ${i} (FC16): encoding ${enc} unsupported (dense only)`);
    if (actMin > actMax) fail(`op ${i} (FC16): act_min ${actMin} > act_max ${actMax}`);
    if (perChannel > 1) fail(`op ${i} (FC16): per_channel ${perChannel} invalid`);
    const nMult = perChannel ? outF : 1;
    if (!arrayOk(biasOff, 8 * outF)) fail(`op ${i} (FC16): bias array outside the data area or misaligned`);
    if (!arrayOk(mOff, 4 * nMult)) fail(`op ${i} (FC16): M array outside the data area or misaligned`);
    if (!arrayOk(sOff, nMult)) fail(`op ${i} (FC16): shift array outside the data area or misaligned`);
    const mult = Int32Array.from({ length: nMult }, (_, c) => i32(mOff + 4 * c));
    const shift = Int8Array.from({ length: nMult }, (_, c) => i8(sOff + c));
    for (let c = 0; c < nMult; c++) if (mult[c] < 0 || shift[c] < -31 || shift[c] > MAX_FC16_SHIFT) fail(`op ${i} (FC16): multiplier out of range at channel ${c}`);
    if (!arrayOk(wOff, outF * inF)) fail(`op ${i} (FC16): weights array outside the data area or misaligned`);
    const bias = BigInt64Array.from({ length: outF }, (_, o) => dv.getBigInt64(biasOff + 8 * o, true));
    const lim = 1n << BigInt(MAX_FC16_BIAS_BITS);
    for (let o = 0; o < outF; o++) if (bias[o] > lim || bias[o] < -lim) fail(`op ${i} (FC16): bias out of range at channel ${o}`);
    return {
      op: 'FC16', index: i, recordOffset: r, input: tinId, output: toutId, inFeatures: inF, outFeatures: outF, actMin, actMax, perChannel: perChannel === 1,
      weightsOffset: wOff, w: new Int8Array(bytes.buffer.slice(wOff, wOff + outF * inF)), bias, mult, shift,
      counters: { macs: outF * inF, weightBytes: outF * inF, elements: 0 },
    };
  }

  function parseWidening(i: number, r: number, code: number): BlobQuantizeOp | BlobLut16Op {
    const name = OP_NAMES[code];
    const input = u16(r + OP_FIELDS.QUANTIZE.in);
    const output = u16(r + OP_FIELDS.QUANTIZE.out);
    const len = tensors[output].length;
    if (tensors[input].length !== len) fail(`op ${i} (${name}): lengths differ`);
    const counters = { macs: 0, weightBytes: 0, elements: len };
    if (code === OP_CODES.QUANTIZE) {
      const m = i32(r + OP_FIELDS.QUANTIZE.m);
      const shift = i8(r + OP_FIELDS.QUANTIZE.shift);
      if (!multiplierOk(m, shift)) fail(`op ${i} (${name}): multiplier out of range`);
      return { op: 'QUANTIZE', index: i, recordOffset: r, input, output, m, shift, counters };
    }
    const L = OP_FIELDS.LUT16;
    const kind = u8(r + L.kind);
    if (kind >= LUT_KINDS.length) fail(`op ${i} (LUT16): kind ${kind} unknown`);
    const tOff = u32(r + L.table);
    if (!arrayOk(tOff, 2 * LUT16_ENTRIES)) fail(`op ${i} (LUT16): table array outside the data area or misaligned`);
    return { op: 'LUT16', index: i, recordOffset: r, input, output, kind, table: Int16Array.from({ length: LUT16_ENTRIES }, (_, k) => i16(tOff + 2 * k)), counters };
  }

  function parseElementwise(i: number, r: number, code: number): BlobOp {
    const name = OP_NAMES[code];
    if (code === OP_CODES.LUT) {
      const L = OP_FIELDS.LUT;
      const input = u16(r + L.in);
      const output = u16(r + L.out);
      if (tensors[input].length !== tensors[output].length) fail(`op ${i} (${name}): lengths differ`);
      const kind = u8(r + L.kind);
      if (kind >= LUT_KINDS.length) fail(`op ${i} (LUT): kind ${kind} unknown`);
      const table = Int8Array.from({ length: 256 }, (_, k) => i8(r + L.table + k));
      return { op: 'LUT', index: i, recordOffset: r, input, output, kind, table, counters: { macs: 0, weightBytes: 0, elements: tensors[output].length } };
    }
    // MUL, ADD and SUB keep in1, in2 and out in the same places (the firmware relies on it too).
    const in1 = u16(r + OP_FIELDS.MUL.in1);
    const in2 = u16(r + OP_FIELDS.MUL.in2);
    const output = u16(r + OP_FIELDS.MUL.out);
    const len = tensors[in1].length;
    if (tensors[in2].length !== len || tensors[output].length !== len) fail(`op ${i} (${name}): lengths differ`);
    if (code === OP_CODES.MUL) {
      const M = OP_FIELDS.MUL;
      const mo = i32(r + M.mo);
      const sho = i8(r + M.sho);
      const actMin = i8(r + M.actMin);
      const actMax = i8(r + M.actMax);
      if (!multiplierOk(mo, sho)) fail(`op ${i} (${name}): multiplier out of range`);
      if (actMin > actMax) fail(`op ${i} (${name}): act_min ${actMin} > act_max ${actMax}`);
      return { op: 'MUL', index: i, recordOffset: r, in1, in2, output, mo, sho, actMin, actMax, counters: { macs: len, weightBytes: 0, elements: len } };
    }
    const A = OP_FIELDS.ADD;
    const leftShift = u8(r + A.leftShift);
    const m1 = i32(r + A.m1);
    const sh1 = i8(r + A.sh1);
    const sh2 = i8(r + A.sh2);
    const sho = i8(r + A.sho);
    const m2 = i32(r + A.m2);
    const mo = i32(r + A.mo);
    const actMin = i8(r + A.actMin);
    const actMax = i8(r + A.actMax);
    if (leftShift > MAX_ADD_LEFT_SHIFT) fail(`op ${i} (${name}): left_shift ${leftShift} above ${MAX_ADD_LEFT_SHIFT}`);
    if (!multiplierOk(m1, sh1) || !multiplierOk(m2, sh2) || !multiplierOk(mo, sho)) fail(`op ${i} (${name}): multiplier out of range`);
    if (actMin > actMax) fail(`op ${i} (${name}): act_min ${actMin} > act_max ${actMax}`);
    return {
      op: name as 'ADD' | 'SUB', index: i, recordOffset: r, in1, in2, output, leftShift, m1, sh1, m2, sh2, mo, sho, actMin, actMax,
      counters: { macs: 0, weightBytes: 0, elements: len },
    };
  }
}
