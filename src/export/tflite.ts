/**
 * QuantGraph → a standard int8 `.tflite` (TFLite schema version 3) of the streaming step: one frame of
 * features and every recurrent state (GRU h; LSTM c and h) in, the mask and every new state out
 * (docs/tflite.md). The graph is the unrolled cell of docs/model-format.md §9 in the builtin ops that
 * microNPU compilers and Arm NN's TFLite parser accept (FULLY_CONNECTED, ADD, SUB, MUL, LOGISTIC, TANH):
 * Arm NN 20.08 cannot parse UNIDIRECTIONAL_SEQUENCE_LSTM, and TFLite's integer form of it has an int16 cell
 * state, not the blob's int8 one (docs/tflite.md §2).
 *
 * The tables are written by hand with the flatbuffers Builder. Field slots are the schema's field order
 * (a union takes two: its type byte, then its value), so `slot(k)` below is the k-th field of schema.fbs.
 */
import { Builder } from 'flatbuffers';
import { HilError } from '../util/errors.js';
import { HIL_VERSION } from '../util/version.js';
import type { QFc, QFc16, QLut, QLut16, QOp, QTensor, QuantGraph } from './quantGraph.js';

/** schema.fbs TensorType. */
const TENSOR_FLOAT32 = 0;
const TENSOR_INT32 = 2;
const TENSOR_INT64 = 4;
const TENSOR_INT16 = 7;
const TENSOR_INT8 = 9;
/** schema.fbs BuiltinOperator (all below 127, so the deprecated byte holds them too). */
export const BUILTIN = { ADD: 0, DEQUANTIZE: 6, FULLY_CONNECTED: 9, LOGISTIC: 14, MUL: 18, TANH: 28, SUB: 41, QUANTIZE: 114 } as const;
export type BuiltinName = keyof typeof BUILTIN;
/** The version TFLite's op_version.cc assigns each op with int8 inputs and outputs (DEQUANTIZE: int8 in; QUANTIZE: int16 out). */
const INT8_OP_VERSION: Record<BuiltinName, number> = { ADD: 2, DEQUANTIZE: 2, FULLY_CONNECTED: 4, LOGISTIC: 2, MUL: 2, TANH: 2, SUB: 2, QUANTIZE: 2 };
/** The versions of the 16-bit forms: 16x8 FULLY_CONNECTED and int16 LOGISTIC. */
const INT16_OP_VERSION: Partial<Record<BuiltinName, number>> = { FULLY_CONNECTED: 7, LOGISTIC: 3 };
const LOGISTIC16_OUT = { scale: 1 / 32768, zeroPoint: 0 };
/** schema.fbs BuiltinOptions union members. */
const OPTIONS_FC = 8;
const OPTIONS_ADD = 11;
const OPTIONS_MUL = 21;
const OPTIONS_SUB = 28;
const ACT_NONE = 0;
const ACT_RELU = 1;
/** TFLite's fixed int8 output quantizations of LOGISTIC and TANH (their kernels refuse any other). */
const LOGISTIC_OUT = { scale: 1 / 256, zeroPoint: -128 };
const TANH_OUT = { scale: 1 / 128, zeroPoint: 0 };

export const TFLITE_SCHEMA_VERSION = 3;
export const TFLITE_FILE_IDENTIFIER = 'TFL3';
export const TFLITE_SIGNATURE_KEY = 'serving_default';
/** Name of the metadata entry that describes the streaming contract (JSON, see TfliteStreamingInfo). */
export const TFLITE_METADATA_NAME = 'hil';

/** What the `hil` metadata entry holds: enough to drive the step graph as a stream. */
export interface TfliteStreamingInfo {
  format: 'hil-tflite';
  version: 1;
  hil: string;
  /** docs/model-format.md §7 model id: the first 4 bytes of the float model's SHA-256, hex. */
  modelId: string;
  arch: string;
  nFft: number;
  hop: number;
  sampleRate: number;
  /** Feature quantization of the front end (docs/model-format.md §1 step 6). */
  featMult: number;
  featShift: number;
  input: string;
  output: string;
  /** Each state input and the output to feed back into it on the next step. */
  states: { input: string; output: string }[];
  /** Present when the file holds only these ops of the graph (a probe, see TfliteOptions.ops). */
  ops?: number[];
}

