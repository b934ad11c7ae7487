/**
 * Training data from a hil corpus (`hil data build`, src/data/): train speech is remixed with
 * train noise every epoch at random SNRs and levels, seeded by (seed, epoch) so that an epoch's batches
 * are the same whether or not training was interrupted before it; validation uses the corpus's fixed
 * `val` mixtures. Features and targets are computed here in plain JS (stft.ts), once per batch.
 *
 * The real sizes' train mixtures carry augmentation (reverberation, a device channel, DC: src/data/augment.ts)
 * that a remix of the dry files would throw away. So for each augmented train mixture its clean target
 * (reverberant speech through the channel) joins the speech and its noise residual (noisy − clean: the noise
 * through the same channel, plus the DC) joins the noise. Half the time an augmented target is remixed with
 * its own residual, so that speech and noise share one channel as they do in a real recording; otherwise
 * with any noise. Corpora without augmented mixtures (tiny, small, paper) batch exactly as before.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { readWavMono } from '../data/wav.js';
import { HilError } from '../util/errors.js';
import { sha256 } from '../util/fsx.js';
import { logPowerFeatures, N_BINS, stft, type Spectrum } from './stft.js';

export interface CorpusEntry {
  id: string;
  split: string;
  path: string;
}

interface MixtureRef extends CorpusEntry {
  cleanPath: string;
  augment?: unknown;
}

/** The val mixtures the manifest lists, or (older corpora, test fixtures) those found in val/noisy. */
function valMixtures(dir: string, listed: MixtureRef[] | undefined): MixtureRef[] {
  if (listed) return listed.filter((m) => m.split === 'val').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const noisyDir = join(dir, 'val', 'noisy');
  if (!existsSync(noisyDir)) return [];
  return readdirSync(noisyDir)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .map((f) => ({ id: f.slice(0, -4), split: 'val', path: join('val', 'noisy', f), cleanPath: join('val', 'clean', f) }));
}

export interface ValItem {
  id: string;
  noisy: Float32Array;
  clean: Float32Array;
}

export interface TrainCorpus {
  dir: string;
  /** SHA-256 of manifest.json: identifies the corpus in provenance and checkpoints. */
  manifestSha256: string;
  speech: Float32Array[];
  noise: Float32Array[];
  /**
   * For each speech item, the index in `noise` of its own noise residual (an augmented mixture's), or -1.
   * Absent when the corpus has no augmented train mixtures.
   */
  pairedNoise?: number[];
  val: ValItem[];
}

/**
 * SNR range of the per-epoch training remix (docs/training.md, "Data"): a training choice, like
 * LEVEL_RANGE_DB, not the corpus's mixing range (CORPUS_SNR_RANGE_DB in src/data/build.ts), which is
 * fixed in every corpus already built. Both are −5..20 dB today, so training covers the SNRs it is
 * evaluated on.
 */
export const TRAIN_REMIX_SNR_RANGE_DB: [number, number] = [-5, 20];
/** The same for corpora with augmented mixtures: the real sizes' mixing range (REAL_SNR_RANGE_DB). */
export const TRAIN_REMIX_SNR_RANGE_REAL_DB: [number, number] = [-6, 20];
/** How often an augmented target is remixed with its own residual (same channel) rather than any noise. */
export const P_OWN_RESIDUAL = 0.5;
/**
 * Mixture RMS level range (dBFS): the features are absolute log power, so the level must vary. It spans the
 * corpus's own mixtures (about −29 to −12 dBFS in the built-in ones) and quieter input; it was −38..−18
 * at first, which left the val and test mixtures at or above its top.
 */
export const LEVEL_RANGE_DB: [number, number] = [-40, -10];
/**
 * The default for corpora with augmented mixtures: quieter (the real sizes' speech goes down to −45 dBFS) and
 * louder (a close-talking microphone near full scale; the robustness tests go to −6 dBFS).
 */
export const LEVEL_RANGE_REAL_DB: [number, number] = [-45, -6];

/** The mixture level range training uses on `corpus` when none is asked for. */
export function defaultLevelRange(corpus: Pick<TrainCorpus, 'pairedNoise'>): [number, number] {
  return corpus.pairedNoise ? LEVEL_RANGE_REAL_DB : LEVEL_RANGE_DB;
}

function readSamples(path: string): Float32Array {
  return Float32Array.from(readWavMono(path, 16000).samples);
}

