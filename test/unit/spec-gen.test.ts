/**
 * docs/spec/*.json is the one source of what C and TypeScript share: the generated C headers, TS modules
 * and doc tables must match it, and an edit to the spec that is not regenerated must be caught.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { generatedFiles, staleFiles } from '../../scripts/gen.js';
import { DUP_WINDOW, ERROR_CODES, LATENCY_KINDS, Msg, PROTOCOL_VERSION } from '../../src/spec/protocol.js';
import { OP_FIELDS, OP_RECORD_BYTES } from '../../src/spec/modelFormat.js';
import { repoRoot } from '../../src/util/paths.js';

const root = repoRoot();
const INPUTS = ['docs/spec/protocol.json', 'docs/spec/model-format.json', 'docs/protocol.md', 'docs/model-format.md', 'test/vectors/dsp-tables.json'];

/** A copy of the spec inputs and every generated file, for editing without touching the checkout. */
function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hil-gen-'));
  const rels = [...INPUTS, ...Object.keys(generatedFiles()).map((p) => p.slice(root.length + 1))];
  for (const rel of new Set(rels)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    cpSync(join(root, rel), join(dir, rel));
  }
  return dir;
}

test('every generated file in the checkout matches docs/spec (npm run gen)', () => {
  assert.deepEqual(staleFiles(), []);
});

test('a message type edited in the spec but not regenerated is caught, in C, TS and the docs', () => {
  const dir = copyTree();
  try {
    assert.deepEqual(staleFiles(dir), []);
    const path = join(dir, 'docs/spec/protocol.json');
    const spec = JSON.parse(readFileSync(path, 'utf8'));
    spec.messages.find((m: { name: string }) => m.name === 'GET_STATS').type = 0x31;
    writeFileSync(path, JSON.stringify(spec));
    assert.deepEqual(staleFiles(dir).sort(), ['docs/protocol.md', 'firmware/core/hil_protocol.h', 'src/spec/protocol.ts']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a record field moved in the model-format spec changes the C and TS offsets; a misaligned one is refused', () => {
  const dir = copyTree();
  try {
    const path = join(dir, 'docs/spec/model-format.json');
    const spec = JSON.parse(readFileSync(path, 'utf8'));
    const add = spec.ops.find((o: { name: string }) => o.name === 'ADD');
    const m2 = add.fields.findIndex((f: { name: string }) => f.name === 'm2');
    [add.fields[m2], add.fields[m2 + 1]] = [add.fields[m2 + 1], add.fields[m2]]; // m2 and mo trade places
    writeFileSync(path, JSON.stringify(spec));
    assert.deepEqual(staleFiles(dir).sort(), ['docs/model-format.md', 'firmware/core/hil_model_format.h', 'src/spec/modelFormat.ts']);
    const mul = spec.ops.find((o: { name: string }) => o.name === 'MUL');
    const mo = mul.fields.findIndex((f: { name: string }) => f.name === 'mo');
    [mul.fields[mo], mul.fields[mo + 1]] = [mul.fields[mo + 1], mul.fields[mo]]; // mo after act_min: offset 13
    writeFileSync(path, JSON.stringify(spec));
    assert.throws(() => generatedFiles(dir), /op MUL: mo \(i32\) at offset 13 is not aligned to 4/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the generated constants are the protocol and format the docs describe', () => {
  assert.equal(PROTOCOL_VERSION, 2);
  assert.equal(DUP_WINDOW, 4);
  assert.equal(Msg.RUN_FRAME, 0x21);
  assert.equal(ERROR_CODES[7], 'protocol version unsupported');
  assert.deepEqual([...LATENCY_KINDS], ['measured', 'emulated', 'modelled']);
  assert.deepEqual(OP_RECORD_BYTES, { 1: 44, 2: 32, 3: 32, 4: 20, 5: 268, 6: 36, 7: 16, 8: 16 });
  assert.equal(OP_FIELDS.FC.nnz, 40);
  const header = readFileSync(join(root, 'firmware/core/hil_protocol.h'), 'utf8');
  assert.match(header, /#define HIL_RUN_FRAME_REPLY_SAMPLES 40u/);
  assert.match(header, /#define HIL_PROTOCOL_VERSION_TEXT "2"/);
});
