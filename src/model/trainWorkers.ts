/**
 * Data-parallel training steps over worker_threads (docs/training.md, "Workers"). Each worker owns a
 * tfjs instance (the wasm backend is single-threaded per instance) and a replica of the network. Per step
 * the main thread splits the batch into N equal parts, sends parts 1…N−1 with the current weights (and any
 * changed masks and the quantization state) to the workers, computes part 0 itself, and averages the N
 * gradients: every loss is a mean over the batch's sequences, so the mean of the parts' gradients is the
 * full batch's gradient up to float summation order. Adam, masks, the range observer, validation and
 * checkpoints stay on the main thread; the replicas only ever compute gradients.
 */
import { Worker } from 'node:worker_threads';
import { HilError } from '../util/errors.js';
import { onInterrupt } from '../util/interrupt.js';
import type { ArchName } from './arch.js';
import type { Batch } from './dataset.js';
import type { Tensor } from './floatModel.js';
import type { LossKind } from './losses.js';
import type { RangeObserver } from './qat.js';
import { tf, type BackendChoice } from './tfBackend.js';
import { FLOAT_MODE, type FeatureNorm, type QuantMode, type SeNet } from './tfModel.js';
import { stepGradients } from './trainGrad.js';
import type { Adam } from './trainAdam.js';

/** What a worker builds its replica from (worker_threads' structured clone). */
export interface WorkerInit {
  arch: ArchName;
  hop: 128 | 256;
  weights: Record<string, Tensor>;
  norm?: FeatureNorm;
  backend: BackendChoice;
  kernelFixes: boolean;
}

/** Main → worker, once per step. */
export interface WorkerStep {
  type: 'step';
  /** All weights, as the main thread holds them after its last update. */
  weights: Record<string, Float32Array>;
  /** Masks that changed since the last step (null: removed). */
  masks: Record<string, Float32Array | null>;
  batch: Batch;
  /** Fake-quantise (weights and activations with `ranges`), or float. */
  quantized: boolean;
  ranges: Record<string, [number, number]>;
  record: boolean;
  loss: LossKind;
}

/** Worker → main. */
export type WorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'grads'; value: number; grads: Record<string, Float32Array>; ranges?: Record<string, [number, number]> }
  | { type: 'error'; message: string };

/** A standalone copy when `a` is a view (e.g. of the wasm heap), so that its buffer can be transferred. */
export function ownBuffer(a: Float32Array): Float32Array {
  return a.byteOffset === 0 && a.buffer.byteLength === a.byteLength ? a : a.slice();
}

/** Part `k` of `n` equal parts of a batch (sequences k·B/n … (k+1)·B/n − 1), as copies. */
export function batchPart(b: Batch, k: number, n: number): Batch {
  const per = b.batch / n;
  const part = (a: Float32Array) => a.slice((a.length / b.batch) * per * k, (a.length / b.batch) * per * (k + 1));
  return {
    batch: per,
    frames: b.frames,
    features: part(b.features),
    noisyMag: part(b.noisyMag),
    cleanMag: part(b.cleanMag),
    ...(b.noisyRe ? { noisyRe: part(b.noisyRe) } : {}),
    ...(b.noisyIm ? { noisyIm: part(b.noisyIm) } : {}),
    ...(b.clean ? { clean: part(b.clean) } : {}),
    ...(b.distill ? { distill: { mask: part(b.distill.mask), weight: b.distill.weight } } : {}),
  };
}

function batchBuffers(b: Batch): ArrayBuffer[] {
  return [b.features, b.noisyMag, b.cleanMag, b.noisyRe, b.noisyIm, b.clean, b.distill?.mask].filter((a): a is Float32Array => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}

/** Refuses a worker count the batch cannot be split over, in one line. */
export function checkWorkers(workers: number, batchSize: number): void {
  if (!Number.isInteger(workers) || workers < 1) throw new HilError(`--workers must be a positive integer, got ${workers}`);
  if (batchSize % workers !== 0) throw new HilError(`--batch ${batchSize} cannot be split into ${workers} equal parts`, `pass a --batch divisible by --workers ${workers}`);
}

/** The worker script: the compiled .js next to this module, or under tsx its .ts source through tsx's API. */
function spawn(init: WorkerInit): Worker {
  const self = import.meta.url;
  if (self.endsWith('.js')) return new Worker(new URL('./trainWorker.js', self), { workerData: init });
  // Node 20 does not apply tsx's --import hooks to a worker's entry point; registering them inside does.
  const entry = new URL('./trainWorker.ts', self).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: init, execArgv: [] });
}

interface Slot {
  worker: Worker;
  pending?: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };
  failure?: Error;
}

export class GradientWorkers {
  private readonly slots: Slot[] = [];
  /** The mask tensors the workers were last sent, to send only changes. */
  private sentMasks: Record<string, tf.Tensor> = {};
  private readonly forgetInterrupt: () => void;
  private closed = false;

  /** `n` total parts per step: the main thread computes one, `n − 1` workers the others. */
  private constructor(readonly n: number) {
    this.forgetInterrupt = onInterrupt(() => {
      for (const s of this.slots) void s.worker.terminate();
    });
  }

