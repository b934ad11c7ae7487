/**
 * `hil data build`: plans every file of a corpus from the size and seed (and the user's directories), runs
 * the jobs that are not already done on two TTS/sox lanes, and writes the manifest. Phases run in order
 * because each depends on the last: speech and noise files first, then mixtures, whose cache keys include
 * the hashes of the speech and noise they mix.
 */
import { mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { HilError } from '../util/errors.js';
import { sha256, sha256File, writeFileAtomic } from '../util/fsx.js';
import { HIL_VERSION } from '../util/version.js';
import { encodePcm16, readWavMono } from './wav.js';
import { PEAK_TARGET, normalizePeak, peak, rms, segment, toInt16WithFloor } from './audio.js';
import { babbleRecipe, renderBabble, type BabbleRecipe } from './babble.js';
import { convertFile, probe } from './convert.js';
import { onInterrupt } from '../util/interrupt.js';
import { Journal, type JournalFile } from './journal.js';
import { withLock } from './lock.js';
import {
  CORPUS_FORMAT,
  CORPUS_VERSION,
  manifestProblem,
  type CorpusManifest,
  type MixtureEntry,
  type NoiseEntry,
  type RejectedFile,
  type SizeName,
  type SpeechEntry,
} from './manifest.js';
import { mixAtSnr } from './mix.js';
import { forEachOnLanes } from './pool.js';
import { listRecorded, requireRecorded, type RecordedFile } from './recorded.js';
import { rngFor, round } from './rng.js';
import { SIZES, type SizeSpec } from './sizes.js';
import { AudioDecodeError, CORPUS_RATE } from './sox.js';
import { indexSentences, renderSpeech, speechRecipe, type SpeechRecipe } from './speech.js';
import { renderSynth, synthRecipe, SYNTHETIC_CATEGORIES, type SynthRecipe } from './synthNoise.js';
import { loadSentences, type SentenceSource } from './text.js';
import { audioToolVersions, requireTools } from './tools.js';
import { TtsWorker } from './tts.js';
import { categoryOf, declaredSplit, listAudio, speakerOf, splitGroups, type UserFile } from './userCorpus.js';
import { assignVoices, SPLITS, type Split } from './voices.js';
import { applyChannel, applyReverb, augmentRecipe, mixAugmented, REAL_SNR_RANGE_DB } from './augment.js';
import { listRealSpeech, realBabbleJobs, realSpeechJobs, realTestNoiseJobs, realToolVersions, sourcesSummary, type RealInputs } from './realBuild.js';
import { requireSpeechData } from './realSources.js';
import { CORPUS_SPLITS } from './manifest.js';

/** Bump when any recipe or algorithm changes what a file contains: every cache key changes with it. */
export const GENERATOR_VERSION = 1;

/**
 * SNR range of the corpus's fixed mixtures (docs/corpus.md, "Mixtures"): what val and test measure, fixed
 * in each mixture's manifest entry when the corpus is built. Training remixes train speech at its own
 * range (TRAIN_REMIX_SNR_RANGE_DB in src/model/dataset.ts).
 */
export const CORPUS_SNR_RANGE_DB: [number, number] = [-5, 20];
/** Recorded files shorter than this (interface blips, single hoof-beats) are not ambiences. */
const MIN_RECORDED_SECONDS = 1.5;
/** Share of each recorded category held out for validation and for test. */
const RECORDED_HELD_OUT = 0.1;

export interface BuildOptions {
  size: SizeName;
  seed: number;
  /** Corpus directory; defaults to defaultCorpusDir(size, seed) when no user directory is given. */
  out?: string;
  /** A user's clean speech, replacing the TTS speech. */
  cleanDir?: string;
  /** A user's noise, replacing the built-in noise. */
  noiseDir?: string;
  /** Regular expression whose first group is the speaker of a --clean-dir file (matched on its relative path). */
  speakerPattern?: string;
  /** Parallel TTS/sox lanes (default 2). */
  jobs?: number;
}

export type ProgressEvent =
  | { kind: 'phase'; phase: string; total: number }
  | { kind: 'tick'; phase: string; reused: boolean }
  | { kind: 'warn'; message: string };
export type Progress = (e: ProgressEvent) => void;

export interface BuildResult {
  dir: string;
  manifest: CorpusManifest;
  /** Jobs run and jobs whose files were reused from an earlier build. */
  generated: number;
  reused: number;
  /** True when the manifest was already current and no job ran at all. */
  upToDate: boolean;
}

/** `$HIL_HOME/corpus/<size>-seed<seed>`, HIL_HOME defaulting to ~/.cache/hil. */
export function hilHome(): string {
  return process.env.HIL_HOME || join(process.env.HOME || tmpdir(), '.cache', 'hil');
}

export function defaultCorpusDir(size: SizeName, seed: number): string {
  return join(hilHome(), 'corpus', `${size}-seed${seed}`);
}

interface UserDir {
  root: string;
  files: UserFile[];
}

interface Context {
  dir: string;
  size: SizeName;
  spec: SizeSpec;
  seed: number;
  lanes: number;
  tools: Record<string, string>;
  sentences: SentenceSource | null;
  clean: (UserDir & { pattern?: RegExp }) | null;
  noise: UserDir | null;
  recorded: RecordedFile[] | null;
  /** The real sizes' recorded speech (installed files, byte-identical repeats removed). */
  real: RealInputs | null;
  buildKey: string;
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function fingerprint(files: { rel: string; bytes: number; mtimeMs: number }[]): string {
  return sha256(files.map((f) => `${f.rel}\t${f.bytes}\t${f.mtimeMs}`).join('\n'));
}

/** Checks the options and the machine, lists the inputs and derives the build key; no audio work. */
function prepare(options: BuildOptions): Context {
  const { size, seed } = options;
  const spec = SIZES[size];
  if (!spec) throw new HilError(`unknown corpus size "${size}"`, 'use small, paper, real-small or real');
  if (!Number.isSafeInteger(seed) || seed < 0) throw new HilError(`--seed must be a non-negative integer, got ${seed}`);
  const lanes = options.jobs ?? 2;
  if (!Number.isInteger(lanes) || lanes < 1) throw new HilError(`--jobs must be a positive integer, got ${lanes}`);
  if (!options.out && (options.cleanDir || options.noiseDir)) {
    throw new HilError('a corpus built from your own files needs its own directory', 'add --out <dir>; the default directory is kept for the built-in corpus');
  }
  const dir = resolve(options.out ?? defaultCorpusDir(size, seed));
  for (const [flag, input] of [['--clean-dir', options.cleanDir], ['--noise-dir', options.noiseDir]] as const) {
    const inDir = input ? resolve(input) : null;
    if (inDir && (isInside(dir, inDir) || isInside(inDir, dir))) {
      throw new HilError(`--out ${dir} overlaps ${flag} ${inDir}`, 'build into a separate directory: a build removes audio in its directory that its manifest does not list');
    }
  }
  // A build prunes its directory; a directory of someone else's files must never be taken for a corpus.
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, 'manifest.json')) && !existsSync(join(dir, '.hil-cache'))) {
    throw new HilError(`${dir} exists and is not a hil corpus`, 'choose a new or empty directory for --out');
  }
  let pattern: RegExp | undefined;
  if (options.speakerPattern !== undefined) {
    try {
      pattern = new RegExp(options.speakerPattern);
    } catch (e) {
      throw new HilError(`--speaker-pattern is not a regular expression: ${(e as Error).message}`);
    }
  }
  const clean = options.cleanDir ? { root: resolve(options.cleanDir), files: listAudio(resolve(options.cleanDir), '--clean-dir'), pattern } : null;
  const noise = options.noiseDir ? { root: resolve(options.noiseDir), files: listAudio(resolve(options.noiseDir), '--noise-dir') } : null;
  requireTools({ tts: !clean, babble: !noise });
  let recorded: RecordedFile[] | null = null;
  if (!noise && spec.recorded) {
    requireRecorded(size);
    recorded = listRecorded({ real: spec.real !== undefined });
  }
  let real: RealInputs | null = null;
  if (spec.real) {
    if (clean || noise) throw new HilError(`--size ${size} builds from the speech-data packages`, 'use --size small or paper with --clean-dir/--noise-dir');
    requireSpeechData(size);
    real = listRealSpeech();
  }
  const sentences = !clean || !noise ? loadSentences() : null;
  const tools = real ? { ...audioToolVersions(), ...realToolVersions() } : audioToolVersions();
  if (real && tools.ffmpeg === 'absent') throw new HilError(`the ${size} corpus needs ffmpeg to decode G.722 and Opus, not found`, 'install it with `bash scripts/setup.sh --with-speech-data` (Debian: ffmpeg)');
  const buildKey = sha256(
    JSON.stringify({
      generator: GENERATOR_VERSION,
      format: CORPUS_VERSION,
      spec,
      seed,
      tools,
      text: sentences?.sha256 ?? null,
      clean: clean ? { root: clean.root, files: fingerprint(clean.files), pattern: options.speakerPattern ?? null } : null,
      noise: noise ? { root: noise.root, files: fingerprint(noise.files) } : null,
      recorded: recorded ? fingerprint(recorded.map((f) => ({ rel: f.path, bytes: f.bytes, mtimeMs: f.mtimeMs }))) : null,
      // Only the real sizes have this field: the keys of tiny, small and paper are unchanged.
      ...(real ? { real: sha256(real.speech.map((f) => `${f.path}\t${f.hash}`).join('\n')) } : {}),
    }),
  );
  return { dir, size, spec, seed, lanes, tools, sentences, clean, noise, recorded, real, buildKey };
}

