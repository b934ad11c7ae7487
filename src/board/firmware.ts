/**
 * Firmware images: building a board's port with make, and the manifest (firmware-images/manifest.json)
 * that records what was built (image hash, toolchain, flags, build id) next to a copy of each image in
 * firmware-images/<board>/. The image hash goes into result provenance.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { withLock } from '../data/lock.js';
import { HilError } from '../util/errors.js';
import { readJson, sha256File, writeJsonAtomic } from '../util/fsx.js';
import { repoPath } from '../util/paths.js';
import type { BoardFile } from './schema.js';

const run = promisify(execFile);

export const FIRMWARE_DIR = repoPath('firmware');
export const IMAGES_DIR = repoPath('firmware-images');
export const MANIFEST_PATH = join(IMAGES_DIR, 'manifest.json');

export interface FirmwareImage {
  board: string;
  port: string;
  make_target: string;
  /** The copy in firmware-images/, relative to the repository root. */
  image: string;
  sha256: string;
  bytes: number;
  build_id: string;
  /** First line of `<compiler> --version`. */
  toolchain: string;
  compiler: string;
  flags: string[];
  built_at: string;
}

export interface FirmwareManifest {
  _comment: string;
  images: Record<string, FirmwareImage>;
}

export function makeTarget(file: BoardFile): string {
  return file.firmware.make_target ?? file.firmware.port;
}

export function imagePath(file: BoardFile): string {
  return repoPath(file.firmware.image);
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}

/**
 * Builds (or leaves alone, when up to date) the board's firmware and returns the image path. Builds are
 * serialised with flock: several tests or engineers may ask at once, and two compilers writing one
 * output file would leave a broken image.
 */
export async function makeFirmware(file: BoardFile): Promise<string> {
  mkdirSync(join(FIRMWARE_DIR, 'build'), { recursive: true });
  const target = makeTarget(file);
  try {
    await run('flock', [join(FIRMWARE_DIR, 'build', '.make.lock'), 'make', '-s', '-C', FIRMWARE_DIR, target], { maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; code?: string | number; message: string };
    if (err.code === 'ENOENT') throw new HilError('cannot build firmware: flock or make is missing', 'run `hil doctor`');
    throw new HilError(
      `firmware build for board ${file.name} failed: ${lastLine(err.stderr ?? '') || err.message}`,
      `run \`make -C firmware ${target}\` to see the whole output`,
    );
  }
  const image = imagePath(file);
  if (!existsSync(image)) {
    throw new HilError(`make -C firmware ${target} did not produce ${file.firmware.image}`, `fix firmware.image in boards/${file.name}.json`);
  }
  return image;
}

/** What firmware/Makefile writes next to each image it builds (build-info.json). */
export interface BuildInfo {
  port: string;
  make_target: string;
  /** The image, relative to firmware/ (or absolute when make ran with an absolute BUILD). */
  image: string;
  /** The id compiled into the image and sent in its banner and HELLO: a hash of the sources and configuration. */
  build_id: string;
  /** The compiler as make invoked it, and where the shell found it. */
  compiler: string;
  compiler_path: string;
  /** First line of `<compiler> --version`. */
  compiler_version: string;
  /** Every flag given to the compiler, compile and link, in order. */
  flags: string[];
}

export function buildInfoPath(file: BoardFile): string {
  return join(dirname(imagePath(file)), 'build-info.json');
}

/** The build info make wrote with the board's image; refuses one that describes another target or image. */
export function readBuildInfo(file: BoardFile): BuildInfo {
  const path = buildInfoPath(file);
  const hint = `run \`make -C firmware ${makeTarget(file)}\``;
  if (!existsSync(path)) throw new HilError(`make -C firmware ${makeTarget(file)} wrote no ${path}`, hint);
  const info = readJson<BuildInfo>(path);
  if (info.make_target !== makeTarget(file) || resolve(FIRMWARE_DIR, info.image) !== imagePath(file)) {
    throw new HilError(`${path} describes make target ${info.make_target} and image ${info.image}, not board ${file.name}'s ${file.firmware.image}`, hint);
  }
  return info;
}

export function readManifest(path = MANIFEST_PATH): FirmwareManifest {
  if (!existsSync(path)) return { _comment: MANIFEST_COMMENT, images: {} };
  return readJson<FirmwareManifest>(path);
}

const MANIFEST_COMMENT = 'Written by `hil firmware build`: one entry per board, the image copied next to it in firmware-images/<board>/.';

/**
 * Every build records its image here, and two builds (of different boards, in different processes) may
 * finish at once: without the lock file the second would write back the manifest it read before the
 * first wrote, losing the first's entry. The lock file refuses a second holder in the same process, so
 * updates from this process also wait their turn in a queue.
 */
let manifestQueue: Promise<unknown> = Promise.resolve();

export function updateManifest(update: (manifest: FirmwareManifest) => void, path = MANIFEST_PATH): Promise<FirmwareManifest> {
  const done = manifestQueue.then(() =>
    withLock(`${path}.lock`, () => {}, async () => {
      const manifest = readManifest(path);
      update(manifest);
      writeJsonAtomic(path, manifest);
      return manifest;
    }),
  );
  manifestQueue = done.catch(() => {});
  return done;
}

/** Builds the board's firmware, copies the image to firmware-images/<board>/ and records it. */
export async function buildFirmwareImage(file: BoardFile): Promise<FirmwareImage> {
  const built = await makeFirmware(file);
  const info = readBuildInfo(file);
  const dir = join(IMAGES_DIR, file.name);
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, basename(built));
  copyFileSync(built, copy);
  const entry: FirmwareImage = {
    board: file.name,
    port: file.firmware.port,
    make_target: makeTarget(file),
    image: `firmware-images/${file.name}/${basename(built)}`,
    sha256: sha256File(copy),
    bytes: statSync(copy).size,
    build_id: info.build_id,
    toolchain: info.compiler_version || `${info.compiler} (version unknown)`,
    compiler: info.compiler_path || info.compiler,
    flags: info.flags,
    built_at: new Date().toISOString(),
  };
  await updateManifest((m) => {
    m.images[file.name] = entry;
  });
  return entry;
}
