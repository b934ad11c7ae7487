/**
 * The sweep report: per (board, profile) means with bootstrap intervals, paired ΔSDR against dense-int8,
 * and the two answer tables. The numbers in report.html's tables are read back and must equal those
 * recomputed here from the rows with the confidence functions directly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meanInterval, pairedDifference } from '../../src/report/confidence.js';
import { compareSweeps, comparisonCsv, comparisonText } from '../../src/report/compare.js';
import { fmt, renderReportHtml, rowsCsv, summarizeSweep, type SweepReportRow } from '../../src/report/sweepReport.js';

const CLIPS = ['a.wav', 'b.wav', 'c.wav', 'd.wav', 'e.wav'];
const BASE = [10, 12.5, 9, 14, 11.2];
/** profile → structure, sparsity, SDR offset per clip from dense-int8, flash, nonzero, latency. */
const PROFILES: Record<string, [string, number, number[], number, number, number]> = {
  'dense-int8': ['none', 0, [0, 0, 0, 0, 0], 280_000, 262_400, 40_000],
  'weight-70': ['weight', 0.7, [0.02, -0.03, 0.01, 0, -0.02], 140_000, 78_720, 30_000],
  'weight-90': ['weight', 0.9, [-0.05, -0.1, -0.02, -0.08, -0.1], 79_000, 26_240, 20_000],
  'weight-95': ['weight', 0.95, [-0.3, -0.5, -0.2, -0.4, -0.6], 53_000, 13_120, 15_000],
  'block-70': ['block', 0.7, [-0.2, -0.3, -0.1, -0.25, -0.15], 100_000, 78_720, 14_000],
  'block-90': ['block', 0.9, [-0.5, -0.7, -0.4, -0.6, -0.55], 50_000, 26_240, 6_000],
  'block-95': ['block', 0.95, [-1.5, -2, -1, -1.8, -1.2], 30_000, 13_120, 4_000],
};

function rows(): SweepReportRow[] {
  const out: SweepReportRow[] = [];
  for (const [profile, [structure, sparsity, offs, flash, nonzero, latency]] of Object.entries(PROFILES)) {
    CLIPS.forEach((clip, i) => {
      const sdrOut = BASE[i]! + offs[i]!;
      out.push({
        clip, profile, structure, sparsity, board: 'sim', backend: 'sim', modelSha256: `${profile}-hash`, bitExact: true,
        sdrNoisy: 3 + i, sisdrNoisy: 2 + i, sdrOut, sisdrOut: sdrOut - 1, sdrImprovement: sdrOut - (3 + i), sisdrImprovement: sdrOut - 1 - (2 + i),
        latencyKind: 'modelled', latencyUnit: 'cycles', networkLatencyP50: latency + i, flashBytes: flash + 60_000,
        modelFlashBytes: flash, nonzeroWeightBytes: nonzero, denseWeightBytes: 262_400, u55EncodedWeightBytes: Math.round(1.3 * nonzero) + 20_000,
      });
    });
  }
  return out;
}

/** The data-value of every cell of table `id`, by row key and column. */
function cells(html: string, id: string, rowAttr: string): Map<string, Record<string, string>> {
  const table = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(html);
  assert.ok(table, `table ${id}`);
  const out = new Map<string, Record<string, string>>();
  for (const tr of table[1]!.matchAll(new RegExp(`<tr data-model="([^"]*)" data-board="([^"]+)" ${rowAttr}="([^"]+)">(.*?)</tr>`, 'g'))) {
    const rec: Record<string, string> = {};
    for (const td of tr[4]!.matchAll(/<td data-col="([^"]+)" data-value="([^"]*)">/g)) if (td[1] !== 'model') rec[td[1]!] = td[2]!.replace(/&amp;/g, '&');
    out.set(`${tr[1] ? `${tr[1]}/` : ''}${tr[2]}/${tr[3]}`, rec);
  }
  return out;
}

