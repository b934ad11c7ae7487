/** What `--corpus` names: `small`/`paper` are corpora `hil data build` makes (built on first use); anything else is a directory. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { HilError } from '../util/errors.js';
import { ensureCorpus } from './build.js';

export async function resolveCorpusDir(spec: string): Promise<string> {
  if (spec === 'small' || spec === 'paper') return (await ensureCorpus({ size: spec, seed: 1 })).dir;
  if (!existsSync(spec)) throw new HilError(`corpus directory ${spec} does not exist`, 'pass --corpus small, paper or a directory made by `hil data build`');
  return resolve(spec);
}
