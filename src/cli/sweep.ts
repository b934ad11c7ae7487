/**
 * `hil sweep`: baselines' compressed models (one per profile) on one or more boards over a clip set, every
 * job a `hil run` of its own under <out>/runs/<board>/<model>/<profile>/, every row gathered in
 * <out>/rows.jsonl for `hil report`. A compressed model that is neither committed (matching) under
 * <model>/compressed/<profile>/ nor cached is compressed first, in this process, into the cache
 * ($HIL_HOME/compressed/). The sweep comes from flags or from a sweep file (`sweeps/*.json`); flags
 * given with a file override its boards, limit and instances. Rerunning the same command resumes.
 *
 * Progress: one line per job on stderr; on a terminal also an overall bar with an ETA (a pipe or CI log
 * gets the lines only, each with the ETA).
 */
import { relative } from 'node:path';
import chalk from 'chalk';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { farmExecutor } from '../farm/coordinator.js';
import { parseQueueUrl } from '../farm/connection.js';
import { readSweepFile } from '../sweep/file.js';
import { parseInstances, prepareSweep, type PrepareEvent, type SweepOptions } from '../sweep/plan.js';
import { localExecutor, runSweep, type SweepEvent } from '../sweep/sweep.js';
import { HilError } from '../util/errors.js';
import { exitOnInterrupt } from '../util/interrupt.js';
import { action, intOption } from './common.js';