export interface TfliteOptions {
  /**
   * Write only these ops (indices into graph.ops, in execution order): a slice whose inputs are the tensors
   * the slice reads but does not write and whose outputs are every tensor it writes. Tests use one-op
   * slices to check each op of a runtime against the engine on the same inputs.
   */
  ops?: number[];
}

/** One tensor of the flat file, in file order. */
interface FileTensor {
  name: string;
  shape: number[];
  type: number;
  /** Index into the model's buffers (0: no data). */
  buffer: number;
  scales: Float32Array;
  zeroPoints: number[];
}

interface FileOp {
  builtin: BuiltinName;
  version: number;
  inputs: number[];
  outputs: number[];
  activation: number;
}

/** The canonical weight and bias names of an FC (src/model/arch.ts weightNames). */
export function fcParamNames(opName: string): { weights: string; bias: string } {
  const rnn = /^(gru\d+|lstm\d+)\.fc_([xh][zrn]|[xh][ifgo])$/.exec(opName);
  if (rnn) return { weights: `${rnn[1]}.w_${rnn[2]}`, bias: `${rnn[1]}.b_${rnn[2]}` };
  return { weights: `${opName}.w`, bias: `${opName}.b` };
}

function bytesOf(a: Int8Array | Int32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The streaming contract of a graph: its input, output, and state pairs in tensor-table order. */
export function streamingInfo(graph: QuantGraph): TfliteStreamingInfo {
  return {
    format: 'hil-tflite',
    version: 1,
    hil: HIL_VERSION,
    modelId: graph.modelId.toString(16).padStart(8, '0'),
    arch: graph.arch,
    nFft: graph.nFft,
    hop: graph.hop,
    sampleRate: graph.sampleRate,
    featMult: graph.featMult,
    featShift: graph.featShift,
    input: graph.input,
    output: graph.output,
    states: graph.tensors.filter((t) => t.isState).map((t) => ({ input: t.name, output: t.next as string })),
  };
}

/**
 * The flat model: activation tensors in graph order, then each FC's weights and bias; buffer 0 is the
 * empty sentinel, constants get one buffer each, and the last buffer holds the metadata JSON.
 */
function flatten(graph: QuantGraph, slice?: number[]): { tensors: FileTensor[]; ops: FileOp[]; buffers: Uint8Array[]; inputs: number[]; outputs: number[]; info: TfliteStreamingInfo } {
  if (slice && (slice.length === 0 || slice.some((k, j) => !Number.isInteger(k) || k < 0 || k >= graph.ops.length || (j > 0 && k <= slice[j - 1]))))
    throw new HilError(`op slice [${slice}] is not a non-empty ascending list of op indices below ${graph.ops.length}`, 'pass op indices in execution order');
  const chosen = slice ? slice.map((k) => graph.ops[k]) : graph.ops;
  const reads = (op: QOp): string[] => ('input' in op ? [op.input] : [op.in1, op.in2]);
  const referenced = new Set(chosen.flatMap((op) => [...reads(op), op.output]));
  const tensors: FileTensor[] = [];
  const index = new Map<string, number>();
  const byName = new Map<string, QTensor>(graph.tensors.map((t) => [t.name, t]));
  const buffers: Uint8Array[] = [new Uint8Array(0)];
  const addTensor = (t: FileTensor): number => {
    if (index.has(t.name)) throw new HilError(`tensor name ${t.name} is used twice in the graph`, 're-export the model: tensor and weight names must be unique');
    index.set(t.name, tensors.length);
    tensors.push(t);
    return tensors.length - 1;
  };
  for (const t of graph.tensors)
    if (referenced.has(t.name) || !slice)
      addTensor({ name: t.name, shape: [1, t.length], type: t.dtype === 'int16' ? TENSOR_INT16 : TENSOR_INT8, buffer: 0, scales: Float32Array.of(t.scale), zeroPoints: [t.zeroPoint] });
  const tensorOf = (name: string, where: string): QTensor => {
    const t = byName.get(name);
    if (!t) throw new HilError(`${where} refers to tensor ${name}, which the graph does not have`, 're-export the model with hil model export');
    return t;
  };
  const id = (name: string, where: string): number => {
    tensorOf(name, where);
    return index.get(name) as number;
  };
  const constant = (data: Uint8Array): number => {
    buffers.push(data);
    return buffers.length - 1;
  };

  const fcOp = (op: QFc): FileOp => {
    const x = tensorOf(op.input, op.name);
    const names = fcParamNames(op.name);
    // One shared scale is written per tensor: the same arithmetic, and the only FC form Arm NN 20.08's
    // CpuRef accepts (lower.ts weightScales: 'per-tensor'). Otherwise per channel along dimension 0.
    const s0 = op.weightScales[0];
    const perTensor = op.weightScales.every((s) => s === s0);
    const channels = perTensor ? 1 : op.outFeatures;
    const zeros = new Array<number>(channels).fill(0);
    const weightScales = perTensor ? Float32Array.of(s0) : op.weightScales;
    // The bias scale TFLite checks against input_scale · filter_scale (quantize.ts quantizeBias uses the same).
    const biasScales = weightScales.map((s) => Math.fround(x.scale * s));
    const w = addTensor({ name: names.weights, shape: [op.outFeatures, op.inFeatures], type: TENSOR_INT8, buffer: constant(bytesOf(op.weights)), scales: weightScales, zeroPoints: zeros });
    const b = addTensor({ name: names.bias, shape: [op.outFeatures], type: TENSOR_INT32, buffer: constant(bytesOf(op.bias)), scales: biasScales, zeroPoints: zeros });
    return { builtin: 'FULLY_CONNECTED', version: INT8_OP_VERSION.FULLY_CONNECTED, inputs: [id(op.input, op.name), w, b], outputs: [id(op.output, op.name)], activation: op.activation === 'relu' ? ACT_RELU : ACT_NONE };
  };
  // TFLite's 16x8 FULLY_CONNECTED: int16 activations (zero point 0), int8 per-channel weights, int64 bias.
  const fc16Op = (op: QFc16): FileOp => {
    const x = tensorOf(op.input, op.name);
    const names = fcParamNames(op.name);
    const zeros = new Array<number>(op.outFeatures).fill(0);
    const biasScales = op.weightScales.map((s) => Math.fround(x.scale * s));
    const w = addTensor({ name: names.weights, shape: [op.outFeatures, op.inFeatures], type: TENSOR_INT8, buffer: constant(bytesOf(op.weights)), scales: op.weightScales, zeroPoints: zeros });
    const b = addTensor({ name: names.bias, shape: [op.outFeatures], type: TENSOR_INT64, buffer: constant(bytesOf(op.bias)), scales: biasScales, zeroPoints: zeros });
    if (op.actMin !== -32768 || op.actMax !== 32767) throw new HilError(`${op.name}: a clamped 16x8 FC has no TFLite form here`, 'only the unclamped output FC is 16-bit');
    return { builtin: 'FULLY_CONNECTED', version: INT16_OP_VERSION.FULLY_CONNECTED!, inputs: [id(op.input, op.name), w, b], outputs: [id(op.output, op.name)], activation: ACT_NONE };
  };
  const fixedOutput = (op: QLut | QLut16, want: { scale: number; zeroPoint: number }): void => {
    const y = tensorOf(op.output, op.name);
    if (y.scale !== Math.fround(want.scale) || y.zeroPoint !== want.zeroPoint)
      throw new HilError(`${op.name}: output ${y.name} has scale ${y.scale} and zero point ${y.zeroPoint}, but TFLite's int8 ${op.kind} needs ${want.scale} and ${want.zeroPoint}`, 're-export with lower.ts, which fixes these quantizations');
  };
  const ops: FileOp[] = chosen.flatMap((op): FileOp[] => {
    switch (op.op) {
      case 'FC':
        return [fcOp(op)];
      case 'FC16':
        return [fc16Op(op)];
      case 'QUANTIZE': {
        // TFLite's QUANTIZE requantizes int16 → int8/int16 but not int8 → int16, so the widening is
        // DEQUANTIZE then QUANTIZE through a float32 tensor: exact, since lower.ts makes the scale ratio 2^s.
        const f = addTensor({ name: `${op.output}_float`, shape: [1, tensorOf(op.input, op.name).length], type: TENSOR_FLOAT32, buffer: 0, scales: new Float32Array(0), zeroPoints: [] });
        return [
          { builtin: 'DEQUANTIZE', version: INT8_OP_VERSION.DEQUANTIZE, inputs: [id(op.input, op.name)], outputs: [f], activation: ACT_NONE },
          { builtin: 'QUANTIZE', version: INT8_OP_VERSION.QUANTIZE, inputs: [f], outputs: [id(op.output, op.name)], activation: ACT_NONE },
        ];
      }
      case 'LUT16':
        if (op.kind !== 'logistic') throw new HilError(`${op.name}: only a logistic int16 table is exported to .tflite`, 'use outputBits 16 only for the mask');
        fixedOutput(op, LOGISTIC16_OUT);
        return [{ builtin: 'LOGISTIC', version: INT16_OP_VERSION.LOGISTIC!, inputs: [id(op.input, op.name)], outputs: [id(op.output, op.name)], activation: ACT_NONE }];
      case 'ADD':
      case 'SUB':
      case 'MUL':
        // The runtimes derive the requantization from the tensors' scales; lower.ts used the same formulas.
        if (op.actMin !== -128 || op.actMax !== 127) throw new HilError(`${op.name}: a clamped ${op.op} has no TFLite form here`, 'only FC carries a fused activation in hil graphs');
        return [{ builtin: op.op, version: INT8_OP_VERSION[op.op], inputs: [id(op.in1, op.name), id(op.in2, op.name)], outputs: [id(op.output, op.name)], activation: ACT_NONE }];
      case 'LUT':
        if (op.kind === 'other') throw new HilError(`${op.name}: a general lookup table has no TFLite builtin`, 'only LOGISTIC and TANH tables can be exported to .tflite');
        fixedOutput(op, op.kind === 'logistic' ? LOGISTIC_OUT : TANH_OUT);
        return [{ builtin: op.kind === 'logistic' ? 'LOGISTIC' : 'TANH', version: INT8_OP_VERSION.LOGISTIC, inputs: [id(op.input, op.name)], outputs: [id(op.output, op.name)], activation: ACT_NONE }];
    }
  });

  const info = streamingInfo(graph);
  let inputs: number[], outputs: number[];
  if (slice) {
    info.ops = [...slice];
    const written = new Set(chosen.map((op) => op.output));
    inputs = graph.tensors.filter((t) => referenced.has(t.name) && !written.has(t.name)).map((t) => id(t.name, 'the slice'));
    outputs = chosen.map((op) => id(op.output, op.name));
  } else {
    inputs = [id(graph.input, 'the graph input'), ...info.states.map((st) => id(st.input, 'a state'))];
    outputs = [id(graph.output, 'the graph output'), ...info.states.map((st) => id(st.output, `state ${st.input}`))];
  }
  buffers.push(new TextEncoder().encode(JSON.stringify(info)));
  return { tensors, ops, buffers, inputs, outputs, info };
}

/** A vector of int32 (schema `[int]`). */
function int32Vector(b: Builder, values: ArrayLike<number>): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

function offsetVector(b: Builder, offsets: number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

function writeTensor(b: Builder, t: FileTensor): number {
  const name = b.createString(t.name);
  const shape = int32Vector(b, t.shape);
  b.startVector(4, t.scales.length, 4);
  for (let i = t.scales.length - 1; i >= 0; i--) b.addFloat32(t.scales[i]);
  const scale = b.endVector();
  b.startVector(8, t.zeroPoints.length, 8);
  for (let i = t.zeroPoints.length - 1; i >= 0; i--) b.addInt64(BigInt(t.zeroPoints[i]));
  const zeroPoint = b.endVector();
  // QuantizationParameters: min 0, max 1, scale 2, zero_point 3, details_type 4, details 5, quantized_dimension 6.
  let quant = 0;
  if (t.scales.length) {
    b.startObject(7);
    b.addFieldOffset(2, scale, 0);
    b.addFieldOffset(3, zeroPoint, 0);
    b.addFieldInt32(6, 0, null); // per-channel tensors are quantized along dimension 0 (output channels)
    quant = b.endObject();
  }
  // Tensor: shape 0, type 1, buffer 2, name 3, quantization 4, is_variable 5, ... has_rank 8.
  b.startObject(9);
  b.addFieldOffset(0, shape, 0);
  b.addFieldInt8(1, t.type, null);
  b.addFieldInt32(2, t.buffer, null);
  b.addFieldOffset(3, name, 0);
  if (quant) b.addFieldOffset(4, quant, 0);
  b.addFieldInt8(8, 1, null);
  return b.endObject();
}

function writeOptions(b: Builder, op: FileOp): { type: number; table: number } {
  switch (op.builtin) {
    case 'FULLY_CONNECTED':
      // FullyConnectedOptions: fused_activation_function 0, weights_format 1 (DEFAULT), keep_num_dims 2, ...
      b.startObject(1);
      b.addFieldInt8(0, op.activation, null);
      return { type: OPTIONS_FC, table: b.endObject() };
    case 'ADD':
    case 'SUB':
      // Add/SubOptions: fused_activation_function 0, pot_scale_int16 1 (int16 only; its default stays).
      b.startObject(1);
      b.addFieldInt8(0, op.activation, null);
      return { type: op.builtin === 'ADD' ? OPTIONS_ADD : OPTIONS_SUB, table: b.endObject() };
    case 'MUL':
      b.startObject(1);
      b.addFieldInt8(0, op.activation, null);
      return { type: OPTIONS_MUL, table: b.endObject() };
    default:
      return { type: 0, table: 0 }; // LOGISTIC and TANH have no options
  }
}

export interface TfliteResult {
  bytes: Uint8Array;
  info: TfliteStreamingInfo;
  /** Tensor names in file order (inputs, outputs and ops refer to these indices). */
  tensorNames: string[];
  inputs: string[];
  outputs: string[];
}

/** QuantGraph → .tflite bytes and what they hold. */
export function writeTfliteDetailed(graph: QuantGraph, options: TfliteOptions = {}): TfliteResult {
  const flat = flatten(graph, options.ops);
  const b = new Builder(1 << 16);

  // One operator code per (builtin, version): the int8 and 16x8 FULLY_CONNECTED are two entries.
  const key = (o: FileOp) => `${o.builtin}@${o.version}`;
  const used = [...new Map(flat.ops.map((o) => [key(o), o])).values()].sort((x, y) => BUILTIN[x.builtin] - BUILTIN[y.builtin] || x.version - y.version);
  const codeIndex = new Map(used.map((o, k) => [key(o), k]));
  const codes = used.map((o) => {
    // OperatorCode: deprecated_builtin_code 0 (byte; what pre-2.4 parsers such as Arm NN 20.08 read),
    // custom_code 1, version 2, builtin_code 3 (int32; what current runtimes read).
    b.startObject(4);
    b.addFieldInt8(0, BUILTIN[o.builtin], null);
    b.addFieldInt32(2, o.version, null);
    b.addFieldInt32(3, BUILTIN[o.builtin], null);
    return b.endObject();
  });

  const tensorOffsets = flat.tensors.map((t) => writeTensor(b, t));
  const operators = flat.ops.map((op) => {
    const inputs = int32Vector(b, op.inputs);
    const outputs = int32Vector(b, op.outputs);
    const opts = writeOptions(b, op);
    // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4.
    b.startObject(5);
    b.addFieldInt32(0, codeIndex.get(key(op)) as number, null);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    if (opts.type) {
      b.addFieldInt8(3, opts.type, null);
      b.addFieldOffset(4, opts.table, 0);
    }
    return b.endObject();
  });
  const sgName = b.createString(options.ops ? `${graph.arch}_ops_${options.ops.join('_')}` : `${graph.arch}_step`);
  const sgTensors = offsetVector(b, tensorOffsets);
  const sgInputs = int32Vector(b, flat.inputs);
  const sgOutputs = int32Vector(b, flat.outputs);
  const sgOps = offsetVector(b, operators);
  // SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4.
  b.startObject(5);
  b.addFieldOffset(0, sgTensors, 0);
  b.addFieldOffset(1, sgInputs, 0);
  b.addFieldOffset(2, sgOutputs, 0);
  b.addFieldOffset(3, sgOps, 0);
  b.addFieldOffset(4, sgName, 0);
  const subgraph = b.endObject();

  const bufferOffsets = flat.buffers.map((data) => {
    let vec = 0;
    if (data.length > 0) {
      // Buffer.data is force_align 16: runtimes map constants in place and expect aligned int32 biases.
      b.startVector(1, data.length, 16);
      for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]);
      vec = b.endVector();
    }
    b.startObject(1);
    if (vec) b.addFieldOffset(0, vec, 0);
    return b.endObject();
  });

  const tensorMap = (ids: number[]) =>
    offsetVector(
      b,
      ids.map((i) => {
        const name = b.createString(flat.tensors[i].name);
        // TensorMap: name 0, tensor_index 1.
        b.startObject(2);
        b.addFieldOffset(0, name, 0);
        b.addFieldInt32(1, i, null);
        return b.endObject();
      }),
    );
  const sigInputs = tensorMap(flat.inputs);
  const sigOutputs = tensorMap(flat.outputs);
  const sigKey = b.createString(TFLITE_SIGNATURE_KEY);
  // SignatureDef: inputs 0, outputs 1, signature_key 2, deprecated_tag 3, subgraph_index 4.
  b.startObject(5);
  b.addFieldOffset(0, sigInputs, 0);
  b.addFieldOffset(1, sigOutputs, 0);
  b.addFieldOffset(2, sigKey, 0);
  b.addFieldInt32(4, 0, null);
  const signature = b.endObject();

  const metaName = b.createString(TFLITE_METADATA_NAME);
  // Metadata: name 0, buffer 1 (the last buffer holds the JSON).
  b.startObject(2);
  b.addFieldOffset(0, metaName, 0);
  b.addFieldInt32(1, flat.buffers.length - 1, null);
  const metadata = b.endObject();

  const description = b.createString(`hil ${HIL_VERSION}: ${graph.arch} streaming step (hop ${graph.hop}), model id ${flat.info.modelId}`);
  const codesVec = offsetVector(b, codes);
  const subgraphs = offsetVector(b, [subgraph]);
  const buffersVec = offsetVector(b, bufferOffsets);
  const metadataVec = offsetVector(b, [metadata]);
  const signatures = offsetVector(b, [signature]);
  // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4, metadata_buffer 5, metadata 6, signature_defs 7.
  b.startObject(8);
  b.addFieldInt32(0, TFLITE_SCHEMA_VERSION, null);
  b.addFieldOffset(1, codesVec, 0);
  b.addFieldOffset(2, subgraphs, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffersVec, 0);
  b.addFieldOffset(6, metadataVec, 0);
  b.addFieldOffset(7, signatures, 0);
  const model = b.endObject();
  b.finish(model, TFLITE_FILE_IDENTIFIER);

  return {
    bytes: b.asUint8Array().slice(),
    info: flat.info,
    tensorNames: flat.tensors.map((t) => t.name),
    inputs: flat.inputs.map((i) => flat.tensors[i].name),
    outputs: flat.outputs.map((i) => flat.tensors[i].name),
  };
}

export function writeTflite(graph: QuantGraph, options: TfliteOptions = {}): Uint8Array {
  return writeTfliteDetailed(graph, options).bytes;
}
