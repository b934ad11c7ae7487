/**
 * TensorFlow.js backend selection for training. tfjs-node (native libtensorflow) is used when it is
 * installed; it usually is not, because its install script downloads a binary from a host most machines
 * here cannot reach. Otherwise the wasm backend (SIMD, single-threaded in Node) with hil's kernel fixes
 * (tfKernels.ts). tfjs silently falls back to its very slow pure-JS cpu backend when wasm cannot
 * initialise; training on that would take hours, so that case is an error unless cpu is asked for.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { HilError } from '../util/errors.js';
import { installKernelFixes, kernelFixesInstalled, removeKernelFixes } from './tfKernels.js';
import { registerFakeQuantKernels } from './tfFakeQuant.js';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** What tf.getBackend() reports: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  backend: string;
  simd: boolean;
  threads: boolean;
  kernelFixes: boolean;
  tfjsVersion: string;
  /** Why a faster backend was not used (empty when the first choice worked). */
  notes: string[];
}

let current: BackendInfo | undefined;

async function tryTfjsNode(notes: string[]): Promise<boolean> {
  try {
    // A variable specifier keeps TypeScript from requiring the optional package's types.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    if (!(await tf.setBackend('tensorflow'))) throw new Error('setBackend(tensorflow) returned false');
    await tf.ready();
    return tf.getBackend() === 'tensorflow';
  } catch (e) {
    notes.push(`tfjs-node unavailable: ${String((e as Error).message ?? e).split('\n')[0]}`);
    return false;
  }
}

/**
 * Selects and initialises the backend (once per thread; later calls return the same info unless a
 * different choice is asked for). `kernelFixes` (default true) applies only to wasm.
 */
export async function initTf(opts: { backend?: BackendChoice; kernelFixes?: boolean } = {}): Promise<BackendInfo> {
  const choice: BackendChoice = opts.backend ?? (process.env.HIL_TF_BACKEND as BackendChoice | undefined) ?? 'auto';
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(choice)) {
    throw new HilError(`unknown tfjs backend "${choice}"`, 'use auto, tensorflow, wasm or cpu (HIL_TF_BACKEND or --backend)');
  }
  const wantFixes = opts.kernelFixes ?? true;
  if (current && (choice === 'auto' || choice === current.backend)) {
    setKernelFixes(wantFixes);
    return current;
  }
  const notes: string[] = [];
  let ok = false;
  if (choice === 'auto' || choice === 'tensorflow') {
    ok = await tryTfjsNode(notes);
    if (!ok && choice === 'tensorflow') throw new HilError(`tfjs-node backend requested but ${notes.join('; ')}`, 'install @tensorflow/tfjs-node or use --backend wasm');
  }
  if (!ok && (choice === 'auto' || choice === 'wasm')) {
    let err = '';
    try {
      ok = await tf.setBackend('wasm');
      if (ok) {
        await tf.ready();
        ok = tf.getBackend() === 'wasm';
      }
    } catch (e) {
      err = (e as Error).message;
    }
    if (!ok) {
      throw new HilError(
        `the tfjs wasm backend did not initialise${err ? `: ${err}` : ''} (tfjs would silently use the slow cpu backend)`,
        'reinstall @tensorflow/tfjs-backend-wasm (npm ci), or pass --backend cpu to accept a very slow run',
      );
    }
  }
  if (!ok && choice === 'cpu') {
    await tf.setBackend('cpu');
    await tf.ready();
    ok = tf.getBackend() === 'cpu';
  }
  if (!ok) throw new HilError(`no tfjs backend could be initialised (${notes.join('; ')})`);
  registerFakeQuantKernels();
  const backend = tf.getBackend();
  current = {
    backend,
    simd: backend === 'wasm' && tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: backend === 'wasm' && tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    kernelFixes: false,
    tfjsVersion: tf.version.tfjs,
    notes,
  };
  setKernelFixes(wantFixes);
  return current;
}

/** Turns the wasm kernel fixes on or off (benchmarks compare both; a no-op on other backends). */
export function setKernelFixes(enabled: boolean): void {
  if (!current) throw new Error('initTf() first');
  if (current.backend !== 'wasm') return;
  if (enabled) installKernelFixes();
  else removeKernelFixes();
  current.kernelFixes = kernelFixesInstalled();
}

export function backendInfo(): BackendInfo {
  if (!current) throw new Error('initTf() first');
  return current;
}

export { tf };
