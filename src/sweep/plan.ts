/**
 * A sweep's plan: which (compressed model, profile, board) jobs a `hil sweep` runs. Models are float
 * baselines (directories holding model.json); profiles are a comma-separated list of names or globs over
 * profiles/*.json ('dense-int8,weight-*'). Each (baseline, profile) needs one compressed model
 * (src/compress/cache.ts), found in this order:
 *
 * 1. `committed`: `<baseline>/compressed/<profile>/`, when its manifest records this baseline, this
 *    version of the profile, the baseline's corpus, the seed and this hil's version;
 * 2. `cache-hit`: the content-addressed cache `$HIL_HOME/compressed/<key>/`;
 * 3. `compress`: neither; prepareSweep compresses it (in this process) into the cache.
 *
 * resolveSweep checks every input and says which it is, touching nothing; planSweep is the plan of a
 * sweep whose models all exist (a model still to compress is a one-line error); prepareSweep compresses
 * the missing ones first.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { cacheDir, checkCorpusFor, compressCacheRoot, compressInto, identityOf, mismatch, type CompressIdentity } from '../compress/cache.js';
import { parseProfile, PROFILES_DIR, type Profile } from '../compress/profile.js';
import { readCompressManifest, type CompressManifest } from '../compress/manifestSchema.js';
import { readBoardFile, resolveBoardPath } from '../board/registry.js';
import { checkLimit } from '../run/benchmark.js';
import { defaultCorpusDir, ensureCorpus } from '../data/corpus.js';
import { SIZE_NAMES, type SizeName } from '../data/manifest.js';
import { HilError } from '../util/errors.js';
import { sha256 } from '../util/fsx.js';
import { parseBlob } from '../engine/index.js';
import { blobMemoryFigures } from '../engine/u55Weights.js';

export interface SweepOptions {
  /** Float baseline directories (each holding model.json and perhaps compressed/<profile>/), e.g. models/se-small. */
  model: string | string[];
  /** Comma-separated profile names or globs (`*`, `?`) over profiles/. */
  profiles: string;
  /** Board names or board files. */
  boards: string[];
  audio?: string;
  clean?: string;
  /** Without `audio`: this split of the built-in corpus (small, seed 1) instead of its test split, whose 8
   *  clips are few for a study: `val` has 32 (the compressions score themselves on these too). */
  split?: BuiltinSplit | CorpusSplit;
  /** Without `audio`: a corpus other than the built-in one, a size `hil data build` makes (built on first
   *  use, seed 1; e.g. `real`, whose `real-test` split holds speakers and noise training never sees) or a
   *  corpus directory; `split` picks its split (default test). */
  corpus?: string;
  limit?: number;
  /** Board instances run at once, by board name ('sim' → 2); 1 for a board not named. */
  instances?: Record<string, number>;
  /** Seed of the compressions (default 1, as the committed models were made). */
  seed?: number;
  /** Where profiles are looked up (tests). */
  profilesDir?: string;
  /** The compressed-model cache (default $HIL_HOME/compressed). */
  cacheRoot?: string;
  /** Val mixtures a compression scores (default all). */
  valLimit?: number;
}

export const BUILTIN_SPLITS = ['test', 'val'] as const;
export type BuiltinSplit = (typeof BUILTIN_SPLITS)[number];
/** The splits a named corpus may have (real-test only in the real sizes). */
export const CORPUS_SPLITS = ['test', 'val', 'real-test'] as const;
export type CorpusSplit = (typeof CORPUS_SPLITS)[number];
const BUILTIN = { size: 'small', seed: 1 } as const;

/** The directory of a sweep's `corpus`: a size name (seed 1) or a directory. */
function corpusDirOf(corpus: string): string {
  return (SIZE_NAMES as readonly string[]).includes(corpus) ? defaultCorpusDir(corpus as SizeName, 1) : resolve(corpus);
}

/** The noisy and clean directories of a split of the built-in corpus. */
export function builtinSplitDirs(split: BuiltinSplit): { audio: string; clean: string } {
  const dir = defaultCorpusDir(BUILTIN.size, BUILTIN.seed);
  return { audio: join(dir, split, 'noisy'), clean: join(dir, split, 'clean') };
}

