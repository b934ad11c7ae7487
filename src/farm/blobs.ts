/**
 * Content-addressed blobs: what a job needs that is not in its message (the compressed model and its
 * manifest, the clips) and what a worker sends back on request (enhanced audio), each named by its
 * SHA-256. They travel through Redis (`hil:blob:<sha>`), or through a directory every host mounts
 * (`--artifacts`, as <dir>/<sha[0..1]>/<sha>). Whoever reads a blob checks its hash: a worker fails a job
 * whose blob does not match the hash the job announced, for good (src/farm/worker.ts).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { HilError } from '../util/errors.js';
import { sha256, writeFileAtomic } from '../util/fsx.js';

export const BLOB_KEY_PREFIX = 'hil:blob:';

export interface BlobStore {
  /** Where blobs live, for messages: "redis" or the directory. */
  readonly where: string;
  /**
   * Stores `data` and returns its SHA-256. A blob already stored under that name is kept when its bytes
   * match and replaced when they do not, so that uploading again repairs an altered blob.
   */
  put(data: Uint8Array): Promise<string>;
  /** The blob's bytes, or null when the store does not hold it. Not checked: see `getVerified`. */
  get(sha: string): Promise<Uint8Array | null>;
}

/** A blob whose bytes do not hash to the name it was asked by. */
export class BlobHashError extends HilError {
  constructor(
    readonly what: string,
    readonly announced: string,
    readonly actual: string,
  ) {
    super(`${what}: blob ${announced.slice(0, 12)}… hashes to ${actual.slice(0, 12)}…, not the hash the job announced`, 'the blob was altered in the store or in transit; rerunning the sweep uploads it again');
  }
}

const SHA = /^[0-9a-f]{64}$/;

function checkName(sha: string): void {
  if (!SHA.test(sha)) throw new HilError(`"${sha}" is not a SHA-256 blob name`);
}

/** The blob `sha`, checked against its name; a missing blob and a mismatch are errors naming `what`. */
export async function getVerified(store: BlobStore, sha: string, what: string): Promise<Uint8Array> {
  checkName(sha);
  const data = await store.get(sha);
  if (data === null) throw new HilError(`${what}: blob ${sha.slice(0, 12)}… is not in ${store.where}`, 'the coordinator uploads blobs before it enqueues; with --artifacts, every host must mount the same directory');
  const actual = sha256(data);
  if (actual !== sha) throw new BlobHashError(what, sha, actual);
  return data;
}

export function redisBlobs(client: Redis): BlobStore {
  return {
    where: 'redis',
    async put(data) {
      const sha = sha256(data);
      const stored = await client.getBuffer(BLOB_KEY_PREFIX + sha);
      if (stored === null || sha256(stored) !== sha) await client.set(BLOB_KEY_PREFIX + sha, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return sha;
    },
    async get(sha) {
      checkName(sha);
      const b = await client.getBuffer(BLOB_KEY_PREFIX + sha);
      return b === null ? null : new Uint8Array(b);
    },
  };
}

export function dirBlobs(dir: string): BlobStore {
  const path = (sha: string) => join(dir, sha.slice(0, 2), sha);
  return {
    where: dir,
    async put(data) {
      const sha = sha256(data);
      const p = path(sha);
      if (!existsSync(p) || sha256(readFileSync(p)) !== sha) {
        mkdirSync(join(dir, sha.slice(0, 2)), { recursive: true });
        writeFileAtomic(p, data);
      }
      return sha;
    },
    async get(sha) {
      checkName(sha);
      const p = path(sha);
      return existsSync(p) ? new Uint8Array(readFileSync(p)) : null;
    },
  };
}
