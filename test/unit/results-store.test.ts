/**
 * The run results store: one append-only rows.jsonl, derived results.csv/results.json replaced
 * atomically, no duplicate row after a crash at any point, a torn last line tolerated, enhanced/ holding
 * exactly the stored rows' WAVs, and the --out lock (a second holder refused by pid, a dead one's taken over).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../src/util/paths.js';
import { Type } from '@sinclair/typebox';
import { parse } from 'csv-parse/sync';
import type { ClipResult, Provenance } from '../../src/report/resultsSchema.js';
import { ResultsStore } from '../../src/run/results.js';
import { KeyedStore } from '../../src/run/store.js';
import { HilError } from '../../src/util/errors.js';

const ROOT = repoRoot();
const dir = mkdtempSync(join(tmpdir(), 'hil-store-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const provenance: Provenance = {
  board: 'sim', boardBackend: 'sim', firmwareBuildId: 'b', firmwareSha256: 'f', modelSha256: 'm', modelName: 'x',
  profile: 'dense-int8', seed: 1, audioDir: '/a', cleanDir: null, versions: { hil: '0' },
};
const rowOf = (clip: string): ClipResult => ({
  clip, samples: 16000, frames: 62,
  input: { sampleRate: 16000, channels: 1, encoding: '16', converted: false, conversion: '', clippedSamples: 0 },
  link: { retransmissions: 0, timeouts: 0, corruptFrames: 0, resyncs: 0, clipRetries: 0 }, bitExact: true,
  sdrNoisy: 1, sisdrNoisy: 1, sdrOut: 2, sisdrOut: 2, sdrImprovement: 1, sisdrImprovement: 1,
  latencyKind: 'modelled', latencyUnit: 'cycles', latencyMean: 10, latencyP50: 10, latencyP99: 11, latencyUsP50: 1, latencyUsP99: 1,
  networkLatencyMean: 9, networkLatencyP50: 9, networkLatencyP99: 9, networkLatencyUsP50: 1, networkLatencyUsP99: 1,
  modelledCyclesP50: 10, modelledCyclesP99: 11, modelledUsP50: 1, rtfP99: 0.1, macsPerFrame: 1, weightBytesPerFrame: 1,
  sramBytes: 1, sramStaticBytes: 1, arenaBytes: 1, stackHighWaterBytes: 1, flashBytes: 1, flashImageBytes: 1, flashModelBytes: 1,
  memorySource: 'sim-native', finishedAt: '2025-01-01T00:00:00Z',
});

const csvClips = (out: string) => (parse(readFileSync(join(out, 'results.csv'), 'utf8'), { columns: true }) as { clip: string }[]).map((r) => r.clip);
const jsonClips = (out: string) => (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { rows: ClipResult[] }).rows.map((r) => r.clip);

/** What a rerun of `hil run` does with the store: add the clips not stored yet. */
function rerun(out: string, clips: string[]): void {
  const s = ResultsStore.open(out, provenance, false);
  for (const c of clips) if (!s.has(c)) s.add(rowOf(c));
  s.close();
}

/**
 * Runs a child that opens the store in `out`, adds `c0` cleanly, then makes the next file rename (the
 * commit step of every atomic rewrite) kill the process with SIGKILL, and adds `c1`: the process dies at
 * the first derived-file rewrite after c1's row, or right after add() returns if that rewrite is not due.
 */
