/**
 * A researcher's own clean-speech or noise directory (DNS Challenge, VCTK-DEMAND, …): which files it holds,
 * who speaks in each, and which split each file goes to. Files are converted by sox later, so any format,
 * rate, bit depth and channel count sox reads is accepted here; this module only decides the split.
 *
 * Splits: a first-level folder whose name says train, val/valid/dev or test keeps its files in that split
 * (VCTK-DEMAND's clean_trainset_wav and clean_testset_wav, for instance). Everything else is dealt by
 * group: for speech a group is a speaker, so no voice crosses splits; for noise a group is one file.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { HilError } from '../util/errors.js';
import type { Rng } from './rng.js';
import type { Split } from './voices.js';

export const USER_AUDIO = /\.(wav|flac|ogg|oga|opus|mp3|aiff?|au|snd|caf|w64|sph)$/i;

export interface UserFile {
  path: string;
  /** Path relative to the corpus root, with `/` separators. */
  rel: string;
  bytes: number;
  mtimeMs: number;
}

export function listAudio(root: string, what: string): UserFile[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(root);
  } catch {
    throw new HilError(`${what} ${root} does not exist`, 'pass a directory of audio files');
  }
  if (!st.isDirectory()) throw new HilError(`${what} ${root} is not a directory`, 'pass a directory of audio files');
  const out: UserFile[] = [];
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (d.name.startsWith('.')) continue;
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (USER_AUDIO.test(d.name)) {
        const s = statSync(p);
        out.push({ path: p, rel: relative(root, p).split(sep).join('/'), bytes: s.size, mtimeMs: s.mtimeMs });
      }
    }
  };
  walk(root);
  if (out.length === 0) throw new HilError(`${what} ${root} holds no audio files`, `hil reads ${USER_AUDIO.source.replace(/^\\\.\(|\)\$$/g, '').split('|').join(', ')}`);
  return out;
}

const SPLIT_WORDS: [Split, Set<string>][] = [
  ['train', new Set(['train', 'trainset', 'training'])],
  ['val', new Set(['val', 'valid', 'validset', 'validation', 'dev', 'devset'])],
  ['test', new Set(['test', 'testset', 'eval', 'evaluation'])],
];

/** The split a first-level folder name declares, if any: one of its words (split at non-letters) names it. */
export function declaredSplit(rel: string): Split | null {
  const parts = rel.split('/');
  if (parts.length < 2) return null;
  const words = parts[0].toLowerCase().split(/[^a-z]+/);
  for (const [split, names] of SPLIT_WORDS) if (words.some((w) => names.has(w))) return split;
  return null;
}

/** Category of a noise file: its first folder below any split folder, or `user` for a file at the top. */
export function categoryOf(rel: string): string {
  const parts = rel.split('/');
  if (declaredSplit(rel)) parts.shift();
  return parts.length >= 2 ? parts[0] : 'user';
}

/**
 * Speaker of a clean file: the first capture group of `pattern` (a regular expression matched against the
 * relative path) when given; otherwise the first folder below any split folder; otherwise the file name up to
 * its first `_` or `-` (VCTK's p232_001.wav → p232); otherwise the file itself.
 */
export function speakerOf(rel: string, pattern?: RegExp): string {
  if (pattern) {
    const m = pattern.exec(rel);
    if (!m) throw new HilError(`--speaker-pattern ${pattern.source} does not match ${rel}`, 'give a pattern that matches every clean file, e.g. "reader_(\\d+)"');
    return m[1] ?? m[0];
  }
  const parts = rel.split('/');
  if (declaredSplit(rel)) parts.shift();
  if (parts.length >= 2) return parts[0];
  const name = basename(parts[0]).replace(USER_AUDIO, '');
  const cut = name.search(/[_-]/);
  return cut > 0 ? name.slice(0, cut) : name;
}

/** Validation and test each get this share of the groups (at least one group each). */
const HELD_OUT_SHARE = 0.1;

/**
 * Assigns groups to splits. Groups whose files sit in a declared split folder stay there; the others are
 * shuffled by the seed and dealt so that each split no folder declares gets its share (at least one group).
 * When nothing is left to deal (a corpus with train and test folders only), validation groups are taken
 * from the train folder, never from test.
 */
export function splitGroups(groups: Map<string, Split | null>, rng: Rng, what: string): Map<string, Split> {
  const out = new Map<string, Split>();
  const free: string[] = [];
  const declaredTrain: string[] = [];
  for (const [g, s] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (!s) free.push(g);
    else out.set(g, s);
    if (s === 'train') declaredTrain.push(g);
  }
  const declared = new Set(out.values());
  const needed = (['test', 'val'] as Split[]).filter((s) => !declared.has(s));
  const deck = rng.shuffle(free);
  const trainDeck = rng.shuffle(declaredTrain);
  const share = Math.max(1, Math.round(HELD_OUT_SHARE * (deck.length + trainDeck.length)));
  const next = () => (deck.length ? deck.shift() : trainDeck.length > 1 ? trainDeck.shift() : undefined);
  for (const s of needed) {
    for (let k = 0; k < share; k++) {
      const g = next();
      if (g === undefined) break;
      out.set(g, s);
    }
  }
  for (const g of deck) out.set(g, 'train');
  const present = new Set(out.values());
  const missing = (['train', 'val', 'test'] as Split[]).filter((s) => !present.has(s));
  if (missing.length) {
    throw new HilError(
      `${what}: ${groups.size} group(s) cannot fill the ${missing.join(' and ')} split(s)`,
      what.startsWith('--clean-dir')
        ? 'speech needs at least 3 speakers (folders, file-name prefixes or --speaker-pattern groups), or train/val/test folders'
        : 'noise needs at least 3 files, or train/val/test folders',
    );
  }
  return out;
}
