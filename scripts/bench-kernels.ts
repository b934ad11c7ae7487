/**
 * `npm run bench:kernels`: instructions per multiply-accumulate of the FC kernels on the Cortex-M55, from
 * the semihosting benchmark image (firmware/bench/bench.c) under QEMU's instruction counting. Figures are
 * `emulated` M55 instructions, not cycles: a gather counts once though it takes several beats on
 * silicon, and memory is free.
 *
 * Per layer shape: dense (scalar and MVE), block-sparse at 50/75/90 % sparsity for each block shape
 * (scalar and MVE), and CSR (scalar; its deltas are a serial prefix sum). Speedups are against dense MVE:
 * `ideal` is dense MACs / executed MACs; `whole layer` compares whole kernel calls, `MAC work` compares
 * what each kernel spends beyond its fixed per-layer cost (requantisation and per-row work, measured on
 * an empty layer of the same shape, and for dense from a half-width layer), i.e. how well the sparse
 * inner loop keeps up with the dense one.
 *
 *   npm run bench:kernels [-- --json]
 */
import { buildBenchImages, runBenchImage } from '../src/board/cs300bench.js';
import { HilError } from '../src/util/errors.js';

/** Instructions per 32 MHz system-counter tick under -icount shift=0 (1 ns per instruction). */
const INSTR_PER_TICK = 31.25;
const GOAL_DENSE = 0.35;
const GOAL_SPARSE_OF_IDEAL = 0.8;

interface Row {
  shape: string;
  out: number;
  inF: number;
  kernel: string;
  block: string;
  stored: number;
  all: number;
  macs: number;
  instructions: number;
}

