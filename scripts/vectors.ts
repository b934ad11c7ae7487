/**
 * Regenerates the engine's shared test vectors (test/vectors/), which the TypeScript tests and the C
 * tests (firmware/tests) must both reproduce exactly:
 *   engine/<name>.hilm         a blob        engine/<name>.in.bin   int16 LE frames fed (flush frames included)
 *   engine/<name>.out.bin      int16 LE frames the engine must produce
 *   engine/<name>.counters.bin per frame u32 LE: macs, weight_bytes, elements, ops, modelled_cycles (Ethos-U55-128 defaults)
 *   engine/index.txt           one line per vector: name hop frames arena_bytes input_samples
 *   engine/corruptions.txt     blob mutations and the exact refusal reason both loaders must give
 *   fft/<name>.bin             int32 LE re_in, im_in, re_out, im_out (512 each); listed in fft/index.txt
 *   cost-model.json            cost-model cases (docs/cost-model.md)
 * test/vectors/primitives.txt is hand-derived and not touched here; dsp-tables.json is fixed by the spec.
 *
 *   npm run vectors              write them
 *   npm run vectors -- --check   exit 1 when a committed vector differs from what the code produces now
 */
import { crc32 } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import seedrandom from 'seedrandom';
import { Engine, clipToFrames, ETHOS_U55_128, fft, frameCycles, parseBlob, BlobError, type CostParams, type OpWork } from '../src/engine/index.js';
import { lowerToQuantGraph, type LowerOptions } from '../src/export/lower.js';
import { OP_RECORD_BYTES, OP_CODES, TENSOR_FLAG_INT16 } from '../src/spec/modelFormat.js';
import { writeBlob, type WriteBlobOptions } from '../src/export/blob.js';
import type { FloatModel } from '../src/model/floatModel.js';
import { initFloatModel } from '../src/model/init.js';
import { pruneBlocks, pruneForCsrGaps, pruneMagnitude, recalibrated, testSignal, tinyModel, unitPrune } from '../test/support/engineFixtures.js';
import { repoRoot } from '../src/util/paths.js';

const root = repoRoot() + '/';
export const VECTOR_DIR = root + 'test/vectors/';
export const FUZZ_ARENA_CAPACITY = 262144;
const FUZZ_CASES = 400;

interface VectorSpec {
  name: string;
  model: () => FloatModel;
  blob: WriteBlobOptions;
  samples: number;
  lower?: LowerOptions;
}

export const ENGINE_VECTORS: VectorSpec[] = [
  { name: 'tiny-dense', model: () => tinyModel(1), blob: { encoding: { kind: 'dense' } }, samples: 6000 },
  { name: 'tiny-block4x4', model: () => recalibrated(pruneBlocks(tinyModel(2), 4, 4, 0.4)), blob: { encoding: { kind: 'block', br: 4, bc: 4 } }, samples: 6000 },
  { name: 'tiny-block1x16', model: () => recalibrated(pruneBlocks(tinyModel(3), 1, 16, 0.35)), blob: { encoding: { kind: 'block', br: 1, bc: 16 } }, samples: 6000 },
  { name: 'tiny-csr', model: () => recalibrated(pruneForCsrGaps(tinyModel(4))), blob: { encoding: { kind: 'csr' } }, samples: 6000 },
  { name: 'tiny-unitpruned', model: () => recalibrated(unitPrune(tinyModel(5), 24, [20])), blob: { encoding: { kind: 'dense' } }, samples: 6000 },
  { name: 'tiny-hop128', model: () => tinyModel(6, 128), blob: { encoding: { kind: 'dense' } }, samples: 5000 },
  {
    name: 'tiny-mixed',
    model: () => recalibrated(pruneMagnitude(tinyModel(7), 0.25)),
    // Every FC without an override is CSR, what `auto` chose for them before CSR4 (format encoding 3) existed.
    blob: { encoding: { kind: 'csr' }, perOp: { fc_in: { kind: 'block', br: 8, bc: 8 }, 'gru0.fc_hn': { kind: 'block', br: 16, bc: 1 }, fc_out: { kind: 'csr' } } },
    samples: 4000,
  },
  // se-small sizes (128-wide GRUs, two layers) with every FC at the smallest encoding `auto` finds.
  { name: 'small-pruned-auto', model: () => recalibrated(pruneBlocks(initFloatModel('se-small', 8), 4, 4, 0.3)), blob: { encoding: { kind: 'auto' } }, samples: 3000 },
  // An LSTM (two layers, states h and c), unit-pruned to uneven widths, every FC at its `auto` encoding:
  // the C core runs the same primitives, so this vector is what shows it needs nothing new.
  { name: 'lstm-tiny-unitpruned', model: () => recalibrated(unitPrune(initFloatModel('tinylstm-tiny', 9), 24, [20, 16])), blob: { encoding: { kind: 'auto' } }, samples: 4000 },
  // The 16-bit output layer (QUANTIZE → FC16 → LUT16, an int16 Q15 mask): dense, and pruned with auto
  // encodings elsewhere (fc_out stays dense: FC16 is dense only).
  { name: 'tiny-int16out', model: () => tinyModel(9), blob: { encoding: { kind: 'dense' } }, samples: 6000, lower: { outputBits: 16 } },
  { name: 'small-int16out-auto', model: () => recalibrated(pruneBlocks(initFloatModel('se-small', 10), 4, 4, 0.3)), blob: { encoding: { kind: 'auto' } }, samples: 3000, lower: { outputBits: 16 } },
  // CSR4 (4-bit deltas): 70 % unstructured sparsity, and fc_in with rows of gaps over 255 (many escapes in a
  // row, odd and even code counts) and empty rows.
  { name: 'tiny-csr4', model: () => recalibrated(pruneForCsrGaps(tinyModel(11))), blob: { encoding: { kind: 'csr4' } }, samples: 6000 },
];