test('report.html shows the numbers recomputed from the rows, and the answer tables pick within the loss', async () => {
  const data = rows();
  const report = summarizeSweep(data);
  const html = await renderReportHtml(report, { 'sweep rows': 'test' });
  const summary = cells(html, 'summary', 'data-profile');
  assert.equal(summary.size, Object.keys(PROFILES).length);
  const dense = new Map(data.filter((r) => r.profile === 'dense-int8').map((r) => [r.clip, r.sdrOut!]));
  for (const profile of Object.keys(PROFILES)) {
    const mine = data.filter((r) => r.profile === profile);
    const c = summary.get(`sim/${profile}`)!;
    assert.ok(c, profile);
    assert.equal(c.sdr, fmt.db(meanInterval(mine.map((r) => r.sdrOut!)).mean), `${profile} SDR`);
    assert.equal(c.sisdr, fmt.db(meanInterval(mine.map((r) => r.sisdrOut!)).mean), `${profile} SI-SDR`);
    assert.equal(c.sdr_improvement, fmt.db(meanInterval(mine.map((r) => r.sdrImprovement!)).mean));
    assert.equal(c.sisdr_improvement, fmt.db(meanInterval(mine.map((r) => r.sisdrImprovement!)).mean));
    const d = pairedDifference(dense, new Map(mine.map((r) => [r.clip, r.sdrOut!])));
    assert.equal(c.delta_sdr, fmt.db(d.mean), `${profile} ΔSDR`);
    assert.equal(c.resolved, String(d.resolved), `${profile} resolved`);
    // The interval shown is the one computed from the rows.
    const s = report.summaries.find((x) => x.profile === profile)!;
    assert.deepEqual([s.deltaSdr!.lo, s.deltaSdr!.hi], [d.lo, d.hi]);
    const [, , , flash, nonzero, latency] = PROFILES[profile]!;
    assert.equal(c.compression_flash, fmt.ratio(280_000 / flash));
    assert.equal(c.compression_nonzero, fmt.ratio(262_400 / nonzero));
    assert.equal(c.compression_u55, fmt.ratio((Math.round(1.3 * 262_400) + 20_000) / (Math.round(1.3 * nonzero) + 20_000)));
    assert.equal(c.speedup, fmt.ratio((40_000 + 2) / (latency + 2)));
  }
  // weight-90 loses 0.07 dB (≤ 0.1): the largest compression of weight pruning; block-70 loses 0.2 dB, so none.
  const flash = cells(html, 'compression-flash', 'data-structure');
  assert.deepEqual(flash.get('sim/weight'), { board: 'sim', structure: 'weight', profile: 'weight-90', value: fmt.ratio(280_000 / 79_000), delta_sdr: fmt.db(-0.07), reference: '42× at −0.1 dB (weight pruning)' });
  assert.equal(flash.get('sim/block')!.profile, '–');
  assert.equal(cells(html, 'compression-nonzero', 'data-structure').get('sim/weight')!.value, fmt.ratio(262_400 / 26_240));
  // block-90 loses 0.55 dB (≤ 0.6), block-95 1.5: the speedup is block-90's; weight-95 (0.4 dB) is weight's.
  const speed = cells(html, 'speedup', 'data-structure');
  assert.equal(speed.get('sim/block')!.profile, 'block-90');
  assert.equal(speed.get('sim/block')!.value, fmt.ratio(40_002 / 6_002));
  assert.equal(speed.get('sim/block')!.reference, '6.7× at −0.59 dB (block pruning)');
  assert.equal(speed.get('sim/weight')!.profile, 'weight-95');
  assert.match(html, /modelled cycles/);
  // Self-contained: inline SVG plots, no script, nothing fetched.
  assert.equal((html.match(/<svg/g) ?? []).length, 3);
  assert.doesNotMatch(html, /<script|<link |src="http/);
  // results.csv: one line per row plus the header.
  assert.equal(rowsCsv(data).trim().split('\n').length, data.length + 1);
  assert.match(rowsCsv(data).split('\n')[0]!, /,u55_encoded_weight_bytes_modelled,/);
  // Rows of a sweep run before the figure existed: no U55 ratio, the rest unchanged.
  const old = summarizeSweep(data.map(({ u55EncodedWeightBytes, ...r }) => r));
  assert.ok(old.summaries.every((x) => x.compressionU55 === null && x.compressionNonzero !== null));
});

test('rows of two models are summarized and answered per model: each model is paired with its own dense-int8', () => {
  const a = rows().map((r) => ({ ...r, model: 'se-a' }));
  // se-b: the same clips, every profile 1 dB worse than se-a's except dense-int8, which is 1 dB better.
  const b = rows().map((r) => ({ ...r, model: 'se-b', sdrOut: r.sdrOut! + (r.profile === 'dense-int8' ? 1 : -1) }));
  const report = summarizeSweep([...a, ...b]);
  assert.equal(report.summaries.length, 2 * Object.keys(PROFILES).length);
  const w90 = (m: string) => report.summaries.find((s) => s.model === m && s.profile === 'weight-90')!;
  assert.ok(Math.abs(w90('se-a').deltaSdr!.mean - -0.07) < 1e-9);
  assert.ok(Math.abs(w90('se-b').deltaSdr!.mean - -2.07) < 1e-9);
  const weight = (m: string) => report.compressionFlash.find((x) => x.model === m && x.structure === 'weight')!;
  assert.equal(weight('se-a').profile, 'weight-90');
  assert.equal(weight('se-b').profile, null);
});

test('--compare matches rows by key: answer tables and profiles as B − A, paired over common clips, one-sided keys listed', () => {
  const a = rows();
  // B: weight-90 loses 0.2 dB more on every clip (so no longer within 0.1 dB), block-95 is not run, and a
  // profile A lacks (weight-80) is added.
  const b = rows()
    .filter((r) => r.profile !== 'block-95')
    .map((r) => (r.profile === 'weight-90' ? { ...r, sdrOut: r.sdrOut! - 0.2 } : r));
  b.push(...rows().filter((r) => r.profile === 'weight-70').map((r) => ({ ...r, profile: 'weight-80', sparsity: 0.8, modelSha256: 'weight-80-hash', modelFlashBytes: 100_000 })));
  const c = compareSweeps(a, b);
  const p = (profile: string) => c.profiles.find((x) => x.profile === profile)!;
  assert.equal(p('weight-90').presence, 'both');
  assert.equal(p('weight-90').sdrChange!.paired, true);
  assert.ok(Math.abs(p('weight-90').sdrChange!.mean - -0.2) < 1e-9);
  assert.equal(p('weight-90').sdrChange!.resolved, true);
  assert.equal(p('dense-int8').sdrChange!.mean, 0);
  assert.equal(p('dense-int8').sdrChange!.resolved, false);
  assert.equal(p('block-95').presence, 'only A');
  assert.equal(p('weight-80').presence, 'only B');
  const weight = c.answers.find((x) => x.table === 'compression-flash' && x.structure === 'weight')!;
  assert.equal(weight.a!.profile, 'weight-90');
  assert.equal(weight.b!.profile, 'weight-80');
  const text = comparisonText(c, { a: 'runs/a', b: 'runs/b' });
  assert.match(text, /sim\s+weight\s+weight-90 3\.54× \(-0\.07 dB\)\s+weight-80 [0-9.]+× \([0-9.-]+ dB\)\s+yes/);
  assert.match(text, /sim\s+block-95\s+only A/);
  assert.match(text, /weight-90\s+both\s+\S+\s+\S+\s+-0\.20 \[-0\.20, -0\.20\] resolved/);
  assert.equal(comparisonCsv(c).trim().split('\n').length, 1 + 8);
});
