/**
 * `npm run bench:outbits`: what a 16-bit output layer (docs/model-format.md §5: QUANTIZE → FC16 → LUT16,
 * an int16 Q15 mask) buys over the all-int8 blob, per compressed model of an arch. Each model's float
 * weights (models/<arch>/compressed/<profile>/model.json) are exported twice with the profile's encoding,
 * outputBits 8 and 16; the 8-bit blob must be byte-identical to the committed model.hilm (so the int8
 * column is the model as compressed). Both run on the host engine (bit-exact with every board) over the
 * built-in corpus's test split; figures are measured ΔSDR / ΔSI-SDR means, with flash and per-frame work.
 *
 * Offline profiles are re-made from the baseline (models/<arch>/model.json) exactly as hil compress makes
 * them (post-training quantization, then one-shot pruning of the quantized graph), so the committed
 * compressed directories serve. Learned profiles need their fine-tuned float weights, which the committed
 * directories do not keep: --dir points at `hil compress` outputs that still hold model.json (e.g.
 * hil compress --model models/se-small --profile weight-90 --out DIR/weight-90).
 *
 * --corpus/--split pick another built-in corpus's split, e.g. `--corpus real --split real-test` (held-out
 * real speech) for a baseline trained on the real corpus.
 *
 *   npm run bench:outbits -- [--dir DIR] [--arch se-small] [--profiles baseline,dense-int8,weight-90,offline-50,offline-70,offline-90] [--limit N] [--corpus small --split test]
 * (`baseline` is models/<arch>/model.json itself, post-training quantized, dense.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCorpus, SIZES } from '../src/data/corpus.js';
import { Engine } from '../src/engine/index.js';
import { writeBlob } from '../src/export/blob.js';
import { floatModelDigest, lowerToQuantGraph, type OutputBits } from '../src/export/lower.js';
import { pruneQuantGraph, zeroPruned } from '../src/compress/offline.js';
import type { QuantGraph } from '../src/export/quantGraph.js';
import type { FloatModel } from '../src/model/floatModel.js';
import { loadFloatModel } from '../src/model/floatModel.js';
import { scoreSetOnHost } from '../src/run/hostScore.js';
import type { EncodingChoice } from '../src/export/blob.js';
import { HilError } from '../src/util/errors.js';
import { repoPath } from '../src/util/paths.js';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'se-small' },
    dir: { type: 'string' },
    profiles: { type: 'string', default: 'baseline,dense-int8,weight-90,offline-50,offline-70,offline-90' },
    limit: { type: 'string' },
    corpus: { type: 'string', default: 'small' },
    split: { type: 'string', default: 'test' },
  },
});

interface Figures {
  sdr: number;
  sisdr: number;
  flash: number;
  macs: number;
}

function run(blob: Uint8Array, noisy: string, clean: string, limit?: number): Figures {
  const scores = scoreSetOnHost(blob, noisy, clean, { limit });
  const mean = (f: (s: (typeof scores)[number]) => number) => scores.reduce((a, s) => a + f(s), 0) / scores.length;
  const e = new Engine(blob);
  return { sdr: mean((s) => s.sdrImprovement), sisdr: mean((s) => s.sisdrImprovement), flash: blob.length, macs: e.opCounters.reduce((a, c) => a + c.macs, 0) };
}

const d = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);
const row = (label: string, a: Figures, b: Figures): string[] => [
  label, a.sdr.toFixed(2), b.sdr.toFixed(2), d(b.sdr - a.sdr), a.sisdr.toFixed(2), b.sisdr.toFixed(2), d(b.sisdr - a.sisdr), String(a.flash), String(b.flash), String(a.macs), String(b.macs),
];

async function main(): Promise<void> {
  if (!Object.hasOwn(SIZES, values.corpus)) throw new HilError(`--corpus ${values.corpus} is not a built-in corpus size`, `use one of ${Object.keys(SIZES).join(', ')}`);
  const corpus = await ensureCorpus({ size: values.corpus as keyof typeof SIZES, seed: 1 });
  const noisy = join(corpus.dir, values.split, 'noisy');
  const clean = join(corpus.dir, values.split, 'clean');
  if (!existsSync(noisy)) throw new HilError(`the ${values.corpus} corpus has no split ${values.split} (${noisy})`, 'name a split it has, e.g. test, or real-test for the real sizes');
  const limit = values.limit ? Number(values.limit) : undefined;
  const rows: string[][] = [['profile', 'ΔSDR int8 out', 'ΔSDR int16 out', 'diff', 'ΔSI-SDR int8', 'ΔSI-SDR int16', 'diff', 'flash int8', 'flash int16', 'MACs int8', 'MACs int16']];
  for (const profile of values.profiles.split(',')) {
    if (profile === 'baseline') {
      // The uncompressed baseline, post-training quantized, dense: no committed blob to compare with.
      const model = loadFloatModel(repoPath(`models/${values.arch}/model.json`));
      const [a, b] = ([8, 16] as OutputBits[]).map((bits) => run(writeBlob(lowerToQuantGraph(model, { outputBits: bits }), { encoding: { kind: 'dense' } }), noisy, clean, limit));
      rows.push(row('baseline (PTQ)', a, b));
      continue;
    }
    const committed = repoPath(`models/${values.arch}/compressed/${profile}`);
    const dir = values.dir && existsSync(join(values.dir, profile, 'manifest.json')) ? join(values.dir, profile) : committed;
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { structure: string; profileSpec: { encoding: EncodingChoice; sparsity: number; prune: string[] } };
    let graphOf: (bits: OutputBits) => QuantGraph;
    if (manifest.structure === 'offline') {
      const baseline = loadFloatModel(repoPath(`models/${values.arch}/model.json`));
      graphOf = (bits) => {
        const { graph, pruned } = pruneQuantGraph(lowerToQuantGraph(baseline, { outputBits: bits }), manifest.profileSpec.sparsity, manifest.profileSpec.prune);
        return { ...graph, modelId: floatModelDigest(zeroPruned(baseline, pruned)).readUInt32LE(0) };
      };
    } else {
      if (!existsSync(join(dir, 'model.json'))) throw new HilError(`${dir} has no model.json`, `compress it first (hil compress --model models/${values.arch} --profile ${profile} --out DIR/${profile}) and pass --dir DIR`);
      const model: FloatModel = loadFloatModel(join(dir, 'model.json'));
      graphOf = (bits) => lowerToQuantGraph(model, { outputBits: bits });
    }
    const blobs = ([8, 16] as OutputBits[]).map((bits) => writeBlob(graphOf(bits), { encoding: manifest.profileSpec.encoding }));
    // The int8 column is the compressed model itself when its blob re-exports byte for byte.
    const same = Buffer.from(blobs[0]).equals(readFileSync(join(dir, 'model.hilm')));
    const [a, b] = blobs.map((blob) => run(blob, noisy, clean, limit));
    rows.push(row(profile + (same ? '' : ' *'), a, b));
    process.stderr.write(`bench:outbits: ${profile} done\n`);
  }
  const clips = limit ?? 'all';
  process.stdout.write(`${values.arch}: int8 vs int16 output layer, measured on the host engine (bit-exact with the boards), ${clips} clips of ${noisy}; means in dB\n`);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) process.stdout.write(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ') + '\n');
  if (rows.some((r) => r[0].endsWith(' *'))) process.stdout.write('* the int8 re-export differs from that profile\'s model.hilm: both columns are re-exports of its float model\n');
  process.stdout.write('flash: blob bytes; the 16-bit output stores fc_out dense (FC16 is dense only). MACs: per frame (the work counters).\n');
}

main().catch((e: unknown) => {
  if (e instanceof HilError) {
    process.stderr.write(`bench:outbits: ${e.line()}\n`);
    process.exit(2);
  }
  throw e;
});