/** Loads a corpus directory for training: train speech and noise, and up to `valLimit` val mixtures. */
export function loadTrainCorpus(dir: string, opts: { valLimit?: number } = {}): TrainCorpus {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new HilError(`${dir} is not a hil corpus: ${manifestPath} is missing`, 'build one with `hil data build --size small` or pass --corpus small');
  const text = readFileSync(manifestPath, 'utf8');
  let manifest: { speech?: CorpusEntry[]; noise?: CorpusEntry[]; mixtures?: MixtureRef[] };
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new HilError(`${manifestPath} is not valid JSON: ${(e as Error).message}`, 'rebuild the corpus with `hil data build`');
  }
  const pick = (list: CorpusEntry[] | undefined, split: string) => (list ?? []).filter((e) => e.split === split).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const speechEntries = pick(manifest.speech, 'train');
  const noiseEntries = pick(manifest.noise, 'train');
  if (speechEntries.length === 0 || noiseEntries.length === 0) {
    throw new HilError(`${manifestPath} lists ${speechEntries.length} train speech and ${noiseEntries.length} train noise files`, 'training needs both; rebuild the corpus');
  }
  const speech = speechEntries.map((e) => readSamples(join(dir, e.path)));
  const noise = noiseEntries.map((e) => readSamples(join(dir, e.path)));
  const augmented = (manifest.mixtures ?? []).filter((m) => m.split === 'train' && m.augment).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let pairedNoise: number[] | undefined;
  if (augmented.length > 0) {
    pairedNoise = speech.map(() => -1);
    for (const m of augmented) {
      const noisy = readSamples(join(dir, m.path));
      const clean = readSamples(join(dir, m.cleanPath));
      if (noisy.length !== clean.length) throw new HilError(`${dir}: mixture ${m.id} has noisy and clean files of different lengths`, 'rebuild the corpus with `hil data build`');
      const residual = new Float32Array(noisy.length);
      for (let i = 0; i < noisy.length; i++) residual[i] = noisy[i] - clean[i];
      pairedNoise.push(noise.length);
      speech.push(clean);
      noise.push(residual);
    }
  }
  const val = valMixtures(dir, manifest.mixtures)
    .slice(0, opts.valLimit)
    .map((m) => ({ id: m.id, noisy: readSamples(join(dir, m.path)), clean: readSamples(join(dir, m.cleanPath)) }));
  if (val.length === 0) throw new HilError(`${dir} has no validation mixtures`, 'rebuild the corpus with `hil data build`');
  return { dir, manifestSha256: sha256(text), speech, noise, ...(pairedNoise ? { pairedNoise } : {}), val };
}

export interface Batch {
  batch: number;
  frames: number;
  /** [B][T][257] log2 power of the noisy mixture (int16 scale), the network input. */
  features: Float32Array;
  /** [B][T][257] |X| of noisy and clean, in float scale (samples in [-1, 1)). */
  noisyMag: Float32Array;
  cleanMag: Float32Array;
  /** [B][T][257] the noisy STFT in float scale, and [B][T·hop] the clean samples: for time-domain losses. */
  noisyRe?: Float32Array;
  noisyIm?: Float32Array;
  clean?: Float32Array;
  /**
   * Knowledge distillation: a teacher's masks for these sequences ([B][T][257]) and the weight of the
   * loss against the teacher's output (losses.ts `batchLoss`). Travels with the batch so that
   * data-parallel workers need no teacher of their own.
   */
  distill?: { mask: Float32Array; weight: number };
}

function power(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s / Math.max(1, x.length);
}

/** A random crop of `length` samples (zero-padded when the source is shorter), wrapping for noise. */
function crop(src: Float32Array, length: number, rng: () => number, wrap: boolean): Float32Array {
  const out = new Float32Array(length);
  if (wrap) {
    const start = Math.floor(rng() * src.length);
    for (let i = 0; i < length; i++) out[i] = src[(start + i) % src.length];
  } else if (src.length >= length) {
    out.set(src.subarray(Math.floor(rng() * (src.length - length + 1))).subarray(0, length));
  } else {
    out.set(src, Math.floor(rng() * (length - src.length + 1)));
  }
  return out;
}

/** Mixes speech and noise at `snrDb`, then scales both to `levelDb` mixture RMS (peak-limited to 0.99). */
export function mix(speech: Float32Array, noise: Float32Array, snrDb: number, levelDb: number): { noisy: Float32Array; clean: Float32Array } {
  const ps = power(speech);
  const pn = power(noise);
  const gn = pn > 0 ? (ps > 0 ? Math.sqrt(ps / (pn * 10 ** (snrDb / 10))) : 10 ** (-30 / 20) / Math.sqrt(pn)) : 0;
  const noisy = new Float32Array(speech.length);
  let peak = 0;
  for (let i = 0; i < noisy.length; i++) {
    noisy[i] = speech[i] + gn * noise[i];
    peak = Math.max(peak, Math.abs(noisy[i]));
  }
  const pm = power(noisy);
  let g = pm > 0 ? 10 ** (levelDb / 20) / Math.sqrt(pm) : 1;
  if (peak * g > 0.99) g = 0.99 / peak;
  const clean = new Float32Array(speech.length);
  for (let i = 0; i < noisy.length; i++) {
    noisy[i] *= g;
    clean[i] = speech[i] * g;
  }
  return { noisy, clean };
}

function scaled(x: Float32Array): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] * 32768;
  return y;
}