/** What a sweep row records of the compressed model, read off its manifest. */
export interface ModelFacts {
  profile: string;
  structure: string;
  /** Achieved zero fraction over the pruned matrices. */
  sparsity: number;
  /** The blob's flash bytes as its manifest records them (the model partition). */
  modelFlashBytes: number;
  /** Nonzero int8 weights of the blob's FC layers, one byte each (docs/compression.md figure (b)). */
  nonzeroWeightBytes: number;
  /** Every weight of the weight matrices of the full architecture (dense int8 bytes). */
  denseWeightBytes: number;
  /** Modelled Ethos-U55 encoded weight bytes of the blob (src/engine/u55Weights.ts). */
  u55EncodedWeightBytes: number;
  blobSha256: string;
}

/** Where a (baseline, profile)'s compressed model comes from. */
export type ModelSource = 'committed' | 'cache-hit' | 'compress';

export interface SweepJob {
  /** The compressed model directory passed to runBenchmark. */
  modelDir: string;
  profile: string;
  board: string;
  facts: ModelFacts;
  /** The baseline's name (its directory's), e.g. se-small; planSweep always sets it. */
  model?: string;
  /** How the compressed model was found (committed, cache-hit) or made (compress); planSweep always sets it. */
  source?: ModelSource;
}

export interface SweepBaseline {
  /** The directory's name, e.g. se-small: what rows and the report call the model. */
  name: string;
  dir: string;
  /** SHA-256 of its model.json. */
  sha256: string;
}

/** One (baseline, profile) of a sweep and its compressed model. */
export interface ModelEntry {
  baseline: SweepBaseline;
  profile: Profile;
  id: CompressIdentity;
  source: ModelSource;
  /** Where the compressed model is (or, for `compress`, will be). */
  dir: string;
  /** Why the committed model was not used (null when it was). */
  reason: string | null;
}

export interface SweepDraft {
  baselines: SweepBaseline[];
  profiles: string[];
  boards: string[];
  instances: Record<string, number>;
  entries: ModelEntry[];
  audio: string | null;
  clean: string | null;
  limit: number | undefined;
  seed: number;
  valLimit: number | undefined;
}

export interface SweepPlan {
  /** The first baseline (kept for callers of single-model sweeps); `baselines` lists all. */
  baselineDir: string;
  baselineSha256: string;
  /** Every baseline; planSweep always sets it (a plan without it is the one of baselineDir). */
  baselines?: SweepBaseline[];
  profiles: string[];
  boards: string[];
  instances: Record<string, number>;
  jobs: SweepJob[];
  audio: string | null;
  clean: string | null;
  limit: number | undefined;
  seed?: number;
}

/** `*` any run of characters, `?` one; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Profile names in `dir` matched by a comma-separated list of names and globs, in the order given. */
export function matchProfiles(spec: string, dir = PROFILES_DIR): string[] {
  const names = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length))
        .sort(naturalCompare)
    : [];
  const patterns = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (patterns.length === 0) throw new HilError('--profiles is empty', "give profile names or globs, e.g. 'dense-int8,weight-*'");
  const out: string[] = [];
  for (const p of patterns) {
    const re = globToRegExp(p);
    const hits = names.filter((n) => re.test(n));
    if (hits.length === 0) throw new HilError(`--profiles: "${p}" matches no profile in ${dir}`, `profiles there: ${names.join(', ')}`);
    for (const h of hits) if (!out.includes(h)) out.push(h);
  }
  return out;
}

