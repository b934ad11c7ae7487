/** A whole clip through the host engine, framed exactly as the device path frames it. */
import type { ModelBlob } from './blob.js';
import type { CostParams } from './costModel.js';
import { Engine, type FrameCounters } from './engine.js';
import { clipToFrames, framesToClip } from './framing.js';

/** The raw engine run of one clip; the scored results.json row built from it is report/resultsSchema.ts ClipResult. */
export interface HostClipRun {
  output: Int16Array;
  /** Counters of every frame fed, flush frames included. */
  perFrame: FrameCounters[];
  /** The raw per-frame outputs, before the pipeline delay is dropped. */
  outFrames: Int16Array[];
  arenaBytes: number;
}

export function runClipOnHost(blob: ModelBlob | Uint8Array | Engine, pcm: Int16Array, options: { cost?: CostParams } = {}): HostClipRun {
  const engine = blob instanceof Engine ? blob : new Engine(blob);
  engine.setCost(options.cost ?? null);
  engine.reset();
  const { hop, nFft } = engine.blob;
  const perFrame: FrameCounters[] = [];
  const outFrames: Int16Array[] = [];
  for (const frame of clipToFrames(pcm, hop, nFft)) {
    const r = engine.runFrame(frame);
    outFrames.push(r.output);
    perFrame.push(r.counters);
  }
  return { output: framesToClip(outFrames, hop, nFft, pcm.length), perFrame, outFrames, arenaBytes: engine.arenaBytes };
}
