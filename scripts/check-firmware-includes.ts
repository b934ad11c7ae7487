/**
 * The firmware's portable core never includes a port: every `#include "…"` in firmware/core names a header
 * that is itself in firmware/core. (A port includes core headers; the other way round would tie the core
 * to one board.) Part of `npm run check`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../src/util/paths.js';

const CORE = repoPath('firmware', 'core');

export function coreIncludeViolations(core = CORE): string[] {
  const bad: string[] = [];
  for (const file of readdirSync(core).filter((f) => /\.[ch]$/.test(f)).sort()) {
    readFileSync(join(core, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = /^\s*#\s*include\s+"([^"]+)"/.exec(line);
        if (m && (m[1]!.includes('/') || !existsSync(join(core, m[1]!)))) bad.push(`firmware/core/${file}:${i + 1} includes "${m[1]}", which is not a core header`);
      });
  }
  return bad;
}

if (process.argv[1]?.endsWith('check-firmware-includes.ts')) {
  const bad = coreIncludeViolations();
  for (const b of bad) console.error(b);
  if (bad.length) process.exit(1);
  console.log('firmware: the core includes only core headers');
}
