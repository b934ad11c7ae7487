/**
 * docs/spec/model-format.json → firmware/core/hil_model_format.h, src/spec/modelFormat.ts and the layout
 * block of docs/model-format.md §7.
 */
import { camel, GENERATED_BY, layout, upper, type Layout, type SpecField } from './layout.js';

interface Named { name: string; code: number }
export interface ModelFormatSpec {
  magic: string;
  format_version: number;
  n_fft: number;
  hops: number[];
  sample_rate: number;
  max_tensors: number;
  max_ops: number;
  no_tensor: number;
  max_block_dim: number;
  max_add_left_shift: number;
  output_scale_bits: number;
  output_scale_doc: string;
  output16_scale_bits: number;
  output16_scale_doc: string;
  max_fc16_shift: number;
  max_fc16_bias_bits: number;
  lut16_entries: number;
  alignment: number;
  header: SpecField[];
  tensor_flags: { name: string; bit: number; doc: string }[];
  tensor_record: SpecField[];
  op_header: SpecField[];
  ops: { name: string; code: number; fields?: SpecField[]; same_as?: string }[];
  encodings: Named[];
  lut_kinds: Named[];
}

const SPEC = 'docs/spec/model-format.json';

/** Each op's whole record (op header + its fields), resolving `same_as`. */
export function opLayouts(s: ModelFormatSpec): { name: string; code: number; layout: Layout }[] {
  return s.ops.map((op) => {
    const own = op.fields ?? s.ops.find((o) => o.name === op.same_as)?.fields;
    if (!own) throw new Error(`${SPEC}: op ${op.name} has no fields`);
    const l = layout([...s.op_header, ...own], `${SPEC} op ${op.name}`, true);
    if (l.variable || l.fixedBytes % 4) throw new Error(`${SPEC}: op ${op.name} record must be fixed and a multiple of 4 bytes`);
    return { name: op.name, code: op.code, layout: l };
  });
}

function records(s: ModelFormatSpec): { header: Layout; tensor: Layout; opHeader: Layout } {
  return {
    header: layout(s.header, `${SPEC} header`, true),
    tensor: layout(s.tensor_record, `${SPEC} tensor_record`, true),
    opHeader: layout(s.op_header, `${SPEC} op_header`, true),
  };
}

