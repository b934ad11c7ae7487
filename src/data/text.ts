/**
 * Sentence text for the TTS voices: clean sentences of 6–14 words cut from the Debian `fortunes` files,
 * or the bundled list when those are not installed. Both lists are sorted into a fixed order, and their
 * hash enters the corpus's cache keys, so a changed fortunes package rebuilds the speech instead of
 * silently mixing old and new text.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../util/fsx.js';
import { BUNDLED_SENTENCES } from './sentences.js';

export const FORTUNES_DIR = '/usr/share/games/fortunes';

/** Files of verse, code, ASCII art, dialogue or lists, where a "sentence" is rarely a spoken sentence. */
const SKIPPED_FORTUNE_FILES = new Set(['art', 'ascii-art', 'debian', 'definitions', 'knghtbrd', 'linuxcookie', 'perl', 'riddles', 'songs-poems', 'translate-me', 'zippy']);

export const MIN_WORDS = 6;
export const MAX_WORDS = 14;

export interface SentenceSource {
  kind: 'fortunes' | 'bundled';
  sentences: string[];
  /** SHA-256 of the list, one sentence a line. */
  sha256: string;
}

/** Letters and light punctuation only: digits, abbreviations and symbols read differently per engine. */
const CLEAN = /^[A-Z][A-Za-z ,';-]*[a-z][.!?]$/;

export function isCleanSentence(s: string): boolean {
  if (!CLEAN.test(s) || /--|\s-|-\s|\b[A-Z]{2,}\b|''/.test(s)) return false;
  const words = s.split(' ').length;
  return words >= MIN_WORDS && words <= MAX_WORDS;
}

/** Splits fortune cookies (separated by `%` lines) into sentences, dropping attribution lines. */
export function sentencesFromFortunes(text: string): string[] {
  const out: string[] = [];
  for (const cookie of text.split(/^%$/m)) {
    const body = cookie
      .split('\n')
      .filter((line) => !/^\s*--/.test(line))
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
    for (const s of body.split(/(?<=[.!?])\s+(?=[A-Z])/)) if (isCleanSentence(s)) out.push(s);
  }
  return out;
}

function fromFortunes(dir: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (file.includes('.') || SKIPPED_FORTUNE_FILES.has(file)) continue;
    for (const s of sentencesFromFortunes(readFileSync(join(dir, file), 'latin1'))) {
      const k = s.toLowerCase();
      if (!seen.has(k)) {
        seen.add(k);
        out.push(s);
      }
    }
  }
  return out;
}

let cached: SentenceSource | undefined;

export function loadSentences(): SentenceSource {
  if (cached) return cached;
  const fortunes = existsSync(FORTUNES_DIR) ? fromFortunes(FORTUNES_DIR) : [];
  // A few hundred sentences would repeat too often in a paper-size corpus; fewer means a broken install.
  const kind = fortunes.length >= 500 ? 'fortunes' : 'bundled';
  const sentences = kind === 'fortunes' ? fortunes : BUNDLED_SENTENCES.slice();
  cached = { kind, sentences, sha256: sha256(sentences.join('\n')) };
  return cached;
}

export function wordCount(s: string): number {
  return s.split(' ').length;
}
