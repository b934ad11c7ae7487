/**
 * The reference work's two headline comparisons, stated like for like on a sweep's clips (issue 15):
 *
 * - weight pruning: 42× smaller (3.7 MB float32 → 87 kB) at −0.1 dB SDR;
 * - block pruning: 6.7× faster at −0.59 dB SDR.
 *
 * Both losses are against the dense *float* model, as the reference states them, so this script also runs
 * the float baseline (float64 reference forward, src/model/forward.ts) on every clip the sweep ran and
 * pairs it clip by clip with what the board returned for each compressed model (the sweep's rows: scored
 * from the device's audio). Compression is float32 bytes of the whole baseline over each of the three
 * memory figures of the blob: (a) its flash bytes, (b) its nonzero int8 weight bytes (what a
 * sparse-weights paper counts, most likely the reference's accounting), (c) the modelled Ethos-U55 encoded
 * weight bytes (src/engine/u55Weights.ts). Speedup over dense-int8 is given twice: modelled Ethos-U55-128
 * cycles (the calibrated cost model, docs/cost-model.md) read off the blob, and, with --m55 <sweep of
 * corstone-300>, the emulated Cortex-M55 network instructions per frame that QEMU counted (not silicon).
 *
 * Losses are mean paired ΔSDR over the clips with a 95 % bootstrap interval; a profile is "within" a loss
 * when the mean is, as the sweep report decides (the interval is shown beside it).
 *
 * --attribute splits each loss in two where the profile's fine-tuned float model is here
 * (`compressed/<profile>/model.json`, written by hil compress but not committed): fine-tuning (that float
 * model against the baseline's, both float64 forwards) and int8 inference (the device's audio against that
 * float model), paired on the same clips. About 20 s of float forward per profile for 60 clips.
 *
 * Usage: npm run bench:headline -- --sweep runs/tinylstm-paper-real [--m55 runs/tinylstm-paper-m55] [--model tinylstm-paper] [--attribute]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fromInt16, readPcm16 } from '../src/data/wav.js';
import { Engine, ETHOS_U55_128_CALIBRATED, frameCycles } from '../src/engine/index.js';
import { scorePair } from '../src/metrics/index.js';
import { type FloatModel, loadFloatModel } from '../src/model/floatModel.js';
import { floatForward, FloatStream } from '../src/model/forward.js';
import { pairedDifference, type Interval } from '../src/report/confidence.js';
import { readSweep, type SweepRow } from '../src/sweep/sweep.js';
import { sha256 } from '../src/util/fsx.js';

const { values } = parseArgs({
  options: {
    sweep: { type: 'string' },
    m55: { type: 'string' },
    model: { type: 'string' },
    attribute: { type: 'boolean' },
  },
});
if (!values.sweep) {
  process.stderr.write('bench:headline: --sweep <dir> is required (the --out of a hil sweep on sim, e.g. sweeps/tinylstm-paper-real.json)\n');
  process.exit(2);
}
const COMPRESSION_LOSS_DB = 0.1;
const SPEEDUP_LOSS_DB = 0.59;
const REFERENCE = { compression: 42, speedup: 6.7 };
const err = (s: string) => process.stderr.write(s + '\n');
const t0 = Date.now();

const sweep = readSweep(values.sweep);
if (sweep.meta.audioDir === null || sweep.meta.cleanDir === null) throw new Error(`${values.sweep}: ran on the built-in corpus; run the sweep on a named clip set (e.g. clips.corpus real, split real-test)`);
const m55 = values.m55 ? readSweep(values.m55) : null;

const signed = (v: number, d = 2) => (Number.isFinite(v) ? (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(d) : 'n/a');
const ratio = (v: number | null) => (v === null || !Number.isFinite(v) ? '–' : `${v.toFixed(1)}×`);
const withCi = (i: Interval) => `${signed(i.mean)} [${signed(i.lo)}, ${signed(i.hi)}]`;

for (const base of sweep.meta.baselines) {
  if (values.model && base.name !== values.model) continue;
  const rows = sweep.rows.filter((r) => (r.model || sweep.meta.baselines[0]!.name) === base.name && r.sdrOut !== null);
  if (rows.length === 0) continue;
  const boards = [...new Set(rows.map((r) => r.board))];
  if (boards.length !== 1) throw new Error(`${values.sweep}: ${base.name} ran on ${boards.join(', ')}; give a sweep of one board (sim) for the SDR side`);
  const notExact = rows.filter((r) => !r.bitExact);
  if (notExact.length > 0) throw new Error(`${values.sweep}: ${notExact.length} rows not bit-exact with the host engine`);

  const model = loadFloatModel(join(base.dir, 'model.json'));
  const floatBytes = 4 * Object.values(model.weights).reduce((s, w) => s + w.data.length, 0);
  const clips = [...new Set(rows.map((r) => r.clip))].sort();
  err(`bench:headline: ${base.name}: float forward on ${clips.length} clips of ${sweep.meta.audioDir}`);
  const audioDir = sweep.meta.audioDir;
  const cleanDir = sweep.meta.cleanDir;
  const floatScores = (m: FloatModel): Map<string, number> => {
    const stream = new FloatStream(m);
    const sdr = new Map<string, number>();
    for (const clip of clips) {
      const noisy = readPcm16(join(audioDir, clip), 16000).samples;
      const clean = fromInt16(readPcm16(join(cleanDir, clip), 16000).samples);
      sdr.set(clip, scorePair(clean, floatForward(m, noisy, stream).output.map((v) => v / 32768)).sdr);
    }
    return sdr;
  };
  const floatSdr = floatScores(model);

  const profiles = [...new Set(rows.map((r) => r.profile))];
  const byProfile = (p: string, rs: SweepRow[]) => new Map(rs.filter((r) => r.profile === p).map((r) => [r.clip, r.sdrOut!]));
  const dense = byProfile('dense-int8', rows);
  const cyclesOf = (r: SweepRow): number => {
    const path = join(base.dir, 'compressed', r.profile, 'model.hilm');
    if (!existsSync(path)) throw new Error(`${path} is missing: the sweep's model ${r.profile} is not the committed one`);
    const blob = new Uint8Array(readFileSync(path));
    if (sha256(blob) !== r.modelSha256) throw new Error(`${path} is not the blob the sweep ran (hash differs)`);
    return frameCycles(ETHOS_U55_128_CALIBRATED, new Engine(blob).opCounters);
  };
  const denseRow = rows.find((r) => r.profile === 'dense-int8');
  if (!denseRow) throw new Error(`${values.sweep}: ${base.name} has no dense-int8 rows to compute speedups against`);
  const denseCycles = cyclesOf(denseRow);
  const m55Latency = (p: string): number | null => {
    const r = m55?.rows.find((x) => (x.model || m55.meta.baselines[0]!.name) === base.name && x.profile === p);
    return r ? r.networkLatencyP50 : null;
  };
  const m55Dense = m55Latency('dense-int8');
  const floatMean = [...floatSdr.values()].reduce((a, b) => a + b, 0) / floatSdr.size;

  interface Line {
    profile: string;
    structure: string;
    sparsity: number;
    sdr: number;
    vsFloat: Interval;
    vsDense: Interval | null;
    a: number;
    b: number;
    c: number | null;
    u55: number;
    m55: number | null;
  }
  const lines: Line[] = profiles.map((p) => {
    const r = rows.find((x) => x.profile === p)!;
    const sdr = byProfile(p, rows);
    const m = m55Latency(p);
    return {
      profile: p,
      structure: r.structure,
      sparsity: r.sparsity,
      sdr: [...sdr.values()].reduce((a, b) => a + b, 0) / sdr.size,
      vsFloat: pairedDifference(floatSdr, sdr, { seed: `${p}:float` }),
      vsDense: p === 'dense-int8' ? null : pairedDifference(dense, sdr, { seed: `${p}:dense` }),
      a: floatBytes / r.modelFlashBytes,
      b: floatBytes / r.nonzeroWeightBytes,
      c: r.u55EncodedWeightBytes ? floatBytes / r.u55EncodedWeightBytes : null,
      u55: denseCycles / cyclesOf(r),
      m55: m !== null && m55Dense !== null ? m55Dense / m : null,
    };
  });
  const order = ['none', 'weight', 'block', 'unit', 'offline'];
  lines.sort((x, y) => order.indexOf(x.structure) - order.indexOf(y.structure) || x.sparsity - y.sparsity || x.profile.localeCompare(y.profile));

  console.log(`\n## ${base.name}: ${clips.length} clips of ${sweep.meta.audioDir} on ${boards[0]} (device audio), float baseline ${(floatBytes / 1e6).toFixed(2)} MB float32, float SDR ${floatMean.toFixed(2)} dB\n`);
  console.log('| profile | sparsity | SDR dB | ΔSDR vs float [95 % CI] | vs dense-int8 | ×(a) flash | ×(b) nonzero int8 | ×(c) U55 enc. (modelled) | U55 speedup (modelled) | M55 speedup (emulated) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const l of lines) {
    console.log(
      `| ${l.profile} | ${(100 * l.sparsity).toFixed(1)} % | ${l.sdr.toFixed(2)} | ${withCi(l.vsFloat)} | ${l.vsDense ? signed(l.vsDense.mean) : '–'} | ${ratio(l.a)} | ${ratio(l.b)} | ${ratio(l.c)} | ${ratio(l.u55)} | ${ratio(l.m55)} |`,
    );
  }

  const best = <K extends keyof Line>(pool: Line[], key: K, loss: number) =>
    pool.filter((l) => l.vsFloat.mean >= -loss && l[key] !== null).sort((x, y) => (y[key] as number) - (x[key] as number))[0];
  const cell = (l: Line | undefined, key: keyof Line) => (l ? `${l.profile} ${ratio(l[key] as number)} (${signed(l.vsFloat.mean)} dB)` : 'none within the loss');
  console.log(`\nLargest compression within ${COMPRESSION_LOSS_DB} dB of the float model (reference: weight pruning ${REFERENCE.compression}× at −0.1 dB):\n`);
  console.log('| structure | (a) flash | (b) nonzero int8 | (c) U55 encoded (modelled) |');
  console.log('|---|---|---|---|');
  for (const s of ['weight', 'block', 'unit', 'offline', 'any']) {
    const pool = lines.filter((l) => s === 'any' || l.structure === s || (l.structure === 'none' && s !== 'offline'));
    console.log(`| ${s} | ${cell(best(pool, 'a', COMPRESSION_LOSS_DB), 'a')} | ${cell(best(pool, 'b', COMPRESSION_LOSS_DB), 'b')} | ${cell(best(pool, 'c', COMPRESSION_LOSS_DB), 'c')} |`);
  }
  console.log(`\nLargest speedup over dense-int8 within ${SPEEDUP_LOSS_DB} dB of the float model (reference: block pruning ${REFERENCE.speedup}× at −0.59 dB):\n`);
  console.log('| structure | Ethos-U55-128 (modelled, calibrated) | Cortex-M55 (emulated instructions) |');
  console.log('|---|---|---|');
  for (const s of ['weight', 'block', 'unit', 'offline']) {
    const pool = lines.filter((l) => l.structure === s || l.structure === 'none');
    console.log(`| ${s} | ${cell(best(pool, 'u55', SPEEDUP_LOSS_DB), 'u55')} | ${m55 ? cell(best(pool, 'm55', SPEEDUP_LOSS_DB), 'm55') : 'no --m55 sweep'} |`);
  }

  if (values.attribute) {
    console.log(`
Where each loss against the float model comes from (paired on the same clips; "own float" is the profile's float model after pruning and fine-tuning (offline: pruning only), float64 forward):
`);
    console.log('| profile | ΔSDR vs float | pruning + fine-tuning (own float − baseline float) | int8 inference (device − own float) |');
    console.log('|---|---:|---:|---:|');
    for (const l of lines) {
      const path = join(base.dir, 'compressed', l.profile, 'model.json');
      if (!existsSync(path)) {
        console.log(`| ${l.profile} | ${signed(l.vsFloat.mean)} | – (no ${l.profile}/model.json here) | – |`);
        continue;
      }
      err(`bench:headline: ${base.name} ${l.profile}: its own float model on ${clips.length} clips`);
      const own = floatScores(loadFloatModel(path));
      const tune = pairedDifference(floatSdr, own, { seed: `${l.profile}:tune` });
      const quant = pairedDifference(own, byProfile(l.profile, rows), { seed: `${l.profile}:int8` });
      console.log(`| ${l.profile} | ${signed(l.vsFloat.mean)} | ${withCi(tune)} | ${withCi(quant)} |`);
    }
  }
}
err(`bench:headline: wall time ${((Date.now() - t0) / 1000).toFixed(0)} s`);
