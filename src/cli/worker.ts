/**
 * `hil worker`: runs on each host of a board farm (docs/farm.md), owning the boards given, and takes those
 * boards' jobs from the farm's queue until it is stopped. A stopped or killed worker's running jobs go
 * back to the queue once their locks expire (--lock-duration) and run elsewhere.
 */
import chalk from 'chalk';
import type { Command } from 'commander';
import { parseQueueUrl } from '../farm/connection.js';
import { DEFAULT_LOCK_DURATION_MS, parseRate, startWorker, type WorkerEvent } from '../farm/worker.js';
import { parseInstances } from '../sweep/plan.js';
import { HilError } from '../util/errors.js';
import { exitOnInterrupt } from '../util/interrupt.js';
import { action, intOption } from './common.js';

interface WorkerCliOptions {
  queue: string;
  boards: string;
  instances?: string;
  artifacts?: string;
  work?: string;
  lockDuration?: string;
  rate?: string;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description("take a board farm's jobs for the boards this host owns (docs/farm.md)")
    .requiredOption('--queue <url>', 'the farm\'s Redis: redis://host:port/db or rediss:// (TLS); "env" reads HIL_REDIS_URL; a password may come from REDIS_PASSWORD')
    .requiredOption('--boards <list>', 'comma-separated board names or board files this host owns (e.g. sim)')
    .option('--instances <list>', 'board instances run at once, e.g. sim=2 (default 1 per board)')
    .option('--artifacts <dir>', 'take blobs from this shared directory instead of Redis (the sweep must pass the same)')
    .option('--work <dir>', 'where fetched models, clips and run directories go (default: <tmp>/hil-worker)')
    .option('--rate <jobs/seconds>', 'start at most this many jobs per period on each board queue, across all its workers (e.g. 4/60)')
    .option('--lock-duration <ms>', `a job whose worker stops renewing its lock this long goes back to the queue (default ${DEFAULT_LOCK_DURATION_MS})`)
    .action(
      action(async (opts: WorkerCliOptions) => {
        const queue = parseQueueUrl(opts.queue);
        const rate = parseRate(opts.rate);
        const lockDurationMs = intOption('lock-duration', opts.lockDuration, DEFAULT_LOCK_DURATION_MS);
        if (lockDurationMs < 1000) throw new HilError(`--lock-duration must be at least 1000 ms, got ${lockDurationMs}`);
        const boards = opts.boards
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        if (boards.length === 0) throw new HilError('--boards is empty', 'e.g. --boards sim');
        const w = (s: string) => process.stderr.write(`${s}\n`);
        const onEvent = (e: WorkerEvent) => {
          if (e.type === 'ready') {
            const owned = e.boards.map((b) => `${b.name}×${b.instances} (${b.backend}, firmware ${b.firmwareBuildId.slice(0, 12)})`).join(', ');
            w(`hil worker ${e.id}: taking jobs for ${owned} from ${queue.shown}`);
          }
          if (e.type === 'job-start') w(`hil worker: ${e.board}/${e.profile} started (job ${e.jobId.slice(0, 10)}, attempt ${e.attempt})`);
          if (e.type === 'job-done') w(`hil worker: ${e.board}/${e.profile} done: ${e.clips} clips in ${e.seconds.toFixed(1)} s`);
          if (e.type === 'job-failed') w(chalk.red(`hil worker: ${e.board}/${e.profile} failed${e.final ? '' : ' (it will be retried)'}: ${e.error}`));
          if (e.type === 'note') w(chalk.dim(`hil worker: ${e.text}`));
        };
        exitOnInterrupt(() => 'hil worker: stopped; its running jobs go back to the queue when their locks expire');
        await startWorker({ queue, boards, instances: parseInstances(opts.instances), artifacts: opts.artifacts, work: opts.work, lockDurationMs, rate }, onEvent);
      }),
    );
}
