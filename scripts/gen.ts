/**
 * One source of truth for what C and TypeScript share. Writes, from docs/spec/*.json and
 * test/vectors/dsp-tables.json:
 *   firmware/core/hil_protocol.h, firmware/core/hil_model_format.h, firmware/core/tables.{c,h}
 *   src/spec/protocol.ts, src/spec/modelFormat.ts, src/engine/tables.ts
 *   the tables between `<!-- gen:NAME -->` and `<!-- /gen:NAME -->` in docs/protocol.md and docs/model-format.md
 *
 *   npm run gen               regenerate
 *   npm run gen -- --check    exit 1, naming the stale files, when anything generated is out of date (CI)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../src/util/paths.js';
import { generatedFiles as dspTableFiles } from './dsp-tables.js';
import * as mf from './gen/modelFormat.js';
import * as proto from './gen/protocol.js';


/** Replaces each marked region of a doc with its generated text; a missing marker is an error. */
export function fillMarkers(doc: string, path: string, blocks: Record<string, string>): string {
  let out = doc;
  for (const [name, body] of Object.entries(blocks)) {
    const re = new RegExp(`(<!-- gen:${name} -->\\n)[\\s\\S]*?(\\n<!-- /gen:${name} -->)`);
    if (!re.test(out)) throw new Error(`${path}: no <!-- gen:${name} --> … <!-- /gen:${name} --> region`);
    out = out.replace(re, (_m, a: string, b: string) => a + body + b);
  }
  return out;
}

/** Every generated file by absolute path, from the specs under `root` (a copy of the tree, in tests). */
export function generatedFiles(root = repoRoot()): Record<string, string> {
  const at = (p: string) => `${root}/${p}`;
  const readSpec = <T>(p: string): T => JSON.parse(readFileSync(at(p), 'utf8')) as T;
  const p = readSpec<proto.ProtocolSpec>('docs/spec/protocol.json');
  const m = readSpec<mf.ModelFormatSpec>('docs/spec/model-format.json');
  const docs = (path: string, blocks: Record<string, string>) => fillMarkers(readFileSync(at(path), 'utf8'), path, blocks);
  const files: Record<string, string> = {
    [at('firmware/core/hil_protocol.h')]: proto.renderC(p),
    [at('src/spec/protocol.ts')]: proto.renderTs(p),
    [at('firmware/core/hil_model_format.h')]: mf.renderC(m),
    [at('src/spec/modelFormat.ts')]: mf.renderTs(m),
    [at('docs/protocol.md')]: docs('docs/protocol.md', {
      messages: proto.renderDocMessages(p),
      'hello-reply': proto.renderDocHelloReply(p),
      'latency-kinds': proto.renderDocLatencyKinds(p),
      errors: proto.renderDocErrors(p),
      'preloaded-frame': proto.renderDocPreloadedFrame(p),
    }),
    [at('docs/model-format.md')]: docs('docs/model-format.md', { layout: mf.renderDocLayout(m) }),
  };
  Object.assign(files, dspTableFiles(root));
  return files;
}

/** Generated files under `root` that differ from what the specs give, relative to `root`. */
export function staleFiles(root = repoRoot()): string[] {
  return Object.entries(generatedFiles(root))
    .filter(([path, text]) => !existsSync(path) || readFileSync(path, 'utf8') !== text)
    .map(([path]) => relative(root, path));
}

function main(): void {
  const root = repoRoot();
  const check = process.argv.includes('--check');
  const stale = staleFiles(root);
  if (!check) {
    const files = generatedFiles(root);
    for (const rel of stale) {
      writeFileSync(`${root}/${rel}`, files[`${root}/${rel}`]!);
      console.log(`gen: wrote ${rel}`);
    }
    return;
  }
  if (stale.length) {
    console.error(`gen: out of date with docs/spec (run \`npm run gen\` and commit): ${stale.join(', ')}`);
    process.exit(1);
  }
  console.log('gen: every generated file is up to date');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
