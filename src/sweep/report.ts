/**
 * `hil report <sweep out>`: reads a sweep's rows and writes, next to them, results.csv (one line per clip
 * row), summary.csv (one per board and profile) and report.html (src/report/sweepReport.ts), each replaced
 * atomically. Reading needs no lock: only complete rows are read, so a report of a running sweep shows
 * what it has so far.
 */
import { join } from 'node:path';
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
