#!/usr/bin/env python3
"""The hardening sweep (issue 11): hostile clients against fiberleakd's demo
(the embedded endpoint) and its sidecar, on loopback only, bounded in time.

  sweep.py path/to/fiberleakd            the full sweep (a few minutes)
  sweep.py path/to/fiberleakd --quick    the bounded version ctest runs

Checks, each with its figures printed: hostile query strings, malformed
HTTP, slow clients (/healthz and /metrics within 1 s, descriptors bounded),
a connection flood, a 300 MB chunked POST and 20,000 headers of 8 KB (4xx,
the program's peak memory +< 64 MB), concurrent delta profiles (429 beyond
the limit), addresses POSTed to grow the symbolizer's cache, a Host that is
not the server's, and a 300 MB POST to the sidecar's /metrics. After each
the servers must still answer. Exit status 0 when every check holds.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

FAILURES = []
LAST_REPORT = [time.monotonic()]


def report(name, ok, figures):
    now = time.monotonic()
    print(f"{'ok  ' if ok else 'FAIL'} {name} [{now - LAST_REPORT[0]:.0f} s]: {figures}", flush=True)
    LAST_REPORT[0] = now
    if not ok:
        FAILURES.append(name)


def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, limit=1 << 20):
    """What the server sends until it closes or times out."""
    out = b""
    try:
        while len(out) < limit:
            data = s.recv(65536)
            if not data:
                break
            out += data
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    return out


def status_of(response):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    return int(m.group(1)) if m else 0


def request(port, path, method="GET", headers=None, body=b"", timeout=5.0):
    """(status, seconds, body) of one request on a fresh connection."""
    start = time.monotonic()
    try:
        s = connect(port, timeout)
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\r\n"
        if body:
            head += f"Content-Length: {len(body)}\r\n"
        s.sendall(head.encode() + b"\r\n" + body)
        response = read_response(s, 64 << 20)
        s.close()
    except OSError:
        return 0, time.monotonic() - start, b""
    body_start = response.find(b"\r\n\r\n")
    return status_of(response), time.monotonic() - start, response[body_start + 4:]


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def reset_peak(pid):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def alive(port):
    return request(port, "/healthz")[0] == 200


class Watcher(threading.Thread):
    """Asks `paths` every 0.2 s while a check runs; keeps every latency."""

    def __init__(self, port, paths):
        super().__init__(daemon=True)
        self.port, self.paths, self.failed = port, paths, 0
        self.seconds = {p: [] for p in paths}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for p in self.paths:
                status, seconds, _ = request(self.port, p, timeout=5)
                self.seconds[p].append(seconds)
                self.failed += status != 200
            self.stop.wait(0.2)

    def finish(self):
        """(slowest, failed, figures) once stopped."""
        self.stop.set()
        self.join()
        worst = max((max(v) for v in self.seconds.values() if v), default=0.0)
        figures = ", ".join(f"{p} {len(v)}x median {sorted(v)[len(v) // 2]:.3f} s slowest {max(v):.3f} s"
                            for p, v in self.seconds.items() if v)
        return worst, self.failed, figures


def hostile_queries(count):
    routes = ["/debug/pprof/goroutine", "/debug/goroutine", "/debug/fibers", "/debug/leaks", "/metrics",
              "/debug/pprof/heap", "/debug/pprof/allocs", "/debug/pprof/", "/debug/pprof/symbol",
              "/debug/pprof/cmdline", "/debug/heap/fibers", "/healthz"]
    names = ["debug", "seconds", "state", "min_blocked", "name", "leaks", "stacks", "gc", "x", ""]
    values = ["", "-1", "0", "1", "2", "3", "9" * 40, "-9223372036854775808", "9223372036854775808", "1e9",
              "0x10", "%00", "%ff%fe", "%", "%zz", "a" * 5000, "blocked,,", "1h1h1h", "NaN", "inf", "\u00e9",
              "1;2", "../../etc/passwd", "*" * 300, "conn-*", "shared"]
    out = []
    for i in range(count):
        route = routes[i % len(routes)]
        name = names[(i // len(routes)) % len(names)]
        value = values[(i * 7 + i // 3) % len(values)]
        query = urllib.parse.quote(name, safe="%") + "=" + urllib.parse.quote(value, safe="%,*")
        if i % 5 == 0:
            query += "&" + query  # repeated
        out.append(route + "?" + query)
    return out


def check_hostile_queries(port, quick):
    queries = hostile_queries(120 if quick else 624)
    worst, statuses = 0.0, {}
    for q in queries:
        if "seconds=" in q and "seconds=&" not in q and not q.endswith("seconds="):
            m = re.search(r"seconds=(\d+)", q)
            if m and 0 < int(m.group(1)) < 10**6 and "debug=" not in q:
                continue  # a valid delta profile waits its seconds: covered below
        status, seconds, _ = request(port, q, timeout=10)
        worst = max(worst, seconds)
        statuses[status] = statuses.get(status, 0) + 1
    bad = {s: n for s, n in statuses.items() if s == 0 or s >= 500}
    report("hostile query strings", not bad and alive(port) and worst < 5,
           f"{sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}, slowest {worst:.2f} s")


MALFORMED = [
    b"\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /healthz\r\n\r\n", b"\x00\x01\x02\xff\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nNoColon\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd",
    b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\n\r\n", b"GET /healthz HTTP/1.1\r\nX: " + b"b" * 200000 + b"\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nRange: bytes=9-1,,\r\n\r\n", b"GET /%%%%%% HTTP/1.1\r\n\r\n",
    b"DELETE /healthz HTTP/1.1\r\n\r\n", b"BREW /healthz HTTP/1.1\r\n\r\n", b"GET /healthz HTTP/1.1\n\n",
]


def check_malformed(port):
    """Each request at once on its own connection: some wait out the read deadline."""
    results = []

    def one(raw):
        start = time.monotonic()
        s = connect(port, 10)
        try:
            s.sendall(raw)
        except OSError:
            pass
        status = status_of(read_response(s))
        s.close()
        results.append((status, time.monotonic() - start))

    threads = [threading.Thread(target=one, args=(raw,)) for raw in MALFORMED]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    worst = max(seconds for _, seconds in results)
    bad = {s: n for s, n in statuses.items() if s >= 500}
    report("malformed HTTP", not bad and len(results) == len(MALFORMED) and alive(port) and worst < 10,
           f"{len(MALFORMED)} requests, statuses {dict(sorted(statuses.items()))} (0: closed), slowest {worst:.2f} s")


def dribbler(port, gap, stop, cut_off):
    """Sends a request a byte every `gap` seconds, reconnecting when cut off."""
    while not stop.is_set():
        try:
            s = connect(port, 30)
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            while not stop.wait(gap):
                s.sendall(b"X")
        except OSError:
            cut_off[0] += 1
            continue
        s.close()


def check_slow_clients(port, pid, label, paths, quick):
    clients, gap, seconds = (4, 1.0, 8) if quick else (8, 3.0, 47)
    stop, cut_off = threading.Event(), [0]
    threads = [threading.Thread(target=dribbler, args=(port, gap, stop, cut_off), daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    watcher = Watcher(port, paths)
    watcher.start()
    most_fds = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        most_fds = max(most_fds, fds(pid))
        time.sleep(0.5)
    worst, failed, figures = watcher.finish()
    stop.set()
    for t in threads:
        t.join()
    report(f"slow clients ({label})", worst < 1.0 and failed == 0 and most_fds < 200 and alive(port),
           f"{clients} clients, a byte every {gap:g} s for {seconds} s: {figures}, {failed} failed; "
           f"most descriptors {most_fds}; clients cut off {cut_off[0]} times")


def check_connection_flood(port, pid, quick):
    count = 100 if quick else 400
    socks = []
    for _ in range(count):
        try:
            socks.append(connect(port, 5))
        except OSError:
            break
    time.sleep(0.3)
    most_fds = fds(pid)
    refused = 0
    for s in socks[-20:]:
        s.settimeout(1)
        refused += status_of(read_response(s)) == 503
    for s in socks:
        s.close()
    # The idle ones are cut off at the read deadline (5 s).
    end = time.monotonic() + 10
    while time.monotonic() < end and not alive(port):
        time.sleep(0.2)
    ok = alive(port)
    report("connection flood", most_fds < count and refused > 0 and ok,
           f"{len(socks)} idle connections: the program held {most_fds} descriptors, the last 20 got "
           f"{refused} answers 503; /healthz answered again afterwards: {ok}")


def send_until_closed(port, head, chunk, total):
    """Sends head then chunk until `total` bytes or the server stops reading; returns (status, bytes, seconds)."""
    start = time.monotonic()
    s = connect(port, 10)
    s.sendall(head)
    sent = 0
    response = b""
    s.setblocking(False)
    try:
        while sent < total:
            try:
                sent += s.send(chunk)
            except BlockingIOError:
                pass
            try:
                data = s.recv(65536)
                if not data:
                    break
                response += data
                if b"\r\n\r\n" in response:
                    break
            except BlockingIOError:
                time.sleep(0.001)
            if time.monotonic() - start > 60:
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    s.settimeout(3)
    s.setblocking(True)
    response += read_response(s)
    s.close()
    return status_of(response), sent, time.monotonic() - start


def check_big_bodies(port, pid):
    block = b"%x\r\n" % 65536 + b"+" * 65536 + b"\r\n"
    reset_peak(pid)
    base = peak_rss_kb(pid)
    status, sent, seconds = send_until_closed(
        port, b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n", block,
        300 << 20)
    grew = (peak_rss_kb(pid) - base) / 1024
    report("chunked 300 MB POST", 400 <= status < 500 and grew < 64 and alive(port),
           f"HTTP {status} after {sent / 1e6:.1f} MB sent in {seconds:.2f} s; peak memory +{grew:.1f} MB")

    reset_peak(pid)
    base = peak_rss_kb(pid)
    header = b"X-Filler: " + b"h" * 8180 + b"\r\n"
    status, sent, seconds = send_until_closed(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", header,
                                              20000 * len(header))
    grew = (peak_rss_kb(pid) - base) / 1024
    report("20,000 headers of 8 KB", 400 <= status < 500 and grew < 64 and alive(port),
           f"HTTP {status} after {sent / 1e6:.1f} MB sent in {seconds:.2f} s; peak memory +{grew:.1f} MB")


def check_delta_profiles(port, quick):
    seconds = 3 if quick else 15
    results = []

    def one():
        results.append(request(port, f"/debug/pprof/goroutine?seconds={seconds}", timeout=seconds + 10)[0])

    threads = [threading.Thread(target=one) for _ in range(5)]
    watcher = Watcher(port, ["/healthz", "/metrics"])
    for t in threads:
        t.start()
    watcher.start()
    for t in threads:
        t.join()
    worst, failed, figures = watcher.finish()
    counts = {s: results.count(s) for s in set(results)}
    report("concurrent delta profiles", counts.get(200, 0) <= 2 and counts.get(429, 0) >= 3 and worst < 1.0,
           f"5 at once, ?seconds={seconds}: {dict(sorted(counts.items()))}; meanwhile {figures}, {failed} failed")


def check_symbol_cache(port, pid, quick):
    """Distinct addresses POSTed must not stay in memory (the cache grew +71 MB
    for 800k, and as much again for every 800k more). Two passes of new
    addresses: the first may warm up buffers of the connection threads (each
    its own malloc arena); the second must add less than 8 MB."""
    total = 100_000 if quick else 800_000
    per_post = 60_000  # ~1 MB of "0x...+" words: the body limit
    statuses = {}

    def post_pass(offset):
        started, before = time.monotonic(), rss_kb(pid)
        for first in range(offset, offset + total, per_post):
            body = "+".join("0x%x" % (0x7f0000000000 + 16 * i) for i in range(first, min(offset + total, first + per_post)))
            status = request(port, "/debug/pprof/symbol", "POST", body=body.encode(), timeout=60)[0]
            statuses[status] = statuses.get(status, 0) + 1
        return time.monotonic() - started, (rss_kb(pid) - before) / 1024

    reset_peak(pid)
    base_peak = peak_rss_kb(pid)
    took1, kept1 = post_pass(0)
    took2, kept2 = post_pass(total)
    peak = (peak_rss_kb(pid) - base_peak) / 1024
    # The demo leaks memory by design, steadily: what it gains as long again
    # without requests is not the requests' doing.
    after = rss_kb(pid)
    time.sleep(took2)
    own = (rss_kb(pid) - after) / 1024
    report("symbolizer cache", kept2 - own < 8 and peak < 64 and set(statuses) == {200} and alive(port),
           f"2 x {total} distinct addresses POSTed in {sum(statuses.values())} requests ({statuses}), "
           f"{took1:.1f} s + {took2:.1f} s: memory +{kept1:.1f} MB after the first pass, +{kept2:.1f} MB more after "
           f"the second (the demo's own in as long: +{own:.1f} MB); peak +{peak:.1f} MB")


def check_host(port):
    evil = request(port, "/debug/pprof/cmdline", headers={"X-Unused": "1"})
    s = connect(port)
    s.sendall(b"GET /debug/pprof/cmdline HTTP/1.1\r\nHost: attacker.example:6060\r\nConnection: close\r\n\r\n")
    rebound = status_of(read_response(s))
    s.close()
    report("DNS rebinding (Host)", rebound == 403 and evil[0] == 200,
           f"Host attacker.example: HTTP {rebound}; Host 127.0.0.1: HTTP {evil[0]}")


def check_sidecar_body(port, pid):
    reset_peak(pid)
    base = peak_rss_kb(pid)
    status, sent, seconds = send_until_closed(
        port, b"POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 314572800\r\n\r\n", b"m" * 65536,
        300 << 20)
    grew = (peak_rss_kb(pid) - base) / 1024
    report("sidecar: 300 MB POST to /metrics", 400 <= status < 500 and grew < 64 and alive(port),
           f"HTTP {status} after {sent / 1e6:.1f} MB sent in {seconds:.2f} s; peak memory +{grew:.1f} MB")


def start(cmd, pattern, log):
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        with open(log.name) as f:
            m = re.search(pattern, f.read())
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"sweep: {' '.join(cmd)} did not start; see {log.name}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    fiberleakd, quick = sys.argv[1], "--quick" in sys.argv[2:]
    work = tempfile.mkdtemp(prefix="fiberleak-sweep-")
    began = time.monotonic()
    demo_log = open(os.path.join(work, "demo.log"), "w")
    demo, port = start([fiberleakd, "demo", "--listen", "127.0.0.1:0"], r"served at http://127\.0\.0\.1:(\d+)",
                       demo_log)
    config = os.path.join(work, "sidecar.json")
    with open(config, "w") as f:
        json.dump({"listen": "127.0.0.1:0", "log_level": "warn",
                   "targets": [{"name": "demo", "url": f"http://127.0.0.1:{port}", "interval": "1s",
                                "timeout": "1s"}]}, f)
    sidecar_log = open(os.path.join(work, "sidecar.log"), "w")
    sidecar, sidecar_port = start([fiberleakd, "scrape", "--config", config, "--log-level", "info"],
                                  r"serving http://127\.0\.0\.1:(\d+)/metrics", sidecar_log)
    try:
        request(port, "/debug/goroutine")  # warm up symbolization before measuring
        LAST_REPORT[0] = time.monotonic()
        print(f"sweep ({'quick' if quick else 'full'}): demo pid {demo.pid} on {port}, sidecar pid {sidecar.pid} "
              f"on {sidecar_port}", flush=True)
        check_hostile_queries(port, quick)
        check_malformed(port)
        check_host(port)
        check_slow_clients(port, demo.pid, "endpoint", ["/healthz", "/metrics"], quick)
        check_slow_clients(sidecar_port, sidecar.pid, "sidecar", ["/healthz", "/metrics"], quick)
        check_connection_flood(port, demo.pid, quick)
        check_big_bodies(port, demo.pid)
        check_delta_profiles(port, quick)
        check_symbol_cache(port, demo.pid, quick)
        check_sidecar_body(sidecar_port, sidecar.pid)
        for name, proc in (("demo", demo), ("sidecar", sidecar)):
            report(f"{name} still running", proc.poll() is None, f"pid {proc.pid}")
    finally:
        for proc in (sidecar, demo):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print(f"sweep: {len(FAILURES)} failed, {time.monotonic() - began:.0f} s; logs in {work}", flush=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