export type Files = Map<string, Uint8Array>;

function le16(a: Int16Array): Uint8Array {
  const b = new Uint8Array(2 * a.length);
  const dv = new DataView(b.buffer);
  a.forEach((v, k) => dv.setInt16(2 * k, v, true));
  return b;
}
function le32(values: ArrayLike<number>): Uint8Array {
  const b = new Uint8Array(4 * values.length);
  const dv = new DataView(b.buffer);
  for (let k = 0; k < values.length; k++) dv.setUint32(4 * k, values[k] >>> 0, true);
  return b;
}
const text = (s: string) => new TextEncoder().encode(s);

export function engineVectors(files: Files): Map<string, Uint8Array> {
  const blobs = new Map<string, Uint8Array>();
  const index: string[] = ['# name hop frames arena_bytes input_samples (scripts/vectors.ts)'];
  for (const spec of ENGINE_VECTORS) {
    const model = spec.model();
    const blob = writeBlob(lowerToQuantGraph(model, spec.lower), spec.blob);
    blobs.set(spec.name, blob);
    const engine = new Engine(blob);
    engine.setCost(ETHOS_U55_128);
    const pcm = testSignal(spec.name.length * 7919 + blob.length, spec.samples);
    const frames = clipToFrames(pcm, model.hop, 512);
    const ins = new Int16Array(frames.length * model.hop);
    const outs = new Int16Array(frames.length * model.hop);
    const counters: number[] = [];
    frames.forEach((f, k) => {
      ins.set(f, k * model.hop);
      const r = engine.runFrame(f);
      outs.set(r.output, k * model.hop);
      counters.push(r.counters.macs, r.counters.weightBytes, r.counters.elements, r.counters.ops, r.counters.modelledCycles);
    });
    files.set(`engine/${spec.name}.hilm`, blob);
    files.set(`engine/${spec.name}.in.bin`, le16(ins));
    files.set(`engine/${spec.name}.out.bin`, le16(outs));
    files.set(`engine/${spec.name}.counters.bin`, le32(counters));
    index.push(`${spec.name} ${model.hop} ${frames.length} ${engine.arenaBytes} ${spec.samples}`);
  }
  files.set('engine/index.txt', text(index.join('\n') + '\n'));
  return blobs;
}

/** A blob mutation: optional truncation, byte writes, then optionally a recomputed CRC. */
export interface Mutation {
  base: string;
  truncate: number; // -1: keep the length
  fixCrc: boolean;
  writes: [number, number][];
}

