/**
 * `launch.kind: "serial"` end to end, against the sim firmware standing in for real silicon: the sim
 * serves a pseudo-terminal, reached through a symlink standing in for a /dev/serial/by-id/ path, and the
 * board file flashes through a stub flasher script that records its arguments (and, for the one run that
 * asks, writes the model into the sim's flash file as a probe would write the board's partition).
 *
 * Checks: (a) the port lock — a second `hil run` on the port while the first holds it is refused in one
 * line naming the first's pid and command; (b) the identity check — a device whose banner names another
 * board is refused before anything is measured; (c) the flash and reset templates — every placeholder
 * expanded, the model placed by the flasher (no upload), and each action in <out>/logs/board.log.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { makeFirmware } from '../../src/board/firmware.js';
import { portLockPath } from '../../src/board/port.js';
import { readBoardFile } from '../../src/board/registry.js';
import type { ResultsFile } from '../../src/report/resultsSchema.js';
import { toInt16, writePcm16 } from '../../src/data/wav.js';
import { speechLike, whiteNoise, rng } from '../support/speechlike.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
const BOARD = 'serial-sim-test';
const SIM = JSON.parse(readFileSync(join(ROOT, 'boards/sim.json'), 'utf8'));

function hil(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
}

let dir: string;
let image: string;
const sims: ChildProcess[] = [];

/** The sim firmware on a pty of its own, reached through a by-id style symlink; `flash` is its partition file. */
async function startSim(boardName: string, tag: string): Promise<{ link: string; flash: string; pty: string }> {
  const flash = join(dir, `${tag}-flash.bin`);
  writeFileSync(flash, new Uint8Array(0));
  const child = spawn(image, ['--board', boardName, '--flash', flash, '--clock-hz', String(SIM.accelerator.clock_hz)], { stdio: ['ignore', 'pipe', 'inherit'] });
  sims.push(child);
  const pty = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the sim printed no PTY line')), 10_000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /^PTY (\S+)$/.exec(l);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`the sim exited with ${code}`)));
  });
  mkdirSync(join(dir, 'by-id'), { recursive: true });
  const link = join(dir, 'by-id', `usb-hil_sim_${tag}_HIL0001-if00`);
  symlinkSync(pty, link);
  return { link, flash, pty };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hil-serial-'));
  image = await makeFirmware(readBoardFile(join(ROOT, 'boards/sim.json')));
  const init = hil(['model', 'init', '--arch', 'se-tiny', '--seed', '3', '--out', join(dir, 'model')]);
  assert.equal(init.status, 0, init.stderr);
  for (const [k, seconds] of [0.6, 0.9].entries()) {
    const clean = speechLike(seconds, `clip${k}`);
    const noise = whiteNoise(clean.length, rng(`noise${k}`));
    writePcm16(join(dir, 'clean', `c${k}.wav`), toInt16(clean.map((v) => 0.6 * v)), 16000);
    writePcm16(join(dir, 'noisy', `c${k}.wav`), toInt16(clean.map((v, i) => 0.6 * v + 0.05 * noise[i]!)), 16000);
  }
  // The stub flasher: records its arguments (and the model's hash) one line per call. With HIL_TEST_FLASH
  // it writes the model into that file in place (the sim maps it, so it must not be truncated); with
  // HIL_TEST_GATE its reset waits for that file, holding the run between flashing and the first session.
  const stub = join(dir, 'flasher.sh');
  writeFileSync(
    stub,
    `#!/bin/sh
log="${join(dir, 'flasher.log')}"
if [ "$1" = flash ]; then
  model=""; prev=""
  for a in "$@"; do [ "$prev" = --model ] && model="$a"; prev="$a"; done
  echo "flash $* model-sha256=$(sha256sum "$model" | cut -c1-64) hex-exists=$([ -s "$3" ] && echo yes || echo no)" >> "$log"
  [ -n "$HIL_TEST_FLASH" ] && dd if="$model" of="$HIL_TEST_FLASH" conv=notrunc status=none
else
  echo "$*" >> "$log"
  if [ -n "$HIL_TEST_GATE" ]; then while [ ! -e "$HIL_TEST_GATE" ]; do sleep 0.05; done; fi
fi
exit 0
`,
  );
  chmodSync(stub, 0o755);
  const board = {
    name: BOARD,
    description: 'The sim firmware on a pty, driven as a serial board (test/e2e/serial-board.test.ts)',
    launch: {
      kind: 'serial',
      cpu: 'x86-64 (sim)',
      baud: 115200,
      flash: {
        command: [stub, 'flash', '--hex', '{hex}', '--elf', '{elf}', '--model', '{model}', '--probe', '{probe_serial}', '--port', '{port}'],
        reset: [stub, 'reset', '{probe_serial}'],
        probe_serial: 'HIL0001',
        objcopy: 'objcopy',
      },
    },
    firmware: SIM.firmware,
    latency: SIM.latency,
    memory_label: SIM.memory_label,
    accelerator: SIM.accelerator,
    link: SIM.link,
  };
  writeFileSync(join(dir, `${BOARD}.json`), JSON.stringify(board, null, 2));
});

