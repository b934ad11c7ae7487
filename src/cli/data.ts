/** `hil data build` and `hil data info`: the built-in or a user's corpus (docs/corpus.md). */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { buildCorpus, defaultCorpusDir, loadCorpus, type CorpusManifest, type ProgressEvent } from '../data/corpus.js';
import { isSizeName, SIZES } from '../data/sizes.js';
import { CORPUS_SPLITS } from '../data/manifest.js';
import { HilError } from '../util/errors.js';
import { action, intOption } from './common.js';

interface BuildFlags {
  size: string;
  seed?: string;
  out?: string;
  cleanDir?: string;
  noiseDir?: string;
  speakerPattern?: string;
  jobs?: string;
  json?: boolean;
}

function sizeOption(s: string) {
  if (!isSizeName(s)) throw new HilError(`--size must be one of ${Object.keys(SIZES).join(', ')}, got "${s}"`);
  return s;
}

/** Progress on stderr: bars on a terminal, one line per finished phase otherwise (CI logs). */
function progressReporter(): { onEvent: (e: ProgressEvent) => void; stop: () => void } {
  const tty = process.stderr.isTTY === true;
  const multi = tty
    ? new cliProgress.MultiBar(
        { stream: process.stderr, format: '{phase} [{bar}] {value}/{total} ({reused} reused) {eta_formatted}', clearOnComplete: false, hideCursor: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let bar: cliProgress.SingleBar | null = null;
  let phase = { name: '', total: 0, done: 0, reused: 0, started: Date.now() };
  const finishLine = () => {
    if (!tty && phase.name) process.stderr.write(`hil data: ${phase.name}: ${phase.done}/${phase.total} (${phase.reused} reused) in ${((Date.now() - phase.started) / 1000).toFixed(1)} s\n`);
  };
  return {
    onEvent: (e) => {
      if (e.kind === 'phase') {
        finishLine();
        phase = { name: e.phase, total: e.total, done: 0, reused: 0, started: Date.now() };
        bar = multi ? multi.create(e.total, 0, { phase: e.phase.padEnd(20), reused: 0 }) : null;
      } else if (e.kind === 'tick') {
        phase.done++;
        if (e.reused) phase.reused++;
        bar?.increment(1, { reused: phase.reused });
      } else if (multi) {
        multi.log(`hil data: ${e.message}\n`);
      } else {
        process.stderr.write(`hil data: ${e.message}\n`);
      }
    },
    stop: () => {
      finishLine();
      multi?.stop();
    },
  };
}

function summary(dir: string, m: CorpusManifest): string {
  const lines = [`corpus ${dir} (${m.size}, seed ${m.seed}; clean: ${m.inputs.clean}; noise: ${m.inputs.noise})`];
  const minutes = (xs: { duration: number }[]) => (xs.reduce((s, x) => s + x.duration, 0) / 60).toFixed(1);
  // The real sizes have a real-test split and no test split: list the splits this corpus has.
  for (const split of CORPUS_SPLITS.filter((sp) => m.speech.some((e) => e.split === sp) || m.mixtures.some((e) => e.split === sp))) {
    const sp = m.speech.filter((e) => e.split === split);
    const no = m.noise.filter((e) => e.split === split);
    const mx = m.mixtures.filter((e) => e.split === split);
    const voices = new Set(sp.map((e) => e.voice)).size;
    const cats = [...new Set(no.map((e) => e.category))].sort().join(' ');
    lines.push(`  ${split.padEnd(9)}  speech ${String(sp.length).padStart(5)} (${minutes(sp)} min, ${voices} voices)  noise ${String(no.length).padStart(4)} (${minutes(no)} min: ${cats})  mixtures ${String(mx.length).padStart(5)} (${minutes(mx)} min)`);
  }
  if (m.rejected.length) lines.push(`  ${m.rejected.length} file(s) could not be read and were left out (listed under "rejected" in manifest.json)`);
  return lines.join('\n');
}

export function register(program: Command): void {
  const data = program.command('data').description('the speech-enhancement corpus: TTS speech, noise, mixtures and splits');

  data
    .command('build')
    .description('build a corpus (incremental: a rerun with unchanged inputs does nothing)')
    .option('--size <size>', 'small (CI, about 30 s) or paper (real runs; needs `bash scripts/setup.sh --with-noise-data`)', 'small')
    .option('--seed <n>', 'seed of every random choice (voices, text, noise, SNRs, splits)', '1')
    .option('--out <dir>', 'corpus directory (default: $HIL_HOME/corpus/<size>-seed<seed>)')
    .option('--clean-dir <dir>', 'your own clean speech instead of the TTS voices (any format sox reads)')
    .option('--noise-dir <dir>', 'your own noise instead of the built-in noise')
    .option('--speaker-pattern <regex>', 'first group = speaker of a --clean-dir file, matched on its relative path')
    .option('--jobs <n>', 'parallel TTS/sox workers', '2')
    .option('--json', 'print the result as JSON on stdout')
    .action(
      action(async (flags: BuildFlags) => {
        const size = sizeOption(flags.size);
        const seed = intOption('seed', flags.seed, 1);
        const jobs = intOption('jobs', flags.jobs, 2);
        const started = Date.now();
        const reporter = progressReporter();
        let result: Awaited<ReturnType<typeof buildCorpus>>;
        try {
          result = await buildCorpus(
            { size, seed, jobs, out: flags.out, cleanDir: flags.cleanDir, noiseDir: flags.noiseDir, speakerPattern: flags.speakerPattern },
            reporter.onEvent,
          );
        } finally {
          reporter.stop();
        }
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        if (flags.json) {
          const { dir, generated, reused, upToDate, manifest } = result;
          process.stdout.write(JSON.stringify({ dir, generated, reused, upToDate, seconds: Number(secs), speech: manifest.speech.length, noise: manifest.noise.length, mixtures: manifest.mixtures.length, rejected: manifest.rejected }, null, 2) + '\n');
          return;
        }
        const state = result.upToDate ? 'up to date, nothing to do' : `${result.generated} job(s) run, ${result.reused} reused`;
        process.stdout.write(`${summary(result.dir, result.manifest)}\n${state} (${secs} s)\n`);
      }),
    );

  data
    .command('info [dir]')
    .description('summarise a corpus: files and minutes per split')
    .option('--size <size>', 'the built-in corpus of this size, when no dir is given', 'small')
    .option('--seed <n>', 'and this seed', '1')
    .action(
      action((dir: string | undefined, flags: { size: string; seed?: string }) => {
        const corpusDir = dir ?? defaultCorpusDir(sizeOption(flags.size), intOption('seed', flags.seed, 1));
        const { manifest } = loadCorpus(corpusDir);
        process.stdout.write(summary(corpusDir, manifest) + '\n');
      }),
    );
}
