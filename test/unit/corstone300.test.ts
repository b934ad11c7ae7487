/**
 * The corstone-300 board without running it: its board file against the firmware's linker script, the
 * backend choice, the exact commands the QEMU and FVP backends would run, what the MPS3 backend would
 * write to the board's volume, the ELF reader against binutils, and the emulator process handling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBoardFile } from '../../src/board/registry.js';
import { repoRoot } from '../../src/util/paths.js';
import { BACKEND_LATENCY, chooseBackend, parseLaunch, type Corstone300Launch, type Probe } from '../../src/board/corstone300.js';
import { qemuCommand, qemuSemihostingCommand, QEMU_PTY_LINE, type QemuBackend } from '../../src/board/qemu.js';
import { fvpCommand, FVP_PORT_LINE, type FvpBackend } from '../../src/board/fvp.js';
import { imagesTxt, mccResetBytes, mps3FlashPlan, mps3Unavailable, type Mps3Backend } from '../../src/board/mps3.js';
import { imageMemory, readElfSections } from '../../src/board/elf.js';
import { EmulatorProcess, findOnPath } from '../../src/board/emulator.js';
import { makeFirmware } from '../../src/board/firmware.js';
import { HilError } from '../../src/util/errors.js';
import type { BoardFile } from '../../src/board/schema.js';

const REPO_ROOT = repoRoot();

const BOARD_PATH = join(REPO_ROOT, 'boards', 'corstone-300.json');
const file = readBoardFile(BOARD_PATH);
const launch = parseLaunch(file, BOARD_PATH);
const backend = <K extends string>(kind: K) => launch.backends.find((b) => b.kind === kind)!;

/** A copy of the board file with `edit` applied to its launch section. */
function edited(edit: (l: Corstone300Launch) => void): BoardFile {
  const copy = JSON.parse(JSON.stringify(file)) as BoardFile;
  edit(copy.launch as unknown as Corstone300Launch);
  return copy;
}

test('board file: the partition, arena and stack sizes and the memory map equal the linker script', () => {
  const ld = readFileSync(join(REPO_ROOT, 'firmware/ports/corstone-300/corstone-300.ld'), 'utf8');
  const size = (v: string) => {
    const m = /^(0x[0-9a-f]+|\d+)([KM]?)$/i.exec(v.trim())!;
    return Number(m[1]) * (m[2] === 'K' ? 1024 : m[2] === 'M' ? 1 << 20 : 1);
  };
  const sym = (name: string) => size(new RegExp(`^${name} = ([^;]+);`, 'm').exec(ld)![1]!);
  assert.equal(sym('HIL_MODEL_ADDR'), launch.model_partition.base);
  assert.equal(sym('HIL_MODEL_BYTES'), launch.model_partition.bytes);
  assert.equal(sym('HIL_ARENA_BYTES'), launch.arena_bytes);
  assert.equal(sym('HIL_STACK_BYTES'), launch.stack_bytes);
  const regions = [...ld.matchAll(/^\s*(\w+)\s+\([rwx]+\)\s*:\s*ORIGIN = (\S+), LENGTH = (\S+)$/gm)];
  assert.deepEqual(regions.map((m) => m[1]), ['ITCM', 'DTCM']);
  for (const m of regions) {
    const mem = launch.memories.find((x) => x.name === m[1]);
    assert.ok(mem, `linker region ${m[1]} is in launch.memories`);
    assert.deepEqual([mem.base, mem.bytes], [size(m[2]!.replace(/,$/, '')), size(m[3]!)], `region ${m[1]}`);
  }
  assert.equal(launch.image_memory, 'ITCM', 'the vector table must be at 0');
  assert.deepEqual(launch.backends.map((b) => b.kind), ['fvp', 'qemu', 'mps3'], 'preference: FVP, QEMU, MPS3');
  assert.deepEqual(file.latency, BACKEND_LATENCY.qemu, 'the top-level latency is the QEMU backend\'s');
});

