/**
 * `hil model init`: a seeded float model of a named architecture, its dense int8 blob and a manifest.
 * `hil model export`: a float model (model.json) → blob, with a weight encoding, or → a standard int8
 *   .tflite of the streaming step (`--format tflite`, docs/tflite.md).
 * `hil model info`: what a blob holds, layer by layer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describeBlob } from '../engine/describe.js';
import { parseBlob } from '../engine/index.js';
import { parseEncoding } from '../export/blob.js';
import { exportModel, manifestFor } from '../export/exportModel.js';
import { lowerToQuantGraph, parseOutputBits, type LowerOptions } from '../export/lower.js';
import { writeTfliteDetailed } from '../export/tflite.js';
import { ARCHS, isArchName } from '../model/arch.js';
import { loadFloatModel, saveFloatModel } from '../model/floatModel.js';
import { initFloatModel } from '../model/init.js';
import { HilError } from '../util/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fsx.js';
import { action, intOption } from './common.js';

function weightsOption(value: string): LowerOptions['weightScales'] {
  if (value !== 'per-channel' && value !== 'per-tensor') throw new HilError(`--weights must be per-channel or per-tensor, got ${value}`, 'per-tensor is what Arm NN 20.08 CpuRef runs');
  return value;
}

function hopOption(value: string | undefined): 128 | 256 {
  const hop = intOption('hop', value, 256);
  if (hop !== 128 && hop !== 256) throw new HilError(`--hop must be 128 or 256, got ${hop}`);
  return hop;
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
    .option('--encoding <enc>', 'blob weight encoding: dense | csr | csr4 | auto | blockRxC (e.g. block4x4)', 'auto')
    .option('--weights <scales>', 'FC weight scales: per-channel | per-tensor (what Arm NN 20.08 CpuRef runs)', 'per-channel')
    .option('--output-bits <bits>', 'output layer (fc_out and the mask) activations: 8 | 16 (TFLite 16x8, docs/model-format.md §5)', '8')
    .action(
      action((path: string, opts: { out: string; format: string; encoding: string; weights: string; outputBits: string }) => {
        const lower: LowerOptions = { weightScales: weightsOption(opts.weights), outputBits: parseOutputBits(opts.outputBits, '--output-bits') };
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
        process.stdout.write(`${opts.out}: ${blob.flashBytes} bytes, ${blob.outputBits}-bit output (${blob.layers.map((l) => `${l.name} ${l.encoding === 'block' ? `block${l.br}x${l.bc}` : l.encoding}`).join(', ')})\n`);
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
