/**
 * Runs a .tflite in LiteRT for Node: the WebAssembly runtime that ships in `@litertjs/core`, driven through
 * its own embind API (the calls the package's JS layer makes). Two things keep us below that JS layer:
 * its loader only knows browsers (it adds a <script> tag or calls importScripts), and its tensor type table
 * has float32, int32 and uint8 only, so it throws on an int8 model's signature. Here the package's
 * emscripten script is evaluated with Node's `require` and a `locateFile` that points at its wasm
 * directory, and int8 tensors are exchanged as raw bytes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';
import { HilError } from '../../src/util/errors.js';

const INSTALL_HINT = 'run `npm install` (it is a dependency in package.json) or `npm install --save @litertjs/core`';
/** LiteRT's ElementTypes for int8 and int16 (litert_model_types; TfLiteType's values). */
const ELEMENT_INT8 = 9;
const ELEMENT_INT16 = 7;

/* The embind surface used here; names are the module's. */
interface EmbindObject {
  delete(): void;
}
interface EmVector<T> extends EmbindObject {
  size(): number;
  get(i: number): T;
}
interface RankedTensorType extends EmbindObject {
  elementType(): { value: number };
  layout(): EmbindObject & { dimensions(): EmVector<number> };
  bytes(): number;
}
interface TensorBuffer extends EmbindObject {
  lock(mode: unknown): number;
  unlock(): void;
  packedSize(): number;
}
interface WasmModel extends EmbindObject {
  getNumSignatures(): number;
  getSignature(i: number): EmbindObject & { key(): string; inputNames(): EmVector<string>; outputNames(): EmVector<string> };
  getInputTensorType(sig: number, i: number): RankedTensorType;
  getOutputTensorType(sig: number, i: number): RankedTensorType;
}
interface WasmCompiledModel extends EmbindObject {
  run(sig: number, inputs: TensorBuffer[]): Promise<TensorBuffer[]>;
  isFullyAccelerated(): boolean;
}
interface LiteRtWasm {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(p: number): void;
  LiteRtEnvironment: { create(webGpuDevice: null): EmbindObject };
  LiteRtTensorBuffer: { createManaged(env: EmbindObject, type: unknown, tensorType: RankedTensorType, bytes: number): TensorBuffer };
  LiteRtTensorBufferType: { HOST_MEMORY: unknown };
  LiteRtTensorBufferLockMode: { READ: unknown; WRITE: unknown };
  loadModel(env: EmbindObject, ptr: number, bytes: number): WasmModel;
  compileModel(env: EmbindObject, model: WasmModel, options: object): Promise<WasmCompiledModel>;
}

interface Runtime {
  wasm: LiteRtWasm;
  env: EmbindObject;
  /** Which build was loaded: the relaxed-SIMD one or the compat one. */
  file: string;
  /** The runtime's own log lines (kept for error messages instead of flooding stderr). */
  log: string[];
}

let runtime: Promise<Runtime> | null = null;

async function loadRuntime(): Promise<Runtime> {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve('@litertjs/core/package.json');
  } catch {
    throw new HilError('LiteRT for Node (@litertjs/core) is not installed', INSTALL_HINT);
  }
  const wasmDir = join(dirname(pkgJson), 'wasm');
  // The package's own feature probe decides between its two single-threaded builds, as its loader does.
  const { supportsFeature } = (await import('@litertjs/core')) as { supportsFeature(f: 'relaxedSimd'): Promise<boolean> };
  const file = join(wasmDir, (await supportsFeature('relaxedSimd')) ? 'litert_wasm_internal.js' : 'litert_wasm_compat_internal.js');
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new HilError(`cannot read LiteRT's wasm loader ${file}: ${(e as Error).message}`, INSTALL_HINT);
  }
  // An emscripten MODULARIZE script: it defines `var ModuleFactory` and reads the .wasm with Node's fs.
  const wrapped = vm.runInThisContext(`(function (require, __filename, __dirname) {${source}\nreturn ModuleFactory;\n})`, { filename: file });
  const factory = wrapped(require, file, wasmDir) as (arg: object) => Promise<LiteRtWasm>;
  const log: string[] = [];
  const keep = (line: string) => {
    log.push(line);
    if (log.length > 200) log.shift();
  };
  const wasm = await factory({ locateFile: (p: string) => join(wasmDir, p), print: keep, printErr: keep });
  return { wasm, env: wasm.LiteRtEnvironment.create(null), file, log };
}

/** A tensor the step graph takes or gives. */
export interface TfliteIo {
  name: string;
  shape: number[];
  bytes: number;
  /** 'int16' for a 16-bit output layer's tensors; their bytes are exchanged little-endian. */
  type: 'int8' | 'int16';
}

