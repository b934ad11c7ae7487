/**
 * A modelled estimate of the weight bytes Vela would write for an Ethos-U55 (docs/compression.md "Three
 * memory figures"). Not Vela's encoder: a size model built from what Arm publishes about it —
 *
 * - layout: weights are reordered into the NPU's block order and padded (IFM depth to a multiple of 32,
 *   OFM depth to a multiple of 8 here: the padding that reproduces the 94.00 KiB "NPU Weights Size" Vela's
 *   PERFORMANCE.md prints for an 86,952-MAC network, RNNoise's size);
 * - encoding: each stream is Golomb-Rice coded. A value is a palette index when a palette of at most 32
 *   most frequent values covers at least half of the weights, otherwise its zig-zag magnitude offset past
 *   the palette; when zeros come in runs and are much more frequent than any other value, zeros are taken
 *   out and coded as run lengths beside the weights (mlw_codec's rules); a slice header carries the
 *   Golomb-Rice divisors and the palette;
 * - per output channel a 10-byte scale and bias record (40-bit bias, 32-bit scale, 6-bit shift, padded).
 *
 * One divisor per stream (Vela may switch per slice, so this is an upper bound on that count) and each
 * stream rounded up to 16 bytes. Figures it produces are `modelled`.
 */
import { type BlobFcOp, CSR4_ESCAPE_STEP, type FcWeights, type ModelBlob } from './blob.js';

export const U55_IFM_DEPTH_MULTIPLE = 32;
export const U55_OFM_DEPTH_MULTIPLE = 8;
export const U55_SCALE_BIAS_BYTES = 10;
const PALETTE_MAX = 32;
/** mlw_codec's zero-run test: zeros must outnumber the most common other value this many times. */
const ZERO_FREQ_RATIO = 5;
const STREAM_ALIGN = 16;

const ceilTo = (v: number, m: number) => Math.ceil(v / m) * m;

/** Bits to Golomb-Rice code `v` (≥ 0) with divisor 2^div: unary quotient, stop bit, div remainder bits. */
const grBits = (v: number, div: number) => (v >> div) + 1 + div;

function bestGr(values: ArrayLike<number>, divs: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let d = 0; d < divs; d++) {
    let bits = 0;
    for (let i = 0; i < values.length; i++) bits += grBits(values[i], d);
    best = Math.min(best, bits);
  }
  return values.length ? best : 0;
}

/** The NPU block order: OFM channels in groups of 8, IFM depth in bricks of 8 inside each group. */
function npuOrder(w: Int8Array, outF: number, inF: number): Int8Array {
  const outP = ceilTo(outF, U55_OFM_DEPTH_MULTIPLE), inP = ceilTo(inF, U55_IFM_DEPTH_MULTIPLE);
  const s = new Int8Array(outP * inP);
  let k = 0;
  for (let og = 0; og < outP; og += U55_OFM_DEPTH_MULTIPLE)
    for (let ib = 0; ib < inP; ib += 8)
      for (let o = og; o < og + U55_OFM_DEPTH_MULTIPLE; o++)
        for (let i = ib; i < ib + 8; i++, k++) s[k] = o < outF && i < inF ? w[o * inF + i] : 0;
  return s;
}

/** Encoded bits of one weight stream (header included). */
function streamBits(s: Int8Array): number {
  const freq = new Map<number, number>();
  let zeros = 0, zerosInRuns = 0, run = 0;
  for (const v of s) {
    freq.set(v, (freq.get(v) ?? 0) + 1);
    if (v === 0) {
      zeros++;
      run++;
    } else {
      if (run >= 2) zerosInRuns += run;
      run = 0;
    }
  }
  if (run >= 2) zerosInRuns += run;
  let commonOther = 0;
  for (const [v, n] of freq) if (v !== 0) commonOther = Math.max(commonOther, n);
  const zeroRuns = zeros > 0 && zerosInRuns >= zeros / 2 && zeros > ZERO_FREQ_RATIO * commonOther;

  // Weight symbols (zeros left out when they go as runs) and the run lengths before each of them.
  const weights: number[] = [];
  const runs: number[] = [];
  run = 0;
  for (const v of s) {
    if (zeroRuns && v === 0) {
      run++;
      continue;
    }
    weights.push(v);
    if (zeroRuns) {
      runs.push(run);
      run = 0;
    }
  }
  if (zeroRuns) runs.push(run);

  const ranked = [...freq.entries()].filter(([v]) => !(zeroRuns && v === 0)).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const palette = ranked.slice(0, PALETTE_MAX);
  const covered = palette.reduce((n, [, c]) => n + c, 0);
  const usePalette = palette.length > 1 && covered >= weights.length / 2;
  const index = new Map<number, number>();
  if (usePalette) palette.forEach(([v], i) => index.set(v, i));
  const palSize = usePalette ? palette.length : 0;
  const zigzag = (v: number) => (v < 0 ? -2 * v - 1 : 2 * v);
  const symbols = weights.map((v) => index.get(v) ?? palSize + zigzag(v));
  let maxPal = 0;
  for (const [v] of palette) maxPal = Math.max(maxPal, zigzag(v));
  const palBits = Math.max(2, Math.ceil(Math.log2(maxPal + 1)));

  const header = 3 + 15 + 3 + 1 + 1 + (5 + 5 + 3 + palSize * palBits);
  const wBits = Math.min(bestGr(symbols, 6), symbols.length * 9);
  const zBits = zeroRuns ? bestGr(runs, 4) : 0;
  return header + wBits + zBits;
}

