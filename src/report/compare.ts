/**
 * Two sweeps side by side (`hil report --compare <runA> <runB>`): the answer tables and the per-profile
 * figures of each, rows matched by key — (model, board, structure) for the answer tables, (model, board,
 * profile) for profiles — with what changed from A to B. A key only one run has is listed as such, never
 * dropped. Where both runs measured the same clips, the change in SDR is a paired difference (B − A over
 * the common clips, seeded bootstrap interval, "resolved" when it excludes zero); otherwise it is the
 * difference of the means and says so. Rows are taken as plain data, as in sweepReport.ts.
 */
import { stringify } from 'csv-stringify/sync';
import { pairedDifference, type BootstrapOptions, type Interval } from './confidence.js';
import { fmt, summarizeSweep, type AnswerRow, type ProfileSummary, type SweepReport, type SweepReportRow } from './sweepReport.js';

export type Presence = 'both' | 'only A' | 'only B';

export interface ProfileChange {
  model: string;
  board: string;
  profile: string;
  structure: string;
  presence: Presence;
  a: ProfileSummary | null;
  b: ProfileSummary | null;
  /** B − A of SDR: paired over common clips when there are at least two, else the difference of the means. */
  sdrChange: (Interval & { paired: boolean; resolved: boolean }) | null;
}

export interface AnswerChange {
  table: 'compression-flash' | 'compression-nonzero' | 'speedup';
  model: string;
  board: string;
  structure: string;
  presence: Presence;
  a: AnswerRow | null;
  b: AnswerRow | null;
}

export interface SweepComparison {
  a: SweepReport;
  b: SweepReport;
  profiles: ProfileChange[];
  answers: AnswerChange[];
}

const key = (...parts: string[]) => parts.join('\u0000');

function match<T>(as: T[], bs: T[], keyOf: (t: T) => string): { k: string; a: T | null; b: T | null; presence: Presence }[] {
  const out = new Map<string, { k: string; a: T | null; b: T | null; presence: Presence }>();
  for (const a of as) out.set(keyOf(a), { k: keyOf(a), a, b: null, presence: 'only A' });
  for (const b of bs) {
    const m = out.get(keyOf(b));
    if (m) Object.assign(m, { b, presence: 'both' as const });
    else out.set(keyOf(b), { k: keyOf(b), a: null, b, presence: 'only B' });
  }
  return [...out.values()];
}

export function compareSweeps(rowsA: readonly SweepReportRow[], rowsB: readonly SweepReportRow[], options: BootstrapOptions = {}): SweepComparison {
  const a = summarizeSweep(rowsA, options);
  const b = summarizeSweep(rowsB, options);
  const clips = (rows: readonly SweepReportRow[], s: ProfileSummary) =>
    new Map(rows.filter((r) => (r.model ?? '') === s.model && r.board === s.board && r.profile === s.profile && r.sdrOut !== null).map((r) => [r.clip, r.sdrOut!]));
  const profiles: ProfileChange[] = match(a.summaries, b.summaries, (s) => key(s.model, s.board, s.profile)).map(({ a: sa, b: sb, presence }) => {
    const s = (sa ?? sb)!;
    let sdrChange: ProfileChange['sdrChange'] = null;
    if (sa && sb) {
      const paired = pairedDifference(clips(rowsA, sa), clips(rowsB, sb), options);
      if (paired.n >= 2) sdrChange = { ...paired, paired: true };
      else {
        const d = sb.sdr.mean - sa.sdr.mean;
        sdrChange = { mean: d, lo: NaN, hi: NaN, n: 0, paired: false, resolved: false };
      }
    }
    return { model: s.model, board: s.board, profile: s.profile, structure: s.structure, presence, a: sa, b: sb, sdrChange };
  });
  const answers: AnswerChange[] = [];
  for (const table of ['compression-flash', 'compression-nonzero', 'speedup'] as const) {
    const pick = (r: SweepReport) => (table === 'compression-flash' ? r.compressionFlash : table === 'compression-nonzero' ? r.compressionNonzero : r.speedup);
    for (const m of match(pick(a), pick(b), (x) => key(x.model, x.board, x.structure))) {
      const x = (m.a ?? m.b)!;
      answers.push({ table, model: x.model, board: x.board, structure: x.structure, presence: m.presence, a: m.a, b: m.b });
    }
  }
  return { a, b, profiles, answers };
}