function ioOf(name: string, t: RankedTensorType, where: string): TfliteIo {
  const layout = t.layout();
  const dims = layout.dimensions();
  const shape = Array.from({ length: dims.size() }, (_, i) => dims.get(i));
  dims.delete();
  layout.delete();
  const type = t.elementType().value;
  const bytes = t.bytes();
  t.delete();
  if (type !== ELEMENT_INT8 && type !== ELEMENT_INT16) throw new HilError(`LiteRT: ${where} ${name} has element type ${type}, not int8 or int16`, 'export the model with hil model export --format tflite');
  return { name, shape, bytes, type: type === ELEMENT_INT16 ? 'int16' : 'int8' };
}

function names(v: EmVector<string>): string[] {
  const out = Array.from({ length: v.size() }, (_, i) => v.get(i));
  v.delete();
  return out;
}

/** One loaded and compiled model; `run` takes and returns int8 tensors in signature order. */
export class LiteRtModel {
  private closed = false;

  private constructor(
    private readonly rt: Runtime,
    private readonly model: WasmModel,
    private readonly compiled: WasmCompiledModel,
    private readonly modelPtr: number,
    readonly signature: string,
    readonly inputs: TfliteIo[],
    readonly outputs: TfliteIo[],
    /** LiteRT's word on whether the CPU accelerator (XNNPACK) took every op. */
    readonly fullyAccelerated: boolean,
  ) {}

  /** Loads the wasm runtime once per process, then loads and compiles `bytes` for the CPU ('wasm'). */
  static async load(bytes: Uint8Array): Promise<LiteRtModel> {
    runtime ??= loadRuntime().catch((e: unknown) => {
      runtime = null;
      throw e;
    });
    const rt = await runtime;
    const { wasm, env } = rt;
    const ptr = wasm._malloc(bytes.length);
    wasm.HEAPU8.set(bytes, ptr);
    let model: WasmModel | null = null;
    try {
      model = wasm.loadModel(env, ptr, bytes.length);
      const compiled = await wasm.compileModel(env, model, { accelerator: 'wasm', cpuOptions: { numThreads: 1 }, gpuOptions: {}, webNNOptions: {} });
      const sig = model.getSignature(0);
      const key = sig.key();
      const m = model;
      const inputs = names(sig.inputNames()).map((n, i) => ioOf(n, m.getInputTensorType(0, i), 'input'));
      const outputs = names(sig.outputNames()).map((n, i) => ioOf(n, m.getOutputTensorType(0, i), 'output'));
      sig.delete();
      return new LiteRtModel(rt, model, compiled, ptr, key, inputs, outputs, compiled.isFullyAccelerated());
    } catch (e) {
      model?.delete();
      wasm._free(ptr);
      if (e instanceof HilError) throw e;
      throw new HilError(`LiteRT refused the model: ${e instanceof Error ? e.message : String(e)}; runtime log: ${rt.log.slice(-5).join(' | ')}`, 'check the .tflite with hil model export --format tflite');
    }
  }

  /** One invocation: int8 inputs in signature order → int8 outputs in signature order. */
  async run(inputs: readonly Int8Array[]): Promise<Int8Array[]> {
    if (this.closed) throw new Error('LiteRtModel: run after close');
    if (inputs.length !== this.inputs.length) throw new RangeError(`LiteRT: ${this.inputs.length} inputs expected, got ${inputs.length}`);
    const { wasm, env } = this.rt;
    const buffers: TensorBuffer[] = [];
    let outs: TensorBuffer[] = [];
    try {
      inputs.forEach((data, i) => {
        const io = this.inputs[i];
        if (data.length !== io.bytes) throw new RangeError(`LiteRT: input ${io.name} needs ${io.bytes} values, got ${data.length}`);
        const type = this.model.getInputTensorType(0, i);
        const buf = wasm.LiteRtTensorBuffer.createManaged(env, wasm.LiteRtTensorBufferType.HOST_MEMORY, type, io.bytes);
        type.delete();
        buffers.push(buf);
        const p = buf.lock(wasm.LiteRtTensorBufferLockMode.WRITE);
        wasm.HEAPU8.set(new Uint8Array(data.buffer, data.byteOffset, data.length), p);
        buf.unlock();
      });
      outs = await this.compiled.run(0, buffers);
      return outs.map((buf) => {
        const p = buf.lock(wasm.LiteRtTensorBufferLockMode.READ);
        const copy = new Int8Array(wasm.HEAPU8.slice(p, p + buf.packedSize()).buffer);
        buf.unlock();
        return copy;
      });
    } finally {
      for (const b of [...buffers, ...outs]) b.delete();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.compiled.delete();
    this.model.delete();
    this.rt.wasm._free(this.modelPtr);
  }
}

/** Which LiteRT build this process loaded (for reports), or null before the first load. */
export async function liteRtBuild(): Promise<string | null> {
  return runtime ? (await runtime).file.split('/').pop() ?? null : null;
}
