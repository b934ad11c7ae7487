/**
 * Scoring on the host (stage 6): SDR and SI-SDR of a directory of enhanced WAVs against the clean ones of
 * the same names, and, given the noisy inputs, the improvement over them; `hil score` prints it.
 * Definitions and output formats: docs/metrics.md.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import chalk from 'chalk';
import { stringify } from 'csv-stringify/sync';
import { readWavMono, type MonoAudio } from '../data/wav.js';
import { scorePair } from '../metrics/index.js';
import { HilError } from '../util/errors.js';

export interface ScoreRow {
  file: string;
  sdr: number;
  sisdr: number;
  sdrNoisy?: number;
  sisdrNoisy?: number;
  sdrImprovement?: number;
  sisdrImprovement?: number;
}

export interface ScoreReport {
  clean: string;
  estimate: string;
  noisy: string | null;
  files: ScoreRow[];
  /** Arithmetic means over `files` of every figure. */
  mean: Omit<ScoreRow, 'file'>;
  /** Estimate files with no clean file of the same name: listed, not scored. */
  unmatched: string[];
}

export interface ScoreOptions {
  clean: string;
  estimate: string;
  noisy?: string;
}

const FIGURES = ['sdr', 'sisdr', 'sdrNoisy', 'sisdrNoisy', 'sdrImprovement', 'sisdrImprovement'] as const;

/** CSV columns, named like the run results' (src/report/resultsSchema.ts). */
const CSV_COLUMNS: [string, keyof ScoreRow][] = [
  ['file', 'file'],
  ['sdr_db', 'sdr'],
  ['sisdr_db', 'sisdr'],
];
const CSV_NOISY_COLUMNS: [string, keyof ScoreRow][] = [
  ['sdr_noisy_db', 'sdrNoisy'],
  ['sisdr_noisy_db', 'sisdrNoisy'],
  ['sdr_improvement_db', 'sdrImprovement'],
  ['sisdr_improvement_db', 'sisdrImprovement'],
];

function wavFiles(dir: string, option: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new HilError(`--${option} ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, `pass a directory of WAV files`);
  }
  return names.filter((n) => /\.wav$/i.test(n) && statSync(join(dir, n)).isFile()).sort();
}

function requireAll(clean: string[], have: Set<string>, dir: string, cleanDir: string, option: string): void {
  const missing = clean.filter((f) => !have.has(f));
  if (missing.length === 0) return;
  const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length - 5} more)` : '');
  throw new HilError(
    `--${option} ${dir} lacks ${missing.length} of the ${clean.length} files in ${cleanDir}: ${shown}`,
    `files are paired by name: give each ${option} file its clean file's name`,
  );
}

/** Reads the file scored against `clean`; a different rate is refused rather than silently resampled. */
function readAgainst(clean: MonoAudio, cleanPath: string, otherPath: string): MonoAudio {
  const other = readWavMono(otherPath);
  if (other.sampleRate !== clean.sampleRate) {
    throw new HilError(`${otherPath} is ${other.sampleRate} Hz but ${cleanPath} is ${clean.sampleRate} Hz`, 'score files at the same sample rate (convert one, e.g. with sox)');
  }
  return other;
}

function meanOf(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Scores every clean file against the estimate (and noisy file) of the same name. */
export function scoreDirs(opts: ScoreOptions, onProgress?: (done: number, total: number) => void): ScoreReport {
  const clean = wavFiles(opts.clean, 'clean');
  if (clean.length === 0) throw new HilError(`--clean ${opts.clean} holds no .wav files`, 'pass the directory of clean reference WAVs');
  const estimates = wavFiles(opts.estimate, 'estimate');
  requireAll(clean, new Set(estimates), opts.estimate, opts.clean, 'estimate');
  if (opts.noisy !== undefined) requireAll(clean, new Set(wavFiles(opts.noisy, 'noisy')), opts.noisy, opts.clean, 'noisy');
  const cleanSet = new Set(clean);

  const files: ScoreRow[] = [];
  clean.forEach((name, i) => {
    const cleanPath = join(opts.clean, name);
    const estPath = join(opts.estimate, name);
    const ref = readWavMono(cleanPath);
    const est = readAgainst(ref, cleanPath, estPath);
    const s = scorePair(ref.samples, est.samples, { reference: cleanPath, estimate: estPath });
    const row: ScoreRow = { file: name, sdr: s.sdr, sisdr: s.sisdr };
    if (opts.noisy !== undefined) {
      const noisyPath = join(opts.noisy, name);
      const noisy = readAgainst(ref, cleanPath, noisyPath);
      const n = scorePair(ref.samples, noisy.samples, { reference: cleanPath, estimate: noisyPath });
      Object.assign(row, { sdrNoisy: n.sdr, sisdrNoisy: n.sisdr, sdrImprovement: s.sdr - n.sdr, sisdrImprovement: s.sisdr - n.sisdr });
    }
    files.push(row);
    onProgress?.(i + 1, clean.length);
  });

  const mean: Omit<ScoreRow, 'file'> = { sdr: NaN, sisdr: NaN };
  for (const k of FIGURES) {
    const values = files.map((r) => r[k]).filter((v): v is number => v !== undefined);
    if (values.length) mean[k] = meanOf(values);
  }
  return { clean: opts.clean, estimate: opts.estimate, noisy: opts.noisy ?? null, files, mean, unmatched: estimates.filter((f) => !cleanSet.has(f)) };
}

export function toCsv(report: ScoreReport): string {
  const cols = report.noisy === null ? CSV_COLUMNS : [...CSV_COLUMNS, ...CSV_NOISY_COLUMNS];
  return stringify([cols.map(([name]) => name), ...report.files.map((r) => cols.map(([, key]) => r[key]))]);
}

export function toTable(report: ScoreReport): string {
  const withNoisy = report.noisy !== null;
  const head = ['file', 'SDR', 'SI-SDR', ...(withNoisy ? ['noisy SDR', 'noisy SI-SDR', 'SDRi', 'SI-SDRi'] : [])];
  const cells = (label: string, r: Omit<ScoreRow, 'file'>) => [
    label,
    ...[r.sdr, r.sisdr, ...(withNoisy ? [r.sdrNoisy, r.sisdrNoisy, r.sdrImprovement, r.sisdrImprovement] : [])].map((v) => (v ?? NaN).toFixed(2)),
  ];
  const body = report.files.map((r) => cells(r.file, r));
  const foot = cells(`mean (${report.files.length} files)`, report.mean);
  const widths = head.map((h, c) => Math.max(h.length, foot[c].length, ...body.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  return [chalk.bold(line(head)) + chalk.dim('   (dB)'), ...body.map(line), rule, chalk.bold(line(foot))].join('\n') + '\n';
}