export function applyMutation(blob: Uint8Array, m: Mutation): Uint8Array {
  const b = new Uint8Array(m.truncate >= 0 ? blob.subarray(0, m.truncate) : blob);
  for (const [off, val] of m.writes) if (off < b.length) b[off] = val;
  if (m.fixCrc && b.length >= 16) new DataView(b.buffer).setUint32(12, crc32(b.subarray(16)) >>> 0, true);
  return b;
}

export function formatMutation(m: Mutation): string {
  return `${m.base} ${m.truncate} ${m.fixCrc ? 1 : 0} ${m.writes.length}${m.writes.map(([o, v]) => ` ${o}:${v}`).join('')}`;
}

/** The outcome both loaders must report: "0 OK" or "<protocol error code> <reason>". */
/** Input sample k of frame f fed to an accepted corrupted blob: a formula both test suites compute. */
export function fuzzSample(f: number, k: number, hop: number): number {
  return ((((f * hop + k) * 7919) % 65536) + 65536) % 65536 - 32768;
}
export const FUZZ_FRAMES = 3;

/**
 * The outcome both loaders must report: "<protocol error code> <reason>", or for an accepted blob
 * "0 OK crc=<crc32 of the int16 LE outputs of FUZZ_FRAMES frames of fuzzSample input>", so a blob that
 * passes validation must also run identically (the C side runs under ASan: an out-of-bounds read there,
 * or a silent one here, shows up).
 */
export function loadOutcome(bytes: Uint8Array): string {
  try {
    const engine = new Engine(parseBlob(bytes, { arenaCapacity: FUZZ_ARENA_CAPACITY }));
    const hop = engine.blob.hop;
    const outs = new Int16Array(FUZZ_FRAMES * hop);
    for (let f = 0; f < FUZZ_FRAMES; f++) {
      const r = engine.runFrame(Int16Array.from({ length: hop }, (_, k) => fuzzSample(f, k, hop)));
      outs.set(r.output, f * hop);
    }
    return `0 OK crc=${(crc32(le16(outs)) >>> 0).toString(16).padStart(8, '0')}`;
  } catch (e) {
    if (e instanceof BlobError) return `${e.code} ${e.reason}`;
    throw e;
  }
}

function structuralRegions(blob: Uint8Array): { fields: number[]; indexArrays: [number, number][]; dataStart: number } {
  const parsed = parseBlob(blob);
  const dv = new DataView(blob.buffer, blob.byteOffset);
  const fields: number[] = [8, 20, 22, 24, 28, 30, 32, 34, 36, 40, 44, 48, 52, 56];
  const tt = dv.getUint32(36, true);
  parsed.tensors.forEach((_, k) => fields.push(tt + 16 * k, tt + 16 * k + 2, tt + 16 * k + 8, tt + 16 * k + 12));
  const indexArrays: [number, number][] = [];
  let dataStart = 0;
  for (const op of parsed.ops) {
    const r = op.recordOffset;
    fields.push(r, r + 1, r + 2, r + 4, r + 6, r + 8);
    if (op.op === 'FC16') {
      fields.push(r + 10, r + 12, r + 14, r + 16, r + 20, r + 24, r + 28, r + 32);
      indexArrays.push([dv.getUint32(r + 24, true), 8 * op.outFeatures], [dv.getUint32(r + 28, true), 4 * op.outFeatures], [dv.getUint32(r + 32, true), op.outFeatures]);
    } else if (op.op === 'QUANTIZE' || op.op === 'LUT16') {
      fields.push(r + 8, r + 12);
    } else if (op.op === 'FC') {
      fields.push(r + 10, r + 12, r + 14, r + 16, r + 20, r + 24, r + 28, r + 32, r + 36, r + 37, r + 40);
      const w = op.weights;
      if (w.encoding === 'block') indexArrays.push([op.weightsOffset, 2 * (w.rowPtr.length + w.colIdx.length)]);
      if (w.encoding === 'csr') indexArrays.push([op.weightsOffset, 2 * w.rowNnz.length], [op.weightsOffset + Math.ceil(w.rowNnz.length / 2) * 4, op.nnz]);
      if (w.encoding === 'csr4') indexArrays.push([op.weightsOffset, 2 * w.rowCodes.length], [op.weightsOffset + Math.ceil(w.rowCodes.length / 2) * 4, w.codes.length]);
      indexArrays.push([dv.getUint32(r + 28, true), 4 * op.outFeatures], [dv.getUint32(r + 32, true), op.outFeatures]);
    } else if (op.op !== 'LUT') fields.push(r + 10, r + 12, r + 16, r + 17, r + 18, r + 28);
    dataStart = Math.max(dataStart, r + OP_RECORD_BYTES[OP_CODES[op.op]]);
  }
  return { fields, indexArrays, dataStart };
}

