/**
 * The TTS voices and which split each one speaks in. Splits are disjoint by *speaker*, not only by voice:
 * flite's slt and festival's slt-hts were both built from the same CMU ARCTIC recordings, as were the two
 * kal voices, so each pair counts as one speaker and stays in one split.
 *
 * The named ARCTIC-style speakers have a fixed split: slt, the most natural voice (and the only female
 * one), is the test speaker so that a demo plays natural speech the model never heard; ked validates;
 * awb, rms and kal train. eSpeak NG variants (a timbre: formants, pitch, breathiness) are the other
 * speakers; they are dealt to the splits by the corpus seed, and a reserved group of them talks only in
 * babble noise, never in clean speech. An eSpeak accent is a per-utterance choice, not a speaker.
 */
import type { Rng } from './rng.js';

export type Engine = 'flite' | 'festival' | 'espeak-ng';
export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

export interface Voice {
  /** Directory name under speech/<split>/, and the manifest's `voice`. */
  id: string;
  engine: Engine;
  /** The engine's own name for the voice (flite -voice, festival voice function, eSpeak variant). */
  engineVoice: string;
  /** Identity used for split disjointness. */
  speaker: string;
  gender: 'f' | 'm';
}

const NAMED: (Voice & { split: Split })[] = [
  { id: 'flite-slt', engine: 'flite', engineVoice: 'slt', speaker: 'slt', gender: 'f', split: 'test' },
  { id: 'festival-slt-hts', engine: 'festival', engineVoice: 'cmu_us_slt_arctic_hts', speaker: 'slt', gender: 'f', split: 'test' },
  { id: 'festival-ked', engine: 'festival', engineVoice: 'ked_diphone', speaker: 'ked', gender: 'm', split: 'val' },
  { id: 'flite-awb', engine: 'flite', engineVoice: 'awb', speaker: 'awb', gender: 'm', split: 'train' },
  { id: 'flite-rms', engine: 'flite', engineVoice: 'rms', speaker: 'rms', gender: 'm', split: 'train' },
  { id: 'flite-kal16', engine: 'flite', engineVoice: 'kal16', speaker: 'kal', gender: 'm', split: 'train' },
  { id: 'festival-kal', engine: 'festival', engineVoice: 'kal_diphone', speaker: 'kal', gender: 'm', split: 'train' },
];

/** Human-sounding eSpeak NG variants (the robotic, whispering and novelty ones are left out). */
const ESPEAK_FEMALE = ['f1', 'f2', 'f3', 'f4', 'f5', 'Alicia', 'Andrea', 'Annie', 'anika', 'aunty', 'belinda', 'linda', 'steph', 'steph2', 'steph3'];
const ESPEAK_MALE = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'adam', 'Alex', 'Andy', 'david', 'ed', 'edward', 'john', 'max', 'paul', 'rob', 'robert', 'Mike', 'Michael', 'quincy', 'zac'];

/** eSpeak NG's English accents (its `gmw` voices; the mbrola ones need packages hil does not install). */
export const ESPEAK_ACCENTS = ['en-gb', 'en-us', 'en-gb-scotland', 'en-gb-x-rp', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc'];

/** How many eSpeak variants of each gender each role gets; train takes the rest. */
const ESPEAK_ROLE_SHARES = { val: 2, test: 2, 'babble-train': 3, 'babble-val': 1, 'babble-test': 1 } as const;

export interface VoiceAssignment {
  clean: Record<Split, Voice[]>;
  /** eSpeak variants that speak only in babble, per split of the babble noise they make. */
  babble: Record<Split, Voice[]>;
}

function espeakVoice(variant: string, gender: 'f' | 'm'): Voice {
  return { id: `espeak-${variant.toLowerCase()}`, engine: 'espeak-ng', engineVoice: variant, speaker: `espeak-${variant.toLowerCase()}`, gender };
}

/** Deals the voices to splits; `rng` is the corpus's voice stream, so the seed decides the eSpeak split. */
export function assignVoices(rng: Rng): VoiceAssignment {
  const clean: Record<Split, Voice[]> = { train: [], val: [], test: [] };
  const babble: Record<Split, Voice[]> = { train: [], val: [], test: [] };
  for (const v of NAMED) clean[v.split].push({ id: v.id, engine: v.engine, engineVoice: v.engineVoice, speaker: v.speaker, gender: v.gender });
  for (const [gender, names] of [['f', ESPEAK_FEMALE], ['m', ESPEAK_MALE]] as const) {
    const deck = rng.shuffle(names);
    const take = (n: number) => deck.splice(0, n).map((name) => espeakVoice(name, gender));
    clean.val.push(...take(ESPEAK_ROLE_SHARES.val));
    clean.test.push(...take(ESPEAK_ROLE_SHARES.test));
    babble.train.push(...take(ESPEAK_ROLE_SHARES['babble-train']));
    babble.val.push(...take(ESPEAK_ROLE_SHARES['babble-val']));
    babble.test.push(...take(ESPEAK_ROLE_SHARES['babble-test']));
    clean.train.push(...take(deck.length));
  }
  for (const list of [...Object.values(clean), ...Object.values(babble)]) list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { clean, babble };
}

/**
 * Share of utterances per family of voices: the ARCTIC-style flite and festival voices (natural, but few)
 * and the eSpeak variants (many, formant-synthesised). Uniform over voices would let eSpeak's variants drown
 * the natural voices; uniform over engines would give a split's only festival voice half the split. A split
 * without voices of a family gives its share to the other.
 */
const FAMILY_WEIGHT = { arctic: 0.55, espeak: 0.45 };
const familyOf = (v: Voice) => (v.engine === 'espeak-ng' ? 'espeak' : 'arctic');

export function pickVoice(voices: readonly Voice[], rng: Rng): Voice {
  const arctic = voices.filter((v) => familyOf(v) === 'arctic');
  const espeak = voices.filter((v) => familyOf(v) === 'espeak');
  const u = rng.next();
  if (arctic.length === 0) return rng.pick(espeak);
  if (espeak.length === 0) return rng.pick(arctic);
  return rng.pick(u < FAMILY_WEIGHT.arctic ? arctic : espeak);
}
