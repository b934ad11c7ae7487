/** `hil report <sweep out>`: results.csv, summary.csv and a self-contained report.html from a sweep's rows. */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { writeSweepReport } from '../sweep/report.js';
import { action } from './common.js';

export function register(program: Command): void {
  program
    .command('report')
    .description('write results.csv, summary.csv and report.html (tables, plots, provenance) for a `hil sweep` output directory')
    .argument('<out>', 'the --out directory of a hil sweep')
    .action(
      action(async (out: string) => {
        const { files, rows, report } = await writeSweepReport(out);
        const rel = (p: string) => relative(process.cwd(), p) || '.';
        const lines = report.compressionFlash.map((a) => {
          const nz = report.compressionNonzero.find((b) => b.board === a.board && b.structure === a.structure);
          const sp = report.speedup.find((b) => b.board === a.board && b.structure === a.structure);
          const f = (v: number | null) => (v === null ? '–' : `${v.toFixed(1)}×`);
          return `  ${a.board} ${a.structure}: compression ${f(a.value)} flash / ${f(nz?.value ?? null)} nonzero weights (≤ 0.1 dB), speedup ${f(sp?.value ?? null)} (≤ 0.6 dB, ${report.latency[a.board]})`;
        });
        process.stdout.write(`report of ${rows} rows:\n${lines.join('\n')}\n${rel(files.html)}, ${rel(files.csv)}, ${rel(files.summary)}\n`);
      }),
    );
}
