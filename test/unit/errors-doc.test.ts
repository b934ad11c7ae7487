/**
 * docs/errors.md is the list of refused inputs and typed failures with their exact messages. Each row
 * marked `errors-doc` is produced here, through the public functions, and its one-line message must
 * match the documented one in full; a row naming another test file must name one that exists and asserts
 * a literal part of the message. A producer here without a row, or a row without a producer, fails.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wavefilePkg from 'wavefile';
import { compress } from '../../src/compress/compress.js';
import { loadProfile } from '../../src/compress/profile.js';
import { readWavMono, writePcm16 } from '../../src/data/wav.js';
import { exportModel, manifestFor } from '../../src/export/exportModel.js';
import { loadTrainCorpus, type TrainCorpus } from '../../src/model/dataset.js';
import { saveFloatModel } from '../../src/model/floatModel.js';
import { initFloatModel } from '../../src/model/init.js';
import { initTf } from '../../src/model/tfBackend.js';
import { train } from '../../src/model/train.js';
import type { Provenance } from '../../src/report/resultsSchema.js';
import { runBenchmark } from '../../src/run/benchmark.js';
import { ResultsStore } from '../../src/run/results.js';
import { HilError } from '../../src/util/errors.js';
import { lockOutput } from '../../src/util/lock.js';
import { parseSweepFile, readSweepFile } from '../../src/sweep/file.js';
import { parseInstances, planSweep } from '../../src/sweep/plan.js';
import { makeSyntheticCorpus } from './trainFixture.js';

const { WaveFile } = wavefilePkg;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = join(ROOT, 'docs', 'errors.md');

interface Row {
  id: string;
  message: string;
  exit: string;
  test: string;
}

function rows(): Row[] {
  return readFileSync(DOC, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const cells = l.split(' | ').map((c) => c.replace(/^\|\s*/, '').replace(/\s*\|$/, ''));
      assert.equal(cells.length, 5, `docs/errors.md row has 5 cells: ${l}`);
      const strip = (c: string) => c.replace(/^`+ ?/, '').replace(/ ?`+$/, '');
      return { id: strip(cells[0]!), message: strip(cells[2]!), exit: cells[3]!, test: cells[4]! };
    });
}