const hexU32 = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(8, '0')}`;

export function renderC(s: ModelFormatSpec): string {
  const r = records(s);
  const ops = opLayouts(s);
  const maxCode = Math.max(...ops.map((o) => o.code));
  const L: string[] = [`/* ${GENERATED_BY(SPEC)} */`, '#ifndef HIL_MODEL_FORMAT_H', '#define HIL_MODEL_FORMAT_H', ''];
  L.push(`#define HIL_BLOB_MAGIC "${s.magic}"`, `#define HIL_BLOB_FORMAT_VERSION ${s.format_version}u`);
  L.push(`#define HIL_BLOB_HEADER_BYTES ${r.header.fixedBytes}u`, `#define HIL_TENSOR_RECORD_BYTES ${r.tensor.fixedBytes}u`);
  L.push(`#define HIL_BLOB_N_FFT ${s.n_fft}u`, `#define HIL_BLOB_SAMPLE_RATE ${s.sample_rate}u`, `#define HIL_BLOB_ALIGN ${s.alignment}u`);
  L.push(`#define HIL_MAX_TENSORS ${s.max_tensors}`, `#define HIL_MAX_OPS ${s.max_ops}`, `#define HIL_NO_TENSOR 0x${s.no_tensor.toString(16).toUpperCase()}u`);
  L.push(`#define HIL_MAX_BLOCK_DIM ${s.max_block_dim}u`, `#define HIL_MAX_ADD_LEFT_SHIFT ${s.max_add_left_shift}u`);
  L.push(`/* ${s.output_scale_doc} */`, `#define HIL_OUTPUT_SCALE_BITS ${hexU32(s.output_scale_bits)}u`);
  L.push(`/* ${s.output16_scale_doc} */`, `#define HIL_OUTPUT16_SCALE_BITS ${hexU32(s.output16_scale_bits)}u`);
  L.push(`#define HIL_MAX_FC16_SHIFT ${s.max_fc16_shift}`, `#define HIL_MAX_FC16_BIAS_BITS ${s.max_fc16_bias_bits}`, `#define HIL_LUT16_ENTRIES ${s.lut16_entries}u`);
  for (const f of s.tensor_flags) L.push(`#define HIL_TENSOR_FLAG_${f.name} ${1 << f.bit}u /* ${f.doc} */`);
  L.push('', 'enum {');
  for (const o of ops) L.push(`  HIL_OP_${o.name} = ${o.code},`);
  L.push('};', `#define HIL_OP_MAX_CODE ${maxCode}`);
  const names = Array.from({ length: maxCode + 1 }, (_, c) => `"${ops.find((o) => o.code === c)?.name ?? '?'}"`);
  const sizes = Array.from({ length: maxCode + 1 }, (_, c) => String(ops.find((o) => o.code === c)?.layout.fixedBytes ?? 0));
  L.push('/* Initialisers of tables indexed by op code (index 0 and unused codes: "?" and 0). */');
  L.push(`#define HIL_OP_NAMES_INIT {${names.join(', ')}}`, `#define HIL_OP_RECORD_BYTES_INIT {${sizes.join(', ')}}`, '', 'enum {');
  for (const e of s.encodings) L.push(`  HIL_ENC_${upper(e.name)} = ${e.code},`);
  L.push('};', 'enum {');
  for (const k of s.lut_kinds) L.push(`  HIL_LUT_${upper(k.name)} = ${k.code},`);
  L.push('};', `#define HIL_LUT_MAX_KIND ${Math.max(...s.lut_kinds.map((k) => k.code))}u`, '');
  const offsets = (prefix: string, l: Layout) => {
    for (const f of l.fields) if (f.type !== 'pad') L.push(`#define ${prefix}_${upper(f.name)} ${f.offset}u`);
  };
  L.push('/* Header field offsets */');
  offsets('HIL_HDR', r.header);
  L.push('/* Tensor record field offsets */');
  offsets('HIL_TENSOR', r.tensor);
  L.push('/* Op record field offsets (every record starts with the op header) */');
  offsets('HIL_OPREC', r.opHeader);
  const ownFields = new Set(s.op_header.map((f) => f.name));
  for (const o of ops) {
    L.push(`#define HIL_OP_${o.name}_RECORD_BYTES ${o.layout.fixedBytes}u`);
    offsets(`HIL_OP_${o.name}`, { ...o.layout, fields: o.layout.fields.filter((f) => !ownFields.has(f.name)) });
  }
  L.push('', '#endif', '');
  return L.join('\n');
}

