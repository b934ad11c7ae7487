/**
 * `npm run bench:encodings`: the weight-level sparse encodings side by side (docs/compression.md "Sparse
 * encodings").
 *
 * 1. Bytes per stored (nonzero) weight, measured on the host from the int8 FC matrices of the committed
 *    blobs (models/<model>/compressed/<level>/model.hilm, decoded, never rewritten): CSR (2 per weight + 2
 *    per row, fillers over gaps of 255), CSR4 (encoding 3) and the bitmap prototype (ceil(in / 32) words
 *    per row + 1 per weight; firmware/bench/bench.c).
 * 2. Emulated instructions per MAC of the three scalar kernels (and CSR4's MVE one) on random layers at 50/70/80/90/95 %
 *    sparsity, from the Corstone-300 benchmark image under QEMU (the M55; `--board m4,m7` adds the MPS2
 *    cores, `--no-emulated` skips QEMU).
 * 3. Flash (the blob's bytes) of each committed blob as stored and with its FC weights re-encoded by
 *    `auto` (src/export/reencode.ts), against the nonzero int8 weight bytes.
 * 4. With --network: the weight-70 and weight-90 blobs of both models re-encoded as CSR and as CSR4, run
 *    on the corstone-300 firmware under QEMU for 17 frames of a seeded speech-like clip: emulated network
 *    instructions per frame (median), the engine's counters, and whether every output equals the host
 *    engine's.
 *
 *   npm run bench:encodings [-- --board corstone-300,m4,m7] [--no-emulated] [--network] [--json]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBlob } from '../src/engine/blob.js';
import { blobMemoryFigures, denseWeights } from '../src/engine/u55Weights.js';
import { encodeCsr, encodeCsr4 } from '../src/export/blob.js';
import { reencodeBlob } from '../src/export/reencode.js';
import { HilError } from '../src/util/errors.js';
import { repoRoot } from '../src/util/paths.js';
import { buildBenchImages, runBenchImage } from '../test/support/cs300bench.js';
import { buildMcuBenchImages, mcuBoard, runMcuBenchImage } from '../test/support/mcubench.js';
import { scaleToPeak, speechLike } from '../test/support/speechlike.js';
import { loadBoard } from '../src/board/registry.js';
import { clipToFrames, ETHOS_U55_128, runClipOnHost } from '../src/engine/index.js';

const ROOT = repoRoot();
/** Every committed baseline with compressed models (tinylstm-paper's weight profiles as far as they are built). */
const MODELS = ['se-paper', 'se-small', 'tinylstm-paper'];
/** csr4-mve: the MVE kernel the M55 runs (firmware/core/kernels_mve.c); the other cores have none. */
const KERNELS = ['csr-scalar', 'csr4-scalar', 'csr4-mve', 'bitmap-scalar'] as const;
const SPARSITIES = [0.5, 0.7, 0.8, 0.9, 0.95];

interface BytesRow {
  blob: string;
  sparsity: number;
  stored: number;
  csr: number;
  csr4: number;
  bitmap: number;
}

/** Bytes per stored weight of each encoding over a blob's int8 FC matrices (measured on the host). */
function bytesOf(model: string, level: string): BytesRow {
  const blob = parseBlob(new Uint8Array(readFileSync(join(ROOT, 'models', model, 'compressed', level, 'model.hilm'))));
  let stored = 0, all = 0, csr = 0, csr4 = 0, bitmap = 0;
  for (const op of blob.ops) {
    if (op.op !== 'FC') continue;
    const w = denseWeights(op);
    const nz = w.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0);
    stored += nz;
    all += w.length;
    csr += encodeCsr(w, op.outFeatures, op.inFeatures).bytes.length;
    csr4 += encodeCsr4(w, op.outFeatures, op.inFeatures).bytes.length;
    bitmap += 4 * Math.ceil(op.inFeatures / 32) * op.outFeatures + nz;
  }
  return { blob: `${model}/${level}`, sparsity: 1 - stored / all, stored, csr: csr / stored, csr4: csr4 / stored, bitmap: bitmap / stored };
}

interface FlashRow {
  blob: string;
  storedKb: number;
  autoKb: number;
  nonzeroKb: number;
  encodings: string;
}

