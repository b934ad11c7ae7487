/**
 * `npm run bench:kernels`: instructions per multiply-accumulate of the FC kernels on each core, from the
 * semihosting benchmark image (firmware/bench/bench.c) under QEMU's instruction counting: the Cortex-M55
 * of corstone-300 (MVE kernels) and the Cortex-M4/M7/M33 of boards m4, m7 and m33 (DSP-extension kernels,
 * firmware/bench/mps2.mk). Figures are `emulated` instructions, not cycles: a gather counts once though it
 * takes several beats on silicon, an SMLAD once though it is two MACs, and memory is free.
 *
 * Per layer shape (out x in): dense (scalar and optimised), block-sparse optimised at 50/75/90 % sparsity
 * for each block shape (and scalar at 90 %), and at 50/70/80/90/95 % unstructured sparsity CSR, CSR4 and
 * the bitmap prototype (all scalar: their column indices are a serial prefix sum or bit scan).
 * "Optimised" (MVE below) is MVE on the M55 and DSP on the M4/M7/M33; speedups are against the core's own
 * dense optimised kernel, so the tables say which structure wins on which core.
 * Last, per core, the block shapes ranked at equal sparsity (nine shapes, firmware/bench/bench.c): the
 * geometric-mean speedup over the layers (emulated), the same layers' modelled Ethos-U55-128 speedup (cost
 * model), and the shape fastest at every sparsity — what a board's preferred_block is set from.
 *
 * What "ideal" means: a sparse layer that executes a fraction d (its density: executed MACs / dense MACs,
 * block padding included) of the dense MACs ideally costs d x the dense MVE layer's instructions, a
 * speedup of 1/d. Two shares of that ideal are reported:
 *  - whole layer: ideal instructions / the sparse layer's instructions (= speedup / ideal speedup);
 *  - MAC work: the same for the work beyond the layer's fixed cost, i.e. dense MVE's instructions per MAC
 *    (the slope between the in and in/2 dense layers, without per-row costs) x executed MACs, over the
 *    sparse layer's instructions minus those of an empty layer of the same shape and block (its fixed
 *    cost: requantisation and per-block-row work, which sparsity cannot remove).
 * Where the whole-layer share stays below the goal, the breakdown says why: the fixed cost's part of the
 * ideal budget, and the best whole-layer share the layer could reach even with MAC work at the dense
 * kernel's rate.
 *
 *   npm run bench:kernels [-- --board corstone-300,m4,m7,m33] [--json]     (default: all four)
 */
import { buildBenchImages, runBenchImage } from '../test/support/cs300bench.js';
import { buildMcuBenchImages, mcuBoard, MCU_BOARDS, runMcuBenchImage } from '../test/support/mcubench.js';
import { HilError } from '../src/util/errors.js';
import { blockFcCounters, ETHOS_U55_128_CALIBRATED, opCycles } from '../src/engine/index.js';

/** Instructions per tick of the core's timer under -icount shift=0 (1 ns per instruction): set per core
 *  (32 MHz system counter on the Corstone-300: 31.25; 25 MHz timer on MPS2 AN386/AN500: 40; 20 MHz on AN505: 50). */
let INSTR_PER_TICK = 31.25;
/** The optimised kernels' suffix: mve on the M55, dsp on the M4/M7/M33. */
let OPT = 'mve';
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
  /** Per call: the timed ticks x 31.25 over the number of calls timed. */
  instructions: number;
}

function parse(output: string): Row[] {
  const rows: Row[] = [];
  const re = /^BENCH shape=(\d+)x(\d+) kernel=(\S+) block=(\d+x\d+) keep=(\d+)\/(\d+) macs=(\d+) ticks=(\d+) reps=(\d+)$/gm;
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
      instructions: (Number(m[8]) * INSTR_PER_TICK) / Number(m[9]),
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
  sparsity: number;
  /** Stored blocks (block kernels) or weights. */
  stored: number;
  macs: number;
  instructions: number;
  perMac: number;
  speedup: number;
  idealSpeedup: number;
  idealInstructions: number;
  /** speedup / ideal speedup */
  wholeOfIdeal: number;
  /** (dense MAC work per MAC x MACs) / (instructions - fixed); NaN where not measured */
  macWorkOfIdeal: number;
  /** the empty layer's instructions (block kernels), NaN otherwise */
  fixed: number;
}

