/**
 * Training losses (docs/training.md, "Loss"). The time-domain one reconstructs each training segment the
 * way validation and the device do (noisy phase, synthesis window, overlap-add) with matmuls by the
 * inverse-DFT basis, since tfjs's FFT ops are missing on wasm.
 */
import { HilError } from '../util/errors.js';
import type { Batch } from './dataset.js';
import { N_FFT, synthesisWindowFloat } from './stft.js';
import { tf } from './tfBackend.js';

/**
 * - `mag`: MSE of compressed magnitudes (`spectralLoss`).
 * - `sisdr`: negative SI-SDR (dB) of the overlap-added time signal of each training segment (`sisdrLoss`),
 *   the figure validation reports.
 * - `mag+sisdr`: both, `−SI-SDR/10 + MAG_LOSS_WEIGHT · mag`.
 */
export type LossKind = 'mag' | 'sisdr' | 'mag+sisdr';
export const LOSS_KINDS: readonly LossKind[] = ['mag', 'sisdr', 'mag+sisdr'];
export const DEFAULT_LOSS: LossKind = 'mag+sisdr';
/** Weight of the magnitude term in `mag+sisdr`: a trained model's mag loss (~0.01) then counts as ~1 dB. */
export const MAG_LOSS_WEIGHT = 10;

/** Compressed-magnitude MSE: |m·|X| + ε|^0.3 against |S| + ε|^0.3 (ε keeps the gradient finite at 0). */
export function spectralLoss(mask: tf.Tensor3D, noisyMag: tf.Tensor3D, cleanMag: tf.Tensor3D): tf.Scalar {
  const eps = 1e-4;
  const est = tf.pow(mask.mul(noisyMag).add(eps), 0.3);
  const ref = tf.pow(cleanMag.add(eps), 0.3);
  return tf.mean(tf.squaredDifference(est, ref)) as tf.Scalar;
}

/** Per hop: the inverse real DFT with the synthesis window, as [257, 512] matrices for Re and Im parts. */
const synthesisBases = new Map<number, { re: tf.Tensor2D; im: tf.Tensor2D }>();

function synthesisBasis(hop: number): { re: tf.Tensor2D; im: tf.Tensor2D } {
  let b = synthesisBases.get(hop);
  if (b && !b.re.isDisposed) return b;
  const nBins = N_FFT / 2 + 1;
  const win = synthesisWindowFloat(N_FFT, hop);
  const re = new Float32Array(nBins * N_FFT);
  const im = new Float32Array(nBins * N_FFT);
  for (let k = 0; k < nBins; k++) {
    // Bins 1..N/2−1 stand for themselves and their mirror image (conjugate), hence twice.
    const c = k === 0 || k === nBins - 1 ? 1 : 2;
    for (let n = 0; n < N_FFT; n++) {
      const a = (2 * Math.PI * ((k * n) % N_FFT)) / N_FFT;
      re[k * N_FFT + n] = (c * Math.cos(a) * win[n]) / N_FFT;
      im[k * N_FFT + n] = (-c * Math.sin(a) * win[n]) / N_FFT;
    }
  }
  b = { re: tf.keep(tf.tensor2d(re, [nBins, N_FFT])), im: tf.keep(tf.tensor2d(im, [nBins, N_FFT])) };
  synthesisBases.set(hop, b);
  return b;
}

/**
 * The masked noisy spectrum back in the time domain, as stft.ts `istft` computes it (noisy phase,
 * synthesis window, overlap-add), differentiably: [B, T, 257] → [B, (T − 512/hop + 1)·hop], the samples
 * of the segment that every overlapping frame covers (the segment's first samples; the tail lacks frames).
 */
