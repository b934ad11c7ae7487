/**
 * The cost model (docs/cost-model.md) against the one published Ethos-U55-128 measurement of a network
 * like hil's: RNNoise in Arm's ML embedded evaluation kit on the Corstone-300 FVP. RNNoise is lowered with
 * hil's own rules (src/export/referenceNets.ts: its 42 inputs cannot go through a hil blob, whose front end
 * fixes n_fft/2 + 1 = 257 inputs), then the modelled cycles and weight-flash bytes are set beside the
 * published ones, for the nominal and the calibrated parameters.
 *
 * Weight-flash bytes are counted two ways: hil's weight-stream counter (one byte per dense int8 weight)
 * and the Ethos-U55 encoded-size model (src/engine/u55Weights.ts) on seeded synthetic weights: RNNoise's
 * trained weights are not at hand, so that figure shows the encoder's overheads, not RNNoise's statistics.
 *
 * Exit status 1 when the calibrated cycles miss the published figure by more than ±25 %.
 *
 * Usage: npm run bench:cost-model [-- --seed N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import seedrandom from 'seedrandom';
import { ETHOS_U55_128, ETHOS_U55_128_CALIBRATED, frameCycles, type CostParams } from '../src/engine/index.js';
import { estimateU55Weights, sumEstimates } from '../src/engine/u55Weights.js';
import { RNNOISE_U55_128_FVP, rnnoiseNetwork } from '../src/export/referenceNets.js';
import { parseVelaSummary } from '../src/compress/vela.js';

const TOLERANCE = 0.25;
const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' } } });
const seed = Number(values.seed);
if (!Number.isInteger(seed)) {
  console.error(`bench:cost-model: --seed must be an integer, got ${values.seed}`);
  process.exit(2);
}

const ops = rnnoiseNetwork();
const fcs = ops.filter((o) => o.isFc);
const sum = (k: 'macs' | 'weightBytes' | 'elements') => ops.reduce((s, o) => s + o[k], 0);
const pct = (model: number, ref: number) => `${model >= ref ? '+' : '−'}${(Math.abs(model / ref - 1) * 100).toFixed(1)} %`;

/** Per-channel symmetric int8 weights from a seeded normal distribution (§10's quantization). */
function syntheticWeights(outF: number, inF: number, rng: () => number): Int8Array {
  const f = new Float64Array(outF * inF);
  for (let i = 0; i < f.length; i++) f[i] = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const w = new Int8Array(f.length);
  for (let o = 0; o < outF; o++) {
    let m = 0;
    for (let i = 0; i < inF; i++) m = Math.max(m, Math.abs(f[o * inF + i]));
    for (let i = 0; i < inF; i++) w[o * inF + i] = Math.round((127 * f[o * inF + i]) / m);
  }
  return w;
}

const rng = seedrandom(String(seed));
const enc = sumEstimates(fcs.map((o) => estimateU55Weights(syntheticWeights(o.outFeatures, o.inFeatures, rng), o.outFeatures, o.inFeatures)));
const pub = RNNOISE_U55_128_FVP;
const pubFlash = pub.axi1ReadBeats * pub.beatBytes;

console.log('RNNoise lowered with hil\'s rules (src/export/referenceNets.ts): ' +
  `${ops.length} ops (${fcs.length} FC, ${ops.length - fcs.length} element-wise), ${sum('macs')} MACs, ${sum('weightBytes')} dense weight bytes, ${sum('elements')} element-wise outputs`);
console.log(`published (measured on the Corstone-300 FVP, Arm ML embedded evaluation kit): ${pub.npuCycles} NPU cycles, ${pub.axi1ReadBeats} AXI1 read beats × ${pub.beatBytes} B = ${pubFlash} B per inference\n`);

const rows: [string, CostParams][] = [['nominal (weights in SRAM, 8 B/cycle)', ETHOS_U55_128], ['calibrated (weights in flash, 1 B/cycle)', ETHOS_U55_128_CALIBRATED]];
const head = ['parameters', 'macs/c', 'wbytes/c', 'elts/c', 'op ovh', 'modelled cycles', 'published', 'error'];
const body = rows.map(([name, p]) => {
  const c = frameCycles(p, ops);
  return [name, String(p.macsPerCycle), String(p.weightBytesPerCycle), String(p.elementsPerCycle), String(p.opOverheadCycles), String(c), String(pub.npuCycles), pct(c, pub.npuCycles)];
});
const width = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
console.log(line(head));
console.log(width.map((n) => '-'.repeat(n)).join('  '));
for (const r of body) console.log(line(r));

console.log('\nweight bytes read from flash per inference (modelled) against the published AXI1 reads:');
console.log(`  hil weight-stream counter (dense int8):                  ${String(sum('weightBytes')).padStart(7)} B  ${pct(sum('weightBytes'), pubFlash)}`);
console.log(`  Ethos-U55 encoded estimate (synthetic weights, seed ${seed}): ${String(enc.bytes).padStart(7)} B  ${pct(enc.bytes, pubFlash)}` +
  `  (padded ${enc.paddedBytes} B, streams ${enc.streamBytes} B, scale+bias ${enc.scaleBiasBytes} B)`);

// Vela's own performance model on the same layer sizes: the example summary of its PERFORMANCE.md
// (86,952 MACs: RNNoise), kept verbatim as a parser fixture (test/fixtures/vela/README.md).
const velaText = readFileSync(new URL('../test/fixtures/vela/performance-md-u55-256.txt', import.meta.url), 'utf8');
const vela = parseVelaSummary(velaText, 'PERFORMANCE.md example');
const flashCycles = /Off-chip Flash Access cycles\s+(\d+)/.exec(velaText)?.[1];
console.log(
  `\nVela's estimate for the same layer sizes (${vela.accelerator}, ${vela.systemConfig}; ${vela.label}): ${vela.totalCycles} total cycles, ` +
    `${vela.npuCycles} NPU compute cycles, ${flashCycles} off-chip flash access cycles, ${vela.flashBytes} B flash used — flash-bound too`,
);

const calibrated = frameCycles(ETHOS_U55_128_CALIBRATED, ops);
const err = Math.abs(calibrated / pub.npuCycles - 1);
console.log(`\ncalibrated error ${(100 * err).toFixed(1)} % (limit ±${100 * TOLERANCE} %); every figure above but the published ones is modelled`);
if (err > TOLERANCE) process.exit(1);