interface ShapeResult {
  shape: string;
  out: number;
  inF: number;
  denseMve: { instructions: number; perMac: number; macWorkPerMac: number; fixedPerOutput: number };
  lines: Line[];
  goals: string[];
}

function analyse(rows: Row[]): ShapeResult[] {
  // The half-width dense runs print their own shape (out x in/2); the layers are those with a scalar run.
  const shapes = [...new Set(rows.filter((r) => r.kernel === 'dense-scalar').map((r) => r.shape))];
  return shapes.map((shape) => {
    const here = rows.filter((r) => r.shape === shape);
    const { out, inF } = here[0]!;
    const denseMacs = out * inF;
    const dense = here.find((r) => r.kernel === `dense-${OPT}` && r.macs === denseMacs);
    if (!dense) throw new HilError(`the benchmark printed no dense ${OPT} run for ${shape}`);
    const half = rows.find((r) => r.kernel === `dense-${OPT}` && r.out === out && r.inF === Math.floor(inF / 2));
    // Dense's cost per MAC beyond its per-row costs: the slope between the in/2 and in layers.
    const slope = half ? (dense.instructions - half.instructions) / (dense.macs - half.macs) : NaN;
    const lines: Line[] = [];
    const add = (r: Row, fixed: number) => {
      const density = r.macs / denseMacs;
      const idealInstructions = dense.instructions * density;
      const speedup = dense.instructions / r.instructions;
      lines.push({
        kernel: r.kernel,
        block: r.kernel.startsWith('block') ? r.block : r.kernel.startsWith('csr') || r.kernel.startsWith('bitmap') ? '1x1' : '–',
        sparsity: 1 - r.stored / r.all,
        stored: r.stored,
        macs: r.macs,
        instructions: r.instructions,
        perMac: r.instructions / r.macs,
        speedup,
        idealSpeedup: 1 / density,
        idealInstructions,
        wholeOfIdeal: idealInstructions / r.instructions,
        macWorkOfIdeal: r.kernel === `block-${OPT}` ? (slope * r.macs) / (r.instructions - fixed) : NaN,
        fixed,
      });
    };
    add(here.find((r) => r.kernel === 'dense-scalar')!, NaN);
    add(dense, NaN);
    for (const block of [...new Set(here.filter((r) => r.kernel.startsWith('block')).map((r) => r.block))]) {
      const empty = here.find((r) => r.kernel === `block-${OPT}` && r.block === block && r.stored === 0);
      for (const k of [`block-${OPT}`, 'block-scalar'])
        for (const r of here.filter((x) => x.kernel === k && x.block === block && x.stored > 0)) add(r, empty?.instructions ?? NaN);
    }
    // Weight-level encodings at 50/70/80/90/95 % (CSR, CSR4 scalar and as the engine runs it, and the bitmap
    // prototype, firmware/bench/bench.c).
    for (const k of ['csr-scalar', 'csr4-scalar', `csr4-${OPT}`, 'bitmap-scalar']) for (const r of here.filter((x) => x.kernel === k)) add(r, NaN);

    const d = lines.find((l) => l.kernel === `dense-${OPT}`)!;
    // The dense goal is the M55's (MVE); on the DSP cores the figure is put against the scalar kernel.
    const scalar = lines.find((l) => l.kernel === 'dense-scalar')!;
    const goals: string[] = [
      OPT === 'mve'
        ? `dense MVE ${f3(d.perMac)} instructions/MAC (goal ≤ ${GOAL_DENSE}): ${d.perMac <= GOAL_DENSE ? 'met' : 'NOT met'}`
        : `dense DSP ${f3(d.perMac)} instructions/MAC, ${f2(scalar.instructions / d.instructions)}x the scalar kernel (${f3(scalar.perMac)})`,
    ];
    for (const l of lines.filter((x) => x.kernel === `block-${OPT}` && Math.abs(x.sparsity - 0.9) <= 0.02)) {
      const whole = l.wholeOfIdeal >= GOAL_SPARSE_OF_IDEAL ? 'met' : 'not met';
      const work = l.macWorkOfIdeal >= GOAL_SPARSE_OF_IDEAL ? 'met' : 'not met';
      let line =
        `block ${l.block} at ${pct(l.sparsity)}: ${f2(l.speedup)}x of an ideal ${f2(l.idealSpeedup)}x = ${pct(l.wholeOfIdeal)} whole layer (${whole}), ` +
        `${pct(l.macWorkOfIdeal)} MAC work (${work})`;
      if (l.wholeOfIdeal < GOAL_SPARSE_OF_IDEAL) {
        // Why: the fixed cost alone against the ideal budget, and the best share with dense-rate MAC work.
        const best = l.idealInstructions / (l.fixed + slope * l.macs);
        line +=
          `; fixed cost ${Math.round(l.fixed)} (${f2(l.fixed / out)}/output) = ${pct(l.fixed / l.idealInstructions)} of the ideal ` +
          `${Math.round(l.idealInstructions)}, so at most ${pct(best)} even with MAC work at the dense rate`;
      }
      goals.push(line);
    }
    return {
      shape,
      out,
      inF,
      denseMve: { instructions: d.instructions, perMac: d.perMac, macWorkPerMac: slope, fixedPerOutput: (d.instructions - slope * denseMacs) / out },
      lines,
      goals,
    };
  });
}

