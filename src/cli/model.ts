/**
 * `hil model init`: a seeded float model of a named architecture, its dense int8 blob and a manifest.
 * `hil model export`: a float model (model.json) → blob, with a weight encoding, or → a standard int8
 *   .tflite of the streaming step (`--format tflite`, docs/tflite.md).
 * `hil model info`: what a blob holds, layer by layer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { action, intOption } from './common.js';
import { HilError } from '../util/errors.js';
import { sha256, writeFileAtomic, writeJsonAtomic } from '../util/fsx.js';
import { HIL_VERSION } from '../util/version.js';
import { ARCHS, isArchName } from '../model/arch.js';
import { loadFloatModel, saveFloatModel, type FloatModel } from '../model/floatModel.js';
import { initFloatModel, paramsPerLayer } from '../model/init.js';
import { lowerToQuantGraph, type LowerOptions } from '../export/lower.js';
import { writeTfliteDetailed } from '../export/tflite.js';
import { parseEncoding, writeBlobDetailed, type EncodingChoice } from '../export/blob.js';
import { Engine, LUT_KINDS, parseBlob, type ModelBlob } from '../engine/index.js';

export interface ModelManifest {
  format: 'hil-model-manifest';
  version: 1;
  arch: string;
  seed: number;
  hop: number;
  sampleRate: number;
  hil: string;
  params: Record<string, number> & { total: number };
  blob: {
    file: string;
    sha256: string;
    modelId: string;
    flashBytes: number;
    encoding: string;
    arenaBytes: number;
    ops: number;
    tensors: number;
    /** Work counters of one frame (docs/model-format.md §8). */
    macsPerFrame: number;
    weightBytesPerFrame: number;
    elementsPerFrame: number;
    layers: { name: string; encoding: string; br: number; bc: number; nnz: number; weightBytes: number }[];
  };
}

function encodingLabel(e: EncodingChoice): string {
  return e.kind === 'block' ? `block${e.br}x${e.bc}` : e.kind;
}

/** Exports a float model to `<dir>/model.hilm` and describes it; shared by init and export. */
export function exportModel(model: FloatModel, blobPath: string, encoding: EncodingChoice, lower: LowerOptions = {}): ModelManifest['blob'] {
  const written = writeBlobDetailed(lowerToQuantGraph(model, lower), { encoding });
  const engine = new Engine(written.bytes);
  const macs = engine.opCounters.reduce((s, c) => s + c.macs, 0);
  const wb = engine.opCounters.reduce((s, c) => s + c.weightBytes, 0);
  const el = engine.opCounters.reduce((s, c) => s + c.elements, 0);
  writeFileAtomic(blobPath, written.bytes);
  return {
    file: blobPath.split('/').pop() as string,
    sha256: sha256(written.bytes),
    modelId: engine.blob.modelId.toString(16).padStart(8, '0'),
    flashBytes: written.bytes.length,
    encoding: encodingLabel(encoding),
    arenaBytes: engine.arenaBytes,
    ops: engine.blob.ops.length,
    tensors: engine.blob.tensors.length,
    macsPerFrame: macs,
    weightBytesPerFrame: wb,
    elementsPerFrame: el,
    layers: written.layers,
  };
}

export function manifestFor(model: FloatModel, blob: ModelManifest['blob']): ModelManifest {
  const params = paramsPerLayer(model);
  const total = Object.values(params).reduce((a, b) => a + b, 0);
  return { format: 'hil-model-manifest', version: 1, arch: model.arch, seed: model.seed, hop: model.hop, sampleRate: model.sampleRate, hil: HIL_VERSION, params: { ...params, total }, blob };
}

function weightsOption(value: string): LowerOptions['weightScales'] {
  if (value !== 'per-channel' && value !== 'per-tensor') throw new HilError(`--weights must be per-channel or per-tensor, got ${value}`, 'per-tensor is what Arm NN 20.08 CpuRef runs');
  return value;
}

function hopOption(value: string | undefined): 128 | 256 {
  const hop = intOption('hop', value, 256);
  if (hop !== 128 && hop !== 256) throw new HilError(`--hop must be 128 or 256, got ${hop}`);
  return hop;
}

