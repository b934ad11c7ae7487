/**
 * Held-out real speech: a model's ΔSDR and ΔSI-SDR on the `real-test` split of a real corpus (speakers and
 * noise recordings that training never sees), per speech source, noise type and SNR band, beside the
 * synthetic (TTS) test split; with --variants, also on the robustness variants of both (src/data/variants.ts).
 *
 * The clips run on a board (default sim, through `hil run`'s code path, bit-exact-checked against the host
 * engine on every clip) or, with --board host, on the host engine alone (the same numbers, faster, no board).
 *
 * Usage: npm run bench:real -- [--model models/se-small/compressed/dense-int8 ...] [--corpus real]
 *          [--synthetic small] [--board sim|host] [--limit N] [--variants] [--out runs/bench-real]
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveCorpusDir } from '../src/data/resolveCorpus.js';
import { loadCorpus } from '../src/data/manifest.js';
import { VARIANTS, writeVariantSet } from '../src/data/variants.js';
import { breakdown, breakdownTable, signedDb, snrRows, withInterval, type ClipScore } from '../src/report/corpusBreakdown.js';
import { meanInterval } from '../src/report/confidence.js';
import { runBenchmark } from '../src/run/benchmark.js';
import { scoreSetOnHost } from '../src/run/hostScore.js';
import { resolveModel } from '../src/run/resolveModel.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    corpus: { type: 'string' },
    synthetic: { type: 'string' },
    board: { type: 'string' },
    limit: { type: 'string' },
    variants: { type: 'boolean' },
    out: { type: 'string' },
  },
});
const models = values.model ?? ['models/se-small/compressed/dense-int8', 'models/se-paper/compressed/dense-int8'];
const board = values.board ?? 'sim';
const limit = values.limit === undefined ? undefined : Number(values.limit);
const out = values.out ?? 'runs/bench-real';
const t0 = Date.now();

interface ClipSet {
  label: string;
  corpusDir: string;
  split: string;
}
const realDir = await resolveCorpusDir(values.corpus ?? 'real');
const synthDir = await resolveCorpusDir(values.synthetic ?? 'small');
const sets: ClipSet[] = [
  { label: `${basename(realDir)} real-test (held out)`, corpusDir: realDir, split: 'real-test' },
  { label: `${basename(synthDir)} test (TTS)`, corpusDir: synthDir, split: 'test' },
];

function modelName(path: string): string {
  // models/se-small/compressed/dense-int8 → se-small/dense-int8
  return basename(path) === 'model.json' ? basename(dirname(path)) : `${basename(dirname(dirname(path)))}/${basename(path)}`;
}

async function score(model: string, noisy: string, clean: string, tag: string): Promise<ClipScore[]> {
  if (board === 'host') return scoreSetOnHost(resolveModel(model).blob, noisy, clean, { limit });
  const file = await runBenchmark({ board, model, audio: noisy, clean, out: join(out, modelName(model).replace('/', '-'), board, tag), limit });
  const notExact = file.rows.filter((r) => !r.bitExact).length;
  if (notExact > 0) throw new Error(`${model} on ${board}: ${notExact} clips not bit-exact`);
  return file.rows
    .filter((r) => r.sdrNoisy !== null && r.sdrImprovement !== null && r.sisdrImprovement !== null)
    .map((r) => ({ clip: r.clip.replace(/\.wav$/i, ''), sdrNoisy: r.sdrNoisy!, sdrImprovement: r.sdrImprovement!, sisdrImprovement: r.sisdrImprovement! }));
}

for (const model of models) {
  if (!existsSync(model)) throw new Error(`no model at ${model}`);
  console.log(`\n## ${modelName(model)} on ${board === 'host' ? 'the host engine (bit-exact with the boards)' : `the ${board} board`}\n`);
  for (const set of sets) {
    const noisy = join(set.corpusDir, set.split, 'noisy');
    const clean = join(set.corpusDir, set.split, 'clean');
    const scores = await score(model, noisy, clean, `${basename(set.corpusDir)}-${set.split}`);
    const b = breakdown(scores, loadCorpus(set.corpusDir).manifest);
    console.log(`### ${set.label}: ${b.all.n} clips, noisy SDR ${b.all.sdrNoisy.toFixed(2)} dB, ΔSDR ${withInterval(b.all.sdrImprovement)} dB, ΔSI-SDR ${signedDb(b.all.sisdrImprovement.mean)} dB\n`);
    if (set.split === 'real-test') {
      console.log(`${breakdownTable('speech source', b.bySource)}\n\n${breakdownTable('noise', b.byNoise)}\n\n${breakdownTable('SNR', snrRows(b))}\n`);
    }
    if (values.variants) {
      const lines = ['| variant | clips | ΔSDR [95 % CI] | ΔSI-SDR [95 % CI] |', '|---|---:|---:|---:|'];
      for (const v of VARIANTS) {
        const dir = join(out, 'variants', `${basename(set.corpusDir)}-${set.split}${limit ? `-first${limit}` : ''}`, v.name);
        if (!existsSync(dir)) await writeVariantSet(noisy, clean, dir, v, limit);
        const s = await score(model, join(dir, 'noisy'), join(dir, 'clean'), `${basename(set.corpusDir)}-${set.split}-${v.name}`);
        const d = meanInterval(s.map((x) => x.sdrImprovement), { seed: v.name });
        const si = meanInterval(s.map((x) => x.sisdrImprovement), { seed: `${v.name}:si` });
        lines.push(`| ${v.name} (${v.what}) | ${d.n} | ${withInterval(d)} | ${withInterval(si)} |`);
      }
      console.log(`Robustness variants of ${set.label}:\n\n${lines.join('\n')}\n`);
    }
  }
}
console.log(`wall time ${((Date.now() - t0) / 1000).toFixed(0)} s`);
