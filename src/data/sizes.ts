/**
 * What each corpus size holds. `small` builds from the core Debian packages in well under two minutes on two
 * cores (CI builds it on every run); `paper` is for real training runs and needs the recorded ambiences of
 * the noise-data group; `tiny` is for unit tests. `real-small` (CI) and `real` (training) add recorded human speech
 * of the speech-data group, real-voice babble, augmented mixtures and the held-out `real-test` split; `real`
 * also needs the noise-data group.
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
  /** The real sizes: recorded speech of the speech-data group, real babble, held-out real-test, augmented mixtures. */
  real?: RealSpec;
}

export interface RealSpec {
  /** Recorded files tried per speaker (seeded pick), per role; null: every file. Files failing the gates drop out. */
  perSpeaker: { train: number | null; val: number | null; 'real-test': number | null };
  /** Real-voice babble files per split, and their length (s). */
  babble: { files: { train: number; val: number; 'real-test': number }; seconds: number };
  /** real-test noise recordings (music on hold, Tux Paint effects): how many, and at most how long each (s). */
  testNoise: { files: number | null; maxSeconds: number };
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
  // The real sizes: no TTS test split (real-test replaces it), eSpeak babble replaced by real voices.
  'real-small': {
    speech: { train: 16, val: 4, test: 0 },
    synthetic: { perCategory: { train: 1, val: 1, test: 0 }, seconds: 6 },
    babble: { files: { train: 0, val: 0, test: 0 }, seconds: 6 },
    recorded: false,
    real: { perSpeaker: { train: 3, val: 4, 'real-test': 5 }, babble: { files: { train: 1, val: 1, 'real-test': 2 }, seconds: 5 }, testNoise: { files: 8, maxSeconds: 15 } },
  },
  real: {
    speech: { train: 600, val: 60, test: 0 },
    synthetic: { perCategory: { train: 8, val: 2, test: 0 }, seconds: 20 },
    babble: { files: { train: 0, val: 0, test: 0 }, seconds: 10 },
    recorded: true,
    real: { perSpeaker: { train: null, val: 250, 'real-test': 150 }, babble: { files: { train: 40, val: 8, 'real-test': 16 }, seconds: 10 }, testNoise: { files: null, maxSeconds: 600 } },
  },
};

export function isSizeName(s: string): s is SizeName {
  return s === 'tiny' || s === 'small' || s === 'paper' || s === 'real-small' || s === 'real';
}
