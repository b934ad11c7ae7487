/**
 * `hil sweep`: a baseline's compressed models (one per profile) on one or more boards over a clip set,
 * every job a `hil run` of its own under <out>/runs/<board>/<profile>/, every row gathered in
 * <out>/rows.jsonl for `hil report`. Rerunning the same command resumes. Compressing is not part of a
 * sweep (yet): each profile's compressed model must exist under <model>/compressed/<profile>/.
 */
import { relative } from 'node:path';
import chalk from 'chalk';
import type { Command } from 'commander';
import { farmExecutor } from '../farm/coordinator.js';
import { parseQueueUrl } from '../farm/connection.js';
import { parseInstances, planSweep } from '../sweep/plan.js';
import { runSweep, type SweepEvent } from '../sweep/sweep.js';
import { exitOnInterrupt } from '../util/interrupt.js';
import { action, intOption } from './common.js';

interface SweepCliOptions {
  model: string;
  profiles: string;
  boards: string;
  audio?: string;
  clean?: string;
  limit?: string;
  instances?: string;
  out: string;
  queue?: string;
  artifacts?: string;
  returnAudio?: boolean;
}

export function register(program: Command): void {
  program
    .command('sweep')
    .description("run a baseline's compressed models (profiles × boards) over a clip set into one store for `hil report`")
    .requiredOption('--model <dir>', 'float baseline directory with compressed/<profile>/ models (e.g. models/se-small)')
    .requiredOption('--profiles <list>', "comma-separated profile names or globs over profiles/ (e.g. 'dense-int8,weight-*')")
    .requiredOption('--boards <list>', 'comma-separated board names or board files (e.g. sim)')
    .requiredOption('--out <dir>', 'sweep directory: rows.jsonl and runs/<board>/<profile>/')
    .option('--audio <dir>', 'directory of noisy WAV clips (default: the built-in corpus, test split)')
    .option('--clean <dir>', 'directory of clean references with the same file names')
    .option('--limit <n>', 'only the first n clips')
    .option('--instances <list>', 'board instances run at once, e.g. sim=2 (default 1 per board)')
    .option('--queue <url>', 'run the jobs on a board farm (docs/farm.md): its Redis, redis:// or rediss://; "env" reads HIL_REDIS_URL')
    .option('--artifacts <dir>', 'with --queue: pass models and clips through this shared directory instead of Redis')
    .option('--return-audio', "with --queue: bring each clip's enhanced audio back into <out>/audio/")
    .action(
      action(async (opts: SweepCliOptions) => {
        const plan = planSweep({
          model: opts.model,
          profiles: opts.profiles,
          boards: opts.boards
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
          audio: opts.audio,
          clean: opts.clean,
          limit: opts.limit === undefined ? undefined : intOption('limit', opts.limit, 0),
          instances: parseInstances(opts.instances),
        });
        // With --queue the jobs run on the farm's workers; their rows come into the same store.
        const queue = opts.queue === undefined ? null : parseQueueUrl(opts.queue);
        const executor = queue ? farmExecutor({ queue, artifacts: opts.artifacts, returnAudio: opts.returnAudio }) : undefined;
        const rel = (p: string) => relative(process.cwd(), p) || '.';
        let done = 0;
        const forgetInterrupt = exitOnInterrupt(() => `hil: interrupted: ${done}/${plan.jobs.length} jobs done; finished clips are kept in ${rel(opts.out)}; rerun the same command to resume`);
        const onEvent = (e: SweepEvent) => {
          const w = (s: string) => process.stderr.write(s + '\n');
          if (e.type === 'start') w(`hil: sweep of ${e.jobs} jobs (${plan.profiles.length} profiles × ${plan.boards.length} boards) into ${rel(e.out)}${e.storedRows ? `, resuming with ${e.storedRows} rows stored` : ''}`);
          if (e.type === 'note') w(chalk.dim(`hil: ${e.job ? `${e.job.board}/${e.job.profile}: ` : ''}${e.text}`));
          if (e.type === 'job-done') {
            done++;
            w(`hil: [${done}/${plan.jobs.length}] ${e.job.board}#${e.instance} ${e.job.profile}: ${e.clips} clips (${e.added} new rows), ${e.bitExact ? 'bit-exact' : chalk.red('NOT bit-exact')}, ${e.seconds.toFixed(1)} s`);
          }
          if (e.type === 'job-failed') w(chalk.red(`hil: ${e.job.board}#${e.instance} ${e.job.profile} failed: ${'line' in e.error ? (e.error as { line(): string }).line() : e.error.message}`));
        };
        let summary: Awaited<ReturnType<typeof runSweep>>;
        try {
          summary = await runSweep(plan, opts.out, onEvent, executor);
        } finally {
          forgetInterrupt();
        }
        process.stdout.write(
          `sweep: ${summary.done}/${summary.jobs} jobs done, ${summary.failed.length} failed; ${summary.rows} rows (${summary.added} new) in ${rel(summary.rowsPath)}\nreport: hil report ${rel(opts.out)}\n`,
        );
        if (summary.failed.length > 0) process.exitCode = 1;
      }),
    );
}
