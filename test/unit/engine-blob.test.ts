/** Blob validation: refusals name what failed (same reasons as the C loader), and no corruption crashes or reads out of bounds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import seedrandom from 'seedrandom';
import { BlobError, Engine, parseBlob } from '../../src/engine/index.js';
import { HilError } from '../../src/util/errors.js';
import { applyMutation, loadOutcome, type Mutation } from '../../scripts/vectors.js';

const dir = new URL('../vectors/engine/', import.meta.url);
const blob = (name: string) => new Uint8Array(readFileSync(new URL(`${name}.hilm`, dir)));

function fixCrc(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(12, crc32(b.subarray(16)) >>> 0, true);
  return b;
}

function reason(bytes: Uint8Array, capacity?: number): string {
  try {
    parseBlob(bytes, { arenaCapacity: capacity });
    return 'OK';
  } catch (e) {
    assert.ok(e instanceof BlobError, `not a BlobError: ${(e as Error)?.stack}`);
    assert.ok(e instanceof HilError);
    return e.reason;
  }
}

test('a valid blob parses and decodes its header', () => {
  const b = parseBlob(blob('tiny-dense'));
  assert.equal(b.nFft, 512);
  assert.equal(b.hop, 256);
  assert.equal(b.nBins, 257);
  assert.equal(b.ops.length, 19);
  assert.equal(b.tensors[b.outputId].zeroPoint, -128);
  assert.equal(b.tensors[b.outputId].scale, 1 / 256);
  assert.ok(b.tensors.some((t) => t.isState && t.next !== null));
});

test('targeted corruptions are refused with the reason that names them', () => {
  const good = blob('tiny-dense');
  const mut = (f: (b: Uint8Array, dv: DataView) => void, crc = true) => {
    const b = new Uint8Array(good);
    f(b, new DataView(b.buffer));
    return crc ? fixCrc(b) : b;
  };
  assert.equal(reason(good.subarray(0, 10)), 'blob too short for the header (10 bytes)');
  assert.equal(reason(mut((b) => (b[0] = 0x58))), 'bad magic (not a hil model blob)');
  assert.equal(reason(mut((b, dv) => dv.setUint16(4, 2, true))), 'format version 2 unsupported (expected 1)');
  assert.equal(reason(good.subarray(0, good.length - 1)), `total size ${good.length} does not match the ${good.length - 1} bytes received`);
  assert.equal(reason(mut((b) => (b[5000] ^= 1), false)), 'CRC mismatch (blob corrupted in transfer or storage)');
  assert.equal(reason(mut((b, dv) => dv.setUint16(22, 200, true))), 'hop 200 unsupported (expected 128 or 256)');
  assert.equal(reason(mut((b, dv) => dv.setUint32(24, 44100, true))), 'sample rate 44100 unsupported (expected 16000)');
  assert.equal(reason(mut((b, dv) => dv.setUint16(30, 0, true))), 'n_ops 0 out of range [1, 128]');
  const p = parseBlob(good);
  const fc0 = p.ops[0].recordOffset;
  assert.equal(reason(mut((b, dv) => dv.setUint16(fc0 + 8, 256, true))), 'op 0 (FC): in_features 256 / out_features 32 do not match tensor lengths 257 / 32');
  assert.equal(reason(mut((b) => (b[fc0 + 1] = 7))), 'op 0 (FC): unknown encoding 7');
  assert.equal(reason(mut((b, dv) => dv.setUint32(fc0 + 16, dv.getUint32(fc0 + 16, true) + 8, true))), 'op 0 (FC): weights array outside the data area or misaligned');
  const tt = new DataView(good.buffer, good.byteOffset).getUint32(36, true);
  assert.equal(reason(mut((b, dv) => dv.setInt32(tt + 8, 300, true))), 'tensor 0: zero point 300 outside [-128, 127]');
  assert.equal(reason(good, 1000), `arena needs ${p.arena.bytes} bytes, capacity 1000`);
  try {
    parseBlob(good, { arenaCapacity: 1000 });
  } catch (e) {
    assert.equal((e as BlobError).code, 8, 'arena too small is protocol error 8');
  }
});

test('CSR4 (encoding 3): each malformed field is refused with its own reason, and the counters follow §6', () => {
  const good = blob('tiny-csr4');
  const p = parseBlob(good);
  const op = p.ops.find((o) => o.op === 'FC' && o.weights.encoding === 'csr4');
  assert.ok(op?.op === 'FC' && op.weights.encoding === 'csr4');
  const { rowCodes, codes } = op.weights;
  const r = op.recordOffset, w = op.weightsOffset, index = Math.ceil(op.outFeatures / 2) * 4;
  // weights_bytes = row table (padded to 4) + ceil(codes / 2) per row + nnz; the work counts no escape.
  const codeBytes = [...rowCodes].reduce((s, n) => s + Math.ceil(n / 2), 0);
  assert.equal(op.weightsBytes, index + codeBytes + op.nnz);
  assert.deepEqual(op.counters, { macs: op.nnz, weightBytes: 2 * op.outFeatures + codeBytes + op.nnz, elements: 0 });
  assert.ok(codes.some((c) => (c & 15) === 0 || c >> 4 === 0), 'the vector has escapes');
  const mut = (f: (b: Uint8Array, dv: DataView) => void) => {
    const b = new Uint8Array(good);
    f(b, new DataView(b.buffer));
    return fixCrc(b);
  };
  const rec = (field: number, v: number) => mut((_, dv) => dv.setUint32(r + field, v, true));
  const i = op.index;
  assert.equal(reason(rec(40, op.nnz + 1)), `op ${i} (FC): weights bytes ${op.weightsBytes} (expected ${op.weightsBytes + 1} for CSR4)`);
  assert.equal(reason(rec(40, op.weightsBytes)), `op ${i} (FC): weights bytes ${op.weightsBytes} too few for the CSR4 row table and nnz ${op.weightsBytes} values`);
  // One more code in row 0: a byte more when its count was even; else the count check of the codes fails.
  const even = rowCodes[0] % 2 === 0;
  const more = reason(mut((_, dv) => dv.setUint16(w, rowCodes[0] + 1, true)));
  assert.match(more, even ? /weights bytes \d+ \(expected \d+ for CSR4\)/ : /CSR4 /);
  // The last nonempty row's codes all made 15: a column past in_features.
  let o = rowCodes.length - 1;
  while (rowCodes[o] === 0) o--;
  const at = index + [...rowCodes.slice(0, o)].reduce((s, n) => s + Math.ceil(n / 2), 0);
  const e = rowCodes[o] - 1;
  const far = mut((b) => {
    for (let k = 0; k <= e; k++) b[w + at + (k >> 1)] |= 15 << (4 * (k & 1));
  });
  assert.ok(15 * rowCodes[o] - 1 >= op.inFeatures, `row ${o} is long enough`);
  assert.equal(reason(far), `op ${i} (FC): CSR4 column out of range in row ${o}`);
  // The three code faults the recorded corruptions also hold (scripts/vectors.ts csr4Edits), here by construction.
  const odd = [...rowCodes].findIndex((n) => n % 2 === 1);
  const oddAt = index + [...rowCodes.slice(0, odd)].reduce((s, n) => s + Math.ceil(n / 2), 0) + (rowCodes[odd] >> 1);
  assert.equal(reason(mut((b) => (b[w + oddAt] |= 0x10))), `op ${i} (FC): CSR4 row ${odd} pad nibble not zero`);
  assert.equal(reason(mut((b) => (b[w + oddAt] &= 0xf0))), `op ${i} (FC): CSR4 row ${odd} ends in an escape code`);
  // An escape made a weight code: one weight more than nnz.
  let escRow = -1, escAt = 0, escE = 0;
  for (let k = 0, base = index; k < rowCodes.length && escRow < 0; base += Math.ceil(rowCodes[k] / 2), k++)
    for (let j = 0; j + 1 < rowCodes[k]; j++)
      if (((good[w + base + (j >> 1)] >> (4 * (j & 1))) & 15) === 0) {
        [escRow, escAt, escE] = [k, base, j];
        break;
      }
  assert.ok(escRow >= 0, 'the vector has an escape inside a row');
  assert.equal(reason(mut((b) => (b[w + escAt + (escE >> 1)] |= 1 << (4 * (escE & 1))))), `op ${i} (FC): CSR4 codes hold ${op.nnz + 1} weights (expected nnz ${op.nnz})`);
});

test('the recorded corruptions (test/vectors/engine/corruptions.txt) give the recorded outcome', () => {
  const lines = readFileSync(new URL('corruptions.txt', dir), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  assert.ok(lines.length >= 300);
  const bases = new Map<string, Uint8Array>();
  for (const line of lines) {
    const [spec, expected] = line.split(' | ');
    const [base, truncate, fix, n, ...writes] = spec.split(' ');
    if (!bases.has(base)) bases.set(base, blob(base));
    const m: Mutation = { base, truncate: Number(truncate), fixCrc: fix === '1', writes: writes.slice(0, Number(n)).map((w) => w.split(':').map(Number) as [number, number]) };
    const bytes = applyMutation(bases.get(base)!, m);
    assert.equal(loadOutcome(bytes), expected, spec);
  }
});

test('fuzz: hundreds of random corruptions never crash, never read out of bounds, and accepted ones run', () => {
  const rng = seedrandom('engine-blob-fuzz');
  const int = (n: number) => Math.floor(rng() * n);
  let refused = 0, accepted = 0;
  for (const name of ['tiny-dense', 'tiny-block1x16', 'tiny-csr', 'tiny-unitpruned']) {
    const good = blob(name);
    const dataStart = new DataView(good.buffer, good.byteOffset).getUint32(44, true);
    for (let k = 0; k < 150; k++) {
      let b = new Uint8Array(good);
      for (let j = 0, n = 1 + int(3); j < n; j++) b[16 + int((rng() < 0.75 ? dataStart : b.length) - 16)] = int(256);
      if (rng() < 0.1) {
        b = b.slice(0, 64 + int(b.length - 64));
        new DataView(b.buffer).setUint32(8, b.length, true);
      }
      if (rng() < 0.9) fixCrc(b);
      let parsed: ReturnType<typeof parseBlob> | undefined;
      try {
        parsed = parseBlob(b, { arenaCapacity: 1 << 18 });
      } catch (e) {
        // A RangeError here would be an out-of-bounds read the validation missed.
        assert.ok(e instanceof BlobError, `corruption ${k} of ${name} threw ${(e as Error)?.stack}`);
        refused++;
        continue;
      }
      const engine = new Engine(parsed);
      for (let f = 0; f < 2; f++) {
        const r = engine.runFrame(Int16Array.from({ length: parsed.hop }, () => int(65536) - 32768));
        assert.ok(r.output.every((v) => Number.isInteger(v) && v >= -32768 && v <= 32767));
      }
      accepted++;
    }
  }
  assert.ok(refused > 100 && accepted > 50, `${refused} refused, ${accepted} accepted`);
});
