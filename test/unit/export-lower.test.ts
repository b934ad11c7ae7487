/** Lowering and blob writing: graph shape, encodings, pruning, and int8 vs float agreement. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { ARCHS, activationNames } from '../../src/model/arch.js';
import { lowerToQuantGraph } from '../../src/export/lower.js';
import { graphDims } from '../../src/model/graphDims.js';
import { encodeBlock, encodeCsr, encodeCsr4, encodeWeights, parseEncoding, writeBlob, writeBlobDetailed } from '../../src/export/blob.js';
import { Engine, parseBlob, runClipOnHost, type BlobFcOp } from '../../src/engine/index.js';
import { floatForward } from '../../src/model/forward.js';
import type { QFc } from '../../src/export/quantGraph.js';
import { HilError } from '../../src/util/errors.js';
import { cloneModel, pruneBlocks, pruneMagnitude, recalibrated, testSignal, tinyModel, unitPrune } from '../support/engineFixtures.js';

/** Decodes an FC's stored weights back to a dense [out][in] matrix. */
function decode(op: BlobFcOp): Int8Array {
  const w = new Int8Array(op.outFeatures * op.inFeatures);
  const inF = op.inFeatures;
  const enc = op.weights;
  if (enc.encoding === 'dense') return enc.w;
  if (enc.encoding === 'block') {
    for (let rb = 0; rb + 1 < enc.rowPtr.length; rb++)
      for (let k = enc.rowPtr[rb]; k < enc.rowPtr[rb + 1]; k++)
        for (let r = 0; r < enc.br; r++)
          for (let c = 0; c < enc.bc; c++) {
            const row = rb * enc.br + r, col = enc.colIdx[k] * enc.bc + c;
            const v: number = enc.blocks[(k * enc.br + r) * enc.bc + c];
            if (row < op.outFeatures && col < inF) w[row * inF + col] = v;
            else assert.equal(v, 0, 'padding is zero');
          }
    return w;
  }
  if (enc.encoding === 'csr4') {
    // Unpacked nibble by nibble from the flat code stream: rows start on a byte, so an odd row skips one.
    let nib = 0, v = 0;
    for (let o = 0; o < op.outFeatures; o++) {
      let col = -1;
      for (let e = 0; e < enc.rowCodes[o]; e++, nib++) {
        const code = nib % 2 ? enc.codes[nib >> 1] >> 4 : enc.codes[nib >> 1] & 15;
        col += code || 15;
        if (code) w[o * inF + col] = enc.values[v++];
      }
      nib += nib % 2;
    }
    return w;
  }
  let k = 0;
  for (let o = 0; o < op.outFeatures; o++) {
    let col = 0;
    for (let e = 0; e < enc.rowNnz[o]; e++, k++) {
      col += enc.delta[k];
      w[o * inF + col] += enc.values[k];
    }
  }
  return w;
}

test('se-tiny lowers to the §9 graph with arch.ts tensor names and fixed quantizations', () => {
  const g = lowerToQuantGraph(tinyModel(1));
  assert.deepEqual(g.tensors.map((t) => t.name), activationNames(ARCHS['se-tiny']));
  assert.equal(g.ops.length, 3 + 16);
  assert.deepEqual(g.ops.map((o) => o.op).join(' '), 'FC FC FC ADD LUT FC FC ADD LUT FC FC MUL ADD LUT SUB MUL ADD FC LUT');
  const t = Object.fromEntries(g.tensors.map((x) => [x.name, x]));
  assert.ok(t['gru0.h'].isState && t['gru0.h'].next === 'gru0.h_next');
  for (const n of ['gru0.z', 'gru0.r', 'mask']) assert.deepEqual([t[n].scale, t[n].zeroPoint], [1 / 256, -128]);
  for (const n of ['gru0.n', 'gru0.h', 'gru0.h_next']) assert.deepEqual([t[n].scale, t[n].zeroPoint], [1 / 128, 0]);
  assert.equal(t.fc_in.zeroPoint, -128, 'ReLU output');
  const fcIn = g.ops[0] as QFc;
  assert.equal(fcIn.actMin, -128);
  // QuantGraph keeps what a .tflite writer needs: raw biases, float scales, and the folded bias is bias − zp·ΣW.
  for (let o = 0; o < fcIn.outFeatures; o++) {
    let s = 0;
    for (let i = 0; i < fcIn.inFeatures; i++) s += fcIn.weights[o * fcIn.inFeatures + i];
    assert.equal(fcIn.biasEff[o], fcIn.bias[o] - t.features.zeroPoint * s);
  }
  assert.equal(fcIn.weightScales.length, 32);
  assert.ok(t.features.range && t.fc_in.range && t['gru0.z'].range === null);
});

