/**
 * Training the streaming SE model (docs/training.md): float or int8 quantization-aware, checkpointed every
 * epoch and resumable, deterministic given the seed. Compression builds on the hooks here: a callback
 * before every step that may set per-matrix pruning masks (see `TrainHooks`), so pruning schedules need
 * no access to the internals.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHS, type ArchName } from './arch.js';
import { type FloatModel, type Tensor, saveFloatModel } from './floatModel.js';
import { HilError } from '../util/errors.js';
import { lockOutput } from '../util/lock.js';
import { appendLine, sha256, writeJsonAtomic } from '../util/fsx.js';
import { toolVersions } from '../util/version.js';
import { sisdr } from '../metrics/index.js';
import { analyse, defaultLevelRange, epochBatches, featureStats, stepsPerEpoch, type Batch, type TrainCorpus } from './dataset.js';
import { istft } from './stft.js';
import { DEFAULT_LOSS, type LossKind } from './losses.js';
import { fixedQuant, observedActivationNames, RangeObserver } from './qat.js';
import { backendInfo, initTf, tf, type BackendChoice } from './tfBackend.js';
import {
  FLOAT_MODE, featureNormFromJson, featureNormToJson, initWeights, matrixNames, SeNet, unfoldFeatureNorm,
  type FeatureNorm, type QuantMode,
} from './tfModel.js';
import { Adam, type AdamState } from './trainAdam.js';
import { stepGradients } from './trainGrad.js';
import { checkWorkers, GradientWorkers } from './trainWorkers.js';

export interface QatOptions {
  /** Fake-quantise weights and activations (int8) once ranges have warmed up; false trains float only. */
  enabled: boolean;
  /** Float steps at the start, which only observe ranges (default 40 % of all steps): QAT from a random
   *  init with ranges of an untrained network clips most activations and recovers slowly. */
  warmupSteps?: number;
  /** Fraction of all steps after which ranges freeze (default 0.8; also in float training, for the exporter). */
  freezeFraction?: number;
  /** Observe ranges every this many steps after the warm-up (observation costs ~30% of a step). */
  observeEvery?: number;
}

