/**
 * report.html in a real browser: headless Chromium loads the page from disk and takes a screenshot; its
 * console must stay silent (no 'Uncaught' error, no console message at all: the page has no script and
 * loads nothing). The scan itself is checked on a page that does throw. Chromium is in scripts/deps.json's
 * core group; without it on PATH the test is skipped and says so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { renderReportHtml, summarizeSweep, type SweepReportRow } from '../../src/report/sweepReport.js';

const CHROMIUM = ['chromium', 'chromium-browser'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-browser-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Loads a page headless; returns the console lines Chromium logged and the screenshot path. */
function load(page: string): { consoleLines: string[]; screenshot: string; status: number | null; stderr: string } {
  const profile = mkdtempSync(join(dir, 'profile-'));
  const screenshot = `${page}.png`;
  const r = spawnSync(
    CHROMIUM!,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      `--user-data-dir=${profile}`,
      '--enable-logging=stderr',
      '--v=0',
      '--window-size=1400,2400',
      `--screenshot=${screenshot}`,
      `file://${page}`,
    ],
    { encoding: 'utf8', timeout: 90_000 },
  );
  const consoleLines = r.stderr.split('\n').filter((l) => /Uncaught|:CONSOLE/.test(l));
  return { consoleLines, screenshot, status: r.status, stderr: r.stderr };
}

function rows(): SweepReportRow[] {
  const out: SweepReportRow[] = [];
  const profiles: [string, string, number, number, number][] = [
    ['dense-int8', 'none', 0, 0, 40_000],
    ['weight-90', 'weight', 0.9, -0.08, 20_000],
    ['block-90', 'block', 0.9, -0.5, 6_000],
  ];
  for (const [profile, structure, sparsity, delta, latency] of profiles) {
    for (let i = 0; i < 4; i++) {
      const sdrOut = 10 + i + delta * (1 + 0.1 * i);
      out.push({
        clip: `c${i}.wav`, profile, structure, sparsity, board: 'sim', backend: 'sim', modelSha256: `${profile}-hash`, bitExact: true,
        sdrNoisy: 2 + i, sisdrNoisy: 1 + i, sdrOut, sisdrOut: sdrOut - 1, sdrImprovement: sdrOut - 2 - i, sisdrImprovement: sdrOut - 2 - i,
        latencyKind: 'modelled', latencyUnit: 'cycles', networkLatencyP50: latency, flashBytes: 300_000 * (1 - sparsity) + 60_000,
        modelFlashBytes: Math.round(280_000 * (1 - 0.8 * sparsity)), nonzeroWeightBytes: Math.round(262_400 * (1 - sparsity)), denseWeightBytes: 262_400,
      });
    }
  }
  return out;
}

test('report.html renders in headless Chromium with a silent console', { skip: CHROMIUM ? false : 'chromium is not installed (scripts/deps.json core group)' }, async () => {
  // The scan sees an error when there is one.
  const bad = join(dir, 'bad.html');
  writeFileSync(bad, '<!doctype html><html><body><script>throw new Error("deliberate")</script></body></html>');
  const b = load(bad);
  assert.ok(b.consoleLines.some((l) => /Uncaught Error: deliberate/.test(l)), `the console scan missed a thrown error:\n${b.stderr}`);

  const page = join(dir, 'report.html');
  writeFileSync(page, await renderReportHtml(summarizeSweep(rows()), { 'sweep rows': 'test' }));
  const r = load(page);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.consoleLines, []);
  assert.ok(existsSync(r.screenshot) && statSync(r.screenshot).size > 20_000, 'a screenshot with something on it');
});
