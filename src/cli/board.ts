/**
 * `hil board list`: the board files in boards/, the backend each would use on this machine, what its
 * latency figures mean, and any that are unusable. `hil board probe`: the serial ports here, for a
 * `serial` board's launch.port or --port.
 */
import chalk from 'chalk';
import type { Command } from 'commander';
import { probePorts } from '../board/port.js';
import { describeBackend, listBoards } from '../board/registry.js';
import { action } from './common.js';

/** Terminal lines stay within this many columns. */
const WIDTH = 100;

/** Shortens `text` to `n` columns, with an ellipsis. */
function clip(text: string, n: number): string {
  return text.length <= n ? text : n <= 1 ? text.slice(0, n) : `${text.slice(0, n - 1)}…`;
}

export function register(program: Command): void {
  const board = program.command('board').description('the boards hil can run on (boards/*.json) and the serial ports here');
  board
    .command('list')
    .description('list the boards, the backend each would use here, and what their latency figures mean')
    .option('--json', 'print JSON: the full record of each board')
    .action(
      action(async (opts: { json?: boolean }) => {
        const boards = listBoards();
        const rows = await Promise.all(
          boards.map(async (b) => (b.file ? { listing: b, backend: await describeBackend(b.file, b.path) } : { listing: b, backend: null })),
        );
        if (opts.json) {
          const records = rows.map(({ listing: b, backend }) =>
            b.file
              ? { name: b.name, path: b.path, launch: b.file.launch.kind, backend, latency: b.file.latency, memoryLabel: b.file.memory_label, description: b.file.description, file: b.file }
              : { name: b.name, path: b.path, error: b.error },
          );
          process.stdout.write(JSON.stringify(records, null, 2) + '\n');
          return;
        }
        // name 16 | kind 13 | backend 9 | latency 22 | the rest: the backend's detail or why it cannot run
        for (const { listing: b, backend } of rows) {
          if (!b.file || !backend) {
            process.stdout.write(`${chalk.red(clip(b.name, 16).padEnd(16))} ${chalk.red('unusable')}: ${clip(b.error ?? '', WIDTH - 27)}\n`);
            continue;
          }
          const latency = `${b.file.latency.kind} ${b.file.latency.unit}`;
          const head = `${clip(b.name, 16).padEnd(16)} ${clip(b.file.launch.kind, 13).padEnd(13)} ${clip(backend.backend, 9).padEnd(9)} ${latency.padEnd(22)} `;
          const detail = clip(backend.available ? backend.detail : `✗ ${backend.detail}`, WIDTH - head.length);
          process.stdout.write(`${chalk.bold(head.slice(0, 16))}${head.slice(16)}${backend.available ? chalk.dim(detail) : chalk.yellow(detail)}\n`);
        }
        if (!boards.length) process.stdout.write('no board files in boards/\n');
      }),
    );
  board
    .command('probe')
    .description("list the serial ports here with USB VID:PID, serial number and /dev/serial/by-id/ path (for a serial board's --port)")
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const ports = await probePorts();
        if (opts.json) {
          process.stdout.write(JSON.stringify(ports, null, 2) + '\n');
          return;
        }
        if (!ports.length) {
          process.stdout.write('no serial ports found\n');
          return;
        }
        for (const p of ports) {
          const usb = p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : '-';
          const head = `${clip(p.path, 20).padEnd(20)} ${usb.padEnd(9)} ${clip(p.serialNumber ?? '-', 24).padEnd(24)} `;
          const byId = p.byId[0] ?? (p.manufacturer ? `(${p.manufacturer})` : '');
          process.stdout.write(`${head}${chalk.dim(clip(byId, WIDTH - head.length))}\n`);
        }
      }),
    );
}