/** The documented message as a regex: literal text, each `<…>` any non-empty text. */
function patternOf(message: string): RegExp {
  const parts = message.split(/<[^>]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${parts.join('.+?')}$`);
}

let dir = '';
const d = (...p: string[]) => join(dir, ...p);
let modelDir = '';
let corpus: TrainCorpus;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hil-errors-doc-'));
  modelDir = d('model');
  mkdirSync(modelDir);
  const fm = initFloatModel('se-tiny', 3);
  writeFileSync(join(modelDir, 'manifest.json'), JSON.stringify(manifestFor(fm, exportModel(fm, join(modelDir, 'model.hilm'), { kind: 'dense' }))));
  saveFloatModel(d('baseline', 'model.json'), fm);
  await initTf({ backend: 'wasm' });
  corpus = loadTrainCorpus(makeSyntheticCorpus(d('corpus'), { speech: 4, val: 1 }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A minimal RIFF/WAVE file with a hand-made fmt chunk, for encodings wavefile will not write. */
function rawWav(fmt: { code: number; channels: number; rate: number; bits: number; blockAlign: number }, data: Uint8Array): Buffer {
  const b = Buffer.alloc(44 + data.length);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + data.length, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(fmt.code, 20);
  b.writeUInt16LE(fmt.channels, 22);
  b.writeUInt32LE(fmt.rate, 24);
  b.writeUInt32LE(fmt.rate * fmt.blockAlign, 28);
  b.writeUInt16LE(fmt.blockAlign, 32);
  b.writeUInt16LE(fmt.bits, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(data.length, 40);
  Buffer.from(data).copy(b, 44);
  return b;
}

const provenance: Provenance = {
  board: 'sim', boardBackend: 'sim', firmwareBuildId: 'b', firmwareSha256: 'f', modelSha256: 'm', modelName: 'x',
  profile: 'dense-int8', seed: 1, audioDir: '/a', cleanDir: null, versions: { hil: '0' },
};

/** Clips in `<name>/noisy` (and `<name>/clean`), written by `write`; returns the dirs. */
function clipDirs(name: string, write: (noisy: string, clean: string) => void): { audio: string; clean: string } {
  const audio = d(name, 'noisy');
  const clean = d(name, 'clean');
  mkdirSync(audio, { recursive: true });
  mkdirSync(clean, { recursive: true });
  write(audio, clean);
  return { audio, clean };
}

const run = (name: string, extra: Record<string, unknown> = {}) => runBenchmark({ board: 'sim', model: modelDir, out: d(name, 'out'), ...extra });

/** A results directory whose rows.jsonl is edited by `edit` before it is opened again. */
function editedRows(name: string, edit: (lines: string[]) => string[]): () => unknown {
  const out = d(name);
  const s = ResultsStore.open(out, provenance, false);
  s.close();
  const path = join(out, 'rows.jsonl');
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  writeFileSync(path, edit(lines).join('\n') + '\n');
  return () => ResultsStore.open(out, provenance, false);
}

/** Each produces the error of one row (throws or rejects with it). */
const sweepFile = { format: 'hil-sweep', version: 1, models: ['models/se-small'], profiles: ['dense-int8'], boards: ['sim'] };

const producers: Record<string, () => unknown> = {
  'run.audio-not-dir': () => run('not-dir', { audio: d('no-such-dir') }),
  'run.audio-empty': () => run('empty-dir', { audio: clipDirs('empty-dir', () => {}).audio }),
  'run.clean-missing': () => run('clean-missing', clipDirs('clean-missing', (a) => writePcm16(join(a, 'a.wav'), new Int16Array(800), 16000))),
  'run.length-mismatch': () =>
    run(
      'length',
      clipDirs('length', (a, c) => {
        writePcm16(join(a, 'a.wav'), new Int16Array(1600), 16000);
        writePcm16(join(c, 'a.wav'), new Int16Array(800), 16000);
      }),
    ),
  'run.limit': () => run('limit', { ...clipDirs('limit', (a) => writePcm16(join(a, 'a.wav'), new Int16Array(800), 16000)), clean: undefined, limit: 0 }),
  'wav.unreadable': () => readWavMono(d('missing.wav')),
  'wav.not-wav': () => {
    writeFileSync(d('text.wav'), 'hello, not audio');
    return readWavMono(d('text.wav'));
  },
  'wav.encoding': () => {
    writeFileSync(d('adpcm.wav'), rawWav({ code: 2, channels: 1, rate: 16000, bits: 4, blockAlign: 256 }, new Uint8Array(256)));
    return readWavMono(d('adpcm.wav'));
  },
  'wav.format-chunk': () => {
    writeFileSync(d('block.wav'), rawWav({ code: 1, channels: 2, rate: 16000, bits: 16, blockAlign: 2 }, new Uint8Array(64)));
    return readWavMono(d('block.wav'));
  },
  'wav.truncated': () => {
    writePcm16(d('whole.wav'), new Int16Array(4000), 16000);
    writeFileSync(d('cut.wav'), readFileSync(d('whole.wav')).subarray(0, 2000));
    return readWavMono(d('cut.wav'));
  },
  'wav.empty': () => {
    writePcm16(d('empty.wav'), new Int16Array(0), 16000);
    return readWavMono(d('empty.wav'));
  },
  'wav.non-finite': () => {
    const wav = new WaveFile();
    wav.fromScratch(1, 16000, '32f', [0.1, 0.2, Number.POSITIVE_INFINITY, 0]);
    writeFileSync(d('inf.wav'), wav.toBuffer());
    return readWavMono(d('inf.wav'));
  },
  'wav.no-sox': () => {
    writePcm16(d('44k.wav'), new Int16Array(4410).fill(100), 44100);
    const path = process.env.PATH;
    process.env.PATH = d('no-tools-here');
    try {
      return readWavMono(d('44k.wav'), 16000);
    } finally {
      process.env.PATH = path;
    }
  },
  'out.locked': () => {
    mkdirSync(d('locked'));
    // The test runner that started this process: alive, and not us.
    writeFileSync(d('locked', '.hil-lock'), `${process.ppid}\nhil run\n`);
    return lockOutput(d('locked'), 'hil run');
  },
  'run.different-run': () => {
    ResultsStore.open(d('different'), provenance, false).close();
    return ResultsStore.open(d('different'), { ...provenance, modelSha256: 'another' }, false);
  },
  'rows.version': () => editedRows('rows-version', ([h, ...r]) => [JSON.stringify({ ...JSON.parse(h!), version: 9 }), ...r])(),
  'rows.not-json': () => editedRows('rows-json', (l) => [...l, '{"key": "a.wav", "row": {', '{}'])(),
  'rows.invalid': () => editedRows('rows-invalid', (l) => [...l, JSON.stringify({ key: 'a.wav', row: { clip: 'a.wav' } })])(),
  'results.legacy-version': () => {
    mkdirSync(d('legacy'));
    writeFileSync(d('legacy', 'results.json'), JSON.stringify({ format: 'hil-results', version: 2, provenance, rows: [] }));
    return ResultsStore.open(d('legacy'), provenance, false);
  },
  'compress.other-run': async () => {
    const out = d('compressed');
    mkdirSync(out);
    const first = loadProfile('offline-50');
    await compress({ baseline: d('baseline'), profile: first, corpus, outDir: out, seed: 1, valLimit: 1 });
    return compress({ baseline: d('baseline'), profile: loadProfile('offline-70'), corpus, outDir: out, seed: 1, valLimit: 1 });
  },
  'sweep.file-missing': () => readSweepFile(d('no-such-sweep.json')),
  'sweep.file-format': () => parseSweepFile({ ...sweepFile, format: 'hil-sweeps' }, 's.json'),
  'sweep.file-version': () => parseSweepFile({ ...sweepFile, version: 2 }, 's.json'),
  'sweep.file-field': () => parseSweepFile({ ...sweepFile, colour: 'blue' }, 's.json'),
  'sweep.file-two-clip-sets': () => parseSweepFile({ ...sweepFile, clips: { split: 'val', audio: 'clips' } }, 's.json'),
  'sweep.file-clean-alone': () => parseSweepFile({ ...sweepFile, clips: { clean: 'clean' } }, 's.json'),
  'sweep.file-corpus-and-audio': () => parseSweepFile({ ...sweepFile, clips: { corpus: 'real', audio: 'clips' } }, 's.json'),
  'sweep.file-split-needs-corpus': () => parseSweepFile({ ...sweepFile, clips: { split: 'real-test' } }, 's.json'),
  'sweep.corpus-split-missing': () => planSweep({ model: join(ROOT, 'models/se-small'), profiles: 'dense-int8', boards: ['sim'], corpus: d('no-corpus'), split: 'real-test' }),
  'sweep.profiles-none': () => planSweep({ model: join(ROOT, 'models/se-small'), profiles: 'nothing-*', boards: ['sim'] }),
  'sweep.model-not-baseline': () => planSweep({ model: dir, profiles: 'dense-int8', boards: ['sim'] }),
  'sweep.instances-syntax': () => parseInstances('sim'),
  'sweep.instances-board': () => planSweep({ model: join(ROOT, 'models/se-small'), profiles: 'dense-int8', boards: ['sim'], instances: { 'corstone-300': 2 } }),
  'train.checkpoint-unreadable': () => {
    mkdirSync(d('train'));
    writeFileSync(d('train', 'checkpoint.json'), '{"format": "something else"}');
    return train({ arch: 'se-tiny', corpus, epochs: 1, seed: 1, qat: { enabled: false }, outDir: d('train'), batchSize: 2, frames: 10 });
  },
};

test('every row of docs/errors.md has an id of its own, exit code 2 (130 for an interruption) and a test', () => {
  const all = rows();
  assert.ok(all.length >= 30, `${all.length} rows`);
  assert.equal(new Set(all.map((r) => r.id)).size, all.length, 'ids are unique');
  for (const r of all) {
    assert.ok(r.exit === '2' || (r.exit === '130' && r.id.endsWith('interrupted')), `${r.id}: exit ${r.exit}`);
    if (r.test === 'errors-doc') assert.ok(producers[r.id], `${r.id} is marked errors-doc but has no producer here`);
    else {
      const file = join(ROOT, r.test);
      assert.ok(existsSync(file), `${r.id}: ${r.test} does not exist`);
      const text = readFileSync(file, 'utf8').replace(/\\/g, '');
      const literals = r.message.split(/<[^>]+>/).filter((p) => p.length >= 12);
      assert.ok(
        literals.some((p) => text.includes(p)),
        `${r.id}: ${r.test} asserts none of ${JSON.stringify(literals)}`,
      );
    }
  }
  const documented = new Set(all.filter((r) => r.test === 'errors-doc').map((r) => r.id));
  assert.deepEqual(Object.keys(producers).filter((id) => !documented.has(id)), [], 'producers without a row in docs/errors.md');
});

for (const row of rows().filter((r) => r.test === 'errors-doc')) {
  test(`docs/errors.md ${row.id}: ${row.message}`, async () => {
    const produce = producers[row.id];
    assert.ok(produce, `no producer for ${row.id}`);
    let error: unknown = null;
    try {
      await produce();
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof HilError, `${row.id}: expected a HilError, got ${String(error)}`);
    assert.ok(!error.line().includes('\n'), 'one line');
    assert.match(error.line(), patternOf(row.message));
  });
}
