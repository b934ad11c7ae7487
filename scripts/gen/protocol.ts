/**
 * docs/spec/protocol.json → firmware/core/hil_protocol.h, src/spec/protocol.ts and the tables of
 * docs/protocol.md §3.
 */
import { camel, GENERATED_BY, layout, proseFields, upper, type Layout, type SpecField } from './layout.js';

export interface ProtocolSpec {
  version: number;
  version_note: string;
  frame: { header_bytes: number; overhead_bytes: number; max_payload: number; flags: { name: string; bit: number; doc: string }[] };
  reply_bit: number;
  dup_window: number;
  dup_window_doc: string;
  latency_kinds: { name: string; code: number; doc: string }[];
  log_levels: { name: string; code: number }[];
  errors: { code: number; name: string; text: string; doc: string }[];
  messages: { name: string; type: number; request?: SpecField[]; reply?: SpecField[]; payload?: SpecField[]; doc: string }[];
  /** Fixed-size records repeated in a message's `bytes` tail (RUN_PRELOADED_BATCH's frames). */
  records?: { name: string; fields: SpecField[]; doc: string }[];
}

function recordLayouts(s: ProtocolSpec): { name: string; doc: string; fields: SpecField[]; layout: Layout }[] {
  return (s.records ?? []).map((r) => {
    const l = layout(r.fields, `${SPEC} record ${r.name}`);
    if (l.variable) throw new Error(`${SPEC}: record ${r.name} must be fixed-size`);
    return { ...r, layout: l };
  });
}

const SPEC = 'docs/spec/protocol.json';
const hex = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(2, '0')}`;

/** Every frame type with its payload layout: requests, their replies, and device-only frames. */
export function frames(s: ProtocolSpec): { type: number; name: string; msg: string; dir: 'REQ' | 'REPLY' | ''; fields: SpecField[]; layout: Layout }[] {
  const out = [];
  for (const m of s.messages) {
    const parts: [number, string, 'REQ' | 'REPLY' | '', SpecField[] | undefined][] = m.payload
      ? [[m.type, m.name, '', m.payload]]
      : [
          [m.type, m.name, 'REQ', m.request],
          [m.type | s.reply_bit, `${m.name} reply`, 'REPLY', m.reply],
        ];
    for (const [type, name, dir, fields] of parts) {
      if (!fields) throw new Error(`${SPEC}: ${m.name} needs request and reply, or payload`);
      out.push({ type, name, msg: m.name, dir, fields, layout: layout(fields, `${SPEC} ${name}`) });
    }
  }
  const seen = new Set<number>();
  for (const f of out) {
    if (seen.has(f.type)) throw new Error(`${SPEC}: type ${hex(f.type)} used twice`);
    seen.add(f.type);
  }
  return out;
}

export function renderC(s: ProtocolSpec): string {
  const L: string[] = [];
  L.push(`/* ${GENERATED_BY(SPEC)} */`, '#ifndef HIL_PROTOCOL_H', '#define HIL_PROTOCOL_H', '');
  L.push(`/* ${s.version_note} */`, `#define HIL_PROTOCOL_VERSION ${s.version}u`, `#define HIL_PROTOCOL_VERSION_TEXT "${s.version}"`);
  L.push(`/* ${s.dup_window_doc} */`, `#define HIL_DUP_WINDOW ${s.dup_window}u`, '');
  L.push(`#define HIL_FRAME_HEADER_BYTES ${s.frame.header_bytes}u`, `#define HIL_FRAME_OVERHEAD_BYTES ${s.frame.overhead_bytes}u /* header + CRC */`);
  L.push(`#define HIL_MAX_PAYLOAD ${s.frame.max_payload}u`);
  for (const f of s.frame.flags) L.push(`#define HIL_FLAG_${f.name} ${hex(1 << f.bit)}u /* ${f.doc} */`);
  L.push('', '/* Message types; a reply is its request type | HIL_MSG_REPLY. */', 'enum {');
  for (const m of s.messages) L.push(`  HIL_MSG_${m.name} = ${hex(m.type)},`);
  L.push(`  HIL_MSG_REPLY = ${hex(s.reply_bit)},`, '};', '', '/* ERROR codes */', 'enum {');
  for (const e of s.errors) L.push(`  HIL_ERR_${e.name} = ${e.code}, /* ${e.text}: ${e.doc} */`);
  L.push('};', '', '/* HELLO reply latency_kind */', 'enum {');
  for (const k of s.latency_kinds) L.push(`  HIL_LATENCY_${upper(k.name)} = ${k.code}, /* ${k.doc} */`);
  L.push('};', '', '/* LOG levels */', 'enum {');
  for (const k of s.log_levels) L.push(`  HIL_LOG_${upper(k.name)} = ${k.code},`);
  L.push('};', '', '/* Payload layouts: byte offsets of each field, and the size of the fixed part. */');
  for (const f of frames(s)) {
    const p = `HIL_${f.msg}${f.dir ? `_${f.dir}` : ''}`;
    for (const x of f.layout.fields) if (x.type !== 'pad' && x.offset >= 0) L.push(`#define ${p}_${upper(x.name)} ${x.offset}u`);
    L.push(`#define ${p}_${f.layout.variable ? 'FIXED_BYTES' : 'BYTES'} ${f.layout.fixedBytes}u`);
  }
  for (const r of recordLayouts(s)) {
    L.push(`/* record ${r.name}: ${r.doc} */`);
    for (const x of r.layout.fields) if (x.type !== 'pad') L.push(`#define HIL_${r.name}_${upper(x.name)} ${x.offset}u`);
    L.push(`#define HIL_${r.name}_BYTES ${r.layout.fixedBytes}u`);
  }
  L.push('', '#endif', '');
  return L.join('\n');
}

