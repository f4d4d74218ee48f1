#!/usr/bin/env python3
"""Many fake fiberleak targets on loopback in one process, for fiberleakd's
discovery tests and the fleet benchmark (bench/daemon/fleet_bench.sh).

Every port answers GET /debug/fibers with a fibers/v1 document holding one
fiber parked on a channel for ten minutes (a leak at any threshold below
that), or the --body file's bytes (its "taken_at_ns" kept increasing);
GET /sd answers the --sd file's current bytes (http_sd: the test rewrites
it), 404 while it does not exist, with the Content-Type in FILE.type when
that exists (else application/json); the request's
X-Prometheus-Refresh-Interval-Seconds goes to FILE.asked. Single-threaded (selectors): one process
holds hundreds of targets at a bounded cost; a connection gets one answer
and is closed.
Usage: fleet_fake.py PORTS_FILE COUNT [--sd FILE] [--body FILE] [--lifetime S]
  writes the COUNT ports it listens on to PORTS_FILE, one a line, once all listen.
"""
import argparse
import os
import re
import selectors
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("ports_file")
ap.add_argument("count", type=int)
ap.add_argument("--sd")
ap.add_argument("--body")
ap.add_argument("--lifetime", type=float, default=600)  # never outlive the test
args = ap.parse_args()

template = open(args.body, "rb").read() if args.body else None


def fibers_doc():
    now = time.time_ns()
    if template is not None:  # a captured document: only its clock moves
        return re.sub(rb'"taken_at_ns":\s*\d+', b'"taken_at_ns":%d' % now, template, count=1)
    return (b'{"schema":"fiberleak.fibers/v1","taken_at_ns":%d,"fibers":[{"id":7,"name":"worker",'
            b'"state":"blocked","wait":"channel_pop","wait_reason":"chan receive","blocked_ns":600000000000,'
            b'"blocked_exact":true,"stack":[{"pc":"0x1","function":"worker_loop()","file":"worker.cpp","line":42}]}]}'
            % now)


def answer(path, head):
    """Status, Content-Type and body."""
    if path.startswith("/debug/fibers"):
        return 200, "application/json", fibers_doc()
    if path == "/sd" and args.sd:
        asked = re.search(rb"\r\nX-Prometheus-Refresh-Interval-Seconds: *([^\r]*)", head, re.I)
        with open(args.sd + ".asked", "wb") as f:
            f.write(asked.group(1) if asked else b"")
    if path == "/sd" and args.sd and os.path.exists(args.sd):
        kind = "application/json"
        if os.path.exists(args.sd + ".type"):
            kind = open(args.sd + ".type").read().strip()
        with open(args.sd, "rb") as f:
            return 200, kind, f.read()
    return 404, "text/plain", b"not found\n"


sel = selectors.DefaultSelector()
ports = []
for _ in range(args.count):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, None)
    ports.append(s.getsockname()[1])
tmp = args.ports_file + ".tmp"
with open(tmp, "w") as f:
    f.write("".join("%d\n" % p for p in ports))
os.rename(tmp, args.ports_file)

deadline = time.time() + args.lifetime
pending = {}  # connection -> bytes read so far
while time.time() < deadline:
    for key, _ in sel.select(timeout=1):
        sock = key.fileobj
        if key.data is None:  # a listener
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.setblocking(False)
            pending[conn] = b""
            sel.register(conn, selectors.EVENT_READ, "conn")
            continue
        try:
            chunk = sock.recv(65536)
        except OSError:
            chunk = b""
        if chunk:
            pending[sock] += chunk
            if b"\r\n\r\n" not in pending[sock] and len(pending[sock]) < 65536:
                continue
            line = pending[sock].split(b"\r\n", 1)[0].split(b" ")
            path = line[1].decode("latin-1") if len(line) > 1 else "/"
            status, kind, body = answer(path, pending[sock])
            head = ("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                    "Connection: close\r\n\r\n" % (status, kind, len(body))).encode()
            sock.setblocking(True)
            try:
                sock.sendall(head + body)
            except OSError:
                pass
        sel.unregister(sock)
        pending.pop(sock, None)
        sock.close()