export interface TrainOptions {
  arch: ArchName;
  hop?: 128 | 256;
  corpus: TrainCorpus;
  epochs: number;
  seed: number;
  qat: QatOptions;
  outDir: string;
  batchSize?: number;
  /** Frames per training sequence. */
  frames?: number;
  lr?: number;
  /** Final learning rate as a fraction of `lr` (cosine decay over all steps). */
  lrFloor?: number;
  /** Start from these weights (fine-tuning, compression) instead of a seeded random init. */
  init?: FloatModel;
  hooks?: TrainHooks;
  backend?: BackendChoice;
  kernelFixes?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * Train exactly this many steps: the last epoch ends early, and schedules (learning rate, QAT, the
   * hooks' totalSteps) run over these steps. Absent (or ≥ epochs × steps per epoch): every step of every
   * epoch. A compression profile's `fine_tune.steps` on a corpus whose epoch is longer than the budget
   * (the real corpus: 575 steps) needs it; on a corpus whose epochs divide it, it changes nothing.
   */
  steps?: number;
  /** Stop after this many epochs in this call (tests use it to simulate an interruption). */
  stopAfterEpochs?: number;
  /** Validate every this many epochs (and after the last); default: about 20 validations per run. */
  valEvery?: number;
  /** Extra provenance merged into model.json (e.g. the CLI command line). */
  provenance?: Record<string, unknown>;
  /** Training loss (default 'mag+sisdr'; see `LossKind`). */
  loss?: LossKind;
  /**
   * Normalise the features per bin inside the model (default true): statistics of the first epoch's
   * mixtures, or the init model's `featureNorm`; folded into fc_in in model.json.
   */
  featureNorm?: boolean;
  /** Mixture RMS range of the training mixtures, dBFS (default LEVEL_RANGE_DB of dataset.ts). */
  levelDb?: [number, number];
  /** How model.json stores the weights (default float32; float16 halves a large model, see floatModel.ts). */
  saveWeights?: 'float32' | 'float16';
  /**
   * What else the result depends on that these options do not show, e.g. the compression profile whose
   * `hooks` prune: merged into the checkpoint fingerprint, so a checkpoint made under other values is
   * refused rather than resumed. Keys must not collide with train's own (arch, hop, corpus, seed, …).
   */
  extraFingerprint?: Record<string, unknown>;
  /** Discard the training state in `outDir` (checkpoint, log, model) and start over. */
  overwrite?: boolean;
  /** What the `outDir` lock says its holder is doing (default "hil train"). */
  lockedBy?: string;
  /**
   * Data-parallel parts per step (default 1): the main thread and `workers − 1` worker threads each take
   * `batchSize/workers` sequences and the gradients are averaged (trainWorkers.ts). Not part of the
   * checkpoint fingerprint: a run may resume with another count (then not bit-identical to one that did not).
   */
  workers?: number;
  /**
   * Knowledge distillation: each step also computes `teacher`'s float masks for the batch, and the loss
   * mixes in, with this weight, the loss against the teacher's output (losses.ts `batchLoss`). The teacher
   * must take the same features (same hop); compression uses the dense baseline.
   */
  distill?: { teacher: FloatModel; weight: number };
}



/** What a step callback sees and may change. */
export interface StepContext {
  /** Global step index from 0 (continues across resume). */
  readonly step: number;
  readonly epoch: number;
  readonly stepInEpoch: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** Prunable weight matrices, canonical names ([out][in], row-major). */
  readonly matrices: readonly string[];
  shape(name: string): number[];
  /** Current values of a weight (a copy). */
  weights(name: string): Float32Array;
  mask(name: string): Float32Array | undefined;
  /** Sets (or clears) a 0/1 mask; it multiplies the weight immediately, in every forward, and after every update. */
  setMask(name: string, mask: Float32Array | undefined): void;
}

export interface EpochSummary {
  epoch: number;
  step: number;
  loss: number;
  valSisdr: number;
  valSisdrNoisy: number;
  stepsPerSec: number;
  wallSeconds: number;
  rangesFrozen: boolean;
}

export interface TrainHooks {
  /** Before every step (masks set here hold for that step), including the first after a resume. */
  beforeStep?(ctx: StepContext): void;
  /** After each epoch, before its checkpoint is written. */
  afterEpoch?(summary: EpochSummary, ctx: StepContext): void;
}

export interface TrainResult {
  model: FloatModel;
  history: EpochSummary[];
  resumedFromEpoch: number;
}

const CHECKPOINT = 'checkpoint.json';
const LOG = 'train-log.jsonl';
/** The level range of the first checkpoints (they carry no levelDb in their fingerprint). */
const LEGACY_LEVEL_DB = [-38, -18] as const;

interface Checkpoint {
  format: 'hil-train-checkpoint';
  version: 1;
  fingerprint: Record<string, unknown>;
  epochsDone: number;
  step: number;
  weights: Record<string, { shape: number[]; base64: string }>;
  masks: Record<string, string>;
  adam: { t: number; m: Record<string, string>; v: Record<string, string> };
  observer: ReturnType<RangeObserver['toJSON']>;
  history: EpochSummary[];
  /** The feature normalisation the weights act on (absent: raw features). */
  featureNorm?: { mean: number[]; std: number[] };
}

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const unb64 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

export interface Schedule {
  totalSteps: number;
  warmupSteps: number;
  freezeStep: number;
  observeEvery: number;
}

export function qatSchedule(qat: QatOptions, totalSteps: number): Schedule {
  return {
    totalSteps,
    warmupSteps: qat.warmupSteps ?? Math.max(1, Math.round(0.4 * totalSteps)),
    freezeStep: Math.round((qat.freezeFraction ?? 0.8) * totalSteps),
    observeEvery: qat.observeEvery ?? 4,
  };
}

/** The quantization a forward uses at `step` (QAT only after the warm-up; float training never). */
export function quantModeAt(qat: QatOptions, sched: Schedule, step: number, observer: RangeObserver): QuantMode {
  if (!qat.enabled || step < sched.warmupSteps) return FLOAT_MODE;
  return { weights: true, act: (name) => observer.params(name) };
}

function shouldObserve(sched: Schedule, step: number, observer: RangeObserver): boolean {
  if (observer.frozen) return false;
  return step % sched.observeEvery === 0;
}

/** One optimizer step on a batch. Returns the loss before the update. */
export function trainStep(net: SeNet, adam: Adam, batch: Batch, mode: QuantMode, lr: number, observer?: RangeObserver, loss: LossKind = 'mag'): number {
  const { value, grads, ranges } = stepGradients(net, batch, mode, observer !== undefined, loss);
  adam.apply(grads, lr);
  tf.dispose(Object.values(grads));
  net.applyMasks();
  if (ranges && observer) for (const [name, [mn, mx]] of Object.entries(ranges)) observer.observe(name, mn, mx);
  return value;
}

/**
 * Enhances whole utterances with the network (in the given quantization), as the device would: n_fft/hop − 1
 * extra zero frames flush the overlap-add so that the output covers the whole input. Returns audio in
 * float scale, time-aligned with the input.
 */
export function enhance(net: SeNet, clips: Float32Array[], mode: QuantMode = FLOAT_MODE, chunk = 16): Float64Array[] {
  const nBins = net.arch.nBins;
  const pad = 512 - net.hop;
  const out: Float64Array[] = [];
  for (let i0 = 0; i0 < clips.length; i0 += chunk) {
    const group = clips.slice(i0, i0 + chunk);
    const analysed = group.map((c) => {
      const padded = new Float32Array(c.length + pad);
      padded.set(c);
      return analyse(padded, net.hop);
    });
    const T = Math.max(...analysed.map((a) => a.spec.frames));
    const feats = new Float32Array(group.length * T * nBins);
    analysed.forEach((a, k) => feats.set(a.features, k * T * nBins));
    const masks = tf.tidy(() => net.forward(tf.tensor3d(feats, [group.length, T, nBins]), { quant: mode }).mask.dataSync() as Float32Array);
    group.forEach((c, k) => {
      const a = analysed[k];
      const y = istft(a.spec, net.hop, c.length, masks.subarray(k * T * nBins, (k * T + a.spec.frames) * nBins));
      for (let n = 0; n < y.length; n++) y[n] /= 32768;
      out.push(y);
    });
  }
  return out;
}

/** Mean SI-SDR of the enhanced val mixtures, and of the noisy ones, against clean. */
export function validate(net: SeNet, items: { noisy: Float32Array; clean: Float32Array }[], mode: QuantMode): { sisdr: number; noisySisdr: number } {
  const est = enhance(net, items.map((it) => it.noisy), mode);
  let sum = 0;
  let sumNoisy = 0;
  items.forEach((it, k) => {
    const ref = Float64Array.from(it.clean);
    sum += sisdr(ref, est[k]);
    sumNoisy += sisdr(ref, Float64Array.from(it.noisy));
  });
  return { sisdr: sum / items.length, noisySisdr: sumNoisy / items.length };
}

function lrAt(base: number, floor: number, step: number, total: number): number {
  const p = Math.min(1, step / Math.max(1, total));
  return base * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

function loadCheckpoint(path: string): Checkpoint {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
    if (c.format !== 'hil-train-checkpoint' || c.version !== 1) throw new Error(`format ${String(c.format)}`);
    return c;
  } catch (e) {
    throw new HilError(`cannot resume from ${path}: ${(e as Error).message}`, 'pass --overwrite to start over, or use another --out');
  }
}

/** The teacher of distillation, float; its weights are never updated (no optimizer holds them). */
function teacherNet(teacher: FloatModel, hop: 128 | 256): SeNet {
  if (teacher.hop !== hop) throw new HilError(`the distillation teacher runs at hop ${teacher.hop}, the student at ${hop}`, 'distil from a model of the same hop');
  // model.json holds fc_in with the feature normalisation folded in, so the raw features go in as they are.
  return new SeNet(teacher.arch, hop, teacher.weights);
}

function teacherMasks(teacher: SeNet, batch: Batch): Float32Array {
  return tf.tidy(() => {
    const feats = tf.tensor3d(batch.features, [batch.batch, batch.frames, teacher.arch.nBins]);
    return teacher.forward(feats, { quant: FLOAT_MODE }).mask.dataSync() as Float32Array;
  });
}

function modelSha(m: FloatModel | undefined): string | null {
  if (!m) return null;
  return sha256(JSON.stringify(Object.entries(m.weights).map(([k, t]) => [k, t.shape, b64(t.data)])));
}

/**
 * Trains (or resumes training) and writes `<outDir>/model.json`, `<outDir>/train-log.jsonl` and
 * `<outDir>/checkpoint.json` (after every epoch, atomically). Rerunning with the same options continues
 * from the last completed epoch; a checkpoint from different options is refused.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new HilError(`epochs must be a positive integer, got ${opts.epochs}`);
  checkWorkers(opts.workers ?? 1, opts.batchSize ?? 16);
  const hop = opts.hop ?? 256;
  if (opts.init && (opts.init.arch !== opts.arch || opts.init.hop !== hop)) {
    throw new HilError(`initial model is ${opts.init.arch} hop ${opts.init.hop}, training asks for ${opts.arch} hop ${hop}`, 'pass a matching --arch/--hop');
  }
  // One process trains in a directory at a time: two would overwrite each other's checkpoint and log.
  const lock = lockOutput(opts.outDir, opts.lockedBy ?? 'hil train');
  try {
    if (opts.overwrite) for (const f of [CHECKPOINT, LOG, 'model.json']) rmSync(join(opts.outDir, f), { force: true });
    return await trainLocked(opts);
  } finally {
    lock.release();
  }
}

async function trainLocked(opts: TrainOptions): Promise<TrainResult> {
  const arch = ARCHS[opts.arch];
  const hop = opts.hop ?? 256;
  const batchSize = opts.batchSize ?? 16;
  const frames = opts.frames ?? 100;
  const lr = opts.lr ?? 2e-3;
  const lrFloor = opts.lrFloor ?? 0.05;
  const loss = opts.loss ?? DEFAULT_LOSS;
  const useNorm = opts.featureNorm ?? true;
  const levelDb = opts.levelDb ?? defaultLevelRange(opts.corpus);
  const log = opts.log ?? (() => {});
  const workers = opts.workers ?? 1;
  const info = await initTf({ backend: opts.backend, kernelFixes: opts.kernelFixes });
  const corpus = opts.corpus;
  const perEpoch = stepsPerEpoch(corpus, batchSize);
  const capped = opts.steps !== undefined && opts.steps < perEpoch * opts.epochs;
  const totalSteps = capped ? opts.steps! : perEpoch * opts.epochs;
  const sched = qatSchedule(opts.qat, totalSteps);
  const fingerprint = {
    arch: opts.arch,
    hop,
    corpus: corpus.manifestSha256,
    seed: opts.seed,
    qat: opts.qat,
    epochs: opts.epochs,
    batchSize,
    frames,
    lr,
    lrFloor,
    init: modelSha(opts.init),
    // Added after the first checkpoints were written: present only when not the original behaviour, so
    // those checkpoints still resume under the options they were made with.
    ...(loss !== 'mag' ? { loss } : {}),
    ...(useNorm ? { featureNorm: 'per-bin' } : {}),
    ...(levelDb[0] !== LEGACY_LEVEL_DB[0] || levelDb[1] !== LEGACY_LEVEL_DB[1] ? { levelDb } : {}),
    ...(opts.distill ? { distill: { teacher: modelSha(opts.distill.teacher), weight: opts.distill.weight } } : {}),
    ...(capped ? { steps: totalSteps } : {}),
    // Only callers that pass it (hil compress) add it, so `hil train` checkpoints keep resuming as before.
    ...opts.extraFingerprint,
  };

  const ckptPath = join(opts.outDir, CHECKPOINT);
  const logPath = join(opts.outDir, LOG);
  let ckpt: Checkpoint | undefined;
  if (existsSync(ckptPath)) {
    ckpt = loadCheckpoint(ckptPath);
    const keys = [...new Set([...Object.keys(fingerprint), ...Object.keys(ckpt.fingerprint)])];
    const diff = keys.filter((k) => JSON.stringify(ckpt!.fingerprint[k]) !== JSON.stringify((fingerprint as Record<string, unknown>)[k]));
    // More epochs than the checkpoint was made for extends the run: the learning-rate and QAT schedules are
    // stretched over the new total from the step reached (the cosine picks up where the longer run would be).
    if (diff.length === 1 && diff[0] === 'epochs' && opts.epochs > (ckpt.fingerprint.epochs as number)) {
      log(`extending ${opts.outDir} from ${String(ckpt.fingerprint.epochs)} to ${opts.epochs} epochs`);
      // A run that has begun quantization-aware training stays in it: the stretched warm-up may end later.
      sched.warmupSteps = Math.min(sched.warmupSteps, qatSchedule(opts.qat, perEpoch * (ckpt.fingerprint.epochs as number)).warmupSteps);
    } else if (diff.length === 1 && diff[0] === 'epochs') {
      throw new HilError(`${ckptPath} was made for ${String(ckpt.fingerprint.epochs)} epochs; --epochs ${opts.epochs} would shorten it`, `pass --epochs ${String(ckpt.fingerprint.epochs)} or more to resume or extend it, or use another --out`);
    } else if (diff.length > 0) {
      throw new HilError(`${ckptPath} belongs to a different training run (differs in: ${diff.join(', ')})`, 'rerun with the same options to resume, use another --out, or pass --overwrite to start over');
    }
  }

  let weights: Record<string, Tensor>;
  let norm: FeatureNorm | undefined;
  if (ckpt) {
    weights = Object.fromEntries(Object.entries(ckpt.weights).map(([k, s]) => [k, { shape: s.shape, data: unb64(s.base64) }]));
    norm = ckpt.featureNorm ? featureNormFromJson(ckpt.featureNorm) : undefined;
  } else {
    if (useNorm) norm = opts.init?.featureNorm ? featureNormFromJson(opts.init.featureNorm) : featureStats(corpus, { seed: opts.seed, batchSize, frames, hop, levelDb });
    // Any statistics unfold a folded fc_in exactly (the function does not change), the init's own ones
    // reproduce the weights it was trained with.
    weights = opts.init ? (norm ? unfoldFeatureNorm(opts.init.weights, norm) : opts.init.weights) : initWeights(arch, opts.seed);
  }
  const net = new SeNet(opts.arch, hop, weights, norm);
  const teacher = opts.distill ? teacherNet(opts.distill.teacher, hop) : undefined;
  const adam = new Adam(net.vars);
  let observer = new RangeObserver();
  if (opts.init && !ckpt) for (const [k, r] of Object.entries(opts.init.ranges)) observer.ranges[k] = [r[0], r[1]];
  let epochsDone = 0;
  let step = 0;
  const history: EpochSummary[] = [];
  if (ckpt) {
    const s: AdamState = { t: ckpt.adam.t, m: {}, v: {} };
    for (const k of Object.keys(ckpt.adam.m)) {
      s.m[k] = unb64(ckpt.adam.m[k]);
      s.v[k] = unb64(ckpt.adam.v[k]);
    }
    adam.restore(s);
    for (const [k, m] of Object.entries(ckpt.masks)) net.setMask(k, unb64(m));
    observer = RangeObserver.fromJSON(ckpt.observer);
    epochsDone = ckpt.epochsDone;
    step = ckpt.step;
    history.push(...ckpt.history);
    log(`resuming ${opts.outDir} after epoch ${epochsDone}/${opts.epochs} (step ${step})`);
  }
  const resumedFromEpoch = epochsDone;

  const matrices = matrixNames(arch);
  const ctx = (epoch: number, stepInEpoch: number): StepContext => ({
    step,
    epoch,
    stepInEpoch,
    stepsPerEpoch: perEpoch,
    totalSteps,
    matrices,
    shape: (n) => net.vars[n].shape.slice(),
    weights: (n) => net.vars[n].dataSync() as Float32Array,
    mask: (n) => (net.masks[n] ? (net.masks[n].dataSync() as Float32Array) : undefined),
    setMask: (n, m) => net.setMask(n, m),
  });

  const t0 = Date.now() - (history.at(-1)?.wallSeconds ?? 0) * 1000;
  const stopAt = opts.stopAfterEpochs === undefined ? opts.epochs : Math.min(opts.epochs, epochsDone + opts.stopAfterEpochs);
  let pool: GradientWorkers | undefined;
  try {
    if (workers > 1 && epochsDone < stopAt) {
      pool = await GradientWorkers.start(workers, net, { backend: info.backend as BackendChoice, kernelFixes: info.kernelFixes });
      log(`${workers} data-parallel parts per step: the main thread and ${workers - 1} worker thread${workers > 2 ? 's' : ''}, ${batchSize / workers} sequences each`);
    }
    for (let epoch = epochsDone; epoch < stopAt; epoch++) {
      let lossSum = 0;
      let n = 0;
      const te = Date.now();
      let si = 0;
      // A step budget (`steps`) ends the last epoch early.
      const inEpoch = Math.min(perEpoch, totalSteps - epoch * perEpoch);
      for (const batch of epochBatches(corpus, { seed: opts.seed, epoch, batchSize, frames, hop, levelDb })) {
        if (si >= inEpoch) break;
        opts.hooks?.beforeStep?.(ctx(epoch, si));
        if (step === sched.freezeStep) observer.frozen = true;
        const mode = quantModeAt(opts.qat, sched, step, observer);
        const observe = shouldObserve(sched, step, observer);
        const stepLr = lrAt(lr, lrFloor, step, totalSteps);
        if (teacher) batch.distill = { mask: teacherMasks(teacher, batch), weight: opts.distill!.weight };
        const value = pool
          ? await pool.step(net, adam, batch, mode, observer, stepLr, observe ? observer : undefined, loss)
          : trainStep(net, adam, batch, mode, stepLr, observe ? observer : undefined, loss);
        if (!Number.isFinite(value)) throw new Error(`loss became ${value} at step ${step}`);
        lossSum += value;
        n++;
        step++;
        si++;
        if (si % 10 === 0 || si === inEpoch) {
          const sps = si / ((Date.now() - te) / 1000);
          log(`epoch ${epoch + 1}/${opts.epochs} step ${si}/${inEpoch} loss ${(lossSum / n).toFixed(5)} ${sps.toFixed(2)} steps/s`);
        }
      }
      const stepsPerSec = n / ((Date.now() - te) / 1000);
      const mode = quantModeAt(opts.qat, sched, step, observer);
      const valEvery = opts.valEvery ?? Math.max(1, Math.round(opts.epochs / 20));
      const val = (epoch + 1) % valEvery === 0 || epoch + 1 === opts.epochs ? validate(net, corpus.val, mode) : { sisdr: NaN, noisySisdr: NaN };
      const summary: EpochSummary = {
        epoch: epoch + 1,
        step,
        loss: lossSum / Math.max(1, n),
        valSisdr: val.sisdr,
        valSisdrNoisy: val.noisySisdr,
        stepsPerSec,
        wallSeconds: (Date.now() - t0) / 1000,
        rangesFrozen: observer.frozen,
      };
      history.push(summary);
      opts.hooks?.afterEpoch?.(summary, ctx(epoch, perEpoch));
      const gain = val.sisdr - val.noisySisdr;
      log(
        `epoch ${epoch + 1}/${opts.epochs} step ${step} loss ${summary.loss.toFixed(5)} ${stepsPerSec.toFixed(2)} steps/s` +
          (Number.isNaN(val.sisdr) ? '' : ` val SI-SDR ${val.sisdr.toFixed(2)} dB (noisy ${val.noisySisdr.toFixed(2)} dB, ${(gain >= 0 ? '+' : '') + gain.toFixed(2)} dB)`),
      );
      appendLine(logPath, JSON.stringify({ type: 'epoch', ...summary, quant: mode === FLOAT_MODE ? 'float' : 'int8-fake', workers }));
      writeCheckpoint(ckptPath, { fingerprint, epochsDone: epoch + 1, step, net, adam, observer, history, norm });
    }
    const model = net.toFloatModel(opts.seed, exportRanges(observer, arch), {
      producer: 'hil train',
      corpus: { dir: corpus.dir, manifestSha256: corpus.manifestSha256 },
      seed: opts.seed,
      epochs: history.length,
      steps: step,
      batchSize,
      frames,
      lr,
      lrFloor,
      loss,
      levelDb,
      featureNorm: norm ? 'per-bin (folded into fc_in; statistics in featureNorm)' : 'none',
      qat: { ...opts.qat, ...sched, rangesFrozen: observer.frozen },
      init: fingerprint.init,
      masks: Object.fromEntries(Object.keys(net.masks).map((k) => [k, sparsity(net.masks[k])])),
      backend: { name: info.backend, simd: info.simd, kernelFixes: info.kernelFixes },
      // Of this call; earlier chunks of a resumed run may have used other counts (train-log.jsonl says).
      workers,
      versions: { ...toolVersions(), tfjs: info.tfjsVersion },
      validation: history.at(-1) ? { sisdr: history.at(-1)!.valSisdr, noisySisdr: history.at(-1)!.valSisdrNoisy, items: corpus.val.length } : null,
      wallSeconds: history.at(-1)?.wallSeconds ?? 0,
      ...opts.provenance,
    });
    if (history.length === opts.epochs) saveFloatModel(join(opts.outDir, 'model.json'), model, { weights: opts.saveWeights });
    return { model, history, resumedFromEpoch };
  } finally {
    await pool?.close();
    adam.dispose();
    net.dispose();
  }
}

function sparsity(mask: tf.Tensor): number {
  const d = mask.dataSync();
  let z = 0;
  for (const v of d) if (v === 0) z++;
  return z / d.length;
}

/** Observed ranges for the exporter; fixed-quantization tensors are left to the format. */
function exportRanges(observer: RangeObserver, arch: (typeof ARCHS)[ArchName]): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const name of observedActivationNames(arch)) {
    const r = observer.ranges[name];
    if (r && !fixedQuant(name)) out[name] = [r[0], r[1]];
  }
  return out;
}

