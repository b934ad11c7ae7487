/**
 * `hil report <sweep out>`: reads a sweep's rows and writes, next to them, results.csv (one line per clip
 * row), summary.csv (one per board and profile) and report.html (src/report/sweepReport.ts), each replaced
 * atomically. Reading needs no lock: only complete rows are read, so a report of a running sweep shows
 * what it has so far. `--compare` sets two sweeps side by side (src/report/compare.ts).
 */
import { join, resolve } from 'node:path';
import { compareSweeps, comparisonCsv, comparisonHtml, comparisonText, type SweepComparison } from '../report/compare.js';
import { renderReportHtml, rowsCsv, summarizeSweep, summaryCsv, type SweepReport } from '../report/sweepReport.js';
import { writeFileAtomic } from '../util/fsx.js';
import { HilError } from '../util/errors.js';
import { toolVersions } from '../util/version.js';
import { readSweep } from './sweep.js';

export interface WrittenReport {
  report: SweepReport;
  files: { csv: string; summary: string; html: string };
  rows: number;
}

export async function writeSweepReport(out: string): Promise<WrittenReport> {
  const { meta, rows, path } = readSweep(out);
  if (rows.length === 0) throw new HilError(`${path} has no rows yet`, 'run the sweep first');
  const report = summarizeSweep(rows);
  const versions = toolVersions();
  const models = [...new Map(rows.map((r) => [`${r.profile}`, r.modelSha256])).entries()].map(([p, h]) => `${p}=${h.slice(0, 16)}`).join(' ');
  const firmware = [...new Set(rows.map((r) => `${r.board}=${r.firmwareSha256.slice(0, 16)}`))].join(' ');
  const provenance: Record<string, string> = {
    'sweep rows': `${path} (${rows.length} rows)`,
    baseline: `${meta.baselineDir} (model.json sha256 ${meta.baselineSha256})`,
    audio: meta.audioDir ?? 'built-in corpus, test split',
    clean: meta.cleanDir ?? (meta.audioDir ? 'none' : 'built-in corpus, test split'),
    'compressed models (sha256)': models,
    'firmware images (sha256)': firmware,
    boards: [...new Set(rows.map((r) => `${r.board} (${r.backend})`))].join(', '),
    versions: Object.entries(versions)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
    generated: new Date().toISOString(),
  };
  const files = { csv: join(out, 'results.csv'), summary: join(out, 'summary.csv'), html: join(out, 'report.html') };
  writeFileAtomic(files.csv, rowsCsv(rows));
  writeFileAtomic(files.summary, summaryCsv(report));
  writeFileAtomic(files.html, await renderReportHtml(report, provenance));
  return { report, files, rows: rows.length };
}

export interface WrittenComparison {
  comparison: SweepComparison;
  text: string;
  /** Written only when an output directory is given. */
  files: { csv: string; html: string } | null;
}

/**
 * `hil report --compare <a> <b>`: the two sweeps' answer tables and profiles side by side (src/report/compare.ts),
 * as text; with `outDir`, also compare.csv and compare.html there (replaced atomically).
 */
export function writeSweepComparison(a: string, b: string, outDir?: string): WrittenComparison {
  const ra = readSweep(a);
  const rb = readSweep(b);
  for (const [dir, r] of [
    [a, ra],
    [b, rb],
  ] as const) {
    if (r.rows.length === 0) throw new HilError(`${r.path} has no rows yet`, `run the sweep into ${dir} first`);
  }
  const comparison = compareSweeps(ra.rows, rb.rows);
  const names = { a: resolve(a), b: resolve(b) };
  const text = comparisonText(comparison, names);
  let files: WrittenComparison['files'] = null;
  if (outDir !== undefined) {
    files = { csv: join(outDir, 'compare.csv'), html: join(outDir, 'compare.html') };
    const prov = (r: typeof ra) => `${r.path} (${r.rows.length} rows; baselines ${r.meta.baselines.map((x) => `${x.name}=${x.sha256.slice(0, 16)}`).join(' ')}; audio ${r.meta.audioDir ?? 'built-in corpus, test split'})`;
    const provenance = {
      A: prov(ra),
      B: prov(rb),
      versions: Object.entries(toolVersions())
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      generated: new Date().toISOString(),
    };
    writeFileAtomic(files.csv, comparisonCsv(comparison));
    writeFileAtomic(files.html, comparisonHtml(comparison, names, provenance));
  }
  return { comparison, text, files };
}
