/**
 * The board farm's pieces that need no Redis: the queue URL and the redaction of its credentials, job ids
 * that depend on exactly what decides a job's rows, the status table's width, and blobs refused when
 * their bytes do not match their hash. (test/e2e/farm.test.ts runs the farm on a real redis-server.)
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BlobHashError, dirBlobs, getVerified } from '../../src/farm/blobs.js';
import { connect, parseQueueUrl, redact } from '../../src/farm/connection.js';
import { clipSetHash, farmJobId } from '../../src/farm/jobs.js';
import { formatStatus, type FarmStatus } from '../../src/farm/status.js';
import { parseRate } from '../../src/farm/worker.js';
import { HilError } from '../../src/util/errors.js';
import { sha256 } from '../../src/util/fsx.js';

const dir = mkdtempSync(join(tmpdir(), 'hil-farm-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--queue: redis:// and rediss:// URLs; credentials from the URL or the environment, never shown', () => {
  const plain = parseQueueUrl('redis://10.0.0.5:6379/2', {});
  assert.equal(plain.shown, 'redis://10.0.0.5:6379/2');
  assert.equal(plain.db, 2);
  assert.equal(plain.tls, false);
  assert.deepEqual(plain.secrets, []);

  const inUrl = parseQueueUrl('rediss://hil:s3cr%40t@farm.lab:6380/0', {});
  assert.equal(inUrl.tls, true);
  assert.equal(inUrl.shown, 'rediss://hil:***@farm.lab:6380/0');
  assert.ok(inUrl.url.includes('s3cr%40t'));
  assert.ok(inUrl.secrets.includes('s3cr@t'));

  const fromEnv = parseQueueUrl('env', { HIL_REDIS_URL: 'redis://farm.lab:6379', REDIS_USERNAME: 'worker', REDIS_PASSWORD: 'p4ss word' });
  assert.equal(fromEnv.shown, 'redis://worker:***@farm.lab:6379');
  assert.ok(fromEnv.url.startsWith('redis://worker:p4ss%20word@'));
  assert.ok(fromEnv.secrets.includes('p4ss word'));

  // Anything hil prints goes through redact: the password, raw or URL-encoded, and any URL's user-info.
  const leak = `connect to rediss://hil:s3cr%40t@farm.lab:6380/0 failed: WRONGPASS s3cr@t for redis://other:pw@x`;
  const clean = redact(leak, inUrl);
  assert.ok(!clean.includes('s3cr'), clean);
  assert.ok(!clean.includes(':pw@'), clean);
  assert.match(clean, /rediss:\/\/hil:\*\*\*@farm\.lab/);

  const HINT = '(e.g. --queue redis://host:6379/0, rediss:// for TLS; credentials in the URL or in REDIS_USERNAME/REDIS_PASSWORD)';
  for (const [spec, line] of [
    ['http://farm.lab:6379', `--queue: the scheme must be redis:// or rediss://, not http:// ${HINT}`],
    ['not a url', '--queue is not a URL (e.g. --queue redis://host:6379/0, rediss:// for TLS; credentials in the URL or in REDIS_USERNAME/REDIS_PASSWORD)'],
    ['env', '--queue env: HIL_REDIS_URL is not set (e.g. --queue redis://host:6379/0, rediss:// for TLS; credentials in the URL or in REDIS_USERNAME/REDIS_PASSWORD)'],
  ] as const) {
    assert.throws(() => parseQueueUrl(spec, {}), (e: unknown) => e instanceof HilError && e.line() === line);
  }
  assert.throws(() => parseQueueUrl('redis://farm.lab:6379/queue', {}), /the path must be a database number/);
  // A malformed URL is not echoed: it may hold a password.
  assert.throws(() => parseQueueUrl('redis://u:hunter2@[bad', {}), (e: unknown) => e instanceof HilError && !e.line().includes('hunter2'));
});

test('a Redis that is not there is one line naming the shown URL, without its password', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const q = parseQueueUrl(`redis://:topsecret@127.0.0.1:${port}/0`, {});
  await assert.rejects(connect(q), (e: unknown) => {
    assert.ok(e instanceof HilError);
    assert.match(e.line(), new RegExp(`^cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0: .*\\(start redis-server there, or check --queue and its credentials\\)$`));
    assert.ok(!e.line().includes('topsecret'));
    return true;
  });
});

test('job ids: equal inputs give equal ids, any input that changes the rows changes the id', () => {
  const clips = [
    { name: 'a.wav', noisy: 'n'.repeat(64), clean: 'c'.repeat(64) },
    { name: 'b.wav', noisy: 'm'.repeat(64), clean: null },
  ];
  const base = { baselineSha256: 'b'.repeat(64), board: 'sim', profile: 'weight-90', model: 'f'.repeat(64), clipSet: clipSetHash(clips), limit: 6 };
  const id = farmJobId(base);
  assert.match(id, /^j-[0-9a-f]{32}$/);
  assert.equal(farmJobId({ ...base }), id);
  assert.equal(clipSetHash(clips.map((c) => ({ ...c }))), base.clipSet);
  for (const change of [{ board: 'sim-asan' }, { profile: 'weight-95' }, { model: 'e'.repeat(64) }, { baselineSha256: 'a'.repeat(64) }, { limit: null }, { clipSet: clipSetHash([clips[1]!, clips[0]!]) }, { clipSet: clipSetHash([{ ...clips[0]!, clean: null }, clips[1]!]) }]) {
    assert.notEqual(farmJobId({ ...base, ...change }), id, JSON.stringify(change));
  }
});

test('a blob whose bytes do not hash to its name is refused', async () => {
  const blobs = dirBlobs(join(dir, 'artifacts'));
  const data = new TextEncoder().encode('model bytes');
  const sha = await blobs.put(data);
  assert.equal(sha, sha256(data));
  assert.deepEqual(await getVerified(blobs, sha, 'model.hilm'), data);
  // Tamper with the stored file: the reader must notice.
  const sub = join(dir, 'artifacts', sha.slice(0, 2));
  writeFileSync(join(sub, readdirSync(sub)[0]!), 'other bytes');
  await assert.rejects(getVerified(blobs, sha, 'weight-90 model.hilm'), (e: unknown) => {
    assert.ok(e instanceof BlobHashError);
    assert.match(e.line(), /^weight-90 model\.hilm: blob [0-9a-f]{12}… hashes to [0-9a-f]{12}…, not the hash the job announced/);
    return true;
  });
  // Uploading it again repairs it.
  assert.equal(await blobs.put(data), sha);
  assert.deepEqual(await getVerified(blobs, sha, 'model.hilm'), data);
  await assert.rejects(getVerified(blobs, '0'.repeat(64), 'clip a.wav'), /clip a\.wav: blob 000000000000… is not in/);
  await assert.rejects(getVerified(blobs, '../etc/passwd', 'x'), /is not a SHA-256 blob name/);
});

test('hil farm status fits 100 columns', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const s: FarmStatus = {
    queue: 'redis://farm.lab:6379/0',
    workers: [
      {
        id: 'a-very-long-host-name.lab.example.org:123456',
        host: 'a-very-long-host-name.lab.example.org',
        pid: 123456,
        startedAt: '2026-01-01T11:00:00Z',
        beatAt: '2026-01-01T11:59:58Z',
        boards: ['sim', 'sim-asan', 'corstone-300'].map((name) => ({ name, backend: name === 'corstone-300' ? 'fvp' : 'sim', firmwareBuildId: '0123456789abcdef', instances: 2, running: 1 })),
        done: 12,
        failed: 1,
      },
    ],
    boards: [{ board: 'corstone-300', workers: 1, instances: 2, waiting: 120, active: 2, delayed: 1, completed: 4000, failed: 3 }],
    failures: [{ board: 'corstone-300', jobId: 'j-0123456789abcdef', profile: 'weight-90', attempts: 3, failedAt: '2026-01-01T11:30:00Z', reason: 'x'.repeat(300) }],
  };
  const text = formatStatus(s, 100, now);
  for (const line of text.trimEnd().split('\n')) assert.ok(line.length <= 100, `${line.length}: ${line}`);
  assert.match(text, /corstone-300\s+1\s+2\s+120\s+2\s+1\s+4000\s+3/);
  assert.match(text, /up 60 min, seen 2 s ago/);
});

test('--rate: <jobs>/<seconds>, BullMQ\'s limiter across a board queue\'s workers', () => {
  assert.deepEqual(parseRate('4/60'), { max: 4, seconds: 60 });
  assert.deepEqual(parseRate(' 1 / 0.5 '), { max: 1, seconds: 0.5 });
  assert.equal(parseRate(undefined), undefined);
  for (const bad of ['4', '0/60', '4/0', 'x/y']) assert.throws(() => parseRate(bad), /--rate: .* is not <jobs>\/<seconds>/);
});