function table(lines: Line[]): string {
  const header = ['kernel', 'block', 'sparsity', 'MACs', 'instructions', 'instr/MAC', 'speedup', 'ideal', 'whole layer', 'MAC work'];
  const body = lines.map((l) => [
    l.kernel,
    l.block,
    pct(l.sparsity),
    String(l.macs),
    String(Math.round(l.instructions)),
    f3(l.perMac),
    `${f2(l.speedup)}x`,
    `${f2(l.idealSpeedup)}x`,
    pct(l.wholeOfIdeal),
    l.kernel === `block-${OPT}` ? pct(l.macWorkOfIdeal) : '',
  ]);
  return align(header, body, 3);
}

function align(header: string[], body: string[][], leftColumns: number): string {
  const w = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [fmt(header), ...body.map(fmt)].join('\n');
}

/** At 90 % sparsity, per shape and block: whole layer / MAC work shares of the ideal. */
function summary(results: ShapeResult[]): string {
  const blocks = [...new Set(results.flatMap((r) => r.lines.filter((l) => l.kernel === `block-${OPT}`).map((l) => l.block)))];
  const header = ['layer (out x in)', `dense ${OPT.toUpperCase()} instr/MAC`, ...blocks.map((b) => `${b} speedup: whole / MAC work`), 'CSR 90 % speedup'];
  const body = results.map((r) => [
    r.shape,
    f3(r.denseMve.perMac),
    ...blocks.map((b) => {
      const l = r.lines.find((x) => x.kernel === `block-${OPT}` && x.block === b && Math.abs(x.sparsity - 0.9) <= 0.02);
      return l ? `${f2(l.speedup)}x: ${pct(l.wholeOfIdeal)} / ${pct(l.macWorkOfIdeal)}` : '–';
    }),
    ((l) => (l ? `${f2(l.speedup)}x` : '–'))(r.lines.find((x) => x.kernel === 'csr-scalar' && Math.abs(x.sparsity - 0.9) <= 0.02)),
  ]);
  return align(header, body, 1);
}

const CORES: Record<string, string> = { 'corstone-300': 'Cortex-M55 (QEMU mps3-an547)', m4: 'Cortex-M4 (QEMU mps2-an386)', m7: 'Cortex-M7 (QEMU mps2-an500)', m33: 'Cortex-M33 (QEMU mps2-an505)' };