/**
 * Seeded blob mutations. The first FUZZ_CASES (seed 1, the int8 bases) are what corruptions.txt has
 * always held; the int16-output cases (seed 2) and then the CSR4 ones (seed 3) follow them, so the older
 * lines stay byte-identical.
 */
export function corruptions(blobs: Map<string, Uint8Array>, count = FUZZ_CASES): Mutation[] {
  return [
    ...mutations(blobs, 'hil-blob-corruptions-1', ['tiny-dense', 'tiny-block4x4', 'tiny-csr', 'tiny-mixed'], count),
    ...mutations(blobs, 'hil-blob-corruptions-2', ['tiny-int16out'], FUZZ_CASES_INT16),
    ...dtypeFlips(blobs.get('tiny-int16out')!),
    ...mutations(blobs, 'hil-blob-corruptions-3', ['tiny-csr4'], FUZZ_CASES_CSR4),
    ...csr4Edits(blobs.get('tiny-csr4')!),
  ];
}

/** Every tensor of the int16 base with its int16 flag toggled: each op's dtype check, and the mask's. */
function dtypeFlips(blob: Uint8Array): Mutation[] {
  const dv = new DataView(blob.buffer, blob.byteOffset);
  const tt = dv.getUint32(36, true);
  return Array.from({ length: dv.getUint16(28, true) }, (_, k) => {
    const at = tt + 16 * k + 2;
    return { base: 'tiny-int16out', truncate: -1, fixCrc: true, writes: [[at, blob[at] ^ TENSOR_FLAG_INT16]] as [number, number][] };
  });
}
const FUZZ_CASES_INT16 = 200;

/**
 * The CSR4 code faults random bytes seldom make, on the first FC row that can show each: a nonzero pad
 * nibble, a row ending in an escape, and an escape turned into a weight code (one weight more than nnz).
 */
function csr4Edits(blob: Uint8Array): Mutation[] {
  const op = parseBlob(blob).ops.find((o) => o.op === 'FC' && o.weights.encoding === 'csr4');
  if (op?.op !== 'FC' || op.weights.encoding !== 'csr4') throw new Error('tiny-csr4 has no CSR4 layer');
  const { rowCodes, codes } = op.weights;
  const base = op.weightsOffset + Math.ceil(rowCodes.length / 2) * 4;
  const code = (at: number, e: number) => (codes[at + (e >> 1)] >> (4 * (e & 1))) & 15;
  const edit = (at: number, e: number, v: number): Mutation => {
    const b = at + (e >> 1);
    const byte = e & 1 ? (codes[b] & 0x0f) | (v << 4) : (codes[b] & 0xf0) | v;
    return { base: 'tiny-csr4', truncate: -1, fixCrc: true, writes: [[base + b, byte]] };
  };
  const found: Mutation[] = [];
  const want = [
    (n: number) => (n & 1 ? { e: n, v: 1 } : null),
    (n: number) => (n > 0 ? { e: n - 1, v: 0 } : null),
    (n: number, at: number) => {
      for (let e = 0; e + 1 < n; e++) if (code(at, e) === 0) return { e, v: 1 };
      return null;
    },
  ];
  for (const f of want) {
    for (let o = 0, at = 0; o < rowCodes.length; at += Math.ceil(rowCodes[o] / 2), o++) {
      const hit = f(rowCodes[o], at);
      if (hit) {
        found.push(edit(at, hit.e, hit.v));
        break;
      }
    }
  }
  return found;
}
/** CSR4's row table and codes: both loaders must refuse each malformed field with the same reason. */
const FUZZ_CASES_CSR4 = 200;