// ---------------------------------------------------------------------------------------------------------
// Jobs

interface Output<M> {
  pcm: Int16Array[];
  meta: M;
}

interface Job<M> {
  id: string;
  key: string;
  /** Relative output paths, one per pcm array the job returns. */
  paths: string[];
  run(worker: TtsWorker): Promise<Output<M>>;
  /** A job on a user's file: an unreadable file is reported and skipped, not fatal. */
  userFile?: string;
}

interface Done<M> {
  id: string;
  files: JournalFile[];
  meta: M;
}

class Runner {
  generated = 0;
  reused = 0;
  readonly rejected: RejectedFile[] = [];
  private readonly workers: TtsWorker[] = [];
  private readonly tmp: string;
  private readonly forget: () => void;

  constructor(
    private readonly ctx: Context,
    private readonly journal: Journal,
    private readonly progress: Progress,
  ) {
    this.tmp = mkdtempSync(join(tmpdir(), 'hil-corpus-'));
    this.forget = onInterrupt(() => this.close());
  }

  private worker(lane: number): TtsWorker {
    return (this.workers[lane] ??= new TtsWorker(this.tmp, lane));
  }

  async phase<M>(name: string, jobs: Job<M>[]): Promise<Done<M>[]> {
    this.progress({ kind: 'phase', phase: name, total: jobs.length });
    const done = new Map<string, Done<M>>();
    await forEachOnLanes(jobs, this.ctx.lanes, async (job, lane) => {
      const cached = this.journal.reusable<M>(job.id, job.key);
      if (cached) {
        done.set(job.id, { id: job.id, files: cached.files, meta: cached.meta });
        this.reused++;
        this.progress({ kind: 'tick', phase: name, reused: true });
        return;
      }
      let out: Output<M>;
      try {
        out = await job.run(this.worker(lane));
      } catch (e) {
        if (job.userFile && e instanceof AudioDecodeError) {
          const reason = e.reason;
          this.rejected.push({ file: job.userFile, reason });
          this.progress({ kind: 'warn', message: `skipping ${job.userFile}: ${reason}` });
          this.progress({ kind: 'tick', phase: name, reused: false });
          return;
        }
        throw e;
      }
      const files = out.pcm.map((pcm, i) => {
        const bytes = encodePcm16(pcm, CORPUS_RATE);
        writeFileAtomic(join(this.ctx.dir, job.paths[i]), bytes);
        return { path: job.paths[i], sha256: sha256(bytes) };
      });
      this.journal.record({ job: job.id, key: job.key, files, meta: out.meta });
      done.set(job.id, { id: job.id, files, meta: out.meta });
      this.generated++;
      this.progress({ kind: 'tick', phase: name, reused: false });
    });
    // In job order, not completion order: the manifest must not depend on which lane finished first.
    return jobs.flatMap((j) => (done.has(j.id) ? [done.get(j.id)!] : []));
  }

