/**
 * Adam with global-norm gradient clipping, on tfjs variables. Written out (rather than tf.train.adam) so
 * that its state is plain named arrays: checkpoints store and restore it exactly, which resume needs to
 * give the same weights as an uninterrupted run.
 */
import { tf } from './tfBackend.js';

export interface AdamState {
  t: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export class Adam {
  t = 0;
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};

  constructor(
    private readonly vars: Record<string, tf.Variable>,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
    /** Gradients are scaled down so their global L2 norm is at most this (GRUs occasionally explode). */
    readonly clipNorm = 5,
  ) {
    for (const [name, w] of Object.entries(vars)) {
      this.m[name] = tf.variable(tf.zerosLike(w), false);
      this.v[name] = tf.variable(tf.zerosLike(w), false);
    }
  }

  /** One update; returns the gradient norm before clipping. */
  apply(grads: Record<string, tf.Tensor>, lr: number): number {
    this.t += 1;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    const names = Object.keys(grads);
    const norm = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))))));
    const normValue = norm.dataSync()[0];
    norm.dispose();
    const scale = Number.isFinite(normValue) && normValue > this.clipNorm ? this.clipNorm / normValue : 1;
    if (!Number.isFinite(normValue)) return normValue; // skip the update: one bad batch must not poison the weights
    tf.tidy(() => {
      for (const n of names) {
        const g = scale === 1 ? grads[n] : grads[n].mul(scale);
        const m = this.m[n].mul(this.beta1).add(g.mul(1 - this.beta1));
        const v = this.v[n].mul(this.beta2).add(g.square().mul(1 - this.beta2));
        this.m[n].assign(m);
        this.v[n].assign(v);
        const step = m.div(c1).div(v.div(c2).sqrt().add(this.eps)).mul(lr);
        this.vars[n].assign(this.vars[n].sub(step));
      }
    });
    return normValue;
  }

  state(): AdamState {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const n of Object.keys(this.m)) {
      m[n] = this.m[n].dataSync() as Float32Array;
      v[n] = this.v[n].dataSync() as Float32Array;
    }
    return { t: this.t, m, v };
  }

  restore(s: AdamState): void {
    this.t = s.t;
    for (const n of Object.keys(this.m)) {
      if (!s.m[n] || !s.v[n]) throw new Error(`optimizer state lacks ${n}`);
      this.m[n].assign(tf.tensor(s.m[n], this.m[n].shape));
      this.v[n].assign(tf.tensor(s.v[n], this.v[n].shape));
    }
  }

  dispose(): void {
    for (const x of [...Object.values(this.m), ...Object.values(this.v)]) x.dispose();
  }
}