test('board file: mistakes are one-line errors naming the field', () => {
  const bad = (edit: (l: Corstone300Launch) => void, match: RegExp) =>
    assert.throws(() => parseLaunch(edited(edit), 'x.json'), (e: unknown) => e instanceof HilError && match.test(e.line()) && !e.line().includes('\n'));
  bad((l) => (l.model_partition.base = 0x10), /model_partition does not fit in DDR/);
  bad((l) => (l.image_memory = 'FLASH'), /image_memory names memory "FLASH"/);
  bad((l) => ((l.backends[1] as QemuBackend).memory = 'two gigs'), /launch\.backends\.1\.memory/);
  bad((l) => l.backends.push({ kind: 'jtag' } as never), /launch\.backends/);
  const odd = JSON.parse(JSON.stringify(file)) as BoardFile;
  odd.accelerator.macs_per_cycle = 100;
  assert.throws(() => parseLaunch(odd, 'x.json'), /FVP models an Ethos-U55 with 32, 64, 128, 256 MACs/);
});

function probe(onPath: string[], files: string[] = [], env: NodeJS.ProcessEnv = {}): Probe {
  return { onPath: (n) => (onPath.includes(n) ? `/usr/bin/${n}` : null), exists: (p) => files.includes(p), env };
}

test('backend choice: the first available in the board file\'s order, HIL_BACKEND overrides, none is one line', () => {
  assert.equal(chooseBackend(launch, 'b.json', probe(['qemu-system-arm'])).kind, 'qemu', 'no FVP here: QEMU');
  assert.equal(chooseBackend(launch, 'b.json', probe(['qemu-system-arm', 'FVP_Corstone_SSE-300_Ethos-U55'])).kind, 'fvp', 'the FVP is preferred');
  const mps3Env = { HIL_MPS3_SERIAL: '/dev/ttyUSB1', HIL_MPS3_VOLUME: '/media/V2M-MPS3' };
  const mps3Files = ['/dev/ttyUSB1', '/media/V2M-MPS3/MB/HBI0309C/AN547/images.txt'];
  assert.equal(chooseBackend(launch, 'b.json', probe([], mps3Files, mps3Env)).kind, 'mps3');
  assert.equal(chooseBackend(launch, 'b.json', probe(['qemu-system-arm'], mps3Files, { ...mps3Env, HIL_BACKEND: 'mps3' })).kind, 'mps3');
  assert.throws(() => chooseBackend(launch, 'b.json', probe([], [], { HIL_BACKEND: 'fvp' })), /HIL_BACKEND=fvp cannot run here: FVP_Corstone_SSE-300_Ethos-U55 is not on PATH/);
  assert.throws(() => chooseBackend(launch, 'b.json', probe([], [], { HIL_BACKEND: 'renode' })), /lists backends fvp, qemu, mps3/);
  assert.throws(
    () => chooseBackend(launch, 'b.json', probe([])),
    (e: unknown) =>
      e instanceof HilError &&
      /fvp: FVP_Corstone_SSE-300_Ethos-U55 is not on PATH; qemu: qemu-system-arm is not on PATH; mps3: no UART0 serial device configured/.test(e.message),
  );
});

test('QEMU backend: the command line, with and without a placed model, and the pty line it prints', () => {
  const q = backend('qemu') as QemuBackend;
  const base = ['-M', 'mps3-an547', '-cpu', 'cortex-m55', '-m', '2G', '-icount', 'shift=0,align=off,sleep=on', '-display', 'none', '-monitor', 'none', '-chardev', 'pty,id=uart0', '-serial', 'chardev:uart0', '-kernel', '/fw.elf'];
  assert.deepEqual(qemuCommand(q, { image: '/fw.elf' }), { command: 'qemu-system-arm', args: base });
  assert.deepEqual(qemuCommand(q, { image: '/fw.elf', model: { path: '/m.hilm', address: 0x60000000 } }).args, [
    ...base,
    '-device',
    'loader,file=/m.hilm,addr=0x60000000,force-raw=on',
  ]);
  assert.deepEqual(qemuSemihostingCommand(q, '/t.elf', '/repo').args.slice(-5), ['none', '-semihosting-config', 'enable=on,target=native', '-kernel', '/t.elf']);
  assert.equal(QEMU_PTY_LINE.exec('char device redirected to /dev/pts/7 (label uart0)')?.[1], '/dev/pts/7');
  assert.equal(QEMU_PTY_LINE.exec('char device redirected to /dev/pts/8 (label uart1)'), null, 'only UART0 is the host line');
});