const TABLE_TITLES: Record<AnswerChange['table'], string> = {
  'compression-flash': 'largest compression with ≤ 0.1 dB SDR loss, real flash bytes',
  'compression-nonzero': 'largest compression with ≤ 0.1 dB SDR loss, nonzero int8 weight bytes',
  speedup: 'largest speedup with ≤ 0.6 dB SDR loss (network latency)',
};

const answerCell = (r: AnswerRow | null) => (r === null ? 'not run' : r.profile === null ? 'none within the loss' : `${r.profile} ${fmt.ratio(r.value)} (${fmt.db(r.deltaSdr)} dB)`);
const signedDb = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(2)}`);
const change = (c: ProfileChange) =>
  c.sdrChange === null ? '–' : c.sdrChange.paired ? `${signedDb(c.sdrChange.mean)} [${signedDb(c.sdrChange.lo)}, ${signedDb(c.sdrChange.hi)}]${c.sdrChange.resolved ? ' resolved' : ''}` : `${signedDb(c.sdrChange.mean)} (means, clips differ)`;

function textTable(header: string[], rows: string[][]): string {
  const w = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(w[c]!)).join('  ').trimEnd();
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

const ANSWER_HEAD = ['model', 'board', 'structure', 'A', 'B', 'changed'];
const PROFILE_HEAD = ['model', 'board', 'profile', 'in', 'SDR A dB', 'SDR B dB', 'B − A dB [95 %]', 'ΔSDR vs int8 A', 'ΔSDR vs int8 B', 'speedup A', 'speedup B', 'flash × A', 'flash × B'];

function answerCells(c: AnswerChange): string[] {
  const same = c.a !== null && c.b !== null && c.a.profile === c.b.profile;
  return [c.model || '–', c.board, c.structure, answerCell(c.a), answerCell(c.b), c.presence !== 'both' ? c.presence : same ? 'no' : 'yes'];
}

function profileCells(c: ProfileChange): string[] {
  return [
    c.model || '–',
    c.board,
    c.profile,
    c.presence,
    fmt.db(c.a?.sdr.mean),
    fmt.db(c.b?.sdr.mean),
    change(c),
    signedDb(c.a?.deltaSdr?.mean),
    signedDb(c.b?.deltaSdr?.mean),
    fmt.ratio(c.a?.speedup),
    fmt.ratio(c.b?.speedup),
    fmt.ratio(c.a?.compressionFlash),
    fmt.ratio(c.b?.compressionFlash),
  ];
}

/** The comparison as plain text: the three answer tables, then every profile. */
export function comparisonText(c: SweepComparison, names: { a: string; b: string }): string {
  const parts = [`A = ${names.a}\nB = ${names.b}`];
  for (const table of ['compression-flash', 'compression-nonzero', 'speedup'] as const) {
    parts.push(`${TABLE_TITLES[table]}:\n${textTable(ANSWER_HEAD, c.answers.filter((x) => x.table === table).map(answerCells))}`);
  }
  parts.push(`every profile (B − A: paired over the clips both ran, "resolved" when the interval excludes 0):\n${textTable(PROFILE_HEAD, c.profiles.map(profileCells))}`);
  return parts.join('\n\n') + '\n';
}

/** compare.csv: one line per (model, board, profile), full precision. */
export function comparisonCsv(c: SweepComparison): string {
  const cols: [string, (p: ProfileChange) => unknown][] = [
    ['model', (p) => p.model],
    ['board', (p) => p.board],
    ['profile', (p) => p.profile],
    ['structure', (p) => p.structure],
    ['presence', (p) => p.presence],
    ['clips_a', (p) => p.a?.clips ?? ''],
    ['clips_b', (p) => p.b?.clips ?? ''],
    ['sdr_mean_a', (p) => p.a?.sdr.mean ?? ''],
    ['sdr_mean_b', (p) => p.b?.sdr.mean ?? ''],
    ['sdr_change', (p) => p.sdrChange?.mean ?? ''],
    ['sdr_change_lo', (p) => (p.sdrChange?.paired ? p.sdrChange.lo : '')],
    ['sdr_change_hi', (p) => (p.sdrChange?.paired ? p.sdrChange.hi : '')],
    ['sdr_change_paired', (p) => (p.sdrChange ? String(p.sdrChange.paired) : '')],
    ['sdr_change_resolved', (p) => (p.sdrChange ? String(p.sdrChange.resolved) : '')],
    ['delta_sdr_a', (p) => p.a?.deltaSdr?.mean ?? ''],
    ['delta_sdr_b', (p) => p.b?.deltaSdr?.mean ?? ''],
    ['speedup_a', (p) => p.a?.speedup ?? ''],
    ['speedup_b', (p) => p.b?.speedup ?? ''],
    ['compression_flash_a', (p) => p.a?.compressionFlash ?? ''],
    ['compression_flash_b', (p) => p.b?.compressionFlash ?? ''],
    ['network_latency_a', (p) => p.a?.networkLatency ?? ''],
    ['network_latency_b', (p) => p.b?.networkLatency ?? ''],
  ];
  return stringify([cols.map(([n]) => n), ...c.profiles.map((p) => cols.map(([, get]) => get(p)))]);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function htmlTable(id: string, head: string[], rows: { attrs: Record<string, string>; cells: string[] }[]): string {
  const body = rows.map((r) => `<tr ${Object.entries(r.attrs).map(([k, v]) => `data-${k}="${esc(v)}"`).join(' ')}>${r.cells.map((c, i) => `<td data-col="${esc(head[i]!)}">${esc(c)}</td>`).join('')}</tr>`);
  return `<table id="${id}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>\n${body.join('\n')}\n</tbody></table>`;
}

