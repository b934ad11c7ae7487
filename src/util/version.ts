import { readFileSync } from 'node:fs';

/** hil's own version, from package.json (one source of truth). */
export const HIL_VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** Versions that go into every result row's provenance. */
export function toolVersions(): Record<string, string> {
  return { hil: HIL_VERSION, node: process.version };
}