test('FVP backend: the command line (NPU MACs from the accelerator section) and the port line it prints', () => {
  const f = backend('fvp') as FvpBackend;
  const cmd = fvpCommand(f, { image: '/fw.elf', model: { path: '/m.hilm', address: 0x60000000 } }, file.accelerator.macs_per_cycle);
  assert.equal(cmd.command, 'FVP_Corstone_SSE-300_Ethos-U55');
  assert.deepEqual(cmd.args, [
    '-C', 'mps3_board.visualisation.disable-visualisation=1',
    '-C', 'mps3_board.telnetterminal0.start_telnet=0',
    '-C', 'mps3_board.telnetterminal0.mode=raw',
    '-C', 'mps3_board.telnetterminal1.start_telnet=0',
    '-C', 'mps3_board.telnetterminal2.start_telnet=0',
    '-C', 'mps3_board.uart0.unbuffered_output=1',
    '-C', 'mps3_board.uart0.shutdown_on_eot=0',
    '-C', 'ethosu.num_macs=128',
    '-a', 'cpu0=/fw.elf',
    '--data', 'cpu0=/m.hilm@0x60000000',
  ]);
  assert.ok(!fvpCommand(f, { image: '/fw.elf' }, 256).args.includes('--data'));
  assert.ok(fvpCommand(f, { image: '/fw.elf' }, 256).args.includes('ethosu.num_macs=256'));
  assert.equal(FVP_PORT_LINE.exec('telnetterminal0: Listening for serial connection on port 5003')?.[1], '5003');
  assert.equal(FVP_PORT_LINE.exec('telnetterminal1: Listening for serial connection on port 5001'), null);
});

test('MPS3 backend: the files it copies, images.txt (8.3 names, CRLF), the MCC reset, and what it needs', () => {
  const m = backend('mps3') as Mps3Backend;
  const plan = mps3FlashPlan(m, '/media/V2M-MPS3/', '/repo/fw.elf', '/tmp/m.hilm');
  assert.deepEqual(plan.copies, [
    { from: '/repo/fw.elf', to: '/media/V2M-MPS3/SOFTWARE/HILFW.ELF' },
    { from: '/tmp/m.hilm', to: '/media/V2M-MPS3/SOFTWARE/HILMODEL.BIN' },
  ]);
  assert.equal(plan.imagesTxtPath, '/media/V2M-MPS3/MB/HBI0309C/AN547/images.txt');
  const lines = plan.imagesTxt.split('\r\n');
  assert.equal(lines.at(-1), '', 'ends with CRLF');
  assert.ok(!plan.imagesTxt.replace(/\r\n/g, '').includes('\n'), 'no bare LF');
  for (const want of ['[IMAGES]', 'TOTALIMAGES: 2                     ;Number of Images (Max: 32)', 'IMAGE0ADDRESS: 0x00000000', 'IMAGE0FILE: \\SOFTWARE\\HILFW.ELF', 'IMAGE1ADDRESS: 0x60000000', 'IMAGE1FILE: \\SOFTWARE\\HILMODEL.BIN']) {
    assert.ok(lines.includes(want), `images.txt has "${want}"`);
  }
  assert.match(imagesTxt(m, false), /TOTALIMAGES: 1 /);
  assert.ok(!imagesTxt(m, false).includes('HILMODEL'));
  for (const c of plan.copies) assert.match(c.to.split('/').pop()!, /^[A-Z0-9_]{1,8}\.[A-Z0-9]{1,3}$/, 'an 8.3 name the MCC can read');
  assert.equal(mccResetBytes(m).toString('latin1'), '\r\nREBOOT\r\n');
  assert.match(mps3Unavailable(m, () => true, {})!, /no UART0 serial device/);
  assert.match(mps3Unavailable(m, () => true, { HIL_MPS3_SERIAL: '/dev/ttyUSB1' })!, /no MCC volume/);
  assert.match(mps3Unavailable(m, (p) => p === '/dev/ttyUSB1', { HIL_MPS3_SERIAL: '/dev/ttyUSB1', HIL_MPS3_VOLUME: '/v' })!, /\/v\/MB\/HBI0309C\/AN547\/images.txt does not exist/);
  assert.equal(mps3Unavailable(m, () => true, { HIL_MPS3_SERIAL: '/dev/ttyUSB1', HIL_MPS3_VOLUME: '/v' }), null);
});

