/** The host model engine: blob parsing/validation, the bit-exact int8 pipeline, framing, cost model. */
export {
  parseBlob,
  blockFcCounters,
  csr4FcCounters,
  arenaLayout,
  BlobError,
  ERR_ARENA_TOO_SMALL,
  ERR_MODEL_INVALID,
  ENCODING_NAMES,
  LUT_KINDS,
  type ModelBlob,
  type BlobTensor,
  type BlobOp,
  type BlobFcOp,
  type BlobAddOp,
  type BlobMulOp,
  type BlobLutOp,
  type FcWeights,
  type OpCounters,
  type ParseOptions,
} from './blob.js';
export { Engine, type FrameCounters, type FrameResult, type GraphStepResult } from './engine.js';
export { clipToFrames, framesToClip, deviceFrameCount } from './framing.js';
export { runClipOnHost, type HostClipRun } from './runClip.js';
export { opCycles, frameCycles, cyclesToSeconds, ETHOS_U55_128, ETHOS_U55_128_CALIBRATED, ETHOS_U55_CLOCK_HZ, type CostParams, type OpWork } from './costModel.js';
export { fft, log2q, FFT_N } from './dsp.js';
export { mbqm, srdhm, rdbpot, rsr, sat16 } from './primitives.js';
export { analysisWindowQ15, synthesisWindowQ15 } from './windows.js';
