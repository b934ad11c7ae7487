/**
 * The farm's Redis: where it is (a redis:// or rediss:// URL), its credentials, and the clients hil makes
 * for it. Credentials come from the URL or from the environment (REDIS_USERNAME, REDIS_PASSWORD; the
 * whole URL from HIL_REDIS_URL with `--queue env`, which keeps a password out of `ps`), and every text
 * that leaves hil (logs, errors, job failures) goes through `redact` first: the password never reaches a
 * result file or a log line.
 *
 * hil constructs its ioredis clients itself and hands the instances to BullMQ: BullMQ 6 leaves the Redis
 * client to the application, and under ESM it cannot load one on its own.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { HilError } from '../util/errors.js';

export interface QueueUrl {
  /** The URL ioredis connects to, credentials included: never print it. */
  readonly url: string;
  /** The same with any credential replaced by ***, for messages. */
  readonly shown: string;
  /** Texts to cut out of anything hil prints or stores. */
  readonly secrets: readonly string[];
  readonly tls: boolean;
  readonly db: number;
}

const HINT = 'e.g. --queue redis://host:6379/0, rediss:// for TLS; credentials in the URL or in REDIS_USERNAME/REDIS_PASSWORD';

/**
 * Parses `--queue`: a redis:// or rediss:// URL, or `env` for the URL in HIL_REDIS_URL. A URL without a
 * password takes REDIS_PASSWORD (and REDIS_USERNAME) from the environment.
 */
export function parseQueueUrl(spec: string | undefined, env: NodeJS.ProcessEnv = process.env): QueueUrl {
  const raw = spec === undefined || spec === 'env' ? env.HIL_REDIS_URL : spec;
  if (!raw) throw new HilError(spec === 'env' ? '--queue env: HIL_REDIS_URL is not set' : '--queue is missing', HINT);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    // The text may hold a password: say only what is wrong with it.
    throw new HilError('--queue is not a URL', HINT);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new HilError(`--queue: the scheme must be redis:// or rediss://, not ${u.protocol}//`, HINT);
  if (!u.hostname) throw new HilError('--queue names no host', HINT);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new HilError(`--queue: the path must be a database number, not "${path}"`, HINT);
  if (u.search || u.hash) throw new HilError('--queue: a query or fragment is not understood', HINT);
  if (!u.password && env.REDIS_PASSWORD) u.password = encodeURIComponent(env.REDIS_PASSWORD);
  if (!u.username && env.REDIS_USERNAME) u.username = encodeURIComponent(env.REDIS_USERNAME);
  const secrets = new Set<string>();
  if (u.password) {
    secrets.add(u.password);
    secrets.add(decodeURIComponent(u.password));
  }
  const shown = new URL(u.href);
  if (shown.password) shown.password = '***';
  return { url: u.href, shown: shown.href, secrets: [...secrets].filter((s) => s.length > 0), tls: u.protocol === 'rediss:', db: path === '' ? 0 : Number(path) };
}

/** `text` with every credential of `q`, and the user-info part of any redis URL in it, replaced by ***. */
export function redact(text: string, q: Pick<QueueUrl, 'secrets'>): string {
  let out = text.replace(/(rediss?:\/\/)([^@/\s]*)@/g, (_m, scheme: string, info: string) => `${scheme}${info.includes(':') ? `${info.split(':')[0]}:***` : info}@`);
  for (const s of [...q.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}

export interface ConnectOptions {
  /**
   * For BullMQ workers and queue events, whose blocking commands must wait out a Redis restart: such a
   * client retries every command for ever. Otherwise a command fails after a few tries.
   */
  blocking?: boolean;
  /** Connection name shown by CLIENT LIST. */
  name?: string;
}

/**
 * Connects to the farm's Redis. The first connection must succeed (a wrong URL or a Redis that is down
 * is a one-line error at once, not a silent wait); once up, the client reconnects on its own after a
 * Redis restart or a network blip.
 */
export async function connect(q: QueueUrl, opts: ConnectOptions = {}): Promise<Redis> {
  let ready = false;
  let lastError = '';
  const options: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: opts.blocking ? null : 3,
    connectionName: opts.name,
    connectTimeout: 10_000,
    retryStrategy: (times) => (ready ? Math.min(times * 250, 5000) : null),
  };
  const client = new Redis(q.url, options);
  // ioredis emits 'error' on every failed reconnect; without a listener Node would print each one.
  client.on('error', (e: Error) => {
    lastError = e.message;
  });
  try {
    await client.connect();
    ready = true;
  } catch (e) {
    client.disconnect();
    throw new HilError(`cannot reach Redis at ${q.shown}: ${redact(lastError || (e as Error).message, q)}`, 'start redis-server there, or check --queue and its credentials');
  }
  return client;
}
