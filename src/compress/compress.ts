/**
 * `hil compress`: a trained baseline + a profile → a compressed model directory (docs/compression.md):
 * `model.json` (the FloatModel: pruned weights at 0, unit-pruned layers smaller), `model.hilm` (the blob
 * in the profile's encoding) and `manifest.json` (what it costs and how good it is). Learned structures
 * fine-tune through train() with the pruning hooks and QAT (or, with `fine_tune.init: "scratch"`, train from
 * the seeded random init under the same schedule; see `trainStart`); training state lives in `<out>/train/`
 * and a rerun resumes from its checkpoint. The offline baseline prunes the post-training-quantized graph.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ARCHS, type Arch } from '../model/arch.js';
import { loadFloatModel, saveFloatModel, type FloatModel } from '../model/floatModel.js';
import { stepsPerEpoch, type TrainCorpus } from '../model/dataset.js';
import type { BackendChoice } from '../model/tfBackend.js';
import type { QatOptions } from '../model/train.js';
import { floatModelDigest, lowerToQuantGraph } from '../export/lower.js';
import { writeBlobDetailed } from '../export/blob.js';
import type { QuantGraph } from '../export/quantGraph.js';
import { Engine } from '../engine/index.js';
import { HilError } from '../util/errors.js';
import { readJson, sha256, sha256File, writeFileAtomic, writeJsonAtomic } from '../util/fsx.js';
import { lockOutput } from '../util/lock.js';
import { toolVersions } from '../util/version.js';
import { encodingLabel, matchesPrune, type Profile } from './profile.js';
import { prunedMatrices, prunedUnitLayers, pruningHooks } from './hooks.js';
import { shrinkUnits, type ShrinkResult } from './shrink.js';
import { unitLayers } from './structures.js';
import { pruneQuantGraph, zeroPruned } from './offline.js';
import { scoreBlob, scoreFloat, scoreNoisy } from './evaluate.js';
import { COST_MODEL, encodingAlternatives, figuresOf, memoryFigures, nonzeroMacs, paramCounts, sparsityReport } from './manifest.js';
import { runVela, velaVersion, type VelaEstimate } from './vela.js';
import { writeTflite } from '../export/tflite.js';
import { COMPRESS_FORMAT, COMPRESS_VERSION, type CompressManifest } from './manifestSchema.js';
import { matrixNames, weightShape } from '../model/tfModel.js';

export interface CompressOptions {
  /** Baseline: a model directory holding model.json, or a model.json. */
  baseline: string;
  profile: Profile;
  corpus: TrainCorpus;
  outDir: string;
  seed: number;
  /** Overrides the profile's fine-tuning epochs. */
  epochs?: number;
  /** Where the profile's fine-tuning budget came from, for the manifest's `budget.source` when not the
   *  profile file itself (e.g. bench:compress's --budget spec). `epochs` records itself. */
  budgetSource?: string;
  /** Score at most this many val mixtures (default all). */
  valLimit?: number;
  backend?: BackendChoice;
  log?: (line: string) => void;
  command?: string;
  /** Replace what `outDir` holds (a compressed model, training state) instead of refusing another run's. */
  overwrite?: boolean;
}

export type { CompressManifest };

export function baselinePath(spec: string): string {
  const p = resolve(spec);
  if (!existsSync(p)) throw new HilError(`--model ${spec}: no such file or directory`, 'pass a baseline model directory (with model.json) or a model.json');
  if (statSync(p).isDirectory()) {
    const j = join(p, 'model.json');
    if (!existsSync(j)) throw new HilError(`--model ${spec}: the directory has no model.json`, 'compression needs the float baseline (e.g. models/se-small)');
    return j;
  }
  return p;
}

