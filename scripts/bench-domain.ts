/**
 * Where a model loses on held-out real speech (issue 14), in three measurements on a real corpus:
 *
 * 1. The ceiling: an ideal amplitude mask (|clean| / |noisy| per bin, clipped to [0, 1], the noisy phase,
 *    the model's STFT at hop 256) applied to each mixture of val and real-test. No network with a [0, 1]
 *    magnitude mask can beat it; the bar (+5 / +6 dB ΔSDR) reads against it.
 * 2. Speech or noise: each mixture is split into its clean target and its noise residual (noisy − clean,
 *    which carries the mixture's channel), and the residuals of val and real-test are swapped at the SNR of
 *    the speech's own mixture. The model (int8, on the host engine: what every board returns bit for bit)
 *    runs on all four pairings, so the val→real-test drop splits into a speech part and a noise part.
 * 3. Which noise: the model's ΔSDR per noise category and SNR band on all of val and of real-test, side by
 *    side, so a category both splits have (music, instruments, animals, babble) shows whether it is hard in
 *    itself or only when held out; and on a train subset (every TRAIN_STRIDE-th train mixture, at most
 *    TRAIN_CLIPS), which says whether the model overfits its training noise (train far above val) or
 *    underfits it (train near val).
 *
 * Uses val (model selection's split) and real-test only for measurement; nothing here tunes a model.
 *
 * Usage: npm run bench:domain -- [--model models/se-small/compressed/dense-int8] [--corpus real] [--limit 120]
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCorpus } from '../src/data/manifest.js';
import { resolveCorpusDir } from '../src/data/resolveCorpus.js';
import { readPcm16 } from '../src/data/wav.js';
import { Engine } from '../src/engine/index.js';
import { scoreClipOnHost, scoreEnhanced, scoreSetOnHost } from '../src/run/hostScore.js';
import { istft, stft } from '../src/model/stft.js';
import { meanInterval } from '../src/report/confidence.js';
import { breakdown, breakdownTable, signedDb, SNR_BAND_LABELS, snrRows, withInterval, type Breakdown, type ClipScore, type GroupRow } from '../src/report/corpusBreakdown.js';
import { resolveModel } from '../src/run/resolveModel.js';
import { HilError } from '../src/util/errors.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, corpus: { type: 'string' }, limit: { type: 'string' } } });
const model = values.model ?? 'models/se-small/compressed/dense-int8';
const limit = Number(values.limit ?? 120);
const HOP = 256;
const TRAIN_STRIDE = 9;
const TRAIN_CLIPS = 500;
const t0 = Date.now();

interface Pair {
  name: string;
  clean: Int16Array;
  noisy: Int16Array;
}
function pairs(dir: string, split: string): Pair[] {
  const noisyDir = join(dir, split, 'noisy');
  return readdirSync(noisyDir)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .map((f) => ({ name: f.replace(/\.wav$/, ''), noisy: readPcm16(join(noisyDir, f), 16000).samples, clean: readPcm16(join(dir, split, 'clean', f), 16000).samples }));
}

function idealMask(p: Pair): ClipScore {
  const X = stft(p.noisy, HOP);
  const S = stft(p.clean, HOP);
  const mask = new Float32Array(X.re.length);
  for (let i = 0; i < mask.length; i++) {
    const x = Math.hypot(X.re[i], X.im[i]);
    mask[i] = x > 0 ? Math.min(1, Math.hypot(S.re[i], S.im[i]) / x) : 0;
  }
  return scoreEnhanced(p.name, p.noisy, p.clean, istft(X, HOP, p.noisy.length, mask).map((v) => v / 32768));
}

async function main(): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new HilError(`--limit ${values.limit} is not a number of clips`, 'pass a whole number of 1 or more, e.g. --limit 120');
  const dir = await resolveCorpusDir(values.corpus ?? 'real');
  for (const split of ['train', 'val', 'real-test'])
    if (!existsSync(join(dir, split, 'noisy'))) throw new HilError(`the corpus ${dir} has no ${split} split`, 'use a real corpus (--corpus real or real-small; build it with `hil data build --size real`)');
  const blob = resolveModel(model).blob; // a bad --model fails here, before the long part
  console.log(`# Ideal amplitude mask on ${dir} (the ceiling of a [0, 1] magnitude mask at hop ${HOP})\n`);
  const manifest = loadCorpus(dir).manifest;
  // Read once: the ceiling, the swap and the per-category table all use these clips.
  const held = { val: pairs(dir, 'val'), 'real-test': pairs(dir, 'real-test') };
  for (const split of ['val', 'real-test'] as const) {
    const b = breakdown(held[split].map(idealMask), manifest);
    console.log(`${split}: ${b.all.n} clips, noisy SDR ${b.all.sdrNoisy.toFixed(2)} dB, ΔSDR ${withInterval(b.all.sdrImprovement)} dB\n`);
    console.log(`${breakdownTable('noise', b.byNoise)}\n`);
    console.log(`${breakdownTable('SNR', snrRows(b))}\n`);
  }

  const energy = (a: ArrayLike<number>, n = a.length) => {
    let e = 0;
    for (let i = 0; i < n; i++) e += a[i % a.length] * a[i % a.length];
    return e;
  };
  const engine = new Engine(blob);
  /** ΔSDR of the model on `speech` plus `residual` (looped to length) at the SNR of `speech`'s own mixture. */
  function gain(speech: Pair, residualOf: Pair): number {
    const residual = (p: Pair) => Float64Array.from(p.noisy, (v, i) => v - p.clean[i]);
    const own = residual(speech);
    const r = residual(residualOf);
    const g = Math.sqrt(energy(own) / energy(r, speech.clean.length));
    const noisy = new Int16Array(speech.clean.length);
    for (let i = 0; i < noisy.length; i++) noisy[i] = Math.max(-32768, Math.min(32767, Math.round(speech.clean[i] + g * r[i % r.length])));
    return scoreClipOnHost(engine, speech.name, noisy, speech.clean).sdrImprovement;
  }
  const val = held.val.slice(0, limit);
  const test = held['real-test'].slice(0, limit);
  const n = Math.min(val.length, test.length);
  console.log(`# ${model} (int8, host engine) with the noise residuals of val and real-test swapped: first ${n} mixtures of each\n`);
  console.log('| speech | noise | ΔSDR [95 % CI] |\n|---|---|---:|');
  for (const [sLabel, sp] of [['val', val], ['real-test', test]] as const) {
    for (const [nLabel, np] of [['val', val], ['real-test', test]] as const) {
      const d = meanInterval(Array.from({ length: n }, (_, i) => gain(sp[i], np[i])), { seed: `domain:${sLabel}:${nLabel}` });
      console.log(`| ${sLabel} | ${nLabel} | ${withInterval(d)} |`);
    }
  }

  const trainSubset = { stride: TRAIN_STRIDE, limit: TRAIN_CLIPS };
  const bySplit = [
    breakdown(scoreSetOnHost(blob, join(dir, 'train', 'noisy'), join(dir, 'train', 'clean'), trainSubset), manifest),
    ...[held.val, held['real-test']].map((set) => breakdown(set.map((p) => scoreClipOnHost(engine, p.name, p.noisy, p.clean)), manifest)),
  ];
  console.log(`\n# ${model} (int8, host engine) per noise category and SNR band: every ${TRAIN_STRIDE}th train mixture (at most ${TRAIN_CLIPS}), all of val and of real-test\n`);
  console.log('| group | train clips | train ΔSDR | val clips | val ΔSDR | real-test clips | real-test ΔSDR |\n|---|---:|---:|---:|---:|---:|---:|');
  const cell = (r: GroupRow | undefined) => (r ? `${r.n} | ${signedDb(r.sdrImprovement.mean)}` : '0 | –');
  // Noise categories in name order; SNR bands in SNR order (a split may lack one), the −6…9 dB summary last.
  const snrRank = (g: string) => {
    const i = SNR_BAND_LABELS.indexOf(g);
    return i < 0 ? SNR_BAND_LABELS.length : i;
  };
  const sections: [(b: Breakdown) => GroupRow[], (a: string, b: string) => number][] = [
    [(b) => b.byNoise, (a, b) => a.localeCompare(b)],
    [snrRows, (a, b) => snrRank(a) - snrRank(b)],
  ];
  for (const [rows, order] of sections) {
    const groups = [...new Set(bySplit.flatMap((b) => rows(b).map((r) => r.group)))].sort(order);
    for (const g of groups) console.log(`| ${g} | ${bySplit.map((b) => cell(rows(b).find((r) => r.group === g))).join(' | ')} |`);
  }
  console.log(`| all | ${bySplit.map((b) => cell(b.all)).join(' | ')} |`);
  console.log(`\nwall time ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((e: unknown) => {
  if (e instanceof HilError) {
    process.stderr.write(`bench:domain: ${e.line()}\n`);
    process.exit(2);
  }
  throw e;
});
