/**
 * The report of a sweep (`hil report <sweep out>`): from the sweep's clip rows, taken as plain data (this
 * module knows neither the sweep nor the run that made them), per (board, profile) the mean and 95 %
 * bootstrap interval of SDR, SI-SDR and their improvements over the noisy input, the paired ΔSDR against
 * dense-int8 on the same clips and board, compression and speedup against dense-int8; and the two answer
 * tables per structure and board:
 *
 * - the largest compression with at most 0.1 dB SDR loss against dense-int8, counted both as real flash
 *   bytes of the model blob and as nonzero int8 weight bytes (what a sparse-weights paper counts);
 * - the largest speedup (dense-int8 network latency per frame / the profile's) with at most 0.6 dB loss,
 *   labelled with the board's latency kind (modelled, emulated or measured) and unit.
 *
 * "Loss" is the mean paired ΔSDR (a point estimate); each table shows its interval and whether it is
 * resolved (the interval excludes zero). The figures they are set beside are the reference ones: 42×
 * compression at −0.1 dB for weight pruning, 6.7× speedup at −0.59 dB for block pruning.
 */
import { stringify } from 'csv-stringify/sync';
import { meanInterval, pairedDifference, type BootstrapOptions, type Interval } from './confidence.js';
import { deltaVsFlashSpec, deltaVsSparsitySpec, renderSvg, sdrVsLatencySpec, type PlotPoint } from './plots.js';

/** What the report reads of a sweep row (src/sweep/sweep.ts SweepRow has these and more). */
export interface SweepReportRow {
  clip: string;
  /** The baseline (model) the row's compressed model was made from; rows without one form one model, ''. */
  model?: string;
  profile: string;
  structure: string;
  sparsity: number;
  board: string;
  backend: string;
  modelSha256: string;
  bitExact: boolean;
  sdrNoisy: number | null;
  sisdrNoisy: number | null;
  sdrOut: number | null;
  sisdrOut: number | null;
  sdrImprovement: number | null;
  sisdrImprovement: number | null;
  latencyKind: string;
  latencyUnit: string;
  networkLatencyP50: number;
  /** Image + model flash reported by the board. */
  flashBytes: number;
  modelFlashBytes: number;
  nonzeroWeightBytes: number;
  denseWeightBytes: number;
  /** Modelled Ethos-U55 encoded weight bytes (src/engine/u55Weights.ts); absent from sweeps run before it. */
  u55EncodedWeightBytes?: number;
}

export const REFERENCE_PROFILE = 'dense-int8';
export const COMPRESSION_MAX_LOSS_DB = 0.1;
export const SPEEDUP_MAX_LOSS_DB = 0.6;
/** The figures the answer tables are set beside, by structure. */
export const REFERENCE_FIGURES = {
  compression: { weight: '42× at −0.1 dB (weight pruning)' } as Record<string, string>,
  speedup: { block: '6.7× at −0.59 dB (block pruning)' } as Record<string, string>,
};

export interface ProfileSummary {
  /** The baseline's name ('' for rows that name none). */
  model: string;
  board: string;
  backend: string;
  profile: string;
  structure: string;
  sparsity: number;
  modelSha256: string;
  clips: number;
  bitExactClips: number;
  sdr: Interval;
  sisdr: Interval;
  sdrImprovement: Interval;
  sisdrImprovement: Interval;
  /** Paired ΔSDR (this − dense-int8) over the clips both ran on this board; null without a dense-int8 run. */
  deltaSdr: (Interval & { unmatched: number; resolved: boolean }) | null;
  /** Mean over clips of the per-frame network latency median, in `latencyUnit`. */
  networkLatency: number;
  latencyKind: string;
  latencyUnit: string;
  modelFlashBytes: number;
  nonzeroWeightBytes: number;
  /** Modelled; null when the sweep's rows do not carry it. */
  u55EncodedWeightBytes: number | null;
  boardFlashBytes: number;
  /** dense-int8's over this profile's, or null without a dense-int8 run on the board. */
  compressionFlash: number | null;
  compressionNonzero: number | null;
  /** dense-int8's modelled Ethos-U55 encoded weight bytes over this profile's. */
  compressionU55: number | null;
  speedup: number | null;
}