/** weight-50 before weight-100: numbers compared as numbers. */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export function parseInstances(spec: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!spec) return out;
  for (const part of spec.split(',')) {
    const m = /^\s*([^=\s]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m || Number(m[2]) < 1) throw new HilError(`--instances: "${part}" is not <board>=<n> with n ≥ 1`, 'e.g. --instances sim=2');
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

function factsOf(m: CompressManifest, blob: Uint8Array): ModelFacts {
  const matrices = Object.values(m.sparsity.perMatrix);
  // From the blob, not the manifest: committed manifests predate the figures, and the blob's nonzeros are
  // the int8 ones (a few float weights quantize to 0).
  const mem = blobMemoryFigures(parseBlob(blob));
  return {
    profile: m.profile,
    structure: m.structure,
    sparsity: m.sparsity.achieved,
    modelFlashBytes: m.blob.flashBytes,
    nonzeroWeightBytes: mem.nonzeroWeightBytes,
    denseWeightBytes: matrices.reduce((s, x) => s + x.total, 0),
    u55EncodedWeightBytes: mem.u55EncodedWeightBytes,
    blobSha256: sha256(blob),
  };
}

/** Checks every input and says where each compressed model comes from; touches nothing. */
export function resolveSweep(opts: SweepOptions): SweepDraft {
  const specs = (Array.isArray(opts.model) ? opts.model : opts.model.split(',')).map((m) => m.trim()).filter((m) => m !== '');
  if (specs.length === 0) throw new HilError('--model is empty', 'pass a float baseline, e.g. --model models/se-small');
  const baselines: SweepBaseline[] = [];
  for (const spec of specs) {
    const dir = resolve(spec);
    const json = join(dir, 'model.json');
    if (!existsSync(dir) || !statSync(dir).isDirectory() || !existsSync(json)) {
      throw new HilError(`--model ${spec}: not a baseline directory with a model.json`, 'pass the float baseline, e.g. --model models/se-small');
    }
    const b = { name: basename(dir), dir, sha256: sha256(readFileSync(json)) };
    const same = baselines.find((o) => o.name === b.name);
    if (same) throw new HilError(`--model: two baselines are named ${b.name} (${same.dir}, ${dir})`, 'a sweep names each model by its directory; give them different names');
    baselines.push(b);
  }
  checkLimit(opts.limit);
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0) throw new HilError(`seed must be a whole number ≥ 0, got ${seed}`);
  if (opts.boards.length === 0) throw new HilError('--boards is empty', 'e.g. --boards sim');
  const boards = [...new Set(opts.boards)];
  for (const b of boards) readBoardFile(resolveBoardPath(b));
  const instances: Record<string, number> = {};
  for (const [b, n] of Object.entries(opts.instances ?? {})) {
    if (!boards.includes(b)) throw new HilError(`--instances names board "${b}", which is not in --boards (${boards.join(', ')})`, 'add the board to --boards, or drop it from --instances');
    instances[b] = n;
  }
  for (const b of boards) instances[b] ??= 1;
  if (opts.corpus !== undefined) {
    if (opts.audio !== undefined) throw new HilError(`a corpus (${opts.corpus}) and --audio ${opts.audio} are both given`, 'give one clip set');
    const split = opts.split ?? 'test';
    if (!(CORPUS_SPLITS as readonly string[]).includes(split)) throw new HilError(`split "${split}" is not one of ${CORPUS_SPLITS.join(', ')}`);
    const dir = corpusDirOf(opts.corpus);
    const audio = join(dir, split, 'noisy');
    if (!existsSync(audio)) throw new HilError(`the corpus ${opts.corpus} has no ${split} split (${audio} is missing)`, 'pick a split it has; real-test is in the real sizes only (hil data build --size real)');
    opts = { ...opts, audio, clean: join(dir, split, 'clean'), split: undefined };
  } else if (opts.split !== undefined) {
    if (opts.audio !== undefined) throw new HilError(`a split (${opts.split}) of the built-in corpus and --audio ${opts.audio} are both given`, 'give one clip set');
    if (!(BUILTIN_SPLITS as readonly string[]).includes(opts.split)) throw new HilError(`split "${String(opts.split)}" is not one of ${BUILTIN_SPLITS.join(', ')}`);
    const d = builtinSplitDirs(opts.split as BuiltinSplit);
    if (!existsSync(d.audio)) throw new HilError(`the built-in corpus has no ${d.audio} yet`, 'build it with `hil data build --size small` (hil sweep builds it first)');
    opts = { ...opts, audio: d.audio, clean: d.clean };
  }
  for (const [what, dir] of [
    ['--audio', opts.audio],
    ['--clean', opts.clean],
  ] as const) {
    if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory())) throw new HilError(`${what} ${dir} is not a directory`, 'pass a directory of .wav files');
  }

  const profilesDir = opts.profilesDir ?? PROFILES_DIR;
  const profiles = matchProfiles(opts.profiles, profilesDir);
  const loaded = profiles.map((name) => {
    const path = join(profilesDir, `${name}.json`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new HilError(`${path} is not valid JSON: ${(e as Error).message}`, 'fix the profile file');
    }
    // "block": "board" profiles take the block shape of a board: the first of the sweep's boards that has one.
    const board = boards.find((b) => readBoardFile(resolveBoardPath(b)).preferred_block);
    return parseProfile(json, path, { board });
  });
  const root = opts.cacheRoot ?? compressCacheRoot();
  const entries: ModelEntry[] = [];
  for (const baseline of baselines) {
    const json = join(baseline.dir, 'model.json');
    for (const profile of loaded) {
      const id = identityOf(json, baseline.sha256, profile, seed);
      const committed = join(baseline.dir, 'compressed', profile.name);
      const reason = mismatch(committed, id, profile.name);
      if (reason === null) {
        entries.push({ baseline, profile, id, source: 'committed', dir: committed, reason });
        continue;
      }
      const cached = cacheDir(id, root);
      if (mismatch(cached, id, profile.name) === null) {
        entries.push({ baseline, profile, id, source: 'cache-hit', dir: cached, reason });
        continue;
      }
      checkCorpusFor(json, id, `${baseline.name} ${profile.name} (committed model: ${reason})`);
      entries.push({ baseline, profile, id, source: 'compress', dir: cached, reason });
    }
  }
  return {
    baselines,
    profiles,
    boards,
    instances,
    entries,
    audio: opts.audio === undefined ? null : resolve(opts.audio),
    clean: opts.clean === undefined ? null : resolve(opts.clean),
    limit: opts.limit,
    seed,
    valLimit: opts.valLimit,
  };
}