test('block, CSR and CSR4 encodings round-trip, bridge gaps over 255 (CSR) and 15 (CSR4), and skip pruned work', () => {
  const rng = seedrandom('enc');
  for (const [outF, inF] of [[257, 32], [32, 257], [7, 700], [1, 1]]) {
    const w = Int8Array.from({ length: outF * inF }, () => (rng() < 0.8 ? 0 : Math.floor(rng() * 255) - 127));
    if (inF === 700) {
      w.fill(0);
      w[0] = 5;
      w[600] = -7; // row 0: a gap of 600 columns
      w[2 * 700 + 699] = 9; // row 2: the first entry's absolute column is 699
    }
    const op = { weights: w, outFeatures: outF, inFeatures: inF };
    const csr = encodeCsr(w, outF, inF);
    if (inF === 700) assert.equal(csr.nnz, 3 + 2 + 2, 'fillers of delta 255 count in nnz');
    if (inF === 700) {
      const csr4 = encodeCsr4(w, outF, inF);
      assert.equal(csr4.nnz, 3, 'escapes are no weights');
      // Row 0: code 1 (column 0), 39 escapes and code 15 (600 = 39·15 + 15); row 2: 46 escapes and code 10 (699 = −1 + 46·15 + 10).
      assert.deepEqual([...new Uint16Array(csr4.bytes.buffer, 0, 7)], [41, 0, 47, 0, 0, 0, 0]);
      assert.equal(csr4.bytes.length, 16 + 21 + 24 + 3);
    }
    for (const choice of [parseEncoding('dense'), parseEncoding('csr'), parseEncoding('csr4'), parseEncoding('block4x4'), parseEncoding('block:1x16'), parseEncoding('block16x1'), parseEncoding('block3x5'), parseEncoding('auto')]) {
      const enc = encodeWeights(op, choice);
      // Put it in a one-FC graph-free check: decode through the parser by writing a real blob is covered below;
      // here decode the raw layout directly via a synthetic BlobFcOp.
      const dv = new DataView(enc.bytes.buffer);
      let decoded: Int8Array;
      if (enc.encoding === 'dense') decoded = new Int8Array(enc.bytes.buffer);
      else if (enc.encoding === 'csr4') {
        const pad = Math.ceil((2 * outF) / 4) * 4;
        const rowCodes = Uint16Array.from({ length: outF }, (_, k) => dv.getUint16(2 * k, true));
        const codeBytes = [...rowCodes].reduce((s, n) => s + Math.ceil(n / 2), 0);
        assert.equal(enc.bytes.length, pad + codeBytes + enc.nnz, 'CSR4 byte formula');
        decoded = decode({ outFeatures: outF, inFeatures: inF, weights: { encoding: 'csr4', rowCodes, codes: enc.bytes.slice(pad, pad + codeBytes), values: new Int8Array(enc.bytes.buffer.slice(pad + codeBytes)) } } as unknown as BlobFcOp);
      } else if (enc.encoding === 'csr') {
        const pad = Math.ceil((2 * outF) / 4) * 4;
        decoded = decode({ outFeatures: outF, inFeatures: inF, weights: { encoding: 'csr', rowNnz: Uint16Array.from({ length: outF }, (_, k) => dv.getUint16(2 * k, true)), delta: enc.bytes.slice(pad, pad + enc.nnz), values: new Int8Array(enc.bytes.buffer.slice(pad + enc.nnz)) } } as unknown as BlobFcOp);
      } else {
        const nbr = Math.ceil(outF / enc.br);
        const idx = Math.ceil((2 * (nbr + 1 + enc.nnz)) / 16) * 16;
        decoded = decode({ outFeatures: outF, inFeatures: inF, weights: { encoding: 'block', br: enc.br, bc: enc.bc, rowPtr: Uint16Array.from({ length: nbr + 1 }, (_, k) => dv.getUint16(2 * k, true)), colIdx: Uint16Array.from({ length: enc.nnz }, (_, k) => dv.getUint16(2 * (nbr + 1 + k), true)), blocks: new Int8Array(enc.bytes.buffer.slice(idx)) } } as unknown as BlobFcOp);
      }
      assert.deepEqual(decoded, w, `${outF}x${inF} ${JSON.stringify(choice)}`);
    }
  }
  assert.throws(() => encodeBlock(new Int8Array(4), 2, 2, 17, 1), HilError);
  assert.throws(() => parseEncoding('sparse'), HilError);
});