export function maskedSignal(mask: tf.Tensor3D, noisyRe: tf.Tensor3D, noisyIm: tf.Tensor3D, hop: number): tf.Tensor2D {
  const [B, T, K] = mask.shape;
  const R = N_FFT / hop;
  const J = T - R + 1;
  if (J < 1) throw new HilError(`a time-domain loss needs at least ${R} frames per sequence`);
  const basis = synthesisBasis(hop);
  const frames = tf.matMul(mask.mul(noisyRe).reshape([B * T, K]), basis.re).add(tf.matMul(mask.mul(noisyIm).reshape([B * T, K]), basis.im));
  const pieces = frames.reshape([B, T, R, hop]);
  // Output block j holds piece r of frame j + R − 1 − r, for every r.
  let y: tf.Tensor | undefined;
  for (let r = 0; r < R; r++) {
    const p = tf.slice(pieces, [0, R - 1 - r, r, 0], [B, J, 1, hop]);
    y = y ? y.add(p) : p;
  }
  return y!.reshape([B, J * hop]) as tf.Tensor2D;
}

/** Mean over the batch of −SI-SDR (dB, zero-mean, as src/metrics) of `est` against `ref`, both [B, n]. */
export function sisdrLoss(est: tf.Tensor2D, ref: tf.Tensor2D): tf.Scalar {
  const eps = 1e-8;
  const s = ref.sub(tf.mean(ref, 1, true));
  const e = est.sub(tf.mean(est, 1, true));
  const alpha = tf.sum(e.mul(s), 1, true).add(eps).div(tf.sum(s.square(), 1, true).add(eps));
  const target = s.mul(alpha);
  const ratio = tf.sum(target.square(), 1).add(eps).div(tf.sum(e.sub(target).square(), 1).add(eps));
  return tf.mean(tf.log(ratio)).mul(-10 / Math.LN10) as tf.Scalar;
}

/**
 * The training loss of a forward's masks on a batch. With `batch.distill` (weight w) it is
 * `(1 − w)·L(clean) + w·L(teacher)`: the same loss with the teacher's enhanced output (its mask on the
 * noisy spectrum) as the reference, so a pruned student is pulled towards what the dense model does,
 * including where the dense model cannot reach the clean speech.
 */
export function batchLoss(kind: LossKind, mask: tf.Tensor3D, batch: Batch, hop: number): tf.Scalar {
  const shape: [number, number, number] = [batch.batch, batch.frames, mask.shape[2]];
  const noisyMag = tf.tensor3d(batch.noisyMag, shape);
  const timeDomain = kind !== 'mag';
  if (timeDomain && (!batch.noisyRe || !batch.noisyIm || !batch.clean)) throw new HilError(`loss ${kind} needs the batch's noisy spectrum and clean samples`);
  const noisyRe = timeDomain ? tf.tensor3d(batch.noisyRe!, shape) : undefined;
  const noisyIm = timeDomain ? tf.tensor3d(batch.noisyIm!, shape) : undefined;
  const est = timeDomain ? maskedSignal(mask, noisyRe!, noisyIm!, hop) : undefined;
  const against = (refMag: tf.Tensor3D, refSignal: () => tf.Tensor2D): tf.Scalar => {
    const mag = () => spectralLoss(mask, noisyMag, refMag);
    if (kind === 'mag') return mag();
    const si = sisdrLoss(est!, refSignal());
    return kind === 'sisdr' ? si : (si.div(10).add(mag().mul(MAG_LOSS_WEIGHT)) as tf.Scalar);
  };
  const clean = against(tf.tensor3d(batch.cleanMag, shape), () => {
    const length = batch.clean!.length / batch.batch;
    return tf.slice(tf.tensor2d(batch.clean!, [batch.batch, length]), [0, 0], [batch.batch, est!.shape[1]]) as tf.Tensor2D;
  });
  const w = batch.distill?.weight ?? 0;
  if (w === 0) return clean;
  const teacherMask = tf.tensor3d(batch.distill!.mask, shape);
  const teacher = against(teacherMask.mul(noisyMag) as tf.Tensor3D, () => maskedSignal(teacherMask, noisyRe!, noisyIm!, hop));
  return clean.mul(1 - w).add(teacher.mul(w)) as tf.Scalar;
}
