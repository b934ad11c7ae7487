import { readFileSync } from 'node:fs';
import { repoPath } from './paths.js';

/** hil's own version, from package.json (one source of truth). */
export const HIL_VERSION: string = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')).version;

/** Versions that go into every result row's provenance. */
export function toolVersions(): Record<string, string> {
  return { hil: HIL_VERSION, node: process.version };
}
