/** Checks shared by every metric: a pair that would give a meaningless number is refused, not scored. */
import { HilError } from '../util/errors.js';

/** Names for the two signals in messages: file paths when scoring files, plain roles otherwise. */
export interface PairNames {
  reference: string;
  estimate: string;
}

export const DEFAULT_NAMES: PairNames = { reference: 'reference', estimate: 'estimate' };

/**
 * The estimate has nothing to score (all zero, or a constant DC value). Every metric here
 * is a ratio in which the estimate's scale cancels, so a silent estimate has no defined score; a caller
 * scoring a sweep may catch this class and record the failure instead of stopping.
 */
export class SilentEstimateError extends HilError {
  constructor(readonly estimateName: string, what: string) {
    super(`${estimateName} is silent (${what}): no SDR/SI-SDR is defined`, 'check that the device or model produced audio');
    this.name = 'SilentEstimateError';
  }
}

export function checkPair(reference: Float64Array, estimate: Float64Array, names: PairNames): void {
  if (reference.length !== estimate.length) {
    throw new HilError(
      `${names.estimate} has ${estimate.length} samples but ${names.reference} has ${reference.length}`,
      'the pair must be time-aligned and of equal length: trim or pad the estimate to the reference',
    );
  }
  checkFinite(reference, names.reference);
  checkFinite(estimate, names.estimate);
  // A constant signal is silent for our purposes: SI-SDR removes the mean, and a DC-only reference is
  // no speech. Tested exactly here, because after mean removal rounding leaves a few ulps of "signal".
  const r = constantValue(reference);
  if (r !== undefined) {
    throw new HilError(`${names.reference} is silent (${describeConstant(r, reference.length)})`, 'a reference must contain the clean signal; remove this file from the set');
  }
  const e = constantValue(estimate);
  if (e !== undefined) throw new SilentEstimateError(names.estimate, describeConstant(e, estimate.length));
}

/** The value every sample has, or undefined when the samples differ (0 for an empty signal). */
function constantValue(x: Float64Array): number | undefined {
  const v = x.length ? x[0] : 0;
  for (let i = 1; i < x.length; i++) if (x[i] !== v) return undefined;
  return v;
}

function describeConstant(v: number, n: number): string {
  if (n === 0) return 'no samples';
  return v === 0 ? 'all samples zero' : `every sample is ${v}: DC only`;
}

function checkFinite(x: Float64Array, name: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new HilError(`${name} has a non-finite sample (${x[i]}) at index ${i}`, 'fix the producer of this signal; metrics need finite samples');
    }
  }
}
