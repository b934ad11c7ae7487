/**
 * Schemas are types: one ajv instance; stored files (results.json, compressed-model and corpus manifests)
 * carry a format version that is checked on read with a one-line error; the committed manifests still
 * read; and the TypeScript types follow the schemas (checked by compiling snippets against src/).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { HilError } from '../../src/util/errors.js';
import type { ClipResult, Provenance } from '../../src/report/resultsSchema.js';
import { ResultsStore } from '../../src/run/results.js';
import { readCompressManifest } from '../../src/compress/manifestSchema.js';
import { resolveModel } from '../../src/run/resolveModel.js';
import { loadCorpus } from '../../src/data/manifest.js';
import { exportModel, manifestFor } from '../../src/export/exportModel.js';
import { initFloatModel } from '../../src/model/init.js';
import { repoRoot } from '../../src/util/paths.js';

const ROOT = repoRoot();
const dir = mkdtempSync(join(tmpdir(), 'hil-schema-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function oneLine(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HilError, String(e));
    assert.match(e.line(), re);
    assert.ok(!e.line().includes('\n'));
    return true;
  });
}

function tsFiles(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
}

test('the program has one ajv instance, in src/util/schema.ts, and nothing else imports ajv', () => {
  const made: string[] = [];
  const importers: string[] = [];
  for (const f of tsFiles(join(ROOT, 'src'))) {
    const text = readFileSync(f, 'utf8');
    const rel = relative(ROOT, f);
    for (const _ of text.matchAll(/new\s+Ajv\w*\s*\(/g)) made.push(rel);
    if (/from\s+['"]ajv(\/[^'"]*)?['"]/.test(text)) importers.push(rel);
  }
  assert.deepEqual(made, ['src/util/schema.ts']);
  assert.deepEqual(importers, ['src/util/schema.ts']);
});

const provenance: Provenance = {
  board: 'sim', boardBackend: 'sim', firmwareBuildId: 'b', firmwareSha256: 'f', modelSha256: 'm', modelName: 'x',
  profile: 'dense-int8', seed: 1, audioDir: '/a', cleanDir: null, versions: { hil: '0' },
};
const row: ClipResult = {
  clip: 'c1', samples: 16000, frames: 62,
  input: { sampleRate: 16000, channels: 1, encoding: '16', converted: false, conversion: '', clippedSamples: 0 },
  link: { retransmissions: 0, timeouts: 0, corruptFrames: 0, resyncs: 0, clipRetries: 0 }, bitExact: true, sdrNoisy: 1, sisdrNoisy: 1, sdrOut: 2, sisdrOut: 2, sdrImprovement: 1, sisdrImprovement: 1,
  latencyKind: 'modelled', latencyUnit: 'cycles', latencyMean: 10, latencyP50: 10, latencyP99: 11, latencyUsP50: 1, latencyUsP99: 1,
  networkLatencyMean: 9, networkLatencyP50: 9, networkLatencyP99: 9, networkLatencyUsP50: 1, networkLatencyUsP99: 1,
  modelledCyclesP50: 10, modelledCyclesP99: 11, modelledUsP50: 1, rtfP99: 0.1, macsPerFrame: 1, weightBytesPerFrame: 1,
  sramBytes: 1, sramStaticBytes: 1, arenaBytes: 1, stackHighWaterBytes: 1, flashBytes: 1, flashImageBytes: 1, flashModelBytes: 1,
  memorySource: 'sim-native', finishedAt: '2025-01-01T00:00:00Z',
};

/** Opens, runs `fn` and closes: the store locks its directory while open. */
function withStore<T>(out: string, overwrite: boolean, fn: (s: ResultsStore) => T): T {
  const s = ResultsStore.open(out, provenance, overwrite);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

test('resumed rows are validated: another format version or a malformed row is refused in one line', () => {
  const out = join(dir, 'run');
  withStore(out, false, (s) => s.add(row));
  const path = join(out, 'rows.jsonl');
  const [headLine, rowLine] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const head = JSON.parse(headLine!);
  assert.equal(head.version, 1);
  assert.equal(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).version, 1);
  assert.deepEqual(withStore(out, false, (s) => s.all()), [row]);

  const poke = (h: unknown, r = rowLine!) => writeFileSync(path, `${JSON.stringify(h)}\n${r}\n`);
  poke({ ...head, version: 2 });
  oneLine(() => ResultsStore.open(out, provenance, false), /rows\.jsonl is hil-results-rows version 2; this hil reads version 1 \(rerun with --overwrite/);
  const { version: _, ...unversioned } = head;
  poke(unversioned);
  oneLine(() => ResultsStore.open(out, provenance, false), /rows\.jsonl has no format version.*--overwrite/);
  poke(head, JSON.stringify({ key: 'c1', row: { ...row, latencyP50: 'fast' } }));
  oneLine(() => ResultsStore.open(out, provenance, false), /rows\.jsonl: line 2: row\.latencyP50 must be number \(rerun with --overwrite/);
  // What the message says to do works.
  assert.deepEqual(withStore(out, true, (s) => s.all()), []);
});

test('a results.json of the layout before rows.jsonl is resumed, and validated: another version or a malformed row is refused in one line', () => {
  const out = join(dir, 'legacy');
  mkdirSync(out);
  const path = join(out, 'results.json');
  const { input: _input, ...oldRow } = row;
  const saved = { format: 'hil-results', version: 1, provenance, rows: [oldRow], summary: {} };
  writeFileSync(path, JSON.stringify(saved));
  assert.deepEqual(withStore(out, false, (s) => s.all()), [{ ...row, input: null }]);

  for (const f of ['rows.jsonl', 'results.csv']) rmSync(join(out, f));
  writeFileSync(path, JSON.stringify({ ...saved, version: 2 }));
  oneLine(() => ResultsStore.open(out, provenance, false), /results\.json is hil-results version 2; this hil reads version 1 \(rerun with --overwrite/);
  const { version: _, ...unversioned } = saved;
  writeFileSync(path, JSON.stringify(unversioned));
  oneLine(() => ResultsStore.open(out, provenance, false), /results\.json has no format version.*--overwrite/);
  writeFileSync(path, JSON.stringify({ ...saved, rows: [{ ...oldRow, latencyP50: 'fast' }] }));
  oneLine(() => ResultsStore.open(out, provenance, false), /results\.json: rows\.0\.latencyP50 must be number \(rerun with --overwrite/);
  assert.deepEqual(withStore(out, true, (s) => s.all()), []);
});

const committed = readdirSync(join(ROOT, 'models')).flatMap((arch) => {
  const d = join(ROOT, 'models', arch, 'compressed');
  try {
    return readdirSync(d).filter((p) => !p.startsWith('.')).map((p) => join(d, p));
  } catch {
    return [];
  }
});

test('every committed compressed-model manifest validates', () => {
  assert.ok(committed.length > 0);
  for (const d of committed) assert.equal(readCompressManifest(join(d, 'manifest.json')).profile, d.split('/').pop());
});

test('a compressed-model manifest of another format version is refused by hil run in one line', () => {
  const src = committed[0]!;
  const m = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8'));
  const model = join(dir, 'model');
  mkdirSync(model);
  copyFileSync(join(src, 'model.hilm'), join(model, 'model.hilm'));
  writeFileSync(join(model, 'manifest.json'), JSON.stringify(m));
  assert.equal(resolveModel(model).profile, m.profile);
  writeFileSync(join(model, 'manifest.json'), JSON.stringify({ ...m, version: 7 }));
  oneLine(() => resolveModel(model), /manifest\.json is hil-compress-manifest version 7; this hil reads version 1 \(rebuild the model with `hil compress`/);
  writeFileSync(join(model, 'manifest.json'), JSON.stringify({ ...m, sparsity: { ...m.sparsity, achieved: 'most' } }));
  oneLine(() => resolveModel(model), /manifest\.json: sparsity\.achieved must be number/);
});

test('a hil model init manifest is validated by hil run: a wrong version or field is refused in one line', () => {
  const model = join(dir, 'init-model');
  mkdirSync(model);
  const fm = initFloatModel('se-tiny', 3);
  const m = manifestFor(fm, exportModel(fm, join(model, 'model.hilm'), { kind: 'dense' }));
  writeFileSync(join(model, 'manifest.json'), JSON.stringify(m));
  assert.equal(resolveModel(model).profile, 'dense-int8');
  writeFileSync(join(model, 'manifest.json'), JSON.stringify({ ...m, version: 2 }));
  oneLine(() => resolveModel(model), /manifest\.json is hil-model-manifest version 2; this hil reads version 1 \(remake the model with `hil model init`/);
  writeFileSync(join(model, 'manifest.json'), JSON.stringify({ ...m, blob: { ...m.blob, flashBytes: 'big' } }));
  oneLine(() => resolveModel(model), /manifest\.json: blob\.flashBytes must be integer/);
});

test('a corpus manifest of another format version is refused in one line that says to rebuild', () => {
  const corpus = join(dir, 'corpus');
  mkdirSync(corpus);
  writeFileSync(join(corpus, 'manifest.json'), JSON.stringify({ format: 'hil-corpus', version: 2 }));
  oneLine(() => loadCorpus(corpus), /manifest\.json is hil-corpus version 2; this hil reads version 1 \(rebuild it with `hil data build --out /);
});

/** Type-checks `code` as if it were a file in test/unit, returning the compiler's messages. */
function typeErrors(code: string): string[] {
  const file = join(ROOT, 'test', 'unit', '__schema_types__.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, skipLibCheck: true, noEmit: true, types: ['node'],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (resolve(name) === file ? ts.createSourceFile(name, code, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

test('the types are the schemas: values the schema allows compile, values it refuses do not', () => {
  const head = `
    import type { Static } from '@sinclair/typebox';
    import type { BoardFile } from '../../src/board/schema.js';
    import { ClipResultSchema, type ClipResult } from '../../src/report/resultsSchema.js';
    import type { CompressManifest } from '../../src/compress/manifestSchema.js';
    import type { CorpusManifest } from '../../src/data/manifest.js';
    type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
  `;
  assert.deepEqual(
    typeErrors(`${head}
      export const same: Same<ClipResult, Static<typeof ClipResultSchema>> = true;
      export const kind: BoardFile['latency']['kind'] = 'emulated';
      export const unit: ClipResult['latencyUnit'] = 'instructions';
      export const version: CompressManifest['version'] = 1;
      export const text: CorpusManifest['speech'][number]['text'] = null;
      export const block: BoardFile['preferred_block'] = undefined;
    `),
    [],
  );
  // Each line below breaks the schema in one place; each must be a type error of its own.
  const bad = [
    `export const kind: BoardFile['latency']['kind'] = 'guessed';`,
    `export const unit: ClipResult['latencyUnit'] = 'seconds';`,
    `export const version: CompressManifest['version'] = 2;`,
    `export const text: CorpusManifest['speech'][number]['rate'] = null;`,
    `export const link: BoardFile['link'] = { banner_ms: 1, start_ms: 1, rto_initial_ms: 1, rto_min_ms: 1, rto_max_ms: 1, give_up_ms: 1, activate_ms: 1, retries: 1 };`,
  ];
  assert.equal(typeErrors(`${head}\n${bad.join('\n')}`).length, bad.length);
});