export function magnitude(spec: Spectrum): Float32Array {
  const m = new Float32Array(spec.re.length);
  for (let i = 0; i < m.length; i++) m[i] = Math.hypot(spec.re[i], spec.im[i]) / 32768;
  return m;
}

/** Spectrum, features and magnitude of float samples (scaled to int16 range as the device sees them). */
export function analyse(samples: Float32Array, hop: number): { spec: Spectrum; features: Float32Array; mag: Float32Array } {
  const spec = stft(scaled(samples), hop);
  return { spec, features: logPowerFeatures(spec), mag: magnitude(spec) };
}

export interface EpochPlan {
  seed: number;
  epoch: number;
  batchSize: number;
  frames: number;
  hop: number;
  /** Mixture RMS range in dBFS (default LEVEL_RANGE_DB). */
  levelDb?: readonly [number, number];
}

/** Steps in one epoch: one segment per train speech file, whole batches only. */
export function stepsPerEpoch(corpus: TrainCorpus, batchSize: number): number {
  return Math.max(1, Math.floor(corpus.speech.length / batchSize));
}

/** The batches of one epoch, deterministic in (seed, epoch). Generated lazily, one at a time. */
export function* epochBatches(corpus: TrainCorpus, plan: EpochPlan): Generator<Batch> {
  const rng = seedrandom(`hil-train:${plan.seed}:epoch:${plan.epoch}`);
  const order = [...corpus.speech.keys()];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const steps = stepsPerEpoch(corpus, plan.batchSize);
  const length = plan.frames * plan.hop;
  const per = plan.frames * N_BINS;
  for (let s = 0; s < steps; s++) {
    const b: Batch = {
      batch: plan.batchSize,
      frames: plan.frames,
      features: new Float32Array(plan.batchSize * per),
      noisyMag: new Float32Array(plan.batchSize * per),
      cleanMag: new Float32Array(plan.batchSize * per),
      noisyRe: new Float32Array(plan.batchSize * per),
      noisyIm: new Float32Array(plan.batchSize * per),
      clean: new Float32Array(plan.batchSize * length),
    };
    for (let k = 0; k < plan.batchSize; k++) {
      const item = order[(s * plan.batchSize + k) % order.length];
      const speech = crop(corpus.speech[item], length, rng, false);
      // Only corpora with augmented mixtures draw the extra number: the others keep their batches.
      const own = corpus.pairedNoise && corpus.pairedNoise[item] >= 0 && rng() < P_OWN_RESIDUAL ? corpus.pairedNoise[item] : -1;
      const noise = crop(corpus.noise[own >= 0 ? own : Math.floor(rng() * corpus.noise.length)], length, rng, true);
      const [snrLo, snrHi] = corpus.pairedNoise ? TRAIN_REMIX_SNR_RANGE_REAL_DB : TRAIN_REMIX_SNR_RANGE_DB;
      const snr = snrLo + rng() * (snrHi - snrLo);
      const [lo, hi] = plan.levelDb ?? defaultLevelRange(corpus);
      const level = lo + rng() * (hi - lo);
      const { noisy, clean } = mix(speech, noise, snr, level);
      const n = analyse(noisy, plan.hop);
      b.features.set(n.features, k * per);
      b.noisyMag.set(n.mag, k * per);
      b.cleanMag.set(magnitude(stft(scaled(clean), plan.hop)), k * per);
      for (let i = 0; i < per; i++) {
        b.noisyRe![k * per + i] = n.spec.re[i] / 32768;
        b.noisyIm![k * per + i] = n.spec.im[i] / 32768;
      }
      b.clean!.set(clean, k * length);
    }
    yield b;
  }
}

/**
 * Per-bin mean and standard deviation of the network's input features over the mixtures of the first
 * training epoch (as training makes them: random SNRs and levels), at most `maxSegments` of them. Stds are
 * floored at `minStd` log2 units so that a nearly constant bin is not amplified into noise.
 */
export function featureStats(corpus: TrainCorpus, plan: Omit<EpochPlan, 'epoch'>, maxSegments = 2000, minStd = 0.5): { mean: Float32Array; std: Float32Array } {
  const sum = new Float64Array(N_BINS);
  const sq = new Float64Array(N_BINS);
  let count = 0;
  let segments = 0;
  for (const b of epochBatches(corpus, { ...plan, epoch: 0 })) {
    for (let i = 0; i < b.features.length; i++) {
      const k = i % N_BINS;
      sum[k] += b.features[i];
      sq[k] += b.features[i] * b.features[i];
    }
    count += b.batch * b.frames;
    segments += b.batch;
    if (segments >= maxSegments) break;
  }
  const mean = new Float32Array(N_BINS);
  const std = new Float32Array(N_BINS);
  for (let k = 0; k < N_BINS; k++) {
    mean[k] = sum[k] / count;
    std[k] = Math.max(minStd, Math.sqrt(Math.max(0, sq[k] / count - (sum[k] / count) ** 2)));
  }
  return { mean, std };
}
