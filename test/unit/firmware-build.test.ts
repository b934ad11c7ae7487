/**
 * Firmware builds: the build-info.json make writes next to each image (its build id must change with the
 * sources and with the flags, and be the id the image announces), and the images manifest, which builds
 * running at once in several processes must all be able to record themselves in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFirmwareImage, FIRMWARE_DIR, readBuildInfo, readManifest, updateManifest, type BuildInfo, type FirmwareImage } from '../../src/board/firmware.js';
import { findOnPath } from '../../src/board/emulator.js';
import { loadBoard, readBoardFile, resolveBoardPath } from '../../src/board/registry.js';

test('build-info.json: written with the image; its build id is compiled in and follows the sources and the flags', { timeout: 120_000 }, () => {
  // A copy of firmware/, so that a source can be edited and other tests' images are left alone.
  const dir = mkdtempSync(join(tmpdir(), 'hil-fw-build-'));
  try {
    cpSync(FIRMWARE_DIR, dir, { recursive: true, filter: (src) => src !== join(FIRMWARE_DIR, 'build') });
    const build = (...vars: string[]): BuildInfo => {
      execFileSync('make', ['-s', '-C', dir, 'sim', ...vars], { stdio: ['ignore', 'ignore', 'pipe'] });
      const info = JSON.parse(readFileSync(join(dir, 'build', 'sim', 'build-info.json'), 'utf8')) as BuildInfo;
      const image = readFileSync(join(dir, info.image));
      assert.ok(image.includes(Buffer.from(`${info.build_id}\0`)), `the image carries build id ${info.build_id}`);
      return info;
    };
    const first = build();
    assert.match(first.build_id, /^[0-9a-f]{16}$/);
    assert.deepEqual(
      { port: first.port, make_target: first.make_target, image: first.image, compiler: first.compiler },
      { port: 'host', make_target: 'sim', image: 'build/sim/hil-sim', compiler: 'cc' },
    );
    assert.equal(first.compiler_version, execFileSync('cc', ['--version'], { encoding: 'utf8' }).split('\n')[0]);
    assert.equal(first.compiler_path, findOnPath('cc'));
    for (const flag of ['-O2', '-DHIL_RX_CREDIT_BYTES=4096', '-Iports/host', '-pthread']) assert.ok(first.flags.includes(flag), flag);

    const flagged = build('EXTRA_CFLAGS=-DHIL_TEST_ONLY_FLAG=1');
    assert.ok(flagged.flags.includes('-DHIL_TEST_ONLY_FLAG=1'));
    assert.notEqual(flagged.build_id, first.build_id, 'a new flag, a new build id');
    assert.equal(build().build_id, first.build_id, 'the same sources and flags again, the same build id');

    appendFileSync(join(dir, 'core', 'cobs.h'), '\n/* an edit */\n');
    assert.notEqual(build().build_id, first.build_id, 'an edited source, a new build id');
    assert.deepEqual(readdirSync(join(dir, 'build', 'sim')).sort(), ['build-info.json', 'hil-sim'], 'no temporary file left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('buildFirmwareImage records the build id the sim announces, and builds of two boards at once both land in the manifest', { timeout: 300_000 }, async (t) => {
  const sim = readBoardFile(resolveBoardPath('sim'));
  const m55 = readBoardFile(resolveBoardPath('corstone-300'));
  const boards = findOnPath('arm-none-eabi-gcc') ? [sim, m55] : [sim];
  if (boards.length === 1) t.diagnostic('no arm-none-eabi-gcc: the sim board alone');
  const built = await Promise.all(boards.map((b) => buildFirmwareImage(b)));
  const manifest = readManifest();
  for (const [i, entry] of built.entries()) {
    assert.equal(entry.build_id, readBuildInfo(boards[i]!).build_id);
    assert.deepEqual(manifest.images[boards[i]!.name], entry);
  }
  const board = await loadBoard('sim');
  try {
    const session = await board.open();
    assert.equal(session.banner.fields.build, built[0]!.build_id);
    assert.equal((await session.hello()).buildId, built[0]!.build_id);
  } finally {
    await board.close();
  }
});

test('manifest updates from several processes at once are all kept', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hil-manifest-'));
  try {
    const path = join(dir, 'manifest.json');
    const count = 4;
    const writer = join(import.meta.dirname, 'support', 'manifest-writer.ts');
    const children = ['a', 'b'].map((w) => spawn(process.execPath, ['--import', 'tsx', writer, path, w, String(count)], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const exits = children.map((c) => once(c, 'exit'));
    await Promise.all(children.map((c) => once(c.stdout!, 'data')));
    for (const c of children) c.stdin!.end('go\n');
    // A third writer in this process, two updates at once: they queue rather than trip over the lock file.
    await Promise.all(
      ['c-0', 'c-1'].map((name) =>
        updateManifest((m) => {
          m.images[name] = { board: 'c' } as FirmwareImage;
        }, path),
      ),
    );
    for (const [code] of await Promise.all(exits)) assert.equal(code, 0);
    const want = ['a', 'b'].flatMap((w) => Array.from({ length: count }, (_, i) => `${w}-${i}`)).concat('c-0', 'c-1');
    assert.deepEqual(Object.keys(readManifest(path).images).sort(), want.sort());
    assert.ok(!existsSync(`${path}.lock`), 'the lock is released');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
