/** `hil farm status`: the workers of a board farm, its board queues and its latest failures (docs/farm.md). */
import type { Command } from 'commander';
import { connect, parseQueueUrl } from '../farm/connection.js';
import { farmStatus, formatStatus } from '../farm/status.js';
import { action } from './common.js';

export function register(program: Command): void {
  const farm = program.command('farm').description('a board farm: workers on several hosts taking sweep jobs from one queue (docs/farm.md)');
  farm
    .command('status')
    .description('list workers, the boards they own, queued/running/finished jobs and failures')
    .requiredOption('--queue <url>', 'the farm\'s Redis: redis://host:port/db or rediss:// (TLS); "env" reads HIL_REDIS_URL')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { queue: string; json?: boolean }) => {
        const queue = parseQueueUrl(opts.queue);
        const client = await connect(queue, { name: 'hil-farm-status' });
        try {
          const status = await farmStatus(client, queue);
          process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status, Math.min(100, process.stdout.columns ?? 100)));
        } finally {
          client.disconnect();
        }
      }),
    );
}
