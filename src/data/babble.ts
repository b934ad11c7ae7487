/**
 * Babble noise: four to seven eSpeak NG talkers reading different sentences at once, at similar levels.
 * The talkers are eSpeak variants reserved for babble (voices.ts), so no clean-speech voice is ever also
 * part of the noise, and each split's babble uses its own talkers.
 */
import { activeRange, concat, normalizePeak, rms } from './audio.js';
import { rngFor, round, type Rng } from './rng.js';
import { CORPUS_RATE } from './sox.js';
import type { TtsWorker } from './tts.js';
import { ESPEAK_ACCENTS, type Split, type Voice } from './voices.js';

export interface Talker {
  voice: Voice;
  accent: string;
  rate: number;
  pitch: number;
  warp: number;
  /** Level relative to the other talkers. */
  gainDb: number;
}

export interface BabbleRecipe {
  id: string;
  split: Split;
  seconds: number;
  talkers: Talker[];
}

export function babbleRecipe(seed: number, id: string, split: Split, voices: readonly Voice[], seconds: number): BabbleRecipe {
  const rng = rngFor(seed, 'babble', id);
  const n = rng.int(4, 7);
  // Dealt round a shuffled deck: with a small pool, a voice repeats only after all the others have spoken.
  const deck = rng.shuffle(voices);
  const talkers: Talker[] = [];
  for (let i = 0; i < n; i++) {
    talkers.push({
      voice: deck[i % deck.length],
      accent: rng.pick(ESPEAK_ACCENTS),
      rate: round(rng.uniform(0.9, 1.15), 3),
      pitch: Math.round(rng.uniform(-200, 200)),
      warp: round(rng.uniform(0.97, 1.03), 3),
      gainDb: round(rng.uniform(-3, 3), 2),
    });
  }
  return { id, split, seconds, talkers };
}

/** One talker's stream: sentences separated by short pauses, starting at a random point of the first. */
async function talkerTrack(t: Talker, length: number, sentences: readonly string[], rng: Rng, worker: TtsWorker): Promise<Float64Array> {
  const parts: Float64Array[] = [];
  let total = 0;
  const start = Math.floor(rng.uniform(0, 1.5) * CORPUS_RATE);
  let silent = 0;
  while (total < start + length) {
    const x = await worker.synth({ voice: t.voice, accent: t.accent, rate: t.rate, pitch: t.pitch, warp: t.warp, text: rng.pick(sentences) });
    const a = activeRange(x);
    if (!a) {
      if (++silent > 5) throw new Error(`eSpeak NG voice ${t.voice.engineVoice} produced only silence`);
      continue;
    }
    const pause = new Float64Array(Math.floor(rng.uniform(0.1, 0.4) * CORPUS_RATE));
    parts.push(Float64Array.from(x.subarray(a.start, a.end)), pause);
    total += a.end - a.start + pause.length;
  }
  return concat(parts).subarray(start, start + length);
}

/** Renders the babble as floats peaking at −1 dBFS. */
export async function renderBabble(seed: number, r: BabbleRecipe, sentences: readonly string[], worker: TtsWorker): Promise<Float64Array> {
  const length = Math.round(r.seconds * CORPUS_RATE);
  const sum = new Float64Array(length);
  for (let k = 0; k < r.talkers.length; k++) {
    const t = r.talkers[k];
    const track = await talkerTrack(t, length, sentences, rngFor(seed, 'babble-text', r.id, k), worker);
    const level = rms(track);
    if (level === 0) continue;
    const g = 10 ** (t.gainDb / 20) / level;
    for (let i = 0; i < length; i++) sum[i] += track[i] * g;
  }
  return normalizePeak(sum);
}
