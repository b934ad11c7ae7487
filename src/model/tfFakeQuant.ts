/**
 * Activation fake quantization as one tfjs kernel (forward) plus one for its straight-through gradient.
 * Composed from tfjs ops it is 6 ops forward and 5 backward per tensor, and a GRU step fake-quantises
 * about ten tensors per frame, so on wasm the op overhead would exceed the matmuls. The kernels are
 * written in JS for the wasm and cpu backends; on any other backend (tfjs-node) `fakeQuant` composes
 * the same math from tfjs ops.
 *
 * Semantics (per last-axis channel c, or one value for the whole tensor):
 *   q = clamp(round(x / scale[c]) + zp[c], qmin, qmax);  y = (q − zp[c]) · scale[c]
 *   dy/dx = 1 where (qmin − zp)·scale ≤ x ≤ (qmax − zp)·scale, else 0   (clipped straight-through estimator)
 * `round` rounds half away from zero (C's round, TFLite's and the exporter's).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

export const FAKE_QUANT = 'HilFakeQuant';
export const FAKE_QUANT_GRAD = 'HilFakeQuantGrad';

export interface FakeQuantAttrs {
  /** One scale per channel of the last axis, or a single one. */
  scale: number[];
  zeroPoint: number[];
  qmin: number;
  qmax: number;
}

interface AnyBackend {
  makeOutput?(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap?(t: TensorInfo): Float32Array;
  makeTensorInfo?(shape: number[], dtype: string, values: Float32Array): TensorInfo;
  readSync(dataId: object): unknown;
}

type Args = { inputs: Record<string, TensorInfo>; backend: AnyBackend; attrs: NamedAttrMap };

/** Allocates the output and returns views on the inputs and output, for wasm (heap views) or cpu. */
function io(backend: AnyBackend, inputs: TensorInfo[], shape: number[]): { out: TensorInfo; src: Float32Array[]; dst: Float32Array } {
  const n = shape.reduce((p, s) => p * s, 1);
  if (backend.makeOutput && backend.typedArrayFromHeap) {
    const out = backend.makeOutput(shape, 'float32');
    return { out, src: inputs.map((t) => backend.typedArrayFromHeap!(t)), dst: backend.typedArrayFromHeap(out) };
  }
  const dst = new Float32Array(n);
  const src = inputs.map((t) => backend.readSync(t.dataId) as Float32Array);
  return { out: backend.makeTensorInfo!(shape, 'float32', dst), src, dst };
}

function checkAttrs(a: FakeQuantAttrs, x: TensorInfo): void {
  const c = x.shape[x.shape.length - 1] ?? 1;
  if (a.scale.length !== 1 && a.scale.length !== c) throw new Error(`fake quant: ${a.scale.length} scales for last axis ${c}`);
  if (a.zeroPoint.length !== a.scale.length) throw new Error('fake quant: scale and zero point lengths differ');
}

function fakeQuantKernel(args: Args): TensorInfo {
  const x = args.inputs.x;
  const a = args.attrs as unknown as FakeQuantAttrs;
  checkAttrs(a, x);
  const { out, src, dst } = io(args.backend, [x], x.shape);
  const xs = src[0];
  const nc = a.scale.length;
  const { qmin, qmax } = a;
  for (let i = 0; i < xs.length; i++) {
    const c = nc === 1 ? 0 : i % nc;
    const s = a.scale[c];
    const zp = a.zeroPoint[c];
    const v = xs[i] / s;
    let q = (v < 0 ? -Math.round(-v) : Math.round(v)) + zp;
    q = q < qmin ? qmin : q > qmax ? qmax : q;
    dst[i] = (q - zp) * s;
  }
  return out;
}

function fakeQuantGradKernel(args: Args): TensorInfo {
  const { dy, x } = args.inputs;
  const a = args.attrs as unknown as FakeQuantAttrs;
  const { out, src, dst } = io(args.backend, [dy, x], x.shape);
  const [g, xs] = src;
  const nc = a.scale.length;
  for (let i = 0; i < xs.length; i++) {
    const c = nc === 1 ? 0 : i % nc;
    const s = a.scale[c];
    const zp = a.zeroPoint[c];
    const v = xs[i];
    dst[i] = v >= (a.qmin - zp) * s && v <= (a.qmax - zp) * s ? g[i] : 0;
  }
  return out;
}

let registered = false;
const KERNEL_BACKENDS = ['wasm', 'cpu'];

export function registerFakeQuantKernels(): void {
  if (registered) return;
  for (const backendName of KERNEL_BACKENDS) {
    tf.registerKernel({ kernelName: FAKE_QUANT, backendName, kernelFunc: fakeQuantKernel as unknown as KernelFunc });
    tf.registerKernel({ kernelName: FAKE_QUANT_GRAD, backendName, kernelFunc: fakeQuantGradKernel as unknown as KernelFunc });
  }
  tf.registerGradient({
    kernelName: FAKE_QUANT,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => ({
      x: () => tf.engine().runKernel(FAKE_QUANT_GRAD, { dy: dy as tf.Tensor, x: saved[0] }, attrs) as tf.Tensor,
    }),
  });
  registered = true;
}

/** The same math from tfjs ops, for backends without the JS kernels (and as the kernels' test oracle). */
export function fakeQuantComposite(x: tf.Tensor, a: FakeQuantAttrs): tf.Tensor {
  const f = tf.customGrad((xin, save) => {
    const xt = xin as tf.Tensor;
    (save as tf.GradSaveFunc)([xt]);
    const s = tf.tensor1d(a.scale);
    const zp = tf.tensor1d(a.zeroPoint);
    const q = tf.clipByValue(roundHalfAway(tf.div(xt, s)).add(zp), a.qmin, a.qmax);
    const value = q.sub(zp).mul(s);
    const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      // Forward-pass tensors are gone by now: rebuild the bounds from the attributes.
      const lo = tf.tensor1d(a.scale.map((sc, i) => (a.qmin - a.zeroPoint[i]) * sc));
      const hi = tf.tensor1d(a.scale.map((sc, i) => (a.qmax - a.zeroPoint[i]) * sc));
      const inside = tf.logicalAnd(saved[0].greaterEqual(lo), saved[0].lessEqual(hi));
      return [tf.where(inside, dy as tf.Tensor, tf.zerosLike(dy as tf.Tensor))];
    };
    return { value, gradFunc };
  });
  return f(x);
}

/** Round half away from zero from tfjs ops (tf.round rounds half to even). */
export function roundHalfAway(v: tf.Tensor): tf.Tensor {
  return tf.sign(v).mul(tf.floor(tf.abs(v).add(0.5)));
}

export function fakeQuant(x: tf.Tensor, a: FakeQuantAttrs): tf.Tensor {
  if (registered && KERNEL_BACKENDS.includes(tf.getBackend())) {
    return tf.engine().runKernel(FAKE_QUANT, { x }, a as unknown as NamedAttrMap) as tf.Tensor;
  }
  return fakeQuantComposite(x, a);
}
