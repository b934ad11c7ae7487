/**
 * Where the hil checkout is. Every module that needs a path inside the repository (boards/, profiles/,
 * firmware/, scripts/deps.json, package.json) asks here, whether it runs from src/ under tsx or from the
 * compiled dist/: both are two levels below the root.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

export function repoRoot(): string {
  return ROOT;
}

/** A path inside the repository. */
export function repoPath(...parts: string[]): string {
  return join(ROOT, ...parts);
}