  close(): void {
    this.forget();
    for (const w of this.workers) w?.close();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

function jobKey(ctx: Context, what: unknown): string {
  return sha256(JSON.stringify({ generator: GENERATOR_VERSION, tools: ctx.tools, what }));
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const seconds = (pcm: Int16Array) => pcm.length / CORPUS_RATE;
const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '') || 'x';

type SpeechMeta = Omit<SpeechEntry, 'sha256'>;
type NoiseMeta = { entry: Omit<NoiseEntry, 'sha256'>; pcmHash: string };
type MixMeta = Omit<MixtureEntry, 'sha256' | 'cleanSha256'>;

function ttsSpeechJobs(ctx: Context): Job<SpeechMeta>[] {
  const voices = assignVoices(rngFor(ctx.seed, 'voices'));
  const sentences = indexSentences(ctx.sentences!.sentences);
  const jobs: Job<SpeechMeta>[] = [];
  for (const split of SPLITS) {
    for (let i = 0; i < ctx.spec.speech[split]; i++) {
      const id = `sp-${split}-${pad(i, 5)}`;
      const r: SpeechRecipe = speechRecipe(ctx.seed, id, split, voices.clean[split]);
      const path = `speech/${split}/${r.voice.id}/${id}.wav`;
      jobs.push({
        id,
        key: jobKey(ctx, { kind: 'tts-speech', seed: ctx.seed, recipe: r, text: ctx.sentences!.sha256 }),
        paths: [path],
        run: async (worker) => {
          const out = await renderSpeech(ctx.seed, r, sentences, worker);
          const meta: SpeechMeta = {
            id,
            split,
            path,
            duration: seconds(out.samples),
            engine: r.voice.engine,
            voice: r.voice.id,
            speaker: r.voice.speaker,
            text: out.text,
            rate: out.rate,
            pitch: r.pitch,
            warp: r.warp,
            ...(r.accent ? { accent: r.accent } : {}),
          };
          return { pcm: [out.samples], meta };
        },
      });
    }
  }
  return jobs;
}

/** User audio as corpus audio: level kept unless it would clip, digital silence replaced by the floor. */
function userPcm(audio: Float32Array, seed: number, id: string): Int16Array {
  const level = peak(audio) >= 1 ? normalizePeak(audio, PEAK_TARGET) : audio;
  return toInt16WithFloor(level, rngFor(seed, 'floor', id));
}

function userSpeechJobs(ctx: Context): Job<SpeechMeta>[] {
  const { root, files, pattern } = ctx.clean!;
  const speakers = new Map<string, Split | null>();
  const speakerOfFile = new Map<UserFile, string>();
  for (const f of files) {
    const s = speakerOf(f.rel, pattern);
    speakerOfFile.set(f, s);
    const declared = declaredSplit(f.rel);
    const known = speakers.get(s);
    if (known !== undefined && known !== declared) {
      throw new HilError(`--clean-dir: speaker ${s} has files in more than one split folder (${f.rel})`, 'a speaker must stay in one split; fix the folders or the --speaker-pattern');
    }
    speakers.set(s, declared);
  }
  const splitOf = splitGroups(speakers, rngFor(ctx.seed, 'user-clean-split'), `--clean-dir ${root}`);
  const jobs: Job<SpeechMeta>[] = [];
  for (const split of SPLITS) {
    const mine = files.filter((f) => splitOf.get(speakerOfFile.get(f)!) === split);
    mine.forEach((f, i) => {
      const id = `sp-${split}-${pad(i, 5)}`;
      const speaker = speakerOfFile.get(f)!;
      const path = `speech/${split}/${safeName(speaker)}/${id}.wav`;
      jobs.push({
        id,
        key: jobKey(ctx, { kind: 'user-speech', seed: ctx.seed, id, file: f.path, bytes: f.bytes, mtimeMs: f.mtimeMs }),
        paths: [path],
        userFile: f.path,
        run: async () => {
          const c = await convertFile(f.path);
          const pcm = userPcm(c.audio, ctx.seed, id);
          const meta: SpeechMeta = { id, split, path, duration: seconds(pcm), engine: 'user', voice: safeName(speaker), speaker, text: null, rate: 1, pitch: 0, warp: 1, source: f.rel };
          return { pcm: [pcm], meta };
        },
      });
    });
  }
  return jobs;
}

function noiseMeta(entry: Omit<NoiseEntry, 'sha256'>, audio: Float32Array | Float64Array): NoiseMeta {
  return { entry, pcmHash: sha256(new Uint8Array(Float32Array.from(audio).buffer)) };
}

function syntheticJobs(ctx: Context): Job<NoiseMeta>[] {
  const { perCategory, seconds: len } = ctx.spec.synthetic;
  const jobs: Job<NoiseMeta>[] = [];
  for (const category of SYNTHETIC_CATEGORIES) {
    let realisation = 0;
    for (const split of SPLITS) {
      for (let k = 0; k < perCategory[split]; k++, realisation++) {
        const id = `${category}-${split}-${pad(k, 3)}`;
        const r: SynthRecipe = synthRecipe(category, realisation, len, rngFor(ctx.seed, 'synth', id));
        const path = `noise/${split}/${category}/${id}.wav`;
        jobs.push({
          id,
          key: jobKey(ctx, { kind: 'synth', seed: ctx.seed, recipe: r }),
          paths: [path],
          run: async () => {
            const audio = normalizePeak(await renderSynth(r));
            const pcm = toInt16WithFloor(audio, rngFor(ctx.seed, 'floor', id));
            const entry = {
              id,
              split,
              path,
              duration: seconds(pcm),
              category,
              source: { package: 'sox', file: null, recipe: `sox -R -n -r ${CORPUS_RATE} -c ${r.channels} out.wav ${r.effects.join(' ')}` },
              licence: 'CC0-1.0',
            };
            return { pcm: [pcm], meta: noiseMeta(entry, audio) };
          },
        });
      }
    }
  }
  return jobs;
}

function babbleJobs(ctx: Context): Job<NoiseMeta>[] {
  const voices = assignVoices(rngFor(ctx.seed, 'voices'));
  const jobs: Job<NoiseMeta>[] = [];
  for (const split of SPLITS) {
    for (let k = 0; k < ctx.spec.babble.files[split]; k++) {
      const id = `babble-${split}-${pad(k, 3)}`;
      const r: BabbleRecipe = babbleRecipe(ctx.seed, id, split, voices.babble[split], ctx.spec.babble.seconds);
      const path = `noise/${split}/babble/${id}.wav`;
      jobs.push({
        id,
        key: jobKey(ctx, { kind: 'babble', seed: ctx.seed, recipe: r, text: ctx.sentences!.sha256 }),
        paths: [path],
        run: async (worker) => {
          const audio = await renderBabble(ctx.seed, r, ctx.sentences!.sentences, worker);
          const pcm = toInt16WithFloor(audio, rngFor(ctx.seed, 'floor', id));
          const talkers = r.talkers.map((t) => `${t.voice.id}/${t.accent}`);
          const entry = { id, split, path, duration: seconds(pcm), category: 'babble', source: { package: 'espeak-ng', file: null, talkers }, licence: 'CC0-1.0' };
          return { pcm: [pcm], meta: noiseMeta(entry, audio) };
        },
      });
    }
  }
  return jobs;
}

/**
 * Recorded ambiences: one file per recording (symlinked and byte-identical copies count once), long enough
 * to be an ambience, dealt to splits per category so that every split hears every category with ≥ 3 files.
 */
async function recordedJobs(ctx: Context, progress: Progress): Promise<Job<NoiseMeta>[]> {
  const seen = new Set<string>();
  const unique: (RecordedFile & { hash: string })[] = [];
  for (const f of ctx.recorded!) {
    const hash = sha256File(f.real);
    if (seen.has(hash)) continue;
    seen.add(hash);
    unique.push({ ...f, hash });
  }
  progress({ kind: 'phase', phase: 'probe recorded noise', total: unique.length });
  const long = new Set<string>();
  await forEachOnLanes(unique, ctx.lanes, async (f) => {
    const p = await probe(f.real).catch(() => null);
    if (p && p.seconds >= MIN_RECORDED_SECONDS) long.add(f.hash);
    progress({ kind: 'tick', phase: 'probe recorded noise', reused: false });
  });
  const byCategory = new Map<string, (RecordedFile & { hash: string })[]>();
  for (const f of unique.filter((u) => long.has(u.hash))) {
    if (!byCategory.has(f.category)) byCategory.set(f.category, []);
    byCategory.get(f.category)!.push(f);
  }
  const jobs: Job<NoiseMeta>[] = [];
  for (const [category, files] of [...byCategory].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const deck = rngFor(ctx.seed, 'recorded-split', category).shuffle(files);
    const held = deck.length >= 3 ? Math.max(1, Math.round(RECORDED_HELD_OUT * deck.length)) : 0;
    deck.forEach((f, i) => {
      // The real sizes have no TTS test split: their held-out noise is real-test's own; 10 % validates.
      const split: Split = ctx.spec.real ? (i < held ? 'val' : 'train') : i < held ? 'test' : i < 2 * held ? 'val' : 'train';
      const id = `${f.source.short}-${safeName(f.rel.replace(/\.[^.]+$/, '').replace(/\/sounds\//g, '/').replace(/\//g, '-'))}`;
      const path = `noise/${split}/${category}/${id}.wav`;
      jobs.push({
        id,
        key: jobKey(ctx, { kind: 'recorded', seed: ctx.seed, split, category, source: f.hash }),
        paths: [path],
        run: async () => {
          const c = await convertFile(f.real, { trimSilence: true });
          const audio = normalizePeak(c.audio);
          const pcm = toInt16WithFloor(audio, rngFor(ctx.seed, 'floor', id));
          const entry = {
            id,
            split,
            path,
            duration: seconds(pcm),
            category,
            source: { package: f.source.package, file: f.path },
            licence: f.source.licence(f.rel),
            ...(c.bandLimitedHz ? { bandLimitedHz: c.bandLimitedHz } : {}),
          };
          return { pcm: [pcm], meta: noiseMeta(entry, audio) };
        },
      });
    });
  }
  return jobs.sort((a, b) => (a.id < b.id ? -1 : 1));
}

function userNoiseJobs(ctx: Context): Job<NoiseMeta>[] {
  const { root, files } = ctx.noise!;
  const groups = new Map<string, Split | null>(files.map((f) => [f.rel, declaredSplit(f.rel)]));
  const splitOf = splitGroups(groups, rngFor(ctx.seed, 'user-noise-split'), `--noise-dir ${root}`);
  const jobs: Job<NoiseMeta>[] = [];
  for (const split of SPLITS) {
    files
      .filter((f) => splitOf.get(f.rel) === split)
      .forEach((f, i) => {
        const id = `noise-${split}-${pad(i, 5)}`;
        const category = safeName(categoryOf(f.rel));
        const path = `noise/${split}/${category}/${id}.wav`;
        jobs.push({
          id,
          key: jobKey(ctx, { kind: 'user-noise', seed: ctx.seed, id, file: f.path, bytes: f.bytes, mtimeMs: f.mtimeMs }),
          paths: [path],
          userFile: f.path,
          run: async () => {
            const c = await convertFile(f.path);
            const pcm = userPcm(c.audio, ctx.seed, id);
            const entry = {
              id,
              split,
              path,
              duration: seconds(pcm),
              category,
              source: { package: 'user', file: f.rel },
              licence: 'as supplied (see the source corpus)',
              ...(c.bandLimitedHz ? { bandLimitedHz: c.bandLimitedHz } : {}),
            };
            return { pcm: [pcm], meta: noiseMeta(entry, c.audio) };
          },
        });
      });
  }
  return jobs;
}

/** Noise files decoded for mixing, a few at a time (mixture jobs run grouped by noise file). */
class NoiseCache {
  private readonly map = new Map<string, Float64Array>();
  constructor(private readonly limit: number) {}
  get(path: string): Float64Array {
    let x = this.map.get(path);
    if (x) {
      this.map.delete(path);
    } else {
      x = readWavMono(path).samples;
      if (this.map.size >= this.limit) this.map.delete(this.map.keys().next().value!);
    }
    this.map.set(path, x);
    return x;
  }
}

/** Tries for a noise segment that carries the file's sound rather than a pause in it. */
const OFFSET_TRIES = 6;

function pickOffset(noise: Float64Array, length: number, seed: number, id: string): number {
  const rng = rngFor(seed, 'mix-offset', id);
  const whole = rms(noise);
  let best = 0;
  let bestLevel = -1;
  for (let t = 0; t < OFFSET_TRIES; t++) {
    const offset = noise.length > length ? rng.int(0, noise.length - length) : rng.int(0, noise.length - 1);
    const level = rms(segment(noise, offset, length));
    if (level >= whole / 10) return offset; // within 20 dB of the file's level: a real part of it
    if (level > bestLevel) [best, bestLevel] = [offset, level];
  }
  return best;
}

/** A split's noise files by category (categories sorted, so a seeded pick is stable); none for a split that has speech is an error. */
function noiseBySplitCategory(noise: NoiseEntry[], split: string, needed: boolean, hint: string): { categories: Map<string, NoiseEntry[]>; names: string[] } {
  const categories = new Map<string, NoiseEntry[]>();
  for (const n of noise.filter((x) => x.split === split)) {
    if (!categories.has(n.category)) categories.set(n.category, []);
    categories.get(n.category)!.push(n);
  }
  if (needed && categories.size === 0) throw new HilError(`no noise file ended up in the ${split} split`, hint);
  return { categories, names: [...categories.keys()].sort() };
}

function mixtureJobs(ctx: Context, speech: SpeechEntry[], noise: NoiseEntry[]): Job<MixMeta>[] {
  const jobs: (Job<MixMeta> & { noiseId: string })[] = [];
  const cache = new NoiseCache(8);
  for (const split of SPLITS) {
    const mine = speech.filter((s) => s.split === split);
    const { categories, names } = noiseBySplitCategory(noise, split, mine.length > 0, 'give --noise-dir more readable files, or train/val/test folders');
    mine.forEach((s, i) => {
      const id = `mx-${split}-${pad(i, 5)}`;
      const rng = rngFor(ctx.seed, 'mix', id);
      const n = rng.pick(categories.get(rng.pick(names))!);
      const snrDb = round(rng.uniform(CORPUS_SNR_RANGE_DB[0], CORPUS_SNR_RANGE_DB[1]), 2);
      const paths = [`${split}/noisy/${id}.wav`, `${split}/clean/${id}.wav`];
      jobs.push({
        id,
        noiseId: n.id,
        key: jobKey(ctx, { kind: 'mix', seed: ctx.seed, id, speech: [s.id, s.sha256], noise: [n.id, n.sha256], snrDb }),
        paths,
        run: async () => {
          const clean = readWavMono(join(ctx.dir, s.path)).samples;
          const noiseAudio = cache.get(join(ctx.dir, n.path));
          const noiseOffset = pickOffset(noiseAudio, clean.length, ctx.seed, id);
          const m = mixAtSnr(clean, noiseAudio, snrDb, noiseOffset);
          const meta: MixMeta = {
            id,
            split,
            path: paths[0],
            duration: seconds(m.noisy),
            cleanPath: paths[1],
            speech: s.id,
            noise: n.id,
            snrDb,
            noiseOffset,
            speechGain: m.speechGain,
            noiseGain: m.noiseGain,
          };
          return { pcm: [m.noisy, m.clean], meta };
        },
      });
    });
  }
  // Grouped by noise file so the decoded-noise cache hits; results are put back in id order by the runner.
  const order = (j: { noiseId: string; id: string }) => `${j.noiseId}\u0000${j.id}`;
  return jobs.sort((a, b) => (order(a) < order(b) ? -1 : 1));
}

/**
 * The real sizes' mixtures, in every split including real-test: reverberation on the speech, the device
 * channel on speech and noise, speech level, SNR (after the channel, as the network hears it) and DC offset,
 * all drawn per mixture (augment.ts) and recorded in its entry.
 */
function augmentedMixtureJobs(ctx: Context, speech: SpeechEntry[], noise: NoiseEntry[]): Job<MixMeta>[] {
  const jobs: (Job<MixMeta> & { noiseId: string })[] = [];
  const cache = new NoiseCache(8);
  for (const split of CORPUS_SPLITS) {
    const mine = speech.filter((s) => s.split === split);
    const { categories, names } = noiseBySplitCategory(noise, split, mine.length > 0, 'check the speech-data and noise-data packages');
    mine.forEach((s, i) => {
      const id = `mx-${split}-${pad(i, 5)}`;
      const rng = rngFor(ctx.seed, 'mix', id);
      const n = rng.pick(categories.get(rng.pick(names))!);
      const snrDb = round(rng.uniform(REAL_SNR_RANGE_DB[0], REAL_SNR_RANGE_DB[1]), 2);
      const a = augmentRecipe(ctx.seed, id);
      const paths = [`${split}/noisy/${id}.wav`, `${split}/clean/${id}.wav`];
      jobs.push({
        id,
        noiseId: n.id,
        key: jobKey(ctx, { kind: 'mix-augmented', seed: ctx.seed, id, speech: [s.id, s.sha256], noise: [n.id, n.sha256], snrDb, augment: a }),
        paths,
        run: async () => {
          const dry = readWavMono(join(ctx.dir, s.path)).samples;
          const noiseAudio = cache.get(join(ctx.dir, n.path));
          const noiseOffset = pickOffset(noiseAudio, dry.length, ctx.seed, id);
          const target = await applyChannel(await applyReverb(dry, a.reverb), a.channel);
          const noiseCh = await applyChannel(segment(noiseAudio, noiseOffset, dry.length), a.channel);
          const m = mixAugmented(target, noiseCh, snrDb, a);
          const meta: MixMeta = {
            id,
            split,
            path: paths[0],
            duration: seconds(m.noisy),
            cleanPath: paths[1],
            speech: s.id,
            noise: n.id,
            snrDb,
            noiseOffset,
            speechGain: m.speechGain,
            noiseGain: m.noiseGain,
            augment: { reverb: a.reverb, channel: a.channel, speechLevelDb: a.speechLevelDb, writtenLevelDb: m.speechLevelDb, dc: a.dc, dcOffset: m.dcOffset },
          };
          return { pcm: [m.noisy, m.clean], meta };
        },
      });
    });
  }
  const order = (j: { noiseId: string; id: string }) => `${j.noiseId}\u0000${j.id}`;
  return jobs.sort((x, y) => (order(x) < order(y) ? -1 : 1));
}

/** Normalised correlation at zero lag over the common length. */
function correlation(a: Float64Array, b: Float64Array): number {
  const n = Math.min(a.length, b.length);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Two encodings of one recording (megaglest ships its winter wind twice, at two levels) correlate > 0.99. */
const DUPLICATE_CORRELATION = 0.95;
const DUPLICATE_LENGTH_TOLERANCE = 0.001;

/**
 * Drops noise files that repeat an earlier one: the same decoded audio under another name, or the same
 * recording encoded again (equal length, waveforms correlated). A duplicate in another split would leak the
 * recording across splits. Only file-based noise is compared; generated noise differs by construction.
 */
function dropDuplicateNoise(dir: string, done: Done<NoiseMeta>[], progress: Progress): Done<NoiseMeta>[] {
  const dropped = new Set<string>();
  const name = (d: Done<NoiseMeta>) => d.meta.entry.source.file ?? d.id;
  const drop = (d: Done<NoiseMeta>, first: Done<NoiseMeta>) => {
    dropped.add(d.id);
    progress({ kind: 'warn', message: `noise ${name(d)} repeats ${name(first)}: left out` });
  };
  const byHash = new Map<string, Done<NoiseMeta>>();
  for (const d of done) {
    const first = byHash.get(d.meta.pcmHash);
    if (first) drop(d, first);
    else byHash.set(d.meta.pcmHash, d);
  }
  const files = done
    .map((d, order) => ({ d, order, length: Math.round(d.meta.entry.duration * CORPUS_RATE) }))
    .filter((x) => x.d.meta.entry.source.file !== null && !dropped.has(x.d.id))
    .sort((a, b) => a.length - b.length || a.order - b.order);
  const audio = new Map<string, Float64Array>();
  const read = (d: Done<NoiseMeta>) => audio.get(d.id) ?? audio.set(d.id, readWavMono(join(dir, d.files[0].path)).samples).get(d.id)!;
  for (let i = 0; i < files.length; i++) {
    for (let j = i + 1; j < files.length && files[j].length <= files[i].length * (1 + DUPLICATE_LENGTH_TOLERANCE); j++) {
      const [a, b] = files[i].order < files[j].order ? [files[i], files[j]] : [files[j], files[i]];
      if (dropped.has(a.d.id) || dropped.has(b.d.id)) continue;
      if (correlation(read(a.d), read(b.d)) > DUPLICATE_CORRELATION) drop(b.d, a.d);
    }
    audio.delete(files[i].d.id);
  }
  return done.filter((d) => !dropped.has(d.id));
}

// ---------------------------------------------------------------------------------------------------------
// Verification, pruning, the manifest

/** True when every file the manifest lists is present with its recorded hash. */
function filesIntact(dir: string, m: CorpusManifest, hash: boolean): boolean {
  const check = (p: string, h: string) => existsSync(join(dir, p)) && (!hash || sha256File(join(dir, p)) === h);
  return (
    m.speech.every((e) => check(e.path, e.sha256)) &&
    m.noise.every((e) => check(e.path, e.sha256)) &&
    m.mixtures.every((e) => check(e.path, e.sha256) && check(e.cleanPath, e.cleanSha256))
  );
}

function readManifest(dir: string): CorpusManifest | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    return manifestProblem(m) ? null : (m as CorpusManifest);
  } catch {
    return null;
  }
}

/**
 * Removes audio a previous build left that the new manifest does not list (another seed or size built into
 * the same directory, a rejected file), and temporary files of interrupted writes: readers that list
 * `<split>/noisy` must see exactly the manifest's mixtures.
 */
function prune(dir: string, keep: Set<string>): void {
  const walk = (rel: string): boolean => {
    const abs = join(dir, rel);
    if (!existsSync(abs)) return true;
    let empty = true;
    for (const d of readdirSync(abs, { withFileTypes: true })) {
      const r = `${rel}/${d.name}`;
      if (d.isDirectory()) {
        if (walk(r)) rmdirSync(join(dir, r));
        else empty = false;
      } else if ((d.name.endsWith('.wav') && !keep.has(r)) || d.name.endsWith('.tmp')) {
        rmSync(join(dir, r), { force: true });
      } else {
        empty = false;
      }
    }
    return empty;
  };
  for (const top of ['speech', 'noise', ...SPLITS]) walk(top);
}

function textInfo(ctx: Context): CorpusManifest['text'] {
  const s = ctx.sentences;
  return s ? { source: s.kind, sentences: s.sentences.length, sha256: s.sha256 } : { source: 'none', sentences: 0, sha256: sha256('') };
}

async function build(ctx: Context, progress: Progress): Promise<BuildResult> {
  const previous = readManifest(ctx.dir);
  if (previous && previous.buildKey === ctx.buildKey && filesIntact(ctx.dir, previous, true)) {
    return { dir: ctx.dir, manifest: previous, generated: 0, reused: 0, upToDate: true };
  }
  const journal = new Journal(ctx.dir, join(ctx.dir, '.hil-cache', 'journal.jsonl'));
  const runner = new Runner(ctx, journal, progress);
  try {
    const key = (what: unknown) => jobKey(ctx, what);
    const realSpec = ctx.spec.real;
    const speechJobs = ctx.clean ? userSpeechJobs(ctx) : ttsSpeechJobs(ctx);
    if (realSpec && ctx.real) speechJobs.push(...realSpeechJobs(ctx.seed, realSpec, ctx.real, key));
    const speechDone = await runner.phase('speech', speechJobs);
    const speech: SpeechEntry[] = speechDone.map((d) => ({ ...d.meta, sha256: d.files[0].sha256 }));
    if (speech.length === 0) throw new HilError(`no clean speech could be read from ${ctx.clean?.root}`, 'see the messages above for each file');

    let noiseJobs: Job<NoiseMeta>[];
    if (ctx.noise) noiseJobs = userNoiseJobs(ctx);
    else noiseJobs = [...syntheticJobs(ctx), ...babbleJobs(ctx), ...(ctx.recorded ? await recordedJobs(ctx, progress) : [])];
    if (realSpec && ctx.real) noiseJobs.push(...realBabbleJobs(ctx.seed, realSpec, ctx.real, key), ...realTestNoiseJobs(ctx.seed, realSpec, key));
    const noiseDone = dropDuplicateNoise(ctx.dir, await runner.phase('noise', noiseJobs), progress);
    const noise: NoiseEntry[] = noiseDone.map((d) => ({ ...d.meta.entry, sha256: d.files[0].sha256 }) as NoiseEntry);

    const mixDone = await runner.phase('mixtures', realSpec ? augmentedMixtureJobs(ctx, speech, noise) : mixtureJobs(ctx, speech, noise));
    const mixtures: MixtureEntry[] = mixDone
      .map((d) => ({ ...d.meta, sha256: d.files[0].sha256, cleanSha256: d.files[1].sha256 }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));

    const manifest: CorpusManifest = {
      format: CORPUS_FORMAT,
      version: CORPUS_VERSION,
      size: ctx.size,
      seed: ctx.seed,
      sampleRate: CORPUS_RATE,
      buildKey: ctx.buildKey,
      toolVersions: { hil: HIL_VERSION, ...ctx.tools },
      text: textInfo(ctx),
      inputs: ctx.real
        ? { clean: 'tts+recorded', noise: ctx.recorded ? 'synthetic+recorded+real-babble+real-test-noise' : 'synthetic+real-babble+real-test-noise' }
        : { clean: ctx.clean ? ctx.clean.root : 'tts', noise: ctx.noise ? ctx.noise.root : ctx.recorded ? 'synthetic+babble+recorded' : 'synthetic+babble' },
      speech,
      noise,
      mixtures,
      rejected: runner.rejected.sort((a, b) => (a.file < b.file ? -1 : 1)),
      ...(ctx.real ? { sources: sourcesSummary(speech, noise, ctx.real) } : {}),
    };
    const problem = manifestProblem(manifest);
    if (problem) throw new Error(`corpus build produced an invalid manifest: ${problem}`);
    const text = JSON.stringify(manifest, null, 2) + '\n';
    const manifestPath = join(ctx.dir, 'manifest.json');
    if (!existsSync(manifestPath) || readFileSync(manifestPath, 'utf8') !== text) writeFileAtomic(manifestPath, text);
    const keep = new Set([...speech, ...noise].map((e) => e.path).concat(mixtures.flatMap((m) => [m.path, m.cleanPath])));
    prune(ctx.dir, keep);
    journal.compact(new Set([...speechDone, ...noiseDone, ...mixDone].map((d) => d.id)));
    return { dir: ctx.dir, manifest, generated: runner.generated, reused: runner.reused, upToDate: false };
  } finally {
    runner.close();
  }
}

const noProgress: Progress = () => {};

export async function buildCorpus(options: BuildOptions, progress: Progress = noProgress): Promise<BuildResult> {
  const ctx = prepare(options);
  return withLock(
    join(ctx.dir, '.hil-cache', 'lock'),
    () => progress({ kind: 'warn', message: `waiting for another hil process that is building ${ctx.dir}` }),
    () => build(ctx, progress),
  );
}

/**
 * The built-in corpus of this size and seed, built when missing or stale (another seed, new tool versions,
 * a file gone); otherwise returned at once, checking only that its files exist.
 */
export async function ensureCorpus(opts: { size: SizeName; seed: number; jobs?: number }, progress: Progress = noProgress): Promise<{ dir: string; manifest: CorpusManifest }> {
  const ctx = prepare({ size: opts.size, seed: opts.seed, jobs: opts.jobs });
  const current = readManifest(ctx.dir);
  if (current && current.buildKey === ctx.buildKey && filesIntact(ctx.dir, current, false)) return { dir: ctx.dir, manifest: current };
  const r = await withLock(
    join(ctx.dir, '.hil-cache', 'lock'),
    () => progress({ kind: 'warn', message: `waiting for another hil process that is building ${ctx.dir}` }),
    () => build(ctx, progress),
  );
  return { dir: r.dir, manifest: r.manifest };
}
