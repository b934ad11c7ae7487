/**
 * hil patches or reads the internals of three libraries, which no semver range protects: the wasm
 * backend's kernels (src/model/tfKernels.ts), the serial binding's open port (src/link/serialBinding.ts)
 * and wavefile's parsed chunks (src/data/wav.ts). Each is pinned to one version in package.json; this
 * checks that the installed version is that one and that the internals hil relies on are still there, so
 * that an upgrade fails here, naming what moved, rather than deep inside training or a benchmark run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, read, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { LinuxBinding } from '@serialport/bindings-cpp';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import wavefilePkg from 'wavefile';
import { repoRoot } from '../../src/util/paths.js';
import { initTf, tf } from '../../src/model/tfBackend.js';

interface Pinned {
  pkg: string;
  patchedBy: string;
}
const WASM: Pinned = { pkg: '@tensorflow/tfjs-backend-wasm', patchedBy: 'src/model/tfKernels.ts' };
const SERIAL: Pinned = { pkg: '@serialport/bindings-cpp', patchedBy: 'src/link/serialBinding.ts' };
const WAVEFILE: Pinned = { pkg: 'wavefile', patchedBy: 'src/data/wav.ts' };

const json = (...path: string[]) => JSON.parse(readFileSync(join(repoRoot(), ...path), 'utf8'));
const installed = (p: Pinned): string => json('node_modules', p.pkg, 'package.json').version;
const changed = (p: Pinned, what: string) => `${p.pkg} ${installed(p)} internals changed: ${what}; ${p.patchedBy} relies on it — re-check it before upgrading`;

test('each patched library is pinned to one exact version in package.json and package-lock.json, the one installed', () => {
  const pkg = json('package.json');
  const lock = json('package-lock.json');
  for (const p of [WASM, SERIAL, WAVEFILE]) {
    const spec = pkg.dependencies[p.pkg];
    assert.match(spec ?? '', /^\d+\.\d+\.\d+$/, `${p.pkg} is "${spec}" in package.json: pin one exact version, ${p.patchedBy} relies on its internals`);
    assert.equal(lock.packages[''].dependencies[p.pkg], spec, `package-lock.json disagrees with package.json on ${p.pkg}: run npm install`);
    assert.equal(lock.packages[`node_modules/${p.pkg}`].version, spec, `package-lock.json locks ${p.pkg} at another version than the pin: run npm install`);
    assert.equal(installed(p), spec, `${p.pkg} ${installed(p)} is installed, package.json pins ${spec}: run npm ci`);
  }
});

test('tfjs-backend-wasm: the kernels tfKernels.ts replaces or calls, their inputs and attributes, and the backend methods it uses', async () => {
  await initTf({ backend: 'wasm', kernelFixes: false });
  const backend = tf.backend() as unknown as {
    makeOutput(shape: number[], dtype: string): TensorInfo;
    typedArrayFromHeap(t: TensorInfo): Float32Array;
    disposeData(dataId: object): void;
  };
  for (const m of ['makeOutput', 'typedArrayFromHeap', 'disposeData'] as const) {
    assert.equal(typeof backend[m], 'function', changed(WASM, `the wasm backend has no method ${m}`));
  }
  // tfKernels.ts reads and writes tensors through views of the wasm heap.
  const t = tf.tensor1d([1.5, -2, 3]);
  assert.deepEqual(Array.from(backend.typedArrayFromHeap(t)), [1.5, -2, 3], changed(WASM, 'typedArrayFromHeap does not return the tensor\'s values'));
  const out = backend.makeOutput([2, 3], 'float32');
  assert.deepEqual({ shape: out.shape, length: backend.typedArrayFromHeap(out).length }, { shape: [2, 3], length: 6 }, changed(WASM, 'makeOutput does not allocate the shape asked for'));
  backend.disposeData(out.dataId);

  // The kernels are called through spies that record the input and attribute names tfjs passes them.
  const uses: Record<string, { inputs: string[]; attrs: string[] }> = {
    BatchMatMul: { inputs: ['a', 'b'], attrs: ['transposeA', 'transposeB'] },
    Slice: { inputs: ['x'], attrs: ['begin', 'size'] },
    Unpack: { inputs: ['value'], attrs: ['axis'] },
    SplitV: { inputs: ['x'], attrs: ['axis', 'numOrSizeSplits'] },
    Transpose: { inputs: ['x'], attrs: ['perm'] },
  };
  const seen: Record<string, { inputs: string[]; attrs: string[] }> = {};
  const originals = new Map<string, KernelConfig>();
  for (const name of Object.keys(uses)) {
    const k = tf.getKernel(name, 'wasm');
    assert.ok(k && typeof k.kernelFunc === 'function', changed(WASM, `kernel ${name} is not registered for the wasm backend`));
    originals.set(name, k);
  }
  try {
    for (const [name, k] of originals) {
      const spy = (args: { inputs: Record<string, unknown>; attrs: NamedAttrMap }) => {
        seen[name] = { inputs: Object.keys(args.inputs).sort(), attrs: Object.keys(args.attrs).filter((a) => uses[name]!.attrs.includes(a)).sort() };
        return (k.kernelFunc as unknown as (a: unknown) => unknown)(args);
      };
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({ ...k, kernelFunc: spy as unknown as KernelFunc });
    }
    const x = tf.randomUniform([3, 4, 5]);
    tf.matMul(tf.ones([2, 3]), tf.ones([2, 4]), true, false);
    tf.slice(x, [1, 0, 0], [1, 4, 5]);
    tf.unstack(x, 1);
    tf.split(x, [2, 3], 2);
    tf.transpose(x, [0, 2, 1]);
  } finally {
    for (const [name, k] of originals) {
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel(k);
    }
  }
  for (const [name, want] of Object.entries(uses)) {
    assert.deepEqual(seen[name], want, changed(WASM, `kernel ${name} takes other inputs or attributes than ${JSON.stringify(want)}`));
  }
});

const readAsync = promisify(read);

test('serialport binding: an open Linux port has the numeric fd and the poller serialBinding.ts reads with', { skip: process.platform !== 'linux' && 'the patched binding is Linux only' }, async () => {
  // A pseudo-terminal whose master end, held by python, writes one byte when told to.
  // The system python when there is one: a version manager's shim costs a second to start.
  const pty = spawn(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', 'import os, pty, sys\nm, s = pty.openpty()\nprint(os.ttyname(s), flush=True)\nsys.stdin.readline()\nos.write(m, b"x")\nsys.stdin.readline()'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const [path] = (await once(createInterface({ input: pty.stdout! }), 'line')) as [string];
    const port = await LinuxBinding.open({ path, baudRate: 115200 });
    try {
      assert.equal(typeof port.fd, 'number', changed(SERIAL, 'the open port has no numeric fd'));
      assert.equal(typeof port.poller?.once, 'function', changed(SERIAL, 'the open port has no poller with once()'));
      let timer: NodeJS.Timeout | undefined;
      const readable = new Promise<void>((resolve, reject) => {
        port.poller.once('readable', (err?: Error | null) => (err ? reject(err) : resolve()));
        timer = setTimeout(() => reject(new Error(changed(SERIAL, "the poller did not report 'readable' when a byte arrived"))), 3000);
      });
      pty.stdin!.write('\n');
      await readable.finally(() => clearTimeout(timer));
      const buf = Buffer.alloc(4);
      const { bytesRead } = await readAsync(port.fd!, buf, 0, 4, null);
      assert.equal(buf.subarray(0, bytesRead).toString(), 'x', changed(SERIAL, 'reading the fd does not give the line\'s bytes'));
    } finally {
      await port.close();
    }
  } finally {
    pty.kill();
  }
});

test('wavefile: the parsed container, fmt and data chunks wav.ts reads', () => {
  const { WaveFile } = wavefilePkg;
  const parse = (channels: number, bitDepth: string, n: number) => {
    const w = new WaveFile();
    w.fromScratch(channels, 16000, bitDepth, new Array(channels * n).fill(0));
    const r = new WaveFile();
    r.fromBuffer(w.toBuffer());
    return r as unknown as Record<string, unknown> & { fmt: Record<string, unknown>; data: Record<string, unknown> };
  };
  const wav = parse(2, '24', 5);
  assert.equal(wav.container, 'RIFF', changed(WAVEFILE, 'container is not the RIFF id'));
  assert.deepEqual(
    { audioFormat: wav.fmt.audioFormat, numChannels: wav.fmt.numChannels, sampleRate: wav.fmt.sampleRate, blockAlign: wav.fmt.blockAlign, bitsPerSample: wav.fmt.bitsPerSample },
    { audioFormat: 1, numChannels: 2, sampleRate: 16000, blockAlign: 6, bitsPerSample: 24 },
    changed(WAVEFILE, 'fmt does not hold audioFormat, numChannels, sampleRate, blockAlign and bitsPerSample'),
  );
  assert.ok(wav.data.samples instanceof Uint8Array, changed(WAVEFILE, 'data.samples is not the raw bytes'));
  assert.deepEqual({ chunkSize: wav.data.chunkSize, bytes: (wav.data.samples as Uint8Array).length }, { chunkSize: 30, bytes: 30 }, changed(WAVEFILE, 'data.chunkSize is not the declared data size'));
  // More than two channels makes wavefile write a WAVE_FORMAT_EXTENSIBLE header: the format code is then subformat[0].
  const ext = parse(3, '16', 2);
  assert.ok(Array.isArray(wav.fmt.subformat) && Array.isArray(ext.fmt.subformat), changed(WAVEFILE, 'fmt.subformat is not an array'));
  assert.equal((ext.fmt.subformat as number[])[0], 1, changed(WAVEFILE, 'fmt.subformat[0] is not the extensible format code'));
});
