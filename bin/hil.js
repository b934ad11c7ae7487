#!/usr/bin/env node
// The `hil` command. Runs the compiled CLI (npm run build); during development `npx tsx src/cli/main.ts`
// does the same from the sources.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error('hil: not built yet (run `npm run setup` or `npm run build` in the hil checkout)');
  process.exit(2);
}
await import(main);
