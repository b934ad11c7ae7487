/**
 * Compression profiles (profiles/*.json, docs/compression.md): which sparsity structure `hil compress`
 * learns, how far, on which schedule, and how the result is encoded in the blob. Validated with ajv; every
 * mistake is one line naming the file and the field. Optional fields get their documented defaults here,
 * so the rest of src/compress sees a complete `Profile`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { readBoardFile, resolveBoardPath } from '../board/registry.js';
import { parseEncoding, type EncodingChoice } from '../export/blob.js';
import { repoPath } from '../util/paths.js';
import { HilError } from '../util/errors.js';
import { Const, StringEnum, validate } from '../util/schema.js';

export const STRUCTURES = ['weight', 'block', 'unit', 'offline', 'none'] as const;
export const StructureSchema = StringEnum(STRUCTURES);
export type Structure = Static<typeof StructureSchema>;

export const PROFILES_DIR = repoPath('profiles');

/** Gradual pruning (Zhu & Gupta 2017): sparsity s(t) = s_f·(1 − (1 − (t − t0)/(t1 − t0))^power) over [t0, t1]. */
export const PruneScheduleSchema = Type.Object({
  /** t0 as a fraction of all fine-tuning steps. */
  start: Type.Number(),
  /** t1 as a fraction of all fine-tuning steps; the mask is final here and fixed until the end. */
  end: Type.Number(),
  power: Type.Number(),
  /** Masks are recomputed every this many steps between t0 and t1 (and at t1). */
  every: Type.Integer(),
});
export type PruneSchedule = Static<typeof PruneScheduleSchema>;

export const FineTuneSchema = Type.Object({
  /** Optimizer steps, rounded up to whole epochs of the corpus (train() runs whole epochs); null when `epochs` is given. */
  steps: Type.Union([Type.Integer(), Type.Null()]),
  /** Whole epochs instead of steps; null when `steps` is given. */
  epochs: Type.Union([Type.Integer(), Type.Null()]),
  lr: Type.Number(),
  /** Int8 fake quantization (per-channel weights, observed activation ranges) from the first step. */
  qat: Type.Boolean(),
  /**
   * Knowledge distillation from the dense float baseline: the weight of the loss against the baseline's
   * own enhanced output (src/model/losses.ts `distilledLoss`). Absent means 0, so profiles written before
   * it keep their resolved hash and their committed compressions stay valid.
   */
  distill: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  /**
   * "scratch": train from the arch's seeded random init (the one `hil train` starts from) instead of the
   * baseline's weights, with the same pruning schedule and QAT (after the float warm-up `hil train --qat`
   * uses) and the learning rate the baseline was trained with. Absent means from the baseline, so profiles
   * written before it keep their resolved hash and their committed compressions stay valid.
   */
  init: Type.Optional(Type.Literal('scratch')),
});
export type FineTune = Static<typeof FineTuneSchema>;

/** src/export/blob.ts EncodingChoice, as a manifest records it. */
export const EncodingChoiceSchema = Type.Union([
  Type.Object({ kind: Type.Literal('dense') }),
  Type.Object({ kind: Type.Literal('block'), br: Type.Integer(), bc: Type.Integer() }),
  Type.Object({ kind: Type.Literal('csr') }),
  Type.Object({ kind: Type.Literal('csr4') }),
  Type.Object({ kind: Type.Literal('auto') }),
]);

/** A resolved profile (defaults filled in) as the compress manifest records it: `file` is where it came from. */
export const ProfileSpecSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  structure: StructureSchema,
  /** weight/block/offline: fraction of each pruned matrix's weights set to zero; unit: fraction of each
   *  pruned layer's units removed; none: 0. */
  sparsity: Type.Number(),
  /** Block shape (block structure only), resolved from the board when the file says "board". */
  block: Type.Union([Type.Tuple([Type.Integer(), Type.Integer()]), Type.Null()]),
  schedule: PruneScheduleSchema,
  fineTune: FineTuneSchema,
  /** weight/block/offline: matrix names or patterns (`*` any characters); unit: layers (`fc_in`, `gru<l>`, `lstm<l>`). */
  prune: Type.Array(Type.String()),
  encoding: EncodingChoiceSchema,
  /** 16: the output layer (fc_out and the mask) in int16 (docs/model-format.md §5); absent: 8, all int8. */
  outputBits: Type.Optional(Type.Union([Type.Literal(8), Type.Literal(16)])),
  file: Type.String(),
});

/** What src/compress works with; `source` is the profile's path, for messages and the manifest. */
export type Profile = Omit<Static<typeof ProfileSpecSchema>, 'file'> & { source: string };

/** Where training starts: the baseline's weights (fine-tuning) or the seeded random init (from scratch). */
export const INITS = ['baseline', 'scratch'] as const;
export type Init = (typeof INITS)[number];

const fraction = Type.Number({ minimum: 0, maximum: 1 });

