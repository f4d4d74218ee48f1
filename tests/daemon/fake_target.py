#!/usr/bin/env python3
"""Misbehaving scrape targets for fiberleakd's fault-injection test.

The first path element picks the fault, for every route under it:
  /hang/...       accepts and never answers
  /500/...        HTTP 500
  /garbage/...    200 with random bytes
  /huge/...       200 with a 100 MB body
  /truncated/...  200 with a Go dump cut mid-frame (404 for /debug/fibers)
  /reset/...      closes the connection without a response
  /drip/...       200 at once, then its body a byte a second (an hour of it)
  /gzip/...       200 with Content-Encoding: gzip nobody asked for
POSTs get the same faults (a webhook that hangs: /hang/...).
Hostile data (well-formed answers whose content meets arithmetic and writers):
  /bignum/...     /debug/fibers: a leak suspect with stack_bytes 2^63 and
                  heap_live_bytes -2^63
  /gominutes/...  a Go dump parked [select, 99999999999999 minutes]
  /badutf8/...    a Go dump whose leaked function name holds a 0xFF byte
Usage: fake_target.py PORT_FILE  (writes the port it listens on)
"""
import gzip
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRUNCATED = (b"goroutine 1 [running]:\nmain.main()\n\t/src/main.go:5 +0x1d\n\n"
             b"goroutine 6 [chan receive, 2 minutes]:\nmain.leak(0xc000010000)\n")

BIGNUM = (b'{"schema":"fiberleak.fibers/v1","taken_at_ns":1,"fibers":[{"id":5,"name":"big",'
          b'"state":"blocked","wait":"channel_pop","wait_reason":"chan receive","blocked_ns":600000000000,'
          b'"blocked_exact":true,"stack_bytes":9223372036854775808,"heap_live_bytes":-9223372036854775808,'
          b'"stack":[{"pc":"0x1","function":"f","file":"f.cpp","line":1}]}]}')
GOMINUTES = b"goroutine 6 [select, 99999999999999 minutes]:\nmain.wait()\n\t/src/main.go:9 +0x1d\n"
BADUTF8 = b"goroutine 6 [chan receive, 3 minutes]:\nmain.le\xffak(0xc000010000)\n\t/src/main.go:7 +0x1d\n"
HOSTILE = {"bignum": ("/debug/fibers", BIGNUM), "gominutes": ("/debug/pprof/goroutine", GOMINUTES),
           "badutf8": ("/debug/pprof/goroutine", BADUTF8)}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        fault = self.path.split("/")[1]
        if fault == "hang":
            time.sleep(120)
            return
        if fault == "drip":
            self.send_response(200)
            self.send_header("Content-Length", "3600")
            self.end_headers()
            try:
                for _ in range(3600):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if fault == "gzip":
            data = gzip.compress(b"{}" * 1000)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if fault == "reset":
            self.connection.close()
            return
        if fault == "500":
            self.send_error(500, "boom")
            return
        if fault in HOSTILE:
            route, data = HOSTILE[fault]
            if route not in self.path:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if fault == "truncated" and "/debug/fibers" in self.path:
            self.send_error(404)
            return
        body = {"garbage": lambda: os.urandom(64 * 1024),
                "truncated": lambda: TRUNCATED}.get(fault)
        if fault == "huge":
            self.send_response(200)
            self.send_header("Content-Length", str(100 * 1024 * 1024))
            self.end_headers()
            chunk = b"x" * (1024 * 1024)
            try:
                for _ in range(100):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if body is None:
            self.send_error(404)
            return
        data = body()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


    do_POST = do_GET


ThreadingHTTPServer.daemon_threads = True
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
threading.Timer(300, server.shutdown).start()  # never outlive the test
server.serve_forever()
