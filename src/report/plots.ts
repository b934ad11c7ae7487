/**
 * The report's plots, as Vega-Lite specifications rendered to SVG in Node by Vega itself (no browser, no
 * canvas: the 'none' renderer lays the scene out and serialises SVG). Each plot draws one series per
 * pruning structure, rings the Pareto front, and draws dense-int8 (and float, when known) as reference
 * lines, so that "how much quality for how much size or speed" reads off one picture.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One (model, profile, board) of a sweep, reduced to what the plots need. */
export interface PlotPoint {
  profile: string;
  structure: string;
  board: string;
  sparsity: number;
  /** Mean SDR over the clips, and the paired difference from dense-int8 on the same clips (dB). */
  sdr: number;
  deltaSdr: number;
  flashKB: number;
  /** Network latency per frame in the board's unit, and what kind of figure it is. */
  latency: number;
  latencyLabel: string;
  pareto: boolean;
}

export interface ReferenceLines {
  denseInt8Sdr?: number;
  floatSdr?: number;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Marks the points no other point beats: none with at least its quality (`better` larger) at no more cost
 * (`cost` smaller), strictly better in one. O(n²), for a sweep's few dozen points.
 */
export function paretoFront<T>(points: readonly T[], cost: (p: T) => number, quality: (p: T) => number): Set<T> {
  const front = new Set<T>();
  for (const p of points) {
    const dominated = points.some(
      (q) => q !== p && cost(q) <= cost(p) && quality(q) >= quality(p) && (cost(q) < cost(p) || quality(q) > quality(p)),
    );
    if (!dominated) front.add(p);
  }
  return front;
}

const STRUCTURE_ORDER = ['dense', 'weight', 'block', 'unit', 'offline'];

function scatter(points: PlotPoint[], x: { field: keyof PlotPoint; title: string; log?: boolean }, y: { field: keyof PlotPoint; title: string }, refs: { value: number; label: string }[], extra: Partial<TopLevelSpec> = {}): TopLevelSpec {
  const layers: unknown[] = [
    {
      mark: { type: 'line', point: false, strokeOpacity: 0.35 },
      encoding: { order: { field: x.field } },
    },
    {
      mark: { type: 'point', filled: true, size: 70 },
      encoding: { tooltip: [{ field: 'profile' }, { field: x.field }, { field: y.field }] },
    },
    {
      transform: [{ filter: 'datum.pareto' }],
      mark: { type: 'point', filled: false, size: 260, strokeWidth: 1.5, color: 'black' },
    },
  ];
  for (const r of refs) {
    layers.push({
      data: { values: [{ v: r.value, label: r.label }] },
      layer: [
        // color by value: the inherited structure field would add an "undefined" entry to the legend.
        { mark: { type: 'rule', strokeDash: [4, 3] }, encoding: { y: { field: 'v', type: 'quantitative' }, color: { value: 'gray' } } },
        { mark: { type: 'text', align: 'left', dx: 3, dy: -5 }, encoding: { y: { field: 'v', type: 'quantitative' }, text: { field: 'label' }, x: { value: 0 }, color: { value: 'gray' } } },
      ],
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 360,
    height: 240,
    data: { values: points as unknown as Record<string, unknown>[] },
    encoding: {
      x: { field: x.field, type: 'quantitative', title: x.title, scale: x.log ? { type: 'log' } : { zero: false } },
      y: { field: y.field, type: 'quantitative', title: y.title, scale: { zero: false } },
      color: { field: 'structure', type: 'nominal', title: 'structure', sort: STRUCTURE_ORDER },
    },
    layer: layers,
    ...extra,
  } as TopLevelSpec;
}

function refLines(refs: ReferenceLines, delta: boolean): { value: number; label: string }[] {
  const out: { value: number; label: string }[] = [];
  if (delta) {
    out.push({ value: 0, label: 'dense-int8' });
    if (refs.floatSdr !== undefined && refs.denseInt8Sdr !== undefined) out.push({ value: refs.floatSdr - refs.denseInt8Sdr, label: 'float' });
  } else {
    if (refs.denseInt8Sdr !== undefined) out.push({ value: refs.denseInt8Sdr, label: 'dense-int8' });
    if (refs.floatSdr !== undefined) out.push({ value: refs.floatSdr, label: 'float' });
  }
  return out;
}

/** ΔSDR vs dense-int8 against flash kB (log scale), Pareto front of (flash, ΔSDR). */
export function deltaVsFlashSpec(points: PlotPoint[], refs: ReferenceLines): TopLevelSpec {
  const front = paretoFront(points, (p) => p.flashKB, (p) => p.deltaSdr);
  const marked = points.map((p) => ({ ...p, pareto: front.has(p) }));
  return scatter(marked, { field: 'flashKB', title: 'flash kB (image + model, measured on the board)', log: true }, { field: 'deltaSdr', title: 'ΔSDR vs dense-int8 (dB)' }, refLines(refs, true));
}

/** SDR against network latency per frame, one plot per board: each board's axis names its kind and unit. */
export function sdrVsLatencySpec(points: PlotPoint[], refs: ReferenceLines): TopLevelSpec {
  const front = paretoFront(points, (p) => p.latency, (p) => p.sdr);
  const marked = points.map((p) => ({ ...p, pareto: front.has(p) }));
  return scatter(marked, { field: 'latency', title: `network latency per frame: ${points[0]?.latencyLabel ?? ''}` }, { field: 'sdr', title: 'SDR (dB)' }, refLines(refs, false));
}

/** ΔSDR against sparsity, one series per structure. */
export function deltaVsSparsitySpec(points: PlotPoint[], refs: ReferenceLines): TopLevelSpec {
  const marked = points.map((p) => ({ ...p, pareto: false, sparsityPct: 100 * p.sparsity }));
  return scatter(marked as PlotPoint[], { field: 'sparsityPct' as keyof PlotPoint, title: 'sparsity (% of weights pruned)' }, { field: 'deltaSdr', title: 'ΔSDR vs dense-int8 (dB)' }, refLines(refs, true));
}
