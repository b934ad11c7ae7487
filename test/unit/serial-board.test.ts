/**
 * The serial board's parts without a board: port specs and their resolution (path, by-id link, USB id),
 * the port lock, flash-template expansion, the board file's launch section, the board state machine, and
 * what `hil board list` reports. The whole kind against the sim firmware: test/e2e/serial-board.test.ts.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CommandFlasher, expandTemplate, placeholdersOf } from '../../src/board/flasher.js';
import { BoardMachine } from '../../src/board/machine.js';
import { lockPort, parsePortSpec, portLockPath, resolvePort, type PortInfo } from '../../src/board/port.js';
import { describeBackend, loadBoard, readBoardFile } from '../../src/board/registry.js';
import { describeSerial, parseSerialLaunch } from '../../src/board/serial.js';
import type { BoardFile } from '../../src/board/schema.js';
import { HilError } from '../../src/util/errors.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hil-serial-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const line = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof HilError, String(e));
    return e.line();
  }
  assert.fail('no error');
};
const lineAsync = async (f: () => Promise<unknown>) => {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof HilError, String(e));
    return e.line();
  }
  assert.fail('no error');
};

const PORTS: PortInfo[] = [
  { path: '/dev/ttyACM0', vendorId: '0483', productId: '374e', serialNumber: '0671FF', byId: [] },
  { path: '/dev/ttyACM1', vendorId: '0483', productId: '374e', serialNumber: '0672AA', byId: [] },
  { path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001', serialNumber: 'A1', byId: [] },
];
const list = async () => PORTS;

test('port specs: a path, a by-id link, or VID:PID[:serial]; missing and ambiguous ports are one line', async () => {
  assert.deepEqual(parsePortSpec('/dev/ttyACM0'), { kind: 'path', path: '/dev/ttyACM0' });
  assert.deepEqual(parsePortSpec('0483:374E'), { kind: 'usb', vid: '0483', pid: '374e', serial: undefined });
  assert.deepEqual(parsePortSpec('0483:374e:0671FF'), { kind: 'usb', vid: '0483', pid: '374e', serial: '0671FF' });
  assert.equal(await resolvePort(parsePortSpec('0403:6001'), list), '/dev/ttyUSB0');
  assert.equal(await resolvePort(parsePortSpec('0483:374e:0672AA'), list), '/dev/ttyACM1');
  assert.equal(
    await lineAsync(() => resolvePort(parsePortSpec('0483:374e'), list)),
    '2 serial ports match USB 0483:374e (/dev/ttyACM0, /dev/ttyACM1) (add the serial number (VID:PID:SERIAL) or give the /dev/serial/by-id/ path)',
  );
  assert.equal(await lineAsync(() => resolvePort(parsePortSpec('1366:1051'), list)), 'no serial port with USB 1366:1051 (is the board plugged in? `hil board probe` lists the ports here)');
  assert.equal(
    await lineAsync(() => resolvePort(parsePortSpec(join(dir, 'by-id', 'usb-none')))),
    `serial port ${join(dir, 'by-id', 'usb-none')} does not exist (is the board plugged in? \`hil board probe\` lists the ports here)`,
  );
});

test('port lock: keyed by the device a by-id link resolves to; a second holder is refused naming the first', () => {
  const device = join(dir, 'ttyFAKE0');
  writeFileSync(device, '');
  const link = join(dir, 'usb-fake-if00');
  symlinkSync(device, link);
  const locks = join(dir, 'locks');
  assert.equal(portLockPath(link, locks), portLockPath(device, locks));
  const held = lockPort(device, 'hil run --board nucleo-h743zi', locks);
  assert.equal(readFileSync(held.path, 'utf8'), `${process.pid}\nhil run --board nucleo-h743zi\n`);
  assert.equal(
    line(() => lockPort(link, 'hil run', locks)),
    `serial port ${link} is in use by pid ${process.pid} (hil run --board nucleo-h743zi) (wait for it to finish or stop it (kill ${process.pid}), or give another --port)`,
  );
  held.release();
  lockPort(link, 'hil run', locks).release();
});

test('flash templates: each placeholder expanded within its argument; unknown or valueless ones are one line', async () => {
  const t = ['pyocd', 'flash', '--uid', '{probe_serial}', '{hex}', '--base-address={model_address}'];
  assert.deepEqual(placeholdersOf(t), ['probe_serial', 'hex', 'model_address']);
  assert.deepEqual(expandTemplate(t, { probe_serial: 'ABC 1', hex: '/tmp/x.hex', model_address: '0x8100000' }, 'launch.flash.command'), [
    'pyocd', 'flash', '--uid', 'ABC 1', '/tmp/x.hex', '--base-address=0x8100000',
  ]);
  assert.equal(line(() => expandTemplate(['cp', '{image}', '/media/DAPLINK/'], {}, 'launch.flash.command')), 'launch.flash.command: unknown placeholder {image} (use {elf}, {bin}, {hex}, {model}, {model_address}, {probe_serial}, {port})');
  assert.equal(line(() => expandTemplate(['probe-rs', '--probe', '{probe_serial}'], {}, 'launch.flash.reset')), 'launch.flash.reset: {probe_serial} has no value for this board (set launch.flash.probe_serial in the board file)');

  // A failing flasher is one line with its last output and the command to try by hand.
  const stub = join(dir, 'fail.sh');
  writeFileSync(stub, '#!/bin/sh\necho "Error: no probe found" >&2\nexit 3\n');
  chmodSync(stub, 0o755);
  const f = new CommandFlasher('nrf5340-dk', { command: [stub, '{elf}'] });
  assert.equal(f.placesModel, false);
  assert.equal(await lineAsync(() => f.flash('/x/hil-fw.elf', null, dir)), `board nrf5340-dk: the flash command exited with code 3 (Error: no probe found) (run it by hand: ${stub} /x/hil-fw.elf)`);
});

test('board files: the examples are valid serial boards; launch mistakes are one line; --port only for serial boards', async () => {
  for (const name of ['nucleo-h743zi', 'nrf5340-dk', 'alif-e7']) {
    const file = readBoardFile(join(ROOT, 'boards', `${name}.json`));
    assert.match(file.description, /^UNTESTED example/);
    const launch = parseSerialLaunch(file, name);
    assert.ok(launch.flash?.command.length);
  }
  const base = readBoardFile(join(ROOT, 'boards', 'nucleo-h743zi.json'));
  const bad = { ...base, launch: { ...base.launch, baud: 'fast' } } as unknown as BoardFile;
  assert.match(line(() => parseSerialLaunch(bad, 'boards/x.json')), /^boards\/x\.json: launch\.baud /);
  assert.equal(
    await lineAsync(() => loadBoard('sim', { port: '/dev/ttyACM0' })),
    '--port /dev/ttyACM0: board sim is launch.kind sim, not serial (leave --port out, or pick a serial board)',
  );
  assert.deepEqual(await describeSerial(base, 'x', list), { backend: 'serial', available: false, detail: '2 serial ports match USB 0483:374e (/dev/ttyACM0, /dev/ttyACM1)' });
  assert.deepEqual(await describeSerial(base, 'x', async () => []), { backend: 'serial', available: false, detail: 'not plugged in: 0483:374e' });
  const here = { ...base, launch: { ...base.launch, port: '0403:6001' } } as BoardFile;
  assert.deepEqual(await describeSerial(here, 'x', list), { backend: 'serial', available: true, detail: '/dev/ttyUSB0 at 921600 baud' });
  assert.equal((await describeBackend(readBoardFile(join(ROOT, 'boards', 'sim.json')), 'sim')).backend, 'process');
});

test('board state machine: off → flashed → running → session → running → off, logged; the placed model goes to the first session only', () => {
  const log: string[] = [];
  const m = new BoardMachine('b', (_, t) => log.push(t));
  m.flashed({ size: 3, crc32: 7 }, 'staged');
  m.to('running', 'started');
  m.to('session', 'opened');
  assert.deepEqual(m.takePlaced(), { size: 3, crc32: 7 });
  assert.equal(m.takePlaced(), null);
  m.to('running', 'closed');
  assert.throws(() => m.to('flashed', 'again'), /no transition running → flashed/);
  m.to('off', 'stopped');
  assert.deepEqual(log, ['board b: off → flashed: staged', 'board b: flashed → running: started', 'board b: running → session: opened', 'board b: session → running: closed', 'board b: running → off: stopped']);
});
