/**
 * Sweep files (`sweeps/*.json`): a study written down so that it can be committed and rerun with
 * `hil sweep <file> --out runs/<name>`. A file names models (float baselines) × profiles (names or globs)
 * × boards, and one clip set (a noisy directory with its clean references, or the built-in corpus's
 * test split, or its val split), with an optional clip limit, board instances and compression seed:
 *
 *     { "format": "hil-sweep", "version": 1,
 *       "models": ["../models/se-small"], "profiles": ["dense-int8", "weight-*"], "boards": ["sim"],
 *       "clips": { "limit": 20 }, "instances": { "sim": 2 }, "seed": 1 }
 *
 * Paths (models, clip directories, board files) are relative to the sweep file's own directory. Every
 * mistake is one line naming the file and the field.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import { checkFormatVersion, StringEnum, validate } from '../util/schema.js';
import { SIZE_NAMES } from '../data/manifest.js';
import { BUILTIN_SPLITS, CORPUS_SPLITS, type SweepOptions } from './plan.js';

export const SWEEP_FILE_FORMAT = 'hil-sweep';
export const SWEEP_FILE_VERSION = 1;

const Name = Type.String({ minLength: 1 });

export const SweepFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    format: Type.Literal(SWEEP_FILE_FORMAT),
    version: Type.Literal(SWEEP_FILE_VERSION),
    description: Type.Optional(Type.String()),
    /** Float baseline directories, relative to this file. */
    models: Type.Array(Name, { minItems: 1 }),
    /** Profile names or globs over profiles/ (`weight-*`). */
    profiles: Type.Array(Name, { minItems: 1 }),
    /** Board names, or board files relative to this file. */
    boards: Type.Array(Name, { minItems: 1 }),
    /** The clip set: default the built-in corpus's test split. */
    clips: Type.Optional(
      Type.Object(
        {
          audio: Type.Optional(Name),
          clean: Type.Optional(Name),
          /** Without audio: another corpus than the built-in one: a size (`real`, built on first use with seed 1)
           *  or a directory relative to this file. */
          corpus: Type.Optional(Name),
          /** Without audio: a split of the built-in corpus (default test; its 8 clips are few, val has 32), or
           *  with corpus, of that corpus (real-test: the held-out real speech of the real sizes). */
          split: Type.Optional(StringEnum(CORPUS_SPLITS)),
          limit: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Board instances run at once, by board name. */
    instances: Type.Optional(Type.Record(Type.String(), Type.Integer({ minimum: 1 }))),
    /** Seed of the compressions (the committed models were made with 1). */
    seed: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type SweepFile = Static<typeof SweepFileSchema>;

const FIX = 'compare with sweeps/se-small-sim.json (README, "Sweeps")';

/** Validates a parsed sweep file (`path` names it in messages) and turns it into sweep options. */
export function parseSweepFile(json: unknown, path: string): SweepOptions {
  checkFormatVersion(json, path, SWEEP_FILE_FORMAT, SWEEP_FILE_VERSION, FIX);
  const f = validate(SweepFileSchema, json, path, FIX);
  const here = dirname(resolve(path));
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(here, p));
  const boardRef = (b: string) => (b.includes('/') || b.endsWith('.json') ? rel(b) : b);
  if (f.clips?.split !== undefined && f.clips.audio !== undefined) throw new HilError(`${path}: clips.split and clips.audio are both given`, 'clips.split picks a split of the built-in corpus; clips.audio names your own clips');
  if (f.clips?.corpus !== undefined && f.clips.audio !== undefined) throw new HilError(`${path}: clips.corpus and clips.audio are both given`, 'clips.corpus picks a corpus made by hil data build; clips.audio names your own clips');
  if (f.clips?.corpus === undefined && f.clips?.split !== undefined && !(BUILTIN_SPLITS as readonly string[]).includes(f.clips.split)) {
    throw new HilError(`${path}: clips.split "${f.clips.split}" is not a split of the built-in corpus (${BUILTIN_SPLITS.join(', ')})`, 'name the corpus that has it in clips.corpus, e.g. "corpus": "real"');
  }
  if (f.clips?.clean !== undefined && f.clips.audio === undefined) throw new HilError(`${path}: clips.clean is given without clips.audio`, 'give the noisy directory as clips.audio, or leave both out for the built-in corpus');
  const boards = f.boards.map(boardRef);
  const instances: Record<string, number> = {};
  for (const [b, n] of Object.entries(f.instances ?? {})) instances[b] = n;
  return {
    model: f.models.map(rel),
    profiles: f.profiles.join(','),
    boards,
    audio: f.clips?.audio === undefined ? undefined : rel(f.clips.audio),
    clean: f.clips?.clean === undefined ? undefined : rel(f.clips.clean),
    split: f.clips?.split,
    corpus: f.clips?.corpus === undefined ? undefined : (SIZE_NAMES as readonly string[]).includes(f.clips.corpus) ? f.clips.corpus : rel(f.clips.corpus),
    limit: f.clips?.limit,
    instances,
    seed: f.seed,
  };
}

export function readSweepFile(path: string): SweepOptions {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON: ${(e as Error).message}`;
    throw new HilError(`sweep file ${path}: ${why}`, FIX);
  }
  return parseSweepFile(json, path);
}
