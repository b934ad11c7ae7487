/** `hil compress`: prune a trained baseline with a profile's structure (learned with int8 QAT, or offline), export and measure it. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { HilError } from '../util/errors.js';
import { action, intOption } from './common.js';

/** The corpus the baseline was trained on, when its provenance names one that is still there. */
function baselineCorpus(model: { provenance: Record<string, unknown> }): string | undefined {
  const c = model.provenance?.corpus as { dir?: string } | undefined;
  return c?.dir && existsSync(c.dir) ? c.dir : undefined;
}

export function register(program: Command): void {
  program
    .command('compress')
    .description('fine-tune a baseline with a pruning structure and int8 QAT (or prune it offline), export the blob and write a manifest')
    .requiredOption('--model <dir|model.json>', 'trained float baseline (a directory with model.json, e.g. models/se-small)')
    .requiredOption('--profile <name|file>', 'compression profile: a name in profiles/ (e.g. block-90) or a JSON file')
    .requiredOption('--out <dir>', 'output directory: model.json, model.hilm, manifest.json (training state in <out>/train)')
    .option('--corpus <dir|size>', "corpus for fine-tuning and validation (default: the baseline's training corpus)")
    .option('--board <name|file>', 'board whose preferred_block a profile with "block": "board" uses')
    .option('--epochs <n>', "fine-tuning epochs (default: the profile's)")
    .option('--init <from>', "baseline (fine-tune its weights) or scratch (train from the seeded random init; the profile is named <profile>-scratch); default: the profile's fine_tune.init")
    .option('--seed <n>', 'seed for remixing and batch order', '1')
    .option('--val-limit <n>', 'score at most this many val mixtures (default all)')
    .option('--backend <name>', 'tfjs backend: auto, tensorflow, wasm, cpu', 'auto')
    .option('--overwrite', 'replace the compressed model and training state in --out instead of refusing another run\'s')
    .action(
      action(async (o: Record<string, string | boolean | undefined>) => {
        const { loadProfile, parseInit, withInit } = await import('../compress/profile.js');
        const { baselinePath, compress } = await import('../compress/compress.js');
        const { loadFloatModel } = await import('../model/floatModel.js');
        const { loadTrainCorpus } = await import('../model/dataset.js');
        const init = o.init === undefined ? undefined : parseInit(String(o.init));
        const profile = withInit(loadProfile(String(o.profile), { board: o.board === undefined ? undefined : String(o.board) }), init);
        const bPath = baselinePath(String(o.model));
        const baseline = loadFloatModel(bPath);
        const cSpec = o.corpus === undefined ? baselineCorpus(baseline) : String(o.corpus);
        if (!cSpec) throw new HilError(`${bPath} does not name a corpus that exists here`, 'pass --corpus small, paper or a corpus directory');
        const dir = await (await import('../data/corpus.js')).resolveCorpusDir(cSpec);
        const epochs = o.epochs === undefined ? undefined : intOption('epochs', String(o.epochs), 0);
        if (epochs !== undefined && epochs < 0) throw new HilError(`--epochs must be 0 or more, got ${epochs}`);
        const valLimit = o.valLimit === undefined ? undefined : intOption('val-limit', String(o.valLimit), 0);
        if (valLimit !== undefined && valLimit < 1) throw new HilError(`--val-limit must be at least 1, got ${valLimit}`);
        const corpus = loadTrainCorpus(dir);
        const out = resolve(String(o.out));
        process.stderr.write(`hil compress: ${profile.name} (${profile.structure}${profile.fineTune.init === 'scratch' ? ', from scratch' : ''}) on ${bPath}, corpus ${dir}: ${corpus.speech.length} speech, ${corpus.val.length} val mixtures → ${out}\n`);
        const m = await compress({
          baseline: bPath,
          profile,
          corpus,
          outDir: out,
          seed: intOption('seed', String(o.seed), 1),
          epochs,
          valLimit,
          backend: o.backend as 'auto',
          log: (line) => process.stderr.write(`${line}\n`),
          command: `hil ${process.argv.slice(2).join(' ')}`,
          overwrite: o.overwrite === true,
        });
        process.stdout.write(
          `${out}: ${m.profile}: sparsity ${(100 * m.sparsity.achieved).toFixed(1)} % (target ${(100 * m.sparsity.target).toFixed(1)} %), ` +
            `blob ${(m.blob.flashBytes / 1024).toFixed(1)} kB (${m.blob.encoding}), ${m.macsPerFrame.effective} MACs/frame, ` +
            `${m.cost.modelledCyclesPerFrame} modelled cycles/frame, val SDR ${m.validation.int8.sdr.toFixed(2)} dB (int8), ${m.validation.float.sdr.toFixed(2)} dB (float)\n`,
        );
        const kB = (b: number) => `${(b / 1024).toFixed(1)} kB`;
        if (m.memory)
          process.stdout.write(
            `  memory: blob ${kB(m.memory.flashBytes)} (flash, measured), nonzero int8 weights ${kB(m.memory.nonzeroWeightBytes)}, ` +
              `Ethos-U55 encoded weights ${kB(m.memory.u55EncodedWeightBytes)} (${m.memory.u55EncodedLabel}, docs/compression.md)\n`,
          );
        if (m.vela)
          process.stdout.write(`  vela: ${m.vela.totalCycles} cycles/frame, SRAM ${kB(m.vela.sramBytes)}, flash ${kB(m.vela.flashBytes)} (${m.vela.label}, ${m.vela.accelerator})\n`);
      }),
    );
}