/** The 16x8 FC rows (BENCH16): instructions per call and per MAC. */
interface Row16 {
  shape: string;
  kernel: string;
  macs: number;
  instructions: number;
}
let rows16: Row16[] = [];
function parse16(output: string): Row16[] {
  const re = /^BENCH16 shape=(\d+x\d+) kernel=(\S+) macs=(\d+) ticks=(\d+) reps=(\d+)$/gm;
  return [...output.matchAll(re)].map((m) => ({ shape: m[1]!, kernel: m[2]!, macs: Number(m[3]), instructions: (Number(m[4]) * INSTR_PER_TICK) / Number(m[5]) }));
}
/** The sparsities the benchmark keeps blocks at (firmware/bench/bench.c `keeps`). */
const SPARSITIES = [0.5, 0.75, 0.9];

const geomean = (v: number[]) => (v.length ? Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length) : NaN);

/**
 * Which block shape pays, at equal sparsity: per shape, the geometric mean over the layers of its speedup
 * over the dense optimised kernel (emulated), and of the modelled Ethos-U55-128 speedup of the same layer
 * (src/engine/costModel.ts with the calibrated parameters, the weight stream priced as the engine counts
 * it: blocks plus row_ptr and col_idx). "U55 brick" marks shapes made of whole 8 (OFM) x 8 (IFM) weight
 * bricks, the unit the NPU streams (docs/compression.md "Block shapes"), the only zeros it could skip.
 */
interface ShapeRank {
  block: string;
  /** Per sparsity (SPARSITIES): geometric-mean speedup, emulated on this core. */
  emulated: number[];
  /** Per sparsity: geometric-mean modelled Ethos-U55-128 speedup. */
  modelledU55: number[];
  u55Brick: boolean;
}

function rankShapes(results: ShapeResult[]): ShapeRank[] {
  const blocks = [...new Set(results.flatMap((r) => r.lines.filter((l) => l.kernel === `block-${OPT}`).map((l) => l.block)))];
  const u55 = (macs: number, weightBytes: number) => opCycles(ETHOS_U55_128_CALIBRATED, { isFc: true, macs, weightBytes, elements: 0 });
  return blocks.map((block) => {
    const [br, bc] = block.split('x').map(Number) as [number, number];
    const at = (s: number, f: (r: ShapeResult, l: Line) => number) =>
      geomean(
        results.flatMap((r) => {
          const l = r.lines.find((x) => x.kernel === `block-${OPT}` && x.block === block && Math.abs(x.sparsity - s) <= 0.02);
          return l ? [f(r, l)] : [];
        }),
      );
    return {
      block,
      emulated: SPARSITIES.map((s) => at(s, (_, l) => l.speedup)),
      modelledU55: SPARSITIES.map((s) =>
        at(s, (r, l) => u55(r.out * r.inF, r.out * r.inF) / u55(l.macs, blockFcCounters(Math.ceil(r.out / br), l.stored, br, bc).weightBytes)),
      ),
      u55Brick: br % 8 === 0 && bc % 8 === 0,
    };
  });
}

function rankTable(ranks: ShapeRank[]): string {
  const header = ['block', ...SPARSITIES.map((s) => `${pct(s)} emulated`), ...SPARSITIES.map((s) => `${pct(s)} U55 (modelled)`), 'U55 brick'];
  const body = [...ranks]
    .sort((a, b) => b.emulated.at(-1)! - a.emulated.at(-1)!)
    .map((r) => [r.block, ...r.emulated.map((v) => `${f2(v)}x`), ...r.modelledU55.map((v) => `${f2(v)}x`), r.u55Brick ? 'yes' : 'no']);
  return align(header, body, 1);
}

/** The fastest shape on this core at every sparsity, or null when the sparsities disagree. */
function fastestShape(ranks: ShapeRank[]): string | null {
  const best = SPARSITIES.map((_, i) => [...ranks].sort((a, b) => b.emulated[i]! - a.emulated[i]!)[0]?.block);
  return best.every((b) => b === best[0]) ? (best[0] ?? null) : null;
}


