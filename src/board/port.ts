/**
 * Serial ports of real boards: finding one (a path, a /dev/serial/by-id/ link, or a USB VID:PID[:serial]),
 * holding it (a lock file naming the holder, then serialport's flock), and listing candidates for
 * `hil board probe`.
 *
 * The lock file lives under the system's temporary directory, keyed by the device the path resolves to,
 * so /dev/ttyACM0 and its by-id link are one port. It holds the pid and command of the hil process that
 * has the port: a second hil is refused in one line naming them. A tool that is not hil (a terminal
 * program, another test rig) is caught by the flock when it locks too, and otherwise by a scan of
 * /proc for processes that have the device open.
 */
import { readdirSync, readlinkSync, realpathSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { HilError } from '../util/errors.js';
import { tryLock, type Lock } from '../util/lock.js';
import { onInterrupt } from '../util/interrupt.js';
import { rmSync, readFileSync } from 'node:fs';

export const BY_ID_DIR = '/dev/serial/by-id';

/** A port as the board file or --port gives it. */
export type PortSpec = { kind: 'path'; path: string } | { kind: 'usb'; vid: string; pid: string; serial?: string };

/** `0483:374b` or `0483:374b:0671FF` is a USB id; anything else is a path. */
export function parsePortSpec(text: string): PortSpec {
  const m = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?::(.+))?$/.exec(text);
  if (m) return { kind: 'usb', vid: m[1]!.toLowerCase(), pid: m[2]!.toLowerCase(), serial: m[3] };
  return { kind: 'path', path: text };
}

export interface PortInfo {
  path: string;
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  manufacturer?: string;
  /** The /dev/serial/by-id/ links that point at this device. */
  byId: string[];
}

function byIdLinks(dir = BY_ID_DIR): Map<string, string[]> {
  const links = new Map<string, string[]>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return links;
  }
  for (const n of names.sort()) {
    try {
      const target = realpathSync(join(dir, n));
      links.set(target, [...(links.get(target) ?? []), join(dir, n)]);
    } catch {
      // a dangling link: the device went away
    }
  }
  return links;
}

/** The serial ports serialport's list() finds here, with their by-id links. */
export async function probePorts(): Promise<PortInfo[]> {
  const ports = await SerialPort.list();
  const links = byIdLinks();
  return ports.map((p) => {
    let real = p.path;
    try {
      real = realpathSync(p.path);
    } catch {
      // listed but not there: keep its name
    }
    return {
      path: p.path,
      vendorId: p.vendorId?.toLowerCase(),
      productId: p.productId?.toLowerCase(),
      serialNumber: p.serialNumber,
      manufacturer: p.manufacturer,
      byId: links.get(real) ?? [],
    };
  });
}

function describeSpec(s: PortSpec): string {
  return s.kind === 'path' ? s.path : `USB ${s.vid}:${s.pid}${s.serial ? `:${s.serial}` : ''}`;
}

/**
 * The device path of a port spec: a path must exist (a by-id link is kept as given, for messages); a USB
 * id must match exactly one port. Missing or ambiguous ports are one-line errors.
 */
export async function resolvePort(spec: PortSpec, list: () => Promise<PortInfo[]> = probePorts): Promise<string> {
  if (spec.kind === 'path') {
    if (!existsSync(spec.path)) throw new HilError(`serial port ${spec.path} does not exist`, 'is the board plugged in? `hil board probe` lists the ports here');
    return spec.path;
  }
  const matches = (await list()).filter((p) => p.vendorId === spec.vid && p.productId === spec.pid && (!spec.serial || p.serialNumber === spec.serial));
  if (matches.length === 0) throw new HilError(`no serial port with ${describeSpec(spec)}`, 'is the board plugged in? `hil board probe` lists the ports here');
  if (matches.length > 1) {
    throw new HilError(`${matches.length} serial ports match ${describeSpec(spec)} (${matches.map((m) => m.path).join(', ')})`, 'add the serial number (VID:PID:SERIAL) or give the /dev/serial/by-id/ path');
  }
  return matches[0]!.path;
}

/** Where the lock file of a device lives. */
export function portLockPath(device: string, root = tmpdir()): string {
  let real = device;
  try {
    real = realpathSync(device);
  } catch {
    // not there: lock by the name given
  }
  return join(root, 'hil-ports', `${real.replace(/^\//, '').replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
}

/** Processes other than this one that have `device` open (Linux /proc; empty where it cannot be known). */
export function portHolders(device: string): { pid: number; command: string }[] {
  let real: string;
  try {
    real = realpathSync(device);
  } catch {
    return [];
  }
  const out: { pid: number; command: string }[] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid);
  } catch {
    return [];
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    if (fds.some((fd) => safeReadlink(`/proc/${pid}/fd/${fd}`) === real)) {
      let command = '';
      try {
        command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch {
        // gone meanwhile
      }
      out.push({ pid: Number(pid), command });
    }
  }
  return out;
}

function safeReadlink(p: string): string | null {
  try {
    return readlinkSync(p);
  } catch {
    return null;
  }
}

/** The command line of this process, shortened, for the lock file. */
export function thisCommand(): string {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--import') && a !== 'tsx' && !a.endsWith('main.ts') && !a.endsWith('hil.js'));
  const text = `hil ${args.join(' ')}`.trim();
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Takes the port's lock file, or fails at once with a one-line error naming the hil process that holds
 * it. Released by release(), at exit and on SIGINT/SIGTERM; a kill -9 leaves it for the next hil to take
 * over (its pid is dead).
 */
export function lockPort(device: string, what = thisCommand(), root = tmpdir()): Lock {
  const path = portLockPath(device, root);
  const h = tryLock(path, what);
  if (h) {
    const who = Number.isNaN(h.pid) ? 'another hil process' : `pid ${h.pid} (${h.what || 'hil'})`;
    throw new HilError(`serial port ${device} is in use by ${who}`, `wait for it to finish${h.pid > 0 ? ` or stop it (kill ${h.pid})` : ''}, or give another --port`);
  }
  let held = true;
  let forget = () => {};
  const release = () => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    forget();
    try {
      if (Number(readFileSync(path, 'utf8').split('\n')[0]) === process.pid) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  forget = onInterrupt(release);
  return { path, release };
}

/** The one-line error for a device that another program holds (its flock refused ours). */
export function portBusyError(device: string, cause: string): HilError {
  const holders = portHolders(device);
  const who = holders.length ? holders.map((h) => `pid ${h.pid} (${h.command.slice(0, 60) || '?'})`).join(', ') : 'another process';
  return new HilError(`serial port ${device} is locked by ${who}: ${cause}`, 'close the program that holds it, or give another --port');
}