export interface AnswerRow {
  model: string;
  board: string;
  structure: string;
  /** The profile chosen, or null when none of the structure stays within the loss. */
  profile: string | null;
  value: number | null;
  deltaSdr: number | null;
  reference: string;
}

export interface SweepReport {
  summaries: ProfileSummary[];
  /** Largest compression within COMPRESSION_MAX_LOSS_DB, by real flash bytes and by nonzero weight bytes. */
  compressionFlash: AnswerRow[];
  compressionNonzero: AnswerRow[];
  /** Largest speedup within SPEEDUP_MAX_LOSS_DB; `latency` names its kind and unit per board. */
  speedup: AnswerRow[];
  latency: Record<string, string>;
}

const STRUCTURE_ORDER = ['none', 'weight', 'block', 'unit', 'offline'];

const finite = (values: (number | null)[]) => values.filter((v): v is number => v !== null && Number.isFinite(v));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

function byClip(rows: SweepReportRow[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) if (r.sdrOut !== null) m.set(r.clip, r.sdrOut);
  return m;
}

export function summarizeSweep(rows: readonly SweepReportRow[], options: BootstrapOptions = {}): SweepReport {
  const groups = new Map<string, SweepReportRow[]>();
  for (const r of rows) {
    const k = `${r.model ?? ''}\u0000${r.board}\u0000${r.profile}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const first = (g: SweepReportRow[]) => g[0]!;
  const denseOf = (model: string, board: string) => groups.get(`${model}\u0000${board}\u0000${REFERENCE_PROFILE}`) ?? null;
  const summaries: ProfileSummary[] = [];
  for (const g of groups.values()) {
    const r0 = first(g);
    const dense = denseOf(r0.model ?? '', r0.board);
    const lat = mean(g.map((r) => r.networkLatencyP50));
    const denseLat = dense ? mean(dense.map((r) => r.networkLatencyP50)) : null;
    summaries.push({
      model: r0.model ?? '',
      board: r0.board,
      backend: r0.backend,
      profile: r0.profile,
      structure: r0.structure,
      sparsity: r0.sparsity,
      modelSha256: r0.modelSha256,
      clips: g.length,
      bitExactClips: g.filter((r) => r.bitExact).length,
      sdr: meanInterval(finite(g.map((r) => r.sdrOut)), options),
      sisdr: meanInterval(finite(g.map((r) => r.sisdrOut)), options),
      sdrImprovement: meanInterval(finite(g.map((r) => r.sdrImprovement)), options),
      sisdrImprovement: meanInterval(finite(g.map((r) => r.sisdrImprovement)), options),
      deltaSdr: dense ? pairedDifference(byClip(dense), byClip(g), options) : null,
      networkLatency: lat,
      latencyKind: r0.latencyKind,
      latencyUnit: r0.latencyUnit,
      modelFlashBytes: r0.modelFlashBytes,
      nonzeroWeightBytes: r0.nonzeroWeightBytes,
      u55EncodedWeightBytes: r0.u55EncodedWeightBytes ?? null,
      boardFlashBytes: mean(g.map((r) => r.flashBytes)),
      compressionFlash: dense ? first(dense).modelFlashBytes / r0.modelFlashBytes : null,
      compressionNonzero: dense ? first(dense).nonzeroWeightBytes / r0.nonzeroWeightBytes : null,
      compressionU55: dense && first(dense).u55EncodedWeightBytes && r0.u55EncodedWeightBytes ? first(dense).u55EncodedWeightBytes! / r0.u55EncodedWeightBytes : null,
      speedup: denseLat !== null ? denseLat / lat : null,
    });
  }
  summaries.sort(
    (a, b) =>
      a.model.localeCompare(b.model) ||
      a.board.localeCompare(b.board) ||
      STRUCTURE_ORDER.indexOf(a.structure) - STRUCTURE_ORDER.indexOf(b.structure) ||
      a.sparsity - b.sparsity ||
      a.profile.localeCompare(b.profile, 'en', { numeric: true }),
  );

  const answer = (value: (s: ProfileSummary) => number | null, maxLoss: number, refs: Record<string, string>): AnswerRow[] => {
    const out: AnswerRow[] = [];
    const pairs = [...new Map(summaries.map((s) => [`${s.model}\u0000${s.board}`, { model: s.model, board: s.board }])).values()];
    for (const { model, board } of pairs) {
      const mine = summaries.filter((s) => s.model === model && s.board === board);
      const structures = [...new Set(mine.filter((s) => s.structure !== 'none').map((s) => s.structure))];
      for (const structure of structures) {
        const ok = mine.filter((s) => s.structure === structure && s.deltaSdr && s.deltaSdr.n > 0 && s.deltaSdr.mean >= -maxLoss && value(s) !== null);
        const best = ok.reduce<ProfileSummary | null>((b, s) => (b === null || value(s)! > value(b)! ? s : b), null);
        out.push({ model, board, structure, profile: best?.profile ?? null, value: best ? value(best) : null, deltaSdr: best?.deltaSdr?.mean ?? null, reference: refs[structure] ?? '' });
      }
    }
    return out;
  };
  const latency: Record<string, string> = {};
  for (const s of summaries) latency[s.board] ??= `${s.latencyKind} ${s.latencyUnit}`;
  return {
    summaries,
    compressionFlash: answer((s) => s.compressionFlash, COMPRESSION_MAX_LOSS_DB, REFERENCE_FIGURES.compression),
    compressionNonzero: answer((s) => s.compressionNonzero, COMPRESSION_MAX_LOSS_DB, REFERENCE_FIGURES.compression),
    speedup: answer((s) => s.speedup, SPEEDUP_MAX_LOSS_DB, REFERENCE_FIGURES.speedup),
    latency,
  };
}

/** How every number appears in the HTML and the summary CSV: the test reads them back with these. */
export const fmt = {
  db: (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2)),
  ratio: (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(2)}×`),
  int: (v: number) => String(Math.round(v)),
};

