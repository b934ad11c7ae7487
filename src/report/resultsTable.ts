/** The table `hil run` prints: one row per clip, the means, the memory figures and the provenance line. */
import { stripVTControlCharacters as stripAnsi } from 'node:util';
import chalk from 'chalk';
import type { ClipResult, ResultsFile } from './resultsSchema.js';

const fmt = (v: number | null, digits = 2) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const fmtInt = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');

export function resultsTable(file: ResultsFile): string {
  const rows = file.rows;
  const first: ClipResult | undefined = rows[0];
  const unit = first ? `${first.latencyKind} ${first.latencyUnit}` : '';
  // Whole frame and network alone (the graph, without the STFT front end and overlap-add), same kind and unit.
  const header = [
    'clip', 'SDR in', 'SDR out', 'ΔSDR', 'ΔSI-SDR', `frame p50 (${unit})`, 'frame p99 µs', `network p50 (${unit})`, 'network p99 µs',
    'NPU µs (modelled)', 'bit-exact',
  ];
  const body = rows.map((r) => [
    r.clip,
    fmt(r.sdrNoisy),
    fmt(r.sdrOut),
    fmt(r.sdrImprovement),
    fmt(r.sisdrImprovement),
    fmtInt(r.latencyP50),
    fmt(r.latencyUsP99, 1),
    fmtInt(r.networkLatencyP50),
    fmt(r.networkLatencyUsP99, 1),
    fmt(r.modelledUsP50, 1),
    r.bitExact ? 'yes' : chalk.red('NO'),
  ]);
  const s = file.summary;
  body.push([
    chalk.bold(`mean of ${s.clips}`),
    fmt(rows.length ? rows.reduce((a, r) => a + (r.sdrNoisy ?? 0), 0) / rows.length : null),
    fmt(s.meanSdrOut),
    fmt(s.meanSdrImprovement),
    fmt(s.meanSisdrImprovement),
    '',
    '',
    '',
    '',
    fmt(s.modelledUsP50Mean, 1),
    `${s.bitExactClips}/${s.clips}`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => stripAnsi(b[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] + c.length - stripAnsi(c).length) : c.padStart(widths[i] + c.length - stripAnsi(c).length))).join('  ');
  const mem = first
    ? `memory (${first.memorySource}): SRAM ${fmtInt(first.sramBytes)} B (static ${fmtInt(first.sramStaticBytes)} + arena ${fmtInt(first.arenaBytes)} + stack ${fmtInt(first.stackHighWaterBytes)}), flash ${fmtInt(first.flashBytes)} B (image ${fmtInt(first.flashImageBytes)} + model ${fmtInt(first.flashModelBytes)})`
    : '';
  const p = file.provenance;
  return [
    chalk.dim(`board ${p.board} (${p.boardBackend}) · model ${p.modelName} [${p.modelSha256.slice(0, 12)}] · profile ${p.profile} · firmware ${p.firmwareBuildId}`),
    chalk.bold(line(header)),
    ...body.slice(0, -1).map(line),
    line(body[body.length - 1]),
    chalk.dim(mem),
  ].join('\n');
}

