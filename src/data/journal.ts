/**
 * The build's cache: one JSON line per finished job, appended after its files were written (atomically).
 * A rerun reuses a job's files when the line's key matches the job's key and every file still has the
 * recorded hash, so an interrupted build resumes where it stopped and an unchanged rerun regenerates
 * nothing. A line cut short by a crash is ignored, which only means that job is done again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendLine, sha256File, writeFileAtomic } from '../util/fsx.js';

export interface JournalFile {
  path: string;
  sha256: string;
}

export interface JournalEntry<M = unknown> {
  job: string;
  key: string;
  files: JournalFile[];
  meta: M;
}

export class Journal {
  private readonly entries = new Map<string, JournalEntry>();

  constructor(
    private readonly dir: string,
    private readonly path: string,
  ) {
    if (!existsSync(path)) return;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as JournalEntry;
        if (typeof e.job === 'string' && typeof e.key === 'string' && Array.isArray(e.files)) this.entries.set(e.job, e);
      } catch {
        // a torn last line: that job will be redone
      }
    }
  }

  /** The entry for `job` if its key matches and its files are intact on disk. */
  reusable<M>(job: string, key: string): JournalEntry<M> | null {
    const e = this.entries.get(job);
    if (!e || e.key !== key) return null;
    for (const f of e.files) {
      const p = join(this.dir, f.path);
      if (!existsSync(p) || sha256File(p) !== f.sha256) return null;
    }
    return e as JournalEntry<M>;
  }

  record(entry: JournalEntry): void {
    this.entries.set(entry.job, entry);
    appendLine(this.path, JSON.stringify(entry));
  }

  /** Rewrites the journal with only the given jobs' entries, so it does not grow across rebuilds. */
  compact(keep: Set<string>): void {
    const lines = [...this.entries.values()].filter((e) => keep.has(e.job)).map((e) => JSON.stringify(e));
    writeFileAtomic(this.path, lines.length ? lines.join('\n') + '\n' : '');
  }
}