export interface U55WeightEstimate {
  /** Weights after the NPU's padding, uncompressed (Vela's "NPU Weights Size"). */
  paddedBytes: number;
  /** The encoded weight streams (Vela's "NPU Encoded Weights Size"). */
  streamBytes: number;
  /** Per-channel scale and bias records. */
  scaleBiasBytes: number;
  /** streamBytes + scaleBiasBytes: what the NPU reads from flash for the layer's weights. */
  bytes: number;
}

/** One FC layer's dense int8 matrix (row-major, out × in). */
export function estimateU55Weights(w: Int8Array, outF: number, inF: number): U55WeightEstimate {
  const ordered = npuOrder(w, outF, inF);
  const streamBytes = ceilTo(Math.ceil(streamBits(ordered) / 8), STREAM_ALIGN);
  const scaleBiasBytes = U55_SCALE_BIAS_BYTES * outF;
  return { paddedBytes: ordered.length, streamBytes, scaleBiasBytes, bytes: streamBytes + scaleBiasBytes };
}

export function sumEstimates(list: readonly U55WeightEstimate[]): U55WeightEstimate {
  const s = { paddedBytes: 0, streamBytes: 0, scaleBiasBytes: 0, bytes: 0 };
  for (const e of list) {
    s.paddedBytes += e.paddedBytes;
    s.streamBytes += e.streamBytes;
    s.scaleBiasBytes += e.scaleBiasBytes;
    s.bytes += e.bytes;
  }
  return s;
}

/** An FC's stored weights as the dense [out][in] matrix they encode (§6). */
export function denseWeights(op: Pick<BlobFcOp, 'outFeatures' | 'inFeatures' | 'weights'>): Int8Array {
  const inF = op.inFeatures;
  const enc: FcWeights = op.weights;
  if (enc.encoding === 'dense') return enc.w;
  const w = new Int8Array(op.outFeatures * inF);
  if (enc.encoding === 'block') {
    for (let rb = 0; rb + 1 < enc.rowPtr.length; rb++)
      for (let k = enc.rowPtr[rb]; k < enc.rowPtr[rb + 1]; k++)
        for (let r = 0; r < enc.br; r++)
          for (let c = 0; c < enc.bc; c++) {
            const row = rb * enc.br + r, col = enc.colIdx[k] * enc.bc + c;
            if (row < op.outFeatures && col < inF) w[row * inF + col] = enc.blocks[(k * enc.br + r) * enc.bc + c];
          }
    return w;
  }
  if (enc.encoding === 'csr4') {
    for (let o = 0, at = 0, k = 0; o < op.outFeatures; o++) {
      const n = enc.rowCodes[o];
      for (let e = 0, col = -1; e < n; e++) {
        const code = (enc.codes[at + (e >> 1)] >> (4 * (e & 1))) & 15;
        col += code === 0 ? CSR4_ESCAPE_STEP : code;
        if (code !== 0) w[o * inF + col] = enc.values[k++];
      }
      at += (n + 1) >> 1;
    }
    return w;
  }
  let k = 0;
  for (let o = 0; o < op.outFeatures; o++) {
    let col = 0;
    for (let e = 0; e < enc.rowNnz[o]; e++, k++) {
      col += enc.delta[k];
      // Filler entries (value 0) bridge long gaps; adding keeps a real weight at the same column intact.
      w[o * inF + col] += enc.values[k];
    }
  }
  return w;
}

/** The three memory figures of a blob (docs/compression.md). */
export interface BlobMemoryFigures {
  /** (a) measured: the blob's bytes, as stored in the model partition. */
  flashBytes: number;
  /** (b) nonzero int8 weights of its FC layers, one byte each. */
  nonzeroWeightBytes: number;
  /** (c) modelled: Ethos-U55 encoded weights (streams + scale/bias records), docs above. */
  u55EncodedWeightBytes: number;
}

export function blobMemoryFigures(blob: ModelBlob): BlobMemoryFigures {
  let nonzero = 0;
  const est: U55WeightEstimate[] = [];
  for (const op of blob.ops) {
    if (op.op !== 'FC') continue;
    const w = denseWeights(op);
    for (const v of w) if (v !== 0) nonzero++;
    est.push(estimateU55Weights(w, op.outFeatures, op.inFeatures));
  }
  return { flashBytes: blob.bytes.length, nonzeroWeightBytes: nonzero, u55EncodedWeightBytes: sumEstimates(est).bytes };
}