/** compare.html: the same tables, static and self-contained. */
export function comparisonHtml(c: SweepComparison, names: { a: string; b: string }, provenance: Record<string, string>): string {
  const answers = (['compression-flash', 'compression-nonzero', 'speedup'] as const).map(
    (table) =>
      `<h2>${esc(TABLE_TITLES[table])}</h2>\n${htmlTable(
        table,
        ANSWER_HEAD,
        c.answers.filter((x) => x.table === table).map((x) => ({ attrs: { model: x.model, board: x.board, structure: x.structure }, cells: answerCells(x) })),
      )}`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hil sweep comparison</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}
th{background:#f3f3f3}
dl{font-size:12px}dt{font-weight:bold}dd{margin:0 0 .4em 1em;font-family:monospace}
</style></head><body>
<h1>hil sweep comparison</h1>
<p>A = <code>${esc(names.a)}</code>, B = <code>${esc(names.b)}</code>. Rows are matched by (model, board, structure) in the answer tables and by (model, board, profile) below; a key only one run has says so.
B − A is paired over the clips both runs measured (95 % bootstrap interval, seeded; “resolved” when it excludes zero); without common clips it is the difference of the means.</p>
${answers.join('\n')}
<h2>Every profile</h2>
${htmlTable(
  'profiles',
  PROFILE_HEAD,
  c.profiles.map((p) => ({ attrs: { model: p.model, board: p.board, profile: p.profile }, cells: profileCells(p) })),
)}
<h2>Provenance</h2>
<dl>${Object.entries(provenance)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('')}</dl>
</body></html>
`;
}
