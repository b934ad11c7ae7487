/**
 * Clip framing shared by the host engine and the device path (docs/protocol.md §5): a clip becomes
 * ceil(samples / hop) frames (the last zero-padded) plus n_fft/hop − 1 frames of zeros that flush the
 * pipeline; the outputs, concatenated, lag by n_fft − hop samples, which framesToClip drops.
 */
import { HilError } from '../util/errors.js';

function checkGeometry(hop: number, nFft: number): void {
  if (!Number.isInteger(hop) || hop <= 0 || !Number.isInteger(nFft) || nFft % hop !== 0)
    throw new HilError(`framing: hop ${hop} must divide n_fft ${nFft}`, 'use hop 128 or 256 with n_fft 512');
}

/** Frames fed to the device for a clip of `samples` samples, flush frames included. */
export function deviceFrameCount(samples: number, hop: number, nFft: number): number {
  checkGeometry(hop, nFft);
  return Math.ceil(samples / hop) + nFft / hop - 1;
}

export function clipToFrames(pcm: Int16Array, hop: number, nFft: number): Int16Array[] {
  const count = deviceFrameCount(pcm.length, hop, nFft);
  const frames: Int16Array[] = [];
  for (let f = 0; f < count; f++) {
    const frame = new Int16Array(hop);
    const start = f * hop;
    if (start < pcm.length) frame.set(pcm.subarray(start, Math.min(start + hop, pcm.length)));
    frames.push(frame);
  }
  return frames;
}

export function framesToClip(outFrames: readonly Int16Array[], hop: number, nFft: number, length: number): Int16Array {
  checkGeometry(hop, nFft);
  const delay = nFft - hop;
  const available = outFrames.length * hop - delay;
  if (available < length)
    throw new HilError(`framing: ${outFrames.length} output frames hold ${Math.max(available, 0)} samples after the ${delay}-sample delay, need ${length}`, 'feed every frame of clipToFrames, including the flush frames');
  const out = new Int16Array(length);
  for (let f = 0; f < outFrames.length; f++) {
    const frame = outFrames[f];
    if (frame.length !== hop) throw new HilError(`framing: output frame ${f} has ${frame.length} samples, expected ${hop}`);
    const start = f * hop - delay; // position of this frame's first sample in the clip
    const from = Math.max(0, -start);
    const to = Math.min(hop, length - start);
    if (to > from) out.set(frame.subarray(from, to), start + from);
  }
  return out;
}
