/**
 * One clean utterance: its recipe (voice, speaking rate, pitch, warp, accent: all drawn from the item's own
 * seeded stream) and its rendering to 2–4 s of 16 kHz int16. The text is chosen while rendering, because
 * whether a sentence fits in 2–4 s depends on the voice: a sentence that comes out too long is replaced by
 * a shorter one and vice versa, all from the same seeded stream, so the outcome is still a pure function of
 * the seed, the sentence list and the engines' versions.
 */
import { activeRange, normalizePeak, padded, toInt16WithFloor } from './audio.js';
import { rngFor, round } from './rng.js';
import { CORPUS_RATE } from './sox.js';
import { MAX_WORDS, MIN_WORDS, wordCount } from './text.js';
import type { SpeechParams, TtsWorker } from './tts.js';
import { ESPEAK_ACCENTS, pickVoice, type Split, type Voice } from './voices.js';

export const MIN_SECONDS = 2;
export const MAX_SECONDS = 4;
/** Silence kept before and after the speech: a little context, as a recording would have. */
const LEAD_IN = Math.round(0.1 * CORPUS_RATE);
const TAIL = Math.round(0.15 * CORPUS_RATE);
const ATTEMPTS = 8;
/** First guess at the word range that fits 2–4 s; the rendering narrows it per voice. */
const FIRST_MAX_WORDS = 11;
/** A faster speaking rate is the last resort for a voice too slow for any sentence; beyond this it sounds wrong. */
const MAX_RATE = 1.6;

export interface SpeechRecipe {
  id: string;
  split: Split;
  voice: Voice;
  rate: number;
  pitch: number;
  warp: number;
  accent?: string;
}

export function speechRecipe(seed: number, id: string, split: Split, voices: readonly Voice[]): SpeechRecipe {
  const rng = rngFor(seed, 'speech', id);
  const voice = pickVoice(voices, rng);
  const recipe: SpeechRecipe = {
    id,
    split,
    voice,
    rate: round(rng.uniform(0.88, 1.12), 3),
    pitch: Math.round(rng.uniform(-150, 150)),
    warp: round(rng.uniform(0.97, 1.03), 3),
  };
  if (voice.engine === 'espeak-ng') recipe.accent = rng.pick(ESPEAK_ACCENTS);
  return recipe;
}

/** Sentences grouped by word count, for the fit-the-duration search. */
export type SentenceIndex = Map<number, string[]>;

export function indexSentences(sentences: readonly string[]): SentenceIndex {
  const index: SentenceIndex = new Map();
  for (const s of sentences) {
    const n = wordCount(s);
    if (!index.has(n)) index.set(n, []);
    index.get(n)!.push(s);
  }
  return index;
}

export interface RenderedSpeech {
  samples: Int16Array;
  text: string;
  rate: number;
}

interface Take {
  text: string;
  rate: number;
  audio: Float64Array;
}

async function take(worker: TtsWorker, r: SpeechRecipe, text: string, rate: number): Promise<Take | null> {
  const params: SpeechParams = { voice: r.voice, text, rate, pitch: r.pitch, warp: r.warp, accent: r.accent };
  const x = await worker.synth(params);
  const active = activeRange(x);
  return active ? { text, rate, audio: padded(x, active.start, active.end, LEAD_IN, TAIL) } : null;
}

const seconds = (t: Take) => t.audio.length / CORPUS_RATE;
const misfit = (t: Take) => Math.max(0, MIN_SECONDS - seconds(t), seconds(t) - MAX_SECONDS);

export async function renderSpeech(seed: number, r: SpeechRecipe, sentences: SentenceIndex, worker: TtsWorker): Promise<RenderedSpeech> {
  const rng = rngFor(seed, 'speech-text', r.id);
  let lo = MIN_WORDS;
  let hi = Math.min(FIRST_MAX_WORDS, MAX_WORDS);
  let best: Take | null = null;
  for (let attempt = 0; attempt < ATTEMPTS && lo <= hi; attempt++) {
    const counts = [...sentences.keys()].filter((n) => n >= lo && n <= hi).sort((a, b) => a - b);
    if (counts.length === 0) break;
    const words = rng.pick(counts);
    const t = await take(worker, r, rng.pick(sentences.get(words)!), r.rate);
    if (!t) continue;
    if (!best || misfit(t) < misfit(best)) best = t;
    if (misfit(t) === 0) break;
    if (seconds(t) > MAX_SECONDS) hi = words - 1;
    else lo = words + 1;
  }
  if (!best) throw new Error(`${r.voice.engine} voice ${r.voice.engineVoice} produced only silence for ${r.id}`);
  if (seconds(best) > MAX_SECONDS) {
    // Even the shortest sentences are too long in this voice at this rate: speak faster.
    const speech = seconds(best) - (LEAD_IN + TAIL) / CORPUS_RATE;
    const target = MAX_SECONDS - 0.2 - (LEAD_IN + TAIL) / CORPUS_RATE;
    const faster = await take(worker, r, best.text, round(Math.min(MAX_RATE, (best.rate * speech) / target), 3));
    if (faster && misfit(faster) < misfit(best)) best = faster;
  }
  let audio = best.audio;
  if (seconds(best) > MAX_SECONDS) audio = audio.subarray(0, MAX_SECONDS * CORPUS_RATE);
  if (seconds(best) < MIN_SECONDS) {
    const extra = MIN_SECONDS * CORPUS_RATE - audio.length;
    audio = padded(audio, 0, audio.length, Math.floor(extra / 2), Math.ceil(extra / 2));
  }
  return { samples: toInt16WithFloor(normalizePeak(audio), rngFor(seed, 'floor', r.id)), text: best.text, rate: best.rate };
}
