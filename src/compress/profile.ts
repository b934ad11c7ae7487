/**
 * Compression profiles (profiles/*.json, docs/compression.md): which sparsity structure `hil compress`
 * learns, how far, on which schedule, and how the result is encoded in the blob. Validated with ajv; every
 * mistake is one line naming the file and the field. Optional fields get their documented defaults here,
 * so the rest of src/compress sees a complete `Profile`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describeSchemaError } from '../board/schema.js';
import { readBoardFile, resolveBoardPath } from '../board/registry.js';
import { parseEncoding, type EncodingChoice } from '../export/blob.js';
import { repoPath } from '../util/paths.js';
import { HilError } from '../util/errors.js';

export type Structure = 'weight' | 'block' | 'unit' | 'offline' | 'none';
export const STRUCTURES: readonly Structure[] = ['weight', 'block', 'unit', 'offline', 'none'];

export const PROFILES_DIR = repoPath('profiles');

/** Gradual pruning (Zhu & Gupta 2017): sparsity s(t) = s_f·(1 − (1 − (t − t0)/(t1 − t0))^power) over [t0, t1]. */
export interface PruneSchedule {
  /** t0 as a fraction of all fine-tuning steps. */
  start: number;
  /** t1 as a fraction of all fine-tuning steps; the mask is final here and fixed until the end. */
  end: number;
  power: number;
  /** Masks are recomputed every this many steps between t0 and t1 (and at t1). */
  every: number;
}

export interface FineTune {
  /** Optimizer steps, rounded up to whole epochs of the corpus (train() runs whole epochs); null when `epochs` is given. */
  steps: number | null;
  /** Whole epochs instead of steps; null when `steps` is given. */
  epochs: number | null;
  lr: number;
  /** Int8 fake quantization (per-channel weights, observed activation ranges) from the first step. */
  qat: boolean;
}

export interface Profile {
  name: string;
  description: string;
  structure: Structure;
  /** weight/block/offline: fraction of each pruned matrix's weights set to zero; unit: fraction of each
   *  pruned layer's units removed; none: 0. */
  sparsity: number;
  /** Block shape (block structure only), resolved from the board when the file says "board". */
  block: [number, number] | null;
  schedule: PruneSchedule;
  fineTune: FineTune;
  /** weight/block/offline: matrix names or patterns (`*` any characters); unit: layers (`fc_in`, `gru<l>`). */
  prune: string[];
  encoding: EncodingChoice;
  /** Where the profile came from (path), for messages and the manifest. */
  source: string;
}

const fraction = { type: 'number', minimum: 0, maximum: 1 } as const;

