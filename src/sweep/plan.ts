/**
 * A sweep's plan: which (compressed model, profile, board) jobs a `hil sweep` runs. Profiles are given as
 * a comma-separated list of names or globs over profiles/*.json ('dense-int8,weight-*'); each maps to the
 * compressed model committed (or made by `hil compress`) under `<baseline dir>/compressed/<profile>/`, which
 * must have been made from this very baseline (its manifest records the baseline's SHA-256). A sweep does
 * not compress: a missing or stale compressed model is a one-line error naming the command that makes it.
 * Everything is checked here, before any output directory is touched.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PROFILES_DIR } from '../compress/profile.js';
import { readCompressManifest, type CompressManifest } from '../compress/manifestSchema.js';
import { readBoardFile, resolveBoardPath } from '../board/registry.js';
import { checkLimit } from '../run/benchmark.js';
import { HilError } from '../util/errors.js';
import { sha256 } from '../util/fsx.js';

export interface SweepOptions {
  /** The float baseline's directory (holding model.json and compressed/<profile>/), e.g. models/se-small. */
  model: string;
  /** Comma-separated profile names or globs (`*`, `?`) over profiles/. */
  profiles: string;
  /** Board names or board files. */
  boards: string[];
  audio?: string;
  clean?: string;
  limit?: number;
  /** Board instances run at once, by board name ('sim' → 2); 1 for a board not named. */
  instances?: Record<string, number>;
  /** Where profiles are looked up (tests). */
  profilesDir?: string;
}

/** What a sweep row records of the compressed model, read off its manifest. */
export interface ModelFacts {
  profile: string;
  structure: string;
  /** Achieved zero fraction over the pruned matrices. */
  sparsity: number;
  /** The blob's flash bytes as its manifest records them (the model partition). */
  modelFlashBytes: number;
  /** Nonzero weights of the weight matrices, one byte each in int8. */
  nonzeroWeightBytes: number;
  /** Every weight of the weight matrices of the full architecture (dense int8 bytes). */
  denseWeightBytes: number;
  blobSha256: string;
}

export interface SweepJob {
  /** The compressed model directory passed to runBenchmark. */
  modelDir: string;
  profile: string;
  board: string;
  facts: ModelFacts;
}

export interface SweepPlan {
  baselineDir: string;
  baselineSha256: string;
  profiles: string[];
  boards: string[];
  instances: Record<string, number>;
  jobs: SweepJob[];
  audio: string | null;
  clean: string | null;
  limit: number | undefined;
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
  return {
    profile: m.profile,
    structure: m.structure,
    sparsity: m.sparsity.achieved,
    modelFlashBytes: m.blob.flashBytes,
    nonzeroWeightBytes: matrices.reduce((s, x) => s + x.nonzero, 0),
    denseWeightBytes: matrices.reduce((s, x) => s + x.total, 0),
    blobSha256: sha256(blob),
  };
}

/** Checks every input and lists the jobs; touches nothing. */
export function planSweep(opts: SweepOptions): SweepPlan {
  const baselineDir = resolve(opts.model);
  const baselineJson = join(baselineDir, 'model.json');
  if (!existsSync(baselineDir) || !statSync(baselineDir).isDirectory() || !existsSync(baselineJson)) {
    throw new HilError(`--model ${opts.model}: not a baseline directory with a model.json`, 'pass the float baseline, e.g. --model models/se-small');
  }
  const baselineSha256 = sha256(readFileSync(baselineJson));
  checkLimit(opts.limit);
  if (opts.boards.length === 0) throw new HilError('--boards is empty', 'e.g. --boards sim');
  const boards = [...new Set(opts.boards)];
  for (const b of boards) readBoardFile(resolveBoardPath(b));
  const instances: Record<string, number> = {};
  for (const [b, n] of Object.entries(opts.instances ?? {})) {
    if (!boards.includes(b)) throw new HilError(`--instances names board "${b}", which is not in --boards (${boards.join(', ')})`);
    instances[b] = n;
  }
  for (const b of boards) instances[b] ??= 1;
  for (const [what, dir] of [
    ['--audio', opts.audio],
    ['--clean', opts.clean],
  ] as const) {
    if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory())) throw new HilError(`${what} ${dir} is not a directory`, 'pass a directory of .wav files');
  }

  const profiles = matchProfiles(opts.profiles, opts.profilesDir);
  const arch = basename(baselineDir);
  const models = profiles.map((profile) => {
    const dir = join(baselineDir, 'compressed', profile);
    const make = `make it with \`npm run bench:compress -- --arch ${arch} --profile ${profile}\` or \`hil compress --model ${opts.model} --profile ${profile} --out ${join(opts.model, 'compressed', profile)}\`; a sweep does not compress (yet)`;
    const manifestPath = join(dir, 'manifest.json');
    const blobPath = join(dir, 'model.hilm');
    if (!existsSync(manifestPath) || !existsSync(blobPath)) throw new HilError(`profile ${profile}: no compressed model in ${dir}`, make);
    const m = readCompressManifest(manifestPath);
    if (m.baseline.sha256 !== baselineSha256) throw new HilError(`profile ${profile}: ${dir} was compressed from another baseline than ${baselineJson}`, make);
    if (m.profile !== profile) throw new HilError(`profile ${profile}: ${manifestPath} records profile ${m.profile}`, make);
    const blob = new Uint8Array(readFileSync(blobPath));
    if (sha256(blob) !== m.blob.sha256) throw new HilError(`profile ${profile}: ${blobPath} differs from its manifest`, make);
    return { dir, profile, facts: factsOf(m, blob) };
  });
  // Board-major so that each board's queue holds its jobs in profile order.
  const jobs: SweepJob[] = boards.flatMap((board) => models.map((m) => ({ modelDir: m.dir, profile: m.profile, board, facts: m.facts })));
  return {
    baselineDir,
    baselineSha256,
    profiles,
    boards,
    instances,
    jobs,
    audio: opts.audio === undefined ? null : resolve(opts.audio),
    clean: opts.clean === undefined ? null : resolve(opts.clean),
    limit: opts.limit,
  };
}
