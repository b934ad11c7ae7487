/**
 * The boards hil knows: boards/*.json, each validated against src/board/schema.ts, and the launchers
 * that turn a board file into a Board. A backend registers its launcher under its `launch.kind`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { HilError } from '../util/errors.js';
import { repoPath } from '../util/paths.js';
import type { Board, Launcher, LaunchOptions } from './board.js';
import { validateBoardFile, type BoardFile } from './schema.js';

export const BOARDS_DIR = repoPath('boards');

/** Launchers by `launch.kind`, loaded on first use so a board's dependencies load only when it is used. */
const LAUNCHERS = new Map<string, () => Promise<Launcher>>([
  ['sim', async () => (await import('./sim.js')).createSimBoard],
  ['corstone-300', async () => (await import('./corstone300.js')).createCorstone300Board],
  ['qemu-mcu', async () => (await import('./qemumcu.js')).createQemuMcuBoard],
  ['serial', async () => (await import('./serial.js')).createSerialBoard],
]);

/** What `hil board list` says about a board's backend on this machine. */
export interface BackendReport {
  /** What would run the firmware here: 'process' (the sim), 'qemu', 'fvp', 'mps3', 'serial'. */
  backend: string;
  available: boolean;
  /** Why not, or where (a port, an executable). */
  detail: string;
}
type Describer = (file: BoardFile, path: string) => BackendReport | Promise<BackendReport>;

/** Backend reports by `launch.kind`; a kind without one is reported by its name, unchecked. */
const DESCRIBERS = new Map<string, () => Promise<Describer>>([
  ['sim', async () => () => ({ backend: 'process', available: true, detail: 'firmware/ports/host on a pty' })],
  ['corstone-300', async () => (await import('./corstone300.js')).describeCorstone300],
  ['qemu-mcu', async () => (await import('./qemumcu.js')).describeQemuMcu],
  ['serial', async () => (await import('./serial.js')).describeSerial],
]);

/** Which backend a board would use here, and whether it can: never starts, opens or locks anything. */
export async function describeBackend(file: BoardFile, path: string): Promise<BackendReport> {
  const load = DESCRIBERS.get(file.launch.kind);
  if (!load) return { backend: file.launch.kind, available: true, detail: 'not checked' };
  try {
    return await (await load())(file, path);
  } catch (e) {
    return { backend: file.launch.kind, available: false, detail: e instanceof HilError ? e.message : String(e) };
  }
}

export function launcherKinds(): string[] {
  return [...LAUNCHERS.keys()].sort();
}

/** Reads and validates one board file. */
export function readBoardFile(path: string): BoardFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HilError(`cannot read board file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HilError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  return validateBoardFile(json, path);
}

export interface BoardListing {
  name: string;
  path: string;
  file?: BoardFile;
  /** Why the file is unusable, if it is. */
  error?: string;
}

/** Every board file in boards/, valid or not (an invalid one carries its one-line error). */
export function listBoards(dir = BOARDS_DIR): BoardListing[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return names.map((n) => {
    const path = join(dir, n);
    try {
      const file = readBoardFile(path);
      if (file.name !== basename(n, '.json')) throw new HilError(`${path}: name "${file.name}" differs from the file name`);
      if (!LAUNCHERS.has(file.launch.kind)) throw unknownKind(path, file.launch.kind);
      return { name: file.name, path, file };
    } catch (e) {
      return { name: basename(n, '.json'), path, error: e instanceof HilError ? e.line() : String(e) };
    }
  });
}

function unknownKind(path: string, kind: string): HilError {
  return new HilError(`${path}: launch.kind "${kind}" has no launcher (known: ${launcherKinds().join(', ')})`, 'register one in src/board/registry.ts');
}

/** A board name resolves in boards/; anything with a slash or a .json ending is a path. */
export function resolveBoardPath(nameOrPath: string, dir = BOARDS_DIR): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.json')) return resolve(nameOrPath);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(nameOrPath)) throw new HilError(`"${nameOrPath}" is not a board name`, 'see `hil board list`');
  const path = join(dir, `${nameOrPath}.json`);
  const known = listBoards(dir).map((b) => b.name);
  if (!known.includes(nameOrPath)) {
    throw new HilError(`no board named "${nameOrPath}" in ${dir}`, `known boards: ${known.join(', ') || 'none'}; or give a path to a board file`);
  }
  return path;
}

export async function loadBoard(nameOrPath: string, opts: LaunchOptions = {}): Promise<Board> {
  const path = resolveBoardPath(nameOrPath);
  const file = readBoardFile(path);
  if (opts.port && file.launch.kind !== 'serial' && file.launch.kind !== 'corstone-300') {
    throw new HilError(`--port ${opts.port}: board ${file.name} is launch.kind ${file.launch.kind}, not serial`, 'leave --port out, or pick a serial board');
  }
  const load = LAUNCHERS.get(file.launch.kind);
  if (!load) throw unknownKind(path, file.launch.kind);
  return (await load())(file, path, opts);
}
