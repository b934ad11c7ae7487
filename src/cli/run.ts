/** `hil run`: a model on a board over a set of clips; prints a results table, writes results.json/csv. */
import { relative } from 'node:path';
import chalk from 'chalk';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { checkLimit, runBenchmark, type BenchmarkEvent } from '../run/benchmark.js';
import type { LinkMode } from '../link/session.js';
import type { ResultsFile } from '../report/resultsSchema.js';
import { resultsTable } from '../report/resultsTable.js';
import { exitOnInterrupt } from '../util/interrupt.js';
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
  port?: string;
  link?: string;
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
    .option('--link <mode>', 'how audio crosses the line: stream (samples both ways, the default), crc (only a CRC-32 of each output frame comes back, checked against the host engine), preload (clips placed in memory by the emulator\'s loader; corstone-300 under QEMU), preload-batch (preload, up to 25 frames per request)', 'stream')
    .option('--port <port>', 'serial board: its port, a path, /dev/serial/by-id/... or VID:PID[:serial] (overrides the board file)')
    .action(
      action(async (opts: RunOptions) => {
        const interactive = process.stderr.isTTY && !opts.json;
        const bar = new cliProgress.SingleBar(
          { format: ' {bar} {percentage}% | {value}/{total} frames | {clip}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        let done = 0;
        let outDir = opts.out ?? '';
        let rowsPath = '';
        let finished = 0;
        const limit = opts.limit === undefined ? undefined : intOption('limit', opts.limit, 0);
        checkLimit(limit);
        // Ctrl-C: the board and its temporary files are cleaned up by their own handlers, the rows stored so far
        // are complete on disk; this line says so and the exit code is 130.
        const forgetInterrupt = exitOnInterrupt(() => {
          bar.stop();
          return rowsPath
            ? `hil: interrupted: ${finished} finished clips kept in ${relative(process.cwd(), rowsPath)}; rerun the same command to resume`
            : 'hil: interrupted before any clip ran; nothing was written';
        });
        const onEvent = (e: BenchmarkEvent) => {
          if (e.type === 'note') process.stderr.write(chalk.dim(`hil: ${e.text}\n`));
          if (e.type === 'clip') finished++;
          if (e.type === 'start') {
            finished = e.skipped;
            rowsPath = e.rowsPath;
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
            { board: opts.board, model: opts.model, audio: opts.audio, clean: opts.clean, out: opts.out, overwrite: opts.overwrite, limit, port: opts.port, link: opts.link as LinkMode },
            onEvent,
          );
        } finally {
          bar.stop();
          forgetInterrupt();
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
