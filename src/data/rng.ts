/**
 * Seeded random streams for the corpus. Every item (an utterance, a noise file, a mixture) draws from its
 * own stream, named by the corpus seed and the item's key, so an item's content does not depend on how many
 * other items exist, in which order the workers finish, or whether a previous build was interrupted.
 */
import seedrandom from 'seedrandom';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(lo: number, hi: number): number;
  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[];
  /** Standard normal (Box–Muller). */
  gaussian(): number;
}

export function rngFor(seed: number, ...key: (string | number)[]): Rng {
  const prng = seedrandom.alea(`hil-corpus:${seed}:${key.join('/')}`);
  const next = () => prng();
  const rng: Rng = {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => {
      if (items.length === 0) throw new Error('rng.pick from an empty list');
      return items[Math.floor(next() * items.length)];
    },
    shuffle: (items) => {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
    gaussian: () => {
      const u = 1 - next(); // (0, 1]: log(0) cannot happen
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
  };
  return rng;
}

/** Rounds to a fixed number of decimals, so the manifest shows the value that was actually used. */
export function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}
