/**
 * The corpus API other stages use. A corpus directory holds:
 *
 *   manifest.json                            see manifest.ts (format "hil-corpus", version 1)
 *   speech/<split>/<voice>/<id>.wav          16 kHz mono int16 clean utterances
 *   noise/<split>/<category>/<id>.wav        16 kHz mono int16 noise
 *   <split>/noisy/<mixid>.wav                a mixture
 *   <split>/clean/<mixid>.wav                its clean reference (same length; noisy − clean is the noise)
 *
 * with split ∈ train, val, test and no speaker or noise file in more than one split.
 */
export { buildCorpus, defaultCorpusDir, ensureCorpus, hilHome, CORPUS_SNR_RANGE_DB, type BuildOptions, type BuildResult, type Progress, type ProgressEvent } from './build.js';
export { loadCorpus, type Corpus, type CorpusManifest, type MixtureEntry, type NoiseEntry, type SizeName, type SpeechEntry } from './manifest.js';
export { mixAtSnr, snrDb, type Mixed } from './mix.js';
export { resolveCorpusDir } from './resolveCorpus.js';
export { SIZES } from './sizes.js';
export { SPLITS, type Split } from './voices.js';
