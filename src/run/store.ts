/**
 * A crash-consistent store of keyed rows in an output directory, for anything that measures item after
 * item and must resume (`hil run`'s clips, and a sweep's runs):
 *
 * - ONE source of truth, `<dir>/<file>` (JSON Lines): a header line (format, version, and the meta the
 *   rows were measured with), then one complete `{"key", "row"}` per line, only ever appended. A kill can
 *   cut only the last line; a tail without its newline is dropped on open (that item is measured again).
 *   A key is stored once: a rerun skips what `has()` and never appends it a second time.
 * - Derived files (CSV, JSON summaries) are computed from all rows and replaced atomically (temp file +
 *   rename), so a reader sees an old or a new version, never a half; after a crash they are rewritten
 *   from the rows on the next open.
 * - The directory is locked (src/util/lock.ts) while the store is open.
 *
 * Derived files are not rewritten after every row, which would cost O(n) per row and O(n²) per run, but
 * when the time since the last rewrite is 50 times what the rewrite took (and at least FLUSH_MIN_MS): the
 * rewrites then cost at most 2 % of the run however many rows it has. close() and an interruption
 * (SIGINT/SIGTERM) rewrite them at once.
 */
import { existsSync, readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import { appendLine, writeFileAtomic } from '../util/fsx.js';
import { onInterrupt } from '../util/interrupt.js';
import { alive, lockOutput, type Lock } from '../util/lock.js';
import { checkFormatVersion, validate } from '../util/schema.js';

const FLUSH_MIN_MS = 2000;
const FLUSH_COST_FACTOR = 50;

export interface StoreSpec<R extends TSchema, M extends TSchema> {
  /** File name of the source of truth inside the directory, e.g. rows.jsonl. */
  file: string;
  format: string;
  version: number;
  rowSchema: R;
  metaSchema: M;
  key(row: Static<R>): string;
  /** Whether rows stored with `stored` meta may be resumed by a run with `meta`. */
  sameRun(stored: Static<M>, meta: Static<M>): boolean;
  /** The error for a directory holding another run's rows. */
  differentRun(dir: string): HilError;
  /** What to do about a file of another version or a damaged one (the hint of those errors). */
  fix: string;
  /** Derived files, by name inside the directory, from every row. */
  derive(rows: Static<R>[], meta: Static<M>): Record<string, string | Uint8Array>;
  /** Rows of a directory written before this store existed (no source file yet), or null. */
  legacy?(dir: string): { meta: Static<M>; rows: Static<R>[] } | null;
  /** What the lock says the holder is doing, e.g. "hil run". */
  lockedBy: string;
}

export interface OpenOptions {
  /** Start afresh: the source of truth is replaced by an empty one, derived files are removed. */
  overwrite: boolean;
  /** Called with a line to show the user (a dropped truncated tail). */
  note?: (text: string) => void;
}

export class KeyedStore<R extends TSchema, M extends TSchema> {
  readonly path: string;
  private readonly rows: Static<R>[] = [];
  private readonly keys = new Set<string>();
  private lastFlush = 0;
  private flushCost = 0;
  private closed = false;
  private forgetInterrupt: () => void = () => {};

  private constructor(
    readonly dir: string,
    private readonly spec: StoreSpec<R, M>,
    readonly meta: Static<M>,
    private readonly lock: Lock,
  ) {
    this.path = join(dir, spec.file);
  }

  /**
   * Locks `dir` and opens its store: resumes its rows when they were measured with the same meta, refuses
   * another run's rows (unless `overwrite`), starts an empty one otherwise.
   */
  static open<R extends TSchema, M extends TSchema>(dir: string, spec: StoreSpec<R, M>, meta: Static<M>, opts: OpenOptions): KeyedStore<R, M> {
    const lock = lockOutput(dir, spec.lockedBy);
    const store = new KeyedStore(dir, spec, meta, lock);
    try {
      removeDeadTemps(dir);
      if (opts.overwrite) store.reset();
      else if (existsSync(store.path)) store.load(opts.note ?? (() => {}));
      else {
        const old = spec.legacy?.(dir) ?? null;
        if (old && !spec.sameRun(old.meta, meta)) throw spec.differentRun(dir);
        store.reset(old?.rows ?? []);
      }
      store.flush();
    } catch (e) {
      lock.release();
      throw e;
    }
    store.forgetInterrupt = onInterrupt(() => store.flush());
    return store;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  all(): Static<R>[] {
    return [...this.rows];
  }

  /** Appends one row (its line is complete on disk when this returns); rewrites derived files when due. */
  add(row: Static<R>): void {
    if (this.closed) throw new Error(`${this.path}: add() after close()`);
    const key = this.spec.key(row);
    if (this.keys.has(key)) throw new Error(`${this.path}: "${key}" is stored already`);
    appendLine(this.path, JSON.stringify({ key, row }));
    this.rows.push(row);
    this.keys.add(key);
    if (Date.now() - this.lastFlush >= Math.max(FLUSH_MIN_MS, FLUSH_COST_FACTOR * this.flushCost)) this.flush();
  }

  /** Rewrites every derived file from the rows. */
  flush(): void {
    const t0 = Date.now();
    for (const [name, content] of Object.entries(this.spec.derive(this.rows, this.meta))) writeFileAtomic(join(this.dir, name), content);
    this.lastFlush = Date.now();
    this.flushCost = this.lastFlush - t0;
  }

  /** Rewrites the derived files and releases the directory. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forgetInterrupt();
    try {
      this.flush();
    } finally {
      this.lock.release();
    }
  }

  private header(): string {
    return JSON.stringify({ format: this.spec.format, version: this.spec.version, meta: this.meta });
  }

  /** Replaces the source of truth at once (rename), then removes what was derived from the old one. */
  private reset(rows: Static<R>[] = []): void {
    const lines = [this.header(), ...rows.map((row) => JSON.stringify({ key: this.spec.key(row), row }))];
    const derived = Object.keys(this.spec.derive([], this.meta));
    writeFileAtomic(this.path, lines.join('\n') + '\n');
    for (const name of derived) rmSync(join(this.dir, name), { force: true });
    this.rows.length = 0;
    this.keys.clear();
    for (const row of rows) {
      this.rows.push(row);
      this.keys.add(this.spec.key(row));
    }
  }

  private load(note: (text: string) => void): void {
    const text = readFileSync(this.path, 'utf8');
    const lines = text.split('\n');
    const tail = lines.pop()!;
    if (tail !== '') {
      // The line being appended when the process died: its item was not finished.
      truncateSync(this.path, Buffer.byteLength(text) - Buffer.byteLength(tail));
      note(`${this.path}: dropped an incomplete last line (${Buffer.byteLength(tail)} bytes) left by an interrupted run; that item is measured again`);
    }
    const fix = this.spec.fix;
    const parse = (line: string, n: number): unknown => {
      try {
        return JSON.parse(line);
      } catch {
        throw new HilError(`${this.path}: line ${n} is not JSON`, fix);
      }
    };
    if (lines.length === 0) throw new HilError(`${this.path} is empty`, fix);
    const header = parse(lines[0]!, 1);
    checkFormatVersion(header, this.path, this.spec.format, this.spec.version, fix);
    const h = validate(Type.Object({ meta: this.spec.metaSchema }), header, `${this.path}: line 1`, fix) as unknown as { meta: Static<M> };
    if (!this.spec.sameRun(h.meta, this.meta)) throw this.spec.differentRun(this.dir);
    const lineSchema = Type.Object({ key: Type.String(), row: this.spec.rowSchema });
    for (let i = 1; i < lines.length; i++) {
      const { key, row } = validate(lineSchema, parse(lines[i]!, i + 1), `${this.path}: line ${i + 1}`, fix) as unknown as { key: string; row: Static<R> };
      if (key !== this.spec.key(row)) throw new HilError(`${this.path}: line ${i + 1} is stored under "${key}" but is the row of "${this.spec.key(row)}"`, fix);
      // A key twice can only come from a file written by hand or by two writers; the first stands.
      if (this.keys.has(key)) continue;
      this.rows.push(row);
      this.keys.add(key);
    }
  }
}

/** Temporary files of atomic writes (src/util/fsx.ts) left by a process that was killed mid-write. */
function removeDeadTemps(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = /^\..+\.(\d+)\.tmp$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
}
