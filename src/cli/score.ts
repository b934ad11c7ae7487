/** `hil score`: scores a directory of enhanced WAVs (src/run/score.ts) and prints a table, JSON or CSV. */
import type { Command } from 'commander';
import { scoreDirs, toCsv, toTable } from '../run/score.js';
import { writeFileAtomic } from '../util/fsx.js';
import { action } from './common.js';

export function register(program: Command): void {
  program
    .command('score')
    .description('SDR (BSS Eval v3) and SI-SDR of enhanced WAVs against clean WAVs of the same names')
    .requiredOption('--clean <dir>', 'clean reference WAVs')
    .requiredOption('--estimate <dir>', 'enhanced WAVs, named like the clean ones')
    .option('--noisy <dir>', 'the noisy inputs, named like the clean ones: adds their scores and the improvement')
    .option('--json', 'print JSON instead of a table')
    .option('--out <csv>', 'also write the per-file scores as CSV')
    .action(
      action((opts: { clean: string; estimate: string; noisy?: string; json?: boolean; out?: string }) => {
        const tty = process.stderr.isTTY;
        const report = scoreDirs(opts, tty ? (done, total) => process.stderr.write(`\rscoring ${done}/${total}`) : undefined);
        if (tty) process.stderr.write('\r\x1b[K');
        if (report.unmatched.length) {
          process.stderr.write(`hil: note: ${report.unmatched.length} file(s) in ${opts.estimate} have no clean counterpart and were not scored: ${report.unmatched.slice(0, 5).join(', ')}${report.unmatched.length > 5 ? ', …' : ''}\n`);
        }
        if (opts.out) {
          writeFileAtomic(opts.out, toCsv(report));
          process.stderr.write(`hil: wrote ${opts.out}\n`);
        }
        // JSON has no infinity; JSON.stringify writes an infinite score (an exact copy) as null.
        process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : toTable(report));
      }),
    );
}
