/** What `--corpus` names: a size `hil data build` makes (built on first use, seed 1); anything else is a directory. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { HilError } from '../util/errors.js';
import { ensureCorpus } from './build.js';
import { SIZE_NAMES, type SizeName } from './manifest.js';

export async function resolveCorpusDir(spec: string): Promise<string> {
  if ((SIZE_NAMES as readonly string[]).includes(spec)) return (await ensureCorpus({ size: spec as SizeName, seed: 1 })).dir;
  if (!existsSync(spec)) throw new HilError(`corpus directory ${spec} does not exist`, `pass --corpus ${SIZE_NAMES.join(', ')} or a directory made by \`hil data build\``);
  return resolve(spec);
}
