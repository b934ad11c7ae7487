/**
 * Compressed models by content: which compressed model a (baseline, profile, seed) needs, whether a
 * directory holds it, and a cache of the ones made on demand (`hil sweep`, `npm run bench:compress`).
 *
 * A compressed model is identified by what it is made from: the baseline's model.json (SHA-256), the
 * resolved profile (every field that shapes the result, hashed; not its name, description or file), the
 * corpus it was fine-tuned and scored on (the baseline's own training corpus, by manifest SHA-256), the
 * seed and hil's version. A directory "matches" when its manifest records that identity and its blob is
 * the one the manifest names. The cache keeps one directory per identity,
 * `$HIL_HOME/compressed/<sha256 of the identity>/`; an entry is compressed into `<key>.partial/` (where a
 * killed compression resumes its training checkpoint) and renamed into place only when finished, so the
 * cache never holds half an entry.
 */
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hilHome } from '../data/corpus.js';
import { loadTrainCorpus } from '../model/dataset.js';
import { loadFloatModel } from '../model/floatModel.js';
import { HilError } from '../util/errors.js';
import { sha256, writeJsonAtomic } from '../util/fsx.js';
import { HIL_VERSION } from '../util/version.js';
import { readCompressManifest } from './manifestSchema.js';
import type { Profile } from './profile.js';

export interface CompressIdentity {
  baselineSha256: string;
  /** profileSha256(): the fields of the resolved profile that shape the result. */
  profileSha256: string;
  corpusSha256: string;
  seed: number;
  /** hil's version (package.json). */
  hil: string;
}

type ProfileShape = Pick<Profile, 'structure' | 'sparsity' | 'block' | 'schedule' | 'fineTune' | 'prune' | 'encoding'>;

/** The resolved profile's fields that shape the compressed model, hashed (name, description and file do not). */
export function profileSha256(p: ProfileShape): string {
  const { structure, sparsity, block, schedule, fineTune, prune, encoding } = p;
  return sha256(JSON.stringify({ structure, sparsity, block, schedule, fineTune, prune, encoding }));
}

/** The cache key of an identity. */
export function identityKey(id: CompressIdentity): string {
  return sha256(JSON.stringify([id.baselineSha256, id.profileSha256, id.corpusSha256, id.seed, id.hil]));
}

export function compressCacheRoot(): string {
  return join(hilHome(), 'compressed');
}

/** What a baseline says about the corpus it was trained on (its provenance), or null. */
export function baselineCorpus(baselineJson: string): { dir: string; manifestSha256: string } | null {
  const prov = loadFloatModel(baselineJson).provenance as { corpus?: { dir?: unknown; manifestSha256?: unknown } };
  const c = prov?.corpus;
  return typeof c?.dir === 'string' && typeof c.manifestSha256 === 'string' ? { dir: c.dir, manifestSha256: c.manifestSha256 } : null;
}

/** The identity of `profile` compressed from the baseline at `baselineJson` (whose SHA-256 is given). */
export function identityOf(baselineJson: string, baselineSha256: string, profile: Profile, seed: number): CompressIdentity {
  const corpus = baselineCorpus(baselineJson);
  if (!corpus) throw new HilError(`${baselineJson} does not record the corpus it was trained on`, 'compress it with `hil compress --corpus …` instead');
  return { baselineSha256, profileSha256: profileSha256(profile), corpusSha256: corpus.manifestSha256, seed, hil: HIL_VERSION };
}

/** Why `dir` does not hold the compressed model of `id` under the name `profile`, or null when it does. */
export function mismatch(dir: string, id: CompressIdentity, profile: string): string | null {
  const manifestPath = join(dir, 'manifest.json');
  const blobPath = join(dir, 'model.hilm');
  if (!existsSync(manifestPath) || !existsSync(blobPath)) return 'missing';
  let m: ReturnType<typeof readCompressManifest>;
  try {
    m = readCompressManifest(manifestPath);
  } catch (e) {
    if (e instanceof HilError) return `unusable manifest (${e.message})`;
    throw e;
  }
  if (m.profile !== profile) return `made as profile ${m.profile}`;
  if (m.baseline.sha256 !== id.baselineSha256) return 'made from another baseline';
  if (profileSha256(m.profileSpec) !== id.profileSha256) return 'made from another version of the profile';
  if (m.corpus.manifestSha256 !== id.corpusSha256) return 'made with another corpus';
  if (m.seed !== id.seed) return `made with seed ${m.seed}, not ${id.seed}`;
  if (m.hil.hil !== id.hil) return `made by hil ${m.hil.hil}, not ${id.hil}`;
  if (sha256(readFileSync(blobPath)) !== m.blob.sha256) return 'model.hilm differs from its manifest';
  return null;
}

/** Where the cache keeps (or will keep) the compressed model of `id`. */
export function cacheDir(id: CompressIdentity, root = compressCacheRoot()): string {
  return join(root, identityKey(id));
}

/**
 * Checks, without loading it, that the corpus a compression of this baseline needs is here: a missing
 * one is found before a sweep starts, not when it reaches the profile.
 */
export function checkCorpusFor(baselineJson: string, id: CompressIdentity, what: string): string {
  const c = baselineCorpus(baselineJson);
  if (!c || !existsSync(join(c.dir, 'manifest.json'))) {
    throw new HilError(
      `${what} must be compressed, but ${baselineJson} was trained on the corpus ${c?.dir ?? '(not recorded)'}, which is not here`,
      'build it (`hil data build --size small`), or commit the compressed model under <baseline>/compressed/<profile>/',
    );
  }
  if (sha256(readFileSync(join(c.dir, 'manifest.json'))) !== id.corpusSha256) {
    throw new HilError(`${what} must be compressed, but the corpus in ${c.dir} is not the one ${baselineJson} was trained on (its manifest differs)`, 'rebuild it with the seed and size the baseline records');
  }
  return c.dir;
}

export interface CompressToOptions {
  baselineJson: string;
  profile: Profile;
  id: CompressIdentity;
  /** The finished directory; compressed into `<outDir>.partial` and renamed. */
  outDir: string;
  valLimit?: number;
  log?: (line: string) => void;
  command?: string;
  /** The manifest's `budget.source` when the profile's budget was set outside its file (src/compress/budget.ts). */
  budgetSource?: string;
}

/**
 * Compresses in this process (src/compress/compress.ts) into `<outDir>.partial/`, then renames it to
 * `outDir` (replacing what was there). The training checkpoints are dropped from the finished entry.
 */
export async function compressInto(opts: CompressToOptions): Promise<void> {
  const { compress } = await import('./compress.js');
  const corpusDir = checkCorpusFor(opts.baselineJson, opts.id, `profile ${opts.profile.name}`);
  const corpus = loadTrainCorpus(corpusDir);
  const partial = `${opts.outDir}.partial`;
  await compress({
    baseline: opts.baselineJson,
    profile: opts.profile,
    corpus,
    outDir: partial,
    seed: opts.id.seed,
    valLimit: opts.valLimit,
    log: opts.log,
    command: opts.command,
    budgetSource: opts.budgetSource,
  });
  rmSync(join(partial, 'train'), { recursive: true, force: true });
  writeJsonAtomic(join(partial, 'identity.json'), { ...opts.id, key: identityKey(opts.id) });
  rmSync(opts.outDir, { recursive: true, force: true });
  renameSync(partial, opts.outDir);
}