export function renderTs(s: ModelFormatSpec): string {
  const r = records(s);
  const ops = opLayouts(s);
  const obj = (l: Layout, skip = new Set<string>()) =>
    `{ ${l.fields.filter((f) => f.type !== 'pad' && !skip.has(f.name)).map((f) => `${camel(f.name)}: ${f.offset}`).join(', ')} }`;
  const L: string[] = [`/** ${GENERATED_BY(SPEC)} */`, ''];
  L.push(`export const MAGIC = '${s.magic}';`, `export const FORMAT_VERSION = ${s.format_version};`);
  L.push(`export const HEADER_BYTES = ${r.header.fixedBytes};`, `export const TENSOR_RECORD_BYTES = ${r.tensor.fixedBytes};`);
  L.push(`export const N_FFT = ${s.n_fft};`, `export const HOPS = [${s.hops.join(', ')}] as const;`, `export const SAMPLE_RATE = ${s.sample_rate};`);
  L.push(`export const ALIGN = ${s.alignment};`, `export const MAX_TENSORS = ${s.max_tensors};`, `export const MAX_OPS = ${s.max_ops};`);
  L.push(`export const NO_TENSOR = 0x${s.no_tensor.toString(16)};`, `export const MAX_BLOCK_DIM = ${s.max_block_dim};`, `export const MAX_ADD_LEFT_SHIFT = ${s.max_add_left_shift};`);
  L.push(`/** ${s.output_scale_doc}. */`, `export const OUTPUT_SCALE_BITS = ${hexU32(s.output_scale_bits).toLowerCase()};`);
  L.push(`/** ${s.output16_scale_doc}. */`, `export const OUTPUT16_SCALE_BITS = ${hexU32(s.output16_scale_bits).toLowerCase()};`);
  L.push(`export const MAX_FC16_SHIFT = ${s.max_fc16_shift};`, `export const MAX_FC16_BIAS_BITS = ${s.max_fc16_bias_bits};`, `export const LUT16_ENTRIES = ${s.lut16_entries};`);
  for (const f of s.tensor_flags) L.push(`/** ${f.doc}. */`, `export const TENSOR_FLAG_${f.name} = ${1 << f.bit};`);
  L.push('', `export const OP_CODES = { ${ops.map((o) => `${o.name}: ${o.code}`).join(', ')} } as const;`);
  L.push('export type OpName = keyof typeof OP_CODES;');
  L.push(`export const OP_NAMES: Record<number, OpName> = { ${ops.map((o) => `${o.code}: '${o.name}'`).join(', ')} };`);
  L.push(`export const OP_RECORD_BYTES: Record<number, number> = { ${ops.map((o) => `${o.code}: ${o.layout.fixedBytes}`).join(', ')} };`);
  L.push(`export const ENCODINGS = { ${s.encodings.map((e) => `${e.name}: ${e.code}`).join(', ')} } as const;`);
  L.push('export type EncodingName = keyof typeof ENCODINGS;');
  L.push(`export const ENCODING_NAMES: Record<number, EncodingName> = { ${s.encodings.map((e) => `${e.code}: '${e.name}'`).join(', ')} };`);
  const lut = [...s.lut_kinds].sort((a, b) => a.code - b.code);
  if (lut.some((k, i) => k.code !== i)) throw new Error(`${SPEC}: lut_kinds must be numbered 0, 1, 2, …`);
  L.push(`/** LUT kinds by code. */`, `export const LUT_KINDS = [${lut.map((k) => `'${k.name}'`).join(', ')}] as const;`, '');
  L.push('/** Byte offsets of the header fields. */', `export const HDR = ${obj(r.header)} as const;`);
  L.push('/** Byte offsets of a tensor record\'s fields. */', `export const TENSOR = ${obj(r.tensor)} as const;`);
  L.push('/** Byte offsets of the op header that starts every op record. */', `export const OPREC = ${obj(r.opHeader)} as const;`);
  const own = new Set(s.op_header.map((f) => f.name));
  L.push('/** Byte offsets of each op record\'s own fields. */', 'export const OP_FIELDS = {');
  for (const o of ops) L.push(`  ${o.name}: ${obj(o.layout, own)},`);
  L.push('} as const;', '');
  return L.join('\n');
}

/** The §7 layout block: every record with its offsets. */
export function renderDocLayout(s: ModelFormatSpec): string {
  const r = records(s);
  const rows = (l: Layout, indent: string) =>
    l.fields.map((f) => `${indent}${String(f.offset).padStart(3)}  ${(f.type === 'pad' ? `pad[${f.bytes}]` : f.type).padEnd(9)}${f.name}${f.doc ? ` — ${f.doc}` : ''}`);
  const L = ['```', `header (${r.header.fixedBytes} bytes)`, ...rows(r.header, '  ')];
  L.push(`tensor table: n_tensors records of ${r.tensor.fixedBytes} bytes`, ...rows(r.tensor, '  '));
  L.push('op table: n_ops records, each starting with', ...rows(r.opHeader, '  '));
  const own = new Set(s.op_header.map((f) => f.name));
  for (const o of opLayouts(s)) {
    const same = s.ops.filter((x) => x.same_as === o.name).map((x) => x.name);
    if (s.ops.find((x) => x.name === o.name)?.same_as) continue;
    L.push(`  ${[o.name, ...same].join('/')} (code ${[o.code, ...same.map((n) => s.ops.find((x) => x.name === n)!.code)].join('/')}), record size ${o.layout.fixedBytes}`);
    L.push(...rows({ ...o.layout, fields: o.layout.fields.filter((f) => !own.has(f.name)) }, '    '));
  }
  L.push(`encodings (FC): ${s.encodings.map((e) => `${e.code} ${e.name}`).join(', ')}; LUT kinds: ${s.lut_kinds.map((k) => `${k.code} ${k.name}`).join(', ')}`);
  L.push(`tensor flags: ${s.tensor_flags.map((f) => `bit ${f.bit} ${f.name.toLowerCase()}`).join(', ')}; next = 0x${s.no_tensor.toString(16).toUpperCase()} for no tensor`);
  L.push(`data: windows, weights, biases, multipliers — anywhere after the op table, ${s.alignment}-byte aligned`, '```');
  return L.join('\n');
}
