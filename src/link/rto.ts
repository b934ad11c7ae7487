/**
 * Retransmission timeouts from measured round trips, as RFC 6298 computes them for TCP: a smoothed
 * round-trip time and its variation give the timeout, clamped to a minimum and a maximum. The client
 * keeps one estimator per request type, because a RUN_FRAME and a MODEL_CHUNK keep the device busy for
 * very different times, and only feeds it samples of requests sent once (Karn's rule: the reply to a
 * retransmitted request cannot be matched to one of its copies).
 */

export interface RtoBounds {
  initialMs: number;
  minMs: number;
  maxMs: number;
}

/** RFC 6298's clock granularity term: the timeout never equals the mean even with no variation. */
const GRANULARITY_MS = 1;
const ALPHA = 1 / 8;
const BETA = 1 / 4;

export class RttEstimator {
  srttMs: number | null = null;
  rttvarMs: number | null = null;
  rtoMs: number;
  samples = 0;

  constructor(private readonly bounds: RtoBounds) {
    this.rtoMs = clamp(bounds.initialMs, bounds.minMs, bounds.maxMs);
  }

  sample(rttMs: number): void {
    if (this.srttMs === null || this.rttvarMs === null) {
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
    } else {
      this.rttvarMs = (1 - BETA) * this.rttvarMs + BETA * Math.abs(this.srttMs - rttMs);
      this.srttMs = (1 - ALPHA) * this.srttMs + ALPHA * rttMs;
    }
    this.samples++;
    this.rtoMs = clamp(this.srttMs + Math.max(GRANULARITY_MS, 4 * this.rttvarMs), this.bounds.minMs, this.bounds.maxMs);
  }

  /**
   * A timeout expired: the next request starts from the doubled timeout too (RFC 6298 §5.5), until a
   * request answered at its first attempt measures the line again. Without this a device slower than
   * the initial timeout would never be measured: every reply would answer a retransmitted request.
   */
  backoff(expiredMs: number): void {
    this.rtoMs = clamp(Math.max(this.rtoMs, expiredMs * 2), this.bounds.minMs, this.bounds.maxMs);
  }
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
