/** `hil run`: a model on a board over a set of clips; prints a results table, writes results.json/csv. */
import { relative } from 'node:path';
import chalk from 'chalk';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { runBenchmark, type BenchmarkEvent } from '../sweep/benchmark.js';
import type { ClipResult, ResultsFile } from '../report/results.js';
import { action, intOption } from './common.js';

interface RunOptions {
  board: string;
  model?: string;
  audio?: string;
  clean?: string;
  out?: string;
  overwrite?: boolean;
  limit?: string;
  json?: boolean;
}

const fmt = (v: number | null, digits = 2) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const fmtInt = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');

export function resultsTable(file: ResultsFile): string {
  const rows = file.rows;
  const first: ClipResult | undefined = rows[0];
  const unit = first ? `${first.latencyKind} ${first.latencyUnit}` : '';
  // Whole frame and network alone (the graph, without the STFT front end and overlap-add), same kind and unit.
  const header = [
    'clip', 'SDR in', 'SDR out', 'ΔSDR', 'ΔSI-SDR', `frame p50 (${unit})`, 'frame p99 µs', `network p50 (${unit})`, 'network p99 µs',
    'NPU µs (modelled)', 'bit-exact',
  ];
  const body = rows.map((r) => [
    r.clip,
    fmt(r.sdrNoisy),
    fmt(r.sdrOut),
    fmt(r.sdrImprovement),
    fmt(r.sisdrImprovement),
    fmtInt(r.latencyP50),
    fmt(r.latencyUsP99, 1),
    fmtInt(r.networkLatencyP50),
    fmt(r.networkLatencyUsP99, 1),
    fmt(r.modelledUsP50, 1),
    r.bitExact ? 'yes' : chalk.red('NO'),
  ]);
  const s = file.summary;
  body.push([
    chalk.bold(`mean of ${s.clips}`),
    fmt(rows.length ? rows.reduce((a, r) => a + (r.sdrNoisy ?? 0), 0) / rows.length : null),
    fmt(s.meanSdrOut),
    fmt(s.meanSdrImprovement),
    fmt(s.meanSisdrImprovement),
    '',
    '',
    '',
    '',
    fmt(s.modelledUsP50Mean, 1),
    `${s.bitExactClips}/${s.clips}`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => stripAnsi(b[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] + c.length - stripAnsi(c).length) : c.padStart(widths[i] + c.length - stripAnsi(c).length))).join('  ');
  const mem = first
    ? `memory (${first.memorySource}): SRAM ${fmtInt(first.sramBytes)} B (static ${fmtInt(first.sramStaticBytes)} + arena ${fmtInt(first.arenaBytes)} + stack ${fmtInt(first.stackHighWaterBytes)}), flash ${fmtInt(first.flashBytes)} B (image ${fmtInt(first.flashImageBytes)} + model ${fmtInt(first.flashModelBytes)})`
    : '';
  const p = file.provenance;
  return [
    chalk.dim(`board ${p.board} (${p.boardBackend}) · model ${p.modelName} [${p.modelSha256.slice(0, 12)}] · profile ${p.profile} · firmware ${p.firmwareBuildId}`),
    chalk.bold(line(header)),
    ...body.slice(0, -1).map(line),
    line(body[body.length - 1]),
    chalk.dim(mem),
  ].join('\n');
}

function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}

export function register(program: Command): void {
  program
    .command('run')
    .description('stream clips through a model on a board; score, time and check what the device returned')
    .requiredOption('--board <name>', 'board name (boards/*.json) or path to a board file')
    .option('--model <path>', 'model: a .hilm blob, a model.json, or a model directory (default: the pretrained se-small)')
    .option('--audio <dir>', 'directory of noisy WAV clips (default: the built-in corpus, test split)')
    .option('--clean <dir>', 'directory of clean references with the same file names')
    .option('--out <dir>', 'output directory for results.json, results.csv and enhanced/ (default: runs/<board>-<model>-<hash>)')
    .option('--limit <n>', 'only the first n clips')
    .option('--overwrite', 'replace results already in --out instead of resuming')
    .option('--json', 'print the results as JSON on stdout (no table, no progress bar)')
    .action(
      action(async (opts: RunOptions) => {
        const interactive = process.stderr.isTTY && !opts.json;
        const bar = new cliProgress.SingleBar(
          { format: ' {bar} {percentage}% | {value}/{total} frames | {clip}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        let done = 0;
        let outDir = opts.out ?? '';
        const onEvent = (e: BenchmarkEvent) => {
          if (e.type === 'note') process.stderr.write(chalk.dim(`hil: ${e.text}\n`));
          if (e.type === 'start') {
            outDir = relative(process.cwd(), e.outDir) || '.';
            if (e.skipped) process.stderr.write(chalk.dim(`hil: resuming: ${e.skipped} clips already done\n`));
            if (interactive && e.frames > 0) bar.start(e.frames, 0, { clip: '' });
            else if (!opts.json) process.stderr.write(`hil: ${e.clips} clips, ${e.frames} frames on ${e.board}\n`);
          }
          if (e.type === 'frame' && interactive) bar.update(++done, { clip: e.clip });
          if (e.type === 'clip' && !interactive && !opts.json) process.stderr.write(`hil: ${e.row.clip} done\n`);
        };
        let file: ResultsFile;
        try {
          file = await runBenchmark(
            { board: opts.board, model: opts.model, audio: opts.audio, clean: opts.clean, out: opts.out, overwrite: opts.overwrite, limit: opts.limit === undefined ? undefined : intOption('limit', opts.limit, 0) },
            onEvent,
          );
        } finally {
          bar.stop();
        }
        if (opts.json) process.stdout.write(JSON.stringify(file, null, 2) + '\n');
        else process.stdout.write(resultsTable(file) + `\nresults: ${outDir}/results.json, ${outDir}/results.csv\n`);
        if (file.summary.bitExactClips !== file.summary.clips) {
          process.stderr.write(`hil: ${file.summary.clips - file.summary.bitExactClips} clips differ from the host engine: a firmware or engine bug\n`);
          process.exitCode = 1;
        }
      }),
    );
}