const TS_TYPE: Record<string, string> = { u64: 'bigint', 'i16[]': 'Int16Array', bytes: 'Uint8Array', str8: 'string', utf8: 'string' };
/** The codec's field kinds (src/link/messages.ts). */
const TS_KIND: Record<string, string> = { 'i16[]': 'i16s' };

export function renderTs(s: ProtocolSpec): string {
  const L: string[] = [];
  const typeName = (msg: string, dir: string) =>
    camel(msg.toLowerCase()).replace(/^./, (c) => c.toUpperCase()) + (dir === 'REQ' ? 'Request' : dir === 'REPLY' ? 'Reply' : 'Message');
  L.push(`/** ${GENERATED_BY(SPEC)} */`, '');
  L.push(`/** ${s.version_note}. */`, `export const PROTOCOL_VERSION = ${s.version};`);
  L.push(`/** ${s.dup_window_doc}. */`, `export const DUP_WINDOW = ${s.dup_window};`);
  L.push(`export const FRAME_HEADER_BYTES = ${s.frame.header_bytes};`, `export const FRAME_OVERHEAD_BYTES = ${s.frame.overhead_bytes};`);
  L.push(`export const MAX_PAYLOAD = ${s.frame.max_payload};`);
  for (const f of s.frame.flags) L.push(`/** ${f.doc}. */`, `export const FLAG_${f.name} = ${hex(1 << f.bit)};`);
  L.push('', 'export const Msg = {');
  for (const m of s.messages) L.push(`  ${m.name}: ${hex(m.type)},`);
  L.push('} as const;', `export const REPLY = ${hex(s.reply_bit)};`, '', '/** Reply types: the request\'s type with the reply bit set. */', 'export const Reply = {');
  for (const m of s.messages) if (!m.payload) L.push(`  ${m.name}: ${hex(m.type | s.reply_bit)},`);
  L.push('} as const;', '', 'export const ErrorCode = {');
  for (const e of s.errors) L.push(`  ${e.name}: ${e.code},`);
  L.push('} as const;', '/** What each ERROR code means (docs/protocol.md §3). */', 'export const ERROR_CODES: Record<number, string> = {');
  for (const e of s.errors) L.push(`  ${e.code}: '${e.text}',`);
  L.push('};', '', `export const LATENCY_KINDS = [${s.latency_kinds.map((k) => `'${k.name}'`).join(', ')}] as const;`);
  L.push('export type LatencyKind = (typeof LATENCY_KINDS)[number];', '/** The HELLO reply\'s latency_kind codes. */', 'export const LatencyKindCode = {');
  for (const k of s.latency_kinds) L.push(`  ${k.name}: ${k.code},`);
  L.push('} as const;', '', 'export const LogLevel = {');
  for (const k of s.log_levels) L.push(`  ${k.name}: ${k.code},`);
  L.push('} as const;', '');
  L.push('/** Field kinds of the codec: fixed integers, reserved bytes, a u8-length-prefixed string, or a tail that takes');
  L.push(' *  the rest of the payload (int16 samples, raw bytes, UTF-8 text). */');
  L.push("export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'pad' | 'str8' | 'i16s' | 'bytes' | 'utf8';");
  L.push('/** [name, kind, bytes (pad only)] */', 'export type Layout = readonly (readonly [string, FieldKind, number?])[];', '');
  const ifaces: string[] = [];
  const layouts: string[] = [];
  const names = new Map<string, string>();
  for (const f of frames(s)) {
    const t = typeName(f.msg, f.dir);
    names.set(`${f.msg}:${f.dir}`, t);
    const members = f.fields.filter((x) => x.type !== 'pad').map((x) => `  ${camel(x.name)}: ${TS_TYPE[x.type] ?? 'number'};`);
    ifaces.push(members.length ? `export interface ${t} {\n${members.join('\n')}\n}` : `export type ${t} = Record<string, never>;`);
    const key = `[${f.dir === 'REPLY' ? 'Reply' : 'Msg'}.${f.msg}]`;
    const fl = f.fields.map((x) => (x.type === 'pad' ? `['${camel(x.name)}', 'pad', ${x.bytes}]` : `['${camel(x.name)}', '${TS_KIND[x.type] ?? x.type}']`));
    layouts.push(`  ${key}: [${fl.join(', ')}],`);
  }
  L.push(...ifaces, '');
  L.push('/** Request payloads by request type. */', 'export interface Requests {');
  for (const m of s.messages) if (!m.payload) L.push(`  [Msg.${m.name}]: ${names.get(`${m.name}:REQ`)};`);
  L.push('}', 'export type RequestType = keyof Requests;', '', '/** Reply payloads, by the type of the request they answer. */', 'export interface Replies {');
  for (const m of s.messages) if (!m.payload) L.push(`  [Msg.${m.name}]: ${names.get(`${m.name}:REPLY`)};`);
  L.push('}', '', '/** Every payload by frame type. */', 'export interface Payloads extends Requests {');
  for (const m of s.messages) {
    if (m.payload) L.push(`  [Msg.${m.name}]: ${names.get(`${m.name}:`)};`);
    else L.push(`  [Reply.${m.name}]: ${names.get(`${m.name}:REPLY`)};`);
  }
  L.push('}', 'export type MessageType = keyof Payloads;', '', 'export const LAYOUTS: Record<MessageType, Layout> = {', ...layouts, '};', '');
  const records = recordLayouts(s);
  for (const r of records) {
    const t = camel(r.name.toLowerCase()).replace(/^./, (c) => c.toUpperCase());
    const members = r.fields.filter((x) => x.type !== 'pad').map((x) => `  ${camel(x.name)}: ${TS_TYPE[x.type] ?? 'number'};`);
    L.push(`/** ${r.doc}. */`, `export interface ${t}Record {\n${members.join('\n')}\n}`, `export const ${r.name}_BYTES = ${r.layout.fixedBytes};`);
  }
  L.push('', '/** Layouts of the fixed-size records some payloads repeat. */', 'export const RECORD_LAYOUTS = {');
  for (const r of records) {
    const fl = r.fields.map((x) => (x.type === 'pad' ? `['${camel(x.name)}', 'pad', ${x.bytes}]` : `['${camel(x.name)}', '${TS_KIND[x.type] ?? x.type}']`));
    L.push(`  ${r.name}: [${fl.join(', ')}] as Layout,`);
  }
  L.push('} as const;', '');
  return L.join('\n');
}