after(() => {
  for (const s of sims) s.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(ROOT, 'firmware-images', BOARD), { recursive: true, force: true });
});

const runArgs = (port: string, out: string) => ['run', '--board', join(dir, `${BOARD}.json`), '--port', port, '--model', join(dir, 'model'), '--audio', join(dir, 'noisy'), '--clean', join(dir, 'clean'), '--out', out];

describe('serial board', { timeout: 120_000 }, () => {
  test('(a) a second run on a held port is refused in one line naming the holder; (c) the flash and reset templates', async () => {
    const sim = await startSim(BOARD, 'a');
    const gate = join(dir, 'gate');
    const outA = join(dir, 'out-a');
    const a = spawn(process.execPath, [...CLI, ...runArgs(sim.link, outA)], {
      cwd: ROOT,
      env: { ...process.env, HIL_TEST_GATE: gate, HIL_TEST_FLASH: sim.flash },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderrA = '';
    a.stderr!.on('data', (d: Buffer) => (stderrA += d.toString()));
    const exitA = new Promise<number | null>((resolve) => a.once('exit', (code) => resolve(code)));
    // Run A holds the port while its reset command waits at the gate.
    const log = join(dir, 'flasher.log');
    const deadline = Date.now() + 60_000;
    while (!(existsSync(log) && readFileSync(log, 'utf8').includes('reset HIL0001'))) {
      assert.ok(Date.now() < deadline, `run A never reached its reset command: ${stderrA}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(existsSync(portLockPath(sim.link)), 'the lock file of the port exists while run A holds it');

    const b = hil(runArgs(sim.link, join(dir, 'out-b')));
    assert.equal(b.status, 2, b.stderr);
    // Progress lines aside ("hil: 2 clips, …"), the refusal is one line.
    const errors = b.stderr.trim().split('\n').filter((l) => !/^hil: \d+ clips, \d+ frames on /.test(l));
    assert.equal(errors.length, 1, b.stderr);
    assert.match(errors[0]!, new RegExp(`^hil: serial port ${sim.link} is in use by pid ${a.pid} \\(hil run --board .+\\) \\(wait for it to finish or stop it \\(kill ${a.pid}\\), or give another --port\\)$`));
    assert.ok(!readFileSync(log, 'utf8').split('\n').some((l) => l.includes('out-b')), 'run B never flashed');
    assert.equal(readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.startsWith('flash')).length, 1, 'run B ran no flash command');

    writeFileSync(gate, '');
    assert.equal(await exitA, 0, stderrA);
    assert.ok(!existsSync(portLockPath(sim.link)), 'run A released the port');

    // (c) Every placeholder expanded, argument by argument; the model the flasher got is the run's.
    const results: ResultsFile = JSON.parse(readFileSync(join(outA, 'results.json'), 'utf8'));
    assert.equal(results.rows.length, 2);
    assert.ok(results.rows.every((r) => r.bitExact));
    assert.equal(results.provenance.boardBackend, 'serial');
    const [flashLine, resetLine] = readFileSync(log, 'utf8').trim().split('\n');
    const m = /^flash flash --hex (\S+\/firmware\.hex) --elf (\S+) --model (\S+\/model\.hilm) --probe HIL0001 --port (\S+) model-sha256=([0-9a-f]{64}) hex-exists=yes$/.exec(flashLine!);
    assert.ok(m, flashLine);
    assert.equal(m[2], image);
    assert.equal(m[4], sim.link);
    assert.equal(m[5], results.provenance.modelSha256, "the flasher got the run's model blob");
    assert.equal(resetLine, 'reset HIL0001');
    // The flasher placed the model: the run says so, and it was not uploaded.
    assert.match(stderrA, /model placed in the board's partition by its flasher/);
    const boardLog = readFileSync(join(outA, 'logs', 'board.log'), 'utf8');
    for (const want of ['off → flashed', 'flashed → running', 'running → session', 'session → running', '→ off', `flash: ${join(dir, 'flasher.sh')} flash --hex`, 'reset: ', `holds ${sim.link}`]) {
      assert.ok(boardLog.includes(want), `board.log has "${want}":\n${boardLog}`);
    }
    assert.match(readFileSync(join(outA, 'logs', 'link.log'), 'utf8'), /HIL-FW .*board=serial-sim-test/);
  });

  test('(b) a device whose banner names another board is refused, never measured', async () => {
    const sim = await startSim('nucleo-h743zi', 'b');
    const out = join(dir, 'out-wrong');
    const r = hil(runArgs(sim.link, out));
    assert.equal(r.status, 2, r.stderr);
    const errors = r.stderr.trim().split('\n').filter((l) => !/^hil: \d+ clips, \d+ frames on /.test(l));
    assert.equal(errors.length, 1, r.stderr);
    assert.equal(errors[0], `hil: the device on the line is board "nucleo-h743zi", not "${BOARD}" (check which board is on this port (hil board list), or pick the board file that matches it)`);
    assert.ok(!existsSync(join(out, 'enhanced', 'c0.wav')), 'nothing was measured');
    assert.ok(!existsSync(portLockPath(sim.link)), 'the refused run released the port');
  });
});
