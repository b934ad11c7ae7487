/**
 * Replacement wasm kernels for two performance bugs of @tensorflow/tfjs-backend-wasm 4.22.0 that dominate
 * training time:
 *
 * - BatchMatMul with transposeA/transposeB runs 12–25× slower than transposing first, and every matMul
 *   gradient uses those flags. The fix transposes with the wasm Transpose kernel and calls the original
 *   BatchMatMul without flags (same products and summation order as a non-transposed matMul).
 * - Slice copies the whole input out of the wasm heap (readSync) before copying the slice; Unpack and
 *   SplitV call it once per output, so unstacking T frames costs O(T²). The fix copies straight from a
 *   heap view.
 *
 * The replacements are pure data movement around the original kernels, so the numbers are identical
 * (test/unit/tfKernels.test.ts checks values and gradients against the originals). They depend on the wasm
 * backend's internals, so the package is pinned and test/unit/pinned-internals.test.ts checks them.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/** The parts of the wasm backend these kernels use (BackendWasm is not exported with types we can import cleanly). */
interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): void;
}

type KernelArgs = { inputs: Record<string, TensorInfo>; backend: WasmBackend; attrs: NamedAttrMap };

const FIXED = ['BatchMatMul', 'Slice', 'Unpack', 'SplitV'] as const;
const originals = new Map<string, KernelConfig>();
let installed = false;

function original(name: string): KernelConfig {
  const k = originals.get(name) ?? tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`tfjs wasm kernel ${name} is not registered`);
  return k;
}

function callOriginal(name: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  return (original(name).kernelFunc as unknown as (a: KernelArgs) => TensorInfo | TensorInfo[])(args);
}

function swapLastTwo(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

function batchMatMul(args: KernelArgs): TensorInfo {
  const { a, b } = args.inputs;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (!transposeA && !transposeB) return callOriginal('BatchMatMul', args) as TensorInfo;
  const backend = args.backend;
  const transposed = (x: TensorInfo): TensorInfo =>
    callOriginal('Transpose', { inputs: { x }, backend, attrs: { perm: swapLastTwo(x.shape.length) } }) as TensorInfo;
  const a2 = transposeA ? transposed(a) : a;
  const b2 = transposeB ? transposed(b) : b;
  const out = callOriginal('BatchMatMul', { inputs: { a: a2, b: b2 }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
  if (a2 !== a) backend.disposeData(a2.dataId);
  if (b2 !== b) backend.disposeData(b2.dataId);
  return out;
}

/** Slice read from a view of the wasm heap (views must be taken after makeOutput, which may grow the heap). */
function sliceFrom(backend: WasmBackend, x: TensorInfo, beginIn: number[] | number, sizeIn: number[] | number): TensorInfo {
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, beginIn, sizeIn);
  const out = backend.makeOutput(size, x.dtype);
  const n = size.reduce((p, s) => p * s, 1);
  if (n === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const strides = tf.util.computeStrides(x.shape);
  const rank = x.shape.length;
  if (rank === 0 || tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const off = rank === 0 ? 0 : tf.slice_util.computeFlatOffset(begin, strides);
    dst.set(src.subarray(off, off + n));
    return out;
  }
  // Odometer over every output row (the last axis is contiguous in both).
  const row = size[rank - 1];
  const idx = new Array<number>(rank - 1).fill(0);
  let o = 0;
  for (;;) {
    let off = begin[rank - 1];
    for (let d = 0; d < rank - 1; d++) off += (begin[d] + idx[d]) * strides[d];
    dst.set(src.subarray(off, off + row), o);
    o += row;
    let d = rank - 2;
    while (d >= 0 && ++idx[d] === size[d]) idx[d--] = 0;
    if (d < 0) break;
  }
  return out;
}

function slice(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string') return callOriginal('Slice', args) as TensorInfo;
  const { begin, size } = args.attrs as { begin: number[]; size: number[] };
  return sliceFrom(args.backend, x, begin, size);
}

function unpack(args: KernelArgs): TensorInfo[] {
  const value = args.inputs.value;
  if (value.dtype === 'string') return callOriginal('Unpack', args) as TensorInfo[];
  const rank = value.shape.length;
  const axis = ((args.attrs.axis as number) + rank) % rank;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const begin = new Array<number>(rank).fill(0);
  const size = value.shape.slice();
  size[axis] = 1;
  const outs: TensorInfo[] = [];
  for (let i = 0; i < value.shape[axis]; i++) {
    begin[axis] = i;
    const s = sliceFrom(args.backend, value, begin, size);
    outs.push({ dataId: s.dataId, dtype: s.dtype, shape: outShape });
  }
  return outs;
}

function splitV(args: KernelArgs): TensorInfo[] {
  const { x } = args.inputs;
  if (x.dtype === 'string') return callOriginal('SplitV', args) as TensorInfo[];
  const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number[] | number; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
  const begin = new Array<number>(x.shape.length).fill(0);
  const size = x.shape.slice();
  return sizes.map((s) => {
    size[ax] = s;
    const out = sliceFrom(args.backend, x, begin, size);
    begin[ax] += s;
    return out;
  });
}

const REPLACEMENTS: Record<(typeof FIXED)[number], (args: KernelArgs) => TensorInfo | TensorInfo[]> = {
  BatchMatMul: batchMatMul,
  Slice: slice,
  Unpack: unpack,
  SplitV: splitV,
};

export function installKernelFixes(): void {
  if (installed) return;
  for (const name of [...FIXED, 'Transpose']) if (!originals.has(name)) originals.set(name, original(name));
  for (const name of FIXED) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: REPLACEMENTS[name] as unknown as KernelFunc });
  }
  installed = true;
}

/** Restores tfjs's own kernels (their setup already ran when the backend initialised). */
export function removeKernelFixes(): void {
  if (!installed) return;
  for (const name of FIXED) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(original(name));
  }
  installed = false;
}

export function kernelFixesInstalled(): boolean {
  return installed;
}
