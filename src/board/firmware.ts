/**
 * Firmware images: building a board's port with make, and the manifest (firmware-images/manifest.json)
 * that records what was built (image hash, toolchain, flags, build id) next to a copy of each image in
 * firmware-images/<board>/. The image hash goes into result provenance.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
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

/** The compile command make runs for the target, without running it: compiler, flags and build id. */
async function compileCommand(file: BoardFile): Promise<{ compiler: string; flags: string[]; buildId: string }> {
  const { stdout } = await run('make', ['-s', '-n', '-B', '-C', FIRMWARE_DIR, makeTarget(file)], { maxBuffer: 16 << 20 });
  const line = stdout.split('\n').find((l) => l.includes('-DHIL_BUILD_ID='));
  if (!line) throw new HilError(`cannot find the compile command of make target ${makeTarget(file)}`);
  const words = line.trim().split(/\s+/);
  const flags: string[] = [];
  for (let i = 1; i < words.length; i++) {
    if (words[i] === '-o') i++;
    else if (words[i]!.startsWith('-') && !words[i]!.startsWith('-DHIL_BUILD_ID=')) flags.push(words[i]!);
  }
  const buildId = /-DHIL_BUILD_ID='"([^"]*)"'/.exec(line)?.[1] ?? '';
  return { compiler: words[0]!, flags, buildId };
}

async function toolchainVersion(compiler: string): Promise<string> {
  try {
    const { stdout } = await run(compiler, ['--version']);
    return stdout.split('\n')[0]!.trim();
  } catch {
    return `${compiler} (version unknown)`;
  }
}

export function readManifest(): FirmwareManifest {
  if (!existsSync(MANIFEST_PATH)) return { _comment: MANIFEST_COMMENT, images: {} };
  return readJson<FirmwareManifest>(MANIFEST_PATH);
}

const MANIFEST_COMMENT = 'Written by `hil firmware build`: one entry per board, the image copied next to it in firmware-images/<board>/.';

/** Builds the board's firmware, copies the image to firmware-images/<board>/ and records it. */
export async function buildFirmwareImage(file: BoardFile): Promise<FirmwareImage> {
  const built = await makeFirmware(file);
  const cmd = await compileCommand(file);
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
    build_id: cmd.buildId,
    toolchain: await toolchainVersion(cmd.compiler),
    compiler: cmd.compiler,
    flags: cmd.flags,
    built_at: new Date().toISOString(),
  };
  const manifest = readManifest();
  manifest.images[file.name] = entry;
  writeJsonAtomic(MANIFEST_PATH, manifest);
  return entry;
}

/**
 * What a result row records about the firmware that produced it: the image actually run (hashed now)
 * and, when it matches the manifest's entry, that entry's toolchain and build id.
 */
export function firmwareProvenance(file: BoardFile): { board: string; image_sha256: string; build_id?: string; toolchain?: string } {
  const image = imagePath(file);
  const sha = sha256File(image);
  const entry = readManifest().images[file.name];
  if (entry && entry.sha256 === sha) return { board: file.name, image_sha256: sha, build_id: entry.build_id, toolchain: entry.toolchain };
  return { board: file.name, image_sha256: sha };
}
