
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isArchName, ARCHS } from '../model/arch.js';
import { loadFloatModel } from '../model/floatModel.js';
import type { BackendChoice } from '../model/tfBackend.js';
import { HilError } from '../util/errors.js';
import { action, intOption } from './common.js';

export function register(program: Command): void {
  program
    .command('train')
    .description('train a streaming SE model (float or int8 QAT); rerunning the same command resumes from the last epoch')
    .requiredOption('--arch <name>', `architecture: ${Object.keys(ARCHS).join(', ')}`)
    .requiredOption('--corpus <dir|size>', 'corpus directory from `hil data build`, or a size (small, paper, real-small, real) to build or reuse')
    .requiredOption('--out <dir>', 'output directory: model.json, train-log.jsonl, checkpoint.json')
    .option('--epochs <n>', 'epochs (one remixed segment per train utterance each); more than a checkpoint was made for extends it', '20')
    .option('--seed <n>', 'seed for init, remixing and batching', '1')
    .option('--qat', 'int8 quantization-aware training (fake-quantised weights and activations)')
    .option('--workers <n>', 'data-parallel parts per step: the main thread and n−1 worker threads (--batch must divide by n; docs/training.md)', '1')
    .option('--hop <n>', 'STFT hop: 256 or 128', '256')
    .option('--batch <n>', 'sequences per step', '16')
    .option('--frames <n>', 'frames per sequence', '100')
    .option('--lr <x>', 'peak learning rate (cosine decay)', '0.002')
    .option('--loss <kind>', 'training loss: mag+sisdr (default), sisdr or mag (docs/training.md)')
    .option('--no-feature-norm', 'feed fc_in the raw log-power features instead of per-bin normalised ones')
    .option('--level <lo,hi>', 'mixture RMS range of the training mixtures in dBFS (default: -40,-10)')
    .option('--weights <dtype>', 'model.json weight storage: float32 or float16 (half the size)', 'float32')
    .option('--init <model.json>', 'start from a float model instead of a random init')
    .option('--val-limit <n>', 'validate on at most this many val mixtures')
    .option('--val-every <n>', 'validate every n epochs (default: about 20 validations per run; always after the last)')
    .option('--backend <name>', 'tfjs backend: auto, tensorflow, wasm, cpu', 'auto')
    .option('--overwrite', 'discard the training state in --out and start over instead of refusing a different run\'s')
    .action(
      action(async (o: Record<string, string | boolean | undefined>) => {
        const arch = String(o.arch);
        if (!isArchName(arch)) throw new HilError(`unknown arch "${arch}"`, `use one of ${Object.keys(ARCHS).join(', ')}`);
        const hop = intOption('hop', o.hop as string, 256);
        if (hop !== 256 && hop !== 128) throw new HilError(`--hop must be 256 or 128, got ${hop}`);
        const workers = intOption('workers', o.workers as string, 1);
        const batch = intOption('batch', o.batch as string, 16);
        // Before tfjs and the corpus load: a count the batch does not split into is refused at once.
        const { checkWorkers } = await import('../model/trainWorkers.js');
        checkWorkers(workers, batch);
        const epochs = intOption('epochs', o.epochs as string, 20);
        const lr = Number(o.lr);
        if (!(lr > 0)) throw new HilError(`--lr must be a positive number, got "${o.lr}"`);
        const level = o.level === undefined ? undefined : String(o.level).split(',').map(Number);
        if (level && (level.length !== 2 || !level.every(Number.isFinite) || level[0] > level[1] || level[1] > 0)) {
          throw new HilError(`--level must be two dBFS values lo,hi with lo ≤ hi ≤ 0, got "${o.level}"`, 'e.g. --level -40,-10');
        }
        const weights = String(o.weights);
        if (weights !== 'float32' && weights !== 'float16') throw new HilError(`--weights must be float32 or float16, got "${weights}"`);
        // tfjs loads only for this command, not for every `hil` invocation.
        const { initTf } = await import('../model/tfBackend.js');
        const { loadTrainCorpus } = await import('../model/dataset.js');
        const { train, DEFAULT_LOSS, LOSS_KINDS } = await import('../model/train.js');
        const loss = (o.loss ?? DEFAULT_LOSS) as (typeof LOSS_KINDS)[number];
        if (!LOSS_KINDS.includes(loss)) throw new HilError(`unknown --loss "${String(o.loss)}"`, `use one of ${LOSS_KINDS.join(', ')}`);
        const info = await initTf({ backend: o.backend as BackendChoice });
        process.stderr.write(`hil train: backend ${info.backend}${info.simd ? ' (SIMD)' : ''}${info.kernelFixes ? ' with kernel fixes' : ''}\n`);
        const dir = await (await import('../data/corpus.js')).resolveCorpusDir(String(o.corpus));
        const valLimit = o.valLimit === undefined ? undefined : intOption('val-limit', o.valLimit as string, 0);
        const corpus = loadTrainCorpus(dir, { valLimit });
        process.stderr.write(`hil train: corpus ${dir}: ${corpus.speech.length} speech, ${corpus.noise.length} noise, ${corpus.val.length} val mixtures\n`);
        const out = resolve(String(o.out));
        const result = await train({
          arch,
          hop,
          corpus,
          epochs,
          seed: intOption('seed', o.seed as string, 1),
          qat: { enabled: Boolean(o.qat) },
          outDir: out,
          batchSize: batch,
          workers,
          frames: intOption('frames', o.frames as string, 100),
          lr,
          loss,
          featureNorm: o.featureNorm !== false,
          levelDb: level && [level[0], level[1]],
          saveWeights: weights,
          init: o.init ? loadFloatModel(String(o.init)) : undefined,
          backend: o.backend as BackendChoice,
          valEvery: o.valEvery === undefined ? undefined : intOption('val-every', o.valEvery as string, 1),
          log: (line) => process.stderr.write(`${line}\n`),
          provenance: { command: `hil ${process.argv.slice(2).join(' ')}` },
          overwrite: o.overwrite === true,
        });
        const last = result.history.at(-1);
        if (last) {
          process.stdout.write(
            `${out}/model.json: val SI-SDR ${last.valSisdr.toFixed(2)} dB vs noisy ${last.valSisdrNoisy.toFixed(2)} dB (${(last.valSisdr - last.valSisdrNoisy).toFixed(2)} dB improvement), ${last.wallSeconds.toFixed(0)} s\n`,
          );
        }
      }),
    );
}