test('encodings give identical outputs for identical weights, and block/CSR really skip work', () => {
  const model = recalibrated(pruneBlocks(tinyModel(21), 4, 4, 0.3));
  const g = lowerToQuantGraph(model);
  const pcm = testSignal(21, 4000);
  const results = ['dense', 'block4x4', 'block1x16', 'block16x1', 'csr', 'csr4', 'auto'].map((e) => {
    const bytes = writeBlob(g, { encoding: parseEncoding(e) });
    return { e, bytes, run: runClipOnHost(bytes, pcm) };
  });
  const dense = results[0];
  for (const r of results.slice(1)) {
    assert.deepEqual(r.run.output, dense.run.output, `${r.e} output equals dense`);
    assert.ok(r.run.perFrame[0].macs < dense.run.perFrame[0].macs, `${r.e} MACs ${r.run.perFrame[0].macs} vs dense ${dense.run.perFrame[0].macs}`);
    assert.ok(r.run.perFrame[0].weightBytes < dense.run.perFrame[0].weightBytes, `${r.e} weight bytes`);
    assert.ok(r.bytes.length < dense.bytes.length, `${r.e} is smaller`);
  }
  // The encoding that matches the pruning pattern skips most: 30 % of the 4×4 blocks survive.
  assert.ok(results[1].run.perFrame[0].macs < dense.run.perFrame[0].macs * 0.45);
  // The decoded weights of every encoding equal the graph's int8 weights.
  for (const r of results) {
    const fcs = parseBlob(r.bytes).ops.filter((o): o is BlobFcOp => o.op === 'FC');
    const qfcs = g.ops.filter((o): o is QFc => o.op === 'FC');
    fcs.forEach((op, k) => assert.deepEqual(decode(op), qfcs[k].weights, `${r.e} op ${k}`));
  }
  // block 4×4 on 4×4-pruned weights: exactly the surviving blocks' MACs.
  const b44 = results[1];
  const fcs = parseBlob(b44.bytes).ops.filter((o): o is BlobFcOp => o.op === 'FC');
  assert.equal(fcs.reduce((s, o) => s + o.nnz * 16, 0) + 2 * 32 /* two MULs of 32 */, b44.run.perFrame[0].macs);
  // auto is never larger than any single choice.
  const autoBytes = results.find((r) => r.e === 'auto')!.bytes.length;
  for (const r of results) assert.ok(autoBytes <= r.bytes.length + 16 * 6, `${r.e}`);
});

test('auto picks the smallest weight stream per FC', () => {
  const g = lowerToQuantGraph(recalibrated(pruneMagnitude(tinyModel(22), 0.1)));
  const { layers } = writeBlobDetailed(g, { encoding: { kind: 'auto' } });
  for (const l of layers) {
    const op = g.ops.find((o) => o.name === l.name) as QFc;
    const dense = op.outFeatures * op.inFeatures;
    assert.ok(l.weightBytes <= dense, `${l.name}`);
    assert.ok(l.encoding !== 'dense', `${l.name}: 10 % density should not stay dense`);
    assert.ok(l.weightBytes <= encodeCsr(op.weights, op.outFeatures, op.inFeatures).bytes.length + 15);
  }
});

test('unit-pruned models shrink: smaller tensors, blob, arena and MACs', () => {
  const full = tinyModel(23);
  const pruned = recalibrated(unitPrune(full, 20, [12]));
  assert.deepEqual(graphDims(pruned), { nBins: 257, d0: 20, hidden: [12] });
  const bFull = writeBlob(lowerToQuantGraph(full));
  const bPruned = writeBlob(lowerToQuantGraph(pruned));
  assert.ok(bPruned.length < bFull.length * 0.6, `${bPruned.length} vs ${bFull.length}`);
  const eFull = new Engine(bFull), ePruned = new Engine(bPruned);
  assert.ok(ePruned.arenaBytes < eFull.arenaBytes);
  const pcm = testSignal(23, 2000);
  const r = runClipOnHost(ePruned, pcm);
  assert.ok(r.perFrame[0].macs < runClipOnHost(eFull, pcm).perFrame[0].macs * 0.5);
  assert.equal(parseBlob(bPruned).tensors.find((t) => t.isState)!.length, 12);
  // Inconsistent pruning is a user error that names the weight.
  const bad = cloneModel(pruned);
  bad.weights['gru0.w_hr'] = { shape: [11, 12], data: new Float32Array(132) };
  assert.throws(() => lowerToQuantGraph(bad), (e: unknown) => e instanceof HilError && /gru0\.w_hr/.test(e.message));
  const noRange = cloneModel(full);
  delete noRange.ranges['gru0.xz'];
  assert.throws(() => lowerToQuantGraph(noRange), (e: unknown) => e instanceof HilError && /gru0\.xz/.test(e.message));
});

test('int8 output tracks the float forward (SNR > 20 dB) for se-tiny init, pruned and hop-128 models', () => {
  const cases = [
    { name: 'se-tiny', model: tinyModel(31) },
    { name: 'se-tiny pruned', model: recalibrated(pruneMagnitude(tinyModel(32), 0.3)) },
    { name: 'se-tiny hop 128', model: tinyModel(33, 128) },
  ];
  for (const c of cases) {
    const pcm = testSignal(100, 8000);
    const q = runClipOnHost(writeBlob(lowerToQuantGraph(c.model)), pcm).output;
    const f = floatForward(c.model, pcm).output;
    let sig = 0, err = 0;
    for (let i = 0; i < pcm.length; i++) {
      const ref = Math.max(-32768, Math.min(32767, f[i]));
      sig += ref * ref;
      err += (ref - q[i]) ** 2;
    }
    const snr = 10 * Math.log10(sig / err);
    console.log(`# ${c.name}: int8 vs float SNR ${snr.toFixed(1)} dB`);
    assert.ok(snr > 20, `${c.name}: SNR ${snr.toFixed(1)} dB`);
  }
});