/** The layer table of `hil model info`. */
export function describeBlob(b: ModelBlob): string {
  const lines: string[] = [];
  const id = b.modelId.toString(16).padStart(8, '0');
  lines.push(`blob: ${b.totalBytes} bytes, crc32 ${b.crc.toString(16).padStart(8, '0')}, model id ${id}`);
  lines.push(`stream: n_fft ${b.nFft}, hop ${b.hop}, ${b.sampleRate} Hz, ${b.nBins} bins; arena ${b.arena.bytes} bytes; ${b.tensors.length} tensors, ${b.ops.length} ops`);
  const rows: string[][] = [['#', 'op', 'in', 'out', 'shape', 'encoding', 'nnz', 'density', 'weight bytes', 'MACs']];
  const len = (t: number) => `t${t}[${b.tensors[t].length}]`;
  let macs = 0, wbytes = 0;
  for (const op of b.ops) {
    macs += op.counters.macs;
    wbytes += op.counters.weightBytes;
    if (op.op === 'FC') {
      const w = op.weights;
      const dense = op.inFeatures * op.outFeatures;
      const stored = w.encoding === 'block' ? op.nnz * w.br * w.bc : op.nnz;
      rows.push([
        String(op.index), 'FC', len(op.input), len(op.output), `${op.outFeatures}x${op.inFeatures}`,
        w.encoding === 'block' ? `block ${w.br}x${w.bc}` : w.encoding, w.encoding === 'block' ? `${op.nnz} blocks` : String(op.nnz),
        `${((100 * stored) / dense).toFixed(1)}%`, String(op.counters.weightBytes), String(op.counters.macs),
      ]);
    } else if (op.op === 'LUT') {
      rows.push([String(op.index), `LUT ${LUT_KINDS[op.kind]}`, len(op.input), len(op.output), '', '', '', '', '0', '0']);
    } else {
      rows.push([String(op.index), op.op, `${len(op.in1)} ${len(op.in2)}`, len(op.output), '', '', '', '', '0', String(op.counters.macs)]);
    }
  }
  rows.push(['', 'total', '', '', '', '', '', '', String(wbytes), String(macs)]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) lines.push(r.map((cell, c) => (c >= 6 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
  const states = b.tensors.filter((t) => t.isState).map((t) => `t${t.id} ← t${t.next}`);
  if (states.length) lines.push(`state: ${states.join(', ')}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  const model = program.command('model').description('make, export and inspect models');

  model
    .command('init')
    .description('make a deterministic seeded float model, its dense int8 blob and a manifest')
    .requiredOption('--arch <name>', `architecture: ${Object.keys(ARCHS).join(', ')}`)
    .option('--seed <n>', 'PRNG seed', '1')
    .option('--hop <samples>', 'frame hop: 128 or 256', '256')
    .requiredOption('--out <dir>', 'output directory (model.json, model.hilm, manifest.json)')
    .action(
      action((opts: { arch: string; seed: string; hop: string; out: string }) => {
        if (!isArchName(opts.arch)) throw new HilError(`unknown --arch ${opts.arch}`, `use one of ${Object.keys(ARCHS).join(', ')}`);
        const seed = intOption('seed', opts.seed, 1);
        const fm = initFloatModel(opts.arch, seed, hopOption(opts.hop));
        saveFloatModel(join(opts.out, 'model.json'), fm);
        const blob = exportModel(fm, join(opts.out, 'model.hilm'), { kind: 'dense' });
        const manifest = manifestFor(fm, blob);
        writeJsonAtomic(join(opts.out, 'manifest.json'), manifest);
        process.stdout.write(
          `${opts.arch} seed ${seed}: ${manifest.params.total} params, blob ${blob.flashBytes} bytes (${blob.encoding}), ${blob.macsPerFrame} MACs/frame, arena ${blob.arenaBytes} bytes → ${opts.out}\n`,
        );
      }),
    );

  model
    .command('export')
    .description('export a float model (model.json) to a blob with a weight encoding, or to an int8 .tflite of the streaming step')
    .argument('<model.json>', 'float model')
    .requiredOption('--out <file>', 'file to write (.hilm, or .tflite with --format tflite)')
    .option('--format <fmt>', 'hilm (the device blob) | tflite (standard int8 TFLite step graph, docs/tflite.md)', 'hilm')
    .option('--encoding <enc>', 'blob weight encoding: dense | csr | auto | blockRxC (e.g. block4x4)', 'auto')
    .option('--weights <scales>', 'FC weight scales: per-channel | per-tensor (what Arm NN 20.08 CpuRef runs)', 'per-channel')
    .action(
      action((path: string, opts: { out: string; format: string; encoding: string; weights: string }) => {
        const lower: LowerOptions = { weightScales: weightsOption(opts.weights) };
        if (opts.format !== 'hilm' && opts.format !== 'tflite') throw new HilError(`--format must be hilm or tflite, got ${opts.format}`, 'hilm is the device blob, tflite the standard int8 step graph');
        const fm = loadFloatModel(path);
        if (opts.format === 'tflite') {
          const t = writeTfliteDetailed(lowerToQuantGraph(fm, lower));
          writeFileAtomic(opts.out, t.bytes);
          process.stdout.write(`${opts.out}: ${t.bytes.length} bytes, ${opts.weights} weights, model id ${t.info.modelId}; in ${t.inputs.join(', ')}; out ${t.outputs.join(', ')}\n`);
          return;
        }
        const blob = exportModel(fm, opts.out, parseEncoding(opts.encoding), lower);
        writeJsonAtomic(opts.out.replace(/\.hilm$/, '') + '.manifest.json', manifestFor(fm, blob));
        process.stdout.write(`${opts.out}: ${blob.flashBytes} bytes (${blob.layers.map((l) => `${l.name} ${l.encoding === 'block' ? `block${l.br}x${l.bc}` : l.encoding}`).join(', ')})\n`);
      }),
    );

  model
    .command('info')
    .description('print what a blob holds: header, and per op its shapes, encoding, stored weights, bytes and MACs')
    .argument('<blob>', 'model blob (.hilm)')
    .action(
      action((path: string) => {
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(path);
        } catch (e) {
          throw new HilError(`cannot read ${path}: ${(e as Error).message}`);
        }
        process.stdout.write(describeBlob(parseBlob(bytes)) + '\n');
      }),
    );
}