export const PROFILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'structure', 'sparsity'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    description: { type: 'string' },
    structure: { enum: STRUCTURES },
    sparsity: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
    block: {
      oneOf: [
        { const: 'board' },
        { type: 'array', items: { type: 'integer', minimum: 1, maximum: 16 }, minItems: 2, maxItems: 2 },
      ],
    },
    schedule: {
      type: 'object',
      additionalProperties: false,
      properties: {
        start: fraction,
        end: fraction,
        power: { type: 'number', minimum: 1, maximum: 10 },
        every: { type: 'integer', minimum: 1 },
      },
    },
    fine_tune: {
      type: 'object',
      additionalProperties: false,
      properties: {
        steps: { type: 'integer', minimum: 0 },
        epochs: { type: 'integer', minimum: 0 },
        lr: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        qat: { type: 'boolean' },
      },
    },
    prune: {
      oneOf: [{ const: 'all' }, { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[a-z0-9_.*]+$' } }],
    },
    encoding: { type: 'string', pattern: '^(dense|csr|auto|block|block[0-9]+x[0-9]+)$' },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
const validateProfile = ajv.compile(PROFILE_SCHEMA);

/** Defaults (docs/compression.md): prune over the first 60 % of fine-tuning, polynomial power 3, masks every 8 steps. */
export const DEFAULT_SCHEDULE: PruneSchedule = { start: 0, end: 0.6, power: 3, every: 8 };
/** 240 steps: a fifth of se-small's 1200-step baseline training (docs/compression.md, "Fine-tuning length"). */
export const DEFAULT_FINE_TUNE: FineTune = { steps: 240, epochs: null, lr: 5e-4, qat: true };
export const DEFAULT_BLOCK: [number, number] = [8, 8];

interface RawProfile {
  name: string;
  description?: string;
  structure: Structure;
  sparsity: number;
  block?: 'board' | [number, number];
  schedule?: Partial<PruneSchedule>;
  fine_tune?: Partial<FineTune>;
  prune?: 'all' | string[];
  encoding?: string;
}

export interface ProfileOptions {
  /** Board name or board file, for `"block": "board"`. */
  board?: string;
}

/** A profile argument: a path to a JSON file, or a name in profiles/. */
export function resolveProfilePath(spec: string, dir = PROFILES_DIR): string {
  if (spec.includes('/') || spec.endsWith('.json')) {
    const p = resolve(spec);
    if (!existsSync(p)) throw new HilError(`profile file ${spec} does not exist`, `pass a profile name from ${dir} or a path to a profile file`);
    return p;
  }
  const p = join(dir, `${spec}.json`);
  if (!existsSync(p)) throw new HilError(`no profile named "${spec}" in ${dir}`, 'see docs/compression.md for the shipped profiles, or pass a path');
  return p;
}

export function loadProfile(spec: string, opts: ProfileOptions = {}): Profile {
  const path = resolveProfilePath(spec);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HilError(`${path} is not valid JSON: ${(e as Error).message}`, 'fix the profile file');
  }
  return parseProfile(json, path, opts);
}

/** Validates a profile object (`file` names it in messages) and fills in the defaults. */
export function parseProfile(json: unknown, file: string, opts: ProfileOptions = {}): Profile {
  if (!validateProfile(json)) {
    throw new HilError(`${file}: ${describeSchemaError(validateProfile.errors![0]!)}`, 'compare with profiles/weight-90.json and docs/compression.md');
  }
  const raw = json as unknown as RawProfile;
  const bad = (field: string, what: string, fix: string) => new HilError(`${file}: ${field} ${what}`, fix);
  const schedule = { ...DEFAULT_SCHEDULE, ...raw.schedule };
  if (!(schedule.start < schedule.end)) throw bad('schedule.start', `(${schedule.start}) must be below schedule.end (${schedule.end})`, 'pruning needs a span of steps');
  const ft = raw.fine_tune ?? {};
  if (ft.steps !== undefined && ft.epochs !== undefined) throw bad('fine_tune', 'gives both steps and epochs', 'give one of them');
  const fineTune: FineTune = {
    steps: ft.epochs !== undefined ? null : (ft.steps ?? DEFAULT_FINE_TUNE.steps),
    epochs: ft.epochs ?? null,
    lr: ft.lr ?? DEFAULT_FINE_TUNE.lr,
    qat: ft.qat ?? DEFAULT_FINE_TUNE.qat,
  };
  const s = raw.structure;
  if (s === 'none' && raw.sparsity !== 0) throw bad('sparsity', `must be 0 for structure "none", got ${raw.sparsity}`, 'use structure weight, block, unit or offline to prune');
  if (s !== 'none' && raw.sparsity === 0) throw bad('sparsity', 'is 0', 'use structure "none" for a dense model');
  if ((s === 'weight' || s === 'block' || s === 'unit') && (fineTune.steps ?? fineTune.epochs) === 0)
    throw bad(fineTune.steps === null ? 'fine_tune.epochs' : 'fine_tune.steps', 'is 0, but a learned structure needs training', 'use structure "offline" for pruning without training');
  if (raw.block !== undefined && s !== 'block') throw bad('block', `is only meaningful for structure "block", not "${s}"`, 'remove the field');

  let block: [number, number] | null = null;
  if (s === 'block') {
    if (raw.block === 'board') {
      if (!opts.board) throw bad('block', 'is "board" but no board was given', 'pass --board <name>, or give the block shape as [br, bc]');
      const boardPath = resolveBoardPath(opts.board);
      const pb = readBoardFile(boardPath).preferred_block;
      if (!pb) throw new HilError(`${boardPath} has no preferred_block`, 'add "preferred_block": [br, bc] to the board file, or give the block shape in the profile');
      block = [pb[0], pb[1]];
    } else block = raw.block ? [raw.block[0], raw.block[1]] : [...DEFAULT_BLOCK];
  }

  const prune = raw.prune === undefined || raw.prune === 'all' ? ['all'] : raw.prune;
  if (s === 'unit') {
    for (const p of prune) {
      if (p === 'fc_out') throw bad('prune', 'lists fc_out, whose outputs are the mask bins and are never pruned', 'prune fc_in and gru<l> units; fc_out loses the columns of removed GRU units');
      if (p !== 'all' && p !== 'fc_in' && !/^gru[0-9]+$/.test(p)) throw bad('prune', `entry "${p}" is not a unit layer`, 'for structure unit list fc_in and gru<l> layers, or "all"');
    }
  }

  let encoding: EncodingChoice;
  const enc = raw.encoding ?? defaultEncodingName(s);
  if (enc === 'block') {
    if (!block) throw bad('encoding', `"block" needs a block shape, which structure "${s}" has none of`, 'write blockBRxBC (e.g. block8x8), csr, dense or auto');
    encoding = { kind: 'block', br: block[0], bc: block[1] };
  } else encoding = parseEncoding(enc);

  return { name: raw.name, description: raw.description ?? '', structure: s, sparsity: raw.sparsity, block, schedule, fineTune, prune, encoding, source: file };
}

/** weight → csr, block → its own blocks, unit → dense (the layers shrank), offline → csr, none → dense. */
function defaultEncodingName(s: Structure): string {
  return s === 'weight' || s === 'offline' ? 'csr' : s === 'block' ? 'block' : 'dense';
}

export function encodingLabel(e: EncodingChoice): string {
  return e.kind === 'block' ? `block${e.br}x${e.bc}` : e.kind;
}

/** Whether `name` matches a prune entry (`all`, an exact name, or a pattern with `*`). */
export function matchesPrune(name: string, prune: readonly string[]): boolean {
  return prune.some((p) => p === 'all' || new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`).test(name));
}
