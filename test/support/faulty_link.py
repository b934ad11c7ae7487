#!/usr/bin/env python3
"""A man-in-the-middle pseudo-terminal for the link's fault tests (test/support/faultyLink.ts).

Opens the device's pty (the sim board's), creates a new pty pair whose slave the host opens instead,
and copies bytes both ways, giving each byte a fault with probability --rate: dropped, one bit flipped,
sent twice, or delayed (the line stalls, so order is kept, as on a real wire). Faults are placed by a
seeded generator, one per direction, so a run is repeatable up to the OS's scheduling.

Prints "PTY <path>" once ready. On stdin, "stats" prints a JSON line of counters and "rate R" changes
the rate; EOF on stdin ends the proxy.
"""
import argparse, json, math, os, random, select, sys, time, tty

KINDS = ("drop", "flip", "dup", "delay")


class Direction:
    def __init__(self, name, rate, seed, max_delay_s):
        self.name = name
        self.rng = random.Random(seed)
        self.max_delay_s = max_delay_s
        self.stall_until = 0.0
        self.out = []  # [release_time, bytes]
        self.counts = {k: 0 for k in KINDS}
        self.bytes = 0
        self.set_rate(rate)

    def set_rate(self, rate):
        self.rate = rate
        self.gap = self.draw_gap()

    def draw_gap(self):
        """Clean bytes before the next fault: geometric, so faults are independent per byte."""
        if self.rate <= 0:
            return math.inf
        u = 1.0 - self.rng.random()
        return int(math.log(u) / math.log1p(-self.rate))

    def feed(self, data, now):
        self.bytes += len(data)
        out = bytearray()
        i = 0
        while i < len(data):
            clean = min(self.gap, len(data) - i)
            out += data[i : i + clean]
            i += clean
            self.gap -= clean
            if i >= len(data):
                break
            b = data[i]
            i += 1
            kind = KINDS[self.rng.randrange(len(KINDS))]
            self.counts[kind] += 1
            if kind == "flip":
                out.append(b ^ (1 << self.rng.randrange(8)))
            elif kind == "dup":
                out += bytes((b, b))
            elif kind == "delay":
                self.push(out, now)
                out = bytearray()
                self.stall_until = max(now, self.stall_until) + self.rng.uniform(0.001, self.max_delay_s)
                out.append(b)
            self.gap = self.draw_gap()
        self.push(out, now)

    def push(self, out, now):
        if out:
            self.out.append([max(now, self.stall_until), bytes(out)])

    def flush(self, fd, now):
        while self.out and self.out[0][0] <= now:
            data = self.out[0][1]
            try:
                n = os.write(fd, data)
            except BlockingIOError:
                return
            if n < len(data):
                self.out[0][1] = data[n:]
                return
            self.out.pop(0)

    def next_release(self):
        return self.out[0][0] if self.out else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", required=True)
    ap.add_argument("--rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-delay-ms", type=float, default=20.0)
    a = ap.parse_args()

    dev = os.open(a.device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(dev)
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    # The slave stays open here too, so the master never reads EIO while the host has it closed.
    path = os.ttyname(slave)
    to_host = Direction("to_host", a.rate, a.seed * 2 + 1, a.max_delay_ms / 1000)
    to_device = Direction("to_device", a.rate, a.seed * 2, a.max_delay_ms / 1000)
    print(f"PTY {path}", flush=True)

    stdin = sys.stdin.fileno()
    while True:
        now = time.monotonic()
        to_host.flush(master, now)
        to_device.flush(dev, now)
        releases = [r for r in (to_host.next_release(), to_device.next_release()) if r is not None]
        timeout = max(0.0, min(releases) - now) if releases else None
        wfds = ([master] if to_host.out and to_host.out[0][0] <= now else []) + ([dev] if to_device.out and to_device.out[0][0] <= now else [])
        r, _, _ = select.select([dev, master, stdin], wfds, [], timeout if not wfds else 0.001)
        now = time.monotonic()
        if dev in r:
            try:
                data = os.read(dev, 65536)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                return  # the device's side is gone
            if data == b"":
                return
            if data:
                to_host.feed(data, now)
        if master in r:
            try:
                data = os.read(master, 65536)
            except (BlockingIOError, InterruptedError, OSError):
                data = None
            if data:
                to_device.feed(data, now)
        if stdin in r:
            line = sys.stdin.readline()
            if not line:
                return
            cmd = line.split()
            if cmd and cmd[0] == "stats":
                print(json.dumps({d.name: {"bytes": d.bytes, **d.counts} for d in (to_host, to_device)}), flush=True)
            elif len(cmd) == 2 and cmd[0] == "rate":
                to_host.set_rate(float(cmd[1]))
                to_device.set_rate(float(cmd[1]))
                print("ok", flush=True)


if __name__ == "__main__":
    main()