test('ELF reader: section sizes equal binutils\', and the image figures follow the linker script', { skip: !findOnPath('arm-none-eabi-size') && 'needs arm-none-eabi binutils' }, async () => {
  const image = await makeFirmware(file);
  const sizeA = execFileSync('arm-none-eabi-size', ['-A', image], { encoding: 'utf8' });
  const fromBinutils = new Map([...sizeA.matchAll(/^(\.\S+)\s+(\d+)\s+(\d+)$/gm)].map((m) => [m[1]!, { size: Number(m[2]), addr: Number(m[3]) }]));
  const ours = readElfSections(image).filter((s) => fromBinutils.has(s.name));
  assert.ok(ours.length >= 6);
  for (const s of ours) assert.deepEqual({ size: s.size, addr: s.addr }, fromBinutils.get(s.name), s.name);
  const itcm = launch.memories.find((m) => m.name === 'ITCM')!;
  const mem = imageMemory(image, itcm);
  const sz = (n: string) => fromBinutils.get(n)?.size ?? 0;
  assert.equal(mem.staticSramBytes, sz('.data') + sz('.bss'));
  assert.equal(mem.stackSizeBytes, launch.stack_bytes);
  assert.equal(mem.arenaCapacityBytes, launch.arena_bytes);
  // The image runs from the vector table to the end of the .data load image, with at most alignment padding.
  const loaded = sz('.vectors') + sz('.text') + sz('.ARM.exidx') + sz('.data');
  assert.ok(mem.imageFlashBytes >= loaded && mem.imageFlashBytes < loaded + 16, `${mem.imageFlashBytes} vs ${loaded}`);
  assert.throws(() => imageMemory(join(REPO_ROOT, 'package.json'), itcm), /is not an ELF file/);
});

test('emulator process: the ready line, a death before it, a death after it, and stop()', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hil-emu-'));
  try {
    const ready = new EmulatorProcess('fake QEMU');
    const m = await ready.start({ command: 'sh', args: ['-c', 'echo booting; echo "char device redirected to /dev/pts/42 (label uart0)" >&2; exec sleep 30'] }, QEMU_PTY_LINE, 5000);
    assert.equal(m[1], '/dev/pts/42');
    assert.ok(ready.running);
    let unexpected: HilError | null = null;
    ready.onUnexpectedExit = (e) => (unexpected = e);
    await ready.stop();
    assert.ok(!ready.running);
    assert.equal(unexpected, null, 'stop() is not an unexpected exit');

    const early = new EmulatorProcess('fake QEMU');
    await assert.rejects(early.start({ command: 'sh', args: ['-c', 'echo "cannot open kernel fw.elf" >&2; exit 1'] }, QEMU_PTY_LINE, 5000), /fake QEMU exited with code 1 \(cannot open kernel fw.elf\)/);

    const silent = new EmulatorProcess('fake FVP');
    await assert.rejects(silent.start({ command: 'sleep', args: ['30'] }, FVP_PORT_LINE, 300), /fake FVP did not say where its UART is within 300 ms/);
    await silent.stop();

    const dies = new EmulatorProcess('fake QEMU');
    await dies.start({ command: 'sh', args: ['-c', 'echo "char device redirected to /dev/pts/1 (label uart0)"; sleep 0.2; echo "guest crashed" >&2; exit 3'] }, QEMU_PTY_LINE, 5000);
    const why = await new Promise<HilError>((resolve) => (dies.onUnexpectedExit = resolve));
    assert.match(why.line(), /fake QEMU exited with code 3 \(.*guest crashed\)/);
    assert.match((await dies.exitReport(0))!.message, /exited with code 3/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