/** The message table of docs/protocol.md §3. */
export function renderDocMessages(s: ProtocolSpec): string {
  const L = ['| type | name | direction | payload |', '|---|---|---|---|'];
  for (const f of frames(s)) {
    const dir = f.dir === 'REQ' ? 'host → dev' : 'dev → host';
    const m = s.messages.find((x) => x.name === f.msg)!;
    const payload = f.fields.length === 0 ? 'empty' : f.msg === 'HELLO' && f.dir === 'REPLY' ? 'see below' : `\`${proseFields(f.fields)}\``;
    const note = f.dir !== 'REPLY' ? ` — ${m.doc}` : '';
    L.push(`| ${hex(f.type)} | ${f.name} | ${dir} | ${payload}${note} |`);
  }
  return L.join('\n');
}

export function renderDocErrors(s: ProtocolSpec): string {
  return ['| code | name | meaning |', '|---|---|---|', ...s.errors.map((e) => `| ${e.code} | ${e.text} | ${e.doc} |`)].join('\n');
}

export function renderDocLatencyKinds(s: ProtocolSpec): string {
  return ['| latency_kind | name | unit |', '|---|---|---|', ...s.latency_kinds.map((k) => `| ${k.code} | ${k.name} | ${k.doc} |`)].join('\n');
}

export function renderDocHelloReply(s: ProtocolSpec): string {
  const hello = s.messages.find((m) => m.name === 'HELLO')!;
  return `\`${proseFields(hello.reply!)}\``;
}

/** The PRELOADED_FRAME record's fields, as docs/protocol.md §3 writes them. */
export function renderDocPreloadedFrame(s: ProtocolSpec): string {
  const rows = ['| offset | field |', '|---|---|'];
  for (const r of recordLayouts(s)) {
    for (const x of r.layout.fields) rows.push(`| ${x.offset} | \`${proseFields([x])}\` |`);
    rows.push(`| ${r.layout.fixedBytes} | (${r.name}_BYTES) |`);
  }
  return rows.join('\n');
}