  /** Starts `n − 1` workers with replicas of `net` and waits until each has its backend ready. */
  static async start(n: number, net: SeNet, opts: { backend: BackendChoice; kernelFixes: boolean }): Promise<GradientWorkers> {
    const pool = new GradientWorkers(n);
    try {
      const init: WorkerInit = { arch: net.arch.name, hop: net.hop, weights: net.readWeights(), norm: net.norm, backend: opts.backend, kernelFixes: opts.kernelFixes };
      for (let k = 1; k < n; k++) pool.add(spawn(init));
      // The replicas start without masks: the first step sends every mask the net has (a resumed checkpoint's).
      await Promise.all(pool.slots.map((s) => pool.reply(s)));
      return pool;
    } catch (e) {
      await pool.close();
      throw e;
    }
  }

  private add(worker: Worker): void {
    const slot: Slot = { worker };
    const fail = (e: Error) => {
      slot.failure ??= e;
      slot.pending?.reject(slot.failure);
      slot.pending = undefined;
    };
    worker.on('message', (m: WorkerReply) => {
      const p = slot.pending;
      slot.pending = undefined;
      if (!p) return;
      if (m.type === 'error') p.reject(new Error(`training worker: ${m.message}`));
      else p.resolve(m);
    });
    worker.on('error', (e) => fail(new Error(`training worker failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`training worker exited (code ${code})`)));
    this.slots.push(slot);
  }

  private reply(slot: Slot): Promise<WorkerReply> {
    if (slot.failure) return Promise.reject(slot.failure);
    return new Promise((resolve, reject) => {
      slot.pending = { resolve, reject };
    });
  }

  /**
   * One data-parallel optimizer step, the counterpart of `trainStep`: `mode` is FLOAT_MODE or fake
   * quantization with the activation parameters of `ranges` (the workers get its ranges); `observer`, when
   * given, records this step's activation ranges. Returns the batch's loss before the update.
   */
  async step(net: SeNet, adam: Adam, batch: Batch, mode: QuantMode, ranges: RangeObserver, lr: number, observer: RangeObserver | undefined, loss: LossKind): Promise<number> {
    if (batch.batch % this.n !== 0) throw new HilError(`a batch of ${batch.batch} cannot be split into ${this.n} equal parts`);
    const masks: Record<string, Float32Array | null> = {};
    for (const name of new Set([...Object.keys(this.sentMasks), ...Object.keys(net.masks)])) {
      if (this.sentMasks[name] === net.masks[name]) continue;
      masks[name] = net.masks[name] ? ownBuffer(net.masks[name].dataSync() as Float32Array) : null;
    }
    this.sentMasks = { ...net.masks };
    const quantized = mode !== FLOAT_MODE;
    const replies = this.slots.map((slot, i) => {
      const part = batchPart(batch, i + 1, this.n);
      const weights = Object.fromEntries(Object.entries(net.vars).map(([k, v]) => [k, ownBuffer(v.dataSync() as Float32Array)]));
      const msg: WorkerStep = { type: 'step', weights, masks, batch: part, quantized, ranges: quantized ? ranges.ranges : {}, record: observer !== undefined, loss };
      const reply = this.reply(slot);
      // Masks go to every worker, so they are cloned rather than moved.
      slot.worker.postMessage(msg, [...Object.values(weights).map((w) => w.buffer as ArrayBuffer), ...batchBuffers(part)]);
      return reply;
    });
    // Part 0 here, while the workers compute theirs.
    let own: ReturnType<typeof stepGradients> | undefined;
    let results: WorkerReply[];
    try {
      own = stepGradients(net, batchPart(batch, 0, this.n), mode, observer !== undefined, loss);
      results = await Promise.all(replies);
    } catch (e) {
      if (own) tf.dispose(Object.values(own.grads));
      await Promise.allSettled(replies);
      throw e;
    }
    let value = own.value;
    const ranges0 = own.ranges;
    const avg = tf.tidy(() => {
      const out: Record<string, tf.Tensor> = {};
      for (const [name, g] of Object.entries(own!.grads)) {
        const parts = [g, ...results.map((r) => tf.tensor((r as Extract<WorkerReply, { type: 'grads' }>).grads[name], g.shape))];
        out[name] = tf.addN(parts).div(this.n);
      }
      return out;
    });
    tf.dispose(Object.values(own.grads));
    for (const r of results) {
      const g = r as Extract<WorkerReply, { type: 'grads' }>;
      value += g.value;
      // Min of the minima and max of the maxima: exactly the full batch's recorded range.
      if (ranges0 && g.ranges) {
        for (const [name, [mn, mx]] of Object.entries(g.ranges)) {
          const r0 = ranges0[name];
          if (r0) ranges0[name] = [Math.min(r0[0], mn), Math.max(r0[1], mx)];
          else ranges0[name] = [mn, mx];
        }
      }
    }
    adam.apply(avg, lr);
    tf.dispose(Object.values(avg));
    net.applyMasks();
    if (ranges0 && observer) for (const [name, [mn, mx]] of Object.entries(ranges0)) observer.observe(name, mn, mx);
    return value / this.n;
  }

  /** Stops the workers (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.forgetInterrupt();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