interface SweepCliOptions {
  file?: string;
  model?: string;
  profiles?: string;
  boards?: string;
  audio?: string;
  clean?: string;
  split?: string;
  corpus?: string;
  limit?: string;
  instances?: string;
  port?: string;
  seed?: string;
  out: string;
  queue?: string;
  artifacts?: string;
  returnAudio?: boolean;
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** The sweep the command line asks for: a sweep file with flags over it, or flags alone. */
export function sweepOptions(fileArg: string | undefined, opts: SweepCliOptions): SweepOptions {
  if (fileArg !== undefined && opts.file !== undefined && fileArg !== opts.file) throw new HilError(`two sweep files: ${fileArg} and --file ${opts.file}`, 'give one');
  const file = fileArg ?? opts.file;
  const limit = opts.limit === undefined ? undefined : intOption('limit', opts.limit, 0);
  const seed = opts.seed === undefined ? undefined : intOption('seed', opts.seed, 1);
  const instances = opts.instances === undefined ? undefined : parseInstances(opts.instances);
  if (file !== undefined) {
    const base = readSweepFile(file);
    for (const [flag, v] of [
      ['--model', opts.model],
      ['--profiles', opts.profiles],
      ['--audio', opts.audio],
      ['--clean', opts.clean],
      ['--split', opts.split],
      ['--corpus', opts.corpus],
    ] as const) {
      if (v !== undefined) throw new HilError(`${flag} cannot be given with a sweep file (${file})`, 'edit the sweep file, or leave the file out and give every flag; --boards, --limit, --instances and --seed override the file');
    }
    const boards = opts.boards === undefined ? base.boards : list(opts.boards);
    // Instances of boards the flags dropped are dropped too.
    const fileInstances = Object.fromEntries(Object.entries(base.instances ?? {}).filter(([b]) => boards.includes(b)));
    return { ...base, boards, limit: limit ?? base.limit, instances: instances ?? fileInstances, seed: seed ?? base.seed };
  }
  const missing = (['model', 'profiles', 'boards'] as const).filter((k) => opts[k] === undefined);
  if (missing.length > 0) throw new HilError(`hil sweep needs a sweep file or ${missing.map((m) => `--${m}`).join(', ')}`, 'e.g. hil sweep sweeps/se-small-sim.json --out runs/x, or hil sweep --model models/se-small --profiles dense-int8 --boards sim --out runs/x');
  const split = opts.split as SweepOptions['split'];
  return { model: list(opts.model!), profiles: opts.profiles!, boards: list(opts.boards!), audio: opts.audio, clean: opts.clean, split, corpus: opts.corpus, limit, instances, seed };
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** `--port`: one port for a sweep of one board, or board=port pairs. */
export function parsePorts(text: string, boards: string[]): Record<string, string> {
  if (!text.includes('=')) {
    if (boards.length !== 1) throw new HilError(`--port ${text}: the sweep has ${boards.length} boards`, 'give board=port pairs, e.g. --port nucleo-h743zi=/dev/ttyACM0');
    return { [boards[0]!]: text };
  }
  const ports: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    const board = pair.slice(0, eq);
    if (eq <= 0 || !boards.includes(board)) throw new HilError(`--port ${pair}: not board=port for a board of this sweep (${boards.join(', ')})`, 'e.g. --port nucleo-h743zi=/dev/ttyACM0');
    ports[board] = pair.slice(eq + 1);
  }
  return ports;
}

export function register(program: Command): void {
  program
    .command('sweep')
    .description('run baselines\' compressed models (profiles × boards) over a clip set into one store for `hil report`, compressing what is missing')
    .argument('[file]', 'a sweep file (sweeps/*.json): models × profiles × boards × clip set')
    .option('--file <file>', 'the sweep file (same as the argument)')
    .option('--model <dirs>', 'float baseline directories, comma-separated (e.g. models/se-small)')
    .option('--profiles <list>', "comma-separated profile names or globs over profiles/ (e.g. 'dense-int8,weight-*')")
    .option('--boards <list>', 'comma-separated board names or board files (e.g. sim)')
    .requiredOption('--out <dir>', 'sweep directory: rows.jsonl and runs/<board>/<model>/<profile>/')
    .option('--audio <dir>', 'directory of noisy WAV clips (default: the built-in corpus, test split)')
    .option('--clean <dir>', 'directory of clean references with the same file names')
    .option('--split <name>', 'without --audio: the built-in corpus split, test (8 clips, the default) or val (32); with --corpus, real-test too')
    .option('--corpus <size|dir>', 'without --audio: clips of this corpus instead of the built-in one (e.g. real, with --split real-test: held-out real speech)')
    .option('--limit <n>', 'only the first n clips')
    .option('--instances <list>', 'board instances run at once, e.g. sim=2 (default 1 per board)')
    .option('--seed <n>', 'seed of the compressions (default 1, as the committed models)')
    .option('--queue <url>', 'run the jobs on a board farm (docs/farm.md): its Redis, redis:// or rediss://; "env" reads HIL_REDIS_URL')
    .option('--artifacts <dir>', 'with --queue: pass models and clips through this shared directory instead of Redis')
    .option('--return-audio', "with --queue: bring each clip's enhanced audio back into <out>/audio/")
    .option('--port <list>', 'serial port of a serial board: a path, /dev/serial/by-id/..., or VID:PID[:serial]; board=port pairs, comma-separated, when the sweep has several boards')
    .action(
      action(async (fileArg: string | undefined, opts: SweepCliOptions) => {
        const options = sweepOptions(fileArg, opts);
        // With --queue the jobs run on the farm's workers; their rows come into the same store.
        const queue = opts.queue === undefined ? null : parseQueueUrl(opts.queue);
        const ports = opts.port === undefined ? {} : parsePorts(opts.port, options.boards);
        if (queue && opts.port !== undefined) throw new HilError('--port cannot be given with --queue', "a farm worker's board file names its own port");
        const executor = queue ? farmExecutor({ queue, artifacts: opts.artifacts, returnAudio: opts.returnAudio }) : localExecutor(ports);
        const rel = (p: string) => relative(process.cwd(), p) || '.';
        const err = (s: string) => process.stderr.write(s + '\n');
        const onPrepare = (e: PrepareEvent) => {
          if (e.type === 'model') {
            const what = e.source === 'committed' ? 'committed model' : e.source === 'cache-hit' ? `cached model (committed one: ${e.reason})` : `to compress (committed one: ${e.reason})`;
            err(`hil: ${e.model} ${e.profile}: ${what}, ${rel(e.dir)}`);
          }
          if (e.type === 'compress-log') err(chalk.dim(`hil: ${e.model} ${e.profile}: ${e.text}`));
          if (e.type === 'compressed') err(`hil: ${e.model} ${e.profile}: compressed in ${e.seconds.toFixed(1)} s into ${rel(e.dir)}`);
        };
        const forgetCompressInterrupt = exitOnInterrupt(() => 'hil: interrupted while compressing; finished compressions are cached, an unfinished one resumes from its checkpoint; rerun the same command');
        let plan: Awaited<ReturnType<typeof prepareSweep>>;
        try {
          plan = await prepareSweep(options, onPrepare, `hil ${process.argv.slice(2).join(' ')}`);
        } finally {
          forgetCompressInterrupt();
        }

        const jobs = plan.jobs.length;
        const interactive = process.stderr.isTTY === true;
        const multi = interactive ? new cliProgress.MultiBar({ format: 'sweep [{bar}] {percentage}% | {jobsDone}/{jobs} jobs | ETA {left} | {running}', hideCursor: true, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
        const bar = multi?.create(1000, 0, { jobsDone: 0, jobs, left: '?', running: '' }) ?? null;
        const line = (s: string) => (multi ? multi.log(s + '\n') : err(s));
        // Progress in jobs, a running job counting by its share of clips done.
        let done = 0;
        const running = new Map<string, number>();
        const t0 = Date.now();
        const progress = () => (done + [...running.values()].reduce((a, b) => a + b, 0)) / jobs;
        const eta = () => {
          const p = progress();
          return p <= 0 ? '?' : duration(((Date.now() - t0) / 1000) * ((1 - p) / p));
        };
        const jobName = (e: { job: { board: string; profile: string; model?: string }; instance: number }) => `${e.job.board}#${e.instance} ${plan.baselines && plan.baselines.length > 1 ? `${e.job.model} ` : ''}${e.job.profile}`;
        const redraw = () => bar?.update(Math.round(1000 * progress()), { jobsDone: done, jobs, left: eta(), running: [...running.keys()].join(', ') });

        // Lines logged since the last redraw are written by update(); stop() alone would drop them.
        const stopBar = () => {
          multi?.update();
          multi?.stop();
        };
        const forgetInterrupt = exitOnInterrupt(() => {
          stopBar();
          return `hil: interrupted: ${done}/${jobs} jobs done; finished clips are kept in ${rel(opts.out)}; rerun the same command to resume`;
        });
        const onEvent = (e: SweepEvent) => {
          if (e.type === 'start') line(`hil: sweep of ${e.jobs} jobs (${plan.baselines?.length ?? 1} model(s) × ${plan.profiles.length} profiles × ${plan.boards.length} boards) into ${rel(e.out)}${e.storedRows ? `, resuming with ${e.storedRows} rows stored` : ''}`);
          if (e.type === 'note') line(chalk.dim(`hil: ${e.job ? `${e.job.board}/${e.job.model ? `${e.job.model}/` : ''}${e.job.profile}: ` : ''}${e.text}`));
          if (e.type === 'job-start') running.set(jobName(e), 0);
          if (e.type === 'job-progress') running.set(jobName(e), e.total > 0 ? e.done / e.total : 0);
          if (e.type === 'job-done') {
            done++;
            running.delete(jobName(e));
            line(`hil: [${done}/${jobs}] ${jobName(e)}: ${e.clips} clips (${e.added} new rows), ${e.bitExact ? 'bit-exact' : chalk.red('NOT bit-exact')}, ${e.seconds.toFixed(1)} s${done < jobs ? `, ETA ${eta()}` : ''}`);
          }
          if (e.type === 'job-failed') {
            done++;
            running.delete(jobName(e));
            line(chalk.red(`hil: ${jobName(e)} failed: ${'line' in e.error ? (e.error as { line(): string }).line() : e.error.message}`));
          }
          redraw();
        };
        let summary: Awaited<ReturnType<typeof runSweep>>;
        try {
          summary = await runSweep(plan, opts.out, onEvent, executor);
        } finally {
          stopBar();
          forgetInterrupt();
        }
        process.stdout.write(
          `sweep: ${summary.done}/${summary.jobs} jobs done, ${summary.failed.length} failed; ${summary.rows} rows (${summary.added} new) in ${rel(summary.rowsPath)} in ${duration((Date.now() - t0) / 1000)}\nreport: hil report ${rel(opts.out)}\n`,
        );
        if (summary.failed.length > 0) process.exitCode = 1;
      }),
    );
}
