/**
 * What each corpus size holds. `small` builds from the core Debian packages in well under two minutes on two
 * cores (CI builds it on every run); `paper` is for real training runs and needs the recorded ambiences of
 * the noise-data group; `tiny` is for unit tests.
 */
import type { SizeName } from './manifest.js';
import type { Split } from './voices.js';

export interface SizeSpec {
  /** TTS utterances per split; each gets one mixture in its split. */
  speech: Record<Split, number>;
  /** Synthetic files per split for each of white, pink, brown, hum and fan. */
  synthetic: { perCategory: Record<Split, number>; seconds: number };
  /** Babble files per split. */
  babble: { files: Record<Split, number>; seconds: number };
  /** Whether recorded ambiences from the noise-data packages are included. */
  recorded: boolean;
}

export const SIZES: Record<SizeName, SizeSpec> = {
  tiny: {
    speech: { train: 6, val: 3, test: 3 },
    synthetic: { perCategory: { train: 1, val: 1, test: 1 }, seconds: 3 },
    babble: { files: { train: 1, val: 1, test: 1 }, seconds: 4 },
    recorded: false,
  },
  small: {
    speech: { train: 200, val: 32, test: 8 },
    synthetic: { perCategory: { train: 3, val: 1, test: 1 }, seconds: 8 },
    babble: { files: { train: 4, val: 2, test: 2 }, seconds: 6 },
    recorded: false,
  },
  paper: {
    speech: { train: 4000, val: 400, test: 200 },
    synthetic: { perCategory: { train: 16, val: 4, test: 4 }, seconds: 20 },
    babble: { files: { train: 40, val: 8, test: 8 }, seconds: 10 },
    recorded: true,
  },
};

export function isSizeName(s: string): s is SizeName {
  return s === 'tiny' || s === 'small' || s === 'paper';
}
