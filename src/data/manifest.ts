/**
 * The corpus manifest (`<dir>/manifest.json`): its schema, from which its types are derived, and loading
 * with validation. Other stages read corpora through `loadCorpus` only; the layout is described in docs/corpus.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import { checkFormatVersion, compileSchema, StringEnum } from '../util/schema.js';
import { SPLITS } from './voices.js';

export const CORPUS_FORMAT = 'hil-corpus';
export const CORPUS_VERSION = 1;

export const SIZE_NAMES = ['tiny', 'small', 'paper', 'real-small', 'real'] as const;

/** The TTS splits, and real-test: real speakers and noise of packages used for nothing else (the real sizes). */
export const CORPUS_SPLITS = [...SPLITS, 'real-test'] as const;
export type CorpusSplit = (typeof CORPUS_SPLITS)[number];
export type SizeName = (typeof SIZE_NAMES)[number];

const fileFields = {
  id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
  split: StringEnum(CORPUS_SPLITS),
  /** Relative to the corpus directory, `/`-separated. */
  path: Type.String({ pattern: '^[^/].*\\.wav$' }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  /** Seconds. */
  duration: Type.Number({ exclusiveMinimum: 0 }),
};

export const SpeechEntrySchema = Type.Object({
  ...fileFields,
  /** `flite`, `festival`, `espeak-ng`, or `user` for a file from --clean-dir. */
  engine: Type.String(),
  /** The voice (its folder under speech/<split>/): e.g. `festival-slt-hts`, `espeak-f3`, or the user's speaker. */
  voice: Type.String(),
  /** Identity that never crosses splits (flite-slt and festival-slt-hts are both `slt`). */
  speaker: Type.String(),
  /** What was spoken; null for a user file. */
  text: Type.Union([Type.String(), Type.Null()]),
  /** Speaking-rate factor (> 1 faster), pitch shift in cents, speed warp factor; 1, 0, 1 for a user file. */
  rate: Type.Number(),
  pitch: Type.Number(),
  warp: Type.Number(),
  /** eSpeak NG accent. */
  accent: Type.Optional(Type.String()),
  /** The user file it was converted from, relative to --clean-dir; the installed file for recorded speech. */
  source: Type.Optional(Type.String()),
  /** Recorded speech (engine `recorded`): its Debian package, language, licence, rate and measured quality. */
  package: Type.Optional(Type.String()),
  language: Type.Optional(Type.String()),
  licence: Type.Optional(Type.String()),
  sourceRate: Type.Optional(Type.Number()),
  /** f, m, mixed or unknown; `sexFrom` says whether the credits name it or it was guessed from F0. */
  sex: Type.Optional(Type.String()),
  sexFrom: Type.Optional(Type.String()),
  quality: Type.Optional(Type.Object({ hf4kDb: Type.Number(), hf6kDb: Type.Number(), clipped: Type.Number(), dynamicRangeDb: Type.Number() })),
});
export type SpeechEntry = Static<typeof SpeechEntrySchema>;

export const NoiseEntrySchema = Type.Object({
  ...fileFields,
  /** white, pink, brown, hum, fan, babble, or a recorded category (rain, wind, crowd, …), or the user's folder. */
  category: Type.String(),
  source: Type.Object({
    /** Debian package (`sox`, `espeak-ng`, `megaglest-data`, …) or `user`. */
    package: Type.String(),
    /** Installed or user file it came from; null for generated noise. */
    file: Type.Union([Type.String(), Type.Null()]),
    /** sox arguments that generated it (synthetic noise). */
    recipe: Type.Optional(Type.String()),
    /** eSpeak voices that talk in it (babble). */
    talkers: Type.Optional(Type.Array(Type.String())),
  }),
  licence: Type.String(),
  /** Set when the content has no energy above this frequency (a source sampled below 16 kHz). */
  bandLimitedHz: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
});
export type NoiseEntry = Static<typeof NoiseEntrySchema>;

export const MixtureEntrySchema = Type.Object({
  ...fileFields,
  /** The clean reference: `<split>/clean/<id>.wav`, the same length as the noisy file at `path`. */
  cleanPath: fileFields.path,
  cleanSha256: fileFields.sha256,
  /** Ids of the speech and noise entries mixed. */
  speech: Type.String(),
  noise: Type.String(),
  /** Target SNR (dB); the written files meet it within rounding. */
  snrDb: Type.Number(),
  /** First noise sample used (at 16 kHz); the noise wraps around when shorter than the speech. */
  noiseOffset: Type.Integer({ minimum: 0 }),
  /** Gains applied to the speech and noise files' samples (as floats in [-1, 1)). */
  speechGain: Type.Number({ exclusiveMinimum: 0 }),
  noiseGain: Type.Number({ exclusiveMinimum: 0 }),
  /** The real sizes' augmentation (src/data/augment.ts): absent in tiny, small and paper. */
  augment: Type.Optional(
    Type.Object({
      reverb: Type.Union([
        Type.Object({ rt60: Type.Number(), roomScale: Type.Number(), reverberance: Type.Number(), hfDamping: Type.Number(), preDelayMs: Type.Number(), wetGainDb: Type.Number() }),
        Type.Null(),
      ]),
      channel: Type.Object({ bassDb: Type.Number(), trebleDb: Type.Number(), lowpassHz: Type.Union([Type.Number(), Type.Null()]), roundTripHz: Type.Union([Type.Number(), Type.Null()]) }),
      /** Level asked for and level written (after headroom), RMS of the clean file over the clip, dBFS. */
      speechLevelDb: Type.Number(),
      writtenLevelDb: Type.Number(),
      dc: Type.Union([Type.Object({ relDb: Type.Number(), sign: Type.Number() }), Type.Null()]),
      /** DC added to the noisy file (float full scale). */
      dcOffset: Type.Number(),
    }),
  ),
});
export type MixtureEntry = Static<typeof MixtureEntrySchema>;

const RejectedFileSchema = Type.Object({ file: Type.String(), reason: Type.String() });
export type RejectedFile = Static<typeof RejectedFileSchema>;

export const MANIFEST_SCHEMA = Type.Object({
  format: Type.Literal(CORPUS_FORMAT),
  version: Type.Literal(CORPUS_VERSION),
  size: StringEnum(SIZE_NAMES),
  seed: Type.Integer(),
  sampleRate: Type.Literal(16000),
  /** Identifies everything the content depends on; a build with another key regenerates what changed. */
  buildKey: Type.String(),
  /** hil and the external tools that made the files (Debian package versions where available). */
  toolVersions: Type.Record(Type.String(), Type.String()),
  text: Type.Object({ source: StringEnum(['fortunes', 'bundled', 'none']), sentences: Type.Integer({ minimum: 0 }), sha256: Type.String() }),
  inputs: Type.Object({ clean: Type.String(), noise: Type.String() }),
  speech: Type.Array(SpeechEntrySchema),
  noise: Type.Array(NoiseEntrySchema),
  mixtures: Type.Array(MixtureEntrySchema),
  /** User files that could not be read, with sox's reason. */
  rejected: Type.Array(RejectedFileSchema),
  /** The real sizes: each recorded source (package) with its licence, speakers, languages, rates and minutes kept per split. */
  sources: Type.Optional(
    Type.Array(
      Type.Object({
        package: Type.String(),
        licence: Type.String(),
        kind: StringEnum(['speech', 'babble', 'noise']),
        speakers: Type.Array(Type.Object({ id: Type.String(), language: Type.String(), sex: Type.String(), sexFrom: Type.String(), credit: Type.Optional(Type.String()), split: Type.String() })),
        sampleRates: Type.Array(Type.Number()),
        minutes: Type.Record(Type.String(), Type.Number()),
        files: Type.Record(Type.String(), Type.Integer()),
      }),
    ),
  ),
});
export type CorpusManifest = Static<typeof MANIFEST_SCHEMA>;

const validateManifest = compileSchema(MANIFEST_SCHEMA);

/** Schema errors, then cross-references: unique ids, mixtures that name existing entries of their split. */
export function manifestProblem(m: unknown): string | null {
  if (!validateManifest(m)) {
    const e = validateManifest.errors?.[0];
    return `${e?.instancePath || '(top)'} ${e?.message ?? 'is invalid'}`;
  }
  const c = m;
  const ids = new Set<string>();
  for (const e of [...c.speech, ...c.noise, ...c.mixtures]) {
    if (ids.has(e.id)) return `id ${e.id} appears twice`;
    ids.add(e.id);
  }
  const speech = new Map(c.speech.map((e) => [e.id, e]));
  const noise = new Map(c.noise.map((e) => [e.id, e]));
  for (const x of c.mixtures) {
    if (speech.get(x.speech)?.split !== x.split) return `mixture ${x.id} names speech ${x.speech}, which is not in its split ${x.split}`;
    if (noise.get(x.noise)?.split !== x.split) return `mixture ${x.id} names noise ${x.noise}, which is not in its split ${x.split}`;
  }
  return null;
}

export interface Corpus {
  dir: string;
  manifest: CorpusManifest;
}

/** Reads and validates `<dir>/manifest.json`; with `checkFiles`, every listed file must exist. */
export function loadCorpus(dir: string, opts: { checkFiles?: boolean } = {}): Corpus {
  const path = join(dir, 'manifest.json');
  const fix = `rebuild it with \`hil data build --out ${dir}\``;
  if (!existsSync(path)) throw new HilError(`no corpus at ${dir}: manifest.json is missing`, `build one with \`hil data build --out ${dir}\``);
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HilError(`${path} is corrupt: ${(e as Error).message}`, fix);
  }
  checkFormatVersion(m, path, CORPUS_FORMAT, CORPUS_VERSION, fix);
  const problem = manifestProblem(m);
  if (problem) throw new HilError(`${path} is not a valid hil corpus manifest: ${problem}`, fix);
  const manifest = m as CorpusManifest;
  if (opts.checkFiles ?? true) {
    for (const e of [...manifest.speech, ...manifest.noise, ...manifest.mixtures]) {
      for (const p of 'cleanPath' in e ? [e.path, e.cleanPath] : [e.path]) {
        if (!existsSync(join(dir, p))) throw new HilError(`corpus ${dir} is incomplete: ${p} is missing`, fix);
      }
    }
  }
  return { dir, manifest };
}