function parse(output: string): Row[] {
  const rows: Row[] = [];
  const re = /^BENCH shape=(\d+)x(\d+) kernel=(\S+) block=(\d+x\d+) keep=(\d+)\/(\d+) macs=(\d+) ticks=(\d+)$/gm;
  for (const m of output.matchAll(re)) {
    rows.push({
      shape: `${m[1]}x${m[2]}`,
      out: Number(m[1]),
      inF: Number(m[2]),
      kernel: m[3]!,
      block: m[4]!,
      stored: Number(m[5]),
      all: Number(m[6]),
      macs: Number(m[7]),
      instructions: Number(m[8]) * INSTR_PER_TICK,
    });
  }
  return rows;
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–');
const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(0)}%` : '–');

interface Line {
  kernel: string;
  block: string;
  sparsity: string;
  macs: number;
  instructions: number;
  perMac: number;
  speedup: number;
  ideal: number;
  ofIdeal: number;
  macWorkOfIdeal: number;
}

function analyse(rows: Row[]): { shape: string; lines: Line[]; denseMve: number; goals: string[] }[] {
  const shapes = [...new Set(rows.filter((r) => r.kernel === 'dense-mve').map((r) => r.shape))].filter((s) => rows.some((r) => r.shape === s && r.kernel !== 'dense-mve'));
  return shapes.map((shape) => {
    const here = rows.filter((r) => r.shape === shape);
    const { out, inF } = here[0]!;
    const denseMacs = out * inF;
    const dense = here.find((r) => r.kernel === 'dense-mve')!;
    const half = rows.find((r) => r.kernel === 'dense-mve' && r.out === out && r.inF * 2 === inF);
    // Dense's cost per MAC beyond its per-row costs: the slope between the half-width and full-width layers.
    const denseSlope = half ? (dense.instructions - half.instructions) / (dense.macs - half.macs) : NaN;
    const lines: Line[] = [];
    const add = (r: Row, fixed: number) => {
      const ideal = denseMacs / r.macs;
      const speedup = dense.instructions / r.instructions;
      const slope = (r.instructions - fixed) / r.macs;
      lines.push({
        kernel: r.kernel,
        block: r.kernel.startsWith('block') ? r.block : r.kernel.startsWith('csr') ? '1x1' : '–',
        sparsity: r.kernel.startsWith('dense') ? '0%' : pct(1 - r.stored / r.all),
        macs: r.macs,
        instructions: r.instructions,
        perMac: r.instructions / r.macs,
        speedup,
        ideal,
        ofIdeal: speedup / ideal,
        macWorkOfIdeal: r.kernel === 'dense-mve' ? 1 : denseSlope / slope,
      });
    };
    for (const k of ['dense-scalar', 'dense-mve']) add(here.find((r) => r.kernel === k)!, NaN);
    for (const block of [...new Set(here.filter((r) => r.kernel.startsWith('block')).map((r) => r.block))]) {
      for (const k of ['block-mve', 'block-scalar']) {
        const runs = here.filter((r) => r.kernel === k && r.block === block);
        const empty = runs.find((r) => r.stored === 0);
        for (const r of runs.filter((x) => x.stored > 0)) add(r, empty?.instructions ?? NaN);
      }
    }
    for (const r of here.filter((x) => x.kernel === 'csr-scalar')) add(r, NaN);

    const goals: string[] = [];
    const d = lines.find((l) => l.kernel === 'dense-mve')!;
    goals.push(`dense MVE ${f3(d.perMac)} instructions/MAC (goal ≤ ${GOAL_DENSE}): ${d.perMac <= GOAL_DENSE ? 'met' : 'NOT met'}`);
    for (const l of lines.filter((x) => x.kernel === 'block-mve' && Math.abs(parseFloat(x.sparsity) - 90) <= 2)) {
      const whole = l.ofIdeal >= GOAL_SPARSE_OF_IDEAL ? 'met' : 'not met';
      const work = l.macWorkOfIdeal >= GOAL_SPARSE_OF_IDEAL ? 'met' : 'not met';
      goals.push(
        `block ${l.block} MVE at ${l.sparsity} sparsity: ${f2(l.speedup)}x of an ideal ${f2(l.ideal)}x = ${pct(l.ofIdeal)} whole layer (${whole}), ` +
          `${pct(l.macWorkOfIdeal)} on the MAC work (${work}; goal ≥ ${pct(GOAL_SPARSE_OF_IDEAL)})`,
      );
    }
    return { shape, lines, denseMve: d.perMac, goals };
  });
}

function table(lines: Line[]): string {
  const header = ['kernel', 'block', 'sparsity', 'MACs', 'instructions', 'instr/MAC', 'speedup', 'ideal', 'whole layer', 'MAC work'];
  const body = lines.map((l) => [
    l.kernel,
    l.block,
    l.sparsity,
    String(l.macs),
    String(Math.round(l.instructions)),
    f3(l.perMac),
    `${f2(l.speedup)}x`,
    `${f2(l.ideal)}x`,
    pct(l.ofIdeal),
    l.kernel.endsWith('mve') && l.kernel !== 'dense-mve' ? pct(l.macWorkOfIdeal) : '',
  ]);
  const w = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [fmt(header), ...body.map(fmt)].join('\n');
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  await buildBenchImages();
  const { code, output } = await runBenchImage('bench', 300_000);
  if (code !== 0) throw new HilError(`the benchmark image exited with status ${code}`, output.trim().split('\n').at(-1) ?? '');
  const results = analyse(parse(output));
  if (json) {
    process.stdout.write(JSON.stringify({ unit: 'emulated M55 instructions (QEMU -icount shift=0)', results }, null, 2) + '\n');
    return;
  }
  process.stdout.write('FC kernels on the Cortex-M55 (QEMU mps3-an547): emulated instructions, not cycles; speedups against dense MVE\n');
  for (const r of results) {
    process.stdout.write(`\nlayer ${r.shape} (out x in), int8, per-channel requantisation\n${table(r.lines)}\n`);
    for (const g of r.goals) process.stdout.write(`  ${g}\n`);
  }
}

main().catch((e: unknown) => {
  if (e instanceof HilError) {
    process.stderr.write(`bench:kernels: ${e.line()}\n`);
    process.exit(2);
  }
  throw e;
});