function mutations(blobs: Map<string, Uint8Array>, seed: string, bases: string[], count: number): Mutation[] {
  const rng = seedrandom(seed);
  const int = (n: number) => Math.floor(rng() * n);
  const regions = new Map(bases.map((b) => [b, structuralRegions(blobs.get(b)!)]));
  const edge = [0, 1, 0x7f, 0x80, 0xff];
  const out: Mutation[] = [];
  for (let k = 0; k < count; k++) {
    const base = bases[k % bases.length];
    const blob = blobs.get(base)!;
    const reg = regions.get(base)!;
    const m: Mutation = { base, truncate: -1, fixCrc: true, writes: [] };
    const strategy = int(8);
    if (strategy === 0) {
      m.fixCrc = false; // a transfer error
      m.writes.push([int(blob.length), int(256)]);
    } else if (strategy === 1 || strategy === 2) {
      const f = reg.fields[int(reg.fields.length)];
      m.writes.push([f + int(2), strategy === 1 ? edge[int(edge.length)] : int(256)]);
    } else if (strategy === 3) {
      const n = 1 + int(4);
      for (let j = 0; j < n; j++) m.writes.push([16 + int(reg.dataStart - 16), int(256)]);
    } else if (strategy === 4 && reg.indexArrays.length) {
      const [off, len] = reg.indexArrays[int(reg.indexArrays.length)];
      m.writes.push([off + int(Math.max(1, len)), int(256)]);
    } else if (strategy === 5) {
      // Truncated, with the size field patched so the loader gets past the size check.
      const len = 16 + int(blob.length - 16);
      m.truncate = len;
      m.writes.push([8, len & 0xff], [9, (len >> 8) & 0xff], [10, (len >> 16) & 0xff], [11, len >>> 24]);
    } else if (strategy === 6) {
      m.truncate = int(blob.length);
      m.fixCrc = rng() < 0.5;
    } else {
      m.writes.push([reg.dataStart + int(blob.length - reg.dataStart), int(256)]); // weights, windows, tables
    }
    out.push(m);
  }
  return out;
}

export function fftVectors(files: Files): void {
  const n = 512;
  const rng = seedrandom('hil-fft-vectors');
  const cases: { name: string; inverse: boolean; re: (k: number) => number; im: (k: number) => number }[] = [
    { name: 'impulse', inverse: false, re: (k) => (k === 0 ? 1000 : 0), im: () => 0 },
    { name: 'dc', inverse: false, re: () => 1234, im: () => 0 },
    { name: 'cosine5', inverse: false, re: (k) => Math.round(10000 * Math.cos((2 * Math.PI * 5 * k) / n)), im: () => 0 },
    { name: 'cosine128', inverse: false, re: (k) => Math.round(20000 * Math.cos((2 * Math.PI * 128 * k) / n)), im: () => 0 },
    { name: 'inverse-flat', inverse: true, re: () => 1000, im: () => 0 },
    { name: 'random', inverse: false, re: () => Math.round((2 * rng() - 1) * 32767), im: () => 0 },
    { name: 'inverse-random', inverse: true, re: () => Math.round((2 * rng() - 1) * 1e6), im: () => Math.round((2 * rng() - 1) * 1e6) },
  ];
  const index = ['# name inverse (scripts/vectors.ts); each .bin: int32 LE re_in, im_in, re_out, im_out'];
  for (const c of cases) {
    const re = Int32Array.from({ length: n }, (_, k) => c.re(k));
    const im = Int32Array.from({ length: n }, (_, k) => c.im(k));
    const reIn = re.slice(), imIn = im.slice();
    fft(re, im, c.inverse);
    const all = new Int32Array(4 * n);
    all.set(reIn, 0);
    all.set(imIn, n);
    all.set(re, 2 * n);
    all.set(im, 3 * n);
    files.set(`fft/${c.name}.bin`, le32(all));
    index.push(`${c.name} ${c.inverse ? 1 : 0}`);
  }
  files.set('fft/index.txt', text(index.join('\n') + '\n'));
}

