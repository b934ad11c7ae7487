/** `hil doctor`: each external tool hil uses, found or missing, with the command that fixes it. */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import chalk from 'chalk';
import type { Command } from 'commander';
import { repoPath } from '../util/paths.js';
import { action } from './common.js';

interface Tool {
  name: string;
  check: string;
  debian: string[];
  group: string;
  for: string;
}

export function loadTools(): Tool[] {
  return JSON.parse(readFileSync(repoPath('scripts', 'deps.json'), 'utf8')).tools;
}

export function isPresent(tool: Tool): boolean {
  try {
    execSync(tool.check, { stdio: 'ignore', shell: '/bin/bash', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

async function tfjsBackend(): Promise<{ ok: boolean; detail: string }> {
  try {
    // @ts-expect-error: optional dependency, absent on machines that cannot download libtensorflow
    await import('@tensorflow/tfjs-node');
    return { ok: true, detail: 'tfjs-node (native)' };
  } catch {
    return { ok: true, detail: 'tfjs + wasm backend (tfjs-node not installed: training is slower)' };
  }
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('list the external tools hil uses, found or missing, and how to install what is missing')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const rows = loadTools().map((t) => ({
          name: t.name,
          for: t.for,
          found: isPresent(t),
          fix: `apt-get install -y ${t.debian.join(' ')}`,
        }));
        const tf = await tfjsBackend();
        if (opts.json) {
          process.stdout.write(JSON.stringify({ tools: rows, tensorflow: tf }, null, 2) + '\n');
          return;
        }
        for (const r of rows) {
          const state = r.found ? chalk.green('found  ') : chalk.red('missing');
          process.stdout.write(`${state} ${r.name.padEnd(26)} ${chalk.dim(r.for)}${r.found ? '' : `\n        fix: ${r.fix}`}\n`);
        }
        process.stdout.write(`${chalk.green('found  ')} ${'training backend'.padEnd(26)} ${chalk.dim(tf.detail)}\n`);
      }),
    );
}
