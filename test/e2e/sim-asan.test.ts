/**
 * The link end to end on the sim firmware built under AddressSanitizer + UBSan (boards/sim-asan.json,
 * `make -C firmware sim-asan`): the real process on a real pseudo-terminal with its serve thread and
 * painted stack, which neither the unit tests nor the fuzzers run. Every blob of the shared engine vectors,
 * flashed or uploaded, runs bit-exact; GET_STATS scans the painted stack; a corrupted request is dropped
 * and retransmitted; a second session reuses the process. Then the process is stopped, so LeakSanitizer
 * runs at its exit. The sanitizers write their reports to files (log_path) in a directory the test reads,
 * and the board logs the process's stderr: a report in either fails the test, and so does UBSan's abort,
 * which ends the session.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Board } from '../../src/board/board.js';
import { readBuildInfo } from '../../src/board/firmware.js';
import { loadBoard } from '../../src/board/registry.js';
import type { Session } from '../../src/link/session.js';
import { Msg } from '../../src/link/messages.js';
import { decodeChunk } from '../../src/link/frame.js';

const VEC = new URL('../vectors/engine/', import.meta.url);
const COST = { macsPerCycle: 128, weightBytesPerCycle: 8, elementsPerCycle: 8, opOverheadCycles: 200, frontendCycles: 3000 };
/** Every blob encoding the vectors hold: dense, both block shapes, CSR, unit-pruned, mixed, a pruned small network, a unit-pruned LSTM. */
const VECTORS = ['tiny-dense', 'tiny-block4x4', 'tiny-block1x16', 'tiny-csr', 'tiny-unitpruned', 'tiny-mixed', 'small-pruned-auto', 'lstm-tiny-unitpruned'];

function vector(name: string) {
  const blob = new Uint8Array(readFileSync(new URL(`${name}.hilm`, VEC)));
  const raw = readFileSync(new URL(`${name}.in.bin`, VEC));
  const rawOut = readFileSync(new URL(`${name}.out.bin`, VEC));
  return {
    blob,
    input: new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2),
    expected: new Int16Array(rawOut.buffer, rawOut.byteOffset, rawOut.length / 2),
  };
}

/** Runs a whole vector through an open session, frames pipelined, and returns the output. */
async function runVector(s: Session, name: string): Promise<{ out: Int16Array; expected: Int16Array; frames: number }> {
  const { blob, input, expected } = vector(name);
  const act = await s.loadModel(blob);
  await s.resetStream();
  const hop = act.hop;
  const frames = Math.floor(input.length / hop);
  const results = await Promise.all(Array.from({ length: frames }, (_, f) => s.runFrame(f, input.subarray(f * hop, (f + 1) * hop))));
  const out = new Int16Array(frames * hop);
  results.forEach((r, f) => out.set(r.output, f * hop));
  return { out, expected: expected.subarray(0, frames * hop), frames };
}

let logDir: string;
let board: Board;
const logs: string[] = [];

before(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'hil-sim-asan-'));
  // The sim inherits this environment: reports land in files as well as being impossible to miss in stderr.
  const common = `log_path=${join(logDir, 'report')}`;
  process.env.ASAN_OPTIONS = `${common}:detect_leaks=1`;
  process.env.UBSAN_OPTIONS = `${common}:print_stacktrace=1`;
  board = await loadBoard('sim-asan', { log: (level, text) => logs.push(`${level} ${text}`) });
});

after(async () => {
  await board?.close();
  rmSync(logDir, { recursive: true, force: true });
});

test('sim-asan is the sim firmware built with ASan and UBSan', { timeout: 300_000 }, async () => {
  const { blob } = vector(VECTORS[0]!);
  assert.equal(await board.flash(blob), 'placed');
  const s = await board.open(); // builds the image on first use
  const flags = readBuildInfo(board.file).flags.join(' ');
  assert.match(flags, /-fsanitize=address,undefined/);
  assert.match(flags, /-fno-sanitize-recover=all/);
  assert.equal(s.banner.fields.board, 'sim-asan');
  assert.equal((await s.hello()).boardName, 'sim-asan');
  await s.close();
});

test('sim-asan: every engine vector, flashed or uploaded, bit-exact; GET_STATS walks the painted stack', { timeout: 300_000 }, async () => {
  const s = await board.open();
  await s.hello();
  await s.configure(COST);
  let framesRun = 0;
  for (const name of VECTORS) {
    const { out, expected, frames } = await runVector(s, name);
    assert.deepEqual(out, expected, `${name}: the sanitized firmware reproduces the shared engine vector`);
    framesRun += frames;
  }
  const st = await s.stats();
  assert.equal(st.framesRun, framesRun);
  assert.ok(st.stackHighWaterBytes > 256 && st.stackHighWaterBytes < st.stackSizeBytes, `stack high water ${st.stackHighWaterBytes}`);
  await s.close();
});

test('sim-asan: a second session, hop 128 uploaded, a corrupted request dropped and retransmitted', { timeout: 120_000 }, async () => {
  const s = await board.open();
  await s.hello();
  await s.configure(COST);
  const transport = s.transport;
  const write = transport.write.bind(transport);
  let corrupted = 0;
  transport.write = (bytes: Uint8Array) => {
    const f = decodeChunk(bytes.subarray(1, bytes.length - 1));
    if (!corrupted && 'type' in f && f.type === Msg.RUN_FRAME && new DataView(f.payload.buffer).getUint32(0, true) === 3) {
      corrupted++;
      const bad = Uint8Array.from(bytes);
      bad[40] = bad[40] === 0x5a ? 0x5b : 0x5a; // never 0x00, which would split the frame
      return write(bad);
    }
    return write(bytes);
  };
  const { out, expected } = await runVector(s, 'tiny-hop128');
  assert.deepEqual(out, expected);
  assert.equal(corrupted, 1);
  assert.ok(s.client.stats.retransmissions >= 1);
  await s.close();
});

test('sim-asan: stopped cleanly, and neither sanitizer reported anything', { timeout: 30_000 }, async () => {
  await board.close(); // SIGTERM: the process returns from main, and LeakSanitizer runs at its exit
  const reports = readdirSync(logDir).map((f) => `${f}:\n${readFileSync(join(logDir, f), 'utf8')}`);
  assert.deepEqual(reports, [], 'sanitizer reports');
  const stderr = logs.filter((l) => l.includes(' stderr: '));
  assert.deepEqual(stderr, [], 'the sim wrote to stderr');
});
