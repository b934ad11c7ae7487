/**
 * Turns what a user passes as --model into the blob a board runs: a blob file, a model directory (from
 * `hil model init`, `hil train` or `hil compress`), or a float model to export. With no --model, the
 * pretrained baseline shipped in models/ is used.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadFloatModel } from '../model/floatModel.js';
import { HilError } from '../util/errors.js';
import { checkFormatVersion, validate } from '../util/schema.js';
import { COMPRESS_FORMAT, validateCompressManifest } from '../compress/manifestSchema.js';
import { sha256 } from '../util/fsx.js';
import { repoPath } from '../util/paths.js';
import { writeBlob } from '../export/blob.js';
import { MODEL_MANIFEST_FORMAT, MODEL_MANIFEST_VERSION, ModelManifestSchema } from '../export/exportModel.js';
import { lowerToQuantGraph } from '../export/lower.js';

export interface ResolvedModel {
  blob: Uint8Array;
  /** A short name for tables: the model directory's or file's name. */
  name: string;
  sha256: string;
  /** Where the blob came from, for provenance. */
  source: string;
  /** The compression profile recorded in the model's manifest, or "dense-int8" / "none". */
  profile: string;
  seed: number | null;
}

export const DEFAULT_MODEL_DIR = repoPath('models', 'se-small');

/** What resolving reads from either manifest a model directory may hold. */
interface ManifestFacts {
  profile?: string;
  seed?: number;
}


function readManifest(dir: string): ManifestFacts | null {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HilError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (format === COMPRESS_FORMAT) return validateCompressManifest(json, path);
  if (format !== MODEL_MANIFEST_FORMAT) {
    throw new HilError(`${path} is not a hil model manifest (its format is ${JSON.stringify(format) ?? 'missing'})`, 'point --model at a directory made by hil model init, hil train or hil compress');
  }
  checkFormatVersion(json, path, MODEL_MANIFEST_FORMAT, MODEL_MANIFEST_VERSION, `remake the model with \`hil model init\``);
  return validate(ModelManifestSchema, json, path, 'remake the model with `hil model init`');
}

function fromBlobFile(path: string, name: string, manifest: ManifestFacts | null): ResolvedModel {
  const blob = new Uint8Array(readFileSync(path));
  // A hil model manifest without a profile is an uncompressed model; a bare blob says nothing.
  const profile = manifest ? (manifest.profile ?? 'dense-int8') : 'unknown';
  return { blob, name, sha256: sha256(blob), source: path, profile, seed: manifest?.seed ?? null };
}

/** Exports a float model to an int8 blob: each FC stored in whichever encoding is smallest. */
function fromFloatModel(path: string, name: string, manifest: ManifestFacts | null): ResolvedModel {
  const model = loadFloatModel(path);
  const blob = writeBlob(lowerToQuantGraph(model), { encoding: { kind: 'auto' } });
  return {
    blob,
    name,
    sha256: sha256(blob),
    source: `${path} (exported to int8)`,
    profile: manifest?.profile ?? String(model.provenance?.profile ?? 'dense-int8'),
    seed: manifest?.seed ?? model.seed,
  };
}

export function resolveModel(spec: string | undefined): ResolvedModel {
  const path = resolve(spec ?? DEFAULT_MODEL_DIR);
  if (!existsSync(path)) {
    if (spec === undefined) throw new HilError(`the pretrained model ${path} is missing`, 'pass --model, or make one with `hil model init`');
    throw new HilError(`--model ${spec}: no such file or directory`, 'pass a .hilm blob, a model.json or a model directory');
  }
  if (statSync(path).isDirectory()) {
    const manifest = readManifest(path);
    const name = basename(path);
    if (existsSync(join(path, 'model.hilm'))) return fromBlobFile(join(path, 'model.hilm'), name, manifest);
    if (existsSync(join(path, 'model.json'))) return fromFloatModel(join(path, 'model.json'), name, manifest);
    throw new HilError(`--model ${path}: the directory has neither model.hilm nor model.json`, 'point --model at a model directory made by hil');
  }
  const manifest = readManifest(dirname(path));
  if (path.endsWith('.json')) return fromFloatModel(path, basename(dirname(path)), manifest);
  return fromBlobFile(path, basename(path).replace(/\.hilm$/, ''), manifest);
}