/** A profile file (profiles/*.json) as written: optional fields are filled in by parseProfile. */
export const PROFILE_SCHEMA = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }),
    description: Type.Optional(Type.String()),
    structure: StructureSchema,
    sparsity: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
    block: Type.Optional(
      Type.Union([Const('board'), Type.Array(Type.Integer({ minimum: 1, maximum: 16 }), { minItems: 2, maxItems: 2 })]),
    ),
    schedule: Type.Optional(
      Type.Object(
        {
          start: Type.Optional(fraction),
          end: Type.Optional(fraction),
          power: Type.Optional(Type.Number({ minimum: 1, maximum: 10 })),
          every: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    fine_tune: Type.Optional(
      Type.Object(
        {
          steps: Type.Optional(Type.Integer({ minimum: 0 })),
          epochs: Type.Optional(Type.Integer({ minimum: 0 })),
          lr: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
          qat: Type.Optional(Type.Boolean()),
          distill: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          init: Type.Optional(StringEnum(INITS)),
        },
        { additionalProperties: false },
      ),
    ),
    prune: Type.Optional(
      Type.Union([Const('all'), Type.Array(Type.String({ pattern: '^[a-z0-9_.*]+$' }), { minItems: 1 })]),
    ),
    encoding: Type.Optional(Type.String({ pattern: '^(dense|csr|auto|block|block[0-9]+x[0-9]+)$' })),
    output_bits: Type.Optional(Type.Union([Type.Literal(8), Type.Literal(16)])),
  },
  { additionalProperties: false },
);

/** Defaults (docs/compression.md): prune over the first 60 % of fine-tuning, polynomial power 3, masks every 8 steps. */
export const DEFAULT_SCHEDULE: PruneSchedule = { start: 0, end: 0.6, power: 3, every: 8 };
/** 240 steps: a fifth of se-small's 1200-step baseline training (docs/compression.md, "Fine-tuning length"). */
export const DEFAULT_FINE_TUNE: FineTune = { steps: 240, epochs: null, lr: 5e-4, qat: true };
export const DEFAULT_BLOCK: [number, number] = [8, 8];


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
  const raw = validate(PROFILE_SCHEMA, json, file, 'compare with profiles/weight-90.json and docs/compression.md');
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
    ...(ft.distill ? { distill: ft.distill } : {}),
    // "baseline" is the default written out: it resolves to the absent field, the same identity.
    ...(ft.init === 'scratch' ? { init: 'scratch' as const } : {}),
  };
  const s = raw.structure;
  if (s === 'none' && raw.sparsity !== 0) throw bad('sparsity', `must be 0 for structure "none", got ${raw.sparsity}`, 'use structure weight, block, unit or offline to prune');
  if (s !== 'none' && raw.sparsity === 0) throw bad('sparsity', 'is 0', 'use structure "none" for a dense model');
  if ((s === 'weight' || s === 'block' || s === 'unit') && (fineTune.steps ?? fineTune.epochs) === 0)
    throw bad(fineTune.steps === null ? 'fine_tune.epochs' : 'fine_tune.steps', 'is 0, but a learned structure needs training', 'use structure "offline" for pruning without training');
  if (fineTune.distill !== undefined && s !== 'weight' && s !== 'block' && s !== 'unit')
    throw bad('fine_tune.distill', `is only meaningful for a learned structure (weight, block or unit), not "${s}"`, 'remove the field');
  if (fineTune.init === 'scratch' && s === 'offline')
    throw bad('fine_tune.init', '"scratch" needs training, which structure "offline" does without', 'remove the field, or use structure weight, block, unit or none');
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
      if (p === 'fc_out') throw bad('prune', 'lists fc_out, whose outputs are the mask bins and are never pruned', 'prune fc_in and gru<l> or lstm<l> units; fc_out loses the columns of removed recurrent units');
      if (p !== 'all' && p !== 'fc_in' && !/^(gru|lstm)[0-9]+$/.test(p)) throw bad('prune', `entry "${p}" is not a unit layer`, 'for structure unit list fc_in and gru<l> (or lstm<l>) layers, or "all"');
    }
  }

  let encoding: EncodingChoice;
  const enc = raw.encoding ?? defaultEncodingName(s);
  if (enc === 'block') {
    if (!block) throw bad('encoding', `"block" needs a block shape, which structure "${s}" has none of`, 'write blockBRxBC (e.g. block8x8), csr, csr4, dense or auto');
    encoding = { kind: 'block', br: block[0], bc: block[1] };
  } else encoding = parseEncoding(enc);

  // Only a 16-bit output is recorded, so every int8 profile keeps the identity (and cache key) it had.
  const outputBits = raw.output_bits === 16 ? { outputBits: 16 as const } : {};
  return { name: raw.name, description: raw.description ?? '', structure: s, sparsity: raw.sparsity, block, schedule, fineTune, prune, encoding, ...outputBits, source: file };
}

/**
 * The profile trained from `init`: "scratch" sets `fine_tune.init` and suffixes the name `-scratch`, so the
 * result's identity and directory never collide with the fine-tuned one; the profile's own init leaves it
 * unchanged (same identity, same directory).
 */
export function withInit(profile: Profile, init: Init | undefined): Profile {
  if (init === undefined || init === initOf(profile)) return profile;
  if (profile.structure === 'offline') throw new HilError(`--init ${init}: profile ${profile.name} is offline and does not train`, 'use a profile of structure weight, block, unit or none');
  const { init: _old, ...ft } = profile.fineTune;
  // A scratch profile fine-tuned instead: `x-scratch` becomes `x`, any other name gains `-baseline`.
  if (init === 'baseline') return { ...profile, name: profile.name.endsWith('-scratch') ? profile.name.slice(0, -'-scratch'.length) : `${profile.name}-baseline`, fineTune: ft };
  return { ...profile, name: `${profile.name}-scratch`, fineTune: { ...ft, init: 'scratch' } };
}

export function initOf(profile: Pick<Profile, 'fineTune'>): Init {
  return profile.fineTune.init === 'scratch' ? 'scratch' : 'baseline';
}

/** `--init` as given on a command line (`where` names the option). */
export function parseInit(value: string, where = '--init'): Init {
  if (!(INITS as readonly string[]).includes(value)) throw new HilError(`${where} "${value}" is not one of ${INITS.join(', ')}`, 'baseline fine-tunes the trained baseline; scratch trains from the seeded random init');
  return value as Init;
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
