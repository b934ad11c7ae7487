/** The report's plots render to SVG in Node through Vega, and the Pareto front is the non-dominated set. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deltaVsFlashSpec, paretoFront, renderSvg, sdrVsLatencySpec, type PlotPoint } from '../../src/report/plots.js';

const point = (profile: string, structure: string, sparsity: number, flashKB: number, deltaSdr: number, latency: number): PlotPoint => ({
  profile, structure, board: 'sim', sparsity, sdr: 12 + deltaSdr, deltaSdr, flashKB, latency, latencyLabel: 'modelled cycles', pareto: false,
});
const POINTS = [
  point('dense-int8', 'dense', 0, 930, 0, 100),
  point('weight-70', 'weight', 0.7, 580, -0.1, 60),
  point('weight-90', 'weight', 0.9, 220, -1.1, 30),
  point('block-90', 'block', 0.9, 130, -3.9, 15),
  point('offline-70', 'offline', 0.7, 580, -2.6, 60),
];

test('the Pareto front keeps exactly the points nothing beats on both cost and quality', () => {
  const front = paretoFront(POINTS, (p) => p.flashKB, (p) => p.deltaSdr);
  assert.deepEqual([...front].map((p) => p.profile).sort(), ['block-90', 'dense-int8', 'weight-70', 'weight-90']);
});

test('a plot renders as SVG with its axis titles, one mark per point and the reference line label', async () => {
  const svg = await renderSvg(deltaVsFlashSpec(POINTS, { denseInt8Sdr: 12, floatSdr: 12.1 }));
  assert.match(svg, /^<svg/);
  assert.match(svg, /flash kB \(image \+ model, measured on the board\)/);
  assert.match(svg, /ΔSDR vs dense-int8 \(dB\)/);
  assert.match(svg, />dense-int8</);
  assert.match(svg, />float</);
  for (const s of ['weight', 'block', 'offline']) assert.match(svg, new RegExp(`>${s}<`), `legend has ${s}`);
  assert.doesNotMatch(svg, />undefined</, 'the reference lines add no legend entry');
  const latency = await renderSvg(sdrVsLatencySpec(POINTS, { denseInt8Sdr: 12 }));
  assert.match(latency, /network latency per frame: modelled cycles/);
});
