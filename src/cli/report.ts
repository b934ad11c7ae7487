/**
 * `hil report <sweep out>`: results.csv, summary.csv and a self-contained report.html from a sweep's rows.
 * `hil report --compare <runA> <runB> [--out <dir>]`: the two sweeps' answer tables and profiles as a diff
 * on stdout, and with --out also compare.csv and compare.html there.
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { writeSweepComparison, writeSweepReport } from '../sweep/report.js';
import { HilError } from '../util/errors.js';
import { action } from './common.js';

export function register(program: Command): void {
  program
    .command('report')
    .description('write results.csv, summary.csv and report.html (tables, plots, provenance) for a `hil sweep` output directory, or compare two sweeps')
    .argument('[out]', 'the --out directory of a hil sweep')
    .option('--compare <runs...>', 'compare two sweep directories (A then B): answer tables and profiles matched by key, B − A')
    .option('--out <dir>', 'with --compare: also write compare.csv and compare.html into this directory')
    .action(
      action(async (out: string | undefined, opts: { compare?: string[]; out?: string }) => {
        const rel = (p: string) => relative(process.cwd(), p) || '.';
        if (opts.compare !== undefined) {
          if (opts.compare.length !== 2 || out !== undefined) throw new HilError(`--compare takes exactly two sweep directories, got ${[...opts.compare, ...(out === undefined ? [] : [out])].length}`, 'hil report --compare runs/a runs/b [--out dir]');
          const { text, files } = writeSweepComparison(opts.compare[0]!, opts.compare[1]!, opts.out);
          process.stdout.write(text + (files ? `${rel(files.html)}, ${rel(files.csv)}\n` : ''));
          return;
        }
        if (opts.out !== undefined) throw new HilError('--out is for --compare; a report is written into the sweep directory', 'hil report runs/x');
        if (out === undefined) throw new HilError('hil report needs a sweep directory, or --compare <runA> <runB>', 'hil report runs/x');
        const { files, rows, report } = await writeSweepReport(out);
        const lines = report.compressionFlash.map((a) => {
          const same = (b: { model: string; board: string; structure: string }) => b.model === a.model && b.board === a.board && b.structure === a.structure;
          const nz = report.compressionNonzero.find(same);
          const sp = report.speedup.find(same);
          const f = (v: number | null) => (v === null ? '–' : `${v.toFixed(1)}×`);
          return `  ${a.model ? `${a.model} ` : ''}${a.board} ${a.structure}: compression ${f(a.value)} flash / ${f(nz?.value ?? null)} nonzero weights (≤ 0.1 dB), speedup ${f(sp?.value ?? null)} (≤ 0.6 dB, ${report.latency[a.board]})`;
        });
        process.stdout.write(`report of ${rows} rows:\n${lines.join('\n')}\n${rel(files.html)}, ${rel(files.csv)}, ${rel(files.summary)}\n`);
      }),
    );
}