function killDuringAdd(out: string): void {
  const script = `
    import fs from 'node:fs';
    import { syncBuiltinESMExports } from 'node:module';
    const { ResultsStore } = await import(${JSON.stringify(join(ROOT, 'src/run/results.ts'))});
    const provenance = ${JSON.stringify(provenance)};
    const rowOf = (clip) => ({ ...${JSON.stringify(rowOf('x'))}, clip });
    const s = ResultsStore.open(${JSON.stringify(out)}, provenance, false);
    s.add(rowOf('c0'));
    fs.renameSync = () => process.kill(process.pid, 'SIGKILL');
    syncBuiltinESMExports();
    s.add(rowOf('c1'));
    process.kill(process.pid, 'SIGKILL');
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
}

test('a kill while a row is being stored never makes a rerun store it twice', () => {
  const out = join(dir, 'killed');
  killDuringAdd(out);
  rerun(out, ['c0', 'c1', 'c2']);
  assert.deepEqual(csvClips(out), ['c0', 'c1', 'c2']);
  assert.deepEqual(jsonClips(out), ['c0', 'c1', 'c2']);
  assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.tmp')), [], 'no temporary file of the killed writer is left');
});

test('a torn last line of rows.jsonl (a kill mid-append) is dropped and that clip is stored once on rerun', () => {
  const out = join(dir, 'torn');
  rerun(out, ['c0', 'c1']);
  appendFileSync(join(out, 'rows.jsonl'), JSON.stringify({ key: 'c2', row: rowOf('c2') }).slice(0, 100));
  const notes: string[] = [];
  const s = ResultsStore.open(out, provenance, false, (t) => notes.push(t));
  assert.deepEqual(s.all().map((r) => r.clip), ['c0', 'c1']);
  assert.match(notes.join('\n'), /rows\.jsonl: dropped an incomplete last line/);
  s.add(rowOf('c2'));
  s.close();
  rerun(out, ['c0', 'c1', 'c2']);
  assert.deepEqual(csvClips(out), ['c0', 'c1', 'c2']);
  assert.equal(readFileSync(join(out, 'rows.jsonl'), 'utf8').trimEnd().split('\n').length, 4);
});

test('a damaged line in the middle of rows.jsonl is refused in one line, not skipped', () => {
  const out = join(dir, 'damaged');
  rerun(out, ['c0', 'c1']);
  const lines = readFileSync(join(out, 'rows.jsonl'), 'utf8').split('\n');
  lines[1] = lines[1]!.slice(0, 40);
  writeFileSync(join(out, 'rows.jsonl'), lines.join('\n'));
  assert.throws(() => ResultsStore.open(out, provenance, false), (e: unknown) => e instanceof HilError && /rows\.jsonl: line 2 is not JSON \(rerun with --overwrite/.test(e.line()));
});

test('enhanced/ holds exactly the stored rows\' WAVs: --overwrite empties it, an orphan of a crash is removed', () => {
  const out = join(dir, 'enhanced');
  rerun(out, ['a.wav', 'b.wav']);
  mkdirSync(join(out, 'enhanced'));
  for (const f of ['a.wav', 'b.wav', 'orphan.wav']) writeFileSync(join(out, 'enhanced', f), 'RIFF');
  ResultsStore.open(out, provenance, false).close();
  assert.deepEqual(readdirSync(join(out, 'enhanced')).sort(), ['a.wav', 'b.wav']);
  const s = ResultsStore.open(out, provenance, true);
  assert.deepEqual(readdirSync(join(out, 'enhanced')), []);
  assert.deepEqual(s.all(), []);
  s.close();
  assert.deepEqual(csvClips(out), []);
});

test('derived files are rewritten now and then, not after every row', () => {
  const out = join(dir, 'generic');
  let derived = 0;
  const Row = Type.Object({ id: Type.String(), v: Type.Number() });
  const Meta = Type.Object({ name: Type.String() });
  const spec = {
    file: 'rows.jsonl', format: 'test-rows', version: 1, rowSchema: Row, metaSchema: Meta, fix: 'start over', lockedBy: 'test',
    key: (r: { id: string }) => r.id,
    sameRun: (a: { name: string }, b: { name: string }) => a.name === b.name,
    differentRun: (d: string) => new HilError(`${d} is another run`),
    derive: (rows: { id: string }[]) => {
      derived++;
      return { 'ids.txt': rows.map((r) => r.id).join('\n') };
    },
  };
  const s = KeyedStore.open(out, spec, { name: 'a' }, { overwrite: false });
  for (let i = 0; i < 500; i++) s.add({ id: `r${i}`, v: i });
  s.close();
  assert.ok(derived < 10, `derive ran ${derived} times for 500 rows`);
  assert.equal(readFileSync(join(out, 'ids.txt'), 'utf8').split('\n').length, 500);
  assert.throws(() => KeyedStore.open(out, spec, { name: 'b' }, { overwrite: false }), /is another run/);
});

test('the output lock: a second store on the directory is refused naming the holder\'s pid; a dead holder\'s lock is taken over', async () => {
  const out = join(dir, 'locked');
  rerun(out, []);
  const holder = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', `
      const { ResultsStore } = await import(${JSON.stringify(join(ROOT, 'src/run/results.ts'))});
      ResultsStore.open(${JSON.stringify(out)}, ${JSON.stringify(provenance)}, false);
      console.log('open');
      setTimeout(() => {}, 60000);
    `],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    assert.throws(
      () => ResultsStore.open(out, provenance, false),
      (e: unknown) => e instanceof HilError && new RegExp(`locked is in use by pid ${holder.pid} \\(hil run\\) \\(wait for it to finish or stop it \\(kill ${holder.pid}\\), or use another --out\\)`).test(e.line()),
    );
  } finally {
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
  }
  assert.ok(existsSync(join(out, '.hil-lock')), 'kill -9 leaves the lock behind');
  rerun(out, ['c0']);
  assert.deepEqual(csvClips(out), ['c0']);
  assert.ok(!existsSync(join(out, '.hil-lock')), 'released on close');
});