const ROW_COLUMNS: [string, (r: SweepReportRow) => unknown][] = [
  ['model', (r) => r.model ?? ''],
  ['board', (r) => r.board],
  ['backend', (r) => r.backend],
  ['profile', (r) => r.profile],
  ['structure', (r) => r.structure],
  ['sparsity', (r) => r.sparsity],
  ['clip', (r) => r.clip],
  ['bit_exact', (r) => String(r.bitExact)],
  ['sdr_noisy_db', (r) => r.sdrNoisy],
  ['sisdr_noisy_db', (r) => r.sisdrNoisy],
  ['sdr_out_db', (r) => r.sdrOut],
  ['sisdr_out_db', (r) => r.sisdrOut],
  ['sdr_improvement_db', (r) => r.sdrImprovement],
  ['sisdr_improvement_db', (r) => r.sisdrImprovement],
  ['latency_kind', (r) => r.latencyKind],
  ['latency_unit', (r) => r.latencyUnit],
  ['network_latency_p50', (r) => r.networkLatencyP50],
  ['board_flash_bytes', (r) => r.flashBytes],
  ['model_flash_bytes', (r) => r.modelFlashBytes],
  ['nonzero_weight_bytes', (r) => r.nonzeroWeightBytes],
  ['dense_weight_bytes', (r) => r.denseWeightBytes],
  ['u55_encoded_weight_bytes_modelled', (r) => r.u55EncodedWeightBytes ?? ''],
  ['model_sha256', (r) => r.modelSha256],
];

/** results.csv: one line per clip row of the sweep. */
export function rowsCsv(rows: readonly SweepReportRow[]): string {
  return stringify([ROW_COLUMNS.map(([n]) => n), ...rows.map((r) => ROW_COLUMNS.map(([, get]) => get(r)))]);
}