/** The plan of a draft whose compressed models all exist. */
export function planOf(draft: SweepDraft): SweepPlan {
  const models = draft.entries.map((e) => {
    if (e.source === 'compress' && mismatch(e.dir, e.id, e.profile.name) !== null) {
      throw new HilError(`${e.baseline.name} ${e.profile.name}: no compressed model (${e.reason}) and none in the cache`, 'run `hil sweep`, which compresses it, or `hil compress`');
    }
    const m = readCompressManifest(join(e.dir, 'manifest.json'));
    const blob = new Uint8Array(readFileSync(join(e.dir, 'model.hilm')));
    return { e, facts: factsOf(m, blob) };
  });
  // Board-major so that each board's queue holds its jobs in model and profile order.
  const jobs: SweepJob[] = draft.boards.flatMap((board) =>
    models.map(({ e, facts }) => ({ modelDir: e.dir, profile: e.profile.name, board, facts, model: e.baseline.name, source: e.source })),
  );
  const first = draft.baselines[0]!;
  return {
    baselineDir: first.dir,
    baselineSha256: first.sha256,
    baselines: draft.baselines,
    profiles: draft.profiles,
    boards: draft.boards,
    instances: draft.instances,
    jobs,
    audio: draft.audio,
    clean: draft.clean,
    limit: draft.limit,
    seed: draft.seed,
  };
}

/** Checks every input and lists the jobs; touches nothing. A model still to compress is an error here. */
export function planSweep(opts: SweepOptions): SweepPlan {
  return planOf(resolveSweep(opts));
}

export type PrepareEvent =
  | { type: 'model'; model: string; profile: string; source: ModelSource; dir: string; reason: string | null }
  | { type: 'compressed'; model: string; profile: string; dir: string; seconds: number }
  | { type: 'compress-log'; model: string; profile: string; text: string };

/**
 * Resolves the sweep, compresses (in this process, one at a time) each model neither committed nor
 * cached, and returns the plan. A compression that fails stops the sweep before any board runs.
 */
export async function prepareSweep(opts: SweepOptions, onEvent: (e: PrepareEvent) => void = () => {}, command?: string): Promise<SweepPlan> {
  // The built-in corpus is made on first use (about two minutes), as `hil run` does.
  if (opts.corpus !== undefined && opts.audio === undefined) {
    if ((SIZE_NAMES as readonly string[]).includes(opts.corpus)) await ensureCorpus({ size: opts.corpus as SizeName, seed: 1 });
  } else if (opts.split !== undefined && opts.audio === undefined) await ensureCorpus(BUILTIN);
  const draft = resolveSweep(opts);
  for (const e of draft.entries) onEvent({ type: 'model', model: e.baseline.name, profile: e.profile.name, source: e.source, dir: e.dir, reason: e.reason });
  for (const e of draft.entries) {
    if (e.source !== 'compress') continue;
    // Another sweep may have finished it meanwhile.
    if (mismatch(e.dir, e.id, e.profile.name) === null) continue;
    const t0 = Date.now();
    await compressInto({
      baselineJson: join(e.baseline.dir, 'model.json'),
      profile: e.profile,
      id: e.id,
      outDir: e.dir,
      valLimit: draft.valLimit,
      log: (text) => onEvent({ type: 'compress-log', model: e.baseline.name, profile: e.profile.name, text }),
      command,
    });
    onEvent({ type: 'compressed', model: e.baseline.name, profile: e.profile.name, dir: e.dir, seconds: (Date.now() - t0) / 1000 });
  }
  return planOf(draft);
}