/** A path relative to the working directory when it is below it (manifests get committed). */
function shown(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

/**
 * What a compressed model depends on besides the code: the profile with every resolved field (its file
 * path aside), the baseline's bytes, the corpus and the seed. A manifest or training checkpoint made
 * under another identity is refused, never resumed or silently replaced.
 */
function identityOf(profile: Profile, baselineSha256: string, corpusSha256: string, seed: number) {
  const { source: _source, ...spec } = profile;
  return { profile: spec, baseline: baselineSha256, corpus: corpusSha256, seed };
}

/** Refuses an --out holding a compressed model of another identity (unless overwriting, which clears it). */
function claimOutDir(outDir: string, id: ReturnType<typeof identityOf>, overwrite: boolean): void {
  if (overwrite) {
    for (const f of ['train', 'model.json', 'model.hilm', 'manifest.json']) rmSync(join(outDir, f), { recursive: true, force: true });
    return;
  }
  const path = join(outDir, 'manifest.json');
  if (!existsSync(path)) return;
  let m: Partial<CompressManifest>;
  try {
    m = readJson<Partial<CompressManifest>>(path);
  } catch (e) {
    throw new HilError(`${path} is unreadable (${(e as Error).message})`, 'use another --out, or --overwrite to replace it');
  }
  const differs = [
    m.profile !== id.profile.name && `profile ${String(m.profile)}, not ${id.profile.name}`,
    m.baseline?.sha256 !== id.baseline && 'another baseline',
    m.corpus?.manifestSha256 !== id.corpus && 'another corpus',
    m.seed !== id.seed && `seed ${String(m.seed)}, not ${id.seed}`,
  ].filter(Boolean);
  if (differs.length > 0) throw new HilError(`${outDir} holds a compressed model of another run (${differs.join('; ')})`, 'use another --out, or --overwrite to replace it');
}

/**
 * Every prune entry must name something of this baseline's arch: a profile written for GRUs (`gru0`,
 * `gru0.w_*`) on an LSTM baseline would otherwise prune nothing and still report a compression.
 */
function checkPruneTargets(profile: Profile, arch: Arch, matrices: readonly string[], bPath: string): void {
  const layers = unitLayers(arch).map((l) => l.name);
  for (const p of profile.prune) {
    if (p === 'all') continue;
    const ok = profile.structure === 'unit' ? layers.includes(p) : matrices.some((m) => matchesPrune(m, [p]));
    if (!ok)
      throw new HilError(
        `profile ${profile.name}: prune entry "${p}" names nothing in ${bPath} (arch ${arch.name})`,
        profile.structure === 'unit' ? `list units of ${layers.join(', ')}, or "all"` : `list matrices of ${arch.name} (e.g. ${matrices[2]}) or patterns with *, or "all"`,
      );
  }
}

/**
 * Where training starts and how fast it moves. Fine-tuning starts from the baseline's weights and ranges,
 * quantization-aware from the first step, at the profile's (small) rate. From scratch
 * (`fine_tune.init: "scratch"`) starts from train()'s seeded random init, as `hil train` does, with no
 * trained ranges yet, so QAT waits for `hil train --qat`'s float warm-up; and at the peak and floor rate the
 * baseline itself was trained with, since a fine-tuning rate would leave a random init mostly untrained in
 * a fine-tuning budget.
 */
export function trainStart(profile: Profile, baseline: FloatModel): { init?: FloatModel; qat: QatOptions; lr: number; lrFloor?: number } {
  const ft = profile.fineTune;
  if (ft.init !== 'scratch') return { init: baseline, qat: { enabled: ft.qat, warmupSteps: 0 }, lr: ft.lr };
  const prov = baseline.provenance as { lr?: unknown; lrFloor?: unknown };
  // Baselines record both; train()'s defaults are what one that does not was trained with.
  return { qat: { enabled: ft.qat }, lr: typeof prov.lr === 'number' ? prov.lr : 2e-3, lrFloor: typeof prov.lrFloor === 'number' ? prov.lrFloor : 0.05 };
}

export async function compress(opts: CompressOptions): Promise<CompressManifest> {
  const t0 = Date.now();
  const profile = opts.profile;
  const bPath = baselinePath(opts.baseline);
  const baseline = loadFloatModel(bPath);
  const arch = ARCHS[baseline.arch];
  const full = matrixNames(arch);
  for (const name of full) {
    const want = weightShape(arch, name);
    if (want.join('x') !== baseline.weights[name].shape.join('x'))
      throw new HilError(`${bPath}: ${name} has shape [${baseline.weights[name].shape}], ${arch.name} has [${want}]`, 'compress a full-size baseline, not an already unit-pruned model');
  }
  checkPruneTargets(profile, arch, full, bPath);
  try {
    lowerToQuantGraph(baseline);
  } catch (e) {
    if (e instanceof HilError) throw new HilError(`${bPath} cannot be exported: ${e.message}`, 'the baseline must be a complete trained model (ranges and full-size weights)');
    throw e;
  }
  const id = identityOf(profile, sha256File(bPath), opts.corpus.manifestSha256, opts.seed);
  // One compression per --out at a time; the lock covers the claim check and every write below.
  const lock = lockOutput(opts.outDir, `hil compress ${profile.name}`);
  try {
    claimOutDir(opts.outDir, id, opts.overwrite ?? false);
    return await compressLocked(opts, baseline, bPath, id, t0);
  } finally {
    lock.release();
  }
}

async function compressLocked(opts: CompressOptions, baseline: FloatModel, bPath: string, id: ReturnType<typeof identityOf>, t0: number): Promise<CompressManifest> {
  const log = opts.log ?? (() => {});
  const profile = opts.profile;
  const arch = ARCHS[baseline.arch];
  const full = matrixNames(arch);
  const ft = profile.fineTune;
  const prov = baseline.provenance as { batchSize?: number; frames?: number };
  const batchSize = typeof prov.batchSize === 'number' ? prov.batchSize : 16;
  const frames = typeof prov.frames === 'number' ? prov.frames : 100;
  const perEpoch = stepsPerEpoch(opts.corpus, batchSize);
  const epochs = opts.epochs ?? ft.epochs ?? Math.ceil((ft.steps ?? 0) / perEpoch);
  const s = profile.structure;
  if ((s === 'weight' || s === 'block' || s === 'unit') && epochs < 1) throw new HilError(`--epochs ${epochs}: structure ${s} is learned and needs at least one epoch`, 'use an offline profile to prune without training');

  let model: FloatModel = baseline;
  let graph: QuantGraph;
  let training: CompressManifest['training'] = null;
  let units: ShrinkResult['layers'] | null = null;

  if (s === 'offline') {
    const ptq = lowerToQuantGraph(baseline, { outputBits: profile.outputBits });
    const { graph: g, pruned } = pruneQuantGraph(ptq, profile.sparsity, profile.prune);
    model = zeroPruned(baseline, pruned);
    // The blob identifies the float model its weights now correspond to.
    graph = { ...g, modelId: floatModelDigest(model).readUInt32LE(0) };
    log(`offline: post-training int8, one-shot magnitude pruning to ${(100 * profile.sparsity).toFixed(1)} % of ${pruned.size} FC matrices`);
  } else {
    if (epochs > 0) {
      const { train, LOSS_KINDS } = await import('../model/train.js');
      const start = trainStart(profile, baseline);
      const fromScratch = start.init === undefined;
      if (fromScratch) log(`from scratch: the seeded random init of ${arch.name} (seed ${opts.seed}), lr ${start.lr} as the baseline was trained, ${ft.qat ? 'int8 QAT after the float warm-up' : 'float'}; the baseline gives the arch, corpus and float reference only`);
      // Fine-tuning continues the baseline's own objective: its loss (models from before the loss option
      // were trained on magnitudes) and its feature normalisation, so that dense-int8 and every pruned
      // profile differ from the baseline only by the structure.
      const loss = LOSS_KINDS.find((k) => k === (baseline.provenance as { loss?: unknown }).loss) ?? 'mag';
      // Training's own validation is progress only (the manifest's figures come from the int8 blob below).
      const corpus = { ...opts.corpus, val: opts.corpus.val.slice(0, 8) };
      const result = await train({
        arch: baseline.arch,
        hop: baseline.hop,
        corpus,
        epochs,
        // A step budget ends mid-epoch on a corpus whose epoch is longer (the real corpus: 575 steps), so
        // the profile's 240 steps are 240 there too; where the epochs divide it (the small corpus: 12 per
        // epoch, 20 epochs) it is the same run as before.
        ...(opts.epochs === undefined && ft.epochs === null && ft.steps ? { steps: ft.steps } : {}),
        seed: opts.seed,
        // The start (trainStart): a fine-tuned baseline is trained (with QAT ranges), so fake quantization
        // from the first step, ranges re-observed while the structure changes and frozen at 80 % for the
        // last stretch; from scratch, the random init after a float warm-up.
        ...start,
        outDir: join(opts.outDir, 'train'),
        // The pruning hooks follow the profile: training state of another profile, baseline, corpus or
        // seed must not be resumed under this one's name.
        extraFingerprint: { profile: id.profile, baselineSha256: id.baseline },
        lockedBy: `hil compress ${profile.name}`,
        batchSize,
        frames,
        hooks: pruningHooks(profile, arch, log),
        loss,
        ...(profile.fineTune.distill ? { distill: { teacher: baseline, weight: profile.fineTune.distill } } : {}),
        featureNorm: baseline.featureNorm !== undefined,
        backend: opts.backend,
        valEvery: Math.max(1, Math.ceil(epochs / 4)),
        log,
        provenance: { producer: 'hil compress', profile: profile.name, structure: s, baseline: { path: shown(bPath), digest: hex(floatModelDigest(baseline)) }, ...(fromScratch ? { init: 'scratch' } : {}) },
      });
      model = result.model;
      const last = result.history.at(-1);
      training = { epochs, steps: last?.step ?? 0, lr: start.lr, qat: ft.qat, loss, ...(fromScratch ? { init: { from: 'scratch' as const, seed: opts.seed, lrFloor: start.lrFloor ?? 0.05 } } : {}), ...(profile.fineTune.distill ? { distill: profile.fineTune.distill } : {}), featureNorm: baseline.featureNorm !== undefined, batchSize, frames, history: result.history };
    }
    if (s === 'unit') {
      const shrunk = shrinkUnits(model);
      model = shrunk.model;
      units = shrunk.layers;
      log(`unit: ${Object.entries(units).map(([k, v]) => `${k} ${v.before}→${v.after}`).join(', ')}`);
    }
    model = { ...model, provenance: { ...model.provenance, profile: profile.name } };
    graph = lowerToQuantGraph(model, { outputBits: profile.outputBits });
  }

  const written = writeBlobDetailed(graph, { encoding: profile.encoding });
  const engine = new Engine(written.bytes);
  const own = figuresOf(written);
  const encodings = encodingAlternatives(graph, profile.encoding);
  const baselineDense = figuresOf(writeBlobDetailed(lowerToQuantGraph(baseline), { encoding: { kind: 'dense' } }));

  const vela = velaEstimate(graph, opts.outDir, log);

  const val = opts.corpus.val.slice(0, opts.valLimit);
  log(`validating on ${val.length} val mixtures (host int8 engine, float reference)`);
  const int8 = scoreBlob(written.bytes, val);
  const float = scoreFloat(model, val);
  const noisy = scoreNoisy(val);
  log(`val SDR int8 ${int8.sdr.toFixed(2)} dB, float ${float.sdr.toFixed(2)} dB, noisy ${noisy.sdr.toFixed(2)} dB; SI-SDR int8 ${int8.sisdr.toFixed(2)} dB`);

  const prunedSet = new Set<string>(
    s === 'weight' || s === 'block' || s === 'offline'
      ? prunedMatrices(profile, full)
      : s === 'unit'
        ? prunedUnitLayers(profile, arch).flatMap((l) => [...l.rows, ...l.cols])
        : [],
  );
  const { source, ...spec } = profile;
  const manifest: CompressManifest = {
    format: COMPRESS_FORMAT,
    version: COMPRESS_VERSION,
    profile: profile.name,
    structure: s,
    profileSpec: { ...spec, file: shown(source) },
    arch: baseline.arch,
    hop: baseline.hop,
    seed: opts.seed,
    baseline: { path: shown(bPath), sha256: id.baseline, digest: hex(floatModelDigest(baseline)) },
    corpus: { dir: opts.corpus.dir, manifestSha256: opts.corpus.manifestSha256 },
    sparsity: sparsityReport(model, (n) => prunedSet.has(n), profile.sparsity),
    units,
    params: paramCounts(model),
    blob: { file: 'model.hilm', sha256: sha256(written.bytes), encoding: encodingLabel(profile.encoding), outputBits: profile.outputBits ?? 8, arenaBytes: engine.arenaBytes, ...own, layers: written.layers },
    encodings,
    baselineDense,
    macsPerFrame: { denseBaseline: baselineDense.macsPerFrame, dense: encodings.dense.macsPerFrame, effective: own.macsPerFrame, nonzero: nonzeroMacs(graph) },
    memory: memoryFigures(written.bytes),
    vela,
    cost: { ...COST_MODEL, modelledCyclesPerFrame: own.modelledCyclesPerFrame, modelledSecondsPerFrame: own.modelledCyclesPerFrame / COST_MODEL.clockHz },
    validation: { items: val.length, ids: sha256(val.map((v) => v.id).join('\n')), int8, float, noisy, engine: 'host int8 engine (src/engine, bit-exact with the device)' },
    training,
    budget: {
      steps: profile.fineTune.steps,
      epochs: profile.fineTune.epochs,
      epochsRun: training?.epochs ?? 0,
      stepsRun: training?.steps ?? 0,
      source: opts.epochs !== undefined ? `--epochs ${opts.epochs}` : (opts.budgetSource ?? 'profile'),
    },
    hil: toolVersions(),
    command: opts.command ?? null,
    wallSeconds: (Date.now() - t0) / 1000,
  };
  saveFloatModel(join(opts.outDir, 'model.json'), model);
  writeFileAtomic(join(opts.outDir, 'model.hilm'), written.bytes);
  writeJsonAtomic(join(opts.outDir, 'manifest.json'), manifest);
  return manifest;
}

/**
 * Vela's estimate of this graph's .tflite (written beside the blob) when vela is on PATH. A Vela that
 * fails is logged and recorded as no estimate: the compressed model is still good without it.
 */
function velaEstimate(graph: QuantGraph, outDir: string, log: (line: string) => void): VelaEstimate | null {
  if (velaVersion() === null) return null;
  const tflite = join(outDir, 'model.tflite');
  writeFileAtomic(tflite, writeTflite(graph));
  try {
    const v = runVela(tflite, join(outDir, 'vela'));
    if (v) log(`vela ${v.version}: ${v.totalCycles} cycles, SRAM ${v.sramBytes} B, flash ${v.flashBytes} B (${v.label})`);
    return v;
  } catch (e) {
    log(`vela: ${(e as Error).message}; no Vela estimate recorded`);
    return null;
  }
}