async function benchBoard(board: string): Promise<ShapeResult[]> {
  let run: { code: number | null; output: string };
  if (board === 'corstone-300') {
    INSTR_PER_TICK = 31.25;
    OPT = 'mve';
    await buildBenchImages();
    run = await runBenchImage('bench', 600_000);
  } else if ((MCU_BOARDS as readonly string[]).includes(board)) {
    INSTR_PER_TICK = 1e9 / mcuBoard(board).clockHz;
    OPT = 'dsp';
    await buildMcuBenchImages();
    run = await runMcuBenchImage(board, 'bench', 600_000);
  } else {
    throw new HilError(`bench:kernels knows no board "${board}"`, `pick from ${Object.keys(CORES).join(', ')}`);
  }
  if (run.code !== 0) throw new HilError(`the benchmark image exited with status ${run.code} on ${board}`, run.output.trim().split('\n').at(-1) ?? '');
  rows16 = parse16(run.output);
  return analyse(parse(run.output));
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const at = process.argv.indexOf('--board');
  const boards = at > 0 ? (process.argv[at + 1] ?? '').split(',').filter(Boolean) : Object.keys(CORES);
  const all: Record<string, { core: string; unit: string; results: ShapeResult[]; fc16: Row16[]; shapes: ShapeRank[]; fastest: string | null }> = {};
  for (const board of boards) {
    const results = await benchBoard(board);
    const core = CORES[board]!;
    const ranks = rankShapes(results);
    const fastest = fastestShape(ranks);
    all[board] = { core, unit: `emulated ${core.split(' ')[0]} instructions (QEMU -icount shift=0)`, results, fc16: rows16, shapes: ranks, fastest };
    if (json) continue;
    const name = OPT.toUpperCase();
    process.stdout.write(
      `FC kernels on the ${core}, board ${board}: emulated instructions, not cycles; speedups against dense ${name}.\n` +
        `ideal = dense ${name} instructions x density (executed / dense MACs); whole layer = ideal / instructions;\n` +
        `MAC work = dense ${name} instructions per MAC (slope in/2 -> in) x MACs / (instructions - empty layer of the same shape).\n`,
    );
    for (const r of results) {
      process.stdout.write(
        `\nlayer ${r.shape} (out x in), int8, per-channel requantisation; dense ${name}: ${f3(r.denseMve.macWorkPerMac)} instructions per MAC ` +
          `+ ${f2(r.denseMve.fixedPerOutput)} per output\n${table(r.lines)}\n`,
      );
      for (const g of r.goals) process.stdout.write(`  ${g}\n`);
    }
    if (rows16.length) {
      process.stdout.write(`\n16x8 FC (int16 in/out, int8 weights, int64 bias; the 16-bit output layer${OPT === 'dsp' ? '; no DSP variant, the scalar kernel runs' : ''}):\n`);
      for (const r of rows16) {
        const scalar = rows16.find((x) => x.shape === r.shape && x.kernel === 'fc16-scalar');
        const vs = scalar && scalar !== r ? `, ${f2(scalar.instructions / r.instructions)}x over scalar` : '';
        process.stdout.write(`  ${r.shape.padEnd(8)} ${r.kernel.padEnd(12)} ${Math.round(r.instructions)} instructions, ${f3(r.instructions / r.macs)} per MAC${vs}\n`);
      }
    }
    process.stdout.write(
      `\n${board} (${core}): at 90 % sparsity, speedup over dense ${name} and, for block-sparse ${name}, its share of the ideal ` +
        `speedup (goal ≥ ${pct(GOAL_SPARSE_OF_IDEAL)}); CSR is the scalar kernel\n${summary(results)}\n\n`,
    );
    process.stdout.write(
      `${board}: block shapes at equal sparsity, geometric mean over the layers of the speedup over dense ${name} (emulated) and of the ` +
        `modelled Ethos-U55-128 speedup (cost model, calibrated; weight stream as the engine counts it)\n${rankTable(ranks)}\n` +
        `fastest on this core at every sparsity: ${fastest ?? 'none (the sparsities disagree)'}\n\n`,
    );
  }
  if (json) {
    // One board: its record as before ({unit, results}) plus board and core; several: by board.
    const only = boards.length === 1 ? all[boards[0]!]! : null;
    process.stdout.write(JSON.stringify(only ? { board: boards[0], ...only } : all, null, 2) + '\n');
  }
}

main().catch((e: unknown) => {
  if (e instanceof HilError) {
    process.stderr.write(`bench:kernels: ${e.line()}\n`);
    process.exit(2);
  }
  throw e;
});
