/** Board files: the schema's one-line errors naming file and field, the registry, and the sim launcher's own section. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listBoards, loadBoard, readBoardFile, resolveBoardPath, BOARDS_DIR } from '../../src/board/registry.js';
import { HilError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'hil-board-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const sim = JSON.parse(readFileSync(join(BOARDS_DIR, 'sim.json'), 'utf8'));

function write(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

function oneLine(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HilError, String(e));
    assert.match(e.message, re);
    assert.ok(!e.line().includes('\n'));
    return true;
  });
}

test('boards/sim.json is valid and the registry lists and loads it', async () => {
  const sims = listBoards().filter((b) => b.name === 'sim');
  assert.equal(sims.length, 1);
  assert.equal(sims[0]!.error, undefined);
  const board = await loadBoard('sim');
  assert.equal(board.name, 'sim');
  assert.deepEqual(board.capabilities.latency, { kind: 'modelled', unit: 'cycles' });
  assert.equal(board.capabilities.memoryLabel, 'sim-native');
  assert.equal(board.capabilities.placesModel, true);
  assert.equal(board.capabilities.accelerator.macs_per_cycle, 128);
  assert.equal(board.file.link.chunk_bytes <= 1020, true);
  await board.close();
  // A path works as well as a name.
  assert.equal((await loadBoard(write('copy.json', sim))).name, 'sim');
});

test('schema errors are one line naming the file and the field', () => {
  const { link, ...noLink } = sim;
  oneLine(() => readBoardFile(write('a.json', noLink)), /a\.json: \(top level\): missing field "link"/);
  oneLine(() => readBoardFile(write('b.json', { ...sim, link: { ...link, give_up_ms: undefined } })), /b\.json: link: missing field "give_up_ms"/);
  oneLine(() => readBoardFile(write('c.json', { ...sim, colour: 'red' })), /c\.json: \(top level\): unknown field "colour"/);
  oneLine(() => readBoardFile(write('d.json', { ...sim, latency: { kind: 'guessed', unit: 'cycles' } })), /d\.json: latency\.kind must be one of "measured", "emulated", "modelled"/);
  oneLine(() => readBoardFile(write('e.json', { ...sim, link: { ...link, rto_initial_ms: 'fast' } })), /e\.json: link\.rto_initial_ms must be integer/);
  oneLine(() => readBoardFile(write('f.json', { ...sim, link: { ...link, chunk_bytes: 4000 } })), /f\.json: link\.chunk_bytes must be <= 1020/);
  oneLine(() => readBoardFile(write('g.json', '{ "name": ')), /g\.json is not valid JSON/);
  oneLine(() => readBoardFile(join(dir, 'missing.json')), /cannot read board file .*missing\.json: ENOENT/);
});

test('the launcher validates its own launch fields; an unknown launch kind is refused', async () => {
  await assert.rejects(loadBoard(write('h.json', { ...sim, launch: { kind: 'sim', cores: 2 } })), /h\.json: launch: unknown field "cores"/);
  await assert.rejects(loadBoard(write('i.json', { ...sim, launch: { kind: 'sim', stack_bytes: 100 } })), /i\.json: launch\.stack_bytes must be >= 65536/);
  await assert.rejects(loadBoard(write('j.json', { ...sim, launch: { kind: 'teleport' } })), /j\.json: launch\.kind "teleport" has no launcher \(known: .*sim/);
});

test('board names resolve in boards/; an unknown name says which exist', () => {
  assert.equal(resolveBoardPath('sim'), join(BOARDS_DIR, 'sim.json'));
  oneLine(() => resolveBoardPath('nope'), /no board named "nope"/);
  oneLine(() => resolveBoardPath('Bad Name'), /"Bad Name" is not a board name/);
});

test('an invalid board file in a boards directory is listed with its error, not fatal', () => {
  const d = mkdtempSync(join(dir, 'boards-'));
  writeFileSync(join(d, 'sim.json'), JSON.stringify(sim));
  writeFileSync(join(d, 'other.json'), JSON.stringify({ ...sim, name: 'wrong' }));
  const rows = listBoards(d);
  assert.deepEqual(rows.map((r) => [r.name, r.error === undefined]), [['other', false], ['sim', true]]);
  assert.match(rows[0]!.error!, /name "wrong" differs from the file name/);
});

test('every committed board file is valid (a schema change must update them all)', () => {
  const listed = listBoards();
  assert.ok(listed.length >= 3, listed.map((b) => b.name).join(', '));
  for (const b of listed) assert.equal(b.error, undefined, `${b.path}: ${b.error}`);
});