export function costModelVectors(files: Files): void {
  const u55 = ETHOS_U55_128;
  const fc = (macs: number, weightBytes: number): OpWork => ({ isFc: true, macs, weightBytes, elements: 0 });
  const ew = (elements: number): OpWork => ({ isFc: false, macs: 0, weightBytes: 0, elements });
  const cases: { name: string; params: CostParams; ops: OpWork[] }[] = [
    { name: 'weight-bound dense FC', params: u55, ops: [fc(32896, 32896)] },
    { name: 'compute-bound (index-free weights)', params: { ...u55, weightBytesPerCycle: 1024 }, ops: [fc(32896, 32896)] },
    { name: 'ceil of one MAC over', params: u55, ops: [fc(129, 0)] },
    { name: 'element-wise ops', params: u55, ops: [ew(257), ew(1), ew(8), ew(9)] },
    { name: 'MUL counts as element-wise', params: u55, ops: [{ isFc: false, macs: 128, weightBytes: 0, elements: 128 }] },
    { name: 'frontend cycles', params: { ...u55, frontendCycles: 12345 }, ops: [fc(1000, 900), ew(32)] },
    { name: 'no overhead', params: { ...u55, opOverheadCycles: 0 }, ops: [fc(1, 1), ew(1)] },
    { name: 'zero rates make their term 0', params: { macsPerCycle: 0, weightBytesPerCycle: 0, elementsPerCycle: 0, opOverheadCycles: 7, frontendCycles: 0 }, ops: [fc(1000, 1000), ew(100)] },
    { name: 'saturates at 2^32-1', params: { macsPerCycle: 1, weightBytesPerCycle: 1, elementsPerCycle: 1, opOverheadCycles: 4294967295, frontendCycles: 4294967295 }, ops: [fc(4294967295, 4294967295), ew(4294967295)] },
    { name: 'empty frame', params: { ...u55, frontendCycles: 5 }, ops: [] },
  ];
  const lines = cases.map((c) => {
    const p = c.params;
    return `  {"name": "${c.name}", "n_ops": ${c.ops.length}, "params": [${p.macsPerCycle}, ${p.weightBytesPerCycle}, ${p.elementsPerCycle}, ${p.opOverheadCycles}, ${p.frontendCycles}], "ops": [${c.ops
      .map((o) => `[${o.isFc ? 1 : 0}, ${o.macs}, ${o.weightBytes}, ${o.elements}]`)
      .join(', ')}], "cycles": ${frameCycles(p, c.ops)}}`;
  });
  const json = `{
 "_comment": "docs/cost-model.md cases. params = [macs_per_cycle, weight_bytes_per_cycle, elements_per_cycle, op_overhead_cycles, frontend_cycles]; each op = [is_fc, macs, weight_bytes, elements]; cycles = modelled cycles of the frame. One case per line (the C test reads it line by line). Generated by scripts/vectors.ts.",
 "cases": [
${lines.join(',\n')}
 ]
}
`;
  JSON.parse(json); // stays valid JSON
  files.set('cost-model.json', text(json));
}

export function generateVectors(): Files {
  const files: Files = new Map();
  const blobs = engineVectors(files);
  const muts = corruptions(blobs);
  const lines = [
    `# arena_capacity ${FUZZ_ARENA_CAPACITY}`,
    '# base truncate(-1 keeps) fix_crc n_writes offset:value... | code reason   (scripts/vectors.ts; code 0 = accepted)',
    ...muts.map((m) => `${formatMutation(m)} | ${loadOutcome(applyMutation(blobs.get(m.base)!, m))}`),
  ];
  files.set('engine/corruptions.txt', text(lines.join('\n') + '\n'));
  fftVectors(files);
  costModelVectors(files);
  return files;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}

/** Paths (relative to test/vectors/) whose committed content differs from what the code produces now. */
export function staleVectors(files = generateVectors()): string[] {
  const stale: string[] = [];
  for (const [rel, data] of files) {
    let current: Uint8Array;
    try {
      current = readFileSync(VECTOR_DIR + rel);
    } catch {
      stale.push(rel);
      continue;
    }
    if (!sameBytes(current, data)) stale.push(rel);
  }
  return stale;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = generateVectors();
  if (process.argv.includes('--check')) {
    const stale = staleVectors(files);
    for (const s of stale) console.error(`vectors: test/vectors/${s} is out of date`);
    process.exit(stale.length ? 1 : 0);
  }
  for (const [rel, data] of files) {
    mkdirSync(dirname(VECTOR_DIR + rel), { recursive: true });
    writeFileSync(VECTOR_DIR + rel, data);
  }
  console.log(`vectors: wrote ${files.size} files under test/vectors/`);
}
