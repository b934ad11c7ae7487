/** `hil board list`: the board files in boards/, what each one measures, and any that are unusable. */
import chalk from 'chalk';
import type { Command } from 'commander';
import { listBoards } from '../board/registry.js';
import { action } from './common.js';

export function register(program: Command): void {
  const board = program.command('board').description('the boards hil can run on (boards/*.json)');
  board
    .command('list')
    .description('list the boards, their launcher and what their latency figures mean')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const boards = listBoards();
        if (opts.json) {
          const rows = boards.map((b) =>
            b.file
              ? { name: b.name, path: b.path, launch: b.file.launch.kind, latency: b.file.latency, description: b.file.description }
              : { name: b.name, path: b.path, error: b.error },
          );
          process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
          return;
        }
        for (const b of boards) {
          if (!b.file) {
            process.stdout.write(`${chalk.red(b.name.padEnd(14))} ${chalk.red('unusable')}: ${b.error}\n`);
            continue;
          }
          const latency = `${b.file.latency.kind} ${b.file.latency.unit}`;
          process.stdout.write(`${chalk.bold(b.name.padEnd(14))} ${b.file.launch.kind.padEnd(14)} ${latency.padEnd(22)} ${chalk.dim(b.file.description)}\n`);
        }
        if (!boards.length) process.stdout.write('no board files in boards/\n');
      }),
    );
}