function flashOf(model: string, level: string): FlashRow {
  const bytes = new Uint8Array(readFileSync(join(ROOT, 'models', model, 'compressed', level, 'model.hilm')));
  const re = reencodeBlob(bytes, { kind: 'auto' });
  const counts = new Map<string, number>();
  for (const l of re.layers) {
    const k = l.encoding === 'block' ? `block${l.br}x${l.bc}` : l.encoding;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return {
    blob: `${model}/${level}`,
    storedKb: bytes.length / 1024,
    autoKb: re.bytes.length / 1024,
    nonzeroKb: blobMemoryFigures(parseBlob(bytes)).nonzeroWeightBytes / 1024,
    encodings: [...counts].map(([k, n]) => `${n} ${k}`).join(', '),
  };
}

interface KernelRow {
  board: string;
  kernel: string;
  sparsity: number;
  /** Geometric mean over the benchmark's layer shapes. */
  perMac: number;
}

/** Instructions per MAC from the benchmark image's BENCH lines (format: firmware/bench/bench.c). */
async function emulated(board: string): Promise<KernelRow[]> {
  let out: { code: number | null; output: string };
  let perTick: number;
  if (board === 'corstone-300') {
    await buildBenchImages();
    out = await runBenchImage('bench', 600_000);
    perTick = 31.25;
  } else {
    await buildMcuBenchImages();
    out = await runMcuBenchImage(board, 'bench', 600_000);
    perTick = 1e9 / mcuBoard(board).clockHz;
  }
  if (out.code !== 0) throw new HilError(`the benchmark image exited with status ${out.code} on ${board}`, 'run npm run bench:kernels to see its output');
  const re = /^BENCH shape=\d+x\d+ kernel=(\S+) block=1x1 keep=(\d+)\/(\d+) macs=(\d+) ticks=(\d+) reps=(\d+)$/gm;
  const lines = [...out.output.matchAll(re)].map((m) => ({ kernel: m[1]!, kept: Number(m[2]) / Number(m[3]), perMac: (Number(m[5]) * perTick) / Number(m[6]) / Number(m[4]) }));
  const rows: KernelRow[] = [];
  for (const kernel of KERNELS)
    for (const s of SPARSITIES) {
      // CSR counts its fillers as stored, so its kept fraction is a little above the target's.
      const at = lines.filter((l) => l.kernel === kernel && Math.abs(1 - l.kept - s) <= 0.03);
      if (at.length) rows.push({ board, kernel, sparsity: s, perMac: Math.exp(at.reduce((a, l) => a + Math.log(l.perMac), 0) / at.length) });
    }
  return rows;
}

interface NetworkRow {
  blob: string;
  encoding: string;
  bytes: number;
  macs: number;
  weightBytes: number;
  /** Median over the frames: emulated M55 instructions of the graph alone. */
  networkInstructions: number;
  bitExact: boolean;
}

async function network(model: string, level: string): Promise<NetworkRow[]> {
  const orig = new Uint8Array(readFileSync(join(ROOT, 'models', model, 'compressed', level, 'model.hilm')));
  const pcm = Int16Array.from(scaleToPeak(speechLike(0.25, 'bench-encodings'), 0.5), (v) => Math.round(v * 32767));
  const rows: NetworkRow[] = [];
  for (const kind of ['csr', 'csr4'] as const) {
    const blob = reencodeBlob(orig, { kind }).bytes;
    const host = runClipOnHost(blob, pcm, { cost: ETHOS_U55_128 });
    const frames = clipToFrames(pcm, parseBlob(blob).hop, 512);
    const board = await loadBoard('corstone-300');
    try {
      await board.flash(blob);
      const s = await board.open();
      await s.hello();
      await s.configure({ ...ETHOS_U55_128 });
      await s.loadModel(blob);
      await s.resetStream();
      const res = await Promise.all(frames.map((f, i) => s.runFrame(i, f)));
      const net = res.map((r) => Number(r.networkLatency)).sort((a, b) => a - b);
      rows.push({
        blob: `${model}/${level}`,
        encoding: kind,
        bytes: blob.length,
        macs: res[0]!.macs,
        weightBytes: res[0]!.weightBytes,
        networkInstructions: net[net.length >> 1]!,
        bitExact: res.every((r, i) => r.output.length === host.outFrames[i]!.length && r.output.every((v, k) => v === host.outFrames[i]![k])),
      });
    } finally {
      await board.close();
    }
  }
  return rows;
}

function align(header: string[], body: string[][]): string {
  const w = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  return [header, ...body].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const at = process.argv.indexOf('--board');
  const boards = process.argv.includes('--no-emulated') ? [] : at > 0 ? (process.argv[at + 1] ?? '').split(',').filter(Boolean) : ['corstone-300'];
  const levels = (model: string) => {
    const d = join(ROOT, 'models', model, 'compressed');
    if (!existsSync(d)) return [];
    return readdirSync(d)
      .filter((l) => /^(weight|block)-\d+$/.test(l) && existsSync(join(d, l, 'model.hilm')))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  };
  const bytes = MODELS.flatMap((m) => levels(m).filter((l) => l.startsWith('weight-')).map((l) => bytesOf(m, l)));
  const flash = MODELS.flatMap((m) => levels(m).filter((l) => Number(l.split('-')[1]) >= 70).map((l) => flashOf(m, l)));
  const kernels: KernelRow[] = [];
  for (const b of boards) kernels.push(...(await emulated(b)));
  const nets: NetworkRow[] = [];
  if (process.argv.includes('--network')) {
    // The QEMU backend of boards/corstone-300.json, whatever HIL_BACKEND the caller has.
    process.env.HIL_BACKEND = 'qemu';
    for (const m of MODELS) for (const l of ['weight-70', 'weight-90']) if (levels(m).includes(l)) nets.push(...(await network(m, l)));
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ bytesPerStoredWeight: { unit: 'measured on the host', rows: bytes }, instructionsPerMac: { unit: 'emulated instructions (QEMU -icount)', rows: kernels }, network: { unit: 'emulated M55 instructions per frame (corstone-300, QEMU)', rows: nets }, flash: { unit: 'measured on the host (kB = 1024 bytes)', rows: flash } }, null, 2)}\n`);
    return;
  }
  const f2 = (v: number) => v.toFixed(2);
  process.stdout.write(
    'Bytes per stored weight (measured on the host, the committed blobs\' int8 FC matrices; index data included)\n' +
      `${align(['blob', 'sparsity', 'stored', 'CSR', 'CSR4', 'bitmap (prototype)'], bytes.map((r) => [r.blob, `${(100 * r.sparsity).toFixed(1)}%`, String(r.stored), f2(r.csr), f2(r.csr4), f2(r.bitmap)]))}\n\n`,
  );
  for (const b of boards) {
    const rows = kernels.filter((k) => k.board === b);
    process.stdout.write(
      `Instructions per MAC on ${b} (emulated, QEMU -icount; geometric mean over the 7 layer shapes of firmware/bench/bench.c, requantisation included)\n` +
        `${align(['kernel', ...SPARSITIES.map((s) => `${Math.round(100 * s)}%`)], KERNELS.filter((k) => rows.some((r) => r.kernel === k)).map((k) => [k, ...SPARSITIES.map((s) => ((r) => (r ? f2(r.perMac) : '–'))(rows.find((r) => r.kernel === k && r.sparsity === s)))]))}\n\n`,
    );
  }
  if (nets.length)
    process.stdout.write(
      'Whole network on the corstone-300 firmware under QEMU (emulated M55 instructions per frame, median of 17 frames; counters from the engine)\n' +
        `${align(['blob', 'encoding', 'bytes', 'MACs/frame', 'weight bytes/frame', 'network instr/frame', 'bit-exact with host'], nets.map((r) => [r.blob, r.encoding, String(r.bytes), String(r.macs), String(r.weightBytes), String(r.networkInstructions), r.bitExact ? 'yes' : 'NO']))}\n\n`,
    );
  process.stdout.write(
    'Flash of the committed blobs, as stored and re-encoded with auto (measured on the host; kB = 1024 bytes)\n' +
      `${align(['blob', 'stored kB', 'auto kB', 'nonzero int8 kB', 'auto picks'], flash.map((r) => [r.blob, r.storedKb.toFixed(1), r.autoKb.toFixed(1), r.nonzeroKb.toFixed(1), r.encodings]))}\n`,
  );
}

main().catch((e: unknown) => {
  if (e instanceof HilError) {
    process.stderr.write(`bench:encodings: ${e.line()}\n`);
    process.exit(2);
  }
  throw e;
});
