/**
 * `hil farm status`: the live workers (from their heartbeats) with the boards they own, each board
 * queue's waiting, running, finished and failed jobs, and the latest failures with their reasons.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { redact, type QueueUrl } from './connection.js';
import { boardOfQueue, QUEUE_PREFIX, queueName, WORKER_KEY_PREFIX, type WorkerInfo } from './jobs.js';

export interface BoardQueueStatus {
  board: string;
  /** Workers owning the board, and their instances of it. */
  workers: number;
  instances: number;
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

export interface FailureStatus {
  board: string;
  jobId: string;
  profile: string;
  attempts: number;
  failedAt: string | null;
  reason: string;
}

export interface FarmStatus {
  queue: string;
  workers: WorkerInfo[];
  boards: BoardQueueStatus[];
  failures: FailureStatus[];
}

async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** The workers whose heartbeat has not expired, by id. */
export async function listWorkers(client: Redis): Promise<WorkerInfo[]> {
  const keys = await scanKeys(client, `${WORKER_KEY_PREFIX}*`);
  if (keys.length === 0) return [];
  const values = await client.mget(...keys);
  return values
    .filter((v): v is string => v !== null)
    .map((v) => JSON.parse(v) as WorkerInfo)
    .sort((a, b) => a.id.localeCompare(b.id));
}

export async function farmStatus(client: Redis, q: QueueUrl, maxFailures = 10): Promise<FarmStatus> {
  const workers = await listWorkers(client);
  const names = new Set<string>();
  for (const k of await scanKeys(client, `${QUEUE_PREFIX}:board-*:meta`)) {
    const board = boardOfQueue(k.slice(QUEUE_PREFIX.length + 1, -':meta'.length));
    if (board) names.add(board);
  }
  for (const w of workers) for (const b of w.boards) names.add(b.name);
  const boards: BoardQueueStatus[] = [];
  const failures: FailureStatus[] = [];
  for (const board of [...names].sort()) {
    const queue = new Queue(queueName(board), { connection: client, prefix: QUEUE_PREFIX });
    try {
      const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
      const owners = workers.flatMap((w) => w.boards.filter((b) => b.name === board));
      boards.push({
        board,
        workers: owners.length,
        instances: owners.reduce((s, b) => s + b.instances, 0),
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
      });
      for (const j of await queue.getFailed(0, maxFailures - 1)) {
        failures.push({
          board,
          jobId: String(j.id),
          profile: String((j.data as { profile?: unknown })?.profile ?? j.name),
          attempts: j.attemptsMade,
          failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
          reason: redact(j.failedReason ?? '', q),
        });
      }
    } finally {
      await queue.close();
    }
  }
  failures.sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''));
  return { queue: q.shown, workers, boards, failures: failures.slice(0, maxFailures) };
}

function truncate(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

function age(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

/** The status as text no wider than `width` columns. */
export function formatStatus(s: FarmStatus, width = 100, now = Date.now()): string {
  const out: string[] = [`farm on ${s.queue}`, ''];
  out.push(`workers (${s.workers.length})`);
  if (s.workers.length === 0) out.push('  none: start one with `hil worker --queue <url> --boards <names>`');
  for (const w of s.workers) {
    const boards = w.boards.map((b) => `${b.name}×${b.instances} (${b.backend}, fw ${b.firmwareBuildId.slice(0, 8)}${b.running ? `, ${b.running} running` : ''})`).join(', ');
    out.push(`  ${w.id}  up ${age(w.startedAt, now)}, seen ${age(w.beatAt, now)} ago, ${w.done} done, ${w.failed} failed: ${boards}`);
  }
  out.push('');
  const head = ['board', 'workers', 'instances', 'waiting', 'running', 'retrying', 'finished', 'failed'];
  const rows = s.boards.map((b) => [b.board, b.workers, b.instances, b.waiting, b.active, b.delayed, b.completed, b.failed].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  out.push(line(head));
  for (const r of rows) out.push(line(r));
  if (rows.length === 0) out.push('  no board queues yet: `hil sweep … --queue <url>` makes them');
  if (s.failures.length > 0) {
    out.push('', `failures (latest ${s.failures.length})`);
    for (const f of s.failures) out.push(`  ${f.board}/${f.profile} ${f.jobId.slice(0, 10)} after ${f.attempts} attempts: ${f.reason}`);
  }
  return out.map((l) => truncate(l, width)).join('\n') + '\n';
}
