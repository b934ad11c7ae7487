/**
 * The corpus manifest (`<dir>/manifest.json`): its types, its JSON schema, and loading with validation.
 * Other stages read corpora through `loadCorpus` only; the layout is described in docs/corpus.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { HilError } from '../util/errors.js';
import type { Split } from './voices.js';

export const CORPUS_FORMAT = 'hil-corpus';
export const CORPUS_VERSION = 1;

export type SizeName = 'tiny' | 'small' | 'paper';

export interface FileEntry {
  id: string;
  split: Split;
  /** Relative to the corpus directory, `/`-separated. */
  path: string;
  sha256: string;
  /** Seconds. */
  duration: number;
}

export interface SpeechEntry extends FileEntry {
  /** `flite`, `festival`, `espeak-ng`, or `user` for a file from --clean-dir. */
  engine: string;
  /** The voice (its folder under speech/<split>/): e.g. `festival-slt-hts`, `espeak-f3`, or the user's speaker. */
  voice: string;
  /** Identity that never crosses splits (flite-slt and festival-slt-hts are both `slt`). */
  speaker: string;
  /** What was spoken; null for a user file. */
  text: string | null;
  /** Speaking-rate factor (> 1 faster), pitch shift in cents, speed warp factor; 1, 0, 1 for a user file. */
  rate: number;
  pitch: number;
  warp: number;
  /** eSpeak NG accent. */
  accent?: string;
  /** The user file it was converted from, relative to --clean-dir. */
  source?: string;
}

export interface NoiseEntry extends FileEntry {
  /** white, pink, brown, hum, fan, babble, or a recorded category (rain, wind, crowd, …), or the user's folder. */
  category: string;
  source: {
    /** Debian package (`sox`, `espeak-ng`, `megaglest-data`, …) or `user`. */
    package: string;
    /** Installed or user file it came from; null for generated noise. */
    file: string | null;
    /** sox arguments that generated it (synthetic noise). */
    recipe?: string;
    /** eSpeak voices that talk in it (babble). */
    talkers?: string[];
  };
  licence: string;
  /** Set when the content has no energy above this frequency (a source sampled below 16 kHz). */
  bandLimitedHz?: number;
}

export interface MixtureEntry extends FileEntry {
  /** The clean reference: `<split>/clean/<id>.wav`, the same length as the noisy file at `path`. */
  cleanPath: string;
  cleanSha256: string;
  /** Ids of the speech and noise entries mixed. */
  speech: string;
  noise: string;
  /** Target SNR (dB); the written files meet it within rounding. */
  snrDb: number;
  /** First noise sample used (at 16 kHz); the noise wraps around when shorter than the speech. */
  noiseOffset: number;
  /** Gains applied to the speech and noise files' samples (as floats in [-1, 1)). */
  speechGain: number;
  noiseGain: number;
}

export interface RejectedFile {
  file: string;
  reason: string;
}

export interface CorpusManifest {
  format: typeof CORPUS_FORMAT;
  version: typeof CORPUS_VERSION;
  size: SizeName;
  seed: number;
  sampleRate: 16000;
  /** Identifies everything the content depends on; a build with another key regenerates what changed. */
  buildKey: string;
  /** hil and the external tools that made the files (Debian package versions where available). */
  toolVersions: Record<string, string>;
  text: { source: 'fortunes' | 'bundled' | 'none'; sentences: number; sha256: string };
  inputs: { clean: string; noise: string };
  speech: SpeechEntry[];
  noise: NoiseEntry[];
  mixtures: MixtureEntry[];
  /** User files that could not be read, with sox's reason. */
  rejected: RejectedFile[];
}

const file = {
  id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
  split: { enum: ['train', 'val', 'test'] },
  path: { type: 'string', pattern: '^[^/].*\\.wav$' },
  sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  duration: { type: 'number', exclusiveMinimum: 0 },
};
const fileRequired = ['id', 'split', 'path', 'sha256', 'duration'];

export const MANIFEST_SCHEMA = {
  type: 'object',
  required: ['format', 'version', 'size', 'seed', 'sampleRate', 'buildKey', 'toolVersions', 'text', 'inputs', 'speech', 'noise', 'mixtures', 'rejected'],
  properties: {
    format: { const: CORPUS_FORMAT },
    version: { const: CORPUS_VERSION },
    size: { enum: ['tiny', 'small', 'paper'] },
    seed: { type: 'integer' },
    sampleRate: { const: 16000 },
    buildKey: { type: 'string' },
    toolVersions: { type: 'object', additionalProperties: { type: 'string' } },
    text: { type: 'object', required: ['source', 'sentences', 'sha256'] },
    inputs: { type: 'object', required: ['clean', 'noise'] },
    speech: {
      type: 'array',
      items: {
        type: 'object',
        required: [...fileRequired, 'engine', 'voice', 'speaker', 'text', 'rate', 'pitch', 'warp'],
        properties: { ...file, engine: { type: 'string' }, voice: { type: 'string' }, speaker: { type: 'string' }, text: { type: ['string', 'null'] }, rate: { type: 'number' }, pitch: { type: 'number' }, warp: { type: 'number' } },
      },
    },
    noise: {
      type: 'array',
      items: {
        type: 'object',
        required: [...fileRequired, 'category', 'source', 'licence'],
        properties: {
          ...file,
          category: { type: 'string' },
          source: { type: 'object', required: ['package', 'file'] },
          licence: { type: 'string' },
          bandLimitedHz: { type: 'number', exclusiveMinimum: 0 },
        },
      },
    },
    mixtures: {
      type: 'array',
      items: {
        type: 'object',
        required: [...fileRequired, 'cleanPath', 'cleanSha256', 'speech', 'noise', 'snrDb', 'noiseOffset', 'speechGain', 'noiseGain'],
        properties: {
          ...file,
          cleanPath: file.path,
          cleanSha256: file.sha256,
          speech: { type: 'string' },
          noise: { type: 'string' },
          snrDb: { type: 'number' },
          noiseOffset: { type: 'integer', minimum: 0 },
          speechGain: { type: 'number', exclusiveMinimum: 0 },
          noiseGain: { type: 'number', exclusiveMinimum: 0 },
        },
      },
    },
    rejected: { type: 'array', items: { type: 'object', required: ['file', 'reason'] } },
  },
} as const;

const Ajv = AjvModule.default ?? AjvModule;
const validate = new Ajv({ allErrors: false, strict: false }).compile(MANIFEST_SCHEMA);

/** Schema errors, then cross-references: unique ids, mixtures that name existing entries of their split. */
export function manifestProblem(m: unknown): string | null {
  if (!validate(m)) {
    const e = validate.errors?.[0];
    return `${e?.instancePath || '(top)'} ${e?.message ?? 'is invalid'}`;
  }
  const c = m as CorpusManifest;
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