/** summary.csv: one line per (board, profile), full precision. */
export function summaryCsv(report: SweepReport): string {
  const cols: [string, (s: ProfileSummary) => unknown][] = [
    ['model', (s) => s.model],
    ['board', (s) => s.board],
    ['profile', (s) => s.profile],
    ['structure', (s) => s.structure],
    ['sparsity', (s) => s.sparsity],
    ['clips', (s) => s.clips],
    ['sdr_mean', (s) => s.sdr.mean],
    ['sdr_lo', (s) => s.sdr.lo],
    ['sdr_hi', (s) => s.sdr.hi],
    ['sisdr_mean', (s) => s.sisdr.mean],
    ['sdr_improvement_mean', (s) => s.sdrImprovement.mean],
    ['sisdr_improvement_mean', (s) => s.sisdrImprovement.mean],
    ['delta_sdr_mean', (s) => s.deltaSdr?.mean ?? ''],
    ['delta_sdr_lo', (s) => s.deltaSdr?.lo ?? ''],
    ['delta_sdr_hi', (s) => s.deltaSdr?.hi ?? ''],
    ['delta_sdr_resolved', (s) => (s.deltaSdr ? String(s.deltaSdr.resolved) : '')],
    ['compression_flash', (s) => s.compressionFlash ?? ''],
    ['compression_nonzero_weights', (s) => s.compressionNonzero ?? ''],
    ['compression_u55_encoded_modelled', (s) => s.compressionU55 ?? ''],
    ['network_latency', (s) => s.networkLatency],
    ['latency_kind', (s) => s.latencyKind],
    ['latency_unit', (s) => s.latencyUnit],
    ['speedup', (s) => s.speedup ?? ''],
  ];
  return stringify([cols.map(([n]) => n), ...report.summaries.map((s) => cols.map(([, get]) => get(s)))]);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const ci = (i: Interval) => `${fmt.db(i.mean)} <span class="ci">[${fmt.db(i.lo)}, ${fmt.db(i.hi)}]</span>`;
const td = (col: string, value: string, html = value) => `<td data-col="${col}" data-value="${esc(value)}">${html}</td>`;

function summaryTable(report: SweepReport): string {
  const head = ['model', 'board', 'profile', 'structure', 'sparsity', 'clips (bit-exact)', 'SDR dB', 'SI-SDR dB', 'SDR impr. dB', 'SI-SDR impr. dB', 'ΔSDR vs dense-int8 dB', 'resolved', 'flash ×', 'nonzero weights ×', 'U55 encoded × (modelled)', 'network latency', 'speedup'];
  const body = report.summaries.map((s) => {
    const cells = [
      td('model', s.model, esc(s.model)),
      td('board', s.board, esc(s.board)),
      td('profile', s.profile, esc(s.profile)),
      td('structure', s.structure, esc(s.structure)),
      td('sparsity', (100 * s.sparsity).toFixed(1), `${(100 * s.sparsity).toFixed(1)} %`),
      td('clips', String(s.clips), `${s.clips} (${s.bitExactClips})`),
      td('sdr', fmt.db(s.sdr.mean), ci(s.sdr)),
      td('sisdr', fmt.db(s.sisdr.mean), ci(s.sisdr)),
      td('sdr_improvement', fmt.db(s.sdrImprovement.mean), ci(s.sdrImprovement)),
      td('sisdr_improvement', fmt.db(s.sisdrImprovement.mean), ci(s.sisdrImprovement)),
      td('delta_sdr', fmt.db(s.deltaSdr?.mean), s.deltaSdr ? ci(s.deltaSdr) : '–'),
      td('resolved', s.deltaSdr ? String(s.deltaSdr.resolved) : '–', s.deltaSdr ? (s.deltaSdr.resolved ? 'yes' : 'no') : '–'),
      td('compression_flash', fmt.ratio(s.compressionFlash)),
      td('compression_nonzero', fmt.ratio(s.compressionNonzero)),
      td('compression_u55', fmt.ratio(s.compressionU55)),
      td('network_latency', fmt.int(s.networkLatency), `${fmt.int(s.networkLatency)} ${esc(s.latencyUnit)} (${esc(s.latencyKind)})`),
      td('speedup', fmt.ratio(s.speedup)),
    ];
    return `<tr data-model="${esc(s.model)}" data-board="${esc(s.board)}" data-profile="${esc(s.profile)}">${cells.join('')}</tr>`;
  });
  return `<table id="summary"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>\n${body.join('\n')}\n</tbody></table>`;
}

function answerTable(id: string, rows: AnswerRow[], valueTitle: string): string {
  const body = rows.map(
    (a) =>
      `<tr data-model="${esc(a.model)}" data-board="${esc(a.board)}" data-structure="${esc(a.structure)}">${td('model', a.model, esc(a.model))}${td('board', a.board, esc(a.board))}${td('structure', a.structure, esc(a.structure))}${td('profile', a.profile ?? '–', esc(a.profile ?? 'none within the loss'))}${td('value', fmt.ratio(a.value))}${td('delta_sdr', fmt.db(a.deltaSdr))}${td('reference', a.reference, esc(a.reference || '–'))}</tr>`,
  );
  return `<table id="${id}"><thead><tr><th>model</th><th>board</th><th>structure</th><th>profile</th><th>${valueTitle}</th><th>ΔSDR dB</th><th>reference</th></tr></thead><tbody>\n${body.join('\n')}\n</tbody></table>`;
}

export function plotPoints(report: SweepReport): (PlotPoint & { model: string })[] {
  return report.summaries
    .filter((s) => Number.isFinite(s.sdr.mean))
    .map((s) => ({
      model: s.model,
      profile: s.profile,
      structure: s.structure === 'none' ? 'dense' : s.structure,
      board: s.board,
      sparsity: s.sparsity,
      sdr: s.sdr.mean,
      deltaSdr: s.deltaSdr?.mean ?? 0,
      flashKB: s.boardFlashBytes / 1024,
      latency: s.networkLatency,
      latencyLabel: `${s.latencyKind} ${s.latencyUnit}`,
      pareto: false,
    }));
}

/** Provenance shown at the foot of the page: anything the caller records, as name → value. */
export type ReportProvenance = Record<string, string>;

/** The static, self-contained page: tables, the plots as inline SVG, provenance. No script, no fetch. */
export async function renderReportHtml(report: SweepReport, provenance: ReportProvenance): Promise<string> {
  const points = plotPoints(report);
  const plots: string[] = [];
  const pairs = [...new Map(points.map((p) => [`${p.model}\u0000${p.board}`, { model: p.model, board: p.board }])).values()];
  for (const { model, board } of pairs) {
    const pts = points.filter((p) => p.board === board && p.model === model);
    const dense = report.summaries.find((s) => s.model === model && s.board === board && s.profile === REFERENCE_PROFILE);
    const refs = dense ? { denseInt8Sdr: dense.sdr.mean } : {};
    plots.push(`<h3>${model ? `${esc(model)} on ` : ''}${esc(board)}</h3>`);
    for (const [title, spec] of [
      ['ΔSDR vs flash', deltaVsFlashSpec(pts, refs)],
      ['SDR vs network latency', sdrVsLatencySpec(pts, refs)],
      ['ΔSDR vs sparsity', deltaVsSparsitySpec(pts, refs)],
    ] as const) {
      plots.push(`<figure><figcaption>${esc(title)}</figcaption>${await renderSvg(spec)}</figure>`);
    }
  }
  const latencyNote = Object.entries(report.latency)
    .map(([b, l]) => `${esc(b)}: ${esc(l)}`)
    .join('; ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hil sweep report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f3f3f3}
td[data-col=model],td[data-col=board],td[data-col=profile],td[data-col=structure],td[data-col=reference]{text-align:left}
.ci{color:#777;font-size:11px}
figure{display:inline-block;margin:0 1em 1em 0}
dl{font-size:12px}dt{font-weight:bold}dd{margin:0 0 .4em 1em;font-family:monospace}
</style></head><body>
<h1>hil sweep report</h1>
<p>Means over clips with 95 % percentile-bootstrap intervals (seeded). ΔSDR is paired against ${REFERENCE_PROFILE} on the same clips and board; “resolved” when its interval excludes zero.
Compression is against ${REFERENCE_PROFILE}, counted three ways: real flash bytes of the model blob, nonzero int8 weight bytes, and (modelled) the weights as Vela would encode them for an Ethos-U55 (docs/compression.md).
Speedup is ${REFERENCE_PROFILE}'s network latency per frame over the profile's (${latencyNote}).</p>
<h2>Largest compression with ≤ ${COMPRESSION_MAX_LOSS_DB} dB SDR loss</h2>
<h3>by real flash bytes</h3>
${answerTable('compression-flash', report.compressionFlash, 'compression (flash bytes)')}
<h3>by nonzero int8 weight bytes</h3>
${answerTable('compression-nonzero', report.compressionNonzero, 'compression (nonzero weight bytes)')}
<h2>Largest speedup with ≤ ${SPEEDUP_MAX_LOSS_DB} dB SDR loss</h2>
<p>Network latency kind: ${latencyNote}.</p>
${answerTable('speedup', report.speedup, 'speedup (network latency)')}
<h2>Every profile</h2>
${summaryTable(report)}
<h2>Plots</h2>
${plots.join('\n')}
<h2>Provenance</h2>
<dl>${Object.entries(provenance)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('')}</dl>
</body></html>
`;
}