function writeCheckpoint(
  path: string,
  s: { fingerprint: Record<string, unknown>; epochsDone: number; step: number; net: SeNet; adam: Adam; observer: RangeObserver; history: EpochSummary[]; norm?: FeatureNorm },
): void {
  const a = s.adam.state();
  const c: Checkpoint = {
    format: 'hil-train-checkpoint',
    version: 1,
    fingerprint: s.fingerprint,
    epochsDone: s.epochsDone,
    step: s.step,
    weights: Object.fromEntries(Object.entries(s.net.readWeights()).map(([k, t]) => [k, { shape: t.shape, base64: b64(t.data) }])),
    masks: Object.fromEntries(Object.entries(s.net.masks).map(([k, m]) => [k, b64(m.dataSync() as Float32Array)])),
    adam: { t: a.t, m: Object.fromEntries(Object.entries(a.m).map(([k, v]) => [k, b64(v)])), v: Object.fromEntries(Object.entries(a.v).map(([k, v]) => [k, b64(v)])) },
    observer: s.observer.toJSON(),
    history: s.history,
    ...(s.norm ? { featureNorm: featureNormToJson(s.norm) } : {}),
  };
  writeJsonAtomic(path, c);
}

export { backendInfo };
export { batchLoss, DEFAULT_LOSS, LOSS_KINDS, maskedSignal, sisdrLoss, spectralLoss, type LossKind } from './losses.js';
